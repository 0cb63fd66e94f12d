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
 *   also on failure; providers that hold one TXT value per name (DuckDNS) go one at a time;
 * - or another challenge through a solver (solver.ts): HTTP-01 answered by this package
 *   (http01.ts), DNS-PERSIST-01 with the record the user created once (persist.ts);
 * - what stops and what is retried: only the CA's answer that a challenge/authorization is
 *   `invalid` is fatal (`acme_validation`); a 5xx, a 429 (with the CA's Retry-After), a reset
 *   connection or exhausted badNonce retries end the attempt as a transient error, and the
 *   caller retries the whole order with backoff. The authorization and the order are polled
 *   here (not by acme-client's blind retry loop), so that a long Retry-After is honoured.
 */
import * as acme from 'acme-client';
import { createHash } from 'node:crypto';
import { DdnsError, fatal, say, transient, type Sentence } from '../errors';
import { httpRequest, parseRetryAfter } from '../http';
import { sleep } from '../retry';
import { serverWait } from '../schedule';
import type { DnsProvider } from '../providers/types';
import { acmeError, caTrust } from './ari';
import { durationSaid } from '../said';
import type { ChallengeSolver, OfferedChallenge } from './solver';
import { ariCertId } from './x509';

export { LETS_ENCRYPT, LETS_ENCRYPT_STAGING } from './names';
export { acmeError, renewalInfo } from './ari';

// ---- HTTP for our CAs ------------------------------------------------------------------------
// acme-client talks through one shared axios instance. For the CAs this package uses, its
// requests are carried by our own HTTP client (undici: timeouts, body cap, proxy variables, a
// private CA's root) through an axios adapter, and acme-client's hidden retry loop (it sleeps and
// retries 429/5xx/network errors up to five times, then fails with a TypeError on network errors)
// is switched off: a rate-limit answer becomes a transient DdnsError carrying the CA's
// Retry-After, and the node decides when to try again (never a loop).

interface CaPolicy {
  caPem?: string;
}
const policies = new Map<string, CaPolicy>(); // origin → policy
let interceptorsInstalled = false;

interface AxiosConfig {
  url?: string;
  method?: string;
  data?: unknown;
  headers?: { toJSON?(): Record<string, unknown> } & Record<string, unknown>;
  adapter?: unknown;
  retryAttempt?: number;
}
type AxiosLike = { interceptors: { request: { use(f: (c: AxiosConfig) => AxiosConfig): void } } };

function originOf(url: string | undefined): string | null {
  try {
    return url ? new URL(url).origin : null;
  } catch {
    return null;
  }
}

function undiciAdapter(policy: CaPolicy) {
  return async (config: AxiosConfig) => {
    const raw = typeof config.headers?.toJSON === 'function' ? config.headers.toJSON() : { ...config.headers };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw))
      if (v !== undefined && v !== null && typeof v !== 'object') headers[k.toLowerCase()] = String(v);
    const r = await httpRequest({
      url: config.url!,
      method: (config.method ?? 'get').toUpperCase() as 'GET',
      headers,
      body:
        typeof config.data === 'string'
          ? config.data
          : config.data === undefined || config.data === null
            ? undefined
            : JSON.stringify(config.data),
      timeoutMs: 30_000,
      maxBodyBytes: 1024 * 1024,
      ca: caTrust(policy.caPem),
    });
    if (r.status === 429) {
      const retryAfterMs = parseRetryAfter(r.headers['retry-after']) ?? 3_600_000;
      let detail = 'too many requests';
      try {
        detail = (JSON.parse(r.body) as { detail?: string }).detail ?? detail;
      } catch {
        /* not a problem document */
      }
      throw transient(
        say('acme.rate_limiting', 'the certificate authority is rate limiting: __detail__. Next attempt in __wait__.', {
          detail,
          wait: durationSaid(serverWait(retryAfterMs)),
        }),
        {
          code: 'acme_rate_limited',
          retryAfterMs,
        },
      );
    }
    if (r.status >= 500) {
      // A passing fault of the CA (or of a proxy in front of it): try again later, never a stop.
      throw transient(
        say('acme.ca_unavailable', 'the certificate authority answered HTTP __status__ (temporarily unavailable)', {
          status: r.status,
        }),
        { code: 'acme_unavailable', retryAfterMs: parseRetryAfter(r.headers['retry-after']) },
      );
    }
    return { data: r.body, status: r.status, statusText: '', headers: r.headers, config, request: {} };
  };
}

function installInterceptors(): void {
  if (interceptorsInstalled) return;
  interceptorsInstalled = true;
  const ax = (acme as unknown as { axios: AxiosLike }).axios;
  ax.interceptors.request.use((config) => {
    const p = policies.get(originOf(config.url) ?? '');
    if (p) {
      config.adapter = undiciAdapter(p);
      config.retryAttempt = Number.MAX_SAFE_INTEGER - 1; // no retries inside acme-client
    }
    return config;
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

/** Connect to the CA and make sure the account exists (created at first use, then reused). */
export async function openAccount(opts: AcmeAccountOptions): Promise<AcmeSession> {
  installInterceptors();
  const origin = originOf(opts.directoryUrl);
  if (!origin)
    throw new DdnsError(
      'input',
      say('acme.bad_directory_url', '"__url__" is not a valid ACME directory URL', { url: opts.directoryUrl }),
      { code: 'invalid_input' },
    );
  const policy: CaPolicy = { caPem: opts.caPem };
  policies.set(origin, policy);
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
    directory =
      (await (
        client as unknown as { http: { getDirectory(): Promise<Record<string, unknown>> } }
      ).http.getDirectory()) ?? {};
    // The directory may point at other origins (newNonce, newOrder…): they get the same policy.
    for (const v of Object.values(directory)) {
      const o = typeof v === 'string' ? originOf(v) : null;
      if (o && !policies.has(o)) policies.set(o, policy);
    }
    // An existing account is looked up first (a repeated newAccount with data would be an
    // "empty update" that CAs reject); a new one is created with the terms agreed.
    try {
      await client.createAccount({ onlyReturnExisting: true });
    } catch (e) {
      if (!/accountDoesNotExist|(unable to find|does not exist|no) (existing )?account/i.test((e as Error).message))
        throw e;
      await client.createAccount({
        termsOfServiceAgreed: true,
        ...(opts.email ? { contact: [`mailto:${opts.email}`] } : {}),
      });
    }
  } catch (e) {
    throw acmeError(e, say('acme.step.open_account', 'opening the ACME account'));
  }
  const meta = (directory.meta ?? {}) as { profiles?: Record<string, string> };
  return { client, directory, profiles: meta.profiles ?? {}, opts };
}

export interface Dns01Hooks {
  /** Absent when `OrderOptions.solver` answers the challenges instead. */
  provider?: DnsProvider;
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
  /** Another challenge than DNS-01 (HTTP-01, DNS-PERSIST-01), opened by the caller (solver.ts). */
  solver?: ChallengeSolver;
}

/** The account key's SHA-256 JWK thumbprint (RFC 7638), as in key authorizations (RFC 8555 §8.1). */
export function accountThumbprint(session: AcmeSession): string {
  const jwk = (session.client as unknown as { http: { getJwk(): unknown } }).http.getJwk();
  return createHash('sha256').update(JSON.stringify(jwk)).digest('base64url');
}

/** An ACME resource as read by POST-as-GET (authorization or order), as far as used here. */
interface AcmeResource {
  status?: string;
  error?: { detail?: string };
  challenges?: Array<{ type: string; status?: string; error?: { detail?: string } }>;
  [k: string]: unknown;
}
type AcmeApi = {
  apiRequest(
    url: string,
    payload: null,
    codes: number[],
  ): Promise<{ data: AcmeResource; headers: Record<string, string | undefined> }>;
};

/** Polling: the first wait, its growth and cap, the whole budget, passing faults tolerated in a row. */
const POLL = { firstMs: 1000, factor: 1.5, capMs: 10_000, budgetMs: 180_000, faultsInARow: 3 };

/**
 * POST-as-GET `url` until its status is no longer one of `waiting`, and return it. A passing
 * fault (5xx, reset, badNonce, a 429 asking for at most POLL.capMs) is retried a few times with
 * backoff; more of them, a longer Retry-After or an answer that is still waiting after the budget
 * end the attempt with a transient error that carries the CA's wait.
 */
async function pollStatus(
  client: acme.Client,
  url: string,
  what: Sentence,
  waiting: string[],
  signal?: AbortSignal,
): Promise<AcmeResource> {
  const api = (client as unknown as { api: AcmeApi }).api;
  const started = Date.now();
  let faults = 0;
  for (let n = 0; ; n++) {
    let delay = Math.min(POLL.capMs, POLL.firstMs * POLL.factor ** n);
    let asked: number | undefined;
    try {
      const resp = await api.apiRequest(url, null, [200]);
      faults = 0;
      if (!waiting.includes(resp.data.status ?? '')) return resp.data;
      asked = parseRetryAfter(resp.headers['retry-after']);
    } catch (e) {
      const err = acmeError(e, what);
      if (err.kind !== 'transient' || ++faults > POLL.faultsInARow || (err.retryAfterMs ?? 0) > POLL.capMs) throw err;
      asked = err.retryAfterMs;
    }
    delay = Math.max(delay, asked ?? 0);
    if (Date.now() - started + delay > POLL.budgetMs) {
      throw transient(
        say('acme.pending', '__step__: the certificate authority has not finished after __s__ s', {
          step: what,
          s: Math.round((Date.now() - started) / 1000),
        }),
        { code: 'acme_pending', retryAfterMs: asked },
      );
    }
    await sleep(delay, signal);
  }
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
      throw fatal(
        offered.length
          ? say(
              'acme.profile_unknown',
              'the certificate authority does not offer the profile "__profile__" (it offers: __offered__)',
              {
                profile: o.profile,
                offered: offered.join(', '),
              },
            )
          : say(
              'acme.profile_none',
              'the certificate authority does not offer the profile "__profile__" (it offers no profiles)',
              {
                profile: o.profile,
              },
            ),
        { code: 'acme_profile' },
      );
    }
    req.profile = o.profile;
  }
  let order: acme.Order;
  try {
    order = await client.createOrder(req as unknown as Parameters<acme.Client['createOrder']>[0]);
  } catch (e) {
    throw acmeError(e, say('acme.step.create_order', 'creating the order'));
  }
  let authzs: acme.Authorization[];
  try {
    authzs = (await client.getAuthorizations(order)).filter((a) => a.status !== 'valid');
  } catch (e) {
    throw acmeError(e, say('acme.step.read_authorizations', 'reading the authorizations'));
  }

  /** Ask the CA to validate `ch` and wait for its verdict; only its "invalid" is fatal. */
  const validate = async (
    authz: acme.Authorization,
    ch: acme.Authorization['challenges'][number],
    shown: string,
    label: string,
    hint?: string | Sentence,
  ) => {
    try {
      await client.completeChallenge(ch);
    } catch (e) {
      throw acmeError(
        e,
        say('acme.step.ask_validation', 'asking the certificate authority to validate __name__', { name: shown }),
      );
    }
    // Only the CA's own verdict "invalid" stops for good; any trouble on the way is transient.
    const now = await pollStatus(
      client,
      authz.url,
      say('acme.step.wait_validation', 'waiting for the validation of __name__', { name: shown }),
      ['pending'],
      o.signal,
    );
    if (now.status === 'invalid') {
      const detail =
        now.challenges?.find((c) => c.type === ch.type)?.error?.detail ??
        now.error?.detail ??
        say('acme.authz_invalid', 'the authorization is invalid');
      const said = { name: shown, challenge: label, detail };
      throw fatal(
        hint
          ? say(
              'acme.validation_hint',
              'the certificate authority could not validate __name__ through __challenge__: __detail__ __hint__',
              {
                ...said,
                hint,
              },
            )
          : say(
              'acme.validation',
              'the certificate authority could not validate __name__ through __challenge__: __detail__',
              said,
            ),
        { code: 'acme_validation' },
      );
    }
    if (now.status !== 'valid') {
      throw transient(
        now.status
          ? say('acme.authz_status', 'the authorization of __name__ is __status__; a new order will be made', {
              name: shown,
              status: now.status,
            })
          : say(
              'acme.authz_unknown',
              'the authorization of __name__ is in an unknown state; a new order will be made',
              {
                name: shown,
              },
            ),
        { code: `acme_authz_${now.status ?? 'unknown'}` },
      );
    }
  };

  /** Through the solver (HTTP-01, DNS-PERSIST-01): present, then the CA's verdict. */
  const solve = async (authz: acme.Authorization, solver: ChallengeSolver) => {
    const shown = `${authz.wildcard ? '*.' : ''}${authz.identifier.value}`;
    const ch = authz.challenges.find((c) => (c.type as string) === solver.type);
    const offered = authz.challenges.map((c) => c.type).join(', ');
    if (!ch)
      throw fatal(
        offered
          ? say(
              'acme.no_challenge',
              'the certificate authority offers no __challenge__ challenge for __name__ (it offers: __offered__)',
              {
                challenge: solver.label,
                name: shown,
                offered,
              },
            )
          : say(
              'acme.no_challenge_none',
              'the certificate authority offers no __challenge__ challenge for __name__ (it offers: none)',
              {
                challenge: solver.label,
                name: shown,
              },
            ),
        { code: 'acme_no_challenge' },
      );
    const keyAuthorization = solver.type === 'http-01' ? await client.getChallengeKeyAuthorization(ch) : '';
    const ctx = {
      accountUrl: client.getAccountUrl(),
      thumbprint: accountThumbprint(session),
      directory: session.directory,
      signal: o.signal,
      log,
    };
    await solver.present(
      {
        identifier: authz.identifier.value,
        wildcard: authz.wildcard === true,
        challenge: ch as unknown as OfferedChallenge,
        keyAuthorization,
      },
      ctx,
    );
    log(`asking the CA to validate ${shown} through ${solver.label}`);
    await validate(authz, ch, shown, solver.label, solver.hint?.());
  };

  const prove = async (authz: acme.Authorization) => {
    if (o.solver) return solve(authz, o.solver);
    const ch = authz.challenges.find((c) => c.type === 'dns-01');
    const shown = `${authz.wildcard ? '*.' : ''}${authz.identifier.value}`;
    if (!ch)
      throw fatal(
        say('acme.no_dns01', 'the certificate authority offers no DNS-01 challenge for __name__', { name: shown }),
        { code: 'acme_no_dns01' },
      );
    const value = await client.getChallengeKeyAuthorization(ch);
    const name = challengeName(authz.identifier.value);
    const provider = dns.provider;
    if (!provider?.setTxt || !provider.deleteTxt)
      throw fatal(say('acme.no_txt', 'this provider account cannot set TXT records, which DNS-01 needs'), {
        code: 'no_txt',
      });
    log(`setting TXT ${name} for ${shown}`);
    await provider.setTxt(name, value, o.signal);
    try {
      await dns.waitVisible(name, value, o.signal);
      log(`TXT ${name} is visible; asking the CA to validate ${shown}`);
      await validate(authz, ch, shown, 'DNS-01');
    } finally {
      await provider.deleteTxt(name, value).then(
        () => log(`removed TXT ${name}`),
        (e: Error) => log(`could not remove TXT ${name}: ${e.message}`),
      );
    }
  };

  if (dns.provider?.txtSerialised && !o.solver) {
    for (const a of authzs) await prove(a);
  } else {
    const results = await Promise.allSettled(authzs.map(prove));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // a name the CA found invalid outweighs a passing fault on another
    if (failed.length)
      throw (failed.find((r) => r.reason instanceof DdnsError && r.reason.kind === 'fatal') ?? failed[0]).reason;
  }

  let final: acme.Order;
  try {
    const [, csr] = await acme.crypto.createCsr(
      { altNames: o.names, ...(o.names[0].length <= 64 ? { commonName: o.names[0] } : {}) },
      o.keyPem,
    );
    final = await client.finalizeOrder(order, csr);
  } catch (e) {
    throw acmeError(e, say('acme.step.finalize', 'finalizing the order'));
  }
  if (final.status !== 'valid') {
    const now = await pollStatus(
      client,
      order.url,
      say('acme.step.wait_certificate', 'waiting for the certificate'),
      ['processing', 'ready'],
      o.signal,
    );
    if (now.status !== 'valid') {
      const status = now.status;
      const detail = now.error?.detail;
      throw transient(
        status
          ? detail
            ? say(
                'acme.order_detail',
                'the certificate authority did not issue the certificate (order __status__: __detail__)',
                {
                  status,
                  detail,
                },
              )
            : say('acme.order', 'the certificate authority did not issue the certificate (order __status__)', {
                status,
              })
          : detail
            ? say(
                'acme.order_unknown_detail',
                'the certificate authority did not issue the certificate (order in an unknown state: __detail__)',
                { detail },
              )
            : say(
                'acme.order_unknown',
                'the certificate authority did not issue the certificate (order in an unknown state)',
              ),
        { code: 'acme_order_not_valid' },
      );
    }
    final = { ...(now as unknown as acme.Order), url: order.url };
  }
  try {
    return await client.getCertificate(final);
  } catch (e) {
    throw acmeError(e, say('acme.step.download', 'downloading the certificate'));
  }
}
