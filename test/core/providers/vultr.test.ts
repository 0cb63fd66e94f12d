/**
 * Vultr's own behaviour, against the local contract server (test/support/contracts/vultr.ts),
 * which follows https://www.vultr.com/api/#tag/dns (cursor pages, records by UUID, PATCH changes
 * only what it is sent and answers 204, `""` for the apex, TXT data quoted as lego sends it). The
 * common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/vultr';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startVultr, type VultrContract } from '../../support/contracts/vultr';
import { withServer } from '../../support/http-server';
import { checkOwnTxt } from '../../support/own-txt';

after(closeHttpPools);

const TOKEN = 'VULTRQUIRKS0123456789ABCDEFGHIJKLMNOP';
const seen: unknown[] = [];

const make = (v: VultrContract): DnsProvider =>
  definition.create(definition.settings.parse({ token: TOKEN, endpoint: `${v.url}/v2` }), {});

test('an edit PATCHes only the data (the TTL stays); a duplicate goes; other types and the domain list\u2019s every cursor page', () =>
  withServer(
    startVultr({
      token: TOKEN,
      domains: Object.fromEntries([
        ...Array.from({ length: 700 }, (_, i) => [`filler${i}.example.net`, []]),
        [
          'example.com',
          [
            { type: 'A', name: 'home', data: '192.0.2.1', ttl: 120 },
            { type: 'A', name: 'home', data: '192.0.2.2' },
            { type: 'MX', name: '', data: 'mail.example.com', priority: 10 },
          ],
        ],
      ]),
    }),
    async (v) => {
      const p = make(v);
      const r = await p.setAddresses(
        providerCall({ hostnames: ['home.example.com'], addresses: { ipv4: '203.0.113.7', ipv6: '2001:db8::7' } }),
      );
      seen.push(r);
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(
        v.find('home.example.com', 'A').map((x) => [x.data, x.ttl]),
        [['203.0.113.7', 120]],
      );
      assert.equal(v.find('home.example.com', 'AAAA')[0].ttl, 300);
      assert.equal(v.find('example.com', 'MX').length, 1);
      assert.deepEqual(JSON.parse(v.requests.find((q) => q.method === 'PATCH')!.body), { data: '203.0.113.7' });
      assert.deepEqual(await p.getAddresses!('home.example.com', 'ipv4'), ['203.0.113.7']);
    },
  ));

test('TXT: sent quoted, read unquoted; its own record is created once and deleted, the others stay', () =>
  withServer(
    startVultr({
      token: TOKEN,
      domains: { 'example.com': [{ type: 'TXT', name: '_acme-challenge', data: '"other"' }] },
    }),
    async (v) => {
      const name = '_acme-challenge.example.com';
      await checkOwnTxt(make(v), name, '"other"', () =>
        v.find(name, 'TXT').map((r) => r.data.replace(/^"mine"$/, 'mine')),
      );
      assert.ok(v.requests.some((q) => q.method === 'POST' && JSON.parse(q.body).data === '"mine"'));
    },
  ));

test('no key appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(TOKEN), t.slice(0, 200));
});
