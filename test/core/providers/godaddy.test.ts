/**
 * GoDaddy's own behaviour, against the local contract server (test/support/contracts/godaddy.ts),
 * which follows https://developer.godaddy.com/doc/endpoint/domains (a PUT of type and name replaces
 * that set whole, so the provider sends the set's own TTL back) and the gated account's 403
 * ACCESS_DENIED since May 2024 (qdm12/ddns-updater#707). The common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/godaddy';
import type { DnsProvider } from '../../../src/core/providers/types';
import type { DdnsError } from '../../../src/core/errors';
import { startGodaddy, type GodaddyContract } from '../../support/contracts/godaddy';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const KEY = 'dLP4WKz5PdkS_quirksKey';
const SECRET = 'GuUFdVFj8-quirks-SECRET-0123456789';
const seen: unknown[] = [];

const make = (g: GodaddyContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(
    definition.settings.parse({ apiKey: KEY, password: SECRET, endpoint: `${g.url}/v1`, ...extra }),
    {},
  );

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('a PUT sends the set\u2019s own TTL back; a new set gets the account TTL; the apex is "@"; nothing written twice', () =>
  withServer(
    startGodaddy({
      key: KEY,
      secret: SECRET,
      domains: {
        'example.com': [
          { name: '@', type: 'A', data: '192.0.2.1', ttl: 1800 },
          { name: '@', type: 'MX', data: 'mail.example.com' },
        ],
      },
    }),
    async (g) => {
      const r = await set(make(g, { ttl: 900 }), ['example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(g.find('example.com', '@', 'A'), [{ name: '@', type: 'A', data: '203.0.113.7', ttl: 1800 }]);
      assert.equal(g.find('example.com', '@', 'AAAA')[0].ttl, 900);
      assert.equal(g.find('example.com', '@', 'MX').length, 1);
      const writes = g.requests.filter((q) => q.method !== 'GET').length;
      const again = await set(make(g), ['example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
      assert.equal(g.requests.filter((q) => q.method !== 'GET').length, writes);
      assert.equal(definition.settings.safeParse({ apiKey: KEY, password: SECRET, ttl: 300 }).success, false);
    },
  ));

test('TXT: its own value is added to the set and removed, others stay; the last value goes with a DELETE', () =>
  withServer(
    startGodaddy({
      key: KEY,
      secret: SECRET,
      domains: { 'example.com': [{ name: '_acme-challenge', type: 'TXT', data: 'someone-else', ttl: 600 }] },
    }),
    async (g) => {
      const p = make(g);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      const values = () => g.find('example.com', '_acme-challenge', 'TXT').map((r) => r.data);
      assert.deepEqual(values(), ['someone-else', 'mine']);
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(values(), ['someone-else']);
      await p.deleteTxt!(name, 'someone-else');
      assert.deepEqual(values(), []);
      assert.equal(g.requests.at(-1)?.method, 'DELETE');
    },
  ));

test('a gated account (403 ACCESS_DENIED) stops the account with the sentence that says why; the secret is shown nowhere', () =>
  withServer(startGodaddy({ key: KEY, secret: SECRET, domains: { 'example.com': [] } }), async (g) => {
    g.gated = true;
    const e = await set(make(g), ['home.example.com'], { ipv4: '203.0.113.7' }).then(
      () => assert.fail('a gated account must stop'),
      (x: DdnsError) => x,
    );
    seen.push(e.message, e.stack, e.detail);
    assert.equal(e.kind, 'fatal');
    assert.equal(e.scope, 'account');
    assert.equal(e.code, 'godaddy_access_denied');
    assert.match(e.message, /fewer than 10 domains/);
    assert.match(
      definition.fields.find((f) => f.key === 'apiKey')!.help!,
      /fewer than 10 domains get 403 ACCESS_DENIED/,
    );
    assert.ok(g.requests.every((q) => q.headers.authorization === `sso-key ${KEY}:${SECRET}`));
    for (const t of visibleTexts(seen)) assert.ok(!t.includes(SECRET), t.slice(0, 200));
  }));
