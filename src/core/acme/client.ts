/**
 * Certificates through ACME (RFC 8555) with the DNS-01 challenge, on top of acme-client, which does
 * the protocol (JWS, nonces incl. badNonce retries, polling). Added here, on top:
 * - per-CA HTTPS trust (a private CA's root) and no blind retry loops: acme-client's HTTP layer
 *   would sleep and retry a 429 up to five times; for our CAs a rate-limit answer becomes a
 *   transient error carrying the CA's Retry-After, and the node waits that long (never a loop);
 * - ACME Renewal Information (RFC 9773): the suggested window, and `replaces` in new orders;
 * - ACME profiles (a CA's `meta.profiles`), chosen by name;
 * - DNS-01 through any provider account that can set TXT records, waiting until the record is
 *   visible at the zone's authoritative servers (no fixed sleep) and removing it afterwards,
 *   also on failure; providers that hold one TXT value per name (DuckDNS) go one at a time.
 */
import https from 'node:https';
import tls from 'node:tls';
import * as acme from 'acme-client';
import { DdnsError, fatal, transient } from '../errors';
import { httpRequest, parseRetryAfter } from '../http';
import type { DnsProvider } from '../providers/types';
import { ariCertId } from './x509';
import type { RenewalWindow } from './timing';

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

// ---- HTTP policy for our CAs (acme-client shares one axios instance per module copy) ----------

interface CaPolicy {
  agent: https.Agent;
}
const policies = new Map<string, CaPolicy>(); // origin → policy
let interceptorsInstalled = false;

type AxiosLike = {
  interceptors: {
    request: { use(f: (c: Record<string, unknown>) => unknown): void };
    response: { use(ok: (r: AxiosResp) => unknown, err?: (e: unknown) => unknown): void };
  };
};
interface AxiosResp {
  status: number;
  headers: Record<string, string>;
  data: unknown;
  config: { url?: string };
}

function originOf(url: string | undefined): string | null {
  try {
    return url ? new URL(url).origin : null;
  } catch {
    return null;
  }
}

function installInterceptors(): void {
  if (interceptorsInstalled) return;
  interceptorsInstalled = true;
  const ax = (acme as unknown as { axios: AxiosLike }).axios;
  ax.interceptors.request.use((config) => {
    const p = policies.get(originOf(config.url as string) ?? '');
    if (p) {
      config.httpsAgent = p.agent;
      config.timeout = 30_000;
      // acme-client retries 429/5xx by sleeping inside the request; for our CAs: no hidden loops.
      config.retryAttempt = Number.MAX_SAFE_INTEGER - 1;
    }
    return config;
  });
  ax.interceptors.response.use((resp) => {
    if (resp.status === 429 && policies.has(originOf(resp.config.url) ?? '')) {
      const retryAfterMs = parseRetryAfter(resp.headers['retry-after']) ?? 3_600_000;
      const detail = (resp.data as { detail?: string })?.detail ?? 'too many requests';
      throw transient(`the certificate authority is rate limiting: ${detail}. Next attempt in ${Math.ceil(retryAfterMs / 60_000)} minutes.`, {
        code: 'acme_rate_limited',
        retryAfterMs,
      });
    }
    return resp;
  });
}

export interface AcmeAccountOptions {
  directoryUrl: string;
  accountKeyPem: string;
  email?: string;
  eab?: { kid: string; hmacKey: string };
  /** Extra CA certificate(s) to trust for the ACME server's own HTTPS (private CAs, tests). */
  caPem?: string;
}

export interface AcmeSession {
  client: acme.Client;
  directory: Record<string, unknown>;
  profiles: Record<string, string>;
  opts: AcmeAccountOptions;
}

/** acme-client and network errors as DdnsErrors with words a person understands. */
export function acmeError(e: unknown, what: string): DdnsError {
  if (e instanceof DdnsError) return e;
  const err = e as { code?: string; message?: string; response?: { status?: number } };
  const msg = err?.message ?? String(e);
  if (/rateLimited/i.test(msg)) return transient(`${what}: the certificate authority's rate limit was reached (${msg})`, { code: 'acme_rate_limited', retryAfterMs: 3_600_000 });
  if (err?.code && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|ECONNABORTED|EHOSTUNREACH|ENETUNREACH)$/.test(err.code)) {
    return transient(`${what}: the certificate authority cannot be reached (${err.code})`, { code: 'acme_unreachable', cause: e });
  }
  if (/certificate|self.signed|UNABLE_TO_VERIFY/i.test(err?.code ?? '') || /self.signed|unable to verify/i.test(msg)) {
    return fatal(`${what}: the certificate authority's HTTPS certificate is not trusted (${msg}). For a private CA, add its root certificate in the node.`, { code: 'acme_tls', cause: e });
  }
  if (/unauthorized|accountDoesNotExist|externalAccountRequired|malformed|rejectedIdentifier|unsupportedIdentifier|caa/i.test(msg)) {
    return fatal(`${what}: ${msg}`, { code: 'acme_refused', cause: e });
  }
  return transient(`${what}: ${msg}`, { code: 'acme_error', cause: e });
}

/** Connect to the CA and make sure the account exists (created at first use, then reused). */
export async function openAccount(opts: AcmeAccountOptions): Promise<AcmeSession> {
  installInterceptors();
  const origin = originOf(opts.directoryUrl);
  if (!origin) throw new DdnsError('input', `"${opts.directoryUrl}" is not a valid ACME directory URL`, { code: 'invalid_input' });
  policies.set(origin, { agent: new https.Agent({ keepAlive: false, ...(opts.caPem ? { ca: [...tls.rootCertificates, opts.caPem] } : {}) }) });
  const client = new acme.Client({
    directoryUrl: opts.directoryUrl,
    accountKey: opts.accountKeyPem,
    externalAccountBinding: opts.eab,
    backoffAttempts: 12,
    backoffMin: 1000,
    backoffMax: 10_000,
  });
  let directory: Record<string, unknown>;
  try {
    directory = (await (client as unknown as { http: { getDirectory(): Promise<Record<string, unknown>> } }).http.getDirectory()) ?? {};
    // An existing account is looked up first (a repeated newAccount with data would be an
    // "empty update" that CAs reject); a new one is created with the terms agreed.
    try {
      await client.createAccount({ onlyReturnExisting: true });
    } catch (e) {
      if (!/accountDoesNotExist|(unable to find|does not exist|no) (existing )?account/i.test((e as Error).message)) throw e;
      await client.createAccount({ termsOfServiceAgreed: true, ...(opts.email ? { contact: [`mailto:${opts.email}`] } : {}) });
    }
  } catch (e) {
    throw acmeError(e, 'opening the ACME account');
  }
  const meta = (directory.meta ?? {}) as { profiles?: Record<string, string> };
  return { client, directory, profiles: meta.profiles ?? {}, opts };
}

/** The CA's suggested renewal window for a certificate (RFC 9773), or null when not offered. */
export async function renewalInfo(session: AcmeSession, certPem: string): Promise<(RenewalWindow & { explanationURL?: string; retryAfterMs?: number }) | null> {
  const base = session.directory.renewalInfo;
  if (typeof base !== 'string') return null;
  const id = ariCertId(certPem);
  if (!id) return null;
  try {
    const r = await httpRequest({ url: `${base.replace(/\/$/, '')}/${id}`, ca: session.opts.caPem, timeoutMs: 15_000, maxBodyBytes: 16_384 });
    if (r.status !== 200) return null;
    const j = JSON.parse(r.body) as { suggestedWindow?: { start?: string; end?: string }; explanationURL?: string };
    const start = new Date(j.suggestedWindow?.start ?? '');
    const end = new Date(j.suggestedWindow?.end ?? '');
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end <= start) return null;
    return { start, end, explanationURL: j.explanationURL, retryAfterMs: parseRetryAfter(r.headers['retry-after']) };
  } catch {
    return null; // ARI is advisory: without it the lifetime rule applies
  }
}

export interface Dns01Hooks {
  provider: DnsProvider;
  /** Resolve when `value` is visible in the TXT record `name` at the authoritative servers. */
  waitVisible(name: string, value: string, signal?: AbortSignal): Promise<void>;
  log?(text: string): void;
}

export interface OrderOptions {
  names: string[];
  /** PEM of the certificate key (CSR is signed with it). */
  keyPem: string;
  /** The ARI id of the certificate this one replaces (sent only when the CA supports ARI). */
  replacesCertPem?: string;
  profile?: string;
  signal?: AbortSignal;
}

const challengeName = (identifier: string) => `_acme-challenge.${identifier.replace(/^\*\./, '')}`;

/** Order, prove control of every name through DNS-01, finalize; returns the PEM chain (leaf first). */
export async function orderCertificate(session: AcmeSession, dns: Dns01Hooks, o: OrderOptions): Promise<string> {
  const { client } = session;
  const log = dns.log ?? (() => undefined);
  const req: Record<string, unknown> = { identifiers: o.names.map((value) => ({ type: 'dns', value })) };
  if (o.replacesCertPem && typeof session.directory.renewalInfo === 'string') {
    const id = ariCertId(o.replacesCertPem);
    if (id) req.replaces = id;
  }
  if (o.profile) {
    if (!(o.profile in session.profiles)) {
      const offered = Object.keys(session.profiles);
      throw fatal(`the certificate authority does not offer the profile "${o.profile}"${offered.length ? ` (it offers: ${offered.join(', ')})` : ' (it offers no profiles)'}`, { code: 'acme_profile' });
    }
    req.profile = o.profile;
  }
  let order: acme.Order;
  try {
    order = await client.createOrder(req as unknown as Parameters<acme.Client['createOrder']>[0]);
  } catch (e) {
    throw acmeError(e, 'creating the order');
  }
  let authzs: acme.Authorization[];
  try {
    authzs = (await client.getAuthorizations(order)).filter((a) => a.status !== 'valid');
  } catch (e) {
    throw acmeError(e, 'reading the authorizations');
  }

  const prove = async (authz: acme.Authorization) => {
    const ch = authz.challenges.find((c) => c.type === 'dns-01');
    const shown = `${authz.wildcard ? '*.' : ''}${authz.identifier.value}`;
    if (!ch) throw fatal(`the certificate authority offers no DNS-01 challenge for ${shown}`, { code: 'acme_no_dns01' });
    const value = await client.getChallengeKeyAuthorization(ch);
    const name = challengeName(authz.identifier.value);
    if (!dns.provider.setTxt || !dns.provider.deleteTxt) throw fatal('this provider account cannot set TXT records, which DNS-01 needs', { code: 'no_txt' });
    log(`setting TXT ${name} for ${shown}`);
    await dns.provider.setTxt(name, value, o.signal);
    try {
      await dns.waitVisible(name, value, o.signal);
      log(`TXT ${name} is visible; asking the CA to validate ${shown}`);
      try {
        await client.completeChallenge(ch);
        await client.waitForValidStatus(ch);
      } catch (e) {
        const detail = await client
          .getAuthorizations(order)
          .then((as) => as.find((a) => a.url === authz.url)?.challenges.find((c) => c.type === 'dns-01') as { error?: { detail?: string } } | undefined)
          .then((c) => c?.error?.detail)
          .catch(() => undefined);
        throw fatal(`the certificate authority could not validate ${shown} through DNS-01: ${detail ?? (e as Error).message}`, { code: 'acme_validation', cause: e });
      }
    } finally {
      await dns.provider.deleteTxt(name, value).then(
        () => log(`removed TXT ${name}`),
        (e: Error) => log(`could not remove TXT ${name}: ${e.message}`),
      );
    }
  };

  if (dns.provider.txtSerialised) {
    for (const a of authzs) await prove(a);
  } else {
    const results = await Promise.allSettled(authzs.map(prove));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  try {
    const [, csr] = await acme.crypto.createCsr({ altNames: o.names, ...(o.names[0].length <= 64 ? { commonName: o.names[0] } : {}) }, o.keyPem);
    const final = await client.finalizeOrder(order, csr);
    return await client.getCertificate(final);
  } catch (e) {
    throw acmeError(e, 'finalizing the order');
  }
}
