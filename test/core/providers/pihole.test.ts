/**
 * Pi-hole v6's own behaviour, against the local contract server (test/support/contracts/pihole.ts),
 * which follows https://docs.pi-hole.net/api/auth/ (session id from POST /api/auth, X-FTL-SID,
 * limited API seats) and the /api/config/dns/hosts endpoints of the API reference Pi-hole serves at
 * /api/docs (lines "IP name", added by PUT and removed by DELETE, no edit). The common behaviours
 * are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/pihole';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startPihole, type PiholeContract } from '../../support/contracts/pihole';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const PASSWORD = 'pihole-app-password-quirks-0123456789=';
const seen: unknown[] = [];

const make = (p: PiholeContract, password = PASSWORD): DnsProvider =>
  definition.create(definition.settings.parse({ endpoint: `${p.url}/admin/`, password }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }, 'as-given'));
  seen.push(r);
  return r;
}

test('one session; a changed address is added, then the old line removed; a line with other names keeps them; other lines stay; unique-local IPv6 is taken', () =>
  withServer(
    startPihole({
      password: PASSWORD,
      hosts: ['192.168.1.5 nas.home.lan nas', '192.168.1.9 printer.home.lan', 'fd00::9 printer.home.lan'],
    }),
    async (p) => {
      const pi = make(p);
      assert.equal(pi.localDns, true);
      const r = await set(pi, ['nas.home.lan'], { ipv4: '192.168.1.6', ipv6: 'fd00::6' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(p.hosts.slice().sort(), [
        '192.168.1.5 nas',
        '192.168.1.6 nas.home.lan',
        '192.168.1.9 printer.home.lan',
        'fd00::6 nas.home.lan',
        'fd00::9 printer.home.lan',
      ]);
      const writes = p.requests.filter((q) => q.method !== 'GET').length;
      const again = await set(pi, ['nas.home.lan'], { ipv4: '192.168.1.6', ipv6: 'fd00::6' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
      assert.equal(p.requests.filter((q) => q.method !== 'GET').length, writes, 'nothing written twice');
      assert.equal(p.requests.filter((q) => q.path === '/api/auth').length, 1, 'one login');
      assert.ok(p.requests.filter((q) => q.path !== '/api/auth').every((q) => q.headers['x-ftl-sid']));
      await pi.close!();
      assert.equal(p.sessions.size, 0, 'close() gives the API seat back');
    },
  ));

test('an expired session is opened again once; all seats taken is a transient wait; a wrong password stops the account', () =>
  withServer(startPihole({ password: PASSWORD, seats: 1 }), async (p) => {
    const pi = make(p);
    await set(pi, ['a.home.lan'], { ipv4: '192.168.1.20' });
    p.sessions.clear();
    assert.equal((await set(pi, ['a.home.lan'], { ipv4: '192.168.1.21' }))[0].outcome, 'updated');
    const busy = await make(p)
      .setAddresses(providerCall({ hostnames: ['b.home.lan'], addresses: { ipv4: '192.168.1.22' } }, 'as-given'))
      .catch((e: unknown) => e);
    seen.push(busy);
    assert.ok(busy instanceof DdnsError);
    assert.deepEqual([busy.kind, busy.scope, busy.code], ['transient', 'account', 'http_429']);
    const bad = await make(p, 'wrong-password-000')
      .setAddresses(providerCall({ hostnames: ['b.home.lan'], addresses: { ipv4: '192.168.1.22' } }, 'as-given'))
      .catch((e: unknown) => e);
    seen.push(bad);
    assert.ok(bad instanceof DdnsError);
    assert.deepEqual([bad.kind, bad.scope, bad.code], ['fatal', 'account', 'pihole_auth']);
    assert.match(bad.message, /password incorrect/);
    for (const t of visibleTexts(seen)) assert.ok(!t.includes(PASSWORD), t.slice(0, 200));
  }));
