/**
 * What public-ip-watch shows and says about its checks, free of Node-RED: the status view model,
 * the warnings said once while their cause lasts, the error of a failed check and its payload,
 * the source-list check of the configuration, and push (router announcements on loopback,
 * interface events by polling) turned into hints.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import type os from 'node:os';
import type { Family } from '../../src/core/address';
import type { RoundDetection } from '../../src/core/ip/detector';
import { startPush } from '../../src/core/ip/push';
import { checkFailure, failurePayload, reviewCheck } from '../../src/core/ip/report';
import { sourceListIssues } from '../../src/core/ip/source-list';
import { AddressStatusView, type StatusWord } from '../../src/core/ip/status-view';
import type { CheckResult } from '../../src/core/ip/watcher';
import { WarnOnce } from '../../src/core/warn-once';
import { freePort, routerSocketOnLoopback } from '../support/ports';

const AT = '2024-05-01T10:15:00.000Z';
const time = new Date(AT).toTimeString().slice(0, 5);
const words: Record<StatusWord, string> = {
  failed: 'failed',
  'no-address': 'no address',
  'outside-sees': 'outside sees',
  'router-silent': 'router not answering',
  stable: 'stable; outside sees a temporary one',
  temporary: "temporary: not this host's AAAA",
  unverified: "seen from outside only: not this host's AAAA",
};
const word = (w: StatusWord) => words[w];

const found = (family: Family, address: string | null, more: Partial<RoundDetection> = {}): RoundDetection => ({
  family,
  address,
  agreedBy: address ? ['ipify'] : [],
  reports: [],
  ...more,
});

function check(
  origin: CheckResult['origin'],
  detections: Partial<Record<Family, RoundDetection>>,
  errors: Partial<Record<Family, string>> = {},
): CheckResult {
  const families = Object.keys(detections) as Family[];
  return {
    origin,
    aborted: false,
    checkedAt: AT,
    families,
    detections,
    alerts: [],
    errors,
    unanswered: {},
    failures: Object.fromEntries(families.map((f) => [f, errors[f] ? 1 : 0])),
    known: { ipv4: null, ipv6: null },
  };
}

const ev = (outcome: 'public' | 'no_public' | 'no_answer') => ({
  gateway: '192.168.1.1',
  protocol: null,
  outcome,
  note: 'the router did not answer',
  ms: 1,
  at: AT,
});
const disagreement = {
  local: { address: '8.8.4.4', sources: ['router'] },
  outside: { address: '8.8.8.8', sources: ['ipify'] },
  note: 'the router says 8.8.4.4, outside services see 8.8.8.8',
};

test('status view: green when every family is found, yellow on doubt or one failure, red when all fail', () => {
  const v = new AddressStatusView(['ipv4', 'ipv6']);
  assert.equal(v.update(check('timer', { ipv4: found('ipv4', '192.0.2.1') })), true);
  assert.deepEqual(v.render(AT, word), { fill: 'green', shape: 'dot', text: `v4 192.0.2.1 · v6 … · ${time}` });
  v.update(
    check('timer', { ipv4: found('ipv4', '192.0.2.1'), ipv6: found('ipv6', null) }, { ipv6: 'no source answered' }),
  );
  assert.deepEqual(v.render(AT, word), { fill: 'yellow', shape: 'ring', text: `v4 192.0.2.1 · v6 failed · ${time}` });
  v.update(
    check(
      'timer',
      { ipv4: found('ipv4', null), ipv6: found('ipv6', null) },
      { ipv4: 'every source failed: a rather long reason that is cut short', ipv6: 'x' },
    ),
  );
  const red = v.render(AT, word);
  assert.equal(red.fill, 'red');
  assert.equal(red.text, `every source failed: a rather long reason that … · ${time}`);

  const w = new AddressStatusView(['ipv4']);
  w.update(check('timer', { ipv4: found('ipv4', '8.8.4.4', { disagreement, router: ev('no_public') }) }));
  assert.deepEqual(w.render(AT, word), {
    fill: 'yellow',
    shape: 'ring',
    text: `v4 8.8.4.4 (outside sees 8.8.8.8) · CGNAT · ${time}`,
  });
  // A hint check with the same address keeps what the outside services said; a new address drops it.
  w.update(check('hint', { ipv4: found('ipv4', '8.8.4.4') }));
  assert.match(w.render(AT, word).text, /outside sees 8\.8\.8\.8/);
  assert.equal(
    w.update(check('hint', { ipv4: found('ipv4', null) })),
    false,
    'a hint check that found nothing has nothing new',
  );
  w.update(check('hint', { ipv4: found('ipv4', '8.8.4.5') }));
  assert.deepEqual(w.render(AT, word), { fill: 'green', shape: 'dot', text: `v4 8.8.4.5 · ${time}` });
  w.update(check('timer', { ipv4: found('ipv4', '8.8.4.5', { router: ev('no_answer') }) }));
  assert.deepEqual(w.render(AT, word), {
    fill: 'yellow',
    shape: 'ring',
    text: `v4 8.8.4.5 · router not answering · ${time}`,
  });
});

test('warnings: each said once while its cause lasts, again after the cause was gone; hint checks say nothing', () => {
  const said: string[] = [];
  const latch = new WarnOnce((t) => said.push(t));
  const silent = (a: string) => `The router did not answer, so the address ${a} comes from the outside services.`;
  const doubt = check('timer', { ipv4: found('ipv4', '8.8.4.4', { disagreement }) });
  reviewCheck(doubt, latch, silent);
  reviewCheck(doubt, latch, silent);
  reviewCheck(check('hint', { ipv4: found('ipv4', '8.8.4.4', { disagreement }) }), latch, silent);
  assert.deepEqual(said, [`IPv4: ${disagreement.note}`]);
  reviewCheck(check('timer', { ipv4: found('ipv4', '8.8.8.8') }), latch, silent);
  reviewCheck(doubt, latch, silent);
  assert.equal(said.length, 2, 'said again after the disagreement had ended');

  const router = ev('no_answer');
  const quiet = check('timer', {
    ipv4: found('ipv4', '8.8.8.8', {
      router,
      reports: [
        { source: 'router', family: 'ipv4', ok: false, error: 'no answer from 192.168.1.1 within 2 s', ms: 2000 },
      ],
    }),
  });
  reviewCheck(quiet, latch, silent);
  reviewCheck(quiet, latch, silent);
  assert.equal(said.at(-1), `${silent('8.8.8.8')} No answer from 192.168.1.1 within 2 s`);
  assert.equal(said.length, 3);

  const cgnat = {
    localAddress: '100.64.0.5',
    localClass: 'cgnat',
    publicAddress: '8.8.8.8',
    note: 'carrier-grade NAT: the router holds 100.64.0.5',
  };
  const noPublic = check('timer', {
    ipv4: found('ipv4', '8.8.8.8', { router: { ...router, outcome: 'no_public' }, cgnatSuspected: cgnat }),
  });
  reviewCheck(noPublic, latch, silent);
  reviewCheck(noPublic, latch, silent);
  assert.deepEqual(said.slice(3), [cgnat.note]);
  assert.equal(latch.warn('k', 'a'), true);
  assert.equal(latch.warn('k', 'b'), true, 'a new text under the same key is said');
  assert.equal(latch.warn('k', 'b'), false);
});

test('a failed check: one error naming every failed family, and its payload with the evidence', () => {
  const ok = check('timer', { ipv4: found('ipv4', '8.8.8.8') });
  assert.equal(checkFailure(ok), null);
  const cgnat = { localAddress: '100.64.0.5', localClass: 'cgnat', publicAddress: null, note: 'CGNAT' };
  const r = check(
    'timer',
    { ipv4: found('ipv4', null, { cgnatSuspected: cgnat, wanAddress: '100.64.0.5' }), ipv6: found('ipv6', null) },
    { ipv4: 'no answer', ipv6: 'no route' },
  );
  assert.equal(checkFailure(r)?.message, 'IPv4: no answer; IPv6: no route');
  assert.deepEqual(failurePayload(r), {
    errors: r.errors,
    failures: { ipv4: 1, ipv6: 1 },
    known: r.known,
    checkedAt: AT,
    cgnat: { family: 'ipv4', ...cgnat },
    wanAddress: '100.64.0.5',
  });
});

test('source list: every family needs a source, a quorum needs enough votes (local answers do not vote)', () => {
  assert.deepEqual(sourceListIssues([{ type: 'ipify' }, { type: 'icanhazip' }], ['ipv4', 'ipv6'], 'first', 2), []);
  assert.deepEqual(sourceListIssues([{ type: 'router' }], ['ipv6'], 'first', 2), [
    { path: 'sources', message: 'no source in the list can find an IPv6 address' },
  ]);
  assert.match(
    sourceListIssues([{ type: 'router' }, { type: 'ipify' }], ['ipv4'], 'quorum', 2)[0].message,
    /^quorum 2 is more than the 1 outside services/,
  );
  assert.deepEqual(sourceListIssues([{ type: 'ipify' }, { type: 'icanhazip' }], ['ipv4'], 'quorum', 3), [
    { path: 'quorum', message: 'quorum 3 is more than the 2 sources that can find an IPv4 address' },
  ]);
});

const nic = (address: string, family: 'IPv4' | 'IPv6'): os.NetworkInterfaceInfo =>
  ({
    address,
    netmask: family === 'IPv4' ? '255.255.255.0' : 'ffff:ffff:ffff:ffff::',
    family,
    internal: false,
    mac: '00:00:00:00:00:00',
    cidr: null,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  }) as os.NetworkInterfaceInfo;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('push: an interface event hints only the family that moved; nothing after close', async () => {
  let addrs = [nic('192.0.3.5', 'IPv4'), nic('2a01:4f8::1', 'IPv6')];
  const hints: Family[][] = [];
  const push = startPush({
    sources: [{ type: 'interface', interface: 'ppp0' }, { type: 'ipify' }],
    families: ['ipv4', 'ipv6'],
    hint: (f) => void hints.push(f),
    interfaceOptions: {
      mode: 'poll',
      pollMs: 200,
      readers: { interfaces: () => ({ ppp0: addrs }), if6Flags: async () => null },
    },
  });
  assert.equal(push.count, 1);
  await wait(100);
  assert.deepEqual(hints, [], 'the state at start is no hint');
  addrs = [nic('192.0.3.5', 'IPv4'), nic('2a01:4f8::2', 'IPv6')];
  await wait(400);
  assert.deepEqual(hints, [['ipv6']]);
  await push.close();
  addrs = [nic('192.0.3.6', 'IPv4')];
  await wait(400);
  assert.deepEqual(hints, [['ipv6']], 'nothing after close');
});

test('push: a router announcement hints IPv4; a failing hint is reported as a router problem; no router watch without IPv4', async (t) => {
  assert.equal(startPush({ sources: [{ type: 'router' }], families: ['ipv6'], hint: () => undefined }).count, 0);
  const r = await routerSocketOnLoopback();
  if (!r) return t.skip('port 5351 is in use on this loopback address');
  const { gateway: gw, socket: router } = r;
  const port = await freePort();
  const hints: Family[][] = [];
  const problems: Array<{ watch: string; key: string }> = [];
  let failHint = false;
  const push = startPush({
    sources: [{ type: 'router', gateway: gw, safetyPoll: 0, announcePort: port, announceGroup: '127.0.0.1' }],
    families: ['ipv4'],
    hint: async (f) => {
      hints.push(f);
      if (failHint) throw new Error('the check failed');
    },
    onProblem: (p) => problems.push({ watch: p.watch, key: p.key }),
  });
  const announce = () => {
    const b = Buffer.alloc(12);
    b[1] = 128;
    b.writeUInt32BE(7, 4);
    [93, 184, 216, 9].forEach((o, i) => (b[8 + i] = o));
    return new Promise<void>((r) => router.send(b, port, '127.0.0.1', () => r()));
  };
  try {
    await wait(100);
    await announce();
    await wait(300);
    assert.deepEqual(hints[0], ['ipv4']);
    failHint = true;
    await announce();
    await wait(300);
    assert.ok(
      problems.length >= 1 && problems.every((p) => p.watch === 'router' && p.key.startsWith('router-watch:')),
      JSON.stringify(problems),
    );
  } finally {
    await push.close();
    router.close();
  }
  const n = hints.length;
  await announce().catch(() => undefined);
  await wait(150);
  assert.equal(hints.length, n, 'no hint after close');
});
