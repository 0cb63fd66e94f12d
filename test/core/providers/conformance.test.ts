/**
 * The provider conformance suite (modelled on libdns's libdnstest): every entry of PROVIDERS is
 * exercised against its contract server (test/support/contracts/*, a real named for RFC 2136) for
 * the same behaviours. How each provider's server produces each fault, and what does not apply to
 * a provider (always with a reason), is its harness in test/support/conformance/harnesses.ts.
 *
 * Behaviours: update; unchanged (a second identical update); auth failure (fatal, account scope);
 * a name the account does not own (fatal, host scope); 5xx, 429 with Retry-After, an HTML page, a
 * 1 MiB body, a server that never answers (transient); TXT set and delete where `definition.txt`;
 * and no secret in any text (messages, error messages, details, stacks, error JSON).
 */
import { providerCall } from '../../support/parsed';
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { DdnsError } from '../../../src/core/errors';
import { closeHttpPools } from '../../../src/core/http';
import { allProviders } from '../../../src/core/providers/registry';
import {
  SECRET_KEYS,
  type DnsProvider,
  type ProviderDefinition,
  type RecordResult,
} from '../../../src/core/providers/types';
import {
  BEHAVIOURS,
  HARNESSES,
  type Behaviour,
  type Fault,
  type Harness,
  type Rig,
} from '../../support/conformance/harnesses';

/** Every provider of the registry (each module loaded). */
const PROVIDERS = allProviders();

after(closeHttpPools);

const V4 = '203.0.113.7';

/** The write every failure behaviour is checked on: the addresses, or the TXT record of a TXT-only provider. */
function write(p: DnsProvider, rig: Rig, def: ProviderDefinition, hostname = rig.hostname) {
  return def.txtOnly
    ? p.setTxt!(rig.txtName!, rig.txtValue ?? 'conformance-challenge-value-0123456789')
    : p.setAddresses(providerCall({ hostnames: [hostname], addresses: { ipv4: V4 } }, 'as-given'));
}

test('every provider has a harness, and every behaviour is run or says why not', () => {
  assert.deepEqual(HARNESSES.map((h) => h.id).sort(), PROVIDERS.map((p) => p.id).sort());
  for (const h of HARNESSES) {
    for (const [b, why] of Object.entries(h.notApplicable ?? {})) {
      assert.ok((BEHAVIOURS as readonly string[]).includes(b), `${h.id}: unknown behaviour ${b}`);
      assert.ok(why && why.length > 10, `${h.id}: "${b}" not applicable needs a reason`);
    }
    const def = PROVIDERS.find((p) => p.id === h.id)!;
    assert.equal(Boolean(h.notApplicable?.txt), !def.txt, `${h.id}: TXT is run exactly when definition.txt`);
    for (const d of Object.values(h.deviations ?? {}))
      assert.ok(d.reason.length > 10, `${h.id}: a deviation needs a reason`);
  }
});

test("secrets: every password field is one of SECRET_KEYS, and every SECRET_KEY is some provider's (the editor derives the list from the catalog)", () => {
  const used = new Set(PROVIDERS.flatMap((p) => p.fields.filter((f) => f.kind === 'password').map((f) => f.key)));
  for (const k of used) assert.ok((SECRET_KEYS as readonly string[]).includes(k), `${k} is not in SECRET_KEYS`);
  assert.deepEqual([...used].sort(), [...SECRET_KEYS].sort());
  for (const p of PROVIDERS) {
    for (const f of p.fields)
      if ((SECRET_KEYS as readonly string[]).includes(f.key))
        assert.equal(f.kind, 'password', `${p.id}.${f.key} must be a password field`);
  }
});

/** Everything a person could see: result messages, error messages, details, stacks and JSON. */
function texts(x: unknown): string[] {
  if (x instanceof Error) return [x.message, String(x.stack), String((x as DdnsError).detail ?? ''), JSON.stringify(x)];
  return [
    JSON.stringify(x, (_k, v) =>
      v instanceof Error ? { message: v.message, stack: v.stack, detail: (v as DdnsError).detail } : v,
    ),
  ];
}

/** The error of a call: thrown, or carried by its first failed result. */
async function errorOf(p: Promise<RecordResult[] | void>, seen: string[]): Promise<DdnsError> {
  try {
    const r = await p;
    seen.push(...texts(r));
    const failed = (r ?? []).find((x) => x.outcome === 'failed');
    assert.ok(failed?.error, `expected a failure, got ${JSON.stringify(r)}`);
    return failed.error;
  } catch (e) {
    seen.push(...texts(e));
    assert.ok(e instanceof DdnsError, `a DdnsError, got ${String(e)}`);
    return e;
  }
}

function make(def: ProviderDefinition, settings: Record<string, unknown>, h: Harness): DnsProvider {
  return def.create(def.settings.parse(settings), { timeoutMs: h.timeoutMs ?? 500 });
}

const FAULTS: Array<[Behaviour, Fault, string | RegExp]> = [
  ['server-error', 'server-error', /^http_5\d\d$/],
  ['rate-limit', 'rate-limit', /.+/],
  ['html', 'html', /^http_502$/],
  ['huge', 'huge', 'body_too_large'],
  ['timeout', 'hang', 'timeout'],
];

for (const h of HARNESSES) {
  const def = PROVIDERS.find((p) => p.id === h.id);
  describe(`conformance: ${h.id}`, { skip: h.skip?.() }, () => {
    const seen: string[] = [];
    const na = (b: Behaviour) => h.notApplicable?.[b];
    const run = (b: Behaviour, fn: (rig: Rig, def: ProviderDefinition) => Promise<void>) =>
      test(b, { skip: na(b) ? `not applicable: ${na(b)}` : false }, async () => {
        assert.ok(def, `${h.id} is in PROVIDERS`);
        const rig = await h.start();
        try {
          await fn(rig, def);
        } finally {
          rig.clearFaults?.();
          await rig.close();
          for (const s of rig.secrets) {
            for (const t of seen) assert.ok(!t.includes(s), `${h.id}: a secret leaked in: ${t.slice(0, 300)}`);
          }
        }
      });

    run('update', async (rig, def) => {
      const r = await make(def, rig.settings, h).setAddresses(
        providerCall({ hostnames: [rig.hostname], addresses: { ipv4: V4 } }, 'as-given'),
      );
      seen.push(...texts(r));
      assert.deepEqual(
        r.map((x) => [x.hostname, x.family, x.outcome]),
        [[rig.hostname, 'ipv4', 'updated']],
      );
      assert.ok(r[0].message.length > 0);
    });

    run('unchanged', async (rig, def) => {
      const p = make(def, rig.settings, h);
      await p.setAddresses(providerCall({ hostnames: [rig.hostname], addresses: { ipv4: V4 } }, 'as-given'));
      const r = await p.setAddresses(providerCall({ hostnames: [rig.hostname], addresses: { ipv4: V4 } }, 'as-given'));
      seen.push(...texts(r));
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['unchanged'],
      );
    });

    run('auth', async (rig, def) => {
      const e = await errorOf(write(make(def, rig.badAuth, h), rig, def), seen);
      assert.equal(e.kind, 'fatal', e.message);
      assert.equal(e.scope, h.deviations?.auth?.scope ?? 'account', e.message);
    });

    run('notOwned', async (rig, def) => {
      const e = await errorOf(
        make(def, rig.settings, h).setAddresses(
          providerCall({ hostnames: [rig.notOwned], addresses: { ipv4: V4 } }, 'as-given'),
        ),
        seen,
      );
      assert.equal(e.kind, 'fatal', e.message);
      assert.equal(e.scope, h.deviations?.notOwned?.scope ?? 'host', e.message);
    });

    for (const [b, fault, code] of FAULTS) {
      run(b, async (rig, def) => {
        rig.fault(fault);
        const e = await errorOf(write(make(def, rig.settings, h), rig, def), seen);
        assert.equal(e.kind, 'transient', e.message);
        if (typeof code === 'string') assert.equal(e.code, code, e.message);
        else assert.match(e.code, code, e.message);
        if (b === 'rate-limit') {
          assert.equal(e.scope, 'account', 'a rate limit holds for the whole account');
          assert.equal(e.retryAfterMs, 120_000, 'Retry-After is honoured');
        }
        if (b === 'html') assert.match(e.message, /HTML page "502 Bad Gateway"/);
      });
    }

    run('txt', async (rig, def) => {
      const p = make(def, rig.settings, h);
      assert.ok(p.setTxt && p.deleteTxt && rig.txtName && rig.txtValues, 'TXT support');
      const value = rig.txtValue ?? 'conformance-challenge-value-0123456789';
      await p.setTxt(rig.txtName, value);
      assert.ok((await rig.txtValues(rig.txtName)).includes(value), 'the TXT value is set');
      await p.deleteTxt(rig.txtName, value);
      // a documented deviation (acme-dns: no delete) keeps the value
      if (!h.deviations?.txt)
        assert.ok(!(await rig.txtValues(rig.txtName)).includes(value), 'the TXT value is deleted');
    });
  });
}
