/**
 * acme-dns's own behaviour, against the local contract server (test/support/contracts/acmedns.ts,
 * which follows https://github.com/joohoi/acme-dns README "API" and pkg/api/*.go): the request
 * (headers X-Api-User / X-Api-Key, JSON {subdomain, txt}), the two values kept, the one name an
 * account writes, no delete, TXT only. The common behaviours are the conformance suite's.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import { providerCall } from '../../support/parsed';
import { closeHttpPools } from '../../../src/core/http';
import { definition } from '../../../src/core/providers/acmedns';
import { startAcmedns, type AcmednsContract, type AcmednsUser } from '../../support/contracts/acmedns';
import { withServer } from '../../support/http-server';
import { failure } from '../../support/failure';

after(closeHttpPools);

const V1 = 'A'.repeat(43);
const V2 = 'B'.repeat(42) + '_';
const V3 = 'c-'.repeat(21) + 'c';

const settings = (srv: AcmednsContract, u: AcmednsUser, over: Record<string, unknown> = {}) => ({
  endpoint: `${srv.url}/`,
  apiUser: u.username,
  password: u.password,
  fulldomain: `${u.fulldomain.toUpperCase()}.`,
  ...over,
});
const make = (s: Record<string, unknown>) => definition.create(definition.settings.parse(s), {});

test('register by POST /register (the curl line of the editor), then update: headers, JSON body, two values kept', () =>
  withServer(startAcmedns({ domain: 'auth.example.net' }), async (srv) => {
    const reg = await fetch(`${srv.url}/register`, { method: 'POST' });
    assert.equal(reg.status, 201);
    const u = (await reg.json()) as AcmednsUser;
    assert.match(u.fulldomain, /^[0-9a-f-]{36}\.auth\.example\.net$/);
    assert.equal(u.password.length, 40);
    const p = make(settings(srv, u));
    assert.equal(p.txtTarget, u.fulldomain, 'the one name it writes, normalised');
    await p.setTxt!(u.fulldomain, V1);
    await p.setTxt!(`${u.fulldomain}.`, V2);
    const upd = srv.requests.filter((r) => r.path === '/update');
    assert.equal(upd.length, 2);
    assert.equal(upd[0].headers['x-api-user'], u.username);
    assert.equal(upd[0].headers['x-api-key'], u.password);
    assert.deepEqual(JSON.parse(upd[0].body), { subdomain: u.subdomain, txt: V1 });
    assert.deepEqual(srv.txt(u.fulldomain), [V1, V2], 'a name and its wildcard: both values');
    await p.setTxt!(u.fulldomain, V3);
    assert.deepEqual(srv.txt(u.fulldomain), [V2, V3], 'the oldest is pushed out');
    await p.deleteTxt!(u.fulldomain, V3);
    assert.equal(srv.requests.filter((r) => r.path === '/update').length, 3, 'deleteTxt sends nothing (no delete)');
  }));

test('TXT only: setAddresses refuses with a sentence, sending nothing; the definition says txtOnly', () =>
  withServer(startAcmedns({ domain: 'auth.example.net' }), async (srv) => {
    const u = srv.register();
    const e = await failure(
      make(settings(srv, u)).setAddresses(
        providerCall({ hostnames: ['home.example.com'], addresses: { ipv4: '203.0.113.7' } }, 'as-given'),
      ),
    );
    assert.equal(e.kind, 'input');
    assert.match(e.message, /cannot set the addresses \(A\/AAAA\)/);
    assert.equal(srv.requests.length, 0);
    assert.equal(definition.txtOnly, true);
    assert.equal(definition.txt, true);
  }));

test('another name than the fulldomain, or a value acme-dns cannot store: refused before any request', () =>
  withServer(startAcmedns({ domain: 'auth.example.net' }), async (srv) => {
    const u = srv.register();
    const p = make(settings(srv, u));
    const other = await failure(p.setTxt!('_acme-challenge.home.example.com', V1));
    assert.equal(other.code, 'acmedns_other_name');
    assert.match(other.message, /writes only .*auth\.example\.net, not _acme-challenge\.home\.example\.com/);
    const short = await failure(p.setTxt!(u.fulldomain, 'too-short'));
    assert.equal(short.kind, 'input');
    assert.equal(srv.requests.length, 0);
  }));

test('forbidden (wrong key, or a subdomain that is not the user\u2019s): fatal for the account, no secret in the text', () =>
  withServer(startAcmedns({ domain: 'auth.example.net' }), async (srv) => {
    const u = srv.register();
    const v = srv.register();
    const e = await failure(make(settings(srv, u, { fulldomain: v.fulldomain })).setTxt!(v.fulldomain, V1));
    assert.equal(e.code, 'acmedns_forbidden');
    assert.equal(e.scope, 'account');
    assert.match(e.message, /allowfrom/);
    for (const t of [e.message, e.detail ?? '', String(e.stack), JSON.stringify(e)]) {
      assert.ok(!t.includes(u.password) && !t.includes(u.username), t);
    }
  }));

test('settings: the subdomain, when given, must be the fulldomain\u2019s first label; the endpoint is required', () => {
  const base = {
    endpoint: 'https://auth.example.org',
    apiUser: 'u',
    password: 'p',
    fulldomain: 'abc.auth.example.org',
  };
  assert.ok(definition.settings.safeParse(base).success);
  assert.ok(definition.settings.safeParse({ ...base, subdomain: 'ABC' }).success);
  const wrong = definition.settings.safeParse({ ...base, subdomain: 'xyz' });
  assert.ok(!wrong.success && /first label of the fulldomain \(abc\)/.test(wrong.error.message));
  assert.ok(!definition.settings.safeParse({ ...base, endpoint: '' }).success);
  assert.ok(!definition.settings.safeParse({ ...base, fulldomain: 'not a name' }).success);
});
