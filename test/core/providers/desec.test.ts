/**
 * deSEC's own behaviour, against the local contract server (test/support/contracts/desec.ts),
 * which follows https://desec.readthedocs.io/en/latest/dns/rrsets.html (bulk PATCH, TTL kept when
 * not sent, `records: []` deletes), https://desec.readthedocs.io/en/latest/dns/domains.html
 * (`owns_qname`) and https://desec.readthedocs.io/en/latest/rate-limits.html (RRset writes per
 * domain 2/s, 15/min, 100/h, 300/day; 429 with Retry-After). The common behaviours are the
 * conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition, writeWait } from '../../../src/core/providers/desec';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startDesec, type DesecContract, type DesecDomainSpec } from '../../support/contracts/desec';
import { withServer } from '../../support/http-server';
import { checkKeptTtl } from '../../support/own-txt';

after(closeHttpPools);

const seen: unknown[] = [];
let n = 0;
/** Each test its own token: deSEC's write budget is counted per token and domain in this process. */
const start = (domains: Record<string, DesecDomainSpec>, extra: { readOnly?: string[] } = {}) => {
  const token = `desec-quirks-token-${++n}-0123456789`;
  return startDesec({ token, domains, enforceWriteLimits: true, ...extra }).then((d) => Object.assign(d, { token }));
};
const make = (d: DesecContract & { token: string }): DnsProvider =>
  definition.create(definition.settings.parse({ token: d.token, endpoint: `${d.url}/api/v1` }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('A and AAAA go in one bulk write; the TTL the user set stays, a new RRset gets the minimum; nothing is written twice', () =>
  withServer(
    start({
      'example.dedyn.io': {
        minimumTtl: 60,
        rrsets: [
          { subname: 'home', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
          { subname: 'home', type: 'MX', ttl: 3600, records: ['10 mail.example.dedyn.io.'] },
        ],
      },
    }),
    async (d) => {
      const p = make(d);
      await checkKeptTtl({
        set: (addresses) => set(p, ['home.example.dedyn.io'], addresses),
        held: (type) => d.find('example.dedyn.io', 'home', type),
        holding: (type, address, ttl) => ({ subname: 'home', type, ttl, records: [address] }),
        keptTtl: 3600,
        newTtl: 60,
        writes: () => d.writes.length,
        check: () => {
          assert.equal(d.writes.length, 1);
          assert.deepEqual(d.find('example.dedyn.io', 'home', 'MX')?.records, ['10 mail.example.dedyn.io.']);
        },
        why: 'deSEC asks for updates only when something changed',
      });
      assert.ok(d.requests.every((q) => !q.url.includes(d.token)));
    },
  ));

test("writes stay within deSEC's per-domain budget: a burst waits a moment, a full minute window waits through the engine", () => {
  const now = 1_000_000;
  assert.equal(writeWait([], now), 0);
  assert.equal(writeWait([now - 400, now - 200], now), 600, 'two writes in the last second: the third waits');
  const minute = Array.from({ length: 15 }, (_, i) => now - 50_000 + i * 2_000);
  assert.equal(writeWait(minute, now), 10_000, 'fifteen in the last minute: wait until the oldest leaves it');
  const day = Array.from({ length: 300 }, (_, i) => now - 86_000_000 + i * 200_000);
  assert.equal(writeWait(day, now), 400_000);
  return withServer(start({ 'example.dedyn.io': { minimumTtl: 60 } }), async (d) => {
    const p = make(d);
    for (const [i, ip] of ['203.0.113.1', '203.0.113.2', '203.0.113.3'].entries()) {
      const [r] = await set(p, [`h${i}.example.dedyn.io`], { ipv4: ip });
      assert.equal(r.outcome, 'updated', 'never throttled by the server');
    }
  });
});

test('429 waits as deSEC says for the whole account; a token policy that forbids the name stops that name only', () =>
  withServer(start({ 'example.dedyn.io': {} }, { readOnly: ['ro.example.dedyn.io'] }), async (d) => {
    d.failNext({
      status: 429,
      body: '{"detail":"Request was throttled. Expected available in 42 seconds."}',
      headers: { 'retry-after': '42', 'content-type': 'application/json' },
    });
    await assert.rejects(set(make(d), ['h.example.dedyn.io'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
      seen.push(e);
      assert.deepEqual([e.kind, e.scope, e.code, e.retryAfterMs], ['transient', 'account', 'desec_throttled', 42_000]);
      assert.match(e.message, /Expected available in 42 seconds/);
      return true;
    });
    const [r] = await set(make(d), ['ro.example.dedyn.io'], { ipv4: '203.0.113.7' });
    assert.deepEqual([r.error?.kind, r.error?.scope, r.error?.code], ['fatal', 'host', 'desec_forbidden']);
  }));

test('TXT values are quoted; delete removes only its own value and the RRset when it was the last', () =>
  withServer(
    start({
      'example.dedyn.io': {
        minimumTtl: 60,
        rrsets: [{ subname: '_acme-challenge', type: 'TXT', ttl: 300, records: ['"other-challenge"'] }],
      },
    }),
    async (d) => {
      const p = make(d);
      const name = '_acme-challenge.example.dedyn.io';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      assert.deepEqual(d.find('example.dedyn.io', '_acme-challenge', 'TXT'), {
        subname: '_acme-challenge',
        type: 'TXT',
        ttl: 300,
        records: ['"other-challenge"', '"mine"'],
      });
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(d.find('example.dedyn.io', '_acme-challenge', 'TXT')?.records, ['"other-challenge"']);
      await p.deleteTxt!(name, 'other-challenge');
      assert.equal(d.find('example.dedyn.io', '_acme-challenge', 'TXT'), undefined);
      assert.equal(d.writes.length, 3, 'setting a value already there writes nothing');
    },
  ));

test('no token appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!/desec-quirks-token/.test(t), t.slice(0, 200));
});
