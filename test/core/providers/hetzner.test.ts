/**
 * Hetzner's own behaviour (Cloud API DNS), against the local contract server
 * (test/support/contracts/hetzner.ts), which follows https://docs.hetzner.cloud/reference/cloud#zone-rrsets
 * and https://docs.hetzner.cloud/reference/cloud#zone-actions: writes are asynchronous actions,
 * `set_records` keeps the RRset's TTL, `add_records` / `remove_records` change only the values sent.
 * The common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/hetzner';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startHetzner, type HetznerContract } from '../../support/contracts/hetzner';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const TOKEN = 'hcloud-quirks-token-0123456789abcdef0123456789abcdef0123';
const READ_ONLY = 'hcloud-readonly-token-0123456789abcdef0123456789abcdef';
const seen: unknown[] = [];

const make = (h: HetznerContract, token = TOKEN): DnsProvider =>
  definition.create(definition.settings.parse({ token, endpoint: `${h.url}/v1` }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('a record is "updated" once its action succeeded; set_records keeps the TTL and the comment; a new RRset gets the account TTL', () =>
  withServer(
    startHetzner({
      token: TOKEN,
      actionPolls: 2,
      zones: {
        'example.com': [
          { name: 'home', type: 'A', ttl: 900, records: [{ value: '192.0.2.1', comment: 'router' }] },
          { name: 'home', type: 'MX', records: [{ value: '10 mail.example.com.' }] },
        ],
      },
    }),
    async (h) => {
      const r = await set(make(h), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(h.find('example.com', 'home', 'A'), {
        name: 'home',
        type: 'A',
        ttl: 900,
        records: [{ value: '203.0.113.7', comment: 'router' }],
      });
      assert.equal(h.find('example.com', 'home', 'AAAA')?.ttl, 300);
      assert.ok(h.find('example.com', 'home', 'MX'));
      assert.ok(
        h.requests.filter((q) => q.path.startsWith('/v1/zones/actions/')).length >= 6,
        'every action polled to its end',
      );
      const writes = h.requests.filter((q) => q.method === 'POST').length;
      const again = await set(make(h), ['home.example.com'], { ipv4: '203.0.113.7' });
      assert.equal(again[0].outcome, 'unchanged');
      assert.equal(h.requests.filter((q) => q.method === 'POST').length, writes);
    },
  ));

test('an action that ends in error is a transient failure; a read-only token is the account\u2019s fatal problem', () =>
  withServer(startHetzner({ token: TOKEN, readOnlyToken: READ_ONLY, zones: { 'example.com': [] } }), async (h) => {
    h.failAction();
    await assert.rejects(set(make(h), ['h.example.com'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
      seen.push(e);
      assert.deepEqual([e.kind, e.code], ['transient', 'hetzner_action_failed']);
      assert.match(e.message, /action_failed/);
      return true;
    });
    assert.equal(h.find('example.com', 'h', 'A'), undefined);
    await assert.rejects(set(make(h, READ_ONLY), ['h.example.com'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
      seen.push(e);
      assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'hetzner_forbidden']);
      return true;
    });
  }));

test('TXT: add_records and remove_records carry only its own quoted value; the other values stay', () =>
  withServer(
    startHetzner({
      token: TOKEN,
      zones: { 'example.com': [{ name: '_acme-challenge', type: 'TXT', ttl: 60, records: [{ value: '"other"' }] }] },
    }),
    async (h) => {
      const p = make(h);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      assert.deepEqual(
        h.find('example.com', '_acme-challenge', 'TXT')?.records.map((r) => r.value),
        ['"other"', '"mine"'],
      );
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(
        h.find('example.com', '_acme-challenge', 'TXT')?.records.map((r) => r.value),
        ['"other"'],
      );
      const removes = h.requests.filter((q) => q.path.endsWith('/remove_records'));
      assert.deepEqual(JSON.parse(removes[0].body), { records: [{ value: '"mine"' }] });
    },
  ));

test('no token appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(TOKEN) && !t.includes(READ_ONLY), t.slice(0, 200));
});
