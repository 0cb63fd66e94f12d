/**
 * The detector with real sources against local servers: validation of answers, fallback order,
 * hedging of a slow source (and closing its request), quorum agreement and disagreement, CGNAT
 * suspicion, cancellation.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import type http from 'node:http';
import type os from 'node:os';
import { closeHttpPools } from '../../src/core/http';
import { detect, type DetectorOptions } from '../../src/core/ip/detector';
import { buildSource, interfaceSource, sourceConfigSchema } from '../../src/core/ip/sources';
import type { DetectionResult, IpSource } from '../../src/core/ip/types';
import { startServer, text, type TestServer } from '../support/http-server';
import { startDnsServer, type TestDnsServer } from '../support/dns-server';

let srv4: TestServer;
let srv6: TestServer;
let dns4: TestDnsServer;
/** Requests to /silent: resolved when the server sees the connection closed. */
const closed: Array<Promise<void>> = [];

/** Each path answers one body; /silent never answers; /delay/<ms>/<body> answers late. */
const handler = (req: { path: string }, res: http.ServerResponse) => {
  const p = decodeURIComponent(req.path);
  if (p === '/silent') {
    closed.push(new Promise((r) => res.on('close', () => r())));
    return;
  }
  if (p === '/big') return text(res, '9'.repeat(1024 * 1024));
  if (p === '/html') return text(res, '<html><head><title>Router login</title></head></html>');
  const late = /^\/delay\/(\d+)\/(.*)$/.exec(p);
  if (late) {
    const t = setTimeout(() => text(res, late[2]), Number(late[1]));
    res.on('close', () => clearTimeout(t));
    return;
  }
  return text(res, `${p.slice(1)}\n`); // "/8.8.8.8" answers "8.8.8.8"
};

before(async () => {
  srv4 = await startServer(handler, '127.0.0.1');
  srv6 = await startServer(handler, '::1');
  dns4 = await startDnsServer((q) => (q.type === 'A' ? [{ type: 'A', name: q.name, ttl: 0, data: '8.8.8.8' }] : []));
});

after(async () => {
  await Promise.all([srv4?.close(), srv6?.close(), dns4?.close()]);
  await closeHttpPools();
});

type Preset = 'ipify' | 'icanhazip' | 'aws' | 'cloudflare-trace';
/** A preset source whose IPv4 (and IPv6) URL is a path of the local servers. */
const at = (type: Preset | 'custom', path4: string, path6?: string): IpSource =>
  buildSource(
    sourceConfigSchema.parse(
      type === 'custom'
        ? { type, url: `${srv4.url}${path4}`, family: 'ipv4' }
        : { type, urlV4: `${srv4.url}${path4}`, ...(path6 ? { urlV6: `${srv6.url}${path6}` } : {}) },
    ),
  );
/** cloudflare-trace answers `ip=` lines: point it at a path that answers a trace body. */
const run = (
  family: 'ipv4' | 'ipv6',
  o: Partial<DetectorOptions> & { sources: IpSource[] },
): Promise<DetectionResult> => detect(family, { policy: 'first', hedgeMs: 10_000, timeoutMs: 5_000, ...o });
const reportOf = (r: DetectionResult, source: string) => r.reports.find((x) => x.source === source)!;

describe('first answer wins', () => {
  test('unusable answers are rejected with a reason and the next source is asked, in order', async () => {
    const r = await run('ipv4', {
      sources: [
        at('ipify', '/html'),
        at('icanhazip', '/10.1.2.3'),
        at('aws', '/100.64.1.2'),
        at('custom', '/2001:4860:4860::8888'),
        at('custom', '/big'),
        at('custom', '/it works!'),
        at('custom', '/192.0.2.1'),
        at('cloudflare-trace', '/9.9.9.9'), // not a trace body: no ip= line
        at('custom', '/ 8.8.8.8 '),
        at('custom', '/1.1.1.1'),
      ],
    });
    assert.equal(r.address, '8.8.8.8');
    assert.deepEqual(r.agreedBy, ['custom#5']);
    assert.equal(r.error, undefined);
    assert.deepEqual(
      r.reports.map((x) => x.source),
      ['ipify', 'icanhazip', 'aws', 'custom', 'custom#2', 'custom#3', 'custom#4', 'cloudflare-trace', 'custom#5'],
    );
    const err = (s: string) => reportOf(r, s).error ?? '';
    assert.match(err('ipify'), /answered with a web page \(HTML page "Router login"\)/);
    assert.match(
      err('icanhazip'),
      /answer rejected: 10\.1\.2\.3 is a private address \(10\.0\.0\.0\/8\), not a public address/,
    );
    assert.equal(reportOf(r, 'icanhazip').address, '10.1.2.3');
    assert.match(err('aws'), /answer rejected: 100\.64\.1\.2 is a carrier-grade NAT address/);
    assert.match(
      err('custom'),
      /answer rejected: 2001:4860:4860::8888 is an IPv6 address where an IPv4 address was expected/,
    );
    assert.match(err('custom#2'), /more than the 4096 accepted/);
    assert.match(err('custom#3'), /answer rejected: "it works!" is not an IP address/);
    assert.match(err('custom#4'), /documentation address/);
    assert.match(err('cloudflare-trace'), /without an "ip=" line/);
    assert.deepEqual(reportOf(r, 'custom#5'), {
      ...reportOf(r, 'custom#5'),
      ok: true,
      address: '8.8.8.8',
      family: 'ipv4',
    });
    // the source after the winner was never asked
    assert.equal(
      srv4.requests.some((q) => q.path === '/1.1.1.1'),
      false,
    );
  });

  test('when nothing works, the error names every source and its reason', async () => {
    const r = await run('ipv4', { sources: [at('ipify', '/192.168.0.1'), at('icanhazip', '/html')] });
    assert.equal(r.address, null);
    assert.match(
      r.error!,
      /^No source found a public IPv4 address\. ipify: 192\.168\.0\.1 is a private address .*; icanhazip: .*web page/,
    );
    const none = await run('ipv6', { sources: [at('aws', '/8.8.8.8')] });
    assert.equal(none.address, null);
    assert.equal(none.error, 'None of the chosen sources can find an IPv6 address.');
  });

  test('a source that never answers times out and the next one is asked; its request is closed', async () => {
    const before = closed.length;
    const r = await run('ipv4', { timeoutMs: 300, sources: [at('ipify', '/silent'), at('icanhazip', '/8.8.8.8')] });
    assert.equal(r.address, '8.8.8.8');
    assert.match(reportOf(r, 'ipify').error!, /did not answer within 300 ms|no answer within 300 ms/);
    await closed[before];
  });

  test('a slow source is hedged: the next one answers without waiting for its timeout', async () => {
    const before = closed.length;
    const started = Date.now();
    const r = await run('ipv4', {
      hedgeMs: 100,
      timeoutMs: 30_000,
      sources: [at('ipify', '/silent'), at('icanhazip', '/delay/50/8.8.8.8'), at('aws', '/9.9.9.9')],
    });
    // correctness bound, far below the 30 s timeout of the silent source
    assert.ok(Date.now() - started < 15_000);
    assert.equal(r.address, '8.8.8.8');
    assert.deepEqual(r.agreedBy, ['icanhazip']);
    assert.equal(reportOf(r, 'ipify').error, 'stopped: not needed, icanhazip answered first');
    // the abandoned request was aborted and its connection is closed, not left running
    await closed[before];
  });

  test('each family travels on its own transport; only sources of the family are used', async () => {
    const n6 = srv6.requests.length;
    const r = await run('ipv6', { sources: [at('aws', '/8.8.8.8'), at('ipify', '/8.8.8.8', '/2001:4860:4860::8888')] });
    assert.equal(r.address, '2001:4860:4860::8888');
    assert.deepEqual(
      r.reports.map((x) => x.source),
      ['ipify'],
    );
    assert.equal(srv6.requests[n6].remoteAddress, '::1');
    // a local address of the other family is not used for this lookup; one of the family is
    const lo = await run('ipv4', { localAddress: '::1', sources: [at('ipify', '/8.8.8.8')] });
    assert.equal(lo.address, '8.8.8.8');
    const lo4 = await run('ipv4', { localAddress: '127.0.0.1', sources: [at('ipify', '/8.8.4.4')] });
    assert.equal(lo4.address, '8.8.4.4');
  });

  test('allowNonPublic accepts a private address (lab use)', async () => {
    const r = await run('ipv4', { allowNonPublic: true, sources: [at('ipify', '/10.0.0.7')] });
    assert.equal(r.address, '10.0.0.7');
  });

  test('cancelling stops every running lookup', async () => {
    const before = closed.length;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await run('ipv4', {
      signal: ac.signal,
      hedgeMs: 0,
      sources: [at('ipify', '/silent'), at('icanhazip', '/silent')],
    });
    assert.equal(r.address, null);
    assert.equal(r.error, 'The address check was cancelled.');
    assert.deepEqual(
      r.reports.map((x) => x.error),
      ['cancelled', 'cancelled'],
    );
    await Promise.all([closed[before], closed[before + 1]]);
  });
});

describe('quorum', () => {
  test('stops as soon as enough sources agree; a dissenter is reported', async () => {
    const r = await run('ipv4', {
      policy: 'quorum',
      quorum: 2,
      sources: [at('ipify', '/8.8.8.8'), at('icanhazip', '/9.9.9.9'), at('aws', '/8.8.8.8'), at('custom', '/silent')],
    });
    assert.equal(r.address, '8.8.8.8');
    assert.deepEqual(r.agreedBy, ['ipify', 'aws']);
    assert.equal(reportOf(r, 'icanhazip').error, 'said 9.9.9.9, but ipify and aws said 8.8.8.8');
    assert.equal(reportOf(r, 'icanhazip').ok, false);
    assert.equal(
      r.reports.some((x) => x.source === 'custom'),
      false,
      'the fourth source was not needed',
    );
  });

  test('HTTPS and DNS sources can agree', async () => {
    const r = await run('ipv4', {
      policy: 'quorum',
      sources: [
        at('ipify', '/8.8.8.8'),
        buildSource(sourceConfigSchema.parse({ type: 'opendns', serverV4: dns4.address })),
      ],
    });
    assert.equal(r.address, '8.8.8.8');
    assert.deepEqual(r.agreedBy, ['ipify', 'opendns']);
  });

  test('disagreement: no address, and the error says who said what', async () => {
    const r = await run('ipv4', {
      policy: 'quorum',
      sources: [at('ipify', '/8.8.8.8'), at('icanhazip', '/9.9.9.9'), at('aws', '/html')],
    });
    assert.equal(r.address, null);
    assert.deepEqual(r.agreedBy, []);
    assert.match(
      r.error!,
      /^The sources did not agree on the IPv4 address \(2 must agree\): ipify said 8\.8\.8\.8; icanhazip said 9\.9\.9\.9; aws: .*web page/,
    );
    const lonely = await run('ipv4', {
      policy: 'quorum',
      sources: [at('ipify', '/8.8.8.8'), at('icanhazip', '/10.0.0.1')],
    });
    assert.match(
      lonely.error!,
      /^Not enough sources confirmed the IPv4 address \(2 must agree\): ipify said 8\.8\.8\.8; icanhazip: 10\.0\.0\.1 is a private address/,
    );
    const few = await run('ipv4', {
      policy: 'quorum',
      quorum: 3,
      sources: [at('ipify', '/8.8.8.8'), at('icanhazip', '/8.8.8.8')],
    });
    assert.equal(few.error, '3 sources must agree, but only 2 of the chosen sources can find an IPv4 address.');
    assert.equal(few.reports.length, 0);
  });
});

describe('CGNAT suspicion', () => {
  const nic = (address: string): os.NetworkInterfaceInfo =>
    ({
      address,
      netmask: '255.192.0.0',
      family: 'IPv4',
      mac: '02:00:00:00:00:01',
      internal: false,
      cidr: `${address}/10`,
    }) as os.NetworkInterfaceInfo;
  const wan = (address: string) =>
    interfaceSource({
      interface: 'ppp0',
      readers: { interfaces: () => ({ ppp0: [nic(address)] }), if6Flags: async () => null },
    });

  test('the interface holds a 100.64/10 address while outside services see a public one', async () => {
    const r = await run('ipv4', { sources: [wan('100.64.5.6'), at('ipify', '/8.8.8.8')] });
    assert.equal(r.address, '8.8.8.8');
    assert.match(reportOf(r, 'interface').error!, /answer rejected: 100\.64\.5\.6 is a carrier-grade NAT address/);
    assert.equal(reportOf(r, 'interface').address, '100.64.5.6');
    assert.deepEqual(
      { ...r.cgnatSuspected, note: undefined },
      { localAddress: '100.64.5.6', localClass: 'cgnat', publicAddress: '8.8.8.8', note: undefined },
    );
    assert.match(
      r.cgnatSuspected!.note,
      /probably behind carrier-grade NAT \(CGNAT\).*network interface ppp0 has 100\.64\.5\.6.*Outside services see 8\.8\.8\.8/,
    );
  });

  test('a private WAN address is reported too; a public one is not', async () => {
    const r = await run('ipv4', { sources: [wan('192.168.100.2'), at('ipify', '/8.8.8.8')] });
    assert.equal(r.cgnatSuspected?.localClass, 'private');
    assert.match(r.cgnatSuspected!.note, /private address 192\.168\.100\.2, while outside services see 8\.8\.8\.8/);
    const ok = await run('ipv4', { sources: [wan('8.8.4.4'), at('ipify', '/8.8.8.8')] });
    assert.equal(ok.address, '8.8.4.4');
    assert.equal(ok.cgnatSuspected, undefined);
    // a private interface address alone (no outside answer) is a normal home network: no suspicion
    const alone = await run('ipv4', { sources: [wan('192.168.100.2')] });
    assert.equal(alone.cgnatSuspected, undefined);
  });
});
