/**
 * The one HTTP client of the package (undici 7).
 *
 * Every request has: a total timeout (headers and body), a cap on the response body (a provider
 * that answers with a huge body cannot exhaust memory), the package's User-Agent, proxy support
 * through the standard environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), an optional
 * local address to send from (multi-WAN) and an optional address family (an IPv4 lookup must
 * travel over IPv4). Errors are DdnsErrors whose text has been through the redactor: a URL that
 * carries a token never reaches a log in clear.
 */
import type { Agent as AgentClass, Dispatcher, EnvHttpProxyAgent as EnvAgentClass } from 'undici';
import { DdnsError, say, transient, type Sentence } from './errors';
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

/*
 * undici's index loads all of undici (fetch, WebSocket, caches, mocks: 9 MB more in a bare process,
 * 62.5 against 53.5 MB); the package needs its two agents and Dispatcher#request only (issue 17).
 * undici 7 has no exports map, so these files are what its index itself requires; the lock file
 * pins the version, and every HTTP test fails at once if a path moves. Dispatcher#request comes
 * from lib/api, as the index assigns it.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const DispatcherBase = require('undici/lib/dispatcher/dispatcher') as { prototype: object };
Object.assign(DispatcherBase.prototype, require('undici/lib/api'));
const Agent = require('undici/lib/dispatcher/agent') as typeof AgentClass;
const EnvHttpProxyAgent = require('undici/lib/dispatcher/env-http-proxy-agent') as typeof EnvAgentClass;
/* eslint-enable @typescript-eslint/no-require-imports */

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY = 64 * 1024;

const dispatchers = new Map<string, Dispatcher>();

function dispatcherFor(r: HttpRequest): Dispatcher {
  const key = JSON.stringify([
    r.localAddress ?? '',
    r.family ?? 0,
    r.noProxy ? 1 : 0,
    r.ca ?? '',
    process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    process.env.NO_PROXY ?? process.env.no_proxy ?? '',
  ]);
  let d = dispatchers.get(key);
  if (!d) {
    const connect: Record<string, unknown> = { timeout: r.timeoutMs ?? DEFAULT_TIMEOUT_MS };
    if (r.localAddress) connect.localAddress = r.localAddress;
    if (r.family) connect.family = r.family;
    if (r.ca) connect.ca = r.ca;
    const opts = { connect, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 10_000 };
    d = r.noProxy ? new Agent(opts) : new EnvHttpProxyAgent(opts);
    dispatchers.set(key, d);
  }
  return d;
}

/** A promise that rejects when `signal` aborts (never settles otherwise). */
function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = () => reject(new Error('aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/** Close every pooled connection (tests and Node-RED shutdown). */
export async function closeHttpPools(): Promise<void> {
  const all = [...dispatchers.values()];
  dispatchers.clear();
  // destroy, not close: close() would wait for a request that a silent proxy never lets finish
  await Promise.allSettled(all.map((d) => d.destroy()));
}

/** Network failures in words (catalog keys `core.http.net.<code>`). */
export const NETWORK_TEXTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ENOTFOUND: 'name not found',
  EAI_AGAIN: 'name lookup failed (temporary)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable (no route for this address family?)',
  EADDRNOTAVAIL: 'local address not available',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for an answer',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the answer',
  UND_ERR_SOCKET: 'connection closed unexpectedly',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate cannot be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not match the name',
};

function describeNetworkError(e: unknown): { code: string; text: string | Sentence } {
  const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.code ?? err?.cause?.code ?? err?.name ?? 'network';
  const known = Object.prototype.hasOwnProperty.call(NETWORK_TEXTS, code);
  return {
    code,
    text: known ? say(`http.net.${code}`, NETWORK_TEXTS[code]) : (err?.cause?.message ?? err?.message ?? String(e)),
  };
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

/**
 * Perform one request. Resolves for any HTTP status (the caller interprets it); rejects with a
 * transient DdnsError on network failure, timeout, or a body over the cap.
 */
export async function httpRequest(r: HttpRequest): Promise<HttpResponse> {
  const redactor = r.redactor ?? new Redactor();
  const timeoutMs = r.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBody = r.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const started = performance.now();
  // One timer, cleared when the exchange ends (see the finally below). AbortSignal.timeout() kept
  // its signal, and what listened to it, reachable for the whole timeout however quickly the answer
  // came (its timer holds it through a WeakRef, which V8's minor GC treats as strong): each request's
  // objects were copied into the old generation (issue 17: 20.5 → 17.5 MB promoted per 1,000 changes).
  // Unreferenced like AbortSignal.timeout's: a pending request does not keep the process alive.
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, timeoutMs).unref();
  const onCallerAbort = () => ctl.abort();
  r.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (r.signal?.aborted) ctl.abort();
  const signal = ctl.signal;
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
    const url = new URL(r.url);
    const pending = dispatcherFor(r).request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: r.method ?? 'GET',
      headers,
      body,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    // A dispatcher that does not hear the abort (undici's proxy agent while a proxy leaves its
    // CONNECT unanswered) must not hold the caller past the timeout: the abort wins the race, and
    // an answer that still comes later is thrown away.
    pending.then(
      (late) => {
        if (signal.aborted) late.body.on('error', () => {}).destroy();
      },
      () => undefined,
    );
    // (race subscribes to both: a later abort, while the body is read, is never an unhandled rejection)
    const res = await Promise.race([pending, whenAborted(signal)]);
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      // Destroying an unread undici body emits an 'error' (RequestAbortedError): without a
      // listener it would be an uncaught exception that takes the whole process down.
      res.body.on('error', () => {});
      res.body.destroy();
      throw transient(
        say('http.body_declared', '__where__ sent an answer of __bytes__ bytes, more than the __max__ accepted', {
          where,
          bytes: declared,
          max: maxBody,
        }),
        { code: 'body_too_large' },
      );
    }
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBody) {
        res.body.destroy();
        throw transient(
          say('http.body_large', '__where__ sent an answer larger than the __max__ bytes accepted', {
            where,
            max: maxBody,
          }),
          { code: 'body_too_large' },
        );
      }
      chunks.push(chunk as Buffer);
    }
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    return {
      status: res.statusCode,
      headers: flat,
      body: Buffer.concat(chunks).toString('utf8'),
      ms: performance.now() - started,
    };
  } catch (e) {
    if (e instanceof DdnsError) throw redactor.error(e);
    if (r.signal?.aborted) {
      throw redactor.error(
        transient(say('http.cancelled', 'request to __where__ was cancelled', { where }), { code: 'aborted' }),
      );
    }
    if (timedOut) {
      throw redactor.error(
        transient(say('http.timeout', '__where__ did not answer within __ms__ ms', { where, ms: timeoutMs }), {
          code: 'timeout',
        }),
      );
    }
    const { code, text } = describeNetworkError(e);
    throw redactor.error(
      transient(say('http.network', '__where__: __reason__', { where, reason: text }), {
        code,
        detail: redactor.text(String((e as Error)?.message ?? e)),
      }),
    );
  } finally {
    clearTimeout(timer);
    r.signal?.removeEventListener('abort', onCallerAbort);
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
