/**
 * AdGuard Home's own behaviour, against the local contract server (test/support/contracts/adguard.ts),
 * which follows AdGuard Home's openapi/openapi.yaml (rewrite list/add/delete, RewriteUpdate) and
 * openapi/CHANGELOG.md (PUT /control/rewrite/update since v0.107.33). The common behaviours are the
 * conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/adguard';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startAdguard, type AdguardContract } from '../../support/contracts/adguard';
import { withServer } from '../../support/http-server';

after(closeHttpPools);

const PASSWORD = 'adguard-quirks-password-0123456789';
const seen: unknown[] = [];

const make = (a: AdguardContract, password = PASSWORD): DnsProvider =>
  definition.create(definition.settings.parse({ endpoint: a.url, username: 'admin', password }), {});

async function set(p: DnsProvider, hostnames: string[], addresses: { ipv4?: string; ipv6?: string }) {
  const r = await p.setAddresses(providerCall({ hostnames, addresses }, 'as-given'));
  seen.push(r);
  return r;
}

test('a rewrite is updated in place (its enabled flag kept), a second of the same family removed, a new family added; CNAMEs, wildcards and other names stay', () =>
  withServer(
    startAdguard({
      username: 'admin',
      password: PASSWORD,
      rewrites: [
        { domain: 'nas.home.lan', answer: '192.168.1.5', enabled: false },
        { domain: 'nas.home.lan', answer: '192.168.1.7' },
        { domain: 'nas.home.lan', answer: 'storage.home.lan' },
        { domain: '*.home.lan', answer: '192.168.1.1' },
        { domain: 'tv.home.lan', answer: '192.168.1.8' },
      ],
    }),
    async (a) => {
      const p = make(a);
      const r = await set(p, ['nas.home.lan'], { ipv4: '192.168.1.6', ipv6: 'fd00::6' });
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      assert.deepEqual(a.rewrites, [
        { domain: 'nas.home.lan', answer: '192.168.1.6', enabled: false },
        { domain: 'nas.home.lan', answer: 'storage.home.lan', enabled: true },
        { domain: '*.home.lan', answer: '192.168.1.1', enabled: true },
        { domain: 'tv.home.lan', answer: '192.168.1.8', enabled: true },
        { domain: 'nas.home.lan', answer: 'fd00::6', enabled: true },
      ]);
      assert.ok(a.requests.some((q) => q.method === 'PUT' && q.path === '/control/rewrite/update'));
      const writes = a.requests.filter((q) => q.method !== 'GET').length;
      const again = await set(p, ['nas.home.lan'], { ipv4: '192.168.1.6', ipv6: 'fd00::6' });
      assert.deepEqual(
        again.map((x) => x.outcome),
        ['unchanged', 'unchanged'],
      );
      assert.equal(a.requests.filter((q) => q.method !== 'GET').length, writes);
    },
  ));

test('a refused rewrite fails that name only; a wrong password stops the account; the password is in no text', () =>
  withServer(startAdguard({ username: 'admin', password: PASSWORD }), async (a) => {
    a.failNext({ delayMs: 0 });
    a.failNext({ status: 400, body: 'validating rewrite: bad domain\n' });
    const r = await set(make(a), ['bad..name', 'ok.home.lan'], { ipv4: '192.168.1.6' });
    assert.deepEqual(
      r.map((x) => [x.outcome, x.error?.code, x.error?.scope]),
      [
        ['failed', 'adguard_refused', 'host'],
        ['updated', undefined, undefined],
      ],
    );
    const bad = await make(a, 'wrong-password-0')
      .setAddresses(providerCall({ hostnames: ['ok.home.lan'], addresses: { ipv4: '192.168.1.7' } }, 'as-given'))
      .catch((e: unknown) => e);
    seen.push(bad);
    assert.ok(bad instanceof DdnsError);
    assert.deepEqual([bad.code, bad.scope], ['adguard_auth', 'account']);
    for (const t of visibleTexts(seen)) assert.ok(!t.includes(PASSWORD), t.slice(0, 200));
  }));
