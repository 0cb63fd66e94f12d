/**
 * Spaceship's own behaviour, against the local contract server (test/support/contracts/spaceship.ts),
 * which follows https://docs.spaceship.dev/ (records kept by value: a PUT of items adds, a DELETE
 * with the items removes exactly those; names relative to the domain; paged reads). The common
 * behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/spaceship';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startSpaceship, type SpaceshipContract } from '../../support/contracts/spaceship';
import { withServer } from '../../support/http-server';
import { checkKeptTtl, keptTtlRecords } from '../../support/own-txt';

after(closeHttpPools);

const KEY = 'spaceship-quirks-key';
const SECRET = 'spaceship-quirks-SECRET-0123456789abcdef';
const seen: unknown[] = [];

const make = (sp: SpaceshipContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(
    definition.settings.parse({ apiKey: KEY, password: SECRET, endpoint: `${sp.url}/api/v1`, ...extra }),
    {},
  );

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('a changed address is the new record put with the old TTL and the old one deleted; extra ones go; a new one gets the account TTL', () =>
  withServer(
    startSpaceship({
      key: KEY,
      secret: SECRET,
      domains: {
        'example.com': keptTtlRecords(600, (address, ttl) => ({ type: 'A', name: 'home', address, ...ttl }), {
          type: 'TXT',
          name: 'home',
          value: 'v=spf1 -all',
        }),
      },
    }),
    (sp) =>
      checkKeptTtl({
        set: (addresses, round) =>
          set(round === 'first' ? make(sp, { ttl: 300 }) : make(sp), ['home.example.com'], addresses),
        held: (type) => sp.find('example.com', 'home', type),
        holding: (type, address, ttl) => [{ type, name: 'home', address, ttl }],
        keptTtl: 600,
        newTtl: 300,
        writes: () => sp.requests.filter((q) => q.method !== 'GET').length,
        check: () => {
          assert.equal(sp.find('example.com', 'home', 'TXT').length, 1);
          const put = sp.requests.find((q) => q.method === 'PUT')!;
          assert.deepEqual(JSON.parse(put.body), {
            force: true,
            items: [{ type: 'A', name: 'home', address: '203.0.113.7', ttl: 600 }],
          });
        },
      }),
  ));

test('TXT: its own value is put once and deleted, others stay; key and secret travel as X-API-Key/X-API-Secret and are shown nowhere', () =>
  withServer(
    startSpaceship({
      key: KEY,
      secret: SECRET,
      domains: { 'example.com': [{ type: 'TXT', name: '_acme-challenge', value: 'someone-else' }] },
    }),
    async (sp) => {
      const p = make(sp);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      const values = () => sp.find('example.com', '_acme-challenge', 'TXT').map((r) => r.value);
      assert.deepEqual(values(), ['someone-else', 'mine']);
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(values(), ['someone-else']);
      const del = sp.requests.find((q) => q.method === 'DELETE')!;
      assert.deepEqual(JSON.parse(del.body), [{ type: 'TXT', name: '_acme-challenge', value: 'mine' }]);
      assert.ok(sp.requests.every((q) => q.headers['x-api-key'] === KEY && q.headers['x-api-secret'] === SECRET));
      const r = await set(make(sp, { domain: 'example.org' }), ['h.example.org'], { ipv4: '203.0.113.7' });
      assert.equal(r[0].error?.code, 'spaceship_not_found');
      assert.match(r[0].error!.message, /SOA record for domain example\.org not found/);
      for (const t of visibleTexts(seen)) assert.ok(!t.includes(SECRET), t.slice(0, 200));
    },
  ));
