/**
 * Fuzzing every provider's answer parser: whatever a server answers (status, headers, body, a cut
 * connection), a provider returns results or throws a DdnsError, never anything else.
 * - dyndns2 (No-IP, Dynu, DynDNS, any dyndns2 server): `interpretAnswer` directly, and the whole
 *   provider through a loopback server;
 * - DuckDNS, FreeDNS: through a loopback server (their parsers are private);
 * - Cloudflare: the models' pure functions directly; the provider (zone walk, list, patch, create,
 *   delete, TXT) through a loopback server answering generated JSON envelopes.
 * RFC 2136 answers are fuzzed with the DNS answers (dns.fuzz.test.ts).
 */
import { after, before, test } from '../../support/suite';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AddressSet, Family } from '../../../src/core/address';
import { closeHttpPools } from '../../../src/core/http';
import type { Hostname } from '../../../src/core/hostname';
import { Redactor } from '../../../src/core/redact';
import {
  ANSWERS,
  createDyndns2Provider,
  interpretAnswer,
  parseWait,
  type Dyndns2Flavour,
} from '../../../src/core/providers/dyndns2';
import { noipFlavour } from '../../../src/core/providers/noip';
import { dynuFlavour } from '../../../src/core/providers/dynu';
import { dyndnsFlavour } from '../../../src/core/providers/dyndns';
import { definition as duckdns } from '../../../src/core/providers/duckdns';
import { definition as freedns } from '../../../src/core/providers/freedns';
import { definition as cloudflare } from '../../../src/core/providers/cloudflare';
import {
  allCodes,
  asciiName,
  describeErrors,
  Envelope,
  quoteTxt,
  unquoteTxt,
  zoneCandidates,
} from '../../../src/core/providers/cloudflare/models';
import { allProviders } from '../../../src/core/providers/registry';
import type { DnsProvider, RecordResult } from '../../../src/core/providers/types';
import { hostname } from '../../support/parsed';
import {
  addressLike,
  addressSet,
  anyText,
  checkResultErrors,
  fuzz,
  outcome,
  outcomeSync,
  printTally,
  wordy,
} from './fuzz';
import { httpAnswer, startAnswering, type AnsweringServer } from './wire';

/** Every provider of the registry (each module loaded). */
const PROVIDERS = allProviders();

let srv: AnsweringServer;
before(async () => {
  srv = await startAnswering();
});
after(async () => {
  await srv.close();
  await closeHttpPools();
  printTally('providers');
});

// ---------------------------------------------------------------------------------------------
// Inputs

const names = fc
  .uniqueArray(
    fc.domain().filter((d) => {
      try {
        hostname(d);
        return true;
      } catch {
        return false;
      }
    }),
    { minLength: 1, maxLength: 4, selector: (d) => d.toLowerCase() },
  )
  .map((ds) => ds.map(hostname));

const familiesOf = (a: AddressSet): Family[] => (['ipv4', 'ipv6'] as const).filter((f) => a[f] !== undefined);

/** Results: per name and family asked, a known outcome, a message; errors only on failures. */
function checkResults(results: RecordResult[], hostnames: readonly string[], families: readonly Family[]): void {
  assert.ok(Array.isArray(results));
  checkResultErrors(results);
  for (const r of results) {
    assert.ok(hostnames.includes(r.hostname), `result for a name not asked: ${r.hostname}`);
    assert.ok(families.includes(r.family), `result for a family not asked: ${r.family}`);
    assert.ok(['updated', 'unchanged', 'failed'].includes(r.outcome));
    assert.equal(typeof r.message, 'string');
    if (r.outcome === 'failed') assert.ok(r.error !== undefined, 'a failed result carries its error');
  }
}

// ---------------------------------------------------------------------------------------------
// dyndns2

const DYNDNS2_WORDS = [...Object.keys(ANSWERS), 'good', 'nochg', 'w5m', 'w30s', 'W2H', 'w0s', 'w999999h', 'w1x', '0'];
/** One answer line per name, as the protocol has it: a word and the addresses (comma or space separated). */
const dyndns2Lines = fc
  .array(
    fc
      .tuple(
        fc.constantFrom(...DYNDNS2_WORDS, 'good', 'nochg', 'good', 'nochg'),
        fc.array(addressLike, { maxLength: 2 }),
        fc.constantFrom(',', ' ', ', '),
      )
      .map(([w, addrs, sep]) => [w, addrs.join(sep)].filter(Boolean).join(' ')),
    { minLength: 1, maxLength: 4 },
  )
  .map((lines) => lines.join('\n'));
const dyndns2Body = fc.oneof(dyndns2Lines, wordy(DYNDNS2_WORDS), anyText(300));
const generic: Dyndns2Flavour = {
  id: 'dyndns2',
  name: 'dyn.example.net',
  dualStack: 'separate',
  serverTroubleWaitMs: 600_000,
  abuseScope: 'host',
};
const flavours = [noipFlavour, dynuFlavour, dyndnsFlavour('https://members.dyndns.org/v3/update'), generic];

test('dyndns2 answers (No-IP, Dynu, DynDNS, generic): interpretAnswer gives results or a DdnsError', async () => {
  const redactor = new Redactor(['s3cret-pass']);
  await fuzz(
    'dyndns2 interpretAnswer',
    fc.property(
      fc.constantFrom(...flavours),
      names,
      addressSet,
      httpAnswer(dyndns2Body),
      (flavour, hostnames, addresses, a) => {
        const families = familiesOf(addresses);
        const r = outcomeSync(() =>
          interpretAnswer({
            response: { status: a.status, headers: a.headers, body: a.body },
            hostnames,
            families,
            addresses,
            flavour,
            name: flavour.name,
            redactor,
          }),
        );
        if (!r.ok) return;
        checkResults(r.value, hostnames, families);
        assert.equal(r.value.length, hostnames.length * families.length);
      },
    ),
    { runs: 2500 },
  );
});

test('No-IP wait instructions: parseWait on any word', async () => {
  await fuzz(
    'dyndns2 parseWait',
    fc.property(fc.oneof(fc.stringMatching(/^[wW]\d{0,8}[smhSMHx]?$/), anyText(20)), (w) => {
      const r = parseWait(w);
      if (r !== undefined) assert.ok(Number.isFinite(r.ms) && r.ms >= 0);
    }),
    { runs: 1000 },
  );
});

test('dyndns2 providers over HTTP: any answer gives results or a DdnsError', async () => {
  await fuzz(
    'dyndns2 provider (HTTP)',
    fc.asyncProperty(
      fc.constantFrom(...flavours),
      names,
      addressSet,
      fc.array(httpAnswer(dyndns2Body), { minLength: 1, maxLength: 2 }),
      async (flavour, hostnames, addresses, answers) => {
        srv.answer(...answers);
        const p = createDyndns2Provider({
          flavour,
          endpoint: `${srv.url}/nic/update`,
          username: 'user',
          password: 's3cret-pass',
          env: { timeoutMs: 2000 },
        });
        const r = await outcome(() => p.setAddresses({ hostnames, addresses }));
        if (r.ok) checkResults(r.value, hostnames, familiesOf(addresses));
      },
    ),
    { runs: 250 },
  );
});

// ---------------------------------------------------------------------------------------------
// DuckDNS

const duckBody = fc.oneof(
  wordy(['OK', 'KO', 'UPDATED', 'NOCHANGE', 'ok', '']),
  fc
    .tuple(
      fc.constantFrom('OK', 'KO', '\uFEFFOK', 'OK '),
      addressLike,
      addressLike,
      fc.constantFrom('UPDATED', 'NOCHANGE', 'updated', '', 'MAYBE'),
    )
    .map((parts) => parts.join('\n')),
  anyText(200),
);
const duckName = fc.constantFrom('myhome', 'myhome.duckdns.org', 'a.b.duckdns.org', '-bad', 'x'.repeat(70), 'My.Home.');

test('DuckDNS over HTTP: any answer gives results or a DdnsError (update and TXT)', async () => {
  await fuzz(
    'duckdns provider (HTTP)',
    fc.asyncProperty(
      fc.array(duckName, { minLength: 1, maxLength: 2 }),
      addressSet,
      httpAnswer(duckBody),
      fc.constantFrom('update', 'setTxt', 'deleteTxt'),
      fc.string({ maxLength: 40 }),
      async (hostnames, addresses, a, op, txt) => {
        srv.answer(a);
        const p = duckdns.create({ token: 'duck-token-0123456789', endpoint: srv.url }, { timeoutMs: 2000 });
        if (op === 'update') {
          const r = await outcome(() => p.setAddresses({ hostnames: hostnames as Hostname[], addresses }));
          if (r.ok) checkResults(r.value, hostnames, familiesOf(addresses));
        } else {
          const f = op === 'setTxt' ? p.setTxt! : p.deleteTxt!;
          await outcome(() => f.call(p, `_acme-challenge.${hostnames[0]}`, txt));
        }
      },
    ),
    { runs: 400 },
  );
});

// ---------------------------------------------------------------------------------------------
// FreeDNS

const hostLike = fc.oneof(
  fc.constantFrom('home.mooo.com', 'office.mooo.com', 'HOME.MOOO.COM.', ''),
  fc.domain(),
  anyText(30),
);
const freeBody = fc.oneof(
  fc
    .tuple(hostLike, addressLike, addressLike, fc.constantFrom(' in 0.1 seconds', '', ',', '\nmore'))
    .map(([h, a, b, tail]) => `Updated ${h} from ${a} to ${b}${tail}`),
  fc.tuple(hostLike, addressLike).map(([h, a]) => `Updated ${h} to ${a} in 0.1 seconds`),
  fc
    .tuple(hostLike, addressLike, fc.constantFrom(', skipping update', '', ' '))
    .map(([h, a, tail]) => `No IP change detected for ${h} with IP ${a}${tail}`),
  fc.tuple(fc.constantFrom('ERROR: ', 'error:', 'ERROR'), anyText(60)).map(([e, t]) => e + t),
  wordy(['Updated', 'from', 'to', 'No', 'IP', 'change', 'detected', 'for', 'with', 'ERROR:', 'token', 'record']),
  anyText(200),
);

test('FreeDNS over HTTP: any answer gives results or a DdnsError', async () => {
  await fuzz(
    'freedns provider (HTTP)',
    fc.asyncProperty(
      fc.array(fc.constantFrom('home.mooo.com', 'office.mooo.com', 'Home.Mooo.Com.', '*.mooo.com', 'bad name'), {
        minLength: 1,
        maxLength: 2,
      }),
      addressSet,
      fc.array(httpAnswer(freeBody), { minLength: 1, maxLength: 2 }),
      async (hostnames, addresses, answers) => {
        srv.answer(...answers);
        const p = freedns.create(
          {
            token: 'home.mooo.com=AbCdEfGh12345678,ipv6=ZyXwVuTs87654321,office.mooo.com=QwErTyUi11223344',
            endpoint: srv.url,
            endpointIpv6: srv.url,
          },
          { timeoutMs: 2000 },
        );
        const r = await outcome(() => p.setAddresses({ hostnames: hostnames as Hostname[], addresses }));
        if (r.ok) checkResults(r.value, hostnames, familiesOf(addresses));
      },
    ),
    { runs: 400 },
  );
});

// ---------------------------------------------------------------------------------------------
// Cloudflare

const oddNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 1e20, Number.MAX_SAFE_INTEGER, 81044, 7003, 1001, 9109, 6003, 10000, 9106, 81058),
  fc.double(),
);
const cfMessage = fc.record(
  {
    code: fc.oneof({ weight: 4, arbitrary: oddNumber }, { weight: 1, arbitrary: fc.jsonValue() }),
    message: fc.oneof({ weight: 4, arbitrary: anyText(60) }, { weight: 1, arbitrary: fc.jsonValue() }),
    error_chain: fc.array(fc.record({ code: oddNumber, message: anyText(30) }), { maxLength: 2 }),
  },
  { requiredKeys: ['code', 'message'] },
);
const goodId = fc.stringMatching(/^[0-9a-f]{32}$/);
const zoneId = fc.oneof({ weight: 6, arbitrary: goodId }, anyText(10), fc.constant(''));
const cfZone = fc.record(
  {
    id: zoneId,
    name: fc.oneof(
      fc.constantFrom('example.com', 'EXAMPLE.COM.', 'sub.example.com', 'xn--bcher-kva.example'),
      fc.domain(),
      anyText(20),
    ),
    status: fc.constantFrom('active', 'deleted', 'pending', ''),
  },
  { requiredKeys: ['id', 'name'] },
);
const cfRecord = fc.record(
  {
    id: zoneId,
    type: fc.constantFrom('A', 'AAAA', 'TXT', 'CNAME', 'a', ''),
    name: fc.oneof(fc.constantFrom('home.example.com', 'HOME.example.com.', 'other.example.com'), anyText(20)),
    content: fc.oneof(addressLike, fc.string({ maxLength: 40 }).map(quoteTxt), anyText(30)),
    proxied: fc.boolean(),
    ttl: fc.oneof(fc.integer(), fc.constantFrom(1, 60, 1e20, -1)),
    comment: fc.option(anyText(20), { nil: null }),
  },
  { requiredKeys: ['id', 'type', 'name', 'content'] },
);
const cfResult = fc.oneof(
  fc.array(cfZone, { maxLength: 3 }),
  fc.array(cfRecord, { maxLength: 3 }),
  cfRecord,
  cfZone,
  fc.record({ id: zoneId }),
  fc.jsonValue(),
);
const cfEnvelope = fc
  .record(
    {
      success: fc.oneof({ weight: 5, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.jsonValue() }),
      errors: fc.oneof(fc.array(cfMessage, { maxLength: 3 }), fc.constant(null)),
      messages: fc.array(fc.jsonValue(), { maxLength: 2 }),
      result: cfResult,
      result_info: fc.record(
        { page: oddNumber, per_page: oddNumber, total_pages: oddNumber, count: oddNumber, total_count: oddNumber },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));
const ok = (result: unknown) => JSON.stringify({ success: true, errors: [], messages: [], result });
/** Per route, an answer a working API would send (with odd records inside), or any envelope or text. */
const cfRoute = (plausible: fc.Arbitrary<string>) =>
  httpAnswer(
    fc.oneof(
      { weight: 12, arbitrary: plausible },
      { weight: 2, arbitrary: cfEnvelope },
      { weight: 1, arbitrary: fc.json() },
      { weight: 1, arbitrary: anyText(100) },
    ),
    4,
  );
const cfApi = fc.record({
  zones: cfRoute(
    fc
      .array(
        fc.record({
          id: zoneId,
          name: fc.constantFrom('example.com', 'Example.COM.', 'sub.example.com', 'other.net'),
          status: fc.constantFrom('active', 'deleted', 'pending'),
        }),
        { maxLength: 2 },
      )
      .map(ok),
  ),
  zone: cfRoute(fc.record({ id: goodId, name: fc.constantFrom('example.com', 'other.net') }).map(ok)),
  list: cfRoute(fc.array(cfRecord, { maxLength: 4 }).map(ok)),
  write: cfRoute(cfRecord.map(ok)),
  remove: cfRoute(fc.record({ id: fc.oneof(goodId, zoneId) }).map(ok)),
});
type CfApi = typeof cfApi extends fc.Arbitrary<infer T> ? T : never;

function cloudflareRoute(api: CfApi) {
  return (req: { method: string; path: string }) => {
    if (/\/dns_records\/[^/]+$/.test(req.path)) return req.method === 'DELETE' ? api.remove : api.write;
    if (req.path.endsWith('/dns_records')) return req.method === 'POST' ? api.write : api.list;
    if (req.path === '/zones') return api.zones;
    return api.zone;
  };
}

test('Cloudflare models: names, TXT contents and error lists of any value', async () => {
  await fuzz(
    'cloudflare models',
    fc.property(anyText(80), fc.jsonValue(), (text, json) => {
      const n = asciiName(text);
      if (n !== null) {
        assert.equal(typeof n, 'string');
        for (const c of zoneCandidates(n)) assert.equal(typeof c, 'string');
      }
      assert.equal(unquoteTxt(quoteTxt(text)), text);
      assert.equal(typeof unquoteTxt(text), 'string');
      const env = Envelope.safeParse(json);
      if (env.success) {
        const errors = env.data.errors ?? [];
        assert.equal(typeof describeErrors(errors), 'string');
        assert.ok(allCodes(errors).every((c) => typeof c === 'number'));
      }
    }),
    { runs: 1500 },
  );
});

test('Cloudflare over HTTP: any JSON (or not) gives results or a DdnsError', async () => {
  await fuzz(
    'cloudflare provider (HTTP)',
    fc.asyncProperty(
      fc.array(fc.constantFrom('home.example.com', 'deep.sub.example.com'), { minLength: 1, maxLength: 2 }),
      addressSet,
      cfApi,
      fc.record({
        zone: fc.constantFrom(undefined, 'example.com', '0123456789abcdef0123456789abcdef'),
        createMissing: fc.boolean(),
        op: fc.constantFrom('set', 'get', 'setTxt', 'deleteTxt'),
      }),
      async (hostnames, addresses, api, o) => {
        srv.answerBy(cloudflareRoute(api));
        const p: DnsProvider = cloudflare.create(
          cloudflare.settings.parse({
            token: 'cf-token-0123456789',
            endpoint: srv.url,
            zone: o.zone,
            createMissing: o.createMissing,
          }),
          { timeoutMs: 2000 },
        );
        const hs = hostnames.map(hostname);
        if (o.op === 'set') {
          const r = await outcome(() => p.setAddresses({ hostnames: hs, addresses }));
          if (r.ok) checkResults(r.value, hs, familiesOf(addresses));
        } else if (o.op === 'get') {
          const r = await outcome(() => p.getAddresses!(hs[0], familiesOf(addresses)[0]));
          if (r.ok) assert.ok(r.value.every((v) => typeof v === 'string'));
        } else {
          const f = o.op === 'setTxt' ? p.setTxt! : p.deleteTxt!;
          await outcome(() => f.call(p, `_acme-challenge.${hs[0]}`, 'token-value_-'));
        }
      },
    ),
    { runs: 400 },
  );
});

// ---------------------------------------------------------------------------------------------
// Settings (what the account editor saves): a clear refusal or a provider, never a crash

const settingValue = fc.oneof(
  anyText(60),
  fc.constantFrom(
    'https://sync.afraid.org/u/%E0%A4%A/',
    'https://v6.sync.afraid.org/u/AbCdEfGh12345678/',
    'home.mooo.com=https://sync.afraid.org/u/%zz/',
    'https://user:pw@dyn.example.net/nic/update',
    '127.0.0.1:5353',
    '[::1]:99999',
    'hmac-md5',
    '0123456789abcdef0123456789abcdef',
    'secret "c2VjcmV0";',
  ),
  fc.webUrl().map((u) => `${u}/u/%${u.length % 2 ? 'E0%A4' : 'g'}/`),
  fc.jsonValue(),
);

test('provider settings: any value of any field gives a clear refusal or a provider', async () => {
  const keys = [...new Set(PROVIDERS.flatMap((p) => p.fields.map((f) => f.key)))];
  await fuzz(
    'provider settings',
    fc.property(
      fc.constantFrom(...PROVIDERS.map((p) => p.id)),
      fc.dictionary(fc.constantFrom(...keys), settingValue, { maxKeys: 6 }),
      (id, settings) => {
        const def = PROVIDERS.find((p) => p.id === id)!;
        let parsed: ReturnType<typeof def.settings.safeParse>;
        try {
          parsed = def.settings.safeParse(settings);
        } catch (e) {
          assert.fail(`${def.id} settings: the schema threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
        if (parsed.success) outcomeSync(() => def.create(parsed.data, { timeoutMs: 1000 }));
      },
    ),
    { runs: 2000 },
  );
});
