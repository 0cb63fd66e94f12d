/**
 * The OVHcloud API's own behaviour, against the local contract server (test/support/contracts/ovhapi.ts),
 * which follows https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784
 * (signed requests, the server's time) and the /domain/zone calls of https://eu.api.ovh.com/console/
 * (records by id, PUT changing only what is sent, changes published by POST …/refresh). The common
 * behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition, ovhSignature, OVH_ENDPOINTS } from '../../../src/core/providers/ovhapi';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startOvhApi, type OvhContract } from '../../support/contracts/ovhapi';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const AK = 'quirksAppKey01';
const AS = 'quirks-app-SECRET-0123456789abcdef';
const CK = 'quirks-consumer-KEY-0123456789abcdef';
const seen: unknown[] = [];

const make = (o: OvhContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(
    definition.settings.parse({ applicationKey: AK, password: AS, token: CK, endpoint: `${o.url}/1.0`, ...extra }),
    {},
  );

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('the signature is "$1$" + SHA-1 of secret+consumer+method+url+body+timestamp; regions pick the endpoint', () => {
  // Computed independently (Python hashlib) for these inputs.
  assert.equal(
    ovhSignature(
      'EgWIz07P0HYwtQDs',
      'MtSwSrPpNjqfuSqZZZ',
      'GET',
      'https://eu.api.ovh.com/1.0/domain/zone',
      '{}',
      1366560945,
    ),
    '$1$2b3a795ae7842e54577abe3aeaa23512febccda5',
  );
  assert.equal(definition.settings.parse({ applicationKey: AK, password: AS, token: CK }).region, 'eu');
  assert.equal(OVH_ENDPOINTS.ca, 'https://ca.api.ovh.com/1.0');
  assert.equal(
    definition.settings.safeParse({ applicationKey: AK, password: AS, token: CK, region: 'xx' }).success,
    false,
  );
});

test('the server clock is used; a record changes with only its target sent (its TTL stays), extra ones go, and the zone is refreshed after each changed type, never when nothing changed', () =>
  withServer(
    startOvhApi({
      applicationKey: AK,
      secret: AS,
      consumerKey: CK,
      skewSeconds: -900,
      zones: {
        'example.com': [
          { subDomain: 'home', fieldType: 'A', target: '192.0.2.1', ttl: 600 },
          { subDomain: 'home', fieldType: 'A', target: '192.0.2.2' },
          { subDomain: 'home', fieldType: 'MX', target: '10 mail.example.com.' },
        ],
      },
    }),
    async (o) => {
      const r = await set(make(o, { ttl: 300 }), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(
        o.published('example.com', 'home', 'A').map((x) => [x.target, x.ttl]),
        [['203.0.113.7', 600]],
      );
      assert.equal(o.published('example.com', 'home', 'AAAA')[0].ttl, 300);
      assert.equal(o.find('example.com', 'home', 'MX').length, 1);
      assert.deepEqual(JSON.parse(o.requests.find((q) => q.method === 'PUT')!.body), { target: '203.0.113.7' });
      assert.equal(o.requests.filter((q) => q.path.endsWith('/refresh')).length, 2);
      const writes = o.requests.filter((q) => q.method !== 'GET').length;
      const again = await set(make(o), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
      assert.equal(o.requests.filter((q) => q.method !== 'GET').length, writes, 'no write and no refresh');
    },
  ));

test('TXT: its own record is created and deleted (quoted targets compared unquoted), others stay; keys refused stop the account; secrets shown nowhere', () =>
  withServer(
    startOvhApi({
      applicationKey: AK,
      secret: AS,
      consumerKey: CK,
      zones: { 'example.com': [{ subDomain: '_acme-challenge', fieldType: 'TXT', target: '"someone-else"' }] },
    }),
    async (o) => {
      const p = make(o);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      await p.setTxt!(name, 'mine');
      const values = () => o.published('example.com', '_acme-challenge', 'TXT').map((r) => r.target);
      assert.deepEqual(values(), ['"someone-else"', 'mine']);
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(values(), ['"someone-else"']);
      const e = await set(make(o, { password: 'wrong-app-secret-000000' }), ['home.example.com'], {
        ipv4: '203.0.113.7',
      }).then(
        () => assert.fail('refused keys must stop the account'),
        (x: Error & { code?: string; scope?: string }) => x,
      );
      assert.equal(e.code, 'ovh_auth');
      assert.equal(e.scope, 'account');
      seen.push(e.message, e.stack);
      for (const t of visibleTexts(seen)) assert.ok(!t.includes(AS) && !t.includes(CK), t.slice(0, 200));
    },
  ));
