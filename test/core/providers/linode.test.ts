/**
 * Linode's own behaviour, against the local contract server (test/support/contracts/linode.ts),
 * which follows https://techdocs.akamai.com/linode-api/reference/get-domain-records (records by
 * id, `""` for the apex, pages), https://techdocs.akamai.com/linode-api/reference/put-domain-record
 * (PUT changes only the fields sent) and https://techdocs.akamai.com/linode-api/reference/errors.
 * The common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/linode';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startLinode, type LinodeContract } from '../../support/contracts/linode';
import { withServer } from '../../support/http-server';
import { checkOwnTxt } from '../../support/own-txt';

after(closeHttpPools);

const TOKEN = 'linode-quirks-0123456789abcdef0123456789abcdef0123456789abcdef';
const UNSCOPED = 'linode-unscoped-0123456789abcdef0123456789abcdef0123456789ab';
const seen: unknown[] = [];

const make = (lin: LinodeContract, token = TOKEN, more: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ token, endpoint: `${lin.url}/v4`, ...more }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('an edit sends only the target (the TTL stays the user\u2019s); a duplicate A goes; the apex is ""', () =>
  withServer(
    startLinode({
      token: TOKEN,
      domains: {
        'example.com': [
          { type: 'A', name: '', target: '192.0.2.1', ttl_sec: 3600 },
          { type: 'A', name: '', target: '192.0.2.2' },
          { type: 'MX', name: '', target: 'mail.example.com', priority: 10 },
        ],
      },
    }),
    async (lin) => {
      const r = await set(make(lin), ['example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(
        lin.find('example.com', 'A').map((x) => [x.target, x.ttl_sec]),
        [['203.0.113.7', 3600]],
      );
      assert.deepEqual(
        lin.find('example.com', 'AAAA').map((x) => [x.name, x.ttl_sec]),
        [['', 300]],
      );
      assert.equal(lin.find('example.com', 'MX').length, 1);
      const put = lin.requests.find((q) => q.method === 'PUT');
      assert.deepEqual(JSON.parse(put!.body), { target: '203.0.113.7' });
      const again = await set(make(lin), ['example.com'], { ipv4: '203.0.113.7' });
      assert.equal(again[0].outcome, 'unchanged');
    },
  ));

test('the domain is the longest of the account that ends the name, over every page; the domain setting narrows it', () =>
  withServer(
    startLinode({
      token: TOKEN,
      domains: Object.fromEntries([
        ...Array.from({ length: 600 }, (_, i) => [`filler${i}.example.net`, []]),
        ['example.com', []],
        ['home.example.com', []],
      ]),
    }),
    async (lin) => {
      await set(make(lin), ['nas.home.example.com'], { ipv4: '203.0.113.7' });
      assert.equal(lin.records.get('home.example.com')![0].name, 'nas');
      assert.equal(lin.records.get('example.com')!.length, 0);
      await set(make(lin, TOKEN, { domain: 'example.com' }), ['nas.home.example.com'], { ipv4: '203.0.113.8' });
      assert.equal(lin.records.get('example.com')![0].name, 'nas.home');
      const r = await set(make(lin, TOKEN, { domain: 'example.com' }), ['x.example.net'], { ipv4: '203.0.113.8' });
      assert.deepEqual([r[0].outcome, r[0].error?.scope], ['failed', 'host']);
      assert.match(r[0].message, /the account's domain example\.com/);
    },
  ));

test('a token without the domains scope is the account\u2019s fatal problem, with the hint', () =>
  withServer(startLinode({ token: TOKEN, unscopedToken: UNSCOPED, domains: { 'example.com': [] } }), async (lin) => {
    await assert.rejects(set(make(lin, UNSCOPED), ['h.example.com'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
      seen.push(e);
      assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'linode_forbidden']);
      assert.match(e.message, /Domains: Read\/Write/);
      return true;
    });
  }));

test('TXT: its own record is created once and deleted; the other TXT values of the name stay', () =>
  withServer(
    startLinode({
      token: TOKEN,
      domains: { 'example.com': [{ type: 'TXT', name: '_acme-challenge', target: 'other-challenge' }] },
    }),
    async (lin) => {
      const name = '_acme-challenge.example.com';
      await checkOwnTxt(make(lin), name, 'other-challenge', () => lin.find(name, 'TXT').map((r) => r.target));
    },
  ));

test('no token appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(TOKEN) && !t.includes(UNSCOPED), t.slice(0, 200));
});
