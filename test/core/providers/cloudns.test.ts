/**
 * ClouDNS's own behaviour, against the local contract server (test/support/contracts/cloudns.ts),
 * which follows https://www.cloudns.net/wiki/article/42/ and its action pages (credentials as
 * parameters, HTTP 200 `Failed` answers, records keyed by id or `[]`, mod-record needing host and
 * TTL, the accepted TTLs of https://www.cloudns.net/wiki/article/58/). The common behaviours are
 * the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/cloudns';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startCloudns, type CloudnsContract } from '../../support/contracts/cloudns';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const PASSWORD = 'cloudns-quirks-pa$$word+/=0123456789';
const seen: unknown[] = [];

const make = (c: CloudnsContract, more: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ username: '1234', password: PASSWORD, endpoint: c.url, ...more }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('the credentials are form fields of a POST, never in the URL; mod-record sends the record\u2019s own host and TTL', () =>
  withServer(
    startCloudns({
      authId: '1234',
      password: PASSWORD,
      zones: { 'example.com': [{ type: 'A', host: '', record: '192.0.2.1', ttl: '60' }] },
    }),
    async (c) => {
      const r = await set(make(c, { userKind: 'sub-auth-id' }), ['example.com'], { ipv4: '203.0.113.7' });
      assert.equal(r[0].outcome, 'updated');
      assert.ok(c.requests.every((q) => q.method === 'POST' && !q.url.includes('auth')));
      assert.ok(c.requests.every((q) => c.params(q).get('sub-auth-id') === '1234'));
      const mod = c.requests.find((q) => q.path === '/dns/mod-record.json')!;
      assert.deepEqual(
        ['host', 'record', 'ttl'].map((k) => c.params(mod).get(k)),
        ['', '203.0.113.7', '60'],
      );
      assert.equal((await set(make(c), ['example.com'], { ipv4: '203.0.113.7' }))[0].outcome, 'unchanged');
    },
  ));

test('a new record gets the account\u2019s TTL rounded up to one ClouDNS accepts', () =>
  withServer(startCloudns({ authId: '1234', password: PASSWORD, zones: { 'example.com': [] } }), async (c) => {
    await set(make(c, { ttl: 1000 }), ['h.example.com'], { ipv6: '2001:db8::7' });
    assert.deepEqual(
      c.find('h.example.com', 'AAAA').map((r) => [r.record, r.ttl]),
      [['2001:db8::7', '1800']],
    );
  }));

test('a Failed answer with HTTP 200 about the credentials is fatal for the account, with the hint', () =>
  withServer(startCloudns({ authId: '1234', password: PASSWORD, zones: { 'example.com': [] } }), async (c) => {
    await assert.rejects(
      set(make(c, { username: '9999' }), ['h.example.com'], { ipv4: '203.0.113.7' }),
      (e: DdnsError) => {
        seen.push(e);
        assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'cloudns_auth']);
        assert.match(e.message, /incorrect auth-id or auth-password.*API user/);
        return true;
      },
    );
  }));

test('TXT: its own record is added once and deleted; the other TXT values of the name stay', () =>
  withServer(
    startCloudns({
      authId: '1234',
      password: PASSWORD,
      zones: { 'example.com': [{ type: 'TXT', host: '_acme-challenge', record: 'other' }] },
    }),
    async (c) => {
      const p = make(c);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      assert.deepEqual(
        c.find(name, 'TXT').map((r) => [r.record, r.ttl]),
        [
          ['other', '3600'],
          ['mine', '60'],
        ],
      );
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(
        c.find(name, 'TXT').map((r) => r.record),
        ['other'],
      );
    },
  ));

test('no password appears in anything a person can see', () => {
  for (const t of visibleTexts(seen))
    assert.ok(!t.includes(PASSWORD) && !t.includes(encodeURIComponent(PASSWORD)), t.slice(0, 200));
});
