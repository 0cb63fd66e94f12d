import { after, test } from '../support/suite';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { closeHttpPools, excerpt, httpRequest, parseRetryAfter } from '../../src/core/http';
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
    if (req.path === '/stalls') return void res.writeHead(200, { 'content-length': '100' }).write('part'); // body never ends
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
    // The headers came, the body stalls: the same timeout, and nothing is left unhandled.
    await assert.rejects(
      httpRequest({ url: `${srv.url}/stalls`, timeoutMs: 300 }),
      (e: DdnsError) => e.code === 'timeout' && e.kind === 'transient',
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

test('http: the caller cancels (before and during the request)', async () => {
  const srv = await startServer((req, res) => {
    if (req.path === '/slow') return; // never answers
    if (req.path === '/stalls') return void res.writeHead(200, { 'content-length': '100' }).write('part'); // body never ends
    text(res, 'ok');
  });
  try {
    const before = new AbortController();
    before.abort();
    await assert.rejects(
      httpRequest({ url: `${srv.url}/ok`, signal: before.signal }),
      (e: DdnsError) => e.code === 'aborted' && e.kind === 'transient',
    );
    const during = new AbortController();
    const pending = httpRequest({ url: `${srv.url}/slow`, signal: during.signal, timeoutMs: 60_000 });
    setTimeout(() => during.abort(), 50);
    await assert.rejects(pending, (e: DdnsError) => e.code === 'aborted' && /was cancelled/.test(e.message));
    // the caller's signal outlives the request: nothing is left listening to it
    const caller = new AbortController();
    assert.equal((await httpRequest({ url: `${srv.url}/ok`, signal: caller.signal })).body, 'ok');
    caller.abort();
  } finally {
    await srv.close();
  }
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

test(
  'http: HTTP_PROXY from the environment is used; noProxy goes direct; a proxy that never answers times out',
  { timeout: 60_000 },
  async () => {
    // A forward proxy on loopback: undici's proxy agent tunnels with CONNECT (RFC 9110 §9.3.6), also
    // to an http:// target. `silent` accepts the CONNECT and never answers it.
    const seen: string[] = [];
    let silent = false;
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    const sockets = new Set<Socket>(); // a CONNECT's socket leaves the server's own bookkeeping
    proxy.on('connection', (socket: Socket) => sockets.add(socket));
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      seen.push(`CONNECT ${req.url}`);
      if (silent) return;
      const [host, port] = (req.url ?? '').split(':');
      const up = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const srv = await startServer((req, res) => text(res, `through ${req.path}`));
    const saved = { ...process.env };
    try {
      for (const k of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'])
        delete process.env[k];
      process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const r = await httpRequest({ url: `${srv.url}/via?x=1` });
      assert.equal(r.body, 'through /via');
      assert.deepEqual(seen, [`CONNECT ${new URL(srv.url).host}`], 'the request went through the proxy');
      const direct = await httpRequest({ url: `${srv.url}/direct`, noProxy: true });
      assert.equal(direct.body, 'through /direct');
      assert.equal(seen.length, 1, 'a noProxy request does not go through the proxy');

      silent = true;
      await closeHttpPools(); // a new tunnel for the next request
      await assert.rejects(httpRequest({ url: `${srv.url}/late`, timeoutMs: 500 }), (e: DdnsError) => {
        assert.equal(e.code, 'timeout');
        return true;
      });
    } finally {
      process.env = saved;
      await closeHttpPools();
      for (const socket of sockets) socket.destroy();
      await srv.close();
      await new Promise((r) => proxy.close(r));
    }
  },
);
