/**
 * waitForPropagation against real named instances: an update that reaches a lagging server midway
 * (made with `nsupdate -y`, the reference RFC 2136 client), a wait that times out, TXT records for
 * DNS-01 found through the walk, public resolvers included (local stand-ins), and cancellation.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describePropagation, waitForPropagation } from '../../src/core/dns/propagation';
import type { DdnsError } from '../../src/core/errors';
import { txtWait } from '../../src/core/acme/job';
import { allProviders, providerById } from '../../src/core/providers/registry';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';

/** Every provider of the registry (each module loaded). */
const PROVIDERS = allProviders();

const skip = skipWithoutBind();

/** Run nsupdate with a TSIG key against `b`; resolves when it exits 0. */
function nsupdate(b: BindServer, lines: string[]): Promise<void> {
  const k = b.keys.sha256;
  return new Promise((resolve, reject) => {
    const child = spawn('nsupdate', ['-y', `${k.algorithm}:${k.name}:${k.secret}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nsupdate exited ${code}: ${out}`))));
    child.stdin.end([`server 127.0.0.1 ${b.port}`, 'zone home.test', ...lines, 'send', ''].join('\n'));
  });
}

describe('waitForPropagation against real named', { skip }, () => {
  let primary: BindServer;
  let lagging: BindServer;
  const at = (b: BindServer) => ({ host: '127.0.0.1', port: b.port });

  before(async () => {
    primary = await startBind([{ name: 'home.test', records: ['www 60 IN A 192.0.2.20'] }]);
    lagging = await startBind([{ name: 'home.test', records: ['www 60 IN A 192.0.2.10'] }]);
  });
  after(async () => {
    await primary?.stop();
    await lagging?.stop();
  });

  test('succeeds when the lagging server is updated midway; reports when each server matched', async () => {
    let rounds = 0;
    const wait = waitForPropagation({
      name: 'www.home.test',
      type: 'A',
      expected: ['192.0.2.20'],
      servers: [at(primary), at(lagging)],
      timeoutMs: 15_000,
      intervalMs: 100,
      onRound: () => rounds++,
    });
    await new Promise((r) => setTimeout(r, 300));
    await nsupdate(lagging, ['update delete www.home.test A', 'update add www.home.test 60 A 192.0.2.20']);
    const r = await wait;
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.rounds >= 2 && rounds === r.rounds);
    const [p, l] = r.perServer;
    assert.equal(p.server, `127.0.0.1:${primary.port}`);
    assert.ok(p.matchedAfterMs !== null && l.matchedAfterMs !== null);
    assert.ok(l.matchedAfterMs! >= 300 && l.matchedAfterMs! >= p.matchedAfterMs!);
    assert.ok(r.ms >= l.matchedAfterMs!);
    assert.deepEqual(l.values, ['192.0.2.20']);
    assert.match(describePropagation(r, 'www.home.test'), /all 2 servers have the new value/);
  });

  test('times out when a server never gets the value, and says which one lags', async () => {
    const r = await waitForPropagation({
      name: 'www.home.test',
      type: 'A',
      expected: ['192.0.2.99'],
      servers: [at(primary)],
      timeoutMs: 600,
      intervalMs: 100,
    });
    assert.equal(r.ok, false);
    assert.ok(r.ms >= 600 && r.rounds >= 2);
    assert.equal(r.perServer[0].stale, true);
    assert.equal(r.perServer[0].matchedAfterMs, null);
    assert.match(
      describePropagation(r, 'www.home.test'),
      /0 of 1 servers have the new value .* still waiting for 127\.0\.0\.1:\d+: 192\.0\.2\.20/,
    );
  });

  test('TXT for DNS-01: servers found by the walk, every expected value must be present, strings joined', async () => {
    const name = '_acme-challenge.www.home.test';
    const wait = waitForPropagation({
      name,
      type: 'TXT',
      expected: ['token-one', 'token-two-split'],
      discovery: [at(primary)],
      authPort: primary.port,
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    await nsupdate(primary, [`update add ${name} 60 TXT "token-one"`]);
    await new Promise((r) => setTimeout(r, 250));
    await nsupdate(primary, [`update add ${name} 60 TXT "token-two" "-split"`]);
    const r = await wait;
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.zone, 'home.test');
    assert.equal(r.perServer.length, 1);
    assert.equal(r.perServer[0].nsName, 'ns1.home.test');
    assert.deepEqual(r.perServer[0].values, ['token-one', 'token-two-split']);
    await nsupdate(primary, [`update delete ${name} TXT`]);
  });

  test('includePublic adds the public resolvers (a local stand-in here)', async () => {
    const r = await waitForPropagation({
      name: 'www.home.test',
      type: 'A',
      expected: ['192.0.2.20'],
      servers: [at(primary)],
      includePublic: true,
      publicResolvers: [at(lagging)],
      timeoutMs: 5000,
      intervalMs: 100,
    });
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.perServer.map((s) => s.role),
      ['authoritative', 'public'],
    );
  });

  test('a walk that cannot find the zone keeps trying until the timeout, then says why', async () => {
    const r = await waitForPropagation({
      name: 'www.elsewhere.test',
      type: 'A',
      expected: ['192.0.2.1'],
      discovery: [at(primary)],
      timeoutMs: 400,
      intervalMs: 100,
    });
    assert.equal(r.ok, false);
    assert.deepEqual(r.perServer, []);
    assert.match(r.error!, /REFUSED/);
  });

  test('cancellation and bad input', async () => {
    const ac = new AbortController();
    const wait = waitForPropagation({
      name: 'www.home.test',
      type: 'A',
      expected: ['192.0.2.99'],
      servers: [at(primary)],
      timeoutMs: 10_000,
      intervalMs: 100,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 150);
    await assert.rejects(wait, (e: DdnsError) => e.code === 'aborted');
    await assert.rejects(
      waitForPropagation({ name: 'www.home.test', type: 'A', expected: [], timeoutMs: 100 }),
      (e: DdnsError) => e.kind === 'input',
    );
    await assert.rejects(
      waitForPropagation({ name: 'www.home.test', type: 'A', expected: ['192.0.2.1'], timeoutMs: 0 }),
      (e: DdnsError) => e.kind === 'input',
    );
  });
});

// An IPv4-only home: a network namespace of its own with only loopback (and named inside it).
// The zone's IPv6 server cannot be reached from there: it is skipped, not waited for until the timeout.
const unshareMissing = spawnSync('unshare', ['-n', 'true']).status === 0 ? false : 'needs unshare -n (root)';
test(
  'an IPv6 server without an IPv6 route here is skipped; the IPv4 server decides',
  { skip: skip || unshareMissing },
  () => {
    const dist = join(__dirname, '../..');
    const script = `(async () => {
    const { startBind } = require(${JSON.stringify(join(dist, 'test/support/bind.js'))});
    const { waitForPropagation, describePropagation } = require(${JSON.stringify(join(dist, 'src/core/dns/propagation.js'))});
    const b = await startBind([{ name: 'home.test', records: ['www 60 IN A 192.0.2.20'] }], { ipv6: false });
    try {
      const r = await waitForPropagation({ name: 'www.home.test', type: 'A', expected: ['192.0.2.20'], timeoutMs: 10000, intervalMs: 100,
        servers: [{ host: '127.0.0.1', port: b.port }, { host: '2001:db8::53', port: 53 }] });
      console.log(JSON.stringify({ r, text: describePropagation(r, 'www.home.test') }));
    } finally { await b.stop(); }
  })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(
      'unshare',
      ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" -e "$1"', process.execPath, script],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const { r: res, text } = JSON.parse(r.stdout);
    assert.equal(res.ok, true);
    assert.ok(res.ms < 5000, 'did not wait for the unreachable server');
    assert.deepEqual(
      res.perServer.map((s: { skipped?: boolean; matchedAfterMs: number | null }) => [
        s.skipped ?? false,
        s.matchedAfterMs !== null,
      ]),
      [
        [false, true],
        [true, false],
      ],
    );
    assert.match(text, /all 1 servers have the new value .* \(1 IPv6 server skipped: no IPv6 connectivity here\)/);
  },
);

test("cert-renew's TXT wait: the node's own, or the provider's documented propagation time when longer", () => {
  const netcup = providerById('netcup')?.txtPropagation;
  assert.ok(netcup, 'netcup declares its slow publishing');
  assert.deepEqual(txtWait(300), { timeoutMs: 300_000, intervalMs: 2_000 });
  const raised = txtWait(300, netcup);
  assert.equal(raised.timeoutMs, 30 * 60_000);
  assert.equal(raised.intervalMs, 15_000, 'a long wait asks the name servers less often');
  assert.match(raised.raisedBy ?? '', /netcup/);
  assert.equal(txtWait(3600, netcup).raisedBy, undefined, 'a longer wait of the node stays');
  assert.equal(txtWait(3600, netcup).timeoutMs, 3_600_000);
  for (const p of PROVIDERS.filter((d) => d.txtPropagation))
    assert.ok(p.txt, `${p.id} declares a TXT propagation time, so it writes TXT records`);
});
