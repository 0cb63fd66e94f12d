/**
 * netcup's own behaviour, against the local contract server (test/support/contracts/netcup.ts),
 * which follows https://www.netcup-wiki.de/wiki/DNS_API (one JSON endpoint, login → apisessionid,
 * infoDnsRecords / updateDnsRecords by record id, logout; errors as status "error" in HTTP 200).
 * The common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/netcup';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startNetcup, type NetcupContract } from '../../support/contracts/netcup';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const KEY = 'netcupQuirksApiKey0123456789abcd';
const PASSWORD = 'netcup-quirks-API-PASSWORD-0123456789';
const seen: unknown[] = [];

const make = (n: NetcupContract, extra: Record<string, unknown> = {}): DnsProvider =>
  definition.create(
    definition.settings.parse({
      customerNumber: '12345',
      token: KEY,
      password: PASSWORD,
      domain: 'example.com',
      endpoint: `${n.url}/run/webservice/servers/endpoint.php?JSON`,
      ...extra,
    }),
    {},
  );

const start = (records: Array<{ hostname: string; type: string; destination: string }>) =>
  startNetcup({ customerNumber: '12345', apiKey: KEY, apiPassword: PASSWORD, domains: { 'example.com': records } });

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }));
  seen.push(r);
  return r;
}

test('one session per update (logged out after), a record changed by its id, a second one deleted, nothing written when already right', () =>
  withServer(
    start([
      { hostname: 'home', type: 'A', destination: '192.0.2.1' },
      { hostname: 'home', type: 'A', destination: '192.0.2.2' },
      { hostname: 'home', type: 'MX', destination: 'mail.example.com' },
    ]),
    async (n) => {
      const r = await set(make(n), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(
        n.find('example.com', 'home', 'A').map((x) => [x.id, x.destination]),
        [['100', '203.0.113.7']],
      );
      assert.equal(n.find('example.com', 'home', 'AAAA').length, 1);
      assert.equal(n.find('example.com', 'home', 'MX').length, 1);
      const actions = () => n.requests.map((q) => (JSON.parse(q.body) as { action: string }).action);
      assert.equal(actions()[0], 'login');
      assert.equal(actions().at(-1), 'logout');
      assert.equal(n.sessions(), 0);
      const before = actions().filter((a) => a === 'updateDnsRecords').length;
      const again = await set(make(n), ['home.example.com'], { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
      assert.equal(actions().filter((a) => a === 'updateDnsRecords').length, before);
    },
  ));

test('TXT: its own record is created and deleted, others stay; a refused login stops the account; a domain netcup does not host stops the name; secrets and the session id shown nowhere', () =>
  withServer(start([{ hostname: '_acme-challenge', type: 'TXT', destination: 'someone-else' }]), async (n) => {
    const p = make(n);
    const name = '_acme-challenge.example.com';
    await p.setTxt!(name, 'mine');
    await p.setTxt!(name, 'mine');
    const values = () => n.find('example.com', '_acme-challenge', 'TXT').map((r) => r.destination);
    assert.deepEqual(values(), ['someone-else', 'mine']);
    await p.deleteTxt!(name, 'mine');
    assert.deepEqual(values(), ['someone-else']);
    const e = await set(make(n, { password: 'wrong-api-password-00000' }), ['home.example.com'], {
      ipv4: '203.0.113.7',
    }).then(
      () => assert.fail('a refused login must stop the account'),
      (x: Error & { code?: string; scope?: string }) => x,
    );
    assert.equal(e.code, 'netcup_auth');
    assert.equal(e.scope, 'account');
    seen.push(e.message, e.stack);
    const r = await set(make(n, { domain: 'example.org' }), ['home.example.org'], { ipv4: '203.0.113.7' });
    assert.equal(r[0].error?.code, 'netcup_not_owned');
    const sessionIds = n.requests
      .map((q) => (JSON.parse(q.body) as { param: { apisessionid?: string } }).param.apisessionid)
      .filter((x): x is string => !!x);
    for (const t of visibleTexts(seen))
      assert.ok(!t.includes(PASSWORD) && !t.includes(KEY) && !sessionIds.some((s) => t.includes(s)), t.slice(0, 200));
  }));
