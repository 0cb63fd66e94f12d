/**
 * TCP and HTTP(S) probes against local listeners, certificates made by the `openssl` CLI (a test CA,
 * a valid leaf, one expiring soon, an expired one, one for another name), the CGNAT/NAT diagnosis
 * from given addresses, and runChecks' validation, concurrency and diagnosis notes.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeTcp } from '../../src/core/reach/tcp';
import { parseStatusSpec, probeHttp } from '../../src/core/reach/http';
import { diagnoseNat } from '../../src/core/reach/cgnat';
import { mapLimit, runChecks } from '../../src/core/reach/checks';
import type { DdnsError } from '../../src/core/errors';
import { closeHttpPools } from '../../src/core/http';
import { freePort } from '../support/ports';
import { startServer, json, text, type TestServer } from '../support/http-server';
import { newCaArgs, newEcKeyArgs } from '../support/openssl';

const isInput = (code?: string) => (e: DdnsError) => e.kind === 'input' && (!code || e.code === code);

/** Listen on host:0 and keep track of sockets so close() never waits. */
async function listen(server: net.Server, host: string): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  (server as net.Server & { killAll?: () => void }).killAll = () => sockets.forEach((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return (server.address() as net.AddressInfo).port;
}
function close(server: net.Server): Promise<void> {
  (server as net.Server & { killAll?: () => void }).killAll?.();
  return new Promise((r) => server.close(() => r()));
}

describe('TCP probe', () => {
  test('open port on IPv4 and IPv6, refused port, invalid input', async () => {
    const v4 = net.createServer();
    const v6 = net.createServer();
    const p4 = await listen(v4, '127.0.0.1');
    const p6 = await listen(v6, '::1');
    try {
      const open = await probeTcp({ host: '127.0.0.1', port: p4, timeoutMs: 2000 });
      assert.equal(open.ok, true);
      assert.equal(open.code, 'connected');
      assert.equal(open.family, 4);
      assert.match(open.detail, new RegExp(`^port ${p4} open on 127\\.0\\.0\\.1 over IPv4$`));
      const open6 = await probeTcp({ host: '[::1]', port: p6, family: 6, timeoutMs: 2000 });
      assert.equal(open6.ok, true);
      assert.equal(open6.address, '::1');
      const closedPort = await freePort();
      const refused = await probeTcp({ host: '127.0.0.1', port: closedPort, timeoutMs: 2000 });
      assert.equal(refused.ok, false);
      assert.equal(refused.code, 'ECONNREFUSED');
      assert.match(refused.detail, /refused: nothing listens on that port, or the router has no port forward/);
      await assert.rejects(probeTcp({ host: '127.0.0.1', port: 0 }), isInput());
      await assert.rejects(probeTcp({ host: '127.0.0.1', port: 70000 }), isInput());
      await assert.rejects(probeTcp({ host: '', port: 22 }), isInput());
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(
        probeTcp({ host: '127.0.0.1', port: p4, signal: ac.signal }),
        (e: DdnsError) => e.code === 'aborted',
      );
    } finally {
      await close(v4);
      await close(v6);
    }
  });
});

describe('HTTP probe', () => {
  let plain: TestServer;
  let silent: http.Server;
  let silentPort: number;
  before(async () => {
    plain = await startServer((req, res) => {
      if (req.path === '/missing') return text(res, 'not here', 404);
      if (req.path === '/moved') return text(res, '', 301, { location: '/' });
      text(res, 'hello');
    });
    // accepts connections and requests but never answers: the check must time out waiting for headers
    silent = http.createServer(() => undefined);
    silentPort = await listen(silent, '127.0.0.1');
  });
  after(async () => {
    await plain.close();
    await close(silent);
  });

  test('expected status, unexpected status, redirect not followed, status lists', async () => {
    const ok = await probeHttp({ url: `${plain.url}/`, timeoutMs: 2000 });
    assert.equal(ok.ok, true);
    assert.equal(ok.status, 200);
    assert.equal(ok.certificate, undefined);
    assert.match(plain.requests[0].headers['user-agent'] as string, /^node-red-contrib-ddns\//);
    const missing = await probeHttp({ url: `${plain.url}/missing`, expectStatus: '200', timeoutMs: 2000 });
    assert.equal(missing.ok, false);
    assert.equal(missing.code, 'status');
    assert.equal(missing.detail, 'answered 404, expected 200');
    assert.equal((await probeHttp({ url: `${plain.url}/missing`, expectStatus: '200, 4xx' })).ok, true);
    const moved = await probeHttp({ url: `${plain.url}/moved`, expectStatus: '200' });
    assert.equal(moved.status, 301);
    assert.equal(moved.ok, false);
    assert.equal((await probeHttp({ url: `${plain.url}/moved` })).ok, true); // default 200-399
  });

  test('a server that accepts but never answers: timeout', async () => {
    const r = await probeHttp({ url: `http://127.0.0.1:${silentPort}/`, timeoutMs: 300 });
    assert.equal(r.ok, false);
    assert.equal(r.code, 'timeout');
    assert.match(r.detail, /no answer within 300 ms.*hairpin NAT/);
  });

  test('refused connection, invalid URL and status, redacted URL', async () => {
    const port = await freePort();
    const r = await probeHttp({ url: `http://127.0.0.1:${port}/?token=sekret123`, timeoutMs: 2000 });
    assert.equal(r.ok, false);
    assert.equal(r.code, 'ECONNREFUSED');
    assert.equal(r.url, `http://127.0.0.1:${port}/?token=***`);
    await assert.rejects(probeHttp({ url: 'ftp://example.test/' }), isInput('invalid_url'));
    await assert.rejects(probeHttp({ url: 'not a url' }), isInput('invalid_url'));
    assert.throws(() => parseStatusSpec('abc'), isInput('invalid_status'));
    assert.throws(() => parseStatusSpec('700'), isInput('invalid_status'));
    assert.equal(parseStatusSpec('2xx').test(204), true);
    assert.equal(parseStatusSpec('200-299,401').test(401), true);
    assert.equal(parseStatusSpec('200-299,401').test(302), false);
  });
});

// ---------------------------------------------------------------- certificates from the openssl CLI
const opensslMissing = spawnSync('openssl', ['version']).error ? 'openssl not installed' : false;

interface Pki {
  dir: string;
  ca: string;
  leaf(name: string, sans: string, dates: string[]): { key: string; cert: string };
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'ddns-pki-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run([
    ...newCaArgs(3650, '/O=DDNS Test/CN=DDNS Test CA'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = test',
      '[ test ]',
      `database = ${dir}/index.txt`,
      `new_certs_dir = ${dir}`,
      `serial = ${dir}/serial`,
      `certificate = ${dir}/ca.pem`,
      `private_key = ${dir}/ca.key`,
      'default_md = sha256',
      'policy = anything',
      'unique_subject = no',
      'email_in_dn = no',
      '[ anything ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  let n = 0;
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    leaf(name, sans, dates) {
      const id = `leaf${n++}`;
      writeFileSync(
        join(dir, `${id}.ext`),
        `subjectAltName=${sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
      );
      run(['req', '-new', ...newEcKeyArgs(`${id}.key`), '-out', `${id}.csr`, '-subj', `/CN=${name}`]);
      run([
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-in',
        `${id}.csr`,
        '-out',
        `${id}.pem`,
        '-extfile',
        `${id}.ext`,
        '-notext',
        ...dates,
      ]);
      return { key: readFileSync(join(dir, `${id}.key`), 'utf8'), cert: readFileSync(join(dir, `${id}.pem`), 'utf8') };
    },
  };
}

describe('HTTPS probe with certificates made by openssl', { skip: opensslMissing }, () => {
  let pki: Pki;
  const servers: https.Server[] = [];
  const ports: Record<string, number> = {};
  before(async () => {
    pki = makePki();
    const local = 'DNS:localhost,IP:127.0.0.1,IP:::1';
    const leaves = {
      valid: pki.leaf('localhost', local, ['-days', '90']),
      soon: pki.leaf('localhost', local, ['-days', '5']),
      expired: pki.leaf('localhost', local, ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']),
      wrongName: pki.leaf('other.test', 'DNS:other.test', ['-days', '90']),
    };
    for (const [k, { key, cert }] of Object.entries(leaves)) {
      const s = https.createServer({ key, cert }, (_req, res) => {
        res.writeHead(204);
        res.end();
      });
      servers.push(s);
      ports[k] = await listen(s, '127.0.0.1');
    }
    const v6 = https.createServer(leaves.valid, (_req, res) => json(res, { ok: true }));
    servers.push(v6);
    ports.v6 = await listen(v6, '::1');
  });
  after(async () => {
    await Promise.all(servers.map(close));
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  test('a valid certificate: status verdict, days to expiry, issuer, name match', async () => {
    const r = await probeHttp({ url: `https://localhost:${ports.valid}/`, ca: pki.ca, family: 4, timeoutMs: 3000 });
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.status, 204);
    const c = r.certificate!;
    assert.equal(c.trusted, true);
    assert.equal(c.matchesName, true);
    assert.ok(c.daysToExpiry >= 88 && c.daysToExpiry <= 90, String(c.daysToExpiry));
    assert.equal(c.issuer, 'DDNS Test / DDNS Test CA');
    assert.equal(c.subject, 'localhost');
    assert.deepEqual(c.altNames, ['DNS:localhost', 'IP:127.0.0.1', 'IP:0:0:0:0:0:0:0:1']);
    assert.equal(r.warning, undefined);
    assert.match(r.detail, /^answered 204; certificate valid for \d+ more days, issued by DDNS Test \/ DDNS Test CA$/);
    const ip6 = await probeHttp({ url: `https://[::1]:${ports.v6}/`, ca: pki.ca, timeoutMs: 3000 });
    assert.equal(ip6.ok, true, ip6.detail);
    assert.equal(ip6.certificate!.matchesName, true);
  });

  test('a certificate that expires soon passes with a warning', async () => {
    const r = await probeHttp({ url: `https://127.0.0.1:${ports.soon}/`, ca: pki.ca, timeoutMs: 3000 });
    assert.equal(r.ok, true);
    assert.match(r.warning!, /expires in [45] days/);
    assert.equal(
      (await probeHttp({ url: `https://127.0.0.1:${ports.soon}/`, ca: pki.ca, certWarnDays: 2 })).warning,
      undefined,
    );
  });

  test('an expired certificate fails; the report still has its dates and issuer', async () => {
    const r = await probeHttp({ url: `https://localhost:${ports.expired}/`, ca: pki.ca, family: 4, timeoutMs: 3000 });
    assert.equal(r.ok, false);
    assert.equal(r.code, 'certificate');
    assert.equal(r.status, undefined); // no status obtained over a connection that failed verification
    assert.match(
      r.detail,
      /^certificate problem: the certificate has expired \(issued by DDNS Test \/ DDNS Test CA, valid until 2020-02-01\)$/,
    );
    assert.equal(r.certificate!.trusted, false);
    assert.ok(r.certificate!.daysToExpiry < -1000);
    assert.equal(r.certificate!.validTo, '2020-02-01T00:00:00.000Z');
  });

  test('a certificate for another name fails with what it is for', async () => {
    const r = await probeHttp({ url: `https://localhost:${ports.wrongName}/`, ca: pki.ca, family: 4, timeoutMs: 3000 });
    assert.equal(r.ok, false);
    assert.equal(r.code, 'certificate');
    assert.equal(r.certificate!.matchesName, false);
    assert.equal(r.certificate!.trusted, true); // the chain is fine, only the name is wrong
    assert.match(r.detail, /it is for DNS:other\.test, not localhost/);
    // the same certificate reached by IP address: the address is not among its names either
    const byIp = await probeHttp({ url: `https://127.0.0.1:${ports.wrongName}/`, ca: pki.ca, timeoutMs: 3000 });
    assert.equal(byIp.ok, false);
    assert.equal(byIp.certificate!.matchesName, false);
    assert.match(byIp.detail, /not 127\.0\.0\.1/);
  });

  test('a certificate from an unknown CA is not trusted (no CA given)', async () => {
    const r = await probeHttp({ url: `https://127.0.0.1:${ports.valid}/`, timeoutMs: 3000 });
    assert.equal(r.ok, false);
    assert.equal(r.code, 'certificate');
    assert.equal(r.certificate!.trusted, false);
    assert.match(r.detail, /cannot be verified|not trusted/);
  });

  test('plain HTTP spoken to an HTTPS port, and HTTPS to a plain port', async () => {
    const r = await probeHttp({ url: `http://127.0.0.1:${ports.valid}/`, timeoutMs: 2000 });
    assert.equal(r.ok, false); // Node's TLS server answers plain HTTP with 400
    const plain = await startServer((_q, res) => text(res, 'plain'));
    try {
      const t = await probeHttp({ url: `https://127.0.0.1:${plain.port}/`, timeoutMs: 2000 });
      assert.equal(t.ok, false);
      assert.match(t.detail, /TLS handshake failed|is this really an HTTPS port/);
    } finally {
      await plain.close();
    }
  });
});

describe('NAT diagnosis', () => {
  test('CGNAT from a 100.64.0.0/10 WAN address, with plain advice', () => {
    const d = diagnoseNat({ wanAddress: '100.72.3.4', publicIpv4: '203.0.113.7', publicIpv6: '2001:db8::7' });
    assert.equal(d.verdict, 'cgnat');
    assert.equal(d.portForwardingPossible, false);
    assert.match(d.summary, /^CGNAT/);
    assert.match(
      d.explanation,
      /100\.72\.3\.4 is in 100\.64\.0\.0\/10.*no port forward can make an IPv4 service reachable/,
    );
    assert.match(d.advice[0], /Ask your internet provider for a public IPv4 address/);
    assert.match(d.advice[1], /public IPv6 address \(2001:db8::7\)/);
    assert.match(d.advice[2], /Cloudflare Tunnel.*Tailscale/);
  });

  test('CGNAT from the router saying it has no public address', () => {
    assert.equal(diagnoseNat({ routerNoPublicAddress: true, publicIpv4: '203.0.113.7' }).verdict, 'cgnat');
  });

  test('double NAT from a private WAN address', () => {
    const d = diagnoseNat({ wanAddress: '192.168.178.20', publicIpv4: '203.0.113.7' });
    assert.equal(d.verdict, 'double-nat');
    assert.match(d.summary, /router's WAN address 192\.168\.178\.20 is private/);
    assert.match(d.advice.join(' '), /bridge \(modem-only\) mode/);
  });

  test('something in between, direct, unknown, non-public reserved WAN', () => {
    const between = diagnoseNat({ wanAddress: '198.51.100.9', publicIpv4: '203.0.113.7' });
    assert.equal(between.verdict, 'in-between');
    assert.match(between.explanation, /VPN/);
    const direct = diagnoseNat({ wanAddress: '203.0.113.7', publicIpv4: '203.0.113.7' });
    assert.equal(direct.verdict, 'direct');
    assert.equal(direct.portForwardingPossible, true);
    const unknown = diagnoseNat({ publicIpv4: '203.0.113.7' });
    assert.equal(unknown.verdict, 'unknown');
    assert.match(unknown.summary, /CGNAT cannot be ruled out/);
    assert.equal(diagnoseNat({ wanAddress: '198.18.0.5' }).verdict, 'cgnat');
  });

  test('invalid addresses are input errors', () => {
    assert.throws(() => diagnoseNat({ wanAddress: 'router' }), isInput('invalid_address'));
    assert.throws(() => diagnoseNat({ wanAddress: '2001:db8::1' }), isInput('invalid_address'));
    assert.throws(() => diagnoseNat({ wanAddress: '127.0.0.1' }), isInput('invalid_address'));
    assert.throws(() => diagnoseNat({ publicIpv6: '203.0.113.7' }), isInput('invalid_address'));
  });
});

describe('runChecks: probes, diagnosis and validation', () => {
  test('TCP and HTTP checks with a CGNAT diagnosis explain each other', async () => {
    const srv = net.createServer();
    const port = await listen(srv, '127.0.0.1');
    const closedPort = await freePort();
    try {
      const r = await runChecks({
        names: ['127.0.0.1'],
        tcp: { ports: [port, closedPort] },
        nat: { wanAddress: '100.64.0.9' },
        expected: { ipv4: '203.0.113.7' },
        timeoutMs: 2000,
      });
      assert.equal(r.ok, false);
      assert.deepEqual(
        r.checks.map((c) => [c.kind, c.target, c.ok]),
        [
          ['tcp', `127.0.0.1:${port}`, true],
          ['tcp', `127.0.0.1:${closedPort}`, false],
          ['nat', 'WAN 100.64.0.9', false],
        ],
      );
      assert.equal(r.diagnosis.nat!.verdict, 'cgnat');
      assert.equal(r.diagnosis.nat!.publicIpv4, '203.0.113.7');
      assert.ok(r.diagnosis.notes.some((n) => /fail as expected behind CGNAT/.test(n)));
      assert.match(r.diagnosis.summary, /^2 of 3 checks failed: 127\.0\.0\.1:\d+: connection .* refused.*\. CGNAT/);
    } finally {
      await close(srv);
    }
  });

  test('LAN names are probed over IPv6 at their own address, apart from IPv4; closed on v6 but open on v4 is said in plain words', async () => {
    // port `v4only` listens on 127.0.0.1 only (a router forwarding IPv4, its firewall closed for IPv6);
    // port `dual` on 127.0.0.1 and ::1 (both open)
    const a = net.createServer();
    const v4only = await listen(a, '127.0.0.1');
    const b = net.createServer();
    const dual = await listen(b, '127.0.0.1');
    const c = net.createServer();
    await new Promise<void>((r, j) => c.once('error', j).listen(dual, '::1', () => r()));
    try {
      const r = await runChecks({
        names: ['nas.home.test', 'printer.home.test'],
        // dns-update's results: nas has an A and its own AAAA; printer only its AAAA
        expectedByName: { 'nas.home.test': { ipv4: '127.0.0.1', ipv6: '::1' }, 'printer.home.test': { ipv6: '::1' } },
        tcp: { ports: [v4only, dual] },
        timeoutMs: 2000,
      });
      assert.deepEqual(
        r.checks.map((x) => [x.target, x.ok, x.data?.address]),
        [
          [`nas.home.test:${v4only} (IPv4)`, true, '127.0.0.1'],
          [`nas.home.test:${v4only} (IPv6)`, false, '::1'],
          [`nas.home.test:${dual} (IPv4)`, true, '127.0.0.1'],
          [`nas.home.test:${dual} (IPv6)`, true, '::1'],
          [`printer.home.test:${v4only} (IPv6)`, false, '::1'],
          [`printer.home.test:${dual} (IPv6)`, true, '::1'],
        ],
      );
      const blocked = r.checks[1];
      assert.match(
        blocked.detail,
        new RegExp(
          `^nas\\.home\\.test: connection to ::1 port ${v4only} over IPv6 refused.*\\. nas\\.home\\.test port ${v4only} answers over IPv4 but not over IPv6 \\(::1\\): the router's firewall most likely blocks incoming IPv6 connections to this host`,
        ),
      );
      assert.match(
        r.diagnosis.summary,
        /^2 of 6 checks failed: nas\.home\.test:\d+ \(IPv6\): .*answers over IPv4 but not over IPv6/,
      );
      assert.deepEqual(
        r.diagnosis.notes.filter((n) => /answers over IPv4 but not over IPv6/.test(n)).length,
        1,
        'printer has no IPv4 to compare with: no firewall note for it',
      );
      // printer's own failure is not explained by the firewall note: the general note stays
      assert.ok(r.diagnosis.notes.some((n) => /A service did not answer/.test(n)));
      // only nas's closed IPv6 port: the firewall note, not the hairpin NAT one
      const one = await runChecks({
        names: ['nas.home.test'],
        expectedByName: { 'nas.home.test': { ipv4: '127.0.0.1', ipv6: '::1' } },
        tcp: { ports: [v4only] },
        timeoutMs: 2000,
      });
      assert.deepEqual(
        one.checks.map((x) => x.ok),
        [true, false],
      );
      assert.equal(one.diagnosis.notes.length, 1);
      assert.match(one.diagnosis.notes[0], /router's IPv6 firewall/);
    } finally {
      await Promise.all([close(a), close(b), close(c)]);
    }
  });

  test('a failing service without NAT trouble mentions hairpin NAT; the external check URL gives the outside view', async () => {
    const outside = await startServer((req, res) =>
      req.query.get('key') === 'k1'
        ? json(res, { ok: false, message: 'port 443 closed from outside' })
        : json(res, { ok: true }),
    );
    const closedPort = await freePort();
    try {
      const r = await runChecks({
        names: ['127.0.0.1'],
        tcp: { ports: [closedPort], family: 'both' },
        externalUrl: `${outside.url}/check?key=k1`,
        timeoutMs: 2000,
      });
      assert.equal(r.checks.length, 2); // IPv6 skipped for an IPv4 literal
      const ext = r.checks.find((c) => c.kind === 'external')!;
      assert.equal(ext.ok, false);
      assert.equal(ext.target, `${outside.url}/check?key=***`);
      assert.match(ext.detail, /answered 200: port 443 closed from outside/);
      assert.ok(r.diagnosis.notes.some((n) => /hairpin NAT.*see the external check/.test(n)));
      const good = await runChecks({ names: [], externalUrl: `${outside.url}/check`, timeoutMs: 2000 });
      assert.equal(good.ok, true);
      assert.equal(good.diagnosis.summary, 'all 1 check passed');
    } finally {
      await outside.close();
      await closeHttpPools();
    }
  });

  test('invalid names, ports, URLs, addresses and empty plans are input errors', async () => {
    await assert.rejects(runChecks({ names: ['bad name!'], tcp: { ports: [22] } }), isInput('invalid_name'));
    await assert.rejects(runChecks({ names: ['-x.example.com'], tcp: { ports: [22] } }), isInput('invalid_name'));
    await assert.rejects(runChecks({ names: ['ok.example.com'], tcp: { ports: [0] } }), isInput('invalid_port'));
    await assert.rejects(runChecks({ names: [], http: { urls: ['mailto:me@example.com'] } }), isInput('invalid_url'));
    await assert.rejects(
      runChecks({ names: ['ok.example.com'], expected: { ipv4: '2001:db8::1' }, tcp: { ports: [22] } }),
      isInput('invalid_address'),
    );
    await assert.rejects(
      runChecks({ names: ['ok.example.com'], expected: { ipv4: '300.1.1.1' }, tcp: { ports: [22] } }),
      isInput('invalid_address'),
    );
    await assert.rejects(runChecks({ names: [], tcp: { ports: [22] } }), isInput('no_names'));
    await assert.rejects(runChecks({ names: ['ok.example.com'] }), isInput('no_checks'));
    await assert.rejects(
      runChecks({ names: [], http: { urls: ['http://127.0.0.1/'], expectStatus: 'ok' } }),
      isInput('invalid_status'),
    );
  });

  test('mapLimit never runs more than the limit at once and keeps the order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30, 0]);
    assert.equal(peak, 2);
  });
});
