/**
 * Porkbun's own behaviour, against the local contract server (test/support/contracts/porkbun.ts),
 * which follows https://porkbun.com/api/json/v3/documentation (https://porkbun.com/llms/dns): the
 * keys in the JSON body, edits by id that reset what they do not send, per-domain API access, about
 * one request per second per key (an HTML 503 beyond: nrdcg/porkbun#3). The common behaviours
 * (auth, not owned, 5xx, 429, HTML, huge, timeout, TXT set/delete) are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition, PORKBUN_BUSY_WAIT_MS } from '../../../src/core/providers/porkbun';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startPorkbun, type PbDomain, type PorkbunContract } from '../../support/contracts/porkbun';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const KEY = 'pk1_quirks0123456789abcdef';
const SECRET = 'sk1_quirks0123456789abcdef';
const seen: unknown[] = [];

const start = (domains: Record<string, PbDomain>, minGapMs?: number) =>
  startPorkbun({ apikey: KEY, secret: SECRET, domains, minGapMs });

const make = (pb: PorkbunContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ token: KEY, password: SECRET, endpoint: pb.url, ...extra }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('an edit keeps the TTL, priority and notes the user set; a second A record goes; other types stay', () =>
  withServer(
    start({
      'example.com': {
        records: [
          { name: 'home.example.com', type: 'A', content: '192.0.2.1', ttl: '3600', notes: 'router' },
          { name: 'home.example.com', type: 'A', content: '192.0.2.2' },
          { name: 'home.example.com', type: 'MX', content: 'mail.example.com', prio: '10' },
        ],
      },
    }),
    async (pb) => {
      const r = await set(make(pb), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => [x.family, x.outcome]),
        [
          ['ipv4', 'updated'],
          ['ipv6', 'updated'],
        ],
      );
      const a = pb.find('home.example.com', 'A');
      assert.deepEqual(
        a.map((x) => [x.content, x.ttl, x.notes]),
        [['203.0.113.7', '3600', 'router']],
      );
      assert.equal(pb.find('home.example.com', 'AAAA')[0].ttl, '600', 'a new record gets the account TTL');
      assert.equal(pb.find('home.example.com', 'MX').length, 1);
      for (const q of pb.requests) {
        assert.equal(q.method, 'POST');
        assert.ok(!q.url.includes(KEY) && !q.url.includes(SECRET), 'the keys travel in the body, never in the URL');
      }
    },
  ));

test('requests of one key are spaced about a second apart: Porkbun never answers its HTML 503', () =>
  withServer(start({ 'example.com': {} }, 900), async (pb) => {
    const p = make(pb);
    await set(p, ['a.example.com', 'b.example.com'], { ipv4: '203.0.113.7' });
    await p.setTxt!('_acme-challenge.example.com', 'token-value');
    assert.ok(pb.requests.length >= 5);
    assert.equal(pb.tooFast, 0);
  }));

test("Porkbun's HTML 503 is a wait for the whole account; API access off is the domain's fatal problem", () =>
  withServer(start({ 'example.com': {}, 'example.net': { apiAccess: false } }), async (pb) => {
    pb.failNext('busy');
    await assert.rejects(set(make(pb), ['h.example.com'], { ipv4: '203.0.113.7' }), (e: DdnsError) => {
      seen.push(e);
      assert.equal(e.kind, 'transient');
      assert.equal(e.scope, 'account');
      assert.equal(e.retryAfterMs, PORKBUN_BUSY_WAIT_MS);
      assert.match(e.message, /one request per second/);
      return true;
    });
    const [r] = await set(make(pb, { domain: 'example.net' }), ['h.example.net'], { ipv4: '203.0.113.7' });
    assert.equal(r.error?.kind, 'fatal');
    assert.equal(r.error?.scope, 'host');
    assert.match(r.message, /API ACCESS/);
  }));

test('the domain setting: a name outside it fails without a request; without it the shortest suffix is tried first', () =>
  withServer(start({ 'example.co.uk': {} }), async (pb) => {
    const [r] = await set(make(pb, { domain: 'example.com' }), ['h.example.co.uk'], { ipv4: '203.0.113.7' });
    assert.equal(r.error?.code, 'porkbun_not_owned');
    assert.equal(pb.requests.length, 0);
    const p = make(pb);
    await set(p, ['h.example.co.uk'], { ipv4: '203.0.113.7' });
    assert.deepEqual(
      pb.requests.slice(0, 2).map((q) => q.path),
      ['/dns/retrieveByNameType/co.uk/A/h.example', '/dns/retrieveByNameType/example.co.uk/A/h'],
    );
    const before = pb.requests.length;
    assert.deepEqual(await p.getAddresses!('h.example.co.uk', 'ipv4'), ['203.0.113.7']);
    assert.equal(pb.requests.length, before + 1, 'the domain found is remembered');
  }));

test('TXT: only its own value is deleted, the other TXT values of the name stay', () =>
  withServer(
    start({
      'example.com': { records: [{ name: '_acme-challenge.example.com', type: 'TXT', content: 'other-challenge' }] },
    }),
    async (pb) => {
      const p = make(pb);
      await p.setTxt!('_acme-challenge.example.com', 'mine');
      await p.setTxt!('_acme-challenge.example.com', 'mine');
      assert.deepEqual(
        pb.find('_acme-challenge.example.com', 'TXT').map((r) => r.content),
        ['other-challenge', 'mine'],
      );
      await p.deleteTxt!('_acme-challenge.example.com', 'mine');
      assert.deepEqual(
        pb.find('_acme-challenge.example.com', 'TXT').map((r) => r.content),
        ['other-challenge'],
      );
    },
  ));

test('no key appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(KEY) && !t.includes(SECRET), t.slice(0, 200));
});
