/**
 * DNS side of reachability-check against real BIND 9 (named) instances on loopback:
 * the walk to the zone's servers, authoritative answers and TTLs, TXT joining, a stale server (a
 * second named serving the same zone with the old address), public-resolver and system-resolver
 * checks pointed at local servers (the real public resolvers are never contacted).
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { askAuthoritative, askServer, findAuthoritativeServers, findZone } from '../../src/core/dns/authoritative';
import { askPublicResolvers, askSystemResolver, compareExpected } from '../../src/core/dns/resolvers';
import { runChecks } from '../../src/core/reach/checks';
import type { DdnsError } from '../../src/core/errors';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';

const skip = skipWithoutBind();

describe('authoritative and resolver checks against real named', { skip }, () => {
  let fresh: BindServer; // has the new address
  let stale: BindServer; // same zone, still the old address
  const at = (b: BindServer, host = '127.0.0.1') => ({ host, port: b.port });

  before(async () => {
    const common = [
      '@ IN NS ns2.home.test.',
      'ns2 IN AAAA ::1',
      'txt 90 IN TXT "v=spf1 " "-all"',
      'txt 90 IN TXT "second"',
      'alias 60 IN CNAME www',
    ];
    fresh = await startBind([
      { name: 'home.test', records: [...common, 'www 120 IN A 192.0.2.20', 'www 120 IN AAAA 2001:db8::20'] },
    ]);
    stale = await startBind([
      { name: 'home.test', records: [...common, 'www 300 IN A 192.0.2.10', 'www 300 IN AAAA 2001:db8::10'] },
    ]);
  });
  after(async () => {
    await fresh?.stop();
    await stale?.stop();
  });

  test('the walk finds the zone, its NS names and their addresses (glue, IPv4 and IPv6)', async () => {
    const o = { discovery: [at(fresh)], authPort: fresh.port };
    assert.equal(await findZone('www.home.test', o), 'home.test');
    assert.equal(await findZone('home.test.', o), 'home.test');
    assert.equal(await findZone('nothing.here.home.test', o), 'home.test'); // NXDOMAIN still names the zone
    const z = await findAuthoritativeServers('WWW.Home.Test', o);
    assert.equal(z.zone, 'home.test');
    assert.deepEqual(z.nsNames, ['ns1.home.test', 'ns2.home.test']);
    assert.deepEqual(
      z.servers.map((s) => [s.nsName, s.host, s.port]),
      [
        ['ns1.home.test', '127.0.0.1', fresh.port],
        ['ns2.home.test', '::1', fresh.port],
      ],
    );
    assert.deepEqual(z.unresolved, []);
  });

  test('a name outside every zone the discovery resolver knows is a clear error', async () => {
    await assert.rejects(
      findAuthoritativeServers('www.elsewhere.test', { discovery: [at(fresh)], timeoutMs: 1000 }),
      (e: DdnsError) => e.code === 'discovery_failed' && /REFUSED/.test(e.message),
    );
  });

  test('authoritative answers with TTLs from every server found by the walk', async () => {
    const r = await askAuthoritative('www.home.test', 'A', { discovery: [at(fresh)], authPort: fresh.port });
    assert.equal(r.zone, 'home.test');
    assert.equal(r.answers.length, 2);
    for (const a of r.answers) {
      assert.equal(a.role, 'authoritative');
      assert.equal(a.authoritative, true);
      assert.equal(a.rcode, 'NOERROR');
      assert.deepEqual(a.values, ['192.0.2.20']);
      assert.equal(a.ttl, 120);
      assert.equal(a.error, undefined);
    }
    const v6 = await askAuthoritative('www.home.test', 'AAAA', { servers: [at(stale)] });
    assert.equal(v6.zone, null);
    assert.deepEqual(v6.answers[0].values, ['2001:db8::10']);
    assert.equal(v6.answers[0].ttl, 300);
  });

  test('TXT records: the strings of one record joined, one value per record', async () => {
    const a = await askServer(at(fresh), 'txt.home.test', 'TXT');
    assert.deepEqual(a.values, ['second', 'v=spf1 -all']);
    assert.equal(a.ttl, 90);
  });

  test('an empty answer carries the negative-caching TTL; an alias is reported', async () => {
    const nx = await askServer(at(fresh), 'nope.home.test', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.deepEqual(nx.values, []);
    assert.equal(nx.negativeTtl, 60);
    const alias = await askServer(at(fresh), 'alias.home.test', 'A');
    assert.deepEqual(alias.cnames, ['www.home.test']);
    assert.deepEqual(alias.values, ['192.0.2.20']);
  });

  test('a server that does not serve the zone: REFUSED is an error, not an empty answer', async () => {
    const other = await startBind([{ name: 'other.test' }]);
    try {
      const a = await askServer(at(other), 'www.home.test', 'A');
      assert.equal(a.rcode, 'REFUSED');
      assert.match(a.error!, /refused/);
    } finally {
      await other.stop();
    }
  });

  test("an alias into another zone is followed to that zone's own servers", async () => {
    const other = await startBind([{ name: 'other.test', records: ['www 45 IN A 192.0.2.77'] }]);
    const aliasing = await startBind([{ name: 'home.test', records: ['alias 60 IN CNAME www.other.test.'] }]);
    try {
      const r = await askAuthoritative('alias.home.test', 'A', {
        servers: [at(aliasing)],
        discovery: [at(other)],
        authPort: other.port,
      });
      assert.equal(r.name, 'www.other.test');
      assert.deepEqual(r.chain, ['www.other.test']);
      assert.equal(r.zone, 'other.test');
      assert.deepEqual(
        r.answers.map((a) => [a.server, a.values, a.ttl]),
        [[`127.0.0.1:${other.port}`, ['192.0.2.77'], 45]],
      );
      const c = await runChecks({
        names: ['alias.home.test'],
        expected: { ipv4: '192.0.2.77' },
        dns: { authoritative: true, authServers: [at(aliasing)], discovery: [at(other)], authPort: other.port },
        timeoutMs: 2000,
      });
      assert.equal(c.ok, true, JSON.stringify(c.checks));
      assert.deepEqual(c.checks[0].data?.via, ['www.other.test']);
    } finally {
      await other.stop();
      await aliasing.stop();
    }
  });

  test('resolvers: per server answer, TTL and stale flag (local servers stand in for public resolvers)', async () => {
    const answers = await askPublicResolvers({
      name: 'www.home.test',
      type: 'A',
      expected: ['192.0.2.20'],
      servers: [at(fresh), at(stale, '::1')],
    });
    assert.equal(answers.length, 2);
    assert.equal(answers[0].role, 'public');
    assert.equal(answers[0].stale, false);
    assert.equal(answers[0].ttl, 120);
    assert.equal(answers[1].server, `[::1]:${stale.port}`);
    assert.equal(answers[1].stale, true);
    assert.deepEqual(answers[1].missing, ['192.0.2.20']);
    assert.deepEqual(answers[1].extra, ['192.0.2.10']);
    assert.equal(answers[1].ttl, 300);
    // without expectation there is no verdict
    const plain = await askPublicResolvers({ name: 'www.home.test', type: 'AAAA', servers: [at(fresh)] });
    assert.equal(plain[0].stale, null);
    assert.deepEqual(plain[0].values, ['2001:db8::20']);
  });

  test('system resolver through node:dns (servers replaced by named): answer, TTL, stale, NXDOMAIN', async () => {
    const ok = await askSystemResolver({
      name: 'www.home.test',
      type: 'A',
      expected: ['192.0.2.20'],
      servers: [at(fresh)],
    });
    assert.equal(ok.role, 'system');
    assert.deepEqual(ok.values, ['192.0.2.20']);
    assert.equal(ok.ttl, 120);
    assert.equal(ok.stale, false);
    const old = await askSystemResolver({
      name: 'www.home.test',
      type: 'AAAA',
      expected: ['2001:db8:0::20'],
      servers: [at(stale)],
    });
    assert.equal(old.stale, true);
    const txt = await askSystemResolver({
      name: 'txt.home.test',
      type: 'TXT',
      expected: ['v=spf1 -all'],
      servers: [at(fresh)],
    });
    assert.equal(txt.stale, false);
    const nx = await askSystemResolver({ name: 'nope.home.test', type: 'A', servers: [at(fresh)] });
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.error, undefined);
  });

  test('compareExpected normalises addresses', () => {
    assert.deepEqual(compareExpected('AAAA', ['2001:db8::1'], ['2001:0db8:0:0::1']), {
      matches: true,
      missing: [],
      extra: [],
    });
    assert.equal(compareExpected('TXT', ['a', 'b'], ['b']).matches, true);
    assert.equal(compareExpected('TXT', ['a'], ['a', 'b']).matches, false);
  });

  test('runChecks: authoritative (walk and override), resolvers and system resolver, with a stale server', async () => {
    const base = { names: ['www.home.test'], expected: { ipv4: '192.0.2.20' }, timeoutMs: 2000 };
    const walked = await runChecks({
      ...base,
      dns: { authoritative: true, discovery: [at(fresh)], authPort: fresh.port },
    });
    assert.equal(walked.ok, true, JSON.stringify(walked.checks));
    assert.deepEqual(
      walked.checks.map((c) => c.target),
      [
        `www.home.test A @ ns1.home.test (127.0.0.1:${fresh.port})`,
        `www.home.test A @ ns2.home.test ([::1]:${fresh.port})`,
      ],
    );
    assert.equal(walked.checks[0].detail, '192.0.2.20 (TTL 120 s)');
    assert.equal(walked.checks[0].data?.zone, 'home.test');

    const r = await runChecks({
      ...base,
      dns: {
        authoritative: true,
        public: true,
        system: true,
        authServers: [at(fresh), at(stale)],
        publicResolvers: [at(stale)],
        systemServers: [at(fresh)],
      },
    });
    assert.equal(r.ok, false);
    const byKind = (k: string) => r.checks.filter((c) => c.kind === k);
    assert.deepEqual(
      byKind('dns-authoritative').map((c) => c.ok),
      [true, false],
    );
    const staleCheck = byKind('dns-authoritative')[1];
    assert.match(staleCheck.detail, /^stale: answers 192\.0\.2\.10, expected 192\.0\.2\.20 \(TTL 300 s\)$/);
    assert.equal(staleCheck.data?.stale, true);
    assert.equal(byKind('dns-public')[0].ok, false);
    assert.match(byKind('dns-public')[0].detail, /may keep this answer for up to 300 s/);
    assert.equal(byKind('dns-system')[0].ok, true);
    assert.ok(r.diagnosis.notes.some((n) => /1 authoritative server still answers an old value/.test(n)));
    assert.ok(r.diagnosis.notes.some((n) => /clears by itself within 300 s/.test(n)));
    assert.match(r.diagnosis.summary, /^2 of 4 checks failed/);
  });

  test('runChecks without expected address: passes when the name has A or AAAA; a missing name fails', async () => {
    const r = await runChecks({
      names: ['www.home.test', 'nope.home.test'],
      dns: { authoritative: true, authServers: [at(fresh)] },
      timeoutMs: 2000,
    });
    assert.equal(r.checks.length, 2);
    assert.equal(r.checks[0].target, `www.home.test A/AAAA @ 127.0.0.1:${fresh.port}`);
    assert.equal(r.checks[0].ok, true);
    assert.equal(r.checks[0].detail, '192.0.2.20 (TTL 120 s); 2001:db8::20 (TTL 120 s)');
    assert.equal(r.checks[1].ok, false);
    assert.match(r.checks[1].detail, /does not exist \(NXDOMAIN\)/);
  });

  test('runChecks: a walk that fails is one failing check with the reason; an old address beside the new one is a warning', async () => {
    const r = await runChecks({
      names: ['www.elsewhere.test'],
      dns: { authoritative: true, discovery: [at(fresh)] },
      timeoutMs: 1000,
    });
    assert.equal(r.ok, false);
    assert.equal(r.checks.length, 1);
    assert.match(r.checks[0].detail, /could not find the name servers of www\.elsewhere\.test/);
    const both = await startBind([
      { name: 'home.test', records: ['www 60 IN A 192.0.2.20', 'www 60 IN A 192.0.2.10'] },
    ]);
    try {
      const w = await runChecks({
        names: ['www.home.test'],
        expected: { ipv4: '192.0.2.20' },
        dns: { authoritative: true, authServers: [at(both)] },
        timeoutMs: 2000,
      });
      assert.equal(w.ok, true);
      assert.match(w.checks[0].warning!, /also answers 192\.0\.2\.10/);
      assert.match(w.diagnosis.summary, /1 warning/);
    } finally {
      await both.stop();
    }
  });
});

// In a network namespace of its own (only loopback, no routes), as an IPv4-only home without any
// IPv6 route would be: an IPv6 server is skipped, an unroutable IPv4 server is a failure.
const unshareMissing = spawnSync('unshare', ['-n', 'true']).status === 0 ? false : 'needs unshare -n (root)';
test('a server of a family this computer has no route for: IPv6 skipped, IPv4 failed', { skip: unshareMissing }, () => {
  const checks = join(__dirname, '../../src/core/reach/checks.js');
  const script = `require(${JSON.stringify(checks)}).runChecks({ names: ['www.home.test'], expected: { ipv4: '192.0.2.20' }, timeoutMs: 1000,
    dns: { public: true, publicResolvers: [{ host: '2001:db8::53', port: 53 }, { host: '192.0.2.53', port: 53 }] } })
    .then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync('unshare', ['-n', process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(
    report.checks.map((c: { ok: boolean; data: { skipped?: boolean } }) => [c.ok, c.data.skipped ?? false]),
    [
      [true, true],
      [false, false],
    ],
  );
  assert.match(report.checks[0].detail, /^skipped: this computer has no IPv6 connectivity/);
  assert.match(report.checks[1].detail, /ENETUNREACH|unreachable/);
  assert.ok(report.diagnosis.notes.some((n: string) => /1 check was skipped/.test(n)));
});
