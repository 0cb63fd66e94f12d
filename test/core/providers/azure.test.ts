/**
 * Azure DNS's own behaviour, against the local contract server (test/support/contracts/azure.ts),
 * which plays the Entra ID token endpoint (client credentials,
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow) and
 * the Resource Manager DNS API 2018-05-01 (https://learn.microsoft.com/en-us/rest/api/dns/record-sets/create-or-update:
 * whole-set PUT, If-Match / If-None-Match with the etag). The common behaviours are the
 * conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/azure';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startAzure, type AzureContract } from '../../support/contracts/azure';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const SECRET = 'azure~quirks.SECRET_0123456789abcdefghij';
const IDS = {
  tenant: '11111111-2222-3333-4444-555555555555',
  clientId: '66666666-7777-8888-9999-000000000000',
  subscriptionId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
};
const seen: unknown[] = [];

const start = (zones: Parameters<typeof startAzure>[0]['zones'], forbidden?: string[]) =>
  startAzure({
    tenant: IDS.tenant,
    clientId: IDS.clientId,
    secret: SECRET,
    subscription: IDS.subscriptionId,
    group: 'dns-rg',
    zones,
    forbidden,
  });

const make = (a: AzureContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(
    definition.settings.parse({
      ...IDS,
      password: SECRET,
      resourceGroup: 'dns-rg',
      endpoint: a.url,
      authorityHost: a.url,
      ...extra,
    }),
    {},
  );

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

async function failure(p: Promise<unknown>): Promise<DdnsError> {
  const e = await p.then(
    () => assert.fail('expected a failure'),
    (x: unknown) => x,
  );
  seen.push(e);
  assert.ok(e instanceof DdnsError);
  return e;
}

test('a PUT of the whole set sends its TTL and metadata back with If-Match its etag; a new set has If-None-Match: * and the account TTL; the apex is @', () =>
  withServer(
    start({ 'example.com': [{ name: '@', type: 'A', ttl: 7200, values: ['192.0.2.1'], metadata: { owner: 'me' } }] }),
    async (a) => {
      const before = a.find('example.com', '@', 'A')!.etag;
      const r = await set(make(a, { ttl: 120 }), ['example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      const puts = a.requests.filter((q) => q.method === 'PUT');
      assert.equal(puts[0].headers['if-match'], before);
      assert.equal(puts[1].headers['if-none-match'], '*');
      const A = a.find('example.com', '@', 'A')!;
      assert.deepEqual([A.ttl, A.values, A.metadata], [7200, ['203.0.113.7'], { owner: 'me' }]);
      assert.equal(a.find('example.com', '@', 'AAAA')?.ttl, 120);
      const again = await set(make(a), ['example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
    },
  ));

test('a set changed between the read and the PUT (412) is a transient failure of that name; the next try reads it again', () =>
  withServer(start({ 'example.com': [{ name: 'h', type: 'A', values: ['192.0.2.1'] }] }), async (a) => {
    const p = make(a);
    await p.getAddresses!('h.example.com', 'ipv4'); // the token and the zone list
    a.failNext({ delayMs: 0 }); // the read goes through, the PUT meets a change made meanwhile
    a.failNext({
      status: 412,
      body: JSON.stringify({ error: { code: 'PreconditionFailed', message: 'The condition is not met.' } }),
    });
    const e = await failure(
      p.setAddresses(providerCall({ hostnames: ['h.example.com'], addresses: { ipv4: '203.0.113.7' } })),
    );
    assert.deepEqual([e.kind, e.scope], ['transient', 'host']);
    const r = await set(p, ['h.example.com'], { ipv4: '203.0.113.7' });
    assert.equal(r[0].outcome, 'updated');
  }));

test('a token the API no longer takes is renewed once; a wrong secret stops the account with Entra\u2019s words; a zone without the role fails that name only', () =>
  withServer(start({ 'example.com': [], 'example.net': [] }, ['example.net']), async (a) => {
    const p = make(a);
    await set(p, ['h.example.com'], { ipv4: '203.0.113.7' });
    a.expireTokens();
    assert.equal((await set(p, ['h.example.com'], { ipv4: '203.0.113.8' }))[0].outcome, 'updated');
    assert.equal(a.tokens.length, 2);
    const r = await set(p, ['h.example.net', 'h.example.com'], { ipv4: '203.0.113.9' });
    assert.deepEqual(
      r.map((x) => [x.outcome, x.error?.code, x.error?.scope]),
      [
        ['failed', 'azure_forbidden', 'host'],
        ['updated', undefined, undefined],
      ],
    );
    const e = await failure(
      make(a, { password: 'wrong-secret-0123456789' }).setAddresses(
        providerCall({ hostnames: ['h.example.com'], addresses: { ipv4: '203.0.113.7' } }),
      ),
    );
    assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'azure_auth']);
    assert.match(e.message, /AADSTS7000215/);
  }));

test('a zone setting Azure does not know is that name\u2019s fatal failure; TXT records are one per value and only its own is removed', () =>
  withServer(
    start({ 'example.com': [{ name: '_acme-challenge', type: 'TXT', values: ['someone-else'] }] }),
    async (a) => {
      const r = await set(make(a, { zone: 'example.org' }), ['h.example.org'], { ipv4: '203.0.113.7' });
      assert.equal(r[0].error?.code, 'azure_not_owned');
      const p = make(a);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      assert.deepEqual(a.find('example.com', '_acme-challenge', 'TXT')?.values, ['someone-else', 'mine']);
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(a.find('example.com', '_acme-challenge', 'TXT')?.values, ['someone-else']);
      await p.deleteTxt!(name, 'someone-else');
      assert.equal(a.find('example.com', '_acme-challenge', 'TXT'), undefined);
      for (const t of visibleTexts(seen)) {
        assert.ok(!t.includes(SECRET), t.slice(0, 200));
        assert.ok(!t.includes('c0ntract.'), 'no access token in any text');
      }
    },
  ));
