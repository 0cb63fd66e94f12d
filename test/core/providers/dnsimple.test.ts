/**
 * DNSimple's own behaviour, against the local contract server (test/support/contracts/dnsimple.ts),
 * which follows https://developer.dnsimple.com/v2/identity/#whoami (the account of the token),
 * https://developer.dnsimple.com/v2/zones/records/ (records by id, exact `name` filter, PATCH
 * changes only what it is sent) and https://developer.dnsimple.com/v2/#rate-limiting (429 with
 * `X-RateLimit-Reset`). The common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/dnsimple';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startDnsimple, type DnsimpleContract } from '../../support/contracts/dnsimple';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const TOKEN = 'dnsimple_a_quirks0123456789abcdefABCDEF';
const USER = 'dnsimple_u_quirks0123456789abcdefABCDEF';
const seen: unknown[] = [];

const make = (d: DnsimpleContract, more: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ token: TOKEN, endpoint: `${d.url}/v2`, ...more }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('the account id comes from whoami once; an edit PATCHes only the content (TTL and regions stay)', () =>
  withServer(
    startDnsimple({
      token: TOKEN,
      account: 1010,
      domains: {
        'example.com': [
          { type: 'A', name: '', content: '192.0.2.1', ttl: 60, regions: ['ams', 'fra'] },
          { type: 'A', name: 'www', content: '192.0.2.9' },
        ],
      },
    }),
    async (d) => {
      const p = make(d);
      const r = await set(p, ['example.com'], { ipv4: '203.0.113.7' });
      assert.equal(r[0].outcome, 'updated');
      assert.deepEqual(
        d.find('example.com', 'A').map((x) => [x.content, x.ttl, x.regions]),
        [['203.0.113.7', 60, ['ams', 'fra']]],
      );
      assert.equal(d.find('www.example.com', 'A')[0].content, '192.0.2.9');
      assert.deepEqual(JSON.parse(d.requests.find((q) => q.method === 'PATCH')!.body), { content: '203.0.113.7' });
      assert.equal((await set(p, ['example.com'], { ipv4: '203.0.113.7' }))[0].outcome, 'unchanged');
      assert.equal(d.requests.filter((q) => q.path === '/v2/whoami').length, 1);
      assert.ok(d.requests.every((q) => q.path === '/v2/whoami' || q.path.startsWith('/v2/1010/')));
    },
  ));

test('a user token: its only account is used; with several, the account id setting is asked for', () =>
  withServer(
    startDnsimple({
      token: TOKEN,
      account: 1010,
      userToken: { token: USER, accounts: [1010, 2020] },
      domains: { 'example.com': [] },
    }),
    async (d) => {
      await assert.rejects(
        set(make(d, { token: USER }), ['h.example.com'], { ipv4: '203.0.113.7' }),
        (e: DdnsError) => {
          seen.push(e);
          assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'dnsimple_account']);
          assert.match(e.message, /2 accounts: enter the account id/);
          return true;
        },
      );
      const r = await set(make(d, { token: USER, accountId: '2020' }), ['h.example.com'], { ipv4: '203.0.113.7' });
      assert.equal(r[0].outcome, 'updated');
      assert.ok(d.requests.some((q) => q.path.startsWith('/v2/2020/zones/example.com/records')));
    },
  ));

test("a 429 waits until DNSimple's X-RateLimit-Reset, for the whole account", () =>
  withServer(startDnsimple({ token: TOKEN, account: 1010, domains: { 'example.com': [] } }), async (d) => {
    d.rateLimit(300);
    await assert.rejects(set(make(d), ['h.example.com'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
      seen.push(e);
      assert.deepEqual([e.kind, e.scope, e.code], ['transient', 'account', 'http_429']);
      assert.ok(e.retryAfterMs! > 290_000 && e.retryAfterMs! <= 300_000, String(e.retryAfterMs));
      return true;
    });
  }));

test('TXT: a quoted value given back is read unquoted; its own record is created once and deleted', () =>
  withServer(
    startDnsimple({
      token: TOKEN,
      account: 1010,
      domains: { 'example.com': [{ type: 'TXT', name: '_acme-challenge', content: '"mine"' }] },
    }),
    async (d) => {
      const p = make(d);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'other');
      assert.deepEqual(
        d.find(name, 'TXT').map((r) => r.content),
        ['"mine"', 'other'],
      );
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(
        d.find(name, 'TXT').map((r) => r.content),
        ['other'],
      );
    },
  ));

test('no token appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(TOKEN) && !t.includes(USER), t.slice(0, 200));
});
