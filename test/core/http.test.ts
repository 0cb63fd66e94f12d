import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeHttpPools, excerpt, httpRequest, parseRetryAfter, proxyFor } from '../../src/core/http';
import { makeTlsCa } from '../support/pebble';
import { Redactor } from '../../src/core/redact';
import { DdnsError } from '../../src/core/errors';
import { startServer, text } from '../support/http-server';
import { USER_AGENT } from '../../src/core/version';

after(closeHttpPools);

test('http: user agent, body, status; body cap; timeout; redacted errors', async () => {
  const srv = await startServer((req, res) => {
    if (req.path === '/big') return text(res, 'x'.repeat(200_000));
    if (req.path === '/chunked-big') {
      res.writeHead(200);
      for (let i = 0; i < 100; i++) res.write('y'.repeat(10_000));
      return void res.end();
    }
    if (req.path === '/slow') return; // never answers
    text(res, 'hello', 201, { 'retry-after': '7' });
  });
  try {
    const r = await httpRequest({ url: `${srv.url}/ok?token=SECRET123` });
    assert.equal(r.status, 201);
    assert.equal(r.body, 'hello');
    assert.equal(r.headers['retry-after'], '7');
    assert.equal(srv.requests[0].headers['user-agent'], USER_AGENT);

    await assert.rejects(
      httpRequest({ url: `${srv.url}/big`, maxBodyBytes: 1000 }),
      (e: DdnsError) => e.code === 'body_too_large' && e.kind === 'transient',
    );
    await assert.rejects(
      httpRequest({ url: `${srv.url}/chunked-big`, maxBodyBytes: 1000 }),
      (e: DdnsError) => e.code === 'body_too_large',
    );
    await assert.rejects(
      httpRequest({ url: `${srv.url}/slow`, timeoutMs: 300 }),
      (e: DdnsError) => e.code === 'timeout' && /did not answer within 300 ms/.test(e.message),
    );
  } finally {
    await srv.close();
  }
  const red = new Redactor(['SECRET123']);
  await assert.rejects(
    httpRequest({ url: `http://127.0.0.1:1/u/SECRET123/?token=SECRET123`, redactor: red, timeoutMs: 2000 }),
    (e: DdnsError) => {
      assert.doesNotMatch(String(e.message) + String(e.stack) + String(e.detail), /SECRET123/);
      assert.equal(e.kind, 'transient');
      return true;
    },
  );
});

test('http: helpers', () => {
  assert.equal(parseRetryAfter('120'), 120_000);
  assert.equal(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())! > 55_000, true);
  assert.equal(parseRetryAfter('nonsense'), undefined);
  assert.equal(
    excerpt('<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>'),
    'HTML page "502 Bad Gateway"',
  );
  assert.equal(excerpt('https://x/u/TOKEN/?a=1', new Redactor()), 'https://x/u/***/?a=1');
});

// The client honours the proxy variables as undici's EnvHttpProxyAgent did (issue 17 replaced
// undici by node:http/https): plain HTTP goes to the proxy with the absolute URL (RFC 9112 §3.2.2),
// HTTPS through a CONNECT tunnel (RFC 9110 §9.3.6) with TLS to the origin, NO_PROXY bypasses it.
test('http: HTTP_PROXY / HTTPS_PROXY / NO_PROXY, proxy credentials, CONNECT tunnel with TLS to the origin', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddns-http-proxy-'));
  const pki = makeTlsCa(dir);
  const origin = https.createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req, res) =>
    res.end(`tls ${req.headers.host} ${req.url}`),
  );
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originPort = (origin.address() as AddressInfo).port;
  const seen: string[] = [];
  const proxy = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['proxy-authorization'] ?? '-'}`);
    res.end(`proxied ${req.url}`);
  });
  proxy.on('connect', (req: http.IncomingMessage, client: Duplex) => {
    seen.push(`CONNECT ${req.url} ${req.headers['proxy-authorization'] ?? '-'}`);
    const [host, port] = String(req.url).split(':');
    const up = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      up.pipe(client).pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://user:p%40ss@127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const saved = { ...process.env };
  try {
    for (const k of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'])
      delete process.env[k];
    process.env.HTTP_PROXY = proxyUrl;
    const plain = await httpRequest({ url: 'http://provider.example:8080/nic/update?x=1' });
    assert.equal(plain.body, 'proxied http://provider.example:8080/nic/update?x=1');
    const auth = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    assert.equal(seen.shift(), `GET http://provider.example:8080/nic/update?x=1 ${auth}`);

    const ca = readFileSync(pki.caFile, 'utf8');
    const tunnelled = await httpRequest({ url: `https://localhost:${originPort}/x`, ca });
    assert.equal(tunnelled.body, `tls localhost:${originPort} /x`);
    assert.equal(seen.shift(), `CONNECT localhost:${originPort} ${auth}`);

    process.env.NO_PROXY = 'other.example, localhost';
    const direct = await httpRequest({ url: `https://localhost:${originPort}/y`, ca });
    assert.equal(direct.body, `tls localhost:${originPort} /y`);
    const noProxy = await httpRequest({ url: `https://127.0.0.1:${originPort}/z`, ca, noProxy: true });
    assert.equal(noProxy.body, `tls 127.0.0.1:${originPort} /z`);
    assert.deepEqual(seen, []);

    assert.equal(proxyFor(new URL('https://a.example'), { HTTP_PROXY: 'http://p:1' })?.port, '1');
    assert.equal(proxyFor(new URL('https://a.example'), { HTTPS_PROXY: 'p:2', HTTP_PROXY: 'http://p:1' })?.port, '2');
    assert.equal(proxyFor(new URL('http://a.example'), { HTTPS_PROXY: 'p:2' }), undefined);
    assert.equal(proxyFor(new URL('http://x.a.example'), { HTTP_PROXY: 'p:1', NO_PROXY: '.a.example' }), undefined);
    assert.equal(proxyFor(new URL('http://a.example:81'), { HTTP_PROXY: 'p:1', NO_PROXY: 'a.example:80' })?.port, '1');
    assert.equal(proxyFor(new URL('http://[::1]:81'), { HTTP_PROXY: 'p:1', NO_PROXY: '[::1]' }), undefined);
    assert.equal(proxyFor(new URL('http://a.example'), { HTTP_PROXY: 'p:1', NO_PROXY: '*' }), undefined);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    await closeHttpPools();
    await new Promise((r) => proxy.close(r));
    proxy.closeAllConnections();
    await new Promise((r) => origin.close(r));
    origin.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  }
});
