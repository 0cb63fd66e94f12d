/**
 * cert-renew with challenge delegation in a real Node-RED runtime, a real Pebble and a real BIND 9
 * (issue 14 §1): the names' account is No-IP (its dyndns2 contract server: no TXT API), the
 * `_acme-challenge` CNAMEs live in `home.test`, and the TXT records are written elsewhere by the
 * challenge account:
 * - an RFC 2136 account on the zone `delegated.test` of the same named;
 * - a DuckDNS account (test/support/contracts/duckdns.ts) whose `duckdns.org` zone is served by the
 *   same named on loopback, the contract server publishing its TXT value there with nsupdate;
 * - an acme-dns account (test/support/contracts/acmedns.ts, the joohoi/acme-dns HTTP API) whose
 *   zone `acmedns.test` is served by the same named: the contract server keeps its two values and
 *   publishes them into that zone with nsupdate, as a real acme-dns serves them itself.
 * Pebble resolves through a CNAME-following resolver in front of named
 * (test/support/chasing-resolver.ts), as a CA's resolver follows the alias into the other zone.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';

import { join } from 'node:path';
import { helper, nodeModule, waitFor, helperServer } from '../support/node-red';
import { bindUpdate, skipWithoutBind, type BindServer } from '../support/bind';
import { skipWithoutPebble } from '../support/pebble';
import { DELEGATED, HOME, startDelegationLab, type AcmeLab } from '../support/acme-dns-rig';
import { startDyndns2, type Dyndns2Server } from '../support/contracts/dyndns2';
import { startAcmedns, type AcmednsContract, type AcmednsUser } from '../support/contracts/acmedns';
import { startDuckDns, type DuckDnsContract } from '../support/contracts/duckdns';
import { certRenewFlow, observe } from '../support/observer';

const skip = skipWithoutBind() || skipWithoutPebble();
const ACMEDNS_ZONE = 'acmedns.test';
const NOIP_PASSWORD = 'n0ip-passw0rd-for-delegation';
const DUCK_TOKEN = 'a1b2c3d4-duck-t0ken-for-delegation-000';
const nodes = [nodeModule('ddns-account'), nodeModule('cert-renew'), nodeModule('dns-update')];

describe('cert-renew with challenge delegation (No-IP names, TXT written elsewhere)', { skip }, () => {
  let lab: AcmeLab;
  let bind: BindServer;
  let noip: Dyndns2Server;
  let acmedns: AcmednsContract;
  let duck: DuckDnsContract;
  let user: AcmednsUser;
  let dir: string;

  helperServer('ddns-cert-delegation-', (d) => (dir = d));
  before(async () => {
    lab = await startDelegationLab({
      home: [
        `_acme-challenge.other 60 IN CNAME www.${DELEGATED}.`,
        `_acme-challenge.duck 60 IN CNAME myhome.duckdns.org.`,
      ],
      more: [{ name: 'duckdns.org' }, { name: ACMEDNS_ZONE }],
    });
    bind = lab.bind;
    noip = await startDyndns2({ flavour: 'noip', users: { alice: NOIP_PASSWORD }, hosts: [`www.${HOME}`] });
    acmedns = await startAcmedns({ domain: ACMEDNS_ZONE, publish: bind });
    user = acmedns.register();
    duck = await startDuckDns({ token: DUCK_TOKEN, domains: ['myhome'], publish: bind });
    // what the user creates once at No-IP: the alias to the acme-dns account's fulldomain
    bindUpdate(bind, [`update add _acme-challenge.app.${HOME}. 60 CNAME ${user.fulldomain}.`]);
  });
  after(async () => {
    await acmedns?.close();
    await duck?.close();
    await noip?.close();
    await lab?.close();
  });

  const flow = (over: Record<string, unknown>) =>
    certRenewFlow(
      lab,
      [
        {
          id: 'acc-noip',
          type: 'ddns-account',
          name: 'No-IP',
          provider: 'noip',
          settings: { username: 'alice', endpoint: noip.url },
        },
        {
          id: 'acc-zone',
          type: 'ddns-account',
          name: 'delegated zone',
          provider: 'rfc2136',
          settings: { server: `127.0.0.1:${bind.port}`, keyName: bind.keys.sha256.name, algorithm: 'hmac-sha256' },
        },
        {
          id: 'acc-acme',
          type: 'ddns-account',
          name: 'acme-dns',
          provider: 'acmedns',
          settings: { endpoint: acmedns.url, fulldomain: user.fulldomain },
        },
        {
          id: 'acc-duck',
          type: 'ddns-account',
          name: 'DuckDNS',
          provider: 'duckdns',
          settings: { endpoint: duck.url },
        },
      ],
      { account: 'acc-noip', ...over },
    );
  const creds = () => ({
    'acc-noip': { password: NOIP_PASSWORD },
    'acc-zone': { tsigSecret: bind.keys.sha256.secret },
    'acc-acme': { apiUser: user.username, password: user.password },
    'acc-duck': { token: DUCK_TOKEN },
  });
  const secrets = () => [NOIP_PASSWORD, bind.keys.sha256.secret, user.password, user.username, DUCK_TOKEN];
  /** Everything a person could see: messages, statuses, the log. */
  const everything = (h: ReturnType<typeof observe>) =>
    JSON.stringify([h.out, h.alerts, h.caught, h.statuses, helper.log().args]);

  test('No-IP names + an RFC 2136 challenge account: a certificate for the name and its wildcard', async () => {
    await helper.load(
      nodes,
      flow({ names: `www.${HOME}, *.www.${HOME}`, challengeAccount: 'acc-zone', outDir: join(dir, 'www') }),
      creds(),
    );
    const h = observe('cr', 60_000);
    await h.input();
    assert.equal(h.caught.length, 0, h.caught[0]?.error?.message);
    const p = h.out[0].payload;
    assert.equal(p.renewed, true);
    assert.deepEqual([...p.names].sort(), [`*.www.${HOME}`, `www.${HOME}`]);
    assert.equal(noip.requests.length, 0, 'the No-IP account is never asked for TXT records');
    assert.deepEqual(bind.dig(`www.${DELEGATED}`, 'TXT'), [], 'the TXT records were removed at the target');
    const logged = helper
      .log()
      .args.map((a: unknown[]) => JSON.stringify(a))
      .join('\n');
    assert.match(logged, /delegated by CNAME to www\.delegated\.test/);
    for (const s of secrets()) assert.ok(!everything(h).includes(s), 'no secret in any message, status or log');
  });

  test('No-IP names + an acme-dns challenge account: a certificate, the value published by acme-dns', async () => {
    await helper.load(
      nodes,
      flow({ names: `app.${HOME}, *.app.${HOME}`, challengeAccount: 'acc-acme', outDir: join(dir, 'app') }),
      creds(),
    );
    const h = observe('cr', 60_000);
    await h.input();
    assert.equal(h.caught.length, 0, h.caught[0]?.error?.message);
    assert.equal(h.out[0].payload.renewed, true);
    const updates = acmedns.requests.filter((r) => r.path === '/update');
    assert.equal(updates.length, 2, 'one update per challenge (name and wildcard share the fulldomain)');
    assert.equal(acmedns.txt(user.fulldomain).length, 2, 'acme-dns keeps both values');
    for (const s of secrets()) assert.ok(!everything(h).includes(s), 'no secret in any message, status or log');
  });

  test('No-IP names + a DuckDNS challenge account: a certificate, the two challenges one after the other', async () => {
    await helper.load(
      nodes,
      flow({ names: `duck.${HOME}, *.duck.${HOME}`, challengeAccount: 'acc-duck', outDir: join(dir, 'duck') }),
      creds(),
    );
    const h = observe('cr', 60_000);
    await h.input();
    assert.equal(h.caught.length, 0, h.caught[0]?.error?.message);
    assert.equal(h.out[0].payload.renewed, true);
    const txt = duck.requests.filter((r) => r.query.has('txt'));
    assert.equal(txt.length, 4, 'set and clear, for the name and then for the wildcard');
    assert.ok(txt.every((r) => r.query.get('domains') === 'myhome'));
    assert.deepEqual(bind.dig('myhome.duckdns.org', 'TXT'), [], 'cleared afterwards');
    for (const s of secrets()) assert.ok(!everything(h).includes(s), 'no secret in any message, status or log');
  });

  test('a missing CNAME: the error (Catch, alert) says which record to create', async () => {
    await helper.load(
      nodes,
      flow({ names: `nocname.${HOME}`, challengeAccount: 'acc-zone', outDir: join(dir, 'nocname') }),
      creds(),
    );
    const h = observe('cr', 60_000);
    await h.input();
    assert.equal(h.out.length, 0);
    const err = String(h.caught[0]?.error?.message);
    assert.match(err, /_acme-challenge\.nocname\.home\.test has no CNAME record/);
    assert.ok(
      err.includes(`_acme-challenge.nocname.${HOME}. CNAME <a name the challenge account "delegated zone" can write>`),
      err,
    );
    await waitFor(() => h.alerts.length > 0, 5000, 20, 'the failing alert');
    assert.equal(h.alerts[0].payload.state, 'failing');
    assert.equal(h.lastStatus()?.fill, 'red');
    for (const s of secrets()) assert.ok(!everything(h).includes(s), 'no secret in any message, status or log');
  });

  test('a CNAME pointing elsewhere than the acme-dns account: the error gives the record to change', async () => {
    await helper.load(
      nodes,
      flow({ names: `other.${HOME}`, challengeAccount: 'acc-acme', outDir: join(dir, 'other') }),
      creds(),
    );
    const h = observe('cr', 60_000);
    await h.input();
    const err = String(h.caught[0]?.error?.message);
    assert.match(err, /points elsewhere: its CNAME leads to www\.delegated\.test/);
    assert.ok(err.includes(`Change the record to: _acme-challenge.other.${HOME}. CNAME ${user.fulldomain}.`), err);
    assert.equal(acmedns.requests.filter((r) => r.path === '/update').length, 2, 'nothing more sent to acme-dns');
    for (const s of secrets()) assert.ok(!everything(h).includes(s), 'no secret in any message, status or log');
  });

  test('without a challenge account, a No-IP account is still refused (as before)', async () => {
    await helper.load(nodes, flow({ names: `www.${HOME}` }), creds());
    const h = observe('cr');
    const m = await h.input();
    assert.match(String(m.error?.message), /errors\.no-txt|cannot set TXT records/);
  });

  test("the account dialog's Register button: POST /ddns/acmedns/register registers at the server given", async () => {
    await helper.load(nodes, flow({ names: `www.${HOME}` }), creds());
    const before = acmedns.requests.filter((r) => r.path === '/register').length;
    const res = await helper.request().post('/ddns/acmedns/register').send({ endpoint: acmedns.url }).expect(200);
    assert.match(res.body.fulldomain, /^[0-9a-f-]{36}\.acmedns\.test$/);
    assert.equal(res.body.subdomain, res.body.fulldomain.split('.')[0]);
    assert.equal(typeof res.body.username, 'string');
    assert.equal(res.body.password.length, 40);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(acmedns.requests.filter((r) => r.path === '/register').length, before + 1);
    const bad = await helper.request().post('/ddns/acmedns/register').send({ endpoint: 'ftp://x' }).expect(400);
    assert.match(bad.body.error, /address of the acme-dns server/);
    acmedns.failNext('server-error');
    const down = await helper.request().post('/ddns/acmedns/register').send({ endpoint: acmedns.url }).expect(400);
    assert.match(down.body.error, /did not register an account \(HTTP 500\)/);
  });

  test('dns-update refuses an acme-dns account with a sentence', async () => {
    await helper.load(
      nodes,
      [
        { id: 'f1', type: 'tab', label: 'dns' },
        {
          id: 'acc-acme',
          type: 'ddns-account',
          name: 'acme-dns',
          provider: 'acmedns',
          settings: { endpoint: acmedns.url, fulldomain: user.fulldomain },
        },
        { id: 'du', type: 'dns-update', z: 'f1', account: 'acc-acme', hostnames: `app.${HOME}`, wires: [[], []] },
      ],
      { 'acc-acme': { apiUser: user.username, password: user.password } },
    );
    const logged = helper
      .log()
      .args.map((a: unknown[]) => JSON.stringify(a))
      .join('\n');
    assert.match(logged, /holds only the TXT records of certificate challenges: it cannot set the addresses/);
    assert.ok(!logged.includes(user.password));
  });
});
