/**
 * The quirks of the dyndns2-style presets, against the dyndns2 contract server in each preset's
 * documented wire form (test/support/contracts/dyndns2.ts `PRESETS`; each provider's file cites
 * its documentation):
 * - Hurricane Electric (https://dns.he.net/docs.html): the name is the Basic-auth username, one
 *   name per request, no TXT through this provider.
 * - dynv6 (https://dynv6.com/docs/apis): its update API's `zone`/`token`/`ipv4`/`ipv6` and sentences,
 *   `ipv6prefix` when the prefix option is on.
 * - Zoneedit (https://support.zoneedit.com/en/knowledgebase/article/dynamic-dns): XML answers, 600 s
 *   between updates (the engine keeps to it; a `702` waits 600 s).
 * - ALL-INKL (`host`, `myip`/`myip6`), do.de (credentials in the query), selfHost.de (204 = no
 *   change), DNS-O-Matic and OVH DynHost (IPv4 only: IPv6 refused, nothing sent).
 */
import { after, describe, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall, updateRequest } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { withServer } from '../../support/http-server';
import { FakeClock } from '../../support/fake-clock';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { providerById } from '../../../src/core/providers/registry';
import { zoneeditWords, ZONEEDIT_INTERVAL_MS } from '../../../src/core/providers/zoneedit';
import { UpdateEngine } from '../../../src/core/update/engine';
import { providerCatalog } from '../../../src/core/update/account';
import { PROVIDER_GROUPS } from '../../../src/core/providers/types';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The checkout (this file runs from dist/test/core/providers/). */
const REPO_ROOT = resolve(__dirname, '../../../..');
import { startDyndns2, type Dyndns2Flavour, type Dyndns2Server } from '../../support/contracts/dyndns2';

after(closeHttpPools);

const PASSWORD = 'preset-Pa55word-0001';
const V4 = '192.0.2.55';
const V6 = '2001:db8:55::1';

const serve = (flavour: Dyndns2Flavour, extra: { minIntervalMs?: number } = {}) =>
  startDyndns2({ flavour, users: { alice: PASSWORD }, hosts: ['a.example.net', 'b.example.net'], ...extra });

function make(id: string, srv: Dyndns2Server, extra: Record<string, unknown> = {}) {
  const def = providerById(id)!;
  return def.create(def.settings.parse({ username: 'alice', password: PASSWORD, endpoint: srv.url, ...extra }), {});
}

const call = (hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) =>
  providerCall({ hostnames, addresses });
const outcomes = (rs: Array<{ hostname: string; family: string; outcome: string }>) =>
  rs.map((r) => `${r.hostname}/${r.family}:${r.outcome}`);

describe('dyndns2 presets', () => {
  test('every preset cites its documentation and keeps its secret in a password field', () => {
    for (const id of [
      'he',
      'strato',
      'allinkl',
      'selfhost',
      'dynv6',
      'zoneedit',
      'changeip',
      'loopia',
      'dnsomatic',
      'ydns',
      'dnshome',
      'dode',
      'ipv64',
      'ovh-dynhost',
      'namecheap',
    ]) {
      const def = providerById(id);
      assert.ok(def, id);
      assert.match(def.docsUrl ?? '', /^https:\/\//, id);
      assert.deepEqual(
        def.fields.filter((f) => f.kind === 'password').map((f) => f.key),
        ['password'],
        id,
      );
      assert.equal(def.txt, false, id);
    }
  });

  test('the editor lists every provider but the dry run under a group it has a label for', () => {
    const messages = JSON.parse(readFileSync(join(REPO_ROOT, 'nodes/locales/en-US/ddns-account.json'), 'utf8'));
    for (const p of providerCatalog()) {
      if (p.id === 'dryrun') assert.equal(p.group, undefined);
      else assert.ok(PROVIDER_GROUPS.includes(p.group!), `${p.id}: group ${String(p.group)}`);
    }
    for (const g of PROVIDER_GROUPS) assert.ok(messages['ddns-account'].group[g], g);
  });

  test('HE: the name is the username, one name per request, IPv4 and IPv6 apart', async () => {
    await withServer(serve('he'), async (srv) => {
      const p = make('he', srv);
      assert.equal(p.maxHostsPerCall, 1);
      assert.deepEqual(
        providerById('he')!.fields.map((f) => f.key),
        ['password', 'endpoint', 'contact'],
        'no username',
      );
      const rs = await p.setAddresses(call(['a.example.net'], { ipv4: V4, ipv6: V6 }));
      assert.deepEqual(outcomes(rs), ['a.example.net/ipv4:updated', 'a.example.net/ipv6:updated']);
      assert.deepEqual(
        srv.requests.map((r) => [r.basic?.user, r.query.get('myip')]),
        [
          ['a.example.net', V4],
          ['a.example.net', V6],
        ],
      );
      await assert.rejects(p.setAddresses(call(['a.example.net', 'b.example.net'], { ipv4: V4 })), /at most 1/);
    });
  });

  test('HE: a wrong key is badauth for the account and never shown', async () => {
    await withServer(serve('he'), async (srv) => {
      const def = providerById('he')!;
      const p = def.create(def.settings.parse({ password: 'wrong-key-0001', endpoint: srv.url }), {});
      const e = await p.setAddresses(call(['a.example.net'], { ipv4: V4 })).catch((x: unknown) => x);
      assert.ok(e instanceof DdnsError);
      assert.equal(e.code, 'badauth');
      assert.equal(e.scope, 'account');
      for (const t of visibleTexts([e])) assert.ok(!t.includes('wrong-key-0001'));
    });
  });

  test('dynv6: zone, token, ipv4 and ipv6 in one request; its sentences read', async () => {
    await withServer(serve('dynv6'), async (srv) => {
      const p = make('dynv6', srv);
      const rs = await p.setAddresses(call(['a.example.net'], { ipv4: V4, ipv6: V6 }));
      assert.deepEqual(outcomes(rs), ['a.example.net/ipv4:updated', 'a.example.net/ipv6:updated']);
      const q = srv.requests[0].query;
      assert.deepEqual(
        [q.get('zone'), q.get('token'), q.get('ipv4'), q.get('ipv6')],
        ['a.example.net', PASSWORD, V4, V6],
      );
      assert.equal(srv.requests[0].headers.authorization, undefined, 'the token is in the query only');
      const again = await p.setAddresses(call(['a.example.net'], { ipv4: V4, ipv6: V6 }));
      assert.deepEqual(outcomes(again), ['a.example.net/ipv4:unchanged', 'a.example.net/ipv6:unchanged']);
      assert.match(again[0].message, /addresses unchanged|nochg/);
      const nz = await p.setAddresses(call(['c.example.net'], { ipv4: V4 }));
      assert.equal(nz[0].error?.code, 'nohost');
    });
  });

  test('dynv6: with the prefix option the IPv6 address goes in ipv6prefix', async () => {
    await withServer(serve('dynv6'), async (srv) => {
      await make('dynv6', srv, { prefix: true }).setAddresses(call(['a.example.net'], { ipv6: V6 }));
      const q = srv.requests[0].query;
      assert.equal(q.get('ipv6prefix'), V6);
      assert.equal(q.get('ipv6'), null);
    });
  });

  test('Zoneedit: its XML answers are read', () => {
    assert.equal(
      zoneeditWords('<SUCCESS CODE="200" TEXT="Update succeeded." ZONE="example.net">'),
      'good (200 Update succeeded.)',
    );
    assert.equal(zoneeditWords('<SUCCESS CODE="201" TEXT="no update required">'), 'nochg (201 no update required)');
    assert.equal(
      zoneeditWords('<ERROR CODE="702" TEXT="Minimum 600 seconds between requests">'),
      'w600s (702 Minimum 600 seconds between requests)',
    );
    assert.equal(zoneeditWords('<ERROR CODE="708" TEXT="Failed Login: alice">'), 'badauth (708 Failed Login: alice)');
    assert.equal(zoneeditWords('<ERROR CODE="999" TEXT="?">'), undefined);
    assert.equal(zoneeditWords('<html>502</html>'), undefined);
  });

  test('Zoneedit: a 702 answer waits 600 s for the account', async () => {
    await withServer(serve('zoneedit', { minIntervalMs: ZONEEDIT_INTERVAL_MS }), async (srv) => {
      const p = make('zoneedit', srv);
      await p.setAddresses(call(['a.example.net'], { ipv4: V4 }));
      const e = await p.setAddresses(call(['a.example.net'], { ipv4: '192.0.2.56' })).catch((x: unknown) => x);
      assert.ok(e instanceof DdnsError);
      assert.equal(e.code, 'wait');
      assert.equal(e.retryAfterMs, ZONEEDIT_INTERVAL_MS);
    });
  });

  test('Zoneedit: the engine never writes a record again within 600 s, whatever the node asks', async () => {
    await withServer(serve('zoneedit', { minIntervalMs: ZONEEDIT_INTERVAL_MS }), async (srv) => {
      const p = make('zoneedit', srv);
      assert.equal(p.minIntervalMs, ZONEEDIT_INTERVAL_MS);
      const clock = new FakeClock();
      const engine = new UpdateEngine({ provider: p, accountKey: 'z', clock, minIntervalMs: 0 });
      try {
        const first = await engine.update(updateRequest({ hostnames: ['a.example.net'], addresses: { ipv4: V4 } }));
        assert.equal(first[0].status, 'updated');
        await clock.advance(60_000);
        const r = await engine.update(
          updateRequest({ hostnames: ['a.example.net'], addresses: { ipv4: '192.0.2.56' } }),
        );
        assert.equal(r[0].status, 'skipped');
        assert.equal(r[0].reason, 'min-interval');
        assert.equal(srv.requests.length, 1, 'nothing sent inside the interval');
      } finally {
        engine.stop();
      }
    });
  });

  test('ALL-INKL: host, myip and myip6 in one request', async () => {
    await withServer(serve('allinkl'), async (srv) => {
      const rs = await make('allinkl', srv).setAddresses(call(['a.example.net'], { ipv4: V4, ipv6: V6 }));
      assert.deepEqual(outcomes(rs), ['a.example.net/ipv4:updated', 'a.example.net/ipv6:updated']);
      const q = srv.requests[0].query;
      assert.deepEqual(
        [q.get('host'), q.get('myip'), q.get('myip6'), q.get('hostname')],
        ['a.example.net', V4, V6, null],
      );
    });
  });

  test('do.de: username and password in the query, no Basic auth, never shown', async () => {
    await withServer(serve('dode'), async (srv) => {
      const rs = await make('dode', srv).setAddresses(call(['a.example.net'], { ipv4: V4 }));
      assert.equal(rs[0].outcome, 'updated');
      const r = srv.requests[0];
      assert.deepEqual(
        [r.query.get('username'), r.query.get('password'), r.headers.authorization],
        ['alice', PASSWORD, undefined],
      );
      srv.answerNext({ status: 500, body: `error for ${r.path}?password=${PASSWORD}` });
      const e = await make('dode', srv)
        .setAddresses(call(['a.example.net'], { ipv4: '192.0.2.56' }))
        .catch((x: unknown) => x);
      for (const t of visibleTexts([e])) assert.ok(!t.includes(PASSWORD), t);
    });
  });

  test('selfHost.de: HTTP 204 is no change', async () => {
    await withServer(serve('selfhost'), async (srv) => {
      const p = make('selfhost', srv);
      await p.setAddresses(call(['a.example.net'], { ipv4: V4 }));
      const rs = await p.setAddresses(call(['a.example.net'], { ipv4: V4 }));
      assert.equal(rs[0].outcome, 'unchanged');
    });
  });

  for (const id of ['dnsomatic', 'ovh-dynhost']) {
    test(`${id}: IPv4 only; IPv6 is refused without a request`, async () => {
      await withServer(serve('generic'), async (srv) => {
        const p = make(id, srv);
        const only6 = await p.setAddresses(call(['a.example.net'], { ipv6: V6 }));
        assert.deepEqual(outcomes(only6), ['a.example.net/ipv6:failed']);
        assert.equal(only6[0].error?.kind, 'input');
        assert.equal(only6[0].error?.code, 'ipv6_unsupported');
        assert.equal(srv.requests.length, 0);
        const both = await p.setAddresses(call(['a.example.net'], { ipv4: V4, ipv6: V6 }));
        assert.deepEqual(outcomes(both).sort(), ['a.example.net/ipv4:updated', 'a.example.net/ipv6:failed']);
        assert.equal(srv.requests.length, 1);
        assert.equal(srv.requests[0].query.get('myip'), V4);
      });
    });
  }
});
