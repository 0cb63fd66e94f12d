/**
 * HTTP-01 (RFC 8555 §8.3) answered by cert-renew's own listener, validated for real by Pebble on
 * loopback: Pebble resolves the name at a real BIND and connects to its `httpPort` (the port the CA
 * would use, 80, in a lab of its own). The check before the order (addresses at the authoritative
 * servers, a TCP connect, a GET of a probe token) and its CGNAT diagnosis stop orders that cannot
 * work before the CA is asked: a fault proxy in front of Pebble counts the newOrder requests.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';
import { startFaultProxy, type FaultProxy } from '../support/acme-fault-proxy';
import { freePort, portOpen } from '../support/ports';
import { ensureCertificate, type CertificateJob } from '../../src/core/acme/manager';
import { Http01Solver, ownPortListener, TokenStore, answerFrom } from '../../src/core/acme/http01';
import { certInfo } from '../../src/core/acme/x509';
import { readCertificateSet } from '../../src/core/acme/storage';
import type { DdnsError, Sentence } from '../../src/core/errors';
import type { NatEvidence } from '../../src/core/reach/cgnat';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'home.test';

/** HTTP-01 writes no TXT record: the DNS-01 wait must never be called. */
const noTxt = async () => assert.fail('no TXT record is waited for with HTTP-01');

describe('HTTP-01 with Pebble and BIND', { skip }, () => {
  let bind: BindServer;
  let pebble: PebbleServer;
  let proxy: FaultProxy;
  let dir: string;
  let httpPort: number;
  const logs: string[] = [];
  const job = (over: Partial<CertificateJob> = {}): CertificateJob => ({
    names: [`www.${ZONE}`],
    directoryUrl: proxy.directoryUrl,
    caPem: proxy.caPem,
    keyType: 'ecdsa-p256',
    outDir: join(dir, 'live'),
    accountDir: join(dir, 'accounts'),
    ...over,
  });
  const solver = (o: { checkPort?: number; nat?: () => NatEvidence } = {}) =>
    new Http01Solver({
      listener: ownPortListener(httpPort, '127.0.0.1'),
      checkPort: o.checkPort ?? httpPort,
      authServers: [{ host: '127.0.0.1', port: bind.port }],
      timeoutMs: 2000,
      nat: o.nat,
    });
  const run = (names: string[], s: Http01Solver, out = 'live') =>
    ensureCertificate(job({ names, outDir: join(dir, out) }), {
      solver: s,
      waitVisible: noTxt,
      log: (t) => logs.push(t),
    });

  before(async () => {
    bind = await startBind([
      {
        name: ZONE,
        records: [
          'www 60 IN A 127.0.0.1',
          'two 60 IN A 127.0.0.1',
          'cg 60 IN A 100.64.1.2',
          'lan 60 IN A 192.168.1.20',
        ],
      },
    ]);
    httpPort = await freePort();
    pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, httpPort });
    proxy = await startFaultProxy(pebble);
    dir = mkdtempSync(join(tmpdir(), 'ddns-http01-'));
  });
  after(async () => {
    await proxy?.close();
    await pebble?.stop();
    await bind?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('issues through HTTP-01 on its own port, checked from here first; the port is closed after', async () => {
    logs.length = 0;
    const r = await run([`www.${ZONE}`, `two.${ZONE}`], solver());
    assert.equal(r.renewed, true);
    const set = (await readCertificateSet(join(dir, 'live')))!;
    assert.deepEqual([...certInfo(set.cert).names].sort(), [`two.${ZONE}`, `www.${ZONE}`]);
    assert.ok(
      logs.some((l) => l.includes(`HTTP-01 check of www.${ZONE}: port ${httpPort} of 127.0.0.1 leads to port`)),
      logs.join('\n'),
    );
    assert.match(pebble.log(), /validate w\/ HTTP: http:\/\/www\.home\.test:\d+\/\.well-known\/acme-challenge\//);
    assert.equal(await portOpen(httpPort), false, 'nothing listens once the order is over');
  });

  test('the token store answers only known tokens, and nothing once cleared', () => {
    const store = new TokenStore();
    store.set('abc_DEF-1', 'abc_DEF-1.thumb');
    assert.equal(answerFrom(store, '/.well-known/acme-challenge/abc_DEF-1?x=1', 'GET').body, 'abc_DEF-1.thumb');
    assert.equal(answerFrom(store, '/.well-known/acme-challenge/abc_DEF-1', 'POST').status, 404);
    assert.equal(answerFrom(store, '/.well-known/acme-challenge/../abc', 'GET').status, 404);
    assert.equal(answerFrom(store, '/other/abc_DEF-1', 'GET').status, 404);
    store.clear();
    assert.equal(answerFrom(store, '/.well-known/acme-challenge/abc_DEF-1', 'GET').status, 404);
  });

  test('a name on a CGNAT address (100.64.0.0/10): the CGNAT diagnosis, and no order at all', async () => {
    proxy.resetCounters();
    await assert.rejects(run([`cg.${ZONE}`], solver(), 'cg'), (e: DdnsError) => {
      assert.equal(e.code, 'http01_cgnat');
      assert.equal(e.kind, 'fatal');
      assert.match(e.message, /HTTP-01 cannot work for cg\.home\.test: CGNAT/);
      assert.match(e.message, /ask your internet provider|Ask your internet provider/i);
      assert.match(e.message, /use DNS-01/);
      return true;
    });
    assert.equal(proxy.seen.newOrder, 0, 'the CA was not asked for an order');
    assert.equal(await portOpen(httpPort), false);
  });

  test('a name on a private address: said before ordering', async () => {
    proxy.resetCounters();
    await assert.rejects(run([`lan.${ZONE}`], solver(), 'lan'), (e: DdnsError) => {
      assert.equal(e.code, 'http01_unreachable');
      assert.match(e.message, /points at 192\.168\.1\.20, and that is a private address/);
      // The same as a sentence in the user's language: "that is" + the address's range (issue 15).
      assert.equal(e.sentence?.key, 'acme.http01.unreachable');
      assert.equal((e.sentence?.params.reason as Sentence | undefined)?.key, 'acme.http01.that_is');
      return true;
    });
    assert.equal(proxy.seen.newOrder, 0);
  });

  test('port 80 closed and the WAN address public-ip-watch reported is in 100.64.0.0/10: CGNAT, no order', async () => {
    proxy.resetCounters();
    const closed = await freePort();
    await assert.rejects(
      run([`www.${ZONE}`], solver({ checkPort: closed, nat: () => ({ wanAddress: '100.64.7.8' }) }), 'cg2'),
      (e: DdnsError) => {
        assert.equal(e.code, 'http01_cgnat');
        assert.match(e.message, /router's WAN address 100\.64\.7\.8 is in 100\.64\.0\.0\/10/);
        return true;
      },
    );
    assert.equal(proxy.seen.newOrder, 0);
  });

  test('a wildcard is refused: wildcards need DNS-01', async () => {
    await assert.rejects(run([`*.${ZONE}`], solver(), 'wild'), (e: DdnsError) => {
      assert.equal(e.code, 'http01_wildcard');
      assert.match(e.message, /only through DNS-01/);
      return true;
    });
  });

  test("another web server on the CA's port: the order goes ahead, and the CA's verdict says what the check found", async () => {
    // Port 80 (here Pebble's httpPort) leads to another server; cert-renew listens elsewhere.
    const other = http.createServer((_req, res) => (res.writeHead(404), res.end('router page')));
    await new Promise<void>((r) => other.listen(httpPort, '127.0.0.1', () => r()));
    const own = await freePort();
    const s = new Http01Solver({
      listener: ownPortListener(own, '127.0.0.1'),
      checkPort: httpPort,
      authServers: [{ host: '127.0.0.1', port: bind.port }],
      timeoutMs: 2000,
    });
    try {
      await assert.rejects(run([`www.${ZONE}`], s, 'other'), (e: DdnsError) => {
        assert.equal(e.code, 'acme_validation');
        assert.match(e.message, /through HTTP-01/);
        assert.match(e.message, /answered HTTP 404 with something else: another web server/);
        assert.match(e.message, new RegExp(`must lead to port ${own} of this machine`));
        return true;
      });
    } finally {
      other.closeAllConnections();
      await new Promise((r) => other.close(r));
    }
    assert.equal(await portOpen(own), false);
  });
});
