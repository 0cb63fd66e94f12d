/**
 * reachability-check in the real Node-RED runtime (node-red-node-test-helper): debounce and
 * transition alerts, timeouts, the CGNAT diagnosis from given addresses, invalid configuration and
 * input, the external check URL from the credentials, DNS checks and the propagation wait against
 * real named (updated midway with nsupdate), and the interval timer cleared on close.
 * Public resolvers are never asked: DNS checks are pointed at local named instances or disabled.
 * Catch, Status and Complete are Node-RED's own core nodes.
 */
import { after, afterEach, before, test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { closeHttpPools } from '../../src/core/http';
import { json, startServer } from '../support/http-server';
import { freePort } from '../support/ports';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { helper, loadFlow, NODE_RED_PATH, nodeModule, unloadFlow, waitFor } from '../support/node-red';

import { observe, observerNodes, type Msg, type Observed } from '../support/observer';

before(async () => {
  await helper.startServer();
});
afterEach(unloadFlow);
after(async () => {
  await helper.stopServer();
  await closeHttpPools();
});

type Harness = Observed;

/** DNS checks off by default (the defaults would ask the public resolvers); tests turn on what they use. */
const QUIET = {
  dnsAuthoritative: false,
  dnsPublic: false,
  dnsSystem: false,
  natDiagnosis: false,
  timeout: 2,
  alertAfter: 2,
};

async function load(config: Msg, credentials: Msg = {}): Promise<Harness> {
  // Flow nodes need x/y (otherwise the runtime treats them as config nodes) and ids unlike their types.
  const at = { z: 'f1', x: 100, y: 100 };
  const flow = [
    { id: 'f1', type: 'tab', label: 'reach' },
    { id: 'w', type: 'reachability-check', ...at, name: 'reach', ...QUIET, ...config, wires: [['out'], ['alerts']] },
    ...observerNodes('w', at),
  ];
  await loadFlow(nodeModule('reachability-check'), flow, { w: credentials });
  return observe('w', 20_000);
}

const lastStatus = (h: Harness) => h.lastStatus();

async function listenOn(port: number): Promise<net.Server> {
  const s = net.createServer((sock) => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
  return s;
}
const closeServer = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

/** An HTTP server on loopback that accepts connections and never answers; `close` hangs up on them. */
async function silentServer(): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const silent = http.createServer(() => undefined);
  const sockets = new Set<net.Socket>();
  silent.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  return {
    port: (silent.address() as net.AddressInfo).port,
    sockets,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return closeServer(silent);
    },
  };
}

test('reachability-check: alerts only on transitions, after N failed runs in a row; one recovered', async () => {
  const port = await freePort();
  let server: net.Server | null = await listenOn(port);
  try {
    const h = await load({ names: '127.0.0.1', tcpPorts: String(port), alertAfter: 2, topic: 'home' });
    await h.input();
    assert.equal(h.out.length, 1);
    const first = h.out[0];
    assert.equal(first.topic, 'home');
    assert.equal(first.payload.ok, true);
    assert.deepEqual(
      first.payload.checks.map((c: Msg) => [c.kind, c.target, c.ok]),
      [['tcp', `127.0.0.1:${port}`, true]],
    );
    assert.equal(typeof first.payload.checks[0].ms, 'number');
    assert.equal(first.payload.diagnosis.summary, 'all 1 check passed');
    assert.equal(first.payload.diagnosis.nat, null);
    assert.equal(first.tag !== undefined, true, 'the incoming msg is reused');
    assert.equal(lastStatus(h)?.fill, 'green');
    assert.match(lastStatus(h)!.text, /^ok · 1 check · \d\d:\d\d$/);

    await closeServer(server);
    server = null;
    await h.input();
    assert.equal(h.out[1].payload.ok, false);
    assert.match(h.out[1].payload.checks[0].detail, /refused/);
    assert.equal(h.alerts.length, 0, 'one failure is not yet "down"');
    assert.equal(h.caught.length, 0);
    assert.equal(lastStatus(h)?.fill, 'yellow');
    assert.match(lastStatus(h)!.text, /^1 of 1 failed · \d\d:\d\d$/);

    await h.input();
    assert.equal(h.alerts.length, 1);
    const down = h.alerts[0];
    assert.equal(down.topic, 'home');
    assert.equal(down.payload.state, 'down');
    assert.equal(down.payload.failures, 2);
    assert.equal(down.payload.failed.length, 1);
    assert.match(down.payload.summary, /^1 of 1 check failed/);
    assert.equal(typeof down.payload.since, 'string');
    assert.equal(h.caught.length, 1, 'the transition to down is reported once as an error');
    assert.match(h.caught[0].error.message, /not reachable: 1 of 1 check failed/);
    assert.equal(lastStatus(h)?.fill, 'red');
    assert.match(lastStatus(h)!.text, /^down: 127\.0\.0\.1:\d+ · \d\d:\d\d$/);

    for (let i = 0; i < 3; i++) await h.input();
    assert.equal(h.alerts.length, 1, 'no storm while down');
    assert.equal(h.caught.length, 1);
    assert.equal(h.out.length, 6);

    server = await listenOn(port);
    await h.input();
    assert.equal(h.alerts.length, 2);
    assert.equal(h.alerts[1].payload.state, 'recovered');
    assert.equal(h.alerts[1].payload.ok, true);
    assert.equal(h.alerts[1].payload.since, down.payload.since);
    assert.equal(lastStatus(h)?.fill, 'green');
    await h.input();
    assert.equal(h.alerts.length, 2);
  } finally {
    if (server) await closeServer(server);
  }
});

test('reachability-check: a service that accepts but never answers times out within the configured timeout', async () => {
  const { port, close } = await silentServer();
  try {
    const h = await load({ httpUrls: `http://127.0.0.1:${port}/`, timeout: 0.3 });
    await h.input();
    const c = h.out[0].payload.checks[0];
    assert.equal(c.kind, 'http');
    assert.equal(c.ok, false);
    assert.match(c.detail, /no answer within 300 ms/);
    assert.equal(c.data.code, 'timeout');
    assert.ok(h.out[0].payload.diagnosis.notes.some((n: string) => /hairpin NAT/.test(n)));
  } finally {
    await close();
  }
});

test('reachability-check: CGNAT diagnosis from the addresses in the msg (public-ip-watch payload)', async () => {
  const h = await load({ natDiagnosis: true });
  await h.input({ payload: { ipv4: '203.0.113.7', ipv6: null, changed: ['ipv4'] }, wanAddress: '100.64.12.34' });
  const p = h.out[0].payload;
  assert.equal(p.ok, false);
  assert.equal(p.diagnosis.nat.verdict, 'cgnat');
  assert.equal(p.diagnosis.nat.publicIpv4, '203.0.113.7');
  assert.equal(p.diagnosis.nat.wanAddress, '100.64.12.34');
  assert.match(p.diagnosis.nat.advice.join(' '), /public IPv4 address.*IPv6.*Cloudflare Tunnel/s);
  assert.deepEqual(
    p.checks.map((c: Msg) => [c.kind, c.ok]),
    [['nat', false]],
  );
  // public-ip-watch's own CGNAT hint counts as the WAN address
  await h.input({
    payload: {
      ipv4: '203.0.113.7',
      ipv6: null,
      cgnat: { localAddress: '100.100.1.1', localClass: 'cgnat', family: 'ipv4' },
    },
  });
  assert.equal(h.out[1].payload.diagnosis.nat.wanAddress, '100.100.1.1');
  // the router said it has no public address without naming one (NAT-PMP result 3)
  await h.input({
    payload: {
      ipv4: '203.0.113.7',
      ipv6: null,
      cgnat: { localAddress: '', localClass: 'none', family: 'ipv4', publicAddress: '203.0.113.7' },
    },
  });
  assert.equal(h.out[2].payload.diagnosis.nat.verdict, 'cgnat');
  assert.equal(h.out[2].payload.ok, false);
  // a configured WAN address: double NAT
  await unloadFlow();
  const d = await load({ natDiagnosis: true, wanAddress: '192.168.1.2', expectedIpv4: '203.0.113.7' });
  await d.input();
  assert.equal(d.out[0].payload.diagnosis.nat.verdict, 'double-nat');
  assert.equal(
    d.out[0].payload.ok,
    true,
    'double NAT can work with forwards on both routers: a warning, not a failure',
  );
  assert.match(d.out[0].payload.checks[0].warning, /forward/);
  assert.equal(lastStatus(d)?.fill, 'yellow');
});

test('reachability-check: each LAN name of dns-update is checked over IPv6 at its own AAAA; closed on v6, open on v4 is said plainly', async () => {
  // the port answers on 127.0.0.1 only: IPv4 forwarded, IPv6 blocked (::1 stands for the LAN host's AAAA)
  const port = await freePort();
  const server = await listenOn(port);
  try {
    const h = await load({ tcpPorts: String(port) });
    // what dns-update sends after `nas@mac(…)` and `printer@::1234` got their records
    const results = [
      { hostname: 'nas.home.test', family: 'ipv4', status: 'updated', address: '127.0.0.1' },
      { hostname: 'nas.home.test', family: 'ipv6', status: 'updated', address: '::1' },
      { hostname: 'printer.home.test', family: 'ipv4', status: 'unchanged', address: '127.0.0.1' },
      { hostname: 'printer.home.test', family: 'ipv6', status: 'updated', address: '::1' },
    ];
    await h.input({ payload: { ok: true, results } });
    assert.equal(h.out.length, 1);
    const out = h.out[0].payload;
    assert.deepEqual(
      out.checks.map((c: Msg) => [c.target, c.ok, c.data.address]),
      [
        [`nas.home.test:${port} (IPv4)`, true, '127.0.0.1'],
        [`nas.home.test:${port} (IPv6)`, false, '::1'],
        [`printer.home.test:${port} (IPv4)`, true, '127.0.0.1'],
        [`printer.home.test:${port} (IPv6)`, false, '::1'],
      ],
    );
    for (const name of ['nas.home.test', 'printer.home.test'])
      assert.ok(
        out.diagnosis.notes.some((n: string) =>
          n.startsWith(
            `${name} port ${port} answers over IPv4 but not over IPv6 (::1): the router's firewall most likely blocks incoming IPv6 connections to this host`,
          ),
        ),
        name,
      );
    assert.ok(!out.diagnosis.notes.some((n: string) => /hairpin/.test(n)), 'not a hairpin NAT matter');
    assert.equal(lastStatus(h)?.fill, 'yellow');
    assert.match(lastStatus(h)!.text, /^2 of 4 failed/);
  } finally {
    await closeServer(server);
  }
});

test('reachability-check: invalid input is a clear error with a red status, and nothing is checked', async () => {
  const port = await freePort();
  const h = await load({ tcpPorts: String(port), names: '127.0.0.1' });
  const cases: Array<[Msg, RegExp]> = [
    [{ payload: { ipv4: 'not-an-ip' } }, /msg\.payload\.ipv4: "not-an-ip" is not an IP address/],
    [{ payload: { ipv4: '2001:db8::1' } }, /2001:db8::1 is not an IPv4 address/],
    [
      { payload: { results: [{ hostname: 'bad name!', family: 'ipv4', address: '203.0.113.1', status: 'updated' }] } },
      /"bad name!" is not a valid host name/,
    ],
    [{ payload: { results: 'x' } }, /msg\.payload\.results must be a list/],
    [{ payload: {}, wanAddress: 'router' }, /msg\.wanAddress: "router" is not an IP address/],
    [{ payload: { ipv4: 42 } }, /msg\.payload\.ipv4 must be an IP address \(text\) or null/],
    [{ hostname: 42 }, /msg\.hostname must be a name or a list of names/],
  ];
  for (const [msg, reason] of cases) {
    const before = h.caught.length;
    await h.input(msg);
    assert.equal(h.caught.length, before + 1);
    assert.match(h.caught.at(-1)!.error.message, reason);
    assert.equal(lastStatus(h)?.fill, 'red');
    assert.match(lastStatus(h)!.text, /^invalid input: /);
  }
  assert.equal(h.out.length, 0);
});

test('reachability-check: any msg starts a run, with or without a payload (an inject node setting other properties)', async () => {
  const port = await freePort();
  const server = await listenOn(port);
  try {
    // The names come from msg.hostname; the expected addresses from the configuration.
    const h = await load({ tcpPorts: String(port) });
    const triggers: Msg[] = [
      { hostname: '127.0.0.1' },
      { hostname: ['127.0.0.1'], payload: undefined },
      { hostname: '127.0.0.1', payload: null },
      { hostname: '127.0.0.1', payload: '' },
      { hostname: '127.0.0.1', payload: Date.now() },
      { hostname: '127.0.0.1', payload: true },
    ];
    for (const [i, msg] of triggers.entries()) {
      await h.input(msg);
      assert.equal(h.caught.length, 0, `msg ${i} was refused: ${h.caught[0]?.error?.message}`);
      assert.equal(h.out.length, i + 1);
      assert.equal(h.out[i].payload.ok, true);
      assert.deepEqual(
        h.out[i].payload.checks.map((c: Msg) => [c.kind, c.target]),
        [['tcp', `127.0.0.1:${port}`]],
      );
    }
    // Node-RED's own inject node that sets only msg.hostname (no payload property at all).
    const at = { z: 'f1', x: 100, y: 100 };
    await unloadFlow();
    const flow = [
      { id: 'f1', type: 'tab', label: 'reach' },
      {
        id: 'inj',
        type: 'inject',
        ...at,
        props: [{ p: 'hostname', v: '127.0.0.1', vt: 'str' }],
        repeat: '',
        once: false,
        wires: [['w']],
      },
      { id: 'w', type: 'reachability-check', ...at, ...QUIET, tcpPorts: String(port), wires: [['out'], ['alerts']] },
      ...observerNodes('w', at),
    ];
    // Node-RED's inject node, from the Node-RED under test (the helper loads only Catch, Status and Complete).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const inject = require(require.resolve('@node-red/nodes/core/common/20-inject.js', { paths: [NODE_RED_PATH] }));
    await loadFlow([nodeModule('reachability-check'), inject], flow);
    const g = observe('w');
    helper.getNode('inj').receive({});
    await waitFor(() => g.out.length + g.caught.length > 0, 10_000, 10, 'the run started by the inject node');
    assert.equal(g.caught.length, 0, g.caught[0]?.error?.message);
    assert.equal(g.out[0].payload.ok, true);
    assert.equal(g.out[0].hostname, '127.0.0.1');
  } finally {
    await closeServer(server);
  }
});

test('reachability-check: host names from msg, global context or an environment variable (TypedInput, issue 15)', async () => {
  const port = await freePort();
  const server = await listenOn(port);
  process.env.DDNS_TEST_REACH_NAMES = '127.0.0.1';
  try {
    const targets = (m: Msg) => m.payload.checks.map((c: Msg) => c.target);
    let h = await load({ tcpPorts: String(port), names: 'topic', namesType: 'msg' });
    await h.input({ topic: '127.0.0.1' });
    assert.equal(h.caught.length, 0, h.caught[0]?.error?.message);
    assert.deepEqual(targets(h.out[0]), [`127.0.0.1:${port}`]);
    await h.input({ topic: 42 });
    assert.match(String(h.caught[0]?.error?.message), /msg\.topic must hold host names/);
    await unloadFlow();

    h = await load({ tcpPorts: String(port), names: 'DDNS_TEST_REACH_NAMES', namesType: 'env' });
    await h.input({});
    assert.deepEqual(targets(h.out[0]), [`127.0.0.1:${port}`]);
    await unloadFlow();

    h = await load({ tcpPorts: String(port), names: 'reachNames', namesType: 'global' });
    helper.getNode('w').context().global.set('reachNames', ['127.0.0.1']);
    await h.input({});
    assert.deepEqual(targets(h.out[0]), [`127.0.0.1:${port}`]);
  } finally {
    delete process.env.DDNS_TEST_REACH_NAMES;
    await closeServer(server);
  }
});

test('reachability-check: an invalid configuration shows a red status and an error; every msg gets it', async () => {
  const cases: Array<[Msg, RegExp]> = [
    [{ names: 'ok.example.com', tcpPorts: '22, 70000' }, /"70000" is not a port number/],
    [{ names: 'bad_name!.example.com', tcpPorts: '22' }, /is not a valid host name/],
    [{ httpUrls: 'ftp://example.com/' }, /only http:\/\/ and https:\/\/ URLs/],
    [{ httpUrls: 'https://example.com/', httpStatus: 'fine' }, /"fine" is not an HTTP status/],
    [{ natDiagnosis: true, wanAddress: '2001:db8::1' }, /WAN address must be an IPv4 address/],
    [
      { interval: 10, names: 'ok.example.com', tcpPorts: '22' },
      /interval must be 0 \(input only\) or at least 30 seconds/,
    ],
    [
      { publicResolvers: 'dns.google', dnsPublic: true, names: 'ok.example.com' },
      /public resolvers: "dns.google" is not an IP address/,
    ],
  ];
  for (const [config, reason] of cases) {
    const h = await load(config);
    await h.input();
    assert.match(h.caught[0].error.message, reason);
    assert.equal(lastStatus(h)?.fill, 'red');
    assert.equal(lastStatus(h)?.text, 'invalid configuration');
    const errors = helper.log().args.filter((a: Msg[]) => a[0].level === helper.log().ERROR && a[0].id === 'w');
    assert.ok(errors.length >= 1, 'node.error was called');
    assert.match(String(errors[0][0].msg), reason);
    await unloadFlow();
  }
  // Nothing to check, or an interval without names: the configuration cannot work.
  const empty = await load({});
  await empty.input();
  assert.match(empty.caught[0].error.message, /nothing to check/);
  await unloadFlow();
  const nameless = await load({ dnsAuthoritative: true, dnsPublic: false, interval: 60 });
  await nameless.input();
  assert.match(nameless.caught[0].error.message, /enter the host names/);
});

test('reachability-check: the external check URL comes from the credentials; tokens are hidden in the report', async () => {
  const outside = await startServer((req, res) =>
    json(
      res,
      req.query.get('token') === 's3cr3t-token' ? { ok: true, message: 'port 443 open from outside' } : { ok: false },
    ),
  );
  try {
    const h = await load({}, { externalUrl: `${outside.url}/check?token=s3cr3t-token` });
    await h.input();
    const c = h.out[0].payload.checks[0];
    assert.equal(c.kind, 'external');
    assert.equal(c.ok, true);
    assert.match(c.detail, /port 443 open from outside/);
    assert.doesNotMatch(JSON.stringify(h.out[0].payload), /s3cr3t-token/);
    assert.equal(outside.requests.length, 1);
  } finally {
    await outside.close();
  }
});

test('reachability-check: interval runs on its own; closing the node clears the timer and cancels the run', async () => {
  const port = await freePort();
  const server = await listenOn(port);
  try {
    const h = await load({ names: '127.0.0.1', tcpPorts: String(port), interval: 30 });
    await waitFor(() => h.out.length === 1, 10_000, 20, 'the first run after deploy');
    assert.equal(h.out[0].payload.ok, true);
    assert.equal(h.out[0].topic, 'reachability');
    await unloadFlow();
    // If the interval or the first-run timer were left behind, this file would never finish.
  } finally {
    await closeServer(server);
  }
});

test('reachability-check: closing the node during a run cancels it; nothing is sent afterwards', async () => {
  const { port, sockets, close } = await silentServer();
  try {
    const h = await load({ httpUrls: `http://127.0.0.1:${port}/`, timeout: 60 });
    helper.getNode('w').receive({ payload: 'go' });
    await waitFor(() => sockets.size === 1, 5000, 10, 'the HTTP check to connect');
    await unloadFlow();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.out.length + h.alerts.length + h.caught.length, 0, 'a cancelled run reports nothing');
    await waitFor(
      () => [...sockets].every((s) => s.destroyed || s.readyState === 'closed'),
      5000,
      10,
      'the check to hang up',
    );
  } finally {
    await close();
  }
});

// ------------------------------------------------------------------------------- with real named
function nsupdate(b: BindServer, lines: string[]): Promise<void> {
  const k = b.keys.sha256;
  return new Promise((resolve, reject) => {
    const child = spawn('nsupdate', ['-y', `${k.algorithm}:${k.name}:${k.secret}`], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nsupdate exited ${code}: ${err}`))));
    child.stdin.end([`server 127.0.0.1 ${b.port}`, 'zone home.test', ...lines, 'send', ''].join('\n'));
  });
}

test(
  'reachability-check: DNS checks against real named, dns-update results, stale server, propagation wait',
  { skip: skipWithoutBind() },
  async () => {
    const fresh = await startBind([
      { name: 'home.test', records: ['www 60 IN A 192.0.2.20', 'nas 60 IN A 192.0.2.30'] },
    ]);
    const stale = await startBind([
      { name: 'home.test', records: ['www 60 IN A 192.0.2.10', 'nas 60 IN A 192.0.2.30'] },
    ]);
    try {
      const servers = `127.0.0.1:${fresh.port}, 127.0.0.1:${stale.port}`;
      const h = await load({
        dnsAuthoritative: true,
        dnsPublic: true,
        publicResolvers: `127.0.0.1:${fresh.port}`,
        authServers: servers,
        propagationWait: 10,
      });
      // dns-update says www was updated to .20 and nas is unchanged at .30; names come from the results
      const results = [
        { hostname: 'www.home.test', family: 'ipv4', address: '192.0.2.20', status: 'updated', message: 'good' },
        { hostname: 'nas.home.test', family: 'ipv4', address: '192.0.2.30', status: 'unchanged', message: 'nochg' },
      ];
      setTimeout(
        () => void nsupdate(stale, ['update delete www.home.test A', 'update add www.home.test 60 A 192.0.2.20']),
        400,
      );
      await h.input({ payload: { ok: true, results } });
      const p = h.out[0].payload;
      assert.equal(p.propagation.length, 1);
      assert.equal(p.propagation[0].name, 'www.home.test');
      assert.equal(p.propagation[0].ok, true);
      assert.ok(p.propagation[0].ms >= 300, `propagation took ${p.propagation[0].ms} ms`);
      assert.equal(p.ok, true, JSON.stringify(p.checks));
      assert.deepEqual(
        p.checks.map((c: Msg) => [c.kind, c.target.split(' @ ')[0], c.ok]),
        [
          ['dns-authoritative', 'www.home.test A', true],
          ['dns-authoritative', 'www.home.test A', true],
          ['dns-public', 'www.home.test A', true],
          ['dns-authoritative', 'nas.home.test A', true],
          ['dns-authoritative', 'nas.home.test A', true],
          ['dns-public', 'nas.home.test A', true],
        ],
      );
      assert.equal(p.checks[0].data.ttl, 60);

      // A newer address reaches only one server: without a wait (status unchanged) the other is stale.
      await nsupdate(fresh, ['update delete www.home.test A', 'update add www.home.test 60 A 192.0.2.21']);
      await h.input({
        payload: {
          results: [{ hostname: 'www.home.test', family: 'ipv4', address: '192.0.2.21', status: 'unchanged' }],
        },
      });
      const q = h.out[1].payload;
      assert.equal(q.ok, false);
      assert.equal(q.propagation, undefined);
      const staleCheck = q.checks.find((c: Msg) => c.data.server === `127.0.0.1:${stale.port}`);
      assert.equal(staleCheck.data.stale, true);
      assert.match(staleCheck.detail, /stale: answers 192\.0\.2\.20, expected 192\.0\.2\.21/);
      assert.ok(q.diagnosis.notes.some((n: string) => /authoritative server still answers an old value/.test(n)));
    } finally {
      await fresh.stop();
      await stale.stop();
    }
  },
);
