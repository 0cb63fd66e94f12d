/**
 * Namesilo's own behaviour, against the local contract server (test/support/contracts/namesilo.ts),
 * which follows https://www.namesilo.com/api-reference (the key in the query, HTTP 200 XML replies
 * with codes, full names as `host`, `rrttl` falling back to 7207 when left out). The common
 * behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/namesilo';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startNamesilo } from '../../support/contracts/namesilo';
import type { RecordsContract } from '../../support/contracts/rest-records';
import type { NamesiloRecord } from '../../support/contracts/namesilo';
import { withServer } from '../../support/http-server';
import { checkOwnTxt } from '../../support/own-txt';

after(closeHttpPools);

const KEY = 'namesiloquirkskey0123456789ab';
const seen: unknown[] = [];

const make = (n: RecordsContract<NamesiloRecord>, key = KEY): DnsProvider =>
  definition.create(definition.settings.parse({ token: key, endpoint: `${n.url}/api` }), {});

test('dnsUpdateRecord sends the record\u2019s own TTL (Namesilo would fall back to 7207) and the relative host', () =>
  withServer(
    startNamesilo({
      key: KEY,
      domains: { 'example.com': [{ type: 'A', name: 'home', value: '192.0.2.1', ttl: '3603' }] },
    }),
    async (n) => {
      const p = make(n);
      const r = await p.setAddresses(
        providerCall({ hostnames: ['home.example.com'], addresses: { ipv4: '203.0.113.7' } }),
      );
      seen.push(r);
      assert.equal(r[0].outcome, 'updated');
      assert.deepEqual(
        n.find('home.example.com', 'A').map((x) => [x.value, x.ttl]),
        [['203.0.113.7', '3603']],
      );
      const upd = n.requests.find((q) => q.path === '/api/dnsUpdateRecord')!;
      assert.deepEqual(
        ['rrhost', 'rrttl', 'type', 'version'].map((k) => upd.query.get(k)),
        ['home', '3603', 'xml', '1'],
      );
      const again = await p.setAddresses(
        providerCall({ hostnames: ['home.example.com'], addresses: { ipv4: '203.0.113.7' } }),
      );
      assert.equal(again[0].outcome, 'unchanged');
    },
  ));

test('reply code 110 is the key\u2019s fatal problem; the key (in every URL) is in no text', () =>
  withServer(startNamesilo({ key: KEY, domains: { 'example.com': [] } }), async (n) => {
    await assert.rejects(
      make(n, 'wrong-key-0123456789').setAddresses(
        providerCall({ hostnames: ['h.example.com'], addresses: { ipv4: '203.0.113.7' } }),
      ),
      (e: DdnsError) => {
        seen.push(e);
        assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'namesilo_110']);
        assert.match(e.message, /Invalid API Key.*API Manager/);
        return true;
      },
    );
    n.failNext({ status: 500, body: `upstream failed for /api/listDomains?key=${KEY}` });
    await assert.rejects(
      make(n).setAddresses(providerCall({ hostnames: ['h.example.com'], addresses: { ipv4: '203.0.113.7' } })),
      (e: DdnsError) => {
        seen.push(e);
        assert.equal(e.code, 'http_500');
        return true;
      },
    );
  }));

test('TXT: its own record is added once and deleted; the other TXT values of the name stay', () =>
  withServer(
    startNamesilo({ key: KEY, domains: { 'example.com': [{ type: 'TXT', name: '_acme-challenge', value: 'other' }] } }),
    async (n) => {
      const name = '_acme-challenge.example.com';
      const ttls: string[] = [];
      await checkOwnTxt(make(n), name, 'other', () => {
        ttls.push(
          n
            .find(name, 'TXT')
            .map((r) => r.ttl)
            .join(),
        );
        return n.find(name, 'TXT').map((r) => r.value);
      });
      assert.equal(ttls[0], '7207,3600');
    },
  ));

test('no key appears in anything a person can see', () => {
  const texts = visibleTexts(seen);
  assert.ok(texts.length > 0);
  for (const t of texts) assert.ok(!t.includes(KEY), t.slice(0, 200));
});
