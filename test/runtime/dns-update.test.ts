/**
 * ddns-account + dns-update in the real Node-RED runtime (node-red-node-test-helper), against:
 * - the dry-run provider;
 * - a local dyndns2 server (test/support/contracts/dyndns2.ts) that answers as the protocol is
 *   documented (https://help.dyn.com/remote-access-api/perform-update/,
 *   https://help.dyn.com/remote-access-api/return-codes/): `good`/`nochg`, `badauth`, `nohost`,
 *   `911` (server trouble: try again later);
 * - a local DuckDNS (test/support/contracts/duckdns.ts, https://www.duckdns.org/spec.jsp): `KO` for
 *   a domain the token does not own; a 503 with an absurd Retry-After (RFC 9110 §10.2.3);
 * - a real BIND 9 (named) for RFC 2136 with TSIG (https://www.rfc-editor.org/rfc/rfc2136);
 * - public-ip-watch wired in front, its source a loopback server;
 * - a real Node-RED process restarted with a file context store.
 * Catch, Status and Complete are Node-RED's own core nodes. Every test checks that the account's
 * secret appears in no captured log line, status, msg or error.
 */
import { after, afterEach, before, test } from '../support/suite';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeHttpPools } from '../../src/core/http';
import { rfc2136Account, skipWithoutBind, startBind } from '../support/bind';
import { startDyndns2, type Dyndns2Server } from '../support/contracts/dyndns2';
import { startDuckDns, type DuckDnsContract } from '../support/contracts/duckdns';
import { startServer, text, type TestServer } from '../support/http-server';
import {
  helper,
  loadFlow,
  nodeModule,
  unloadFlow,
  REPO_ROOT,
  deployFull,
  httpPostNode,
  startNodeRed,
  waitFor,
} from '../support/node-red';

import { observe, observerNodes, type Msg, type Observed } from '../support/observer';

const PASSWORD = 'Pw-9f8e7d6c5b4a';
const WRONG = 'Wrong-1a2b3c4d5e';
const HOST = 'home.example.com';
const hasPublicIpWatch = existsSync(join(REPO_ROOT, 'dist/src/nodes/public-ip-watch.js'));

let srv: Dyndns2Server;
before(async () => {
  await helper.startServer();
});
afterEach(async () => {
  await unloadFlow();
  if (srv) await srv.close();
  srv = undefined as unknown as Dyndns2Server;
});
after(async () => {
  await helper.stopServer();
  await closeHttpPools();
});

interface Harness extends Observed {
  /** Everything a person could see: msgs, statuses, errors and every log line. */
  visible(): string;
}

function flowFor(account: Msg, update: Msg = {}, extra: Msg[] = []): Msg[] {
  return [
    { id: 'acc', type: 'ddns-account', name: 'Test account', provider: 'dryrun', settings: {}, ...account },
    {
      id: 'u',
      type: 'dns-update',
      name: '',
      account: 'acc',
      hostnames: HOST,
      families: 'auto',
      minInterval: 0,
      contextStore: '',
      alertAfter: 3,
      ...update,
      wires: [['out'], ['alerts']],
    },
    ...observerNodes('u'),
    ...extra,
  ];
}

const modules = () => [
  nodeModule('ddns-account'),
  nodeModule('dns-update'),
  ...(hasPublicIpWatch ? [nodeModule('public-ip-watch')] : []),
];

async function load(flow: Msg[], credentials: Msg = {}): Promise<Harness> {
  await loadFlow(modules(), flow, credentials);
  return attach();
}

async function redeploy(flow: Msg[], credentials: Msg = {}): Promise<Harness> {
  await (helper as unknown as { setFlows(f: object[], t: string, c: object): Promise<void> }).setFlows(
    flow,
    'full',
    credentials,
  );
  return attach();
}

function attach(): Harness {
  const o = observe('u');
  return Object.assign(o, {
    visible: () => JSON.stringify([o.out, o.alerts, o.caught, o.statuses, o.completed, helper.log().args]),
  });
}

const lastStatus = (h: Harness) => h.lastStatus();
const results = (m: Msg) => m.payload.results as Msg[];

function assertNoSecret(h: Harness, ...secrets: string[]): void {
  const seen = h.visible();
  for (const s of secrets) {
    assert.ok(!seen.includes(s), `the secret ${s.slice(0, 3)}… is visible`);
    assert.ok(!seen.includes(Buffer.from(s).toString('base64')), 'the secret is visible in base64');
  }
}

const dyndnsAccount = (password = PASSWORD): { account: Msg; credentials: Msg } => ({
  account: { provider: 'dyndns2', settings: { endpoint: srv.url, username: 'alice' } },
  credentials: { acc: { password } },
});

test('dns-update with the dry-run account: what would be sent, then nothing for the same address', async () => {
  const h = await load(flowFor({}));
  const first = await h.input({
    payload: {
      ipv4: '203.0.113.7',
      ipv6: '2001:db8::7',
      previous: { ipv4: null, ipv6: null },
      changed: ['ipv4', 'ipv6'],
    },
    topic: 'wan',
  });
  assert.equal(first.payload.ok, true);
  assert.equal(first.topic, 'wan', 'the msg is carried through');
  assert.deepEqual(
    results(first).map((r) => [r.hostname, r.family, r.status, r.address]),
    [
      [HOST, 'ipv4', 'updated', '203.0.113.7'],
      [HOST, 'ipv6', 'updated', '2001:db8::7'],
    ],
  );
  assert.equal(results(first)[0].message, `dry run: would set the A record of ${HOST} to 203.0.113.7 (nothing sent)`);
  assert.equal(results(first)[0].attempts, 1);
  assert.equal(typeof results(first)[0].ms, 'number');
  assert.equal(h.out.length, 1);
  assert.deepEqual(
    { ...lastStatus(h), source: undefined },
    // a dry run looks different from a real write (issue 15)
    { fill: 'blue', shape: 'ring', text: `dry run: ${HOST} → 203.0.113.7 2001:db8::7`, source: undefined },
  );

  const again = await h.input({ payload: { ipv4: '203.0.113.7', ipv6: null } });
  assert.deepEqual(
    results(again).map((r) => r.status),
    ['unchanged'],
  );
  assert.equal(results(again)[0].attempts, 0);
  // names from msg, one address as text, force
  const forced = await h.input({ payload: '203.0.113.7', hostnames: ['a.example.com', 'b.example.com'], force: true });
  assert.deepEqual(
    results(forced).map((r) => `${r.hostname}:${r.status}`),
    ['a.example.com:updated', 'b.example.com:updated'],
  );
  assert.equal(h.caught.length, 0);
  assert.equal(h.alerts.length, 0);
  assert.equal(lastStatus(h)?.text, 'dry run: 3 names → 203.0.113.7 2001:db8::7');
});

test('dns-update: host names and the address from msg, flow or an environment variable (TypedInput, issue 15)', async () => {
  process.env.DDNS_TEST_NAMES = 'env1.example.com, env2.example.com';
  try {
    // Names from an environment variable: fixed at deploy.
    let h = await load(flowFor({}, { hostnames: 'DDNS_TEST_NAMES', hostnamesType: 'env' }));
    let r = await h.input({ payload: '203.0.113.7' });
    assert.deepEqual(
      results(r).map((x) => x.hostname),
      ['env1.example.com', 'env2.example.com'],
    );
    await helper.unload();

    // Names from msg.topic and the address from msg.wan.
    h = await load(
      flowFor({}, { hostnames: 'topic', hostnamesType: 'msg', addressProperty: 'wan', addressPropertyType: 'msg' }),
    );
    r = await h.input({ topic: 'msg.example.com', wan: { ipv4: '203.0.113.8' }, payload: 1733462400000 });
    assert.deepEqual(
      results(r).map((x) => `${x.hostname} ${x.status} ${x.address}`),
      ['msg.example.com updated 203.0.113.8'],
    );
    // A msg without the names: a clear error naming where they were looked for.
    const bad = await h.input({ wan: '203.0.113.8' });
    assert.match(String(bad.error?.message), /msg\.topic holds none/);
    // A wrong address in that property is named as that property, not msg.payload.
    const wrong = await h.input({ topic: 'msg.example.com', wan: 42 });
    assert.match(String(wrong.error?.message), /msg\.wan/);
    await helper.unload();

    // Names and the address from global context (flow context alike), read at each msg.
    h = await load(
      flowFor(
        {},
        { hostnames: 'ddnsNames', hostnamesType: 'global', addressProperty: 'wan', addressPropertyType: 'global' },
      ),
    );
    const global = helper.getNode('u').context().global;
    global.set('ddnsNames', ['f1.example.com', 'f2.example.com']);
    global.set('wan', '2001:db8::9');
    r = await h.input({});
    assert.deepEqual(
      results(r).map((x) => `${x.hostname} ${x.family} ${x.address}`),
      ['f1.example.com ipv6 2001:db8::9', 'f2.example.com ipv6 2001:db8::9'],
    );
  } finally {
    delete process.env.DDNS_TEST_NAMES;
  }
});

test('dns-update: an invalid msg is an error for Catch, with a red status, and nothing is sent', async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST] });
  const { account, credentials } = dyndnsAccount();
  const h = await load(flowFor(account), credentials);
  const cases: Array<[Msg, RegExp]> = [
    [{ payload: { ipv4: '203.0.113.300' } }, /Invalid IPv4 address: "203\.0\.113\.300" is not an IP address/],
    [{ payload: { ipv4: '2001:db8::1' } }, /IPv6 address where an IPv4 address was expected/],
    [{ payload: { ipv4: 42 } }, /msg\.payload/],
    [{ payload: 42 }, /msg\.payload must be/],
    [{ payload: {} }, /msg\.payload carries no address/],
    [{ payload: { ipv4: '203.0.113.7' }, hostname: 'not valid!' }, /Invalid host name/],
    [{ payload: { ipv4: '203.0.113.7' }, hostname: 'nodomain' }, /not a full host name/],
    [
      { payload: { ipv4: '203.0.113.7' }, hostnames: [HOST, 'bad_name.example.com'] },
      /"bad_name\.example\.com" is not a valid host name/,
    ],
    [{ payload: { ipv4: '203.0.113.7' }, force: 'yes' }, /msg\.force must be true or false/],
  ];
  for (const [msg, why] of cases) {
    const got = await h.input(msg);
    assert.ok(got.error, `an error for ${JSON.stringify(msg)}`);
    assert.match(got.error.message, why);
    assert.equal(lastStatus(h)?.fill, 'red');
  }
  assert.equal(h.caught.length, cases.length);
  assert.equal(h.out.length, 0);
  assert.equal(srv.requests.length, 0, 'nothing sent');
  assertNoSecret(h, PASSWORD);
});

test('dns-update with a dyndns2 server: sent once, nothing at steady state, nothing after a redeploy', async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST, 'www.example.com'] });
  const { account, credentials } = dyndnsAccount();
  const flow = flowFor(account, { hostnames: `${HOST},\nwww.example.com` });
  let h = await load(flow, credentials);
  const r1 = await h.input({ payload: { ipv4: '203.0.113.7', ipv6: null } });
  assert.deepEqual(
    results(r1).map((r) => r.status),
    ['updated', 'updated'],
  );
  assert.equal(srv.requests.length, 1, 'both names in one request');
  const q = srv.requests[0].query;
  assert.equal(q.get('hostname'), `${HOST},www.example.com`);
  assert.equal(q.get('myip'), '203.0.113.7');
  assert.equal(srv.requests[0].basic?.user, 'alice');
  assert.equal(srv.record(HOST)?.ipv4, '203.0.113.7');
  assert.match(results(r1)[0].message, /good|updated|203\.0\.113\.7/);

  const r2 = await h.input({ payload: { ipv4: '203.0.113.7', ipv6: null } });
  assert.deepEqual(
    results(r2).map((r) => r.status),
    ['unchanged', 'unchanged'],
  );
  assert.equal(srv.requests.length, 1, 'steady state: the provider receives nothing');
  assertNoSecret(h, PASSWORD);

  // A full redeploy recreates every node (and, without a context store in settings.js, Node-RED
  // drops their context): the saved state means nothing is sent.
  h = await redeploy(flow, credentials);
  const r3 = await h.input({ payload: { ipv4: '203.0.113.7', ipv6: null } });
  assert.deepEqual(
    results(r3).map((r) => r.status),
    ['unchanged', 'unchanged'],
  );
  assert.equal(srv.requests.length, 1, 'restart: nothing sent');

  const r4 = await h.input({ payload: { ipv4: '203.0.113.8' }, hostname: HOST });
  assert.deepEqual(
    results(r4).map((r) => r.status),
    ['updated'],
  );
  assert.equal(srv.requests.length, 2);
  assert.equal(srv.record(HOST)?.ipv4, '203.0.113.8');
  assert.equal(srv.record('www.example.com')?.ipv4, '203.0.113.7');
  assertNoSecret(h, PASSWORD);
});

test('dns-update: badauth stops the account after exactly one request, with one alert; new credentials start afresh', async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST, 'www.example.com'] });
  const wrong = dyndnsAccount(WRONG);
  const flow = flowFor(wrong.account);
  const h = await load(flow, wrong.credentials);
  const r1 = await h.input({ payload: { ipv4: '203.0.113.7' } });
  assert.ok(r1.error, 'the failure goes to Catch');
  assert.match(r1.error.message, /badauth/);
  assert.match(r1.error.message, /msg\.reset = true/);
  assert.equal(h.out.length, 1, 'the results are sent too');
  const res = results(h.out[0])[0];
  assert.equal(h.out[0].payload.ok, false);
  assert.equal(res.status, 'failed');
  assert.equal(res.stopped, true);
  assert.equal(res.cause, 'badauth');
  assert.equal(srv.requests.length, 1);
  await waitFor(() => h.alerts.length === 1, 5000, 10, 'the failing alert');
  assert.equal(h.alerts[0].payload.state, 'failing');
  assert.equal(h.alerts[0].payload.account, 'Test account');
  assert.match(h.alerts[0].payload.error, /badauth/);
  assert.equal(lastStatus(h)?.fill, 'red');
  assert.match(lastStatus(h)!.text, /stopped: wrong login/); // short, as core's; badauth is in the msg

  // Whatever comes next: not one more request, not one more alert.
  for (const msg of [
    { payload: { ipv4: '203.0.113.8' } },
    { payload: { ipv4: '203.0.113.9' }, hostname: 'www.example.com', force: true },
  ]) {
    const r = await h.input(msg);
    assert.equal(results(h.out.at(-1)!)[0].status, 'skipped');
    assert.equal(results(h.out.at(-1)!)[0].reason, 'stopped');
    assert.equal(r.error, undefined, 'a held-back update is not a new failure');
  }
  assert.equal(srv.requests.length, 1);
  assert.equal(h.alerts.length, 1);
  assertNoSecret(h, WRONG, PASSWORD);

  // The user fixes the password and deploys: the account's identity changed, the stop is gone.
  const fixed = dyndnsAccount(PASSWORD);
  const h2 = await redeploy(flowFor(fixed.account), fixed.credentials);
  const r2 = await h2.input({ payload: { ipv4: '203.0.113.8' } });
  assert.deepEqual(
    results(r2).map((r) => r.status),
    ['updated'],
  );
  assert.equal(srv.requests.length, 2);
  assertNoSecret(h2, WRONG, PASSWORD);
});

test('dns-update: two nodes on one account; a request queued behind a fatal account answer is never sent', async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST, 'www.example.com'] });
  srv.answerNext({ lines: ['badauth'], delayMs: 300 });
  const wrong = dyndnsAccount(WRONG);
  const second: Msg = {
    id: 'u2',
    type: 'dns-update',
    name: '',
    account: 'acc',
    hostnames: 'www.example.com',
    families: 'auto',
    minInterval: 0,
    contextStore: '',
    alertAfter: 3,
    wires: [['out2'], []],
  };
  const h = await load(flowFor(wrong.account, {}, [second, { id: 'out2', type: 'helper' }]), wrong.credentials);
  const out2: Msg[] = [];
  helper.getNode('out2').on('input', (m: Msg) => out2.push(m));
  const first = h.input({ payload: { ipv4: '203.0.113.7' } });
  await waitFor(() => srv.requests.length === 1, 5000, 5, 'the first request');
  // the second node's update comes while the first request waits for its (fatal) answer
  helper.getNode('u2').receive({ payload: { ipv4: '203.0.113.7' } });
  await first;
  await waitFor(() => out2.length === 1, 5000, 10, "the second node's results");
  const r = results(out2[0])[0];
  assert.equal(r.status, 'skipped');
  assert.equal(r.reason, 'stopped');
  assert.equal(r.stopped, true);
  assert.equal(r.cause, 'badauth');
  assert.equal(r.attempts, 0);
  assert.equal(srv.requests.length, 1, 'exactly one request for the whole account');
  assertNoSecret(h, WRONG, PASSWORD);
});

test('dns-update: nohost stops that name; msg.reset sends the held address and the account recovers', async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST] });
  const { account, credentials } = dyndnsAccount();
  const h = await load(flowFor(account, { hostnames: `${HOST}, new.example.com` }), credentials);
  const r1 = await h.input({ payload: { ipv4: '203.0.113.7' } });
  assert.match(r1.error.message, /new\.example\.com/);
  assert.deepEqual(
    results(h.out[0]).map((r) => `${r.hostname}:${r.status}`),
    [`${HOST}:updated`, 'new.example.com:failed'],
  );
  assert.equal(results(h.out[0])[1].stopped, true);
  await waitFor(() => h.alerts.length === 1, 5000, 10, 'the failing alert');
  await h.input({ payload: { ipv4: '203.0.113.7' } });
  assert.equal(srv.requests.length, 1);

  srv.addHost('new.example.com'); // the user creates the name at the provider, then resets
  const r2 = await h.input({ reset: true });
  assert.deepEqual(
    results(r2).map((r) => `${r.hostname}:${r.status}`),
    ['new.example.com:updated'],
  );
  assert.equal(srv.record('new.example.com')?.ipv4, '203.0.113.7');
  assert.equal(srv.requests.length, 2);
  await waitFor(() => h.alerts.length === 2, 5000, 10, 'the recovered alert');
  assert.equal(h.alerts[1].payload.state, 'recovered');
  assert.equal(lastStatus(h)?.fill, 'green');
  assertNoSecret(h, PASSWORD);
});

test('dns-update: msg.force / msg.reset from an ordinary inject (its timestamp payload) work (issue 15)', async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST] });
  const { account, credentials } = dyndnsAccount();
  const h = await load(flowFor(account), credentials);
  // An inject node's default message: payload = Date.now(), topic = ''.
  const inject = (extra: Msg) => h.input({ payload: Date.now(), topic: '', ...extra });
  const before = await inject({ force: true });
  assert.match(String(before.error?.message), /msg\.force: no address has been published for these names yet/);
  assert.equal(srv.requests.length, 0);

  await h.input({ payload: { ipv4: '203.0.113.7' } });
  assert.equal(srv.requests.length, 1);
  const forced = await inject({ force: true });
  assert.equal(forced.error, undefined, JSON.stringify(forced.error));
  assert.deepEqual(
    results(forced).map((r) => `${r.hostname}:${r.status}:${r.address}`),
    [`${HOST}:unchanged:203.0.113.7`], // sent again; the server answers nochg
  );
  assert.equal(srv.requests.length, 2, 'the last address sent again');
  const reset = await inject({ reset: true });
  assert.equal(reset.error, undefined, JSON.stringify(reset.error));
  assert.deepEqual(results(reset), [], 'nothing was held back');
  assert.equal(srv.requests.length, 2);
  // Without force or reset a number is still not an address; a wrong text beside force is still refused.
  assert.match(String((await inject({})).error?.message), /msg\.payload must be/);
  assert.match(String((await h.input({ payload: '203.0.113.x', force: true })).error?.message), /Invalid IPv4/);
  assert.equal(srv.requests.length, 2);
});

test('dns-update: a provider wait (911) survives a redeploy of unchanged flows: nothing is sent until it ends', async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST, 'www.example.com'] });
  srv.answerNext(['911']);
  const { account, credentials } = dyndnsAccount();
  const flow = flowFor(account);
  const h = await load(flow, credentials);
  const r1 = await h.input({ payload: { ipv4: '203.0.113.7' } });
  assert.match(r1.error.message, /911/);
  const failed = results(h.out[0])[0];
  assert.equal(failed.status, 'failed');
  assert.equal(typeof failed.nextRetryAt, 'string');
  assert.equal(srv.requests.length, 1);

  // Deploy the same flows again (full): every node is recreated, the wait is not forgotten.
  const h2 = await redeploy(flow, credentials);
  for (const msg of [
    { payload: { ipv4: '203.0.113.7' } },
    { payload: { ipv4: '203.0.113.8' } },
    { payload: { ipv4: '203.0.113.8' }, hostname: 'www.example.com' },
  ]) {
    const r = await h2.input(msg);
    assert.equal(r.error, undefined, 'a held-back update is not a new failure');
    const res = results(h2.out.at(-1)!)[0];
    assert.equal(res.status, 'skipped', JSON.stringify(res));
    assert.ok(['retry-pending', 'account-wait'].includes(res.reason), res.reason);
    assert.equal(res.nextRetryAt, failed.nextRetryAt, 'the same wait as before the redeploy');
  }
  assert.equal(srv.requests.length, 1, 'no request inside the wait');
  assert.equal(lastStatus(h2)?.fill, 'yellow');
  assertNoSecret(h2, PASSWORD);
});

test('dns-update: a DuckDNS KO stop ends when the host name is corrected and deployed', async () => {
  const TOKEN = 'd0c4f6a2-1b3e-4c5d-9e8f-7a6b5c4d3e2f';
  const duck: DuckDnsContract = await startDuckDns({ token: TOKEN, domains: ['myhome'] });
  try {
    const account = { provider: 'duckdns', settings: { endpoint: duck.url } };
    const credentials = { acc: { token: TOKEN } };
    const h = await load(flowFor(account, { hostnames: 'wrong.duckdns.org' }), credentials);
    const r1 = await h.input({ payload: { ipv4: '203.0.113.7' } });
    assert.match(r1.error.message, /KO/);
    assert.equal(results(h.out[0])[0].stopped, true);
    assert.match(lastStatus(h)!.text, /stopped: refused$/); // DuckDNS's KO is in the msg
    await h.input({ payload: { ipv4: '203.0.113.7' } });
    assert.equal(duck.requests.length, 1, 'stopped: nothing more');

    // The user corrects the name and deploys: the node starts afresh.
    const h2 = await redeploy(flowFor(account, { hostnames: 'myhome.duckdns.org' }), credentials);
    const r2 = await h2.input({ payload: { ipv4: '203.0.113.7' } });
    assert.equal(r2.error, undefined, r2.error?.message);
    assert.deepEqual(
      results(h2.out[0]).map((r) => `${r.hostname}:${r.status}`),
      ['myhome.duckdns.org:updated'],
    );
    assert.equal(duck.requests.length, 2);
    assert.equal(duck.records.get('myhome')?.ipv4, '203.0.113.7');
    assertNoSecret(h2, TOKEN);
  } finally {
    await duck.close();
  }
});

test('dns-update: an absurd Retry-After gives a sane result, status and error; later updates still answer', async () => {
  const TOKEN = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
  const duck: DuckDnsContract = await startDuckDns({ token: TOKEN, domains: ['myhome'] });
  try {
    const h = await load(
      flowFor({ provider: 'duckdns', settings: { endpoint: duck.url } }, { hostnames: 'myhome.duckdns.org' }),
      {
        acc: { token: TOKEN },
      },
    );
    duck.failNext({ status: 503, body: 'Service Unavailable', headers: { 'retry-after': '99999999999999999999' } });
    const r1 = await h.input({ payload: { ipv4: '203.0.113.7' } });
    const res = results(h.out[0])[0];
    assert.equal(res.status, 'failed');
    assert.ok(Date.parse(res.nextRetryAt) - Date.now() <= 24 * 3_600_000, res.nextRetryAt);
    assert.match(res.message, /asked to wait 24 h or longer, so the next attempt is in 24 h/);
    assert.match(r1.error.message, /next attempt at \d{4}-/);
    assert.equal(lastStatus(h)?.fill, 'yellow');
    assert.match(lastStatus(h)!.text, /retry \d\d:\d\d/);
    for (const m of [r1.error.message, JSON.stringify(h.out), JSON.stringify(h.statuses)])
      assert.doesNotMatch(m, /Infinity|NaN|Invalid|RangeError|e\+\d/);
    const r2 = await h.input({ payload: { ipv4: '203.0.113.8' } });
    assert.equal(r2.error, undefined);
    assert.equal(results(h.out[1])[0].status, 'skipped');
    assert.equal(results(h.out[1])[0].nextRetryAt, res.nextRetryAt);
    assert.equal(duck.requests.length, 1);
    assertNoSecret(h, TOKEN);
  } finally {
    await duck.close();
  }
});

test('dns-update: invalid account settings give a red status and an error, without the secret', async () => {
  const h = await load(flowFor({ provider: 'dyndns2', settings: { endpoint: 'not a url', username: 'alice' } }), {
    acc: { password: PASSWORD },
  });
  const got = await h.input({ payload: { ipv4: '203.0.113.7' } });
  assert.match(got.error.message, /account settings are not valid/);
  assert.equal(h.out.length, 0);
  const unknown = await redeploy(flowFor({ provider: 'nosuchprovider' }));
  const got2 = await unknown.input({ payload: { ipv4: '203.0.113.7' } });
  assert.match(got2.error.message, /"nosuchprovider" is not known/);
  assertNoSecret(h, PASSWORD);
});

test("ddns-account: the editor gets every provider's fields, and never a secret", async () => {
  await load(flowFor({}));
  const res = await helper.request().get('/ddns/providers').expect(200);
  const list = res.body as Msg[];
  const ids = list.map((p) => p.id);
  assert.ok(ids.includes('dryrun'));
  for (const p of list) {
    assert.equal(typeof p.label, 'string');
    assert.ok(Array.isArray(p.fields));
    assert.equal(typeof p.txt, 'boolean');
    for (const f of p.fields) {
      if (f.kind === 'password') {
        assert.ok(
          ['password', 'token', 'tsigSecret', 'apiUser'].includes(f.key),
          `${p.id}.${f.key} is a declared secret key`,
        );
        assert.equal(f.default, undefined);
      }
    }
  }
});

test(
  'dns-update with RFC 2136: the record is written on a real BIND and read back',
  { skip: skipWithoutBind() },
  async () => {
    const bind = await startBind([{ name: 'home.test' }]);
    try {
      const { credentials, ...account } = rfc2136Account(bind);
      const h = await load(flowFor(account, { hostnames: 'nas.home.test' }), { acc: credentials });
      const r1 = await h.input({ payload: { ipv4: '203.0.113.7', ipv6: '2001:db8::7' } });
      assert.equal(r1.error, undefined, r1.error?.message);
      assert.deepEqual(
        results(r1).map((r) => r.status),
        ['updated', 'updated'],
      );
      assert.deepEqual(bind.dig('nas.home.test', 'A'), ['203.0.113.7']);
      assert.deepEqual(bind.dig('nas.home.test', 'AAAA'), ['2001:db8::7']);
      const r2 = await h.input({ payload: { ipv4: '203.0.113.7', ipv6: '2001:db8::7' } });
      assert.deepEqual(
        results(r2).map((r) => r.status),
        ['unchanged', 'unchanged'],
      );
      const r3 = await h.input({ payload: { ipv4: '203.0.113.8' } });
      assert.deepEqual(
        results(r3).map((r) => r.status),
        ['updated'],
      );
      assert.deepEqual(bind.dig('nas.home.test', 'A'), ['203.0.113.8']);
      assertNoSecret(h, credentials.tsigSecret);

      // A wrong TSIG secret: one signed request, refused, and the account stops.
      const bad = await redeploy(flowFor(account, { hostnames: 'nas.home.test' }), {
        acc: { tsigSecret: Buffer.alloc(32, 7).toString('base64') },
      });
      const r4 = await bad.input({ payload: { ipv4: '203.0.113.9' } });
      assert.ok(r4.error);
      assert.equal(results(bad.out[0])[0].stopped, true, results(bad.out[0])[0].message);
      assert.deepEqual(bind.dig('nas.home.test', 'A'), ['203.0.113.8']);
    } finally {
      await bind.stop();
    }
  },
);

test(
  'public-ip-watch → dns-update: an address change reaches the record once',
  { skip: hasPublicIpWatch ? false : 'public-ip-watch is not built' },
  async () => {
    srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST] });
    let address = '203.0.113.7';
    const ipService: TestServer = await startServer((_req, res) => text(res, `${address}\n`));
    try {
      const { account, credentials } = dyndnsAccount();
      const watch = {
        id: 'w',
        type: 'public-ip-watch',
        families: 'ipv4',
        sources: [{ type: 'custom', url: `${ipService.url}/ip`, format: 'text' }],
        allowNonPublic: true,
        emitOnStart: true,
        interval: 300,
        timeout: 2,
        hedge: 0,
        alertAfter: 3,
        wires: [['u'], []],
      };
      const h = await load(flowFor(account, {}, [watch]), credentials);
      await waitFor(() => h.out.length === 1, 10_000, 10, 'the first update');
      assert.deepEqual(
        results(h.out[0]).map((r) => r.status),
        ['updated'],
      );
      assert.equal(srv.record(HOST)?.ipv4, '203.0.113.7');

      helper.getNode('w').receive({ payload: 'check' }); // same address: public-ip-watch sends nothing
      await waitFor(() => ipService.requests.length === 2, 10_000, 10, 'the second check');
      address = '203.0.113.8';
      helper.getNode('w').receive({ payload: 'check' });
      await waitFor(() => h.out.length === 2, 10_000, 10, 'the change');
      assert.deepEqual(
        results(h.out[1]).map((r) => `${r.address}:${r.status}`),
        ['203.0.113.8:updated'],
      );
      assert.equal(srv.record(HOST)?.ipv4, '203.0.113.8');
      assert.equal(srv.requests.length, 2, 'one request per change');
      assertNoSecret(h, PASSWORD);
    } finally {
      await ipService.close();
    }
  },
);

/**
 * A real Node-RED (its own process, a file context store) with inject (once) → dns-update → an
 * HTTP post of each result to a recorder. `run()` starts it, waits for `results` posts in all, and
 * stops it; the user directory is kept between runs (a restart).
 */
async function restartRig() {
  const posted: Msg[] = [];
  const recorder = await startServer((req, res) => {
    posted.push(JSON.parse(req.body));
    text(res, 'ok');
  });
  const userDir = mkdtempSync(join(tmpdir(), 'ddns-restart-'));
  const settings = { contextStorage: { default: { module: 'localfilesystem' } } };
  const flows = [
    { id: 't1', type: 'tab', label: 'ddns' },
    {
      id: 'acc',
      type: 'ddns-account',
      name: 'Home',
      provider: 'dyndns2',
      settings: { endpoint: srv.url, username: 'alice' },
      credentials: { password: PASSWORD },
    },
    {
      id: 'inj',
      type: 'inject',
      z: 't1',
      name: '',
      props: [{ p: 'payload' }],
      repeat: '',
      crontab: '',
      once: true,
      onceDelay: 0.1,
      topic: '',
      payload: '{"ipv4":"203.0.113.7","ipv6":null}',
      payloadType: 'json',
      wires: [['u']],
    },
    {
      id: 'u',
      type: 'dns-update',
      z: 't1',
      name: '',
      account: 'acc',
      hostnames: HOST,
      families: 'auto',
      minInterval: 60,
      contextStore: '',
      alertAfter: 3,
      wires: [['post'], []],
    },
    httpPostNode('post', 't1', `${recorder.url}/result`),
  ];
  let log = '';
  let deployed = false;
  return {
    posted,
    userDir,
    log: () => log,
    async run(results: number): Promise<void> {
      const nr = await startNodeRed({ userDir, settings });
      try {
        if (!deployed) await deployFull(nr, flows);
        deployed = true;
        await waitFor(() => posted.length === results, 20_000, 25, `result ${results}`);
      } finally {
        log += nr.log();
        await nr.stop();
      }
    },
    async close(): Promise<void> {
      await recorder.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

test('a real Node-RED restart with a file context store sends nothing; secrets stay in the credentials', async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST] });
  const rig = await restartRig();
  const { posted } = rig;
  try {
    await rig.run(1);
    assert.equal(posted[0].ok, true);
    assert.equal(posted[0].results[0].status, 'updated');
    assert.equal(srv.requests.length, 1);
    assert.equal(srv.record(HOST)?.ipv4, '203.0.113.7');

    await rig.run(2);
    assert.equal(posted[1].results[0].status, 'unchanged');
    assert.equal(srv.requests.length, 1, 'nothing sent after the restart');

    const flowFile = readFileSync(join(rig.userDir, 'flows.json'), 'utf8');
    assert.ok(!flowFile.includes(PASSWORD), 'the password is not in flows.json');
    assert.ok(!rig.log().includes(PASSWORD), 'the password is not in the log');
    assert.ok(!JSON.stringify(posted).includes(PASSWORD));
  } finally {
    await rig.close();
  }
});

test("a real Node-RED restart keeps a provider's wait (911): the update after the restart sends nothing", async () => {
  srv = await startDyndns2({ flavour: 'generic', users: { alice: PASSWORD }, hosts: [HOST] });
  srv.answerNext(['911']);
  const rig = await restartRig();
  const { posted } = rig;
  try {
    await rig.run(1);
    assert.equal(posted[0].results[0].status, 'failed');
    assert.equal(posted[0].results[0].reason, '911');
    assert.equal(srv.requests.length, 1);

    await rig.run(2);
    assert.equal(posted[1].results[0].status, 'skipped', JSON.stringify(posted[1]));
    assert.equal(posted[1].results[0].reason, 'retry-pending');
    assert.equal(posted[1].results[0].nextRetryAt, posted[0].results[0].nextRetryAt);
    assert.equal(srv.requests.length, 1, 'no request inside the wait after the restart');
  } finally {
    await rig.close();
  }
});
