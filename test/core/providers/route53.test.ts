/**
 * AWS Route 53's own behaviour, against the local contract server (test/support/contracts/route53.ts),
 * which follows the Route 53 API reference (https://docs.aws.amazon.com/Route53/latest/APIReference/:
 * API_ListHostedZonesByName, API_ListResourceRecordSets, API_ChangeResourceRecordSets, and the XML
 * error document of requests-rest-responses.html) and checks every request's SigV4 signature. The
 * signer itself is checked against AWS's test-suite vectors in signing.test.ts; the common
 * behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/route53';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startRoute53, type Route53Contract } from '../../support/contracts/route53';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const KEY = 'AKIAQUIRKS0000000001';
const SECRET = 'r53/quirks+SECRET/0123456789abcdefghijklmn';
const seen: unknown[] = [];

const make = (r: Route53Contract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ accessKeyId: KEY, password: SECRET, endpoint: r.url, ...extra }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

const writes = (r: Route53Contract) => r.requests.filter((q) => q.method === 'POST');

test('A and AAAA go in one signed ChangeBatch (UPSERT) with the record set\u2019s own TTL; a new set gets the account TTL; nothing is written twice', () =>
  withServer(
    startRoute53({
      accessKeyId: KEY,
      secret: SECRET,
      zones: {
        'example.com': [
          { name: 'home.example.com', type: 'A', ttl: 3600, values: ['192.0.2.1'] },
          { name: 'home.example.com', type: 'MX', values: ['10 mail.example.com.'] },
        ],
      },
    }),
    async (r) => {
      const res = await set(make(r, { ttl: 120 }), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        res.map((x) => [x.family, x.outcome]),
        [
          ['ipv4', 'updated'],
          ['ipv6', 'updated'],
        ],
      );
      assert.equal(writes(r).length, 1, 'one batch for both families');
      assert.match(writes(r)[0].body, /<Action>UPSERT<\/Action>.*<Action>UPSERT<\/Action>/s);
      assert.match(String(writes(r)[0].headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIAQUIRKS0000000001\//);
      assert.deepEqual(r.find('home.example.com', 'A'), {
        name: 'home.example.com',
        type: 'A',
        ttl: 3600,
        values: ['203.0.113.7'],
      });
      assert.equal(r.find('home.example.com', 'AAAA')?.ttl, 120);
      assert.ok(r.find('home.example.com', 'MX'), 'other records of the name stay');
      const again = await set(make(r), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
      assert.equal(writes(r).length, 1, 'nothing written when both are there');
    },
  ));

test('the hosted zone: the longest zone name of every page of the list, a public zone before a private one; the zone id setting skips the list', () =>
  withServer(
    startRoute53({
      accessKeyId: KEY,
      secret: SECRET,
      zones: Object.fromEntries([
        ...Array.from({ length: 120 }, (_, i) => [`a${String(i).padStart(3, '0')}.example.net`, []]),
        ['example.com', []],
        ['lan.example.com', []],
      ]),
      privateZones: ['lan.example.com', 'zzz.example.org'],
    }),
    async (r) => {
      const res = await set(make(r), ['pc.lan.example.com', 'a119.example.net'], { ipv4: '203.0.113.7' });
      assert.deepEqual(
        res.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      const lists = r.requests.filter((q) => q.path.endsWith('/hostedzonesbyname'));
      assert.equal(lists.length, 2, 'two pages of 100, read once for both names');
      assert.equal(lists[1].query.get('hostedzoneid') !== null, true);
      const post = writes(r)[0];
      assert.equal(post.path, `/2013-04-01/hostedzone/${r.zoneId('lan.example.com')}/rrset`, 'the public zone');
      const before = r.requests.length;
      await set(make(r, { zoneId: `/hostedzone/${r.zoneId('example.com')}` }), ['x.example.com'], {
        ipv4: '203.0.113.8',
      });
      assert.ok(
        r.requests.slice(before).every((q) => !q.path.endsWith('/hostedzonesbyname')),
        'no zone list with the zone id set',
      );
      assert.equal(r.find('x.example.com', 'A')?.values[0], '203.0.113.8');
    },
  ));

test('a record with a routing policy is left alone (fatal for that name only); AccessDenied is the name\u2019s, Throttling the account\u2019s with a wait', () =>
  withServer(
    startRoute53({
      accessKeyId: KEY,
      secret: SECRET,
      zones: {
        'example.com': [{ name: 'w.example.com', type: 'A', values: ['192.0.2.1'], setIdentifier: 'blue' }],
        'example.net': [],
      },
      denied: ['example.net'],
    }),
    async (r) => {
      const res = await set(make(r), ['w.example.com', 'h.example.net', 'ok.example.com'], { ipv4: '203.0.113.7' });
      assert.deepEqual(
        res.map((x) => [x.hostname, x.outcome, x.error?.code]),
        [
          ['w.example.com', 'failed', 'route53_special_record'],
          ['h.example.net', 'failed', 'route53_forbidden'],
          ['ok.example.com', 'updated', undefined],
        ],
      );
      assert.deepEqual(r.find('w.example.com', 'A')?.values, ['192.0.2.1']);
      r.failNext({
        status: 400,
        body: '<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>',
      });
      const e = await make(r)
        .setAddresses(providerCall({ hostnames: ['ok.example.com'], addresses: { ipv4: '203.0.113.9' } }))
        .then(
          () => undefined,
          (x: unknown) => x,
        );
      seen.push(e);
      assert.ok(e instanceof DdnsError);
      assert.deepEqual(
        [e.kind, e.scope, e.code, e.retryAfterMs],
        ['transient', 'account', 'route53_throttled', 10_000],
      );
    },
  ));

test('TXT: values quoted, other values kept; the last value goes with a DELETE of the exact set', () =>
  withServer(
    startRoute53({
      accessKeyId: KEY,
      secret: SECRET,
      zones: {
        'example.com': [{ name: '_acme-challenge.example.com', type: 'TXT', ttl: 90, values: ['"someone-else"'] }],
      },
    }),
    async (r) => {
      const p = make(r);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine-1');
      await p.setTxt!(name, 'mine-1');
      assert.deepEqual(r.find(name, 'TXT'), { name, type: 'TXT', ttl: 90, values: ['"someone-else"', '"mine-1"'] });
      assert.equal(writes(r).length, 1, 'the same value is not written twice');
      await p.deleteTxt!(name, 'mine-1');
      assert.deepEqual(r.find(name, 'TXT')?.values, ['"someone-else"']);
      await p.deleteTxt!(name, 'someone-else');
      assert.equal(r.find(name, 'TXT'), undefined);
      assert.match(writes(r).at(-1)!.body, /<Action>DELETE<\/Action>.*<TTL>90<\/TTL>/s);
    },
  ));

test('settings: the zone id is taken with its /hostedzone/ prefix; a malformed key id is refused; the secret is in no text', () => {
  const s = definition.settings.parse({ accessKeyId: KEY, password: SECRET, zoneId: ' /hostedzone/Z123ABC ' });
  assert.equal(s.zoneId, 'Z123ABC');
  assert.equal(definition.settings.safeParse({ accessKeyId: 'not a key', password: SECRET }).success, false);
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(SECRET), t.slice(0, 200));
});
