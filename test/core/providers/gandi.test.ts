/**
 * Gandi LiveDNS's own behaviour, against the local contract server (test/support/contracts/gandi.ts),
 * which follows https://api.gandi.net/docs/livedns/ (RRsets replaced whole by PUT, so the provider
 * sends the RRset's own TTL back; TXT values quoted) and https://api.gandi.net/docs/authentication/
 * (personal access tokens, 403 for a domain outside the token's reach). The common behaviours are
 * the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/gandi';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startGandi, type GandiContract } from '../../support/contracts/gandi';
import { withServer } from '../../support/http-server';
import { checkKeptTtl } from '../../support/own-txt';

after(closeHttpPools);

const TOKEN = 'gandi-pat-quirks-0123456789abcdef0123456789';
const seen: unknown[] = [];

const make = (g: GandiContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ token: TOKEN, endpoint: `${g.url}/v5/livedns`, ...extra }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('a PUT sends the RRset\u2019s own TTL back (Gandi would reset it to 10800); a new RRset gets the account TTL; the apex is "@"', () =>
  withServer(
    startGandi({
      token: TOKEN,
      domains: {
        'example.com': [
          { rrset_name: '@', rrset_type: 'A', rrset_ttl: 1200, rrset_values: ['192.0.2.1'] },
          { rrset_name: '@', rrset_type: 'MX', rrset_values: ['10 spool.mail.gandi.net.'] },
        ],
      },
    }),
    (g) =>
      checkKeptTtl({
        set: (addresses, round) => set(round === 'first' ? make(g, { ttl: 600 }) : make(g), ['example.com'], addresses),
        again: 'ipv4',
        held: (type) => g.find('example.com', '@', type),
        holding: (type, address, ttl) => ({
          rrset_name: '@',
          rrset_type: type,
          rrset_ttl: ttl,
          rrset_values: [address],
        }),
        keptTtl: 1200,
        newTtl: 600,
        writes: () => g.requests.filter((q) => q.method !== 'GET').length,
        check: () => assert.ok(g.find('example.com', '@', 'MX')),
      }),
  ));

test('a domain the token may not manage stops that name only; the domain setting picks the zone without a list', () =>
  withServer(
    startGandi({ token: TOKEN, domains: { 'example.com': [], 'example.net': [] }, forbidden: ['example.net'] }),
    async (g) => {
      const r = await set(make(g), ['a.example.net', 'a.example.com'], { ipv4: '203.0.113.7' });
      assert.deepEqual(
        r.map((x) => [x.hostname, x.outcome, x.error?.code, x.error?.scope]),
        [
          ['a.example.net', 'failed', 'gandi_forbidden', 'host'],
          ['a.example.com', 'updated', undefined, undefined],
        ],
      );
      const before = g.requests.length;
      await set(make(g, { domain: 'example.com' }), ['b.example.com'], { ipv4: '203.0.113.7' });
      assert.ok(g.requests.slice(before).every((q) => q.path !== '/v5/livedns/domains'));
    },
  ));

test('TXT: quoted values; delete removes only its own value, and the RRset with the last one', () =>
  withServer(
    startGandi({
      token: TOKEN,
      domains: {
        'example.com': [
          { rrset_name: '_acme-challenge', rrset_type: 'TXT', rrset_ttl: 300, rrset_values: ['"other-challenge"'] },
        ],
      },
    }),
    async (g) => {
      const p = make(g);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      assert.deepEqual(g.find('example.com', '_acme-challenge', 'TXT')?.rrset_values, ['"other-challenge"', '"mine"']);
      assert.equal(g.find('example.com', '_acme-challenge', 'TXT')?.rrset_ttl, 300);
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(g.find('example.com', '_acme-challenge', 'TXT')?.rrset_values, ['"other-challenge"']);
      await p.deleteTxt!(name, 'other-challenge');
      assert.equal(g.find('example.com', '_acme-challenge', 'TXT'), undefined);
    },
  ));

test('no token appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(TOKEN), t.slice(0, 200));
});
