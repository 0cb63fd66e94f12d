/**
 * DigitalOcean's own behaviour, against the local contract server
 * (test/support/contracts/digitalocean.ts), which follows
 * https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records (records by id,
 * PATCH changes only what it is sent, the name filter takes the full name) and the rate-limit
 * section (429 with `ratelimit-reset`). The common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/digitalocean';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startDigitalocean, type DigitaloceanContract } from '../../support/contracts/digitalocean';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const TOKEN = 'dop_v1_quirks0123456789abcdef0123456789abcdef';
const READ_ONLY = 'dop_v1_readonly0123456789abcdef0123456789abc';
const seen: unknown[] = [];

const make = (dig: DigitaloceanContract, token = TOKEN): DnsProvider =>
  definition.create(definition.settings.parse({ token, endpoint: `${dig.url}/v2` }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('an edit sends only the address (the TTL stays the user\u2019s); a duplicate A goes; the apex is "@"', () =>
  withServer(
    startDigitalocean({
      token: TOKEN,
      domains: {
        'example.com': [
          { type: 'A', name: '@', data: '192.0.2.1', ttl: 300 },
          { type: 'A', name: '@', data: '192.0.2.2' },
          { type: 'MX', name: '@', data: 'mail.example.com.', priority: 10 },
        ],
      },
    }),
    async (dig) => {
      const r = await set(make(dig), ['example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(
        dig.find('example.com', 'A').map((x) => [x.data, x.ttl]),
        [['203.0.113.7', 300]],
      );
      assert.deepEqual(
        dig.find('example.com', 'AAAA').map((x) => [x.name, x.ttl]),
        [['@', 1800]],
      );
      assert.equal(dig.find('example.com', 'MX').length, 1);
      const patch = dig.requests.find((q) => q.method === 'PATCH');
      assert.deepEqual(JSON.parse(patch!.body), { type: 'A', data: '203.0.113.7' });
      const again = await set(make(dig), ['example.com'], { ipv4: '203.0.113.7' });
      assert.equal(again[0].outcome, 'unchanged');
    },
  ));

test('the domain is the longest of the account that ends the name (a sub-domain may be a domain of its own)', () =>
  withServer(
    startDigitalocean({
      token: TOKEN,
      domains: Object.fromEntries([
        ...Array.from({ length: 250 }, (_, i) => [`filler${i}.example.net`, []]),
        ['example.com', []],
        ['home.example.com', []],
      ]),
    }),
    async (dig) => {
      await set(make(dig), ['nas.home.example.com'], { ipv4: '203.0.113.7' });
      assert.equal(dig.records.get('home.example.com')![0].name, 'nas');
      assert.equal(dig.records.get('example.com')!.length, 0);
    },
  ));

test("a 429 waits until DigitalOcean's ratelimit-reset, for the whole account; a read-only token is the account's fatal problem", () =>
  withServer(
    startDigitalocean({ token: TOKEN, readOnlyToken: READ_ONLY, domains: { 'example.com': [] } }),
    async (dig) => {
      dig.rateLimit(90);
      await assert.rejects(set(make(dig), ['h.example.com'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
        seen.push(e);
        assert.deepEqual([e.kind, e.scope, e.code], ['transient', 'account', 'http_429']);
        assert.ok(e.retryAfterMs! > 80_000 && e.retryAfterMs! <= 90_000, String(e.retryAfterMs));
        return true;
      });
      dig.rateLimit(false);
      await assert.rejects(set(make(dig, READ_ONLY), ['h.example.com'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
        seen.push(e);
        assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'do_forbidden']);
        assert.match(e.message, /domain scopes/);
        return true;
      });
    },
  ));

test('TXT: its own record is created once and deleted; the other TXT values of the name stay', () =>
  withServer(
    startDigitalocean({
      token: TOKEN,
      domains: { 'example.com': [{ type: 'TXT', name: '_acme-challenge', data: 'other-challenge' }] },
    }),
    async (dig) => {
      const p = make(dig);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      assert.deepEqual(
        dig.find(name, 'TXT').map((r) => r.data),
        ['other-challenge', 'mine'],
      );
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(
        dig.find(name, 'TXT').map((r) => r.data),
        ['other-challenge'],
      );
    },
  ));

test('no token appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(TOKEN) && !t.includes(READ_ONLY), t.slice(0, 200));
});
