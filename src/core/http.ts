/**
 * The one HTTP client of the package, on Node's own http/https (already loaded by Node-RED, so it
 * costs next to no memory; undici cost about 20 MB of resident memory, issue 17).
 *
 * Every request has: a total timeout (connection, headers and body), a cap on the response body (a
 * provider that answers with a huge body cannot exhaust memory), the package's User-Agent, proxy
 * support through the standard environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, as
 * undici's EnvHttpProxyAgent reads them: https falls back to HTTP_PROXY), an optional local address
 * to send from (multi-WAN) and an optional address family (an IPv4 lookup must travel over IPv4).
 * Errors are DdnsErrors whose text has been through the redactor: a URL that carries a token never
 * reaches a log in clear.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { DdnsError, transient } from './errors';
import { Redactor } from './redact';
import { serverWait } from './schedule';
import { USER_AGENT } from './version';

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** A string body is sent as is; an object is sent as JSON. */
  body?: string | object;
  /** Total time for the whole exchange, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Largest body accepted, in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Send from this local address (multi-WAN). */
  localAddress?: string;
  /** Connect over this address family only. */
  family?: 4 | 6;
  /** Ignore proxy environment variables for this request. */
  noProxy?: boolean;
  /** Secrets to remove from any error text. */
  redactor?: Redactor;
  signal?: AbortSignal;
  /** Replaces the default User-Agent (some providers want their own format). */
  userAgent?: string;
  /** Extra CA certificates to trust (PEM), e.g. a private CA. */
  ca?: string | string[];
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Time from the start of the request to the end of the body, ms. */
  ms: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY = 64 * 1024;

/** Idle pooled connections are closed after this long (a provider is called rarely). */
const KEEP_ALIVE_MS = 4_000;

/** The proxy for a URL according to the environment, or undefined for a direct connection. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const httpProxy = env.HTTP_PROXY || env.http_proxy;
  const raw = url.protocol === 'https:' ? env.HTTPS_PROXY || env.https_proxy || httpProxy : httpProxy;
  if (!raw) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const entry of (env.NO_PROXY || env.no_proxy || '').split(/[\s,]+/)) {
    if (!entry) continue;
    if (entry === '*') return undefined;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.toLowerCase());
    if (!m || (m[2] && m[2] !== port)) continue;
    const name = m[1].replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (host === name || host.endsWith(`.${name}`)) return undefined;
  }
  try {
    return new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

const basic = (u: URL) =>
  u.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
    : undefined;

/** An https agent whose connections go through an HTTP proxy's CONNECT tunnel. */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    opts: https.AgentOptions,
  ) {
    super(opts);
  }
  override createConnection(
    o: https.RequestOptions & { servername?: string },
    cb: (err: Error | null, s?: Duplex) => void,
  ): undefined {
    const target = `${o.host}:${o.port}`;
    const auth = basic(this.proxy);
    const connect = (this.proxy.protocol === 'https:' ? https : http).request({
      host: this.proxy.hostname.replace(/^\[|\]$/g, ''),
      port: this.proxy.port || (this.proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(auth ? { 'proxy-authorization': auth } : {}) },
      localAddress: o.localAddress,
      family: o.family,
      agent: false,
      signal: o.signal,
    });
    connect.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        const e = Object.assign(new Error(`the proxy answered HTTP ${res.statusCode} to CONNECT`), {
          code: 'proxy_refused',
        });
        return cb(e);
      }
      const host = String(o.host);
      const s = tls.connect({ socket, servername: o.servername || (isIP(host) ? undefined : host), ca: o.ca });
      s.once('secureConnect', () => cb(null, s));
      s.once('error', (e) => cb(e));
    });
    connect.once('error', (e) => cb(e));
    connect.setTimeout(DEFAULT_TIMEOUT_MS, () => connect.destroy(new Error('the proxy did not answer CONNECT')));
    connect.end();
    return undefined;
  }
}

const agents = new Map<string, http.Agent>();

/** A pooled agent per kind of connection (direct or through which proxy); sockets are kept 4 s. */
function agentFor(url: URL, proxy: URL | undefined): http.Agent {
  const tls = url.protocol === 'https:';
  const key = `${tls ? 's' : ''}|${proxy?.href ?? ''}`;
  let a = agents.get(key);
  if (!a) {
    const opts = { keepAlive: true, timeout: KEEP_ALIVE_MS, maxFreeSockets: 4 };
    a = !tls ? new http.Agent(opts) : proxy ? new TunnelAgent(proxy, opts) : new https.Agent(opts);
    agents.set(key, a);
  }
  return a;
}

/** Close every pooled connection (tests and Node-RED shutdown). */
export async function closeHttpPools(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  for (const a of all) a.destroy();
}

function describeNetworkError(e: unknown): { code: string; text: string } {
  const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.code ?? err?.cause?.code ?? err?.name ?? 'network';
  const map: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by the server',
    ENOTFOUND: 'name not found',
    EAI_AGAIN: 'name lookup failed (temporary)',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable (no route for this address family?)',
    EADDRNOTAVAIL: 'local address not available',
    ERR_STREAM_PREMATURE_CLOSE: 'connection closed unexpectedly',
    proxy_refused: 'the proxy refused the connection',
    CERT_HAS_EXPIRED: 'the server certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate cannot be verified',
    ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not match the name',
  };
  return { code, text: map[code] ?? err?.cause?.message ?? err?.message ?? String(e) };
}

/**
 * Parse a Retry-After header (seconds or HTTP date) into ms from now, clamped like every server
 * wait (schedule.ts serverWait): 0 for "now" or a past date, else 1 s – 24 h, so that an absurd
 * value (20 digits, a date in the year 9999) never becomes Infinity or an invalid date anywhere.
 * A wait of exactly MAX_SERVER_WAIT_MS may stand for a longer one the server asked for.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = value.trim();
  if (/^\d+$/.test(s)) return serverWait(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : serverWait(t - now);
}

/** Send the request (direct, or through the environment's proxy) and wait for the answer's head. */
function send(
  r: HttpRequest,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<http.IncomingMessage> {
  const url = new URL(r.url);
  const proxy = r.noProxy ? undefined : proxyFor(url);
  const viaHttpProxy = proxy && url.protocol === 'http:';
  const auth = viaHttpProxy ? basic(proxy) : undefined;
  const h: Record<string, string> = { ...headers };
  if (body !== undefined) h['content-length'] = String(Buffer.byteLength(body));
  if (auth) h['proxy-authorization'] = auth;
  const opts: https.RequestOptions = {
    method: r.method ?? 'GET',
    headers: h,
    signal,
    agent: agentFor(url, proxy),
    localAddress: r.localAddress,
    family: r.family,
    ...(viaHttpProxy
      ? { host: proxy.hostname.replace(/^\[|\]$/g, ''), port: proxy.port || 80, path: url.href }
      : {
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          servername: isIP(url.hostname.replace(/^\[|\]$/g, '')) ? undefined : url.hostname,
        }),
  };
  if (r.ca) opts.ca = r.ca;
  h.host = url.host;
  const lib = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!lib) return Promise.reject(Object.assign(new Error(`unsupported protocol ${url.protocol}`), { code: 'url' }));
  return new Promise((resolve, reject) => {
    const req = lib.request(opts, resolve);
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * Perform one request. Resolves for any HTTP status (the caller interprets it); rejects with a
 * transient DdnsError on network failure, timeout, or a body over the cap.
 */
export async function httpRequest(r: HttpRequest): Promise<HttpResponse> {
  const redactor = r.redactor ?? new Redactor();
  const timeoutMs = r.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBody = r.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const started = performance.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = r.signal ? AbortSignal.any([r.signal, timeout]) : timeout;
  const headers: Record<string, string> = { 'user-agent': r.userAgent ?? USER_AGENT, accept: '*/*', ...r.headers };
  let body: string | undefined;
  if (r.body !== undefined) {
    if (typeof r.body === 'string') body = r.body;
    else {
      body = JSON.stringify(r.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  const safeUrl = redactor.text(r.url);
  const where = (() => {
    try {
      const u = new URL(r.url);
      return u.host;
    } catch {
      return safeUrl;
    }
  })();
  try {
    const res = await send(r, headers, body, signal);
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      res.destroy();
      throw transient(`${where} sent an answer of ${declared} bytes, more than the ${maxBody} accepted`, {
        code: 'body_too_large',
      });
    }
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > maxBody) {
        res.destroy();
        throw transient(`${where} sent an answer larger than the ${maxBody} bytes accepted`, {
          code: 'body_too_large',
        });
      }
      chunks.push(chunk as Buffer);
    }
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    return {
      status: res.statusCode ?? 0,
      headers: flat,
      body: Buffer.concat(chunks).toString('utf8'),
      ms: performance.now() - started,
    };
  } catch (e) {
    if (e instanceof DdnsError) throw redactor.error(e);
    if (r.signal?.aborted) {
      throw redactor.error(transient(`request to ${where} was cancelled`, { code: 'aborted' }));
    }
    if (timeout.aborted) {
      throw redactor.error(transient(`${where} did not answer within ${timeoutMs} ms`, { code: 'timeout' }));
    }
    const { code, text } = describeNetworkError(e);
    throw redactor.error(
      transient(`${where}: ${text}`, { code, detail: redactor.text(String((e as Error)?.message ?? e)) }),
    );
  }
}

/**
 * A short, single-line, redacted excerpt of a body for error messages (HTML reduced to its title).
 * The whole body is redacted first, then reduced and shortened: a cut can never leave the start of
 * a secret that redaction would no longer recognise. Without a redactor, secret-looking URL parts
 * are still removed.
 */
export function excerpt(body: string, redactor: Redactor = new Redactor(), max = 120): string {
  let t = redactor.text(body);
  if (/<\s*(html|!doctype|body|head)\b/i.test(t)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(t)?.[1];
    t = `HTML page${title ? ` "${title.trim()}"` : ''}`;
  }
  t = t.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t || '(empty)';
}
