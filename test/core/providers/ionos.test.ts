/**
 * IONOS's own behaviour, against the local contract server (test/support/contracts/ionos.ts), which
 * follows https://developer.hosting.ionos.com/docs/dns (X-API-Key "prefix.secret", zones, records
 * kept by id, PUT resetting what it is not sent, TXT contents answered quoted). The common
 * behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/ionos';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startIonos, type IonosContract } from '../../support/contracts/ionos';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const KEY = 'a1b2c3d4e5f6.quirks-SECRET-0123456789abcdefghijklmnop';
const seen: unknown[] = [];

const make = (i: IonosContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ password: KEY, endpoint: `${i.url}/dns/v1`, ...extra }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('a record is changed in place with its own TTL, prio and disabled sent back; a second one is deleted; a new one gets the account TTL', () =>
  withServer(
    startIonos({
      key: KEY,
      zones: {
        'example.com': [
          { name: 'home.example.com', type: 'A', content: '192.0.2.1', ttl: 600, prio: 5, disabled: true },
          { name: 'home.example.com', type: 'A', content: '192.0.2.2' },
          { name: 'home.example.com', type: 'MX', content: 'mail.example.com', prio: 10 },
        ],
      },
    }),
    async (i) => {
      const r = await set(make(i, { ttl: 300 }), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      const a = i.find('home.example.com', 'A');
      assert.deepEqual(
        a.map((x) => [x.content, x.ttl, x.prio, x.disabled]),
        [['203.0.113.7', 600, 5, true]],
      );
      assert.equal(i.find('home.example.com', 'AAAA')[0].ttl, 300);
      assert.equal(i.find('home.example.com', 'MX').length, 1);
      const writes = i.requests.filter((q) => q.method !== 'GET').length;
      const again = await set(make(i), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
      assert.equal(i.requests.filter((q) => q.method !== 'GET').length, writes);
    },
  ));

test('TXT: its own quoted record is created once and deleted, others stay; the domain setting limits the zones; the key is sent as X-API-Key and shown nowhere', () =>
  withServer(
    startIonos({
      key: KEY,
      zones: {
        'example.com': [{ name: '_acme-challenge.example.com', type: 'TXT', content: '"someone-else"' }],
        'example.net': [],
      },
    }),
    async (i) => {
      const p = make(i);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      assert.deepEqual(
        i.find(name, 'TXT').map((r) => r.content),
        ['"someone-else"', '"mine"'],
      );
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(
        i.find(name, 'TXT').map((r) => r.content),
        ['"someone-else"'],
      );
      assert.ok(i.requests.every((q) => q.headers['x-api-key'] === KEY && !q.headers.authorization));
      const r = await set(make(i, { domain: 'example.com' }), ['h.example.net'], { ipv4: '203.0.113.7' });
      assert.equal(r[0].error?.code, 'ionos_not_owned');
      assert.equal(definition.settings.safeParse({ password: 'no-dot-in-this-key' }).success, false);
      for (const t of visibleTexts(seen)) assert.ok(!t.includes(KEY.split('.')[1]), t.slice(0, 200));
    },
  ));
