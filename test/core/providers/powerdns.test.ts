/**
 * PowerDNS's own behaviour, against the local contract server (test/support/contracts/powerdns.ts),
 * which follows https://doc.powerdns.com/authoritative/http-api/zone.html (RRsets replaced whole by
 * PATCH with changetype REPLACE; comments kept when absent; TXT contents quoted) and its
 * webserver's JSON errors. The common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/powerdns';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startPowerdns, type PowerdnsContract } from '../../support/contracts/powerdns';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const KEY = 'pdns-quirks-api-key-0123456789abcdef';
const seen: unknown[] = [];

const make = (p: PowerdnsContract, more: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ token: KEY, endpoint: p.url, ...more }), {});

test('settings: the endpoint is required (self-hosted), the server id defaults to localhost, /api/v1 may be given', () =>
  withServer(startPowerdns({ apiKey: KEY, serverId: 'localhost', zones: { 'example.com': [] } }), async (p) => {
    assert.equal(definition.settings.safeParse({ token: KEY }).success, false);
    assert.equal(definition.settings.parse({ token: KEY, endpoint: p.url, serverId: '' }).serverId, 'localhost');
    const r = await make(p, { endpoint: `${p.url}/api/v1/` }).setAddresses(
      providerCall({ hostnames: ['h.example.com'], addresses: { ipv4: '203.0.113.7' } }),
    );
    seen.push(r);
    assert.equal(r[0].outcome, 'updated');
    assert.ok(p.requests.every((q) => q.path.startsWith('/api/v1/servers/localhost/zones')));
  }));

test('REPLACE sends the RRset\u2019s own TTL and no comments (they stay); a sub-zone of its own is used', () =>
  withServer(
    startPowerdns({
      apiKey: KEY,
      zones: {
        'example.com': [],
        'home.example.com': [
          {
            name: 'nas.home.example.com.',
            type: 'A',
            ttl: 60,
            records: [
              { content: '192.0.2.1', disabled: false },
              { content: '192.0.2.2', disabled: true },
            ],
            comments: [{ content: 'my NAS', account: 'me', modified_at: 1 }],
          },
        ],
      },
    }),
    async (p) => {
      const prov = make(p);
      const r = await prov.setAddresses(
        providerCall({ hostnames: ['nas.home.example.com'], addresses: { ipv4: '203.0.113.7' } }),
      );
      seen.push(r);
      assert.equal(r[0].outcome, 'updated');
      const patch = JSON.parse(p.requests.find((q) => q.method === 'PATCH')!.body);
      assert.deepEqual(patch, {
        rrsets: [
          {
            name: 'nas.home.example.com.',
            type: 'A',
            ttl: 60,
            changetype: 'REPLACE',
            records: [{ content: '203.0.113.7', disabled: false }],
          },
        ],
      });
      assert.deepEqual(p.find('nas.home.example.com', 'A')!.comments[0].content, 'my NAS');
      assert.equal(p.zones.get('example.com')!.length, 0);
      assert.deepEqual(await prov.getAddresses!('nas.home.example.com', 'ipv4'), ['203.0.113.7']);
    },
  ));

test('TXT: quoted contents; its own value is added and removed, the RRset goes with the last value', () =>
  withServer(
    startPowerdns({
      apiKey: KEY,
      zones: {
        'example.com': [
          {
            name: '_acme-challenge.example.com.',
            type: 'TXT',
            ttl: 120,
            records: [{ content: '"other"', disabled: false }],
          },
        ],
      },
    }),
    async (p) => {
      const prov = make(p);
      const name = '_acme-challenge.example.com';
      await prov.setTxt!(name, 'mine');
      await prov.setTxt!(name, 'mine');
      assert.deepEqual(
        p.find(name, 'TXT')!.records.map((r) => r.content),
        ['"other"', '"mine"'],
      );
      assert.equal(p.find(name, 'TXT')!.ttl, 120);
      await prov.deleteTxt!(name, 'other');
      await prov.deleteTxt!(name, 'mine');
      assert.equal(p.find(name, 'TXT'), undefined);
      const last = JSON.parse(p.requests.filter((q) => q.method === 'PATCH').at(-1)!.body);
      assert.deepEqual(last, { rrsets: [{ name: '_acme-challenge.example.com.', type: 'TXT', changetype: 'DELETE' }] });
    },
  ));

test('no key appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(KEY), t.slice(0, 200));
});
