/**
 * HTTP(S) reachability: does a URL answer with an expected status, and is its certificate good?
 *
 * Contract of `probeHttp`:
 * - One GET, redirects not followed (a 301 is a status like any other), the body is not read.
 * - TLS is verified as any browser would (trusted chain, validity dates, name): the status verdict
 *   is never obtained over an unverified connection. When verification fails, a second connection
 *   that sends nothing reads the certificate for the report (issuer, dates, names, the problem).
 * - Resolves for every network outcome (`ok` false with a sentence for a person); throws only for
 *   invalid input (DdnsError kind `input`) or when the signal is aborted.
 * Node's http/https/tls are used directly because undici does not expose the peer certificate.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { badInput, english, say, transient, type Sentence } from '../errors';
import { listSaid, type Said } from '../said';
import { Redactor } from '../redact';
import { USER_AGENT } from '../version';

export interface StatusSpec {
  /** Normalised text, e.g. `200-399` or `200,401`. */
  text: string;
  test(status: number): boolean;
}

/** Parse "200", "2xx", "200-299", "200,301-302,4xx" (comma or space separated). */
export function parseStatusSpec(input: string | number | undefined | null): StatusSpec {
  const raw = String(input ?? '').trim() || '200-399';
  const ranges: Array<[number, number]> = [];
  for (const part of raw.split(/[\s,]+/).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^([1-5])xx$/i.exec(part))) ranges.push([Number(m[1]) * 100, Number(m[1]) * 100 + 99]);
    else if ((m = /^(\d{3})$/.exec(part))) ranges.push([Number(m[1]), Number(m[1])]);
    else if ((m = /^(\d{3})-(\d{3})$/.exec(part)) && Number(m[1]) <= Number(m[2]))
      ranges.push([Number(m[1]), Number(m[2])]);
    else
      throw badInput(
        say(
          'reach.status_spec',
          '"__part__" is not an HTTP status: use e.g. 200, 2xx, 200-399 or a comma-separated list',
          { part },
        ),
        'invalid_status',
      );
    const last = ranges[ranges.length - 1];
    if (last[0] < 100 || last[1] > 599)
      throw badInput(
        say('reach.status_range', '"__part__" is not an HTTP status (100-599)', { part }),
        'invalid_status',
      );
  }
  return { text: raw.replace(/\s+/g, ''), test: (s) => ranges.some(([a, b]) => s >= a && s <= b) };
}

/** A URL that the HTTP check accepts (http or https, with a host); throws a DdnsError otherwise. */
export function parseCheckUrl(text: string, redactor = new Redactor()): URL {
  let u: URL;
  try {
    u = new URL(String(text).trim());
  } catch {
    throw badInput(
      say('reach.not_url', '"__text__" is not a URL (expected e.g. https://home.example.com/)', {
        text: redactor.text(String(text)).slice(0, 100),
      }),
      'invalid_url',
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw badInput(
      say('reach.url_scheme', '__url__: only http:// and https:// URLs can be checked', { url: redactor.text(u.href) }),
      'invalid_url',
    );
  if (!u.hostname)
    throw badInput(say('reach.url_no_host', '__url__ has no host', { url: redactor.text(u.href) }), 'invalid_url');
  return u;
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  validFrom: string; // ISO date
  validTo: string; // ISO date
  /** Whole days until expiry (negative once expired). */
  daysToExpiry: number;
  altNames: string[];
  /** The certificate names the host of the URL. */
  matchesName: boolean;
  /** The chain leads to a trusted CA and the dates are valid (the system's CAs plus `ca`). */
  trusted: boolean;
  /** What is wrong, in words for a person, when something is. */
  problem?: string;
  fingerprint256: string;
}

export interface HttpProbe {
  url: string;
  /** Accepted statuses. Default `200-399`. */
  expectStatus?: string | StatusSpec;
  /** Default 10 000. Covers connecting, TLS and waiting for the status line and headers. */
  timeoutMs?: number;
  /** Extra CAs to trust (PEM), e.g. a home CA. */
  ca?: string | string[];
  family?: 4 | 6;
  /** Warn when the certificate expires in fewer days. Default 14. */
  certWarnDays?: number;
  signal?: AbortSignal;
  redactor?: Redactor;
}

export interface HttpResult {
  ok: boolean;
  /** The URL, redacted. */
  url: string;
  status?: number;
  /** `ok`, `status` (unexpected status), `timeout`, `certificate`, or a system error code. */
  code: string;
  detail: string;
  /** `detail` as a sentence, for the adapter to say in the user's language. */
  said: Sentence;
  /** Something to look at although the check passed (certificate expiring soon). */
  warning?: string;
  certificate?: CertificateInfo;
  ms: number;
}

const CERT_WORDS: Record<string, Sentence> = {
  CERT_HAS_EXPIRED: say('reach.cert_expired', 'the certificate has expired'),
  CERT_NOT_YET_VALID: say('reach.cert_not_yet_valid', 'the certificate is not valid yet (check the clock)'),
  DEPTH_ZERO_SELF_SIGNED_CERT: say('reach.cert_self_signed', 'the certificate is self-signed, so no browser trusts it'),
  SELF_SIGNED_CERT_IN_CHAIN: say(
    'reach.cert_self_signed_chain',
    'the certificate chain ends in a self-signed CA that is not trusted',
  ),
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: say(
    'reach.cert_unverifiable',
    'the certificate cannot be verified (unknown issuer, or the server does not send the intermediate certificate)',
  ),
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: say(
    'reach.cert_untrusted_ca',
    'the certificate was issued by a CA that is not trusted here',
  ),
  UNABLE_TO_GET_ISSUER_CERT: say('reach.cert_unknown_issuer', 'the issuer of the certificate is unknown'),
  ERR_TLS_CERT_ALTNAME_INVALID: say('reach.cert_name_mismatch', 'the certificate does not match the name'),
  CERT_REVOKED: say('reach.cert_revoked', 'the certificate has been revoked'),
  CERT_SIGNATURE_FAILURE: say('reach.cert_bad_signature', 'the certificate signature is invalid'),
};

const isCertError = (code: string) => code in CERT_WORDS || /CERT|SELF_SIGNED|UNABLE_TO_/.test(code);

const TLS_FAILED = say('reach.http_tls_failed', 'TLS handshake failed (is this really an HTTPS port?)');

const NET_WORDS: Record<string, Sentence> = {
  ECONNREFUSED: say(
    'reach.http_refused',
    'connection refused: nothing listens there, or the router has no port forward for it',
  ),
  ECONNRESET: say('reach.http_reset', 'the connection was reset'),
  ENOTFOUND: say('reach.http_no_name', 'the name does not resolve'),
  EAI_AGAIN: say('reach.http_lookup_failed', 'the name could not be looked up right now'),
  EHOSTUNREACH: say('reach.http_host_unreachable', 'host unreachable'),
  ENETUNREACH: say('reach.http_net_unreachable', 'network unreachable (no route for this address family)'),
  EPROTO: TLS_FAILED,
  ERR_SSL_WRONG_VERSION_NUMBER: TLS_FAILED,
};

/** The problems of a certificate described by describeCert, as a sentence (its English is `problem`). */
const problemSaid = new WeakMap<CertificateInfo, Said>();

const CANCELLED = () => transient(say('reach.http_cancelled', 'HTTP check cancelled'), { code: 'aborted' });
const UNKNOWN = () => say('reach.unknown', 'unknown');

const hostOf = (u: URL) => u.hostname.replace(/^\[(.*)\]$/, '$1');
const name = (o: unknown) => {
  const r = o as Record<string, string | string[] | undefined> | undefined;
  const v = r?.CN ?? r?.O;
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
};

/**
 * The name check of the certificate: Node's own for names; for an IP address the certificate's IP
 * entries compared as addresses (Node 22's check compares text and rejects a correct IPv6 entry,
 * which OpenSSL spells 0:0:0:0:0:0:0:1 while the URL says ::1). Never more lenient than Node's.
 */
export function checkIdentity(host: string, cert: tls.PeerCertificate): Error | undefined {
  if (net.isIP(host) && cert.raw) {
    if (new X509Certificate(cert.raw).checkIP(host)) return undefined;
    return Object.assign(
      new Error(`IP address ${host} is not in the certificate's names: ${cert.subjectaltname ?? '(none)'}`),
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID', host, cert },
    );
  }
  return tls.checkServerIdentity(host, cert);
}

function describeCert(
  cert: tls.DetailedPeerCertificate,
  host: string,
  trusted: boolean,
  authError?: string,
): CertificateInfo {
  const validTo = new Date(Date.parse(cert.valid_to));
  const validFrom = new Date(Date.parse(cert.valid_from));
  const identity = checkIdentity(host, cert);
  const altNames = (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .filter(Boolean)
    .map((s) => s.replace(/^IP Address:/, 'IP:'));
  const days = Math.floor((validTo.getTime() - Date.now()) / 86_400_000);
  const info: CertificateInfo = {
    subject: name(cert.subject),
    issuer: [cert.issuer?.O, cert.issuer?.CN].filter(Boolean).join(' / ') || name(cert.issuer),
    validFrom: validFrom.toISOString(),
    validTo: validTo.toISOString(),
    daysToExpiry: days,
    altNames,
    matchesName: identity === undefined,
    trusted,
    fingerprint256: cert.fingerprint256,
  };
  const problems: Said[] = [];
  if (authError) problems.push(CERT_WORDS[authError] ?? authError);
  if (identity)
    problems.push(
      say('reach.cert_other_name', 'it is for __names__, not __host__', {
        names: altNames.join(', ') || info.subject || say('reach.cert_another_name', 'another name'),
        host,
      }),
    );
  if (days < 0 && authError !== 'CERT_HAS_EXPIRED')
    problems.push(say('reach.cert_expired_on', 'it expired on __date__', { date: info.validTo.slice(0, 10) }));
  if (problems.length) {
    const said = listSaid(problems);
    info.problem = english(said);
    problemSaid.set(info, said);
  }
  return info;
}

/** Read the certificate of a TLS server without trusting it (nothing is sent); used for reports only. */
export function inspectCertificate(
  host: string,
  port: number,
  o: { ca?: string | string[]; timeoutMs?: number; servername?: string; family?: 4 | 6; signal?: AbortSignal } = {},
): Promise<CertificateInfo | null> {
  return new Promise((resolve) => {
    const servername = o.servername ?? (net.isIP(host) ? undefined : host);
    // rejectUnauthorized: false only to READ the certificate for the report; no data is sent on it.
    const opts: tls.ConnectionOptions & { family?: number } = {
      host,
      port,
      servername,
      rejectUnauthorized: false,
      checkServerIdentity: checkIdentity,
    };
    if (o.ca) opts.ca = [...tls.rootCertificates, ...[o.ca].flat()];
    if (o.family) opts.family = o.family;
    const sock = tls.connect(opts);
    const done = (v: CertificateInfo | null) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(v);
    };
    const onAbort = () => done(null);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => done(null), o.timeoutMs ?? 5000);
    sock.once('secureConnect', () => {
      const cert = sock.getPeerCertificate(true);
      if (!cert || !cert.valid_to) return done(null);
      // Node reports a name mismatch as an authorization error too; the chain itself is then fine,
      // and describeCert states the mismatch in its own words.
      const err = sock.authorized ? '' : String(sock.authorizationError ?? '');
      const chainOk = sock.authorized || err === 'ERR_TLS_CERT_ALTNAME_INVALID';
      done(describeCert(cert, host, chainOk, chainOk ? undefined : err || undefined));
    });
    sock.once('error', () => done(null));
  });
}

export async function probeHttp(p: HttpProbe): Promise<HttpResult> {
  const redactor = p.redactor ?? new Redactor();
  const u = parseCheckUrl(p.url, redactor);
  const spec = typeof p.expectStatus === 'object' ? p.expectStatus : parseStatusSpec(p.expectStatus);
  const timeoutMs = p.timeoutMs ?? 10_000;
  const warnDays = p.certWarnDays ?? 14;
  const safeUrl = redactor.text(u.href);
  const host = hostOf(u);
  const secure = u.protocol === 'https:';
  const port = Number(u.port) || (secure ? 443 : 80);
  if (p.signal?.aborted) throw CANCELLED();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);

  type Raw = { status?: number; code: string; err?: NodeJS.ErrnoException; cert?: CertificateInfo };
  const raw = await new Promise<Raw>((resolve) => {
    let settled = false;
    let cert: CertificateInfo | undefined;
    const options: https.RequestOptions = {
      method: 'GET',
      host,
      port,
      path: `${u.pathname}${u.search}`,
      headers: { 'user-agent': USER_AGENT, accept: '*/*', host: u.host },
      agent: false,
      ...(p.family ? { family: p.family } : {}),
    };
    if (secure) {
      if (!net.isIP(host)) options.servername = host;
      options.checkServerIdentity = checkIdentity;
      if (p.ca) options.ca = [...tls.rootCertificates, ...[p.ca].flat()];
    }
    const req = (secure ? https : http).request(options);
    const finish = (r: Raw) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      p.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve({ ...r, cert: r.cert ?? cert });
    };
    const onAbort = () => finish({ code: 'aborted' });
    p.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish({ code: 'timeout' }), timeoutMs);
    req.on('socket', (s) => {
      if (!secure) return;
      (s as TLSSocket).once('secureConnect', () => {
        const c = (s as TLSSocket).getPeerCertificate(true);
        if (c?.valid_to) cert = describeCert(c, host, true);
      });
    });
    req.on('response', (res) => {
      res.destroy();
      finish({ status: res.statusCode ?? 0, code: 'ok' });
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ code: e.code ?? 'error', err: e }));
    req.end();
  });
  if (raw.code === 'aborted') throw CANCELLED();

  const ms = elapsed();
  const base = { url: safeUrl, ms };
  if (raw.status !== undefined) {
    const ok = spec.test(raw.status);
    const c = raw.cert;
    let warning: string | undefined;
    if (c && c.daysToExpiry < warnDays)
      warning = `the certificate expires in ${c.daysToExpiry} day${c.daysToExpiry === 1 ? '' : 's'} (${c.validTo.slice(0, 10)}); is automatic renewal working?`;
    const cert = c
      ? say('reach.http_cert_valid', '; certificate valid for __days__ more days, issued by __issuer__', {
          days: c.daysToExpiry,
          issuer: c.issuer || UNKNOWN(),
        })
      : '';
    const said = ok
      ? say('reach.http_answered', 'answered __status____cert__', { status: raw.status, cert })
      : say('reach.http_unexpected', 'answered __status__, expected __expected____cert__', {
          status: raw.status,
          expected: spec.text,
          cert,
        });
    return {
      ...base,
      ok,
      status: raw.status,
      code: ok ? 'ok' : 'status',
      detail: english(said),
      said,
      ...(warning ? { warning } : {}),
      ...(c ? { certificate: c } : {}),
    };
  }
  if (raw.code === 'timeout') {
    const said = say(
      'reach.http_timeout',
      'no answer within __ms__ ms: the service is not answering, a firewall drops the connection, or (checked from inside your network) the router does not support hairpin NAT',
      { ms: timeoutMs },
    );
    return { ...base, ok: false, code: 'timeout', detail: english(said), said };
  }
  if (secure && isCertError(raw.code)) {
    const left = Math.max(500, timeoutMs - ms);
    const cert = await inspectCertificate(host, port, {
      ca: p.ca,
      timeoutMs: left,
      family: p.family,
      signal: p.signal,
    });
    if (p.signal?.aborted) throw CANCELLED();
    const why: Said =
      (cert && (problemSaid.get(cert) ?? cert.problem)) ?? CERT_WORDS[raw.code] ?? raw.err?.message ?? raw.code;
    const issued = cert
      ? say('reach.http_cert_issued', ' (issued by __issuer__, valid until __until__)', {
          issuer: cert.issuer || UNKNOWN(),
          until: cert.validTo.slice(0, 10),
        })
      : '';
    const said = say('reach.http_cert_problem', 'certificate problem: __why____issued__', { why, issued });
    return {
      ...base,
      ms: elapsed(),
      ok: false,
      code: 'certificate',
      detail: english(said),
      said,
      ...(cert ? { certificate: cert } : {}),
    };
  }
  const words = NET_WORDS[raw.code] ?? redactor.text(raw.err?.message ?? raw.code);
  const said = say('reach.http_failed', '__host__: __words__', { host: u.host, words });
  return { ...base, ok: false, code: raw.code, detail: english(said), said };
}
