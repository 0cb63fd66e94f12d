/**
 * A small fault-injecting HTTPS proxy in front of a real Pebble, on loopback.
 *
 * Every request is forwarded to Pebble with its own Host header, so Pebble builds every URL it
 * hands out (directory, Location, order, authorization, challenge, finalize, certificate) on the
 * proxy's origin and checks the JWS `url` against it: the client only ever talks to the proxy.
 * A rule answers instead of Pebble on one ACME step:
 * - `503`: HTTP 503 with an ACME problem document (serverInternal);
 * - `429`: HTTP 429, `urn:ietf:params:acme:error:rateLimited`, with `Retry-After`;
 * - `reset`: the TCP connection is reset (RST) before any answer;
 * - `badNonce`: HTTP 400 `urn:ietf:params:acme:error:badNonce` (every time: acme-client's own
 *   nonce retries run out).
 * A rule lets `skip` matching requests through, then holds for `times` of them (default: until
 * cleared).
 * `badNonce` mode answers HTTP 400 `urn:ietf:params:acme:error:badNonce` (with a fresh
 * Replay-Nonce from Pebble, as a CA does) to a share of all POSTs, from a seeded generator.
 *
 * Steps (Pebble's paths): newAccount, newOrder, challenge (the POST that asks for validation,
 * a non-empty JWS payload to /chalZ/), authz (a read or poll of the validation: POST-as-GET to
 * /authZ/ or /chalZ/), finalize, orderPoll (/my-order/), certificate (/certZ/).
 */
import https from 'node:https';
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTlsCa } from './pebble';
import { seededRandom as seeded } from '../../bench/util';

export type AcmeStep = 'newAccount' | 'newOrder' | 'challenge' | 'authz' | 'finalize' | 'orderPoll' | 'certificate';
export const ACME_STEPS: AcmeStep[] = [
  'newAccount',
  'newOrder',
  'challenge',
  'authz',
  'finalize',
  'orderPoll',
  'certificate',
];
export type AcmeFault = '503' | '429' | 'reset' | 'badNonce';

export interface FaultRule {
  step: AcmeStep;
  fault: AcmeFault;
  /** Retry-After of a 429, seconds (default 30). */
  retryAfterSeconds?: number;
  /** How many matching requests get the fault (default: every one until the rule is cleared). */
  times?: number;
  /** Let this many matching requests through first (e.g. 1 for the authorization poll after the first read). */
  skip?: number;
}

export interface FaultProxy {
  /** The directory URL to give the client (on the proxy). */
  directoryUrl: string;
  /** A bundle trusting both the proxy's and Pebble's HTTPS certificates. */
  caPem: string;
  /** Set (or clear, with null) the fault rule. */
  setRule(rule: FaultRule | null): void;
  /** Answer badNonce to this share (0..1) of POSTs, from a generator seeded with `seed`; 0 turns it off. */
  setBadNonce(share: number, seed?: number): void;
  /** Requests per step seen, and faults injected per step (since the last reset of the counters). */
  seen: Record<AcmeStep, number>;
  injected: Record<AcmeStep, number>;
  badNonces: number;
  resetCounters(): void;
  close(): Promise<void>;
}

const zero = (): Record<AcmeStep, number> =>
  Object.fromEntries(ACME_STEPS.map((s) => [s, 0])) as Record<AcmeStep, number>;

/** The step of a request, from its method, path and (for the challenge) whether the JWS payload is empty. */
function stepOf(method: string, path: string, body: string): AcmeStep | null {
  if (method !== 'POST') return null;
  if (path.startsWith('/sign-me-up')) return 'newAccount';
  if (path.startsWith('/order-plz')) return 'newOrder';
  if (path.startsWith('/chalZ/')) {
    // the POST that asks for validation has a payload (`{}`); a POST-as-GET of the challenge
    // polls the validation, like a read of the authorization
    try {
      return (JSON.parse(body) as { payload?: string }).payload ? 'challenge' : 'authz';
    } catch {
      return 'challenge';
    }
  }
  if (path.startsWith('/authZ/')) return 'authz';
  if (path.startsWith('/finalize-order/')) return 'finalize';
  if (path.startsWith('/my-order/')) return 'orderPoll';
  if (path.startsWith('/certZ/')) return 'certificate';
  return null;
}

/** A request as the proxy received it. */
export interface ProxiedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
/** An answer (the proxy's own, or Pebble's as forwarded). */
export interface ProxiedAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
/** Hooks of a shim built on the proxy (e.g. test/support/persist-shim.ts). */
export interface ProxyHooks {
  /** Answer instead of Pebble, or null to forward. */
  before?(req: ProxiedRequest): Promise<ProxiedAnswer | null>;
  /** Rewrite Pebble's answer. */
  after?(req: ProxiedRequest, answer: ProxiedAnswer): Promise<ProxiedAnswer>;
}

export async function startFaultProxy(
  pebble: { directoryUrl: string; caPem: string },
  hooks: ProxyHooks = {},
): Promise<FaultProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'ddns-fault-proxy-'));
  const tls = makeTlsCa(dir);
  const upstream = new URL(pebble.directoryUrl);
  let rule: (FaultRule & { left: number; toSkip: number }) | null = null;
  let badNonceShare = 0;
  let random = seeded(1);
  const sockets = new Set<Socket>();
  const tcp = new Map<number, Socket>(); // client port → raw TCP socket

  const forward = (method: string, path: string, headers: http.IncomingHttpHeaders, body: Buffer | null) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const r = https.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path,
          method,
          headers: { ...headers, connection: 'close' },
          ca: pebble.caPem,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(body ?? undefined);
    });

  const problem = (
    res: http.ServerResponse,
    status: number,
    type: string,
    detail: string,
    headers: Record<string, string> = {},
  ) => {
    const b = JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail, status });
    res.writeHead(status, {
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(b),
      ...headers,
    });
    res.end(b);
  };

  /** A badNonce answer with a fresh nonce from Pebble, as a CA sends it. */
  const badNonce = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    proxy.badNonces++;
    const n = await forward('HEAD', '/nonce-plz', { host: req.headers.host }, null);
    const nonce = n.headers['replay-nonce'];
    problem(
      res,
      400,
      'badNonce',
      'JWS has an invalid anti-replay nonce (fault injected by the test proxy)',
      typeof nonce === 'string' ? { 'replay-nonce': nonce } : {},
    );
  };

  const proxy: FaultProxy = {
    directoryUrl: '',
    caPem: `${readFileSync(tls.caFile, 'utf8')}\n${pebble.caPem}`,
    setRule: (r) => {
      rule = r ? { ...r, left: r.times ?? Number.POSITIVE_INFINITY, toSkip: r.skip ?? 0 } : null;
    },
    setBadNonce: (share, seed = 1) => {
      badNonceShare = share;
      random = seeded(seed);
    },
    seen: zero(),
    injected: zero(),
    badNonces: 0,
    resetCounters: () => {
      proxy.seen = zero();
      proxy.injected = zero();
      proxy.badNonces = 0;
    },
    close: async () => undefined,
  };

  const server = https.createServer(
    { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const body = Buffer.concat(chunks);
          const path = new URL(req.url ?? '/', 'https://x').pathname;
          const step = stepOf(req.method ?? 'GET', path, body.toString('utf8'));
          if (step) proxy.seen[step]++;
          if (step && rule && rule.step === step && rule.toSkip > 0) rule.toSkip--;
          else if (step && rule && rule.step === step && rule.left > 0) {
            rule.left--;
            proxy.injected[step]++;
            // the TLS socket cannot send a RST itself: its TCP socket (seen at 'connection') does
            if (rule.fault === 'reset') return (tcp.get(req.socket.remotePort ?? -1) ?? req.socket).resetAndDestroy();
            if (rule.fault === 'badNonce') return badNonce(req, res);
            if (rule.fault === '503')
              return problem(
                res,
                503,
                'serverInternal',
                'the service is temporarily unavailable (fault injected by the test proxy)',
              );
            return problem(res, 429, 'rateLimited', 'too many requests (fault injected by the test proxy)', {
              'retry-after': String(rule.retryAfterSeconds ?? 30),
            });
          }
          if (req.method === 'POST' && badNonceShare > 0 && random() < badNonceShare) return badNonce(req, res);
          const method = req.method ?? 'GET';
          const asked: ProxiedRequest = { method, path: req.url ?? '/', headers: req.headers, body };
          let up =
            (await hooks.before?.(asked)) ??
            (await forward(method, req.url ?? '/', req.headers, method === 'GET' || method === 'HEAD' ? null : body));
          if (hooks.after) up = await hooks.after(asked, up);
          const headers = { ...up.headers };
          delete headers['transfer-encoding'];
          delete headers.connection;
          headers['content-length'] = String(up.body.length);
          res.writeHead(up.status, headers);
          res.end(up.body);
        })().catch((e: Error) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`proxy error: ${e.message}`);
        });
      });
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    const port = s.remotePort ?? -1;
    tcp.set(port, s);
    s.on('close', () => {
      sockets.delete(s);
      if (tcp.get(port) === s) tcp.delete(port);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.directoryUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
  proxy.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => {
        rmSync(dir, { recursive: true, force: true });
        r();
      });
    });
  return proxy;
}
