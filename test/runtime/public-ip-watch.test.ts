/**
 * public-ip-watch in the real Node-RED runtime (node-red-node-test-helper), with its sources
 * pointed at loopback servers that answer like the real services:
 * - ipify / icanhazip / AWS checkip: the address as plain text (https://www.ipify.org/,
 *   https://major.io/icanhazip-com-faq/, https://checkip.amazonaws.com/).
 * - the home router: a NAT-PMP server on a loopback address, port 5351, answering the external
 *   address request and sending change announcements like a router (RFC 6886 §3.2 and §3.2.1,
 *   https://www.rfc-editor.org/rfc/rfc6886#section-3.2); the announcements go to the port the
 *   node is told to listen on instead of 224.0.0.1:5350. (A real router: test/router/.)
 * - a home router's built-in DDNS client pushing to the router-push endpoint: plain GET requests as
 *   the dyndns2 protocol sends them (https://help.dyn.com/remote-access-api/perform-update/:
 *   `/nic/update?hostname=…&myip=…` with Basic auth; answers `good`/`nochg`/`badauth`/`911`,
 *   https://help.dyn.com/remote-access-api/return-codes/) and as a Fritz!Box fills its custom update
 *   URL (placeholders `<ipaddr>`, `<ip6addr>`, `<ip6lanprefix>`, `<pass>`, nothing escaped: AVM's
 *   knowledge base "Setting up dynamic DNS in the FRITZ!Box"). The endpoint lives on Node-RED's
 *   httpNode, which the test helper does not serve: a loopback server hands every request to it.
 * Catch, Status and Complete are Node-RED's own core nodes.
 */
import { after, afterEach, before, test } from '../support/suite';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttpPools } from '../../src/core/http';
import { startServer, text, type TestServer } from '../support/http-server';
import { helper, loadFlow, nodeModule, unloadFlow, waitFor } from '../support/node-red';
import { routerSocketOnLoopback } from '../support/ports';

import { observe, publicIpWatchFlow, type Msg, type Observed } from '../support/observer';

/** One loopback server; each path is one "service" whose answer a test sets. */
let srv: TestServer;
const answers = new Map<string, (res: ServerResponse) => void>();
const say =
  (body: string, status = 200) =>
  (res: ServerResponse) =>
    text(res, body, status);

/** Node-RED's httpNode of the loaded flow (the helper makes a new one per load). */
let httpNode: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
const captureHttpNode = (RED: { httpNode: typeof httpNode }) => {
  httpNode = RED.httpNode;
};
/** The front door to httpNode, where the "router" sends its pushes. */
let front: http.Server;

before(async () => {
  srv = await startServer((req, res) => {
    const a = answers.get(req.path);
    if (!a) return text(res, 'not found', 404);
    a(res);
  });
  front = http.createServer((req, res) => (httpNode ? httpNode(req, res) : res.writeHead(503).end()));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  await helper.startServer();
});
afterEach(async () => {
  await unloadFlow();
  answers.clear();
});
after(async () => {
  await helper.stopServer();
  await new Promise<void>((r) => front.close(() => r()));
  await srv.close();
  await closeHttpPools();
});

type Harness = Observed;

/** A flow with one public-ip-watch (id `w`, short timeouts) and Node-RED's catch/status/complete nodes watching it. */
const flowFor = (config: Msg, extraFlow: Msg[] = []): Msg[] =>
  publicIpWatchFlow({ timeout: 2, hedge: 0.3, ...config }, extraFlow);

async function load(config: Msg, extraFlow: Msg[] = [], credentials: Msg = {}): Promise<Harness> {
  await loadFlow([nodeModule('public-ip-watch'), captureHttpNode], flowFor(config, extraFlow), credentials);
  return attach();
}

/** A full redeploy of the flow: every node is closed and created again (node context stays). */
async function redeploy(config: Msg): Promise<Harness> {
  await (helper as unknown as { setFlows(f: object[], t: string): Promise<void> }).setFlows(flowFor(config), 'full');
  return attach();
}

function attach(): Harness {
  return observe('w');
}

const url = (path: string) => `${srv.url}${path}`;
const lastStatus = (h: Harness) => h.lastStatus();
/** What node w logged at a level (helper.log().WARN, …). */
const logged = (level: number): string[] =>
  helper
    .log()
    .args.filter((a: Msg[]) => a[0].level === level && a[0].id === 'w')
    .map((a: Msg[]) => String(a[0].msg));

/** A free UDP port on 127.0.0.1. */
const freeUdpPort = () =>
  new Promise<number>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

/**
 * A home router on a random loopback address (so that parallel runs do not compete for port
 * 5351): NAT-PMP external address answers from port 5351, and `announce()` sends the change
 * announcement (the same 12-byte answer, epoch 0) to the node's announcement port. Null when the
 * port is taken on this machine.
 */
async function loopbackRouter() {
  const bound = await routerSocketOnLoopback();
  if (!bound) return null;
  const { gateway, socket: s } = bound;
  const state = { address: '8.8.8.8', result: 0, epoch: 5000 };
  const answer = () => {
    const b = Buffer.alloc(12);
    b[1] = 128;
    b.writeUInt16BE(state.result, 2);
    b.writeUInt32BE(state.epoch, 4);
    state.address.split('.').forEach((o, i) => (b[8 + i] = Number(o)));
    return b;
  };
  let queries = 0;
  s.on('message', (m, from) => {
    if (m.length !== 2 || m[0] !== 0 || m[1] !== 0) return;
    queries++;
    s.send(answer(), from.port, from.address);
  });
  const announcePort = await freeUdpPort();
  return {
    gateway,
    state,
    announcePort,
    get queries() {
      return queries;
    },
    /** The node's source settings for this router (no safety poll: only announcements). */
    source: (extra: Msg = {}) => ({
      type: 'router',
      gateway,
      announcePort: String(announcePort),
      announceGroup: '127.0.0.1',
      safetyPoll: '0',
      ...extra,
    }),
    /** The address changed: the epoch starts again, the router multicasts the answer (RFC 6886 §3.2.1). */
    announce: () => {
      state.epoch = 0;
      return new Promise<void>((r) => s.send(answer(), announcePort, '127.0.0.1', () => r()));
    },
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

test('public-ip-watch: the first address is sent, unchanged addresses are not, force and real changes are', async () => {
  answers.set('/ip', say('8.8.8.8\n'));
  const h = await load({ sources: [{ type: 'ipify', urlV4: url('/ip') }], topic: 'wan' });
  await waitFor(() => h.out.length === 1, 10_000, 10, 'the first address');
  const first = h.out[0];
  assert.equal(first.topic, 'wan');
  assert.equal(first.payload.ipv4, '8.8.8.8');
  assert.equal(first.payload.ipv6, null);
  assert.deepEqual(first.payload.previous, { ipv4: null, ipv6: null });
  assert.deepEqual(first.payload.changed, ['ipv4']);
  assert.deepEqual(first.payload.sources.ipv4.agreedBy, ['ipify']);
  assert.equal(first.payload.sources.ipv4.reports[0].ok, true);
  assert.equal(typeof first.payload.checkedAt, 'string');
  await waitFor(() => lastStatus(h)?.fill === 'green', 5000, 10, 'a green status');
  assert.equal(lastStatus(h)?.shape, 'dot');
  assert.match(lastStatus(h)!.text, /^v4 8\.8\.8\.8 · \d\d:\d\d$/);

  // Any input msg checks at once; unchanged → nothing on output 1.
  await h.input();
  assert.ok(
    h.statuses.some((s) => s.status.fill === 'blue' && s.status.shape === 'ring'),
    'a "checking" status while running',
  );
  assert.equal(h.out.length, 1);
  assert.equal(srv.requests.filter((r) => r.path === '/ip').length, 2);

  // msg.force re-sends the unchanged address, on the input msg itself.
  await h.input({ payload: 'again', force: true, extra: 42 });
  assert.equal(h.out.length, 2);
  assert.deepEqual(h.out[1].payload.changed, []);
  assert.equal(h.out[1].payload.ipv4, '8.8.8.8');
  assert.equal(h.out[1].extra, 42, 'the triggering msg is carried through');

  answers.set('/ip', say('8.8.4.4'));
  await h.input();
  assert.equal(h.out.length, 3);
  assert.deepEqual(h.out[2].payload.changed, ['ipv4']);
  assert.deepEqual(h.out[2].payload.previous, { ipv4: '8.8.8.8', ipv6: null });
  assert.equal(h.caught.length, 0);
  assert.equal(h.alerts.length, 0);
  assert.deepEqual(helper.getNode('w').context().get('lastAddresses'), { ipv4: '8.8.4.4', ipv6: null });
});

test('public-ip-watch: fallback in order, with every rejected answer explained', async () => {
  answers.set(
    '/html',
    say('<!DOCTYPE html><html><head><title>Captive portal</title></head><body>Log in</body></html>'),
  );
  answers.set('/private', say('192.168.1.10'));
  answers.set('/big', say('8'.repeat(1024 * 1024)));
  answers.set('/error', say('busy', 503));
  answers.set('/silent', () => undefined); // never answers
  answers.set('/v6', say('2001:4860:4860::8888'));
  answers.set('/good', say('8.8.8.8'));
  const sources = [
    { type: 'ipify', urlV4: url('/html') },
    { type: 'icanhazip', urlV4: url('/private') },
    { type: 'aws', urlV4: url('/big') },
    { type: 'cloudflare-trace', urlV4: url('/error') },
    { type: 'ipify', urlV4: url('/silent') },
    { type: 'custom', url: url('/v6'), format: 'text' },
    { type: 'custom', url: url('/good'), format: 'text' },
  ];
  const h = await load({ sources, timeout: 1, hedge: 0.05 });
  await waitFor(() => h.out.length === 1, 15_000, 10, 'the address from the last source');
  const p = h.out[0].payload;
  assert.equal(p.ipv4, '8.8.8.8');
  assert.deepEqual(p.sources.ipv4.agreedBy, ['custom#2']);
  const why = Object.fromEntries(p.sources.ipv4.reports.map((r: Msg) => [r.source, r.error ?? 'ok']));
  assert.match(why['ipify'], /web page/);
  assert.match(why['icanhazip'], /192\.168\.1\.10 is a private address/);
  assert.match(why['aws'], /bytes/);
  assert.match(why['cloudflare-trace'], /HTTP 503/);
  assert.match(why['ipify#2'], /no answer within 1000 ms|did not answer|stopped/);
  assert.match(why['custom'], /IPv6 address where an IPv4 address was expected/);
  assert.equal(why['custom#2'], 'ok');
  assert.equal(h.caught.length, 0, 'a fallback that works is not an error');
});

test('public-ip-watch: bad answers from the only source are errors for Catch, never published', async () => {
  const cases: Array<[string, (res: ServerResponse) => void, RegExp]> = [
    ['html', say('<html><head><title>Router login</title></head></html>'), /web page/],
    ['private', say('10.0.0.1'), /10\.0\.0\.1 is a private address/],
    ['cgnat', say('100.64.1.2'), /carrier-grade NAT/],
    ['megabyte', say('1'.repeat(1024 * 1024)), /bytes/],
    ['silent', () => undefined, /(no answer|did not answer) within 1000 ms/],
    ['wrong-family', say('2001:4860:4860::8888'), /IPv6 address where an IPv4 address was expected/],
  ];
  for (const [name, answer, reason] of cases) {
    answers.set(`/${name}`, answer);
    const h = await load({ sources: [{ type: 'ipify', urlV4: url(`/${name}`) }], timeout: 1 });
    // The start check runs on its own: its error goes to node.error(err, msg) → Catch.
    await waitFor(() => h.caught.length === 1, 10_000, 10, `the ${name} error`);
    assert.match(h.caught[0].error.message, reason, name);
    assert.match(h.caught[0].error.message, /IPv4: /);
    assert.equal(h.caught[0].topic, 'public-ip');
    assert.equal(h.caught[0].payload.failures.ipv4, 1);
    await waitFor(() => lastStatus(h)?.fill === 'red', 5000, 10, 'a red status');
    assert.equal(lastStatus(h)?.shape, 'ring');
    assert.match(lastStatus(h)!.text, /\d\d:\d\d$/);
    // A check started by a msg reports through done(err): Catch sees that msg.
    await h.input({ payload: 'x', mine: name });
    assert.equal(h.caught.length, 2);
    assert.equal(h.caught[1].mine, name);
    assert.match(h.caught[1].error.message, reason);
    assert.equal(h.out.length, 0, `${name}: nothing published`);
    await unloadFlow();
  }
});

test('public-ip-watch: quorum — agreement publishes, disagreement does not', async () => {
  answers.set('/a', say('8.8.8.8'));
  answers.set('/b', say('9.9.9.9'));
  answers.set('/c', say('8.8.8.8'));
  const quorumOfThree = {
    policy: 'quorum',
    quorum: 2,
    sources: [
      { type: 'ipify', urlV4: url('/a') },
      { type: 'icanhazip', urlV4: url('/b') },
      { type: 'aws', urlV4: url('/c') },
    ],
  };
  const agree = await load(quorumOfThree);
  await waitFor(() => agree.out.length === 1, 10_000, 10, 'the agreed address');
  assert.equal(agree.out[0].payload.ipv4, '8.8.8.8');
  assert.deepEqual([...agree.out[0].payload.sources.ipv4.agreedBy].sort(), ['aws', 'ipify']);
  await unloadFlow();

  answers.set('/c', say('1.0.0.1'));
  const disagree = await load(quorumOfThree);
  await waitFor(() => disagree.caught.length === 1, 10_000, 10, 'the disagreement error');
  assert.match(disagree.caught[0].error.message, /did not agree/);
  assert.equal(disagree.out.length, 0);
  await waitFor(() => lastStatus(disagree)?.fill === 'red', 5000, 10, 'a red status');
});

test('public-ip-watch: both families — yellow status when one fails, alerts after N failures and on recovery', async () => {
  answers.set('/v4', say('8.8.8.8'));
  answers.set('/v6', say('down', 500));
  const h = await load({
    families: 'both',
    alertAfter: 2,
    sources: [{ type: 'ipify', urlV4: url('/v4'), urlV6: `http://[::1]:${srv.port}/v6` }],
  });
  await waitFor(() => h.out.length === 1, 10_000, 10, 'the IPv4 address');
  // The server listens on 127.0.0.1 only: the IPv6 lookup must not be answered over IPv4.
  assert.deepEqual(h.out[0].payload.changed, ['ipv4']);
  assert.equal(h.out[0].payload.ipv6, null);
  await waitFor(() => lastStatus(h)?.fill === 'yellow', 5000, 10, 'a yellow status');
  assert.match(lastStatus(h)!.text, /^v4 8\.8\.8\.8 · v6 .+ · \d\d:\d\d$/);
  assert.equal(h.caught.length, 1);
  assert.match(h.caught[0].error.message, /IPv6: /);
  assert.equal(h.alerts.length, 0);

  await h.input();
  assert.equal(h.alerts.length, 1, 'one alert after two failures');
  assert.equal(h.alerts[0].topic, 'public-ip');
  assert.equal(h.alerts[0].payload.state, 'failing');
  assert.equal(h.alerts[0].payload.family, 'ipv6');
  assert.equal(h.alerts[0].payload.failures, 2);
  assert.equal(typeof h.alerts[0].payload.since, 'string');
  await h.input();
  assert.equal(h.alerts.length, 1, 'no alert storm');
  assert.equal(h.out.length, 1);
});

test('public-ip-watch: IPv6 recovery sends one "recovered" alert and the new address', async () => {
  const v6 = await startServer(
    (req, res) => (req.path === '/v6' && v6ok ? text(res, '2001:4860:4860::8888') : text(res, 'down', 500)),
    '::1',
  );
  let v6ok = false;
  try {
    const h = await load({ families: 'ipv6', alertAfter: 1, sources: [{ type: 'icanhazip', urlV6: `${v6.url}/v6` }] });
    await waitFor(() => h.alerts.length === 1, 10_000, 10, 'the failing alert');
    assert.equal(h.alerts[0].payload.state, 'failing');
    v6ok = true;
    await h.input();
    assert.equal(h.alerts.length, 2);
    assert.deepEqual(
      { ...h.alerts[1].payload, since: 'x' },
      { state: 'recovered', family: 'ipv6', failures: 1, error: null, since: 'x' },
    );
    assert.equal(h.out.length, 1);
    assert.equal(h.out[0].payload.ipv6, '2001:4860:4860::8888');
    assert.equal(h.out[0].payload.ipv4, null);
    assert.equal(v6.requests[0].remoteAddress, '::1', 'the IPv6 lookup travelled over IPv6');
  } finally {
    await v6.close();
  }
});

test('public-ip-watch: a redeploy (restart of the node) is not a change', async () => {
  answers.set('/ip', say('8.8.8.8'));
  const config = { sources: [{ type: 'ipify', urlV4: url('/ip') }] };
  const h = await load(config);
  await waitFor(() => h.out.length === 1, 10_000, 10, 'the first address');
  assert.deepEqual(helper.getNode('w').context().get('lastAddresses'), { ipv4: '8.8.8.8', ipv6: null });
  const requests = srv.requests.length;

  // Full redeploy: every node is closed and created again. Without a context store in settings.js
  // (as here) Node-RED drops the node's context on close; the node remembers the addresses for as
  // long as the process runs. (Restarts of Node-RED with a persistent store: started-node-red.test.ts.)
  const h2 = await redeploy(config);
  await waitFor(
    () => srv.requests.length > requests && h2.statuses.length > 0 && lastStatus(h2)?.fill === 'green',
    10_000,
    10,
    'the check after the redeploy',
  );
  assert.equal(h2.out.length, 0, 'the same address after a redeploy is not a change');
  assert.deepEqual(
    helper.getNode('w').context().get('lastAddresses'),
    undefined,
    'Node-RED dropped the context (no store configured)',
  );

  // With "emit on start": one msg, marked initial, nothing changed.
  const h3 = await redeploy({ ...config, emitOnStart: true });
  await waitFor(() => h3.out.length === 1, 10_000, 10, 'the initial msg');
  assert.equal(h3.out[0].payload.initial, true);
  assert.deepEqual(h3.out[0].payload.changed, []);
  assert.deepEqual(h3.out[0].payload.previous, { ipv4: '8.8.8.8', ipv6: null });

  // Another address after a redeploy is a change.
  answers.set('/ip', say('8.8.4.4'));
  const h4 = await redeploy(config);
  await waitFor(() => h4.out.length === 1, 10_000, 10, 'the change');
  assert.deepEqual(h4.out[0].payload.changed, ['ipv4']);
  assert.deepEqual(h4.out[0].payload.previous, { ipv4: '8.8.8.8', ipv6: null });
});

test('public-ip-watch: closing during a running check aborts it and leaves no timer', async () => {
  answers.set('/silent', () => undefined);
  const seen = srv.requests.length;
  const h = await load({ sources: [{ type: 'ipify', urlV4: url('/silent') }], timeout: 60 });
  await waitFor(() => srv.requests.length > seen, 10_000, 10, 'the lookup to start');
  await unloadFlow(); // close handler: stops the watcher, aborts the lookup
  assert.equal(h.out.length + h.caught.length, 0, 'a cancelled check reports nothing');
  // If a timer or socket were left, this test file would never finish (the runner waits for exit).
});

test('public-ip-watch: an invalid configuration shows a red status and an error; the node stays idle', async () => {
  const cases: Array<[Msg, RegExp]> = [
    [{ interval: 10, sources: [{ type: 'ipify' }] }, /interval \(seconds\) must be at least 30/],
    [{ sources: [{ type: 'nonsense' }] }, /source 1 \(type\): is not a known source type/],
    [{ sources: [{ type: 'ipify' }, { type: 'custom', url: 'not a url' }] }, /source 2 \(url\): .*URL/],
    [{ families: 'ipv6', sources: [{ type: 'aws' }] }, /no source in the list can find an IPv6 address/],
    [
      { policy: 'quorum', quorum: 3, sources: [{ type: 'ipify' }, { type: 'aws' }] },
      /quorum 3 is more than the 2 sources/,
    ],
    [{ localAddress: 'eth0' }, /local address/],
    [
      { sources: [{ type: 'router', gateway: 'fritz.box' }] },
      /source 1 \(gateway\): must be the router's IPv4 address/,
    ],
    [
      { sources: [{ type: 'router', gateway: '127.0.0.1', safetyPoll: '2' }] },
      /source 1 \(safetyPoll\): the safety poll must be 0 \(off\) or between 5 and 3600 seconds/,
    ],
    [
      { families: 'ipv6', sources: [{ type: 'router', gateway: '127.0.0.1' }] },
      /no source in the list can find an IPv6 address/,
    ],
    [
      { policy: 'quorum', quorum: 2, sources: [{ type: 'router', gateway: '127.0.0.1' }, { type: 'ipify' }] },
      /quorum 2 is more than the 1 outside services that can confirm the IPv4 address/,
    ],
  ];
  for (const [config, reason] of cases) {
    const h = await load(config);
    // Set while the node is created, before any Status node runs: read from the runtime's spy.
    const calls = helper
      .getNode('w')
      .status.getCalls()
      .filter((c: { thisValue: { id: string } }) => c.thisValue.id === 'w');
    assert.deepEqual(calls.at(-1)?.args[0], {
      fill: 'red',
      shape: 'ring',
      text: 'public-ip-watch.status.invalid-config',
    });
    const errors = helper.log().args.filter((a: Msg[]) => a[0].level === helper.log().ERROR && a[0].id === 'w');
    assert.ok(errors.length >= 1, 'node.error was called');
    assert.match(String(errors[0][0].msg), reason);
    await h.input({ payload: 1 });
    assert.match(h.caught[0].error.message, reason);
    await unloadFlow();
  }
});

test('public-ip-watch: msg.force that is not a boolean is refused with a clear error', async () => {
  answers.set('/ip', say('8.8.8.8'));
  const h = await load({ sources: [{ type: 'ipify', urlV4: url('/ip') }] });
  await waitFor(() => h.out.length === 1, 10_000, 10, 'the first address');
  await h.input({ payload: 1, force: 'yes' });
  assert.match(h.caught[0].error.message, /msg\.force must be true or false/);
});

test('public-ip-watch: the editor gets the source catalog from the admin API', async () => {
  await load({ sources: [{ type: 'ipify', urlV4: url('/ip') }] });
  answers.set('/ip', say('8.8.8.8'));
  const res = await helper.request().get('/ddns/ip-sources').expect(200);
  const types = res.body.catalog.map((e: Msg) => e.type);
  for (const t of [
    'ipify',
    'icanhazip',
    'aws',
    'cloudflare-trace',
    'opendns',
    'google-dns',
    'interface',
    'router',
    'router-push',
    'custom',
  ])
    assert.ok(types.includes(t), t);
  assert.ok(Array.isArray(res.body.defaults) && res.body.defaults.length > 0);
  assert.ok(
    !res.body.defaults.some((d: Msg) => d.type === 'router'),
    'the router is offered, not chosen by default (many routers have UPnP/NAT-PMP off)',
  );
  assert.ok(!res.body.defaults.some((d: Msg) => d.type === 'router-push'), 'a push needs the router set up first');
  assert.equal(res.body.routerSafetyPoll, 30);
});

test('public-ip-watch + router: the router answers first, an announcement is followed at once without any outside request, outside services confirm', async (t) => {
  const router = await loopbackRouter();
  if (!router) return t.skip('port 5351 on a loopback address is in use on this machine');
  try {
    answers.set('/rip', say('8.8.8.8'));
    const h = await load({ sources: [router.source(), { type: 'ipify', urlV4: url('/rip') }] });
    await waitFor(() => h.out.length === 1, 10_000, 10, 'the first address');
    const first = h.out[0].payload;
    assert.equal(first.ipv4, '8.8.8.8');
    assert.deepEqual(first.sources.ipv4.agreedBy, ['router']);
    assert.deepEqual(first.sources.ipv4.confirmedBy, ['ipify'], 'the outside service confirms');
    assert.equal(first.wanAddress, '8.8.8.8', 'the WAN address the router reported (for reachability-check)');
    assert.equal(first.disagreement, undefined);
    await waitFor(() => lastStatus(h)?.fill === 'green', 5000, 10, 'a green status');
    assert.match(lastStatus(h)!.text, /^v4 8\.8\.8\.8 · \d\d:\d\d$/);
    const outside = () => srv.requests.filter((r) => r.path === '/rip').length;
    assert.equal(outside(), 1);

    // The router's address changes and it announces it: the node asks the router (only) at once.
    router.state.address = '8.8.4.4';
    const statuses = h.statuses.length;
    await router.announce();
    await waitFor(() => h.out.length === 2, 10_000, 10, 'the change after the announcement');
    const moved = h.out[1].payload;
    assert.equal(moved.ipv4, '8.8.4.4');
    assert.deepEqual(moved.changed, ['ipv4']);
    assert.deepEqual(moved.previous, { ipv4: '8.8.8.8', ipv6: null });
    assert.deepEqual(moved.sources.ipv4.agreedBy, ['router']);
    assert.equal(
      moved.sources.ipv4.confirmedBy,
      undefined,
      'not confirmed yet: the outside services are asked on their schedule',
    );
    assert.equal(outside(), 1, 'zero requests left the network');
    assert.ok(
      !h.statuses.slice(statuses).some((s) => s.status.fill === 'blue'),
      'no "checking…" flicker for router hints',
    );
    await waitFor(() => /^v4 8\.8\.4\.4 · /.test(lastStatus(h)?.text ?? ''), 5000, 10, 'the new address in the status');

    // The next regular check asks the outside service, which still sees 8.8.8.8: reported, not hidden.
    await h.input();
    assert.equal(outside(), 2);
    assert.equal(h.out.length, 2, 'the router still says 8.8.4.4: no change');
    await waitFor(() => lastStatus(h)?.fill === 'yellow', 5000, 10, 'a yellow status');
    // (the test helper loads no message catalog: the words are the catalog key here)
    assert.match(
      lastStatus(h)!.text,
      /^v4 8\.8\.4\.4 \((outside sees|public-ip-watch\.status\.outside-sees) 8\.8\.8\.8\) · \d\d:\d\d$/,
    );
    const warnings = () => logged(helper.log().WARN).filter((m) => /8\.8\.4\.4/.test(m) && /8\.8\.8\.8/.test(m));
    assert.equal(warnings().length, 1, 'a warning naming both answers');
    assert.match(
      warnings()[0],
      /^IPv4: Home router \(127\.\d+\.\d+\.\d+\) says the public IPv4 address is 8\.8\.4\.4, but outside services \(ipify\) see 8\.8\.8\.8\. 8\.8\.4\.4 is used\./,
    );
    await h.input({ payload: 'again', force: true });
    assert.equal(warnings().length, 1, 'said once while it lasts');
    const d = h.out[2].payload.disagreement;
    assert.deepEqual(
      { ...d, note: '' },
      {
        family: 'ipv4',
        local: { address: '8.8.4.4', sources: ['router'] },
        outside: { address: '8.8.8.8', sources: ['ipify'] },
        note: '',
      },
    );

    answers.set('/rip', say('8.8.4.4'));
    await h.input({ payload: 'agreed', force: true });
    assert.equal(h.out[3].payload.disagreement, undefined);
    assert.deepEqual(h.out[3].payload.sources.ipv4.confirmedBy, ['ipify']);
    await waitFor(() => lastStatus(h)?.fill === 'green', 5000, 10, 'green again');
    assert.equal(h.caught.length, 0);

    // Closing the node closes the announcement listener: the port can be bound without sharing.
    await unloadFlow();
    const probe = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(router.announcePort, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => probe.close(() => r()));
  } finally {
    await router.close();
  }
});

test('public-ip-watch + router: "no public address" from the router is CGNAT evidence in payload.cgnat; the outside answer carries on', async (t) => {
  const router = await loopbackRouter();
  if (!router) return t.skip('port 5351 on a loopback address is in use on this machine');
  try {
    router.state.result = 3; // NAT-PMP "network failure": the router holds no public address
    answers.set('/ip', say('8.8.8.8'));
    const h = await load({ sources: [router.source(), { type: 'ipify', urlV4: url('/ip') }] });
    await waitFor(() => h.out.length === 1, 10_000, 10, 'the address from the outside service');
    const p = h.out[0].payload;
    assert.equal(p.ipv4, '8.8.8.8');
    assert.deepEqual(p.sources.ipv4.agreedBy, ['ipify']);
    assert.equal(p.cgnat.family, 'ipv4');
    assert.equal(p.cgnat.localClass, 'none');
    assert.equal(p.cgnat.publicAddress, '8.8.8.8');
    assert.match(
      p.cgnat.note,
      /Your router \(127\.\d+\.\d+\.\d+\) says it has no public IPv4 address \(NAT-PMP result 3 \(network failure\)\), while outside services see 8\.8\.8\.8\. Your provider probably uses carrier-grade NAT \(CGNAT\)/,
    );
    assert.equal(p.wanAddress, undefined, 'the router named no address');
    await waitFor(() => lastStatus(h)?.fill === 'green', 5000, 10, 'a green status');
    assert.match(lastStatus(h)!.text, /^v4 8\.8\.8\.8 · CGNAT · \d\d:\d\d$/);
    assert.equal(
      logged(helper.log().WARN).filter((m) => /carrier-grade NAT/.test(m)).length,
      1,
      'one warning with the evidence',
    );

    // A router that reports a CGNAT address as its external address: that is its WAN address.
    router.state.result = 0;
    router.state.address = '100.64.7.7';
    await h.input({ payload: 'x', force: true });
    assert.equal(h.out[1].payload.wanAddress, '100.64.7.7');
    assert.equal(h.out[1].payload.cgnat.localAddress, '100.64.7.7');
    assert.equal(h.out[1].payload.cgnat.localClass, 'cgnat');
    assert.equal(h.caught.length, 0);
    await unloadFlow();

    // The router as the only source: an error for Catch, with the evidence beside it.
    router.state.result = 3;
    const alone = await load({ sources: [router.source()] });
    await waitFor(() => alone.caught.length === 1, 10_000, 10, 'the error');
    assert.match(alone.caught[0].error.message, /IPv4: .*says it has no public address.*carrier-grade NAT/);
    assert.match(alone.caught[0].payload.cgnat.note, /carrier-grade NAT/);
    assert.equal(alone.out.length, 0);
  } finally {
    await router.close();
  }
});

// ---- the router pushes (router-push source) --------------------------------------------------------

/** The push token of these tests (a node credential). */
const TOKEN = 'push-token-7f3a9c1e5b';
const creds = { w: { pushToken: TOKEN } };

interface PushAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One GET to the front door, as a router's DDNS client sends it (a new connection each time). */
function routerGet(pathAndQuery: string, basic?: { user: string; password: string }): Promise<PushAnswer> {
  const headers: Record<string, string> = { 'user-agent': 'Fritz!Box DDNS/1.0.1' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic.user}:${basic.password}`).toString('base64')}`;
  const { port } = front.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathAndQuery, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

/** Everything the user can see of node w: log lines, statuses, messages on both outputs, caught errors. */
function visible(h: Harness): string {
  const logs = helper
    .log()
    .args.map((a: Msg[]) => a[0])
    .filter((m: Msg) => m.id === 'w');
  return JSON.stringify([logs, h.statuses, h.out, h.alerts, h.caught]);
}

function assertNoToken(h: Harness): void {
  const seen = visible(h);
  for (const form of [TOKEN, Buffer.from(TOKEN).toString('base64'), Buffer.from(`router:${TOKEN}`).toString('base64')])
    assert.ok(!seen.includes(form), 'the token appears nowhere in logs, status or messages');
}

const pushSource = (path: string) => ({ type: 'router-push', path });
const outsideRequests = (path: string) => srv.requests.filter((r) => r.path === path).length;

test('public-ip-watch + router push (dyndns2): a pushed address moves the output once an outside check confirms it; a forged or malformed push moves nothing', async () => {
  answers.set('/seen', say('8.8.8.8'));
  const h = await load(
    { sources: [pushSource('/home/push'), { type: 'ipify', urlV4: url('/seen') }], topic: 'wan' },
    [],
    creds,
  );
  await waitFor(() => h.out.length === 1, 10_000, 10, 'the first address');
  assert.equal(h.out[0].payload.ipv4, '8.8.8.8');
  const auth = { user: 'router', password: TOKEN };

  // The router's address changes; its DDNS client calls the endpoint. The outside service sees the same.
  answers.set('/seen', say('8.8.4.4'));
  const before = outsideRequests('/seen');
  const r = await routerGet('/home/push/nic/update?hostname=home.example.com&myip=8.8.4.4', auth);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'good 8.8.4.4\n');
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  assert.equal(outsideRequests('/seen'), before + 1, 'one outside check confirmed the push');
  await waitFor(() => h.out.length === 2, 5000, 10, 'the change');
  const moved = h.out[1].payload;
  assert.equal(h.out[1].topic, 'wan');
  assert.equal(moved.ipv4, '8.8.4.4');
  assert.deepEqual(moved.changed, ['ipv4']);
  assert.deepEqual(moved.previous, { ipv4: '8.8.8.8', ipv6: null });
  assert.deepEqual(moved.sources.ipv4.agreedBy, ['router-push', 'ipify']);
  await waitFor(() => /^v4 8\.8\.4\.4 · /.test(lastStatus(h)?.text ?? ''), 5000, 10, 'the new address in the status');

  // The same push again (routers repeat): nochg, without asking anyone, nothing sent.
  const again = await routerGet('/home/push/nic/update?hostname=home.example.com&myip=8.8.4.4', auth);
  assert.equal(again.body, 'nochg 8.8.4.4\n');
  assert.equal(outsideRequests('/seen'), before + 1, 'a push of the known address needs no check');
  // One answer line per host name (dyndns2), at the bare path as well.
  const two = await routerGet('/home/push?hostname=a.example.com,b.example.com&myip=8.8.4.4', auth);
  assert.equal(two.body, 'nochg 8.8.4.4\nnochg 8.8.4.4\n');

  // A push with the right token but an address nobody else sees: not confirmed, nothing moves.
  const forged = await routerGet('/home/push/nic/update?hostname=home.example.com&myip=1.1.1.1', auth);
  assert.equal(forged.status, 200);
  assert.equal(forged.body, '911\n', 'the router is told to try later');
  const warned = () => logged(helper.log().WARN).filter((m) => m.includes('push-unconfirmed'));
  await waitFor(() => warned().length === 1, 5000, 10, 'the warning');
  assert.match(warned()[0], /The router pushed 1\.1\.1\.1, but ipify said 8\.8\.4\.4/);

  // Malformed and non-public addresses: refused before any check.
  const checks = outsideRequests('/seen');
  for (const [query, reason] of [
    ['myip=banana', /dnserr myip: "banana" is not an IP address/],
    ['myip=192.168.178.1', /dnserr myip: 192\.168\.178\.1 is a private address/],
    ['myip=100.64.1.2', /dnserr myip: 100\.64\.1\.2 is a carrier-grade NAT address/],
    ['myip=8.8.4.4,8.8.8.8', /dnserr two different IPv4 addresses/],
    ['hostname=home.example.com', /dnserr no address in the request/],
  ] as const) {
    const bad = await routerGet(`/home/push/nic/update?${query}`, auth);
    assert.equal(bad.status, 400, query);
    assert.match(bad.body, reason);
  }
  assert.equal(outsideRequests('/seen'), checks, 'nothing was checked');
  assert.equal(h.out.length, 2, 'nothing moved');
  assert.equal(h.caught.length, 0, 'a refused push is no error of the node');
  assertNoToken(h);
});

test('public-ip-watch + router push (Fritz!Box URL): IPv4 and the LAN prefix move both families, confirmed by the outside service', async () => {
  let v6answer = '2a00:1450:4001:1::5';
  const v6 = await startServer((req, res) => text(res, v6answer), '::1');
  try {
    answers.set('/v4', say('8.8.8.8'));
    const h = await load(
      {
        families: 'both',
        sources: [pushSource('fritz'), { type: 'ipify', urlV4: url('/v4'), urlV6: `${v6.url}/v6` }],
      },
      [],
      creds,
    );
    await waitFor(() => h.out.length === 1, 10_000, 10, 'the first addresses');
    assert.deepEqual([h.out[0].payload.ipv4, h.out[0].payload.ipv6], ['8.8.8.8', '2a00:1450:4001:1::5']);

    // New IPv4 address and a new delegated prefix: the Fritz!Box fills its placeholders, escapes nothing.
    answers.set('/v4', say('8.8.4.4'));
    v6answer = '2a00:1450:4002:7::5';
    const fritz = (ipaddr: string, ip6addr: string, prefix: string) =>
      routerGet(`/fritz?token=${TOKEN}&ipv4=${ipaddr}&ipv6=${ip6addr}&prefix=${prefix}`);
    // <ip6addr> is the box's own WAN address (another network): the prefix is what is compared.
    const r = await fritz('8.8.4.4', '2a00:1450:4002:ffff::1', '2a00:1450:4002:7::/64');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'good 8.8.4.4,2a00:1450:4002:7::5\n');
    await waitFor(() => h.out.length === 2, 5000, 10, 'the change');
    assert.deepEqual(h.out[1].payload.changed, ['ipv4', 'ipv6']);
    assert.equal(h.out[1].payload.ipv6, '2a00:1450:4002:7::5');
    assert.deepEqual(h.out[1].payload.sources.ipv6.agreedBy, ['router-push', 'ipify']);

    // A box without IPv6 leaves the placeholders empty: only IPv4 counts.
    const v4only = await fritz('8.8.4.4', '', '');
    assert.equal(v4only.body, 'nochg 8.8.4.4\n');
    // A prefix this computer's address is not in: not confirmed, nothing moves.
    const other = await fritz('8.8.4.4', '', '2a00:1450:4003:7::/64');
    assert.equal(other.body, '911\n');
    assert.equal(h.out.length, 2);
    const bad = await fritz('8.8.4.4', '', 'fd00:1::/64');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /^dnserr prefix: fd00:1:: is a unique-local address/);
    assertNoToken(h);
  } finally {
    await v6.close();
  }
});

test('public-ip-watch + router push: a wrong token gets badauth and moves nothing; repeated wrong tokens lock the client out', async () => {
  answers.set('/seen', say('8.8.8.8'));
  const h = await load({ sources: [pushSource('/p'), { type: 'ipify', urlV4: url('/seen') }] }, [], creds);
  await waitFor(() => h.out.length === 1, 10_000, 10, 'the first address');
  answers.set('/seen', say('8.8.4.4'));
  const checks = outsideRequests('/seen');

  // No credentials at all: a Basic challenge (clients that send credentials only when asked), not counted.
  const none = await routerGet('/p/nic/update?myip=8.8.4.4');
  assert.equal(none.status, 401);
  assert.equal(none.body, 'badauth\n');
  assert.match(String(none.headers['www-authenticate']), /^Basic realm=/);

  for (let i = 1; i <= 5; i++) {
    const wrong = await routerGet('/p/nic/update?myip=8.8.4.4', { user: 'router', password: `guess-number-${i}` });
    assert.equal(wrong.status, 401, `wrong token ${i}`);
    assert.equal(wrong.body, 'badauth\n');
  }
  // Locked out: even the right token is refused without being looked at.
  const locked = await routerGet('/p/nic/update?myip=8.8.4.4', { user: 'router', password: TOKEN });
  assert.equal(locked.status, 429);
  assert.equal(locked.body, 'badauth\n');
  assert.equal(locked.headers['retry-after'], '60');
  const viaQuery = await routerGet(`/p?token=${TOKEN}&ipv4=8.8.4.4`);
  assert.equal(viaQuery.status, 429);
  assert.equal(outsideRequests('/seen'), checks, 'no check was made');
  assert.equal(h.out.length, 1, 'nothing moved');
  const warns = logged(helper.log().WARN);
  assert.equal(warns.filter((m) => m.includes('push-badauth')).length, 5, 'each wrong token in the log');
  assert.equal(warns.filter((m) => m.includes('push-locked')).length, 1, 'the lockout said once');
  assertNoToken(h);
});

test('public-ip-watch + router push with the home router: the router (NAT-PMP) confirms, no request leaves the network', async (t) => {
  const router = await loopbackRouter();
  if (!router) return t.skip('port 5351 on a loopback address is in use on this machine');
  try {
    answers.set('/rip', say('8.8.8.8'));
    const h = await load(
      { sources: [pushSource('/r'), router.source(), { type: 'ipify', urlV4: url('/rip') }] },
      [],
      creds,
    );
    await waitFor(() => h.out.length === 1, 10_000, 10, 'the first address');
    const outside = outsideRequests('/rip');
    const queries = router.queries;
    router.state.address = '8.8.4.4'; // no announcement: the push is the news
    const r = await routerGet(`/r/nic/update?myip=8.8.4.4&token=${TOKEN}`);
    assert.equal(r.body, 'good 8.8.4.4\n');
    await waitFor(() => h.out.length === 2, 5000, 10, 'the change');
    assert.deepEqual(h.out[1].payload.sources.ipv4.agreedBy, ['router-push', 'router']);
    assert.equal(router.queries, queries + 1, 'the router was asked once');
    assert.equal(outsideRequests('/rip'), outside, 'zero requests left the network');

    // The router itself says otherwise: its word stands, the push changes nothing.
    const forged = await routerGet(`/r/nic/update?myip=9.9.9.9&token=${TOKEN}`);
    assert.equal(forged.body, '911\n');
    assert.equal(h.out.length, 2);
    assertNoToken(h);
  } finally {
    await router.close();
  }
});

test('public-ip-watch + router push: the path is served while the node runs and answers 404 after close; one path, one node', async () => {
  answers.set('/seen', say('8.8.8.8'));
  const config = { sources: [pushSource('/gone'), { type: 'ipify', urlV4: url('/seen') }] };
  const h = await load(config, [], creds);
  await waitFor(() => h.out.length === 1, 10_000, 10, 'the first address');
  assert.equal((await routerGet(`/gone?ipv4=8.8.8.8&token=${TOKEN}`)).body, 'nochg 8.8.8.8\n');
  assert.ok(
    logged(helper.log().INFO).some((m) => m.includes('push-ready')),
    'the log says where routers can call',
  );
  // Other paths are left to Node-RED (and to http in nodes).
  assert.equal((await routerGet(`/elsewhere?ipv4=8.8.8.8&token=${TOKEN}`)).status, 404);

  // A full redeploy: the old node's route is removed, the new node's added.
  await redeploy(config);
  assert.equal((await routerGet(`/gone/nic/update?myip=8.8.8.8&token=${TOKEN}`)).status, 200);
  await unloadFlow();
  const after = await routerGet(`/gone/nic/update?myip=8.8.8.8&token=${TOKEN}`);
  assert.equal(after.status, 404, 'no route once the node is closed');
  assert.doesNotMatch(after.body, /badauth|good|nochg/);

  // Two nodes, one path: the second says so and stays idle.
  const second = {
    ...flowFor(config)[1],
    id: 'w2',
    wires: [[], []],
  };
  await load(config, [second], { ...creds, w2: { pushToken: TOKEN } });
  const errors = helper
    .log()
    .args.filter((a: Msg[]) => a[0].level === helper.log().ERROR && ['w', 'w2'].includes(a[0].id))
    .map((a: Msg[]) => String(a[0].msg));
  assert.equal(errors.length, 1, 'one of the two is refused');
  assert.match(errors[0], /push-path-taken/);
});

test('public-ip-watch + router push: a configuration that cannot work is refused with the reason', async () => {
  const cases: Array<[Msg, Msg, RegExp]> = [
    [{ sources: [pushSource('/x'), { type: 'ipify' }] }, {}, /push-token-missing/],
    [{ sources: [pushSource('/x'), { type: 'ipify' }] }, { w: { pushToken: 'short' } }, /at least 12 characters/],
    [
      { sources: [pushSource('/x'), { type: 'ipify' }] },
      { w: { pushToken: 'with&ampersand+plus' } },
      /only letters, digits and \. _ ~ -/,
    ],
    [{ sources: [pushSource('/x')] }, creds, /no source in the list can confirm a pushed IPv4 address/],
    [{ sources: [pushSource('/a'), pushSource('/b'), { type: 'ipify' }] }, creds, /one node has one push endpoint/],
    [{ sources: [pushSource('/x/nic/update'), { type: 'ipify' }] }, creds, /leave \/nic\/update out/],
    [{ sources: [pushSource('/x y'), { type: 'ipify' }] }, creds, /must look like \/ddns\/push/],
  ];
  for (const [config, credentials, reason] of cases) {
    const h = await load(config, [], credentials);
    await h.input({ payload: 1 });
    assert.match(h.caught[0].error.message, reason);
    assert.ok(!visible(h).includes('with&ampersand+plus'), 'a refused token is not repeated');
    await unloadFlow();
  }
});
