/**
 * The check loop: change detection against the stored addresses, the initial message, force,
 * independent families, consecutive-failure alerts, backoff and interval floor, stop(); hint
 * checks of the local sources (router, interface) and their combination with outside services.
 *
 * Real detector and real sources (ipify with its endpoints pointed at loopback servers that answer
 * like api.ipify.org: the address as plain text, https://www.ipify.org/; the router source asking
 * a loopback NAT-PMP server that answers like a router, RFC 6886 §3.2:
 * https://www.rfc-editor.org/rfc/rfc6886#section-3.2).
 */
import { after, test } from '../support/suite';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type os from 'node:os';
import { closeHttpPools } from '../../src/core/http';
import { detect, detectRound, type DetectorOptions } from '../../src/core/ip/detector';
import { buildSource, interfaceSource } from '../../src/core/ip/sources';
import type { IpSource } from '../../src/core/ip/types';
import { ipWatchPayloadSchema } from '../../src/core/ip/payload';
import {
  IpWatcher,
  MIN_INTERVAL_MS,
  type CheckResult,
  type DetectFn,
  type KnownAddresses,
  type WatcherOptions,
} from '../../src/core/ip/watcher';
import type { StateStore as Store } from '../../src/core/store';
type StateStore = Store<KnownAddresses>;
import { startServer, text, type TestServer } from '../support/http-server';

after(closeHttpPools);

/** The store the node keeps in its context, here in memory (what a persistent context store does across restarts). */
class MemoryStore implements StateStore {
  saves = 0;
  constructor(public value: unknown = undefined) {}
  async load() {
    return this.value === undefined ? undefined : structuredClone(this.value);
  }
  async save(v: KnownAddresses) {
    this.saves++;
    this.value = structuredClone(v);
  }
}

/** A what's-my-IP service whose answer the test sets (an address, or an HTTP status). */
async function ipService(host = '127.0.0.1') {
  const state = { answer: '8.8.8.8' as string, status: 200, hang: false, delayMs: 0 };
  const srv = await startServer(async (_req, res) => {
    if (state.hang) return; // never answers
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    text(res, state.status === 200 ? `${state.answer}\n` : 'oops', state.status);
  }, host);
  return { srv, state };
}

/**
 * A home router's NAT-PMP server on loopback (RFC 6886 §3.2): the 2-byte request (version 0,
 * opcode 0) gets the 12-byte answer (version 0, opcode 128, result, epoch, external address).
 * `result: 3` is "network failure", what a router without a public address says.
 */
async function natpmpRouter() {
  const state = { address: '8.8.8.8', result: 0 };
  const s = dgram.createSocket('udp4');
  let queries = 0;
  s.on('message', (m, from) => {
    if (m.length !== 2 || m[0] !== 0 || m[1] !== 0) return;
    queries++;
    const b = Buffer.alloc(12);
    b[1] = 128;
    b.writeUInt16BE(state.result, 2);
    b.writeUInt32BE(1000, 4);
    state.address.split('.').forEach((o, i) => (b[8 + i] = Number(o)));
    s.send(b, from.port, from.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return {
    state,
    port: s.address().port,
    get queries() {
      return queries;
    },
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

/** The router source as the node builds it (its config), asking the loopback router. */
function routerAt(port: number): IpSource {
  return buildSource({ type: 'router', gateway: '127.0.0.1', natpmpPort: port });
}

/** The detect function public-ip-watch uses: local sources answer, outside ones confirm. */
function roundWith(sources: IpSource[], o: Partial<DetectorOptions> = {}): DetectFn {
  return (family, signal, scope) =>
    detectRound(family, { sources, policy: 'first', timeoutMs: 3000, hedgeMs: 1000, signal, scope, ...o });
}

const nic = (address: string, family: 'IPv4' | 'IPv6' = 'IPv4'): os.NetworkInterfaceInfo =>
  ({
    address,
    netmask: family === 'IPv4' ? '255.255.255.0' : 'ffff:ffff:ffff:ffff::',
    family,
    mac: '02:00:00:00:00:01',
    internal: false,
    cidr: null,
    scopeid: 0,
  }) as os.NetworkInterfaceInfo;

function ipify(v4?: TestServer, v6?: TestServer): IpSource {
  return buildSource({ type: 'ipify', urlV4: v4?.url, urlV6: v6?.url });
}

function detectWith(sources: IpSource[], timeoutMs = 3000): DetectFn {
  return (family, signal) => detect(family, { sources, policy: 'first', timeoutMs, hedgeMs: 1000, signal });
}

/** A watcher that records every finished check and warning. */
function watcher(o: Partial<WatcherOptions> & Pick<WatcherOptions, 'detect'>) {
  const checked: CheckResult[] = [];
  const warnings: string[] = [];
  const w = new IpWatcher({
    families: 'ipv4',
    store: new MemoryStore(),
    random: () => 0,
    ...o,
    events: { checked: (r) => checked.push(r), warning: (m) => warnings.push(m) },
  });
  return { w, checked, warnings };
}

async function until<T>(cond: () => T, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('watcher: first address is a change, then only real changes are reported and stored', async () => {
  const { srv, state } = await ipService();
  const store = new MemoryStore();
  const { w, checked } = watcher({ detect: detectWith([ipify(srv)]), store });
  try {
    w.start();
    await until(() => checked.length === 1, 'the start check');
    const first = checked[0];
    assert.equal(first.origin, 'start');
    assert.deepEqual(first.change?.changed, ['ipv4']);
    assert.equal(first.change?.ipv4, '8.8.8.8');
    assert.equal(first.change?.ipv6, null, 'a family that is not tracked is null');
    assert.deepEqual(first.change?.previous, { ipv4: null, ipv6: null });
    assert.equal(first.change?.initial, undefined, 'emitOnStart is off');
    assert.deepEqual(first.change?.sources.ipv4?.agreedBy, ['ipify']);
    assert.ok(first.change?.checkedAt);
    assert.ok(ipWatchPayloadSchema.safeParse(first.change).success, 'the payload fits the schema its readers use');
    assert.deepEqual(store.value, { ipv4: '8.8.8.8', ipv6: null });

    const same = await w.checkNow();
    assert.equal(same.change, undefined, 'unchanged: nothing to send');
    assert.equal(store.saves, 1, 'unchanged addresses are not written again');

    const forced = await w.checkNow({ force: true });
    assert.deepEqual(forced.change?.changed, [], 'force re-sends an unchanged address');
    assert.equal(forced.change?.ipv4, '8.8.8.8');

    state.answer = '8.8.4.4';
    const moved = await w.checkNow();
    assert.deepEqual(moved.change?.changed, ['ipv4']);
    assert.deepEqual(moved.change?.previous, { ipv4: '8.8.8.8', ipv6: null });
    assert.equal(moved.change?.ipv4, '8.8.4.4');
    assert.deepEqual(store.value, { ipv4: '8.8.4.4', ipv6: null });
    assert.equal(checked.length, 4, 'input checks are reported to listeners as well');
  } finally {
    await w.stop();
    await srv.close();
  }
});

test('watcher: a restart that finds the stored address is not a change; emitOnStart sends it once as initial', async () => {
  const { srv, state } = await ipService();
  try {
    // Without emitOnStart: nothing at all.
    const quiet = watcher({
      detect: detectWith([ipify(srv)]),
      store: new MemoryStore({ ipv4: '8.8.8.8', ipv6: null }),
    });
    quiet.w.start();
    await until(() => quiet.checked.length === 1, 'the start check');
    assert.equal(quiet.checked[0].change, undefined);
    await quiet.w.stop();

    // With emitOnStart: one message, marked initial, changed [].
    const loud = watcher({
      detect: detectWith([ipify(srv)]),
      store: new MemoryStore({ ipv4: '8.8.8.8', ipv6: null }),
      emitOnStart: true,
    });
    loud.w.start();
    await until(() => loud.checked.length === 1, 'the start check');
    assert.deepEqual(loud.checked[0].change?.changed, []);
    assert.equal(loud.checked[0].change?.initial, true);
    assert.deepEqual(loud.checked[0].change?.previous, { ipv4: '8.8.8.8', ipv6: null });
    const again = await loud.w.checkNow();
    assert.equal(again.change, undefined, 'initial is sent only once');
    await loud.w.stop();

    // A restart that finds another address: a change, still marked initial.
    state.answer = '8.8.4.4';
    const moved = watcher({
      detect: detectWith([ipify(srv)]),
      store: new MemoryStore({ ipv4: '8.8.8.8', ipv6: null }),
      emitOnStart: true,
    });
    moved.w.start();
    await until(() => moved.checked.length === 1, 'the start check');
    assert.deepEqual(moved.checked[0].change?.changed, ['ipv4']);
    assert.equal(moved.checked[0].change?.initial, true);
    await moved.w.stop();

    // Garbage in the store is ignored with a warning, not a crash.
    const junk = watcher({ detect: detectWith([ipify(srv)]), store: new MemoryStore('not an object') });
    junk.w.start();
    await until(() => junk.checked.length === 1, 'the start check');
    assert.deepEqual(junk.checked[0].change?.changed, ['ipv4']);
    assert.match(junk.warnings.join('\n'), /not readable/);
    await junk.w.stop();
  } finally {
    await srv.close();
  }
});

test('watcher: IPv4 and IPv6 are tracked independently', async () => {
  const v4 = await ipService('127.0.0.1');
  const v6 = await ipService('::1');
  v6.state.answer = '2001:4860:4860::8888';
  const { w, checked } = watcher({ families: 'both', detect: detectWith([ipify(v4.srv, v6.srv)]) });
  try {
    w.start();
    await until(() => checked.length === 1, 'the start check');
    assert.deepEqual(checked[0].change?.changed, ['ipv4', 'ipv6']);
    assert.equal(checked[0].change?.ipv6, '2001:4860:4860::8888');
    assert.equal(v4.srv.requests.length, 1, 'the IPv4 lookup went to the IPv4 endpoint');
    assert.equal(v6.srv.requests.length, 1, 'the IPv6 lookup went to the IPv6 endpoint');
    assert.equal(v6.srv.requests[0].remoteAddress, '::1', 'over IPv6');

    v6.state.status = 503;
    const half = await w.checkNow();
    assert.equal(half.change, undefined, 'a failing family is not a change');
    assert.match(half.errors.ipv6 ?? '', /503/);
    assert.equal(half.errors.ipv4, undefined);
    assert.deepEqual(
      half.known,
      { ipv4: '8.8.8.8', ipv6: '2001:4860:4860::8888' },
      'the last known IPv6 address is kept',
    );

    v4.state.answer = '8.8.4.4';
    const moved = await w.checkNow();
    assert.deepEqual(moved.change?.changed, ['ipv4']);
    assert.equal(moved.change?.ipv4, '8.8.4.4');
    assert.equal(moved.change?.ipv6, null, 'not found in this check');
    assert.deepEqual(moved.change?.previous, { ipv4: '8.8.8.8', ipv6: '2001:4860:4860::8888' });
  } finally {
    await w.stop();
    await v4.srv.close();
    await v6.srv.close();
  }
});

test('watcher: one alert after N consecutive failures, one when it recovers', async () => {
  const { srv, state } = await ipService();
  state.status = 500;
  const { w } = watcher({ detect: detectWith([ipify(srv)]), alertAfter: 3 });
  try {
    const r1 = await w.checkNow();
    const r2 = await w.checkNow();
    assert.deepEqual([r1.alerts, r2.alerts], [[], []]);
    assert.equal(r2.failures.ipv4, 2);
    const r3 = await w.checkNow();
    assert.equal(r3.alerts.length, 1);
    assert.equal(r3.alerts[0].state, 'failing');
    assert.equal(r3.alerts[0].family, 'ipv4');
    assert.equal(r3.alerts[0].failures, 3);
    assert.match(r3.alerts[0].error ?? '', /HTTP 500/);
    assert.equal(r3.alerts[0].since, r1.checkedAt);
    const r4 = await w.checkNow();
    assert.deepEqual(r4.alerts, [], 'exactly one failing alert');
    state.status = 200;
    const ok = await w.checkNow();
    assert.equal(ok.alerts.length, 1);
    assert.deepEqual(ok.alerts[0], {
      state: 'recovered',
      family: 'ipv4',
      failures: 4,
      error: null,
      since: r1.checkedAt,
    });
    assert.deepEqual(ok.change?.changed, ['ipv4']);
    const ok2 = await w.checkNow();
    assert.deepEqual(ok2.alerts, [], 'exactly one recovered alert');
    // Fewer failures than N and then success: no alert at all.
    state.status = 500;
    await w.checkNow();
    state.status = 200;
    assert.deepEqual((await w.checkNow()).alerts, []);
  } finally {
    await w.stop();
    await srv.close();
  }
});

test('watcher: interval floor of 30 s, jitter, backoff after failures capped at the interval', async () => {
  const { srv, state } = await ipService();
  try {
    // A user-supplied interval below 30 s is raised to 30 s.
    const short = watcher({ detect: detectWith([ipify(srv)]), intervalMs: 1000, random: () => 0 });
    const r = await short.w.checkNow();
    assert.equal(r.nextCheckInMs, MIN_INTERVAL_MS);
    await short.w.stop();

    // Default interval: 5 minutes ± 10 %.
    const def = watcher({ detect: detectWith([ipify(srv)]), random: () => 0 });
    assert.equal((await def.w.checkNow()).nextCheckInMs, 270_000);
    await def.w.stop();

    // Backoff: 30 s, 60 s, 120 s, 240 s, then the interval (300 s).
    state.status = 500;
    const back = watcher({ detect: detectWith([ipify(srv)]) });
    const delays: Array<number | undefined> = [];
    for (let i = 0; i < 6; i++) delays.push((await back.w.checkNow()).nextCheckInMs);
    assert.deepEqual(delays, [30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
    state.status = 200;
    assert.equal((await back.w.checkNow()).nextCheckInMs, 270_000, 'back to the interval after success');
    await back.w.stop();
  } finally {
    await srv.close();
  }
});

test('watcher: the timer runs checks by itself (test-only short interval) and checks never overlap', async () => {
  const { srv, state } = await ipService();
  const { w, checked } = watcher({ detect: detectWith([ipify(srv)]), intervalMs: 40, testOnly: { minIntervalMs: 20 } });
  try {
    w.start();
    await until(() => checked.filter((c) => c.origin === 'timer').length >= 2, 'two timer checks');
    state.answer = '8.8.4.4';
    await until(() => checked.some((c) => c.change?.ipv4 === '8.8.4.4'), 'the change found by the timer');
    // Two checks asked for at once run one after the other: the change is reported once.
    state.answer = '9.9.9.9';
    const [a, b] = await Promise.all([w.checkNow(), w.checkNow()]);
    assert.equal([a, b].filter((r) => r.change).length, 1);
  } finally {
    await w.stop();
    await srv.close();
  }
  const n = checked.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(checked.length, n, 'no check after stop()');
});

test('watcher: stop() aborts a running check and leaves nothing behind', async () => {
  const { srv, state } = await ipService();
  state.hang = true;
  const { w, checked } = watcher({ detect: detectWith([ipify(srv)], 60_000) });
  try {
    w.start();
    const pending = w.checkNow(); // queued behind the start check
    await until(() => srv.requests.length === 1, 'the lookup to start');
    assert.equal(w.busy, true);
    await w.stop();
    assert.equal(w.busy, false);
    const r = await pending;
    assert.equal(r.aborted, true);
    assert.equal(r.change, undefined);
    assert.equal(checked.length, 0, 'an aborted check is not reported');
    assert.equal((await w.checkNow()).aborted, true, 'a stopped watcher does not check any more');
  } finally {
    await srv.close();
  }
  // The test file finishing (the process exiting) shows that no timer or socket was left.
});

test('watcher: a store that cannot save is a warning, detection goes on', async () => {
  const { srv } = await ipService();
  const store: StateStore = {
    load: async () => undefined,
    save: async () => {
      throw new Error('disk full');
    },
  };
  const { w, warnings } = watcher({ detect: detectWith([ipify(srv)]), store });
  try {
    const r = await w.checkNow();
    assert.deepEqual(r.change?.changed, ['ipv4']);
    assert.match(warnings.join('\n'), /could not save the last known addresses: disk full/);
    assert.equal((await w.checkNow()).change, undefined, 'remembered in memory');
  } finally {
    await w.stop();
    await srv.close();
  }
});

test('watcher + router: the router answers, outside services confirm, a disagreement is reported', async () => {
  const router = await natpmpRouter();
  const { srv, state } = await ipService();
  const { w, checked } = watcher({ detect: roundWith([routerAt(router.port), ipify(srv)]) });
  try {
    w.start();
    await until(() => checked.length === 1, 'the start check');
    const first = checked[0].change!;
    assert.equal(first.ipv4, '8.8.8.8');
    assert.deepEqual(first.sources.ipv4?.agreedBy, ['router']);
    assert.deepEqual(first.sources.ipv4?.confirmedBy, ['ipify'], 'the outside service saw the same address');
    assert.equal(first.wanAddress, '8.8.8.8', "the router's WAN address");
    assert.equal(first.disagreement, undefined);
    assert.deepEqual(
      first.sources.ipv4?.reports.map((r) => [r.source, r.ok]),
      [
        ['router', true],
        ['ipify', true],
      ],
    );
    assert.equal(checked[0].nextCheckInMs, 270_000);

    // A hint (router announcement): the router alone is asked, nothing leaves the network.
    router.state.address = '8.8.4.4';
    const h = await w.hint(['ipv4']);
    assert.equal(h.origin, 'hint');
    assert.deepEqual(h.change?.changed, ['ipv4']);
    assert.equal(h.change?.ipv4, '8.8.4.4');
    assert.deepEqual(h.change?.previous, { ipv4: '8.8.8.8', ipv6: null });
    assert.equal(h.nextCheckInMs, undefined, 'a hint check leaves the timer alone');
    assert.equal(srv.requests.length, 1, 'no request to the outside service');
    assert.equal((await w.hint(['ipv4'])).change, undefined, 'the same answer again is no change');
    assert.equal(srv.requests.length, 1);

    // The regular check: the outside service still sees 8.8.8.8 — reported, never hidden.
    const full = await w.checkNow();
    assert.equal(srv.requests.length, 2);
    assert.equal(full.change, undefined, 'the router still says 8.8.4.4: no change');
    const d = full.detections.ipv4!;
    assert.equal(d.address, '8.8.4.4', "the router's answer is used");
    assert.deepEqual(
      { ...d.disagreement!, note: '' },
      {
        local: { address: '8.8.4.4', sources: ['router'] },
        outside: { address: '8.8.8.8', sources: ['ipify'] },
        note: '',
      },
    );
    assert.match(
      d.disagreement!.note,
      /^Home router \(127\.0\.0\.1\) says the public IPv4 address is 8\.8\.4\.4, but outside services \(ipify\) see 8\.8\.8\.8\. 8\.8\.4\.4 is used\./,
    );
    const forced = await w.checkNow({ force: true });
    assert.equal(forced.change?.disagreement?.family, 'ipv4');
    assert.equal(forced.change?.sources.ipv4?.disagreement?.outside.address, '8.8.8.8');
    assert.equal(forced.change?.sources.ipv4?.confirmedBy, undefined);

    state.answer = '8.8.4.4';
    const agreed = await w.checkNow({ force: true });
    assert.equal(agreed.change?.disagreement, undefined);
    assert.deepEqual(agreed.change?.sources.ipv4?.confirmedBy, ['ipify']);
  } finally {
    await w.stop();
    await srv.close();
    await router.close();
  }
});

test('watcher + router: hint checks never postpone the regular check, never overlap it, and join while waiting', async () => {
  const router = await natpmpRouter();
  const { srv, state } = await ipService();
  const { w, checked } = watcher({
    detect: roundWith([routerAt(router.port), ipify(srv)]),
    intervalMs: 300,
    testOnly: { minIntervalMs: 100 },
  });
  try {
    w.start();
    await until(() => checked.length === 1, 'the start check');
    // Hints every 40 ms (a chatty router) must not push the regular check away.
    const started = Date.now();
    while (!checked.some((c) => c.origin === 'timer')) {
      await w.hint(['ipv4']);
      await new Promise((r) => setTimeout(r, 40));
      assert.ok(Date.now() - started < 5000, 'the regular check came while hints kept arriving');
    }
    await w.stop();

    // Hints arriving while a (slow) full check runs wait for it, and join into one hint check.
    const w2 = watcher({ detect: roundWith([routerAt(router.port), ipify(srv)]) });
    state.delayMs = 200;
    const q0 = router.queries;
    const full = w2.w.checkNow();
    await until(
      () => w2.w.busy && router.queries > q0,
      'the full check to ask the router (the outside service is slow)',
    );
    const before = router.queries;
    const [a, b, c] = [w2.w.hint(['ipv4']), w2.w.hint(['ipv4']), w2.w.hint(['ipv4', 'ipv6'])];
    assert.equal(a, b, 'a waiting hint check is joined');
    assert.equal(a, c);
    const [rf, ra] = await Promise.all([full, a]);
    assert.equal(rf.origin, 'input');
    assert.equal(ra.origin, 'hint');
    assert.deepEqual(ra.families, ['ipv4'], 'only tracked families');
    assert.ok(Date.parse(ra.checkedAt) >= Date.parse(rf.checkedAt));
    assert.equal(router.queries - before, 1, 'three hints, one router query (the full check had asked before)');
    assert.deepEqual(
      w2.checked.map((x) => x.origin),
      ['input', 'hint'],
    );
    await w2.w.stop();
    assert.equal((await w2.w.hint(['ipv4'])).aborted, true, 'no hint check after stop()');
  } finally {
    await w.stop();
    await srv.close();
    await router.close();
  }
});

test('watcher + router: "no public address" is CGNAT evidence; hint checks without a local answer are no failure', async () => {
  const router = await natpmpRouter();
  const { srv } = await ipService();
  router.state.result = 3; // NAT-PMP "network failure": the router has no public address
  const { w } = watcher({ detect: roundWith([routerAt(router.port), ipify(srv)]), alertAfter: 1 });
  try {
    const h = await w.hint(['ipv4']);
    assert.deepEqual(h.errors, {}, 'not a failure');
    assert.match(h.unanswered.ipv4 ?? '', /no public address/);
    assert.equal(h.failures.ipv4, 0);
    assert.deepEqual(h.alerts, []);
    assert.equal(srv.requests.length, 0);

    const r = await w.checkNow();
    const c = r.change!;
    assert.equal(c.ipv4, '8.8.8.8', 'the outside services carry on');
    assert.deepEqual(c.sources.ipv4?.agreedBy, ['ipify']);
    assert.equal(c.wanAddress, undefined, 'NAT-PMP result 3 names no address');
    assert.deepEqual(
      { ...c.cgnat!, note: '' },
      { family: 'ipv4', localAddress: '', localClass: 'none', publicAddress: '8.8.8.8', note: '' },
    );
    assert.match(
      c.cgnat!.note,
      /Your router \(127\.0\.0\.1\) says it has no public IPv4 address \(NAT-PMP result 3 \(network failure\)\), while outside services see 8\.8\.8\.8.*carrier-grade NAT/,
    );
    assert.equal(r.detections.ipv4?.router?.outcome, 'no_public');

    // A router that reports a CGNAT address: that is its WAN address (for reachability-check).
    router.state.result = 0;
    router.state.address = '100.64.7.7';
    const again = await w.checkNow({ force: true });
    assert.equal(again.change?.wanAddress, '100.64.7.7');
    assert.equal(again.change?.cgnat?.localAddress, '100.64.7.7');
    assert.equal(again.change?.cgnat?.localClass, 'cgnat');
  } finally {
    await w.stop();
    await srv.close();
    await router.close();
  }
});

test('watcher + interface: a private interface lets the outside answer through (CGNAT hint); IPv6 privacy addresses confirm', async () => {
  const v4 = await ipService('127.0.0.1');
  const v6 = await ipService('::1');
  const addrs = { eth0: [nic('192.168.1.20'), nic('2001:4860:4860::8888', 'IPv6')] };
  const eth0 = interfaceSource({ interface: 'eth0', readers: { interfaces: () => addrs, if6Flags: async () => null } });
  v6.state.answer = '2001:4860:4860::1234:5678'; // what a temporary (privacy) address of the same /64 looks like outside
  const { w } = watcher({ families: 'both', detect: roundWith([eth0, ipify(v4.srv, v6.srv)]) });
  try {
    const r = await w.checkNow();
    assert.equal(r.change?.ipv4, '8.8.8.8');
    assert.deepEqual(r.change?.sources.ipv4?.agreedBy, ['ipify']);
    assert.equal(r.change?.cgnat?.localClass, 'private');
    assert.equal(r.change?.cgnat?.family, 'ipv4');
    assert.equal(r.change?.ipv6, '2001:4860:4860::8888', 'the stable interface address');
    assert.deepEqual(r.change?.sources.ipv6?.confirmedBy, ['ipify'], 'the same /64 network confirms');
    assert.equal(r.change?.disagreement, undefined);
    // A hint about IPv6 asks the interface only.
    const n = v6.srv.requests.length + v4.srv.requests.length;
    addrs.eth0[1] = nic('2001:4860:4860::9999', 'IPv6');
    const h = await w.hint(['ipv6']);
    assert.deepEqual(h.change?.changed, ['ipv6']);
    assert.equal(h.change?.ipv4, null, 'IPv4 was not looked up');
    assert.equal(v6.srv.requests.length + v4.srv.requests.length, n);
    // Another network outside: a disagreement.
    v6.state.answer = '2a00:1450:4001::1';
    const d = await w.checkNow();
    assert.equal(d.detections.ipv6?.disagreement?.outside.address, '2a00:1450:4001::1');
    assert.equal(d.detections.ipv6?.address, '2001:4860:4860::9999');
  } finally {
    await w.stop();
    await v4.srv.close();
    await v6.srv.close();
  }
});

test('detectRound: without local sources or without outside ones it is detect(); a local scope with no local source says so', async () => {
  const { srv } = await ipService();
  try {
    const signal = new AbortController().signal;
    const opts = { sources: [ipify(srv)], policy: 'first' as const, timeoutMs: 3000, signal };
    const plain = await detect('ipv4', opts);
    const full = await detectRound('ipv4', { ...opts, scope: 'full' });
    assert.deepEqual({ ...full, reports: [] }, { ...plain, reports: [] });
    const local = await detectRound('ipv4', { ...opts, scope: 'local' });
    assert.equal(local.address, null);
    assert.match(local.error ?? '', /None of the chosen sources on this network/);
    assert.equal(srv.requests.length, 2, 'detect and the full round asked; the local scope asked no outside service');
  } finally {
    await srv.close();
  }
});
