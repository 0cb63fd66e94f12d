/**
 * Google Cloud DNS's own behaviour, against the local contract server (test/support/contracts/gcloud.ts),
 * which plays Google's token endpoint (the service-account JWT flow of
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest, checking the
 * RS256 signature) and the Cloud DNS v1 API (https://cloud.google.com/dns/docs/reference/rest/v1/:
 * managedZones.list, resourceRecordSets get/create/patch/delete). The common behaviours are the
 * conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/gcloud';
import type { DnsProvider } from '../../../src/core/providers/types';
import { serviceAccount, startGcloud, type GcloudContract } from '../../support/contracts/gcloud';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const sa = serviceAccount('quirks');
const seen: unknown[] = [];

const make = (g: GcloudContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(
    definition.settings.parse({
      password: sa.json,
      endpoint: `${g.url}/dns/v1`,
      tokenEndpoint: `${g.url}/token`,
      ...extra,
    }),
    {},
  );

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

const start = (zones: Parameters<typeof startGcloud>[0]['zones'], more: object = {}) =>
  startGcloud({ ...sa, project: 'conformance-project', zones, ...more });

test('one token for many calls (JWT with iss, aud and the Cloud DNS scope); PATCH keeps the set\u2019s TTL, a new set gets the account TTL; nothing written twice', () =>
  withServer(
    start({ 'example.com': [{ name: 'home.example.com', type: 'A', ttl: 3600, rrdatas: ['192.0.2.1'] }] }),
    async (g) => {
      const p = make(g, { ttl: 120 });
      const r = await set(p, ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      const tokenReq = g.requests.find((q) => q.path === '/token')!;
      const claims = JSON.parse(
        Buffer.from(new URLSearchParams(tokenReq.body).get('assertion')!.split('.')[1], 'base64url').toString(),
      ) as Record<string, unknown>;
      assert.equal(claims.iss, sa.clientEmail);
      assert.equal(claims.aud, `${g.url}/token`);
      assert.equal(claims.scope, 'https://www.googleapis.com/auth/ndev.clouddns.readwrite');
      assert.deepEqual(g.find('home.example.com', 'A'), {
        name: 'home.example.com',
        type: 'A',
        ttl: 3600,
        rrdatas: ['203.0.113.7'],
      });
      assert.equal(g.find('home.example.com', 'AAAA')?.ttl, 120);
      const again = await set(p, ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
      assert.equal(g.requests.filter((q) => q.path === '/token').length, 1, 'the access token is kept');
      const writes = g.requests.filter((q) => q.path !== '/token' && (q.method === 'PATCH' || q.method === 'POST'));
      assert.deepEqual(
        writes.map((q) => q.method),
        ['PATCH', 'POST'],
      );
    },
  ));

test('an access token the API no longer takes is renewed once; the zone is the longest public one, or the zone setting', () =>
  withServer(start({ 'example.com': [], 'lan.example.com': [] }, { privateZones: ['lan.example.com'] }), async (g) => {
    const p = make(g);
    await set(p, ['pc.lan.example.com'], { ipv4: '203.0.113.7' });
    assert.ok(g.requests.some((q) => q.method === 'POST' && q.path.includes('/managedZones/lan-example-com/rrsets')));
    g.expireTokens();
    const r = await set(p, ['pc.lan.example.com'], { ipv4: '203.0.113.8' });
    assert.equal(r[0].outcome, 'updated');
    assert.equal(g.tokens.length, 2, 'a second token after the 401');
    const before = g.requests.length;
    await set(make(g, { zone: 'example-com' }), ['x.example.com'], { ipv4: '203.0.113.9' });
    assert.ok(
      g.requests.slice(before).every((q) => !q.path.endsWith('/managedZones')),
      'no zone list',
    );
    assert.equal(g.find('x.example.com', 'A')?.rrdatas[0], '203.0.113.9');
  }));

test('a zone outside the service account\u2019s rights fails that name only; a wrong key stops the account', () =>
  withServer(start({ 'example.com': [], 'example.net': [] }, { forbidden: ['example.net'] }), async (g) => {
    const r = await set(make(g), ['h.example.net', 'h.example.com'], { ipv4: '203.0.113.7' });
    assert.deepEqual(
      r.map((x) => [x.hostname, x.outcome, x.error?.code, x.error?.scope]),
      [
        ['h.example.net', 'failed', 'gcloud_forbidden', 'host'],
        ['h.example.com', 'updated', undefined, undefined],
      ],
    );
    const other = serviceAccount('quirks', 'quirks-other');
    const e = await make(g, { password: other.json })
      .setAddresses(providerCall({ hostnames: ['h.example.com'], addresses: { ipv4: '203.0.113.8' } }))
      .then(
        () => assert.fail('refused'),
        (x: Error & { code?: string; scope?: string }) => x,
      );
    seen.push(e);
    assert.deepEqual([e.code, e.scope], ['gcloud_auth', 'account']);
    assert.match(e.message, /invalid_grant: Invalid JWT Signature\./);
  }));

test('TXT: values quoted, other values kept; the set is deleted with its last value', () =>
  withServer(
    start({ 'example.com': [{ name: '_acme-challenge.example.com', type: 'TXT', rrdatas: ['"someone-else"'] }] }),
    async (g) => {
      const p = make(g);
      const name = '_acme-challenge.example.com';
      await p.setTxt!(name, 'mine');
      assert.deepEqual(g.find(name, 'TXT')?.rrdatas, ['"someone-else"', '"mine"']);
      await p.deleteTxt!(name, 'mine');
      assert.deepEqual(g.find(name, 'TXT')?.rrdatas, ['"someone-else"']);
      await p.deleteTxt!(name, 'someone-else');
      assert.equal(g.find(name, 'TXT'), undefined);
    },
  ));

test('settings: the key must be a service-account JSON; the project comes from the key or the setting; no secret in any text', () => {
  assert.equal(definition.settings.safeParse({ password: '{"client_email":"a@b"}' }).success, false);
  assert.equal(definition.settings.safeParse({ password: 'not json' }).success, false);
  const noProject = JSON.stringify({ ...JSON.parse(sa.json), project_id: undefined });
  assert.equal(definition.settings.safeParse({ password: noProject }).success, false);
  assert.equal(definition.settings.safeParse({ password: noProject, project: 'my-project-1' }).success, true);
  const pemBody = sa.privateKey.split('\n')[1];
  for (const t of visibleTexts(seen)) {
    assert.ok(!t.includes(pemBody), t.slice(0, 200));
    assert.ok(!/ya29\.c0ntract-/.test(t), t.slice(0, 200));
  }
});
