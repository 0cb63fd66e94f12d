/**
 * A small HTTP server on loopback for contract tests: records every request (method, path,
 * query, headers, body) and answers through a handler the test supplies.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  remoteAddress: string;
  /** When the request had arrived in full (epoch ms). */
  at: number;
  /** Basic auth user and password, when sent. */
  basic?: { user: string; password: string };
}

export type Handler = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;

export interface TestServer {
  url: string;
  port: number;
  host: string;
  requests: RecordedRequest[];
  /** Replace the handler (tests that change the answer midway). */
  setHandler(h: Handler): void;
  close(): Promise<void>;
}

export async function startServer(handler: Handler, host = '127.0.0.1'): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  let current = handler;
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remoteAddress: req.socket.remoteAddress ?? '',
        at: Date.now(),
      };
      const auth = req.headers.authorization;
      if (auth?.startsWith('Basic ')) {
        const dec = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const i = dec.indexOf(':');
        rec.basic = { user: dec.slice(0, i), password: dec.slice(i + 1) };
      }
      requests.push(rec);
      Promise.resolve(current(rec, res)).catch((e) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(e));
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${h}:${port}`,
    port,
    host,
    requests,
    setHandler: (nh) => {
      current = nh;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answer with a plain-text body (Content-Length set). */
export function text(res: http.ServerResponse, body: string, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** Answer with a JSON body. */
export function json(
  res: http.ServerResponse,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s), ...headers });
  res.end(s);
}

/** Run `fn` with a started server (or anything closable) and close it afterwards, whatever happens. */
export async function withServer<S extends { close(): Promise<unknown> }>(
  server: Promise<S> | S,
  fn: (s: S) => Promise<void>,
): Promise<void> {
  const s = await server;
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}
