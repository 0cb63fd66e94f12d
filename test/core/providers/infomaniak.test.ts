/**
 * Infomaniak's own behaviour, against the local contract server (test/support/contracts/infomaniak.ts),
 * which follows https://developer.infomaniak.com/docs/api and the requests of libdns/infomaniak and
 * lego's infomaniak provider (`/1/product?service_name=domain&customer_name=…` for the domain's id,
 * `/1/domain/{id}/dns/record` records by id, `{"result","data","error"}` answers). The common
 * behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/infomaniak';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startInfomaniak, type InfomaniakContract } from '../../support/contracts/infomaniak';
import { withServer } from '../../support/http-server';
import { checkKeptTtl, checkOwnTxt, keptTtlRecords } from '../../support/own-txt';

after(closeHttpPools);

const TOKEN = 'infomaniak-quirks-0123456789abcdef0123456789abcdef0123456789abcd';
const UNSCOPED = 'infomaniak-unscoped-0123456789abcdef0123456789abcdef0123456789';
const seen: unknown[] = [];

const make = (ik: InfomaniakContract, token = TOKEN, more: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ token, endpoint: ik.url, ...more }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('an edit keeps the record\u2019s TTL; a duplicate A goes; the apex is "@"; an equal A is not written', () =>
  withServer(
    startInfomaniak({
      token: TOKEN,
      domains: {
        'example.com': keptTtlRecords(7200, (target, ttl) => ({ type: 'A', source: '@', target, ...ttl }), {
          type: 'MX',
          source: '@',
          target: '10 mail.example.com',
        }),
      },
    }),
    (ik) =>
      checkKeptTtl({
        set: (addresses) => set(make(ik), ['example.com'], addresses),
        again: 'ipv4',
        held: (type) => ik.find('example.com', type).map((x) => [x.source, x.target, x.ttl]),
        holding: (_type, address, ttl) => [['@', address, ttl]],
        keptTtl: 7200,
        newTtl: 300,
        writes: () => ik.requests.filter((q) => q.method !== 'GET').length,
        check: () => assert.equal(ik.find('example.com', 'MX').length, 1),
      }),
  ));

test('the domain id comes from the product search by customer_name, longest first; the domain setting narrows it', () =>
  withServer(startInfomaniak({ token: TOKEN, domains: { 'example.com': [], 'home.example.com': [] } }), async (ik) => {
    await set(make(ik), ['nas.home.example.com'], { ipv4: '203.0.113.7' });
    assert.equal(ik.records.get('home.example.com')![0].source, 'nas');
    assert.deepEqual(
      ik.requests.filter((q) => q.path === '/1/product').map((q) => q.query.get('customer_name')),
      ['nas.home.example.com', 'home.example.com'],
    );
    await set(make(ik, TOKEN, { domain: 'example.com' }), ['nas.home.example.com'], { ipv4: '203.0.113.8' });
    assert.equal(ik.records.get('example.com')![0].source, 'nas.home');
    const r = await set(make(ik, TOKEN, { domain: 'example.com' }), ['x.example.net'], { ipv4: '203.0.113.8' });
    assert.deepEqual([r[0].outcome, r[0].error?.scope], ['failed', 'host']);
    assert.match(r[0].message, /the account's domain example\.com/);
  }));

test('a token without the domain scope is the account\u2019s fatal problem, with the hint and Infomaniak\u2019s words', () =>
  withServer(startInfomaniak({ token: TOKEN, unscopedToken: UNSCOPED, domains: { 'example.com': [] } }), async (ik) => {
    await assert.rejects(set(make(ik, UNSCOPED), ['h.example.com'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
      seen.push(e);
      assert.deepEqual([e.kind, e.scope], ['fatal', 'account']);
      assert.match(e.message, /scope Domain/);
      return true;
    });
  }));

test('TXT: its own record is created once and deleted; the other TXT values of the name stay', () =>
  withServer(
    startInfomaniak({
      token: TOKEN,
      domains: { 'example.com': [{ type: 'TXT', source: '_acme-challenge', target: 'other-challenge' }] },
    }),
    async (ik) => {
      const name = '_acme-challenge.example.com';
      await checkOwnTxt(make(ik), name, 'other-challenge', () => ik.find(name, 'TXT').map((r) => r.target));
    },
  ));

test('no token appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(TOKEN) && !t.includes(UNSCOPED), t.slice(0, 200));
});
