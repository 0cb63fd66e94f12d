/**
 * Njalla's own behaviour, against the local contract server (test/support/contracts/njalla.ts),
 * which follows https://njal.la/api/ (JSON-RPC over POST, `Authorization: Njalla <token>`, errors
 * in HTTP 200 answers, `@` for the apex, edit-record changing only what it is sent). The common
 * behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { visibleTexts } from '../../support/visible-texts';
import { closeHttpPools } from '../../../src/core/http';
import { DdnsError } from '../../../src/core/errors';
import { definition } from '../../../src/core/providers/njalla';
import type { DnsProvider } from '../../../src/core/providers/types';
import { startNjalla, type NjallaContract } from '../../support/contracts/njalla';
import { withServer } from '../../support/http-server';
import { checkOwnTxt } from '../../support/own-txt';

after(closeHttpPools);

const TOKEN = 'njallaquirks0123456789abcdef0123456789ab';
const seen: unknown[] = [];

const make = (n: NjallaContract, token = TOKEN, more: Record<string, unknown> = {}): DnsProvider =>
  definition.create(definition.settings.parse({ token, endpoint: `${n.url}/api/1/`, ...more }), {});

test('JSON-RPC: the apex is "@", edit-record sends only the content (the TTL stays), a new record gets a Njalla TTL', () =>
  withServer(
    startNjalla({
      token: TOKEN,
      domains: { 'example.com': [{ type: 'A', name: '', content: '192.0.2.1', ttl: 900 }] },
    }),
    async (n) => {
      const r = await make(n, `Njalla ${TOKEN}`, { ttl: 1000 }).setAddresses(
        providerCall({ hostnames: ['example.com'], addresses: { ipv4: '203.0.113.7', ipv6: '2001:db8::7' } }),
      );
      seen.push(r);
      assert.deepEqual(
        r.map((x) => x.outcome),
        ['updated', 'updated'],
      );
      const edit = n.calls().find((c) => c.method === 'edit-record')!;
      assert.deepEqual(Object.keys(edit.params).sort(), ['content', 'domain', 'id']);
      assert.deepEqual(
        n.find('example.com', 'A').map((x) => [x.content, x.ttl]),
        [['203.0.113.7', 900]],
      );
      assert.deepEqual(n.calls().find((c) => c.method === 'add-record')!.params.name, '@');
      assert.equal(n.find('example.com', 'AAAA')[0].ttl, 3600);
    },
  ));

test('an error answered with HTTP 200: a wrong token is the account\u2019s fatal problem; a refused domain is the name\u2019s', () =>
  withServer(startNjalla({ token: TOKEN, domains: { 'example.com': [] } }), async (n) => {
    await assert.rejects(
      make(n, 'wrong-token-0123456789').setAddresses(
        providerCall({ hostnames: ['h.example.com'], addresses: { ipv4: '203.0.113.7' } }),
      ),
      (e: DdnsError) => {
        seen.push(e);
        assert.deepEqual([e.kind, e.scope, e.code], ['fatal', 'account', 'njalla_auth']);
        assert.match(e.message, /Invalid token/);
        return true;
      },
    );
    const r = await make(n, TOKEN, { domain: 'example.org' }).setAddresses(
      providerCall({ hostnames: ['h.example.org'], addresses: { ipv4: '203.0.113.7' } }),
    );
    seen.push(r);
    assert.deepEqual([r[0].outcome, r[0].error?.scope, r[0].error?.code], ['failed', 'host', 'njalla_refused']);
  }));

test('TXT: its own record is added once and removed; the other TXT values of the name stay', () =>
  withServer(
    startNjalla({
      token: TOKEN,
      domains: { 'example.com': [{ type: 'TXT', name: '_acme-challenge', content: 'other' }] },
    }),
    async (n) => {
      const name = '_acme-challenge.example.com';
      await checkOwnTxt(make(n), name, 'other', () => n.find(name, 'TXT').map((r) => r.content));
    },
  ));

test('no token appears in anything a person can see', () => {
  for (const t of visibleTexts(seen)) assert.ok(!t.includes(TOKEN), t.slice(0, 200));
});
