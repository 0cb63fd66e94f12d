/**
 * The provider kit: what every HTTP provider uses instead of writing it again.
 *
 * - Settings: `blankToUndefined`, `httpUrl` / `optionalEndpoint` (an http(s) endpoint override, never
 *   with user:password inside), `tokenSetting`, `boolSetting`, `checkSettings`.
 * - Requests: `providerRequest` (the package HTTP client with the account's env, redactor and body
 *   cap), `excerpt` (redact first, then shorten).
 * - One classifier of HTTP failures, `httpFault`: 429 (+ Retry-After), 5xx, any other status, HTML
 *   or unreadable bodies → a transient DdnsError with code, scope, retryAfterMs and a redacted
 *   detail. Transport failures (timeout, reset, oversized body) already leave `httpRequest` as
 *   transient DdnsErrors (`timeout`, `ECONNRESET`, `body_too_large`); `transportError` redacts them.
 * - Answer tables (`AnswerTable`, `answerError`): a provider's own answer codes, each mapped to
 *   kind, scope, wait and a message with the hint for the user, in the style of dyndns2's `ANSWERS`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { DdnsError, badInput, english, fatal, say, toDdnsError, transient, type Sentence } from '../errors';
import { excerpt, httpRequest, parseRetryAfter, type HttpRequest, type HttpResponse } from '../http';
import { Redactor } from '../redact';
import { parseAddress, type Family, type Ip } from '../address';
import { nameKey, type Hostname } from '../hostname';
import { Ledger, ledger } from './ledger';
import type { ProviderCall, ProviderEnv, ProviderField, RecordResult } from './types';
import { phrase } from '../said';

// ---------------------------------------------------------------------------------------------
// Zone APIs: the API address setting, drop-down fields, a client with the account's domains

/** The API address of a zone API (an override for testing): empty means the provider's own server. */
export function apiEndpoint() {
  return optionalEndpoint(phrase('kit.api_address_must_http', 'The API address must be an http:// or https:// URL.'));
}

/**
 * A drop-down field of the account dialog: its options each `[value, label]`, or a value that is
 * its own label; the first option is the default.
 */
export function choiceField(
  key: string,
  label: string,
  options: ReadonlyArray<string | readonly [value: string, label: string]>,
  help: string,
): ProviderField {
  const list = options.map((o) => (typeof o === 'string' ? { value: o, label: o } : { value: o[0], label: o[1] }));
  return { key, label, kind: 'select', options: list, default: list[0].value, help };
}

/** A zone API's client (TokenApi, OAuthApi…): its error for a name in none of the account's domains. */
interface NotOwning {
  notOwned(host: string, where: string | Sentence, hint: string | Sentence): DdnsError;
}

/**
 * A zone API's client and the account's domains (`list` makes them, given the error of a name in
 * none of them), wired together: `client` gets the `onFailure` that forgets the domains when the
 * API answers 404 (a domain removed since: they are read again for the next name), and a name in
 * none of them is the client's `notOwned` error with `hint`.
 */
function wiredDomains<A extends NotOwning, L extends { forget(): void }>(
  client: (onFailure: (res: JsonResponse) => void) => A,
  hint: string | Sentence,
  list: (notOwned: (host: string, where: string | Sentence) => DdnsError) => L,
): { api: A; domains: L } {
  const domains = list((host, where) => api.notOwned(host, where, hint));
  const api = client((res) => {
    if (res.status === 404) domains.forget();
  });
  return { api, domains };
}

/** What a zone API's domains are, in words, and where they come from. */
interface DomainsOptions<D> {
  /** The account's domains in words, e.g. "any zone of this IONOS account". */
  account: string | Sentence;
  /** What to do about a name in none of them. */
  hint: string | Sentence;
  read(signal?: AbortSignal): Promise<D[]>;
}

/**
 * A zone API's client (TokenApi, OAuthApi…) and the account's domains (a DomainList; `fixed`, the
 * account's domain setting, is then the only one), wired together (`wiredDomains`).
 */
export function withDomains<A extends NotOwning>(
  client: (onFailure: (res: JsonResponse) => void) => A,
  o: DomainsOptions<string> & { fixed?: string },
): { api: A; domains: DomainList } {
  return wiredDomains(
    client,
    o.hint,
    (notOwned) => new DomainList({ fixed: o.fixed, account: o.account, notOwned, read: o.read }),
  );
}

/**
 * `withDomains` for an API that keeps domains by id (a DomainIds; `only`, the account's domain
 * setting, is then the only one kept, its id read all the same).
 */
export function withDomainIds<A extends NotOwning, I>(
  client: (onFailure: (res: JsonResponse) => void) => A,
  o: DomainsOptions<{ name: string; id: I }> & { only?: string },
): { api: A; domains: DomainIds<I> } {
  return wiredDomains(
    client,
    o.hint,
    (notOwned) => new DomainIds<I>({ only: o.only, account: o.account, notOwned, read: o.read }),
  );
}

// ---------------------------------------------------------------------------------------------
// Settings

/** An empty editor field (``, blanks, null) means "not set". */
export const blankToUndefined = (v: unknown): unknown =>
  v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v;

/** A number field as the editor may save it (text); empty means "not set". */
export const numberInput = (v: unknown): unknown =>
  typeof v === 'string' && v.trim() !== '' ? Number(v) : blankToUndefined(v);

/** An http(s) URL without credentials in it (they belong in their own fields). */
export function httpUrl(error: string) {
  return z
    .url({ protocol: /^https?$/, error })
    .refine(
      (s) => !URL.canParse(s) || !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(s),
      phrase('kit.put_username_password_own', 'Put the username and password in their own fields, not in the address.'),
    );
}

/** An endpoint override: empty means the provider's own server. */
export function optionalEndpoint(error: string) {
  return z.preprocess(blankToUndefined, httpUrl(error).optional());
}

/** A required secret (token, password): trimmed, not empty. */
export function tokenSetting(required: string) {
  return z.string({ error: required }).trim().min(1, required);
}

/** A required plain setting (an API key's public half, say); an empty editor field gives `required`. */
export function requiredText(required: string) {
  return z.preprocess(blankToUndefined, tokenSetting(required));
}

/** A checkbox value as the editor may save it (also `"true"`/`"false"`); empty means "not set". */
export const boolInput = (v: unknown): unknown => (v === 'true' ? true : v === 'false' ? false : blankToUndefined(v));

/** A checkbox: true/false, also as the strings the editor may save; empty means `def`. */
export function boolSetting(def: boolean) {
  return z.preprocess(boolInput, z.boolean().default(def));
}

/**
 * An optional domain (zone) name such as example.com: lower case, without the final dot; `accept`
 * and `message` for a provider that takes more (Cloudflare: a zone ID too).
 */
export function optionalDomain(
  accept: (s: string) => boolean = (s) => /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(s),
  message = phrase('kit.domain_must_name_example', 'The domain must be a name such as example.com.'),
) {
  return z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .toLowerCase()
      .transform((s) => s.replace(/\.$/, ''))
      .refine(accept, message)
      .optional(),
  );
}

/** The TTL of records the provider creates: whole seconds within the provider's range. */
export function ttlSetting(provider: string, min: number, max: number, def: number) {
  return z.preprocess(
    numberInput,
    z
      .number({ error: phrase('kit.ttl_must_number_seconds', 'The TTL must be a number of seconds.') })
      .int(phrase('kit.ttl_must_whole_number', 'The TTL must be a whole number of seconds.'))
      .min(min, phrase('kit.ttl_min', '__provider__ accepts TTLs of __min__ seconds or more.', { provider, min }))
      .max(max, phrase('kit.ttl_max', 'The TTL must be at most __max__ seconds.', { max }))
      .default(def),
  );
}

/**
 * The settings every zone-API provider shares besides its secrets: the domain (optional, found
 * from the name when empty), the TTL of the records it creates, the endpoint override.
 */
export function zoneSettingsShape(provider: string, ttl: { min: number; max: number; def: number }) {
  return {
    domain: optionalDomain(),
    ttl: ttlSetting(provider, ttl.min, ttl.max, ttl.def),
    endpoint: apiEndpoint(),
  };
}

/** The account-dialog fields of `zoneSettingsShape`. */
export function zoneFields(o: {
  provider: string;
  /** Where the domain is found when the field is empty, e.g. "the project's zones". */
  foundFrom: string;
  label?: string;
  ttl: { min: number; def: number };
  endpoint: string;
}): ProviderField[] {
  const label = o.label ?? 'Domain';
  return [
    {
      key: 'domain',
      label,
      kind: 'text',
      placeholder: 'example.com',
      help: `Optional: the ${label.toLowerCase()} as ${o.provider} lists it. Left empty, it is found from ${o.foundFrom}.`,
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: o.ttl.def,
      help: `Seconds, ${o.ttl.min} or more. Records that already exist keep their own TTL.`,
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: o.endpoint,
      advanced: true,
      help: `Leave empty for ${o.provider} itself; change only for testing.`,
    },
  ];
}

/** Settings as given (parsed or not), validated; messages name the field, never its value. */
export function checkSettings<S extends z.ZodType>(schema: S, label: string, settings: unknown): z.infer<S> {
  const r = schema.safeParse(settings);
  if (!r.success)
    throw badInput(
      say('kit.settings', '__label__ account: __issues__', {
        label,
        issues: r.error.issues.map((i) => i.message).join('; '),
      }),
      'invalid_settings',
    );
  return r.data;
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface ProviderHttp {
  redactor: Redactor;
  env: ProviderEnv;
  /** Largest answer accepted; provider answers are small. */
  maxBodyBytes: number;
  userAgent?: string;
}

/** One request with the account's timeout, local address, body cap and redactor. */
export function providerRequest(
  o: ProviderHttp,
  r: Pick<HttpRequest, 'url' | 'method' | 'headers' | 'body' | 'signal'>,
): Promise<HttpResponse> {
  return httpRequest({
    ...r,
    timeoutMs: o.env.timeoutMs,
    localAddress: o.env.localAddress,
    maxBodyBytes: o.maxBodyBytes,
    redactor: o.redactor,
    userAgent: o.userAgent,
  });
}

/** A redacted excerpt of provider text (the HTTP client's: redacts first, then shortens). */
export { excerpt };

/** A redacted first line of provider text: the whole text is redacted first, then cut to its first line and shortened. */
export function firstLine(body: string, redactor: Redactor, max = 200): string {
  return redactor
    .text(body)
    .replace(/^\uFEFF/, '')
    .trim()
    .split(/\r?\n/, 1)[0]
    .trim()
    .slice(0, max);
}

/** A failure thrown by the HTTP client (timeout, reset, oversized body …), redacted, optionally prefixed. */
export function transportError(e: unknown, redactor: Redactor, prefix?: string | Sentence): DdnsError {
  const err = toDdnsError(e);
  if (!prefix) return redactor.error(err);
  return redactor.error(
    transient(say('kit.prefixed', '__prefix____failure__', { prefix, failure: err.sentence ?? err.message }), {
      code: err.code,
      detail: err.detail,
      scope: err.scope,
      cause: e,
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The classifier of HTTP failures

export type HttpFaultClass = 'rate_limit' | 'server_error' | 'http_status' | 'unreadable';

export interface HttpFault {
  class: HttpFaultClass;
  status: number;
  code: string;
  scope: 'account' | 'host';
  retryAfterMs?: number;
  /** The answer's excerpt, redacted. */
  detail: string;
  /** The answer is an HTML page (a proxy, a load balancer, a login page). */
  html: boolean;
}

export interface HttpFaultOptions {
  redactor: Redactor;
  /** Scope of failures other than 429 (a rate limit always holds for the whole account). Default host. */
  scope?: 'account' | 'host';
  /** Code of a 2xx answer that is not the protocol's. Default `unexpected_answer`. */
  unreadableCode?: string;
  /** Code of a 429. Default `http_429`. */
  rateLimitCode?: string;
  /** Wait after a 429 without Retry-After. Default none. */
  rateLimitWaitMs?: number;
  /** Wait after a 5xx without Retry-After (a provider whose overload answer is a 503). Default none. */
  serverErrorWaitMs?: number;
}

/** What an answer that the provider could not read as its own protocol means. */
export function classifyHttp(res: Pick<HttpResponse, 'status' | 'headers' | 'body'>, o: HttpFaultOptions): HttpFault {
  const detail = excerpt(res.body, o.redactor);
  const html = /<\s*(html|!doctype|body|head)\b/i.test(res.body);
  const base = { status: res.status, detail, html, scope: o.scope ?? 'host' } as const;
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']) ?? o.rateLimitWaitMs;
    return { ...base, class: 'rate_limit', code: o.rateLimitCode ?? 'http_429', scope: 'account', retryAfterMs };
  }
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  if (res.status >= 500)
    return {
      ...base,
      class: 'server_error',
      code: `http_${res.status}`,
      retryAfterMs: retryAfterMs ?? o.serverErrorWaitMs,
    };
  if (res.status < 200 || res.status >= 300)
    return { ...base, class: 'http_status', code: `http_${res.status}`, retryAfterMs };
  return { ...base, class: 'unreadable', code: o.unreadableCode ?? 'unexpected_answer' };
}

/**
 * The transient DdnsError for an answer that is not the protocol's: `message` words it for the
 * user from the fault (default: "<name> sent an unexpected answer (HTTP n): excerpt").
 */
export function httpFault(
  res: Pick<HttpResponse, 'status' | 'headers' | 'body'>,
  o: HttpFaultOptions & { name: string; message?: (f: HttpFault) => string | Sentence },
): DdnsError {
  const f = classifyHttp(res, o);
  const message =
    o.message?.(f) ??
    say('kit.unexpected', '__name__ sent an unexpected answer (HTTP __status__): __detail__', {
      name: o.name,
      status: f.status,
      detail: f.detail,
    });
  return o.redactor.error(
    transient(message, { code: f.code, scope: f.scope, retryAfterMs: f.retryAfterMs, detail: f.detail }),
  );
}

// ---------------------------------------------------------------------------------------------
// Answer tables

/** One answer code of a provider's protocol that is not a success, with what it means for the user. */
export interface AnswerRow<C> {
  kind: 'fatal' | 'transient';
  /** The DdnsError code; default the answer code itself. */
  code?: string;
  /** Whose problem it is; a function when it depends on the context (e.g. the flavour). */
  scope: 'account' | 'host' | ((c: C) => 'account' | 'host');
  /** Earliest retry for transient answers. */
  waitMs?: (c: C) => number | undefined;
  /** What happened and what the user should do (the hint), for this context. */
  message(c: C): string | Sentence;
}

export type AnswerTable<C, X = object> = Readonly<Record<string, AnswerRow<C> & X>>;

/** Whether `code` is a row of `table` (own property, so `constructor` is not an answer). */
export const hasAnswer = (table: object, code: string): boolean => Object.prototype.hasOwnProperty.call(table, code);

/** The DdnsError of answer `answer` of `table` in context `c`, redacted. */
export function answerError<C>(
  table: AnswerTable<C>,
  answer: string,
  c: C,
  o: { detail?: string; redactor: Redactor },
): DdnsError {
  const a = table[answer];
  const scope = typeof a.scope === 'function' ? a.scope(c) : a.scope;
  const opts = { code: a.code ?? answer, scope, detail: o.detail, retryAfterMs: a.waitMs?.(c) };
  return o.redactor.error(a.kind === 'fatal' ? fatal(a.message(c), opts) : transient(a.message(c), opts));
}

// ---------------------------------------------------------------------------------------------
// Results

/** The DNS record type of an address family. */
export const recordType = (family: Family): 'A' | 'AAAA' => (family === 'ipv4' ? 'A' : 'AAAA');

/** Every name and family of a call that has an address, in order (names first, IPv4 before IPv6). */
export function* records(
  call: Pick<ProviderCall, 'hostnames' | 'addresses'>,
): Generator<{ hostname: Hostname; family: Family; address: Ip }> {
  for (const hostname of call.hostnames) {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const address = call.addresses[family];
      if (address !== undefined) yield { hostname, family, address };
    }
  }
}

/**
 * One result per name and family of a call, from `fn` run for each in turn: a name's own fatal
 * failure (scope host) becomes its `failed` result and the others go on; any other failure (the
 * account's, or a transient one) ends the call.
 */
export async function eachRecord(
  call: Pick<ProviderCall, 'hostnames' | 'addresses'>,
  fn: (r: { hostname: Hostname; family: Family; address: Ip }) => Promise<RecordResult>,
): Promise<RecordResult[]> {
  const results: RecordResult[] = [];
  for (const r of records(call)) {
    try {
      results.push(await fn(r));
    } catch (e) {
      if (!(e instanceof DdnsError) || e.kind !== 'fatal' || e.scope !== 'host') throw e;
      results.push(failed(r.hostname, r.family, e));
    }
  }
  return results;
}

/** A `failed` RecordResult carrying its error (the message is the error's). */
export function failed(hostname: string, family: Family, error: DdnsError): RecordResult {
  return { hostname, family, outcome: 'failed', message: error.message, error };
}

// ---------------------------------------------------------------------------------------------
// Names and TXT contents

/** The names that may be the zone of `host`, most specific first (never a bare TLD or a wildcard). */
export function zoneCandidates(host: string): string[] {
  const labels = host.split('.');
  const out: string[] = [];
  for (let i = 0; i <= labels.length - 2; i++) if (labels[i] !== '*') out.push(labels.slice(i).join('.'));
  return out;
}

/** The part of `host` before `zone` (`''` for the apex), or undefined when `host` is not in `zone`. */
export function relativeName(host: string, zone: string): string | undefined {
  if (host === zone) return '';
  return host.endsWith(`.${zone}`) ? host.slice(0, -zone.length - 1) : undefined;
}

/** Whether a record's content is `address` (any spelling of the same IP address). */
export function sameAddress(content: string, address: string): boolean {
  return parseAddress(content)?.address === address;
}

/** A TXT value as a quoted RFC 1035 character string (the form of Cloudflare, deSEC, Gandi…). */
export function quoteTxt(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** A TXT content without its quotes (unchanged when it is not one quoted string). */
export function unquoteTxt(content: string): string {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(content);
  return m ? m[1].replace(/\\(.)/g, '$1') : content;
}

/**
 * The TXT values of an RRset after adding or removing one value (other values kept, order kept),
 * or undefined when nothing changes (the value is already there, or already gone).
 */
export function editTxtValues(before: readonly string[], value: string, op: 'add' | 'remove'): string[] | undefined {
  const has = before.includes(value);
  if (op === 'add') return has ? undefined : [...before, value];
  return has ? before.filter((v) => v !== value) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Records kept by id (Porkbun, DigitalOcean …)

export interface Convergence {
  /** What was done to the record that now holds the address. */
  change: 'none' | 'created' | 'edited';
  /** Other records of the same name and type that were deleted. */
  removed: number;
}

/**
 * Make one name's records of one type hold exactly `address`, for APIs that keep one record per
 * value: a record that already holds it is kept (else the first is edited), the other records of
 * that type are deleted, and one is created when there is none. Nothing is sent when the name
 * already holds just that address. The callbacks send the requests (keeping the record's TTL and
 * other fields is theirs).
 */
export async function convergeRecords<R>(
  existing: readonly R[],
  address: string,
  o: {
    content(r: R): string;
    create(): Promise<unknown>;
    edit(r: R): Promise<unknown>;
    remove(r: R): Promise<unknown>;
  },
): Promise<Convergence> {
  const keep = existing.find((r) => sameAddress(o.content(r), address)) ?? existing[0];
  const extra = existing.filter((r) => r !== keep);
  let change: Convergence['change'] = 'none';
  if (keep === undefined) {
    await o.create();
    change = 'created';
  } else if (!sameAddress(o.content(keep), address)) {
    await o.edit(keep);
    change = 'edited';
  }
  for (const r of extra) await o.remove(r);
  return { change, removed: extra.length };
}

/** A result's message written as a sentence: its English, and the sentence the adapters say. */
export const messageOf = (sentence: Sentence): Pick<RecordResult, 'message' | 'said'> => ({
  message: english(sentence),
  said: sentence,
});

/**
 * One address record made to hold exactly `address`: `unchanged` when the values read (`held`) are
 * that address alone, else `write` (which says whether it created or replaced the set) and `updated`.
 */
export async function holdOnly(o: {
  provider: string;
  hostname: string;
  family: Family;
  address: string;
  held: readonly string[];
  write: () => Promise<'created' | 'updated'>;
}): Promise<RecordResult> {
  const v = { provider: o.provider, type: recordType(o.family), address: o.address, host: o.hostname };
  if (o.held.length === 1 && sameAddress(o.held[0], o.address))
    return said(o.hostname, o.family, 'unchanged', hasAlready(v));
  return said(o.hostname, o.family, 'updated', writtenSaid(await o.write(), v));
}

/** A record's result whose message is a sentence (said in the user's language by the adapters). */
export function said(
  hostname: string,
  family: Family,
  outcome: RecordResult['outcome'],
  sentence: Sentence,
): RecordResult {
  return { hostname, family, outcome, message: english(sentence), said: sentence };
}

type Written = { provider: string; type: string; address: string; host: string };

/** "<provider> already has A 203.0.113.7 for home.example.com". */
export const hasAlready = (v: Written): Sentence =>
  say('kit.has_already', '__provider__ already has __type__ __address__ for __host__', v);

/** "<provider> created|updated A home.example.com → 203.0.113.7". */
export const writtenSaid = (verb: 'created' | 'updated', v: Written): Sentence =>
  verb === 'created'
    ? say('kit.created', '__provider__ created __type__ __host__ → __address__', v)
    : say('kit.updated', '__provider__ updated __type__ __host__ → __address__', v);

/** The RecordResult of a convergence, in the same words for every provider. */
export function convergedResult(
  provider: string,
  hostname: string,
  family: Family,
  address: string,
  c: Convergence,
): RecordResult {
  const type = recordType(family);
  const v = { provider, type, address, host: hostname, n: c.removed };
  if (c.change === 'none' && c.removed === 0) return said(hostname, family, 'unchanged', hasAlready(v));
  const done = c.change === 'created' ? writtenSaid('created', v) : writtenSaid('updated', v);
  if (!c.removed) return said(hostname, family, 'updated', done);
  return said(
    hostname,
    family,
    'updated',
    c.removed > 1
      ? say('kit.removed_others', '__done__ (removed __n__ other __type__ records)', { ...v, done })
      : say('kit.removed_other', '__done__ (removed 1 other __type__ record)', { ...v, done }),
  );
}

// ---------------------------------------------------------------------------------------------
// JSON APIs

/** An answer of a JSON API: the HTTP answer and its body parsed (undefined when it is not JSON). */
export interface JsonResponse extends HttpResponse {
  json: unknown;
}

/**
 * One request to a JSON API (REST providers): `accept: application/json`, an object body sent as
 * JSON, transport failures as redacted transient DdnsErrors prefixed with `name`. The answer is
 * not judged here: each provider reads its own error shapes and hands the rest to `httpFault`.
 */
export async function jsonRequest(
  o: ProviderHttp & { name: string },
  r: Pick<HttpRequest, 'url' | 'method' | 'headers' | 'body' | 'signal'>,
): Promise<JsonResponse> {
  let res: HttpResponse;
  try {
    res = await providerRequest(o, { ...r, headers: { accept: 'application/json', ...r.headers } });
  } catch (e) {
    throw transportError(e, o.redactor, `${o.name}: `);
  }
  let json: unknown;
  try {
    json = res.body.trim() === '' ? undefined : JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { ...res, json };
}

/** The transient DdnsError for an answer of a JSON API that is not its JSON (or an HTTP failure). */
export function notJsonFault(
  res: Pick<HttpResponse, 'status' | 'headers' | 'body'>,
  o: HttpFaultOptions & { name: string },
) {
  return notProtocolFault(res, {
    ...o,
    other: (f) =>
      say('kit.not_json', '__name__ sent an answer that is not its JSON (HTTP __status__): __detail__', {
        name: o.name,
        status: f.status,
        detail: f.detail,
      }),
  });
}

/**
 * The transient DdnsError for an answer that is not the API's protocol: a rate limit in the kit's
 * words (waiting as the provider asks), anything else in `other`'s (e.g. "not its XML").
 */
export function notProtocolFault(
  res: Pick<HttpResponse, 'status' | 'headers' | 'body'>,
  o: HttpFaultOptions & { name: string; other: (f: HttpFault) => Sentence },
) {
  return httpFault(res, {
    ...o,
    message: (f) =>
      f.class === 'rate_limit'
        ? say('kit.rate_limit', "__name__'s rate limit was reached (__detail__): waiting as __name__ asks", {
            name: o.name,
            detail: f.detail,
          })
        : o.other(f),
  });
}

/**
 * The DdnsError of a failed answer of a token-authenticated JSON API, in the same words for every
 * such provider: 401 the token (fatal, account), 403 the token's rights (fatal, `forbiddenScope`),
 * 404 the domain or record (fatal, host), another 4xx a refused change (fatal, host) — each only
 * when the body is the API's JSON (`said` is its own words); anything else is `notJsonFault`'s.
 */
export function restFailure(
  res: JsonResponse,
  o: HttpFaultOptions & {
    name: string;
    /** Code prefix, e.g. `do`, `desec`. */
    code: string;
    /** The API's own words for the failure, redacted; undefined when the body is not its JSON. */
    said: string | undefined;
    /** What the user does about the token. */
    tokenHint: string | Sentence;
    /** The name the request was about. */
    subject: string;
    forbiddenScope: 'account' | 'host';
  },
): DdnsError {
  const detail = excerpt(res.body, o.redactor);
  const refusal = (message: Sentence, code: string, scope: 'account' | 'host') =>
    o.redactor.error(fatal(message, { code: `${o.code}_${code}`, scope, detail }));
  if (o.said !== undefined && res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    // the values every refusal may name (a sentence uses the ones it names)
    const v = { name: o.name, subject: o.subject, said: o.said, hint: o.tokenHint };
    if (res.status === 401)
      return refusal(say('kit.token_refused', '__name__ refused the token (__said__): __hint__', v), 'auth', 'account');
    if (res.status === 403)
      return refusal(
        say('kit.token_forbidden', '__name__ does not let this token change __subject__ (__said__): __hint__', v),
        'forbidden',
        o.forbiddenScope,
      );
    if (res.status === 404)
      return refusal(
        say('kit.not_found', '__name__ does not know the domain or record of __subject__ (__said__)', v),
        'not_found',
        'host',
      );
    return refusal(say('kit.refused', '__name__ refused the change of __subject__ (__said__)', v), 'refused', 'host');
  }
  return notJsonFault(res, o);
}

// ---------------------------------------------------------------------------------------------
// Pacing

const pacers = new Map<string, Promise<void>>();

/**
 * Space the requests made under one key (an API key, a domain) at least `gapMs` apart, start to
 * start, across every provider instance of this process (two accounts with the same key share the
 * provider's limit) and across restarts where an adapter attached a persistent store to the
 * ledger. Used where a provider documents a per-second limit and punishes any excess (Porkbun);
 * longer waits are the engine's (retryAfterMs).
 */
export function paced<T>(key: string, gapMs: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const id = Ledger.id(key);
  const turn = (pacers.get(id) ?? Promise.resolve()).then(async () => {
    const wait = (ledger.last(key) ?? -Infinity) + gapMs - Date.now();
    if (wait > 0) await sleep(Math.min(wait, gapMs), undefined, { signal });
    ledger.record(key, 1);
  });
  pacers.set(
    id,
    turn.catch(() => undefined),
  );
  return turn.then(fn);
}

// ---------------------------------------------------------------------------------------------
// Token-authenticated JSON APIs (deSEC, DigitalOcean, Gandi …)

export interface TokenApiOptions {
  /** The provider's name in messages. */
  name: string;
  /** Prefix of error codes, e.g. `do`. */
  code: string;
  /** The API base URL (no final slash needed). */
  base: string;
  token: string;
  /** The Authorization header value for the token (default `Bearer <token>`). */
  authorization?: (token: string) => string;
  /** A header of its own for the token instead of Authorization (PowerDNS's `X-API-Key`): the token as is. */
  header?: string;
  env: ProviderEnv;
  /** What the user does about the token (in 401/403 messages). */
  tokenHint: string | Sentence;
  /** Whose problem a 403 is: the whole token's (`account`) or this name's (`host`). */
  forbiddenScope: 'account' | 'host';
  /** The API's own words in an error answer, unredacted; undefined when it is not its error JSON. */
  said(json: unknown): string | undefined;
  /** Wait after a 429 without Retry-After, from the answer (e.g. a rate-limit reset header). */
  rateLimitWaitMs?(res: JsonResponse): number | undefined;
  rateLimitCode?: string;
  /** Called with every failed answer before it is classified (e.g. to forget cached domains on 404). */
  onFailure?(res: JsonResponse): void;
  maxBodyBytes?: number;
}

/**
 * The wait until a rate-limit window resets, from a `RateLimit-Reset` header holding epoch seconds
 * (DigitalOcean, Hetzner), for a 429 without Retry-After; `fallbackMs` when the header is absent.
 */
export function rateLimitResetWait(res: Pick<HttpResponse, 'headers'>, fallbackMs: number, now = Date.now()): number {
  const reset = Number(res.headers['ratelimit-reset']);
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : fallbackMs;
}

/**
 * TokenApi's options for an account whose settings hold the token and the API address override
 * (`endpoint`: the provider's own address, used when the account sets none).
 */
export type AccountApiOptions = Omit<TokenApiOptions, 'base' | 'token' | 'env'> & { endpoint: string };

/** The TokenApi of an account: its token, and its API address (the override, else the provider's own). */
export function accountApi(s: { token: string; endpoint?: string }, env: ProviderEnv, o: AccountApiOptions): TokenApi {
  const { endpoint, ...api } = o;
  return new TokenApi({ ...api, base: s.endpoint ?? endpoint, token: s.token, env });
}

/**
 * An account's TokenApi (`accountApi`) and its domains (`withDomains`: forgotten on a 404; the
 * account's domain setting, when set, is the only one).
 */
export function accountZoneApi(
  s: { token: string; endpoint?: string; domain?: string },
  env: ProviderEnv,
  o: Omit<AccountApiOptions, 'onFailure'> & { domains: DomainsOptions<string> },
): { api: TokenApi; domains: DomainList } {
  const { domains, ...api } = o;
  return withDomains((onFailure) => accountApi(s, env, { ...api, onFailure }), { ...domains, fixed: s.domain });
}

/** One client of a token-authenticated JSON API: requests, answer schemas and failures in the kit's words. */
export class TokenApi {
  readonly redactor: Redactor;
  private readonly base: string;

  constructor(private readonly o: TokenApiOptions) {
    this.redactor = new Redactor([o.token]);
    this.base = o.base.replace(/\/+$/, '');
  }

  /**
   * One request about `subject` (a name, for messages). A 2xx answer is returned; so is a JSON 404
   * when `missingIsAnswer` (a read of something that may not exist); anything else is thrown.
   */
  async call(
    method: NonNullable<HttpRequest['method']>,
    path: string,
    o: { body?: object; subject: string; signal?: AbortSignal; missingIsAnswer?: boolean },
  ): Promise<JsonResponse> {
    const res = await jsonRequest(
      { name: this.o.name, redactor: this.redactor, env: this.o.env, maxBodyBytes: this.o.maxBodyBytes ?? 512 * 1024 },
      {
        url: `${this.base}${path}`,
        method,
        headers: this.o.header
          ? { [this.o.header]: this.o.token }
          : { authorization: this.o.authorization?.(this.o.token) ?? `Bearer ${this.o.token}` },
        body: o.body,
        signal: o.signal,
      },
    );
    if (res.status >= 200 && res.status < 300) return res;
    if (o.missingIsAnswer && res.status === 404 && res.json !== undefined) return res;
    this.o.onFailure?.(res);
    const said = this.o.said(res.json);
    throw restFailure(res, {
      name: this.o.name,
      code: this.o.code,
      said: said === undefined ? undefined : this.redactor.text(said),
      tokenHint: this.o.tokenHint,
      subject: o.subject,
      forbiddenScope: this.o.forbiddenScope,
      redactor: this.redactor,
      rateLimitCode: this.o.rateLimitCode,
      rateLimitWaitMs: this.o.rateLimitWaitMs?.(res),
    });
  }

  /** The answer read with `schema`, or the transient error of an answer that is not the API's. */
  parse<S extends z.ZodType>(schema: S, res: JsonResponse): z.infer<S> {
    const r = schema.safeParse(res.json);
    if (!r.success) throw notJsonFault(res, { name: this.o.name, redactor: this.redactor });
    return r.data;
  }

  /** The fatal error of a name that is in none of the account's domains. */
  notOwned(host: string, where: string | Sentence, hint: string | Sentence): DdnsError {
    return notOwnedError(this.redactor, `${this.o.code}_not_owned`, host, where, hint);
  }
}

/** The fatal error (code `code`, this name only) of a name that is in none of `where`: what to do in `hint`. */
export function notOwnedError(
  redactor: Redactor,
  code: string,
  host: string,
  where: string | Sentence,
  hint: string | Sentence,
): DdnsError {
  return redactor.error(
    fatal(say('kit.not_owned', '__host__ is not in __where__: __hint__', { host, where, hint }), {
      code,
      scope: 'host',
    }),
  );
}

/**
 * The account's domains, read once and again when a name is in none of them (a domain added since):
 * the domain of a name is the longest one that ends it (a provider may host a sub-domain as a
 * domain of its own). With `fixed` (the account's domain setting) nothing is read.
 */
export class DomainList {
  private domains?: string[];

  constructor(
    private readonly o: {
      read(signal?: AbortSignal): Promise<string[]>;
      fixed?: string;
      /** The account's domains in words, e.g. "any domain of this DigitalOcean account". */
      account: string | Sentence;
      /** The error of a name in none of them (e.g. TokenApi.notOwned). */
      notOwned(host: string, where: string | Sentence): DdnsError;
    },
  ) {}

  /** The domain of `name` and the name relative to it (`''` for the apex); fatal (host) when none. */
  async require(name: string, signal?: AbortSignal): Promise<{ domain: string; sub: string }> {
    const host = nameKey(name);
    if (this.o.fixed) {
      const sub = relativeName(host, this.o.fixed);
      if (sub === undefined)
        throw this.o.notOwned(
          host,
          say('kit.account_domain', "the account's domain __domain__", { domain: this.o.fixed }),
        );
      return { domain: this.o.fixed, sub };
    }
    const find = () => zoneCandidates(host).find((c) => this.domains?.includes(c));
    let domain = find();
    if (!domain) {
      this.domains = (await this.o.read(signal)).map(nameKey);
      domain = find();
    }
    if (!domain) throw this.o.notOwned(host, this.o.account);
    return { domain, sub: relativeName(host, domain)! };
  }

  forget(): void {
    this.domains = undefined;
  }
}

/** A token setting that also takes the token pasted with its `Bearer ` prefix. */
export function bearerTokenSetting(required: string) {
  return tokenScheme('Bearer').setting(required);
}

/**
 * A token sent as `Authorization: <scheme> <token>` (deSEC's `Token`, Njalla's `Njalla`): its
 * `setting` also takes the token pasted with the scheme word (as `bearerTokenSetting` does with
 * `Bearer`), `authorization` is TokenApi's header value.
 */
export function tokenScheme(scheme: string) {
  const word = new RegExp(`^${scheme}\\s+`, 'i');
  return {
    setting: (required: string) => tokenSetting(required).transform((t) => t.replace(word, '')),
    authorization: (token: string) => `${scheme} ${token}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Record sets replaced whole (Azure, Google Cloud, Gandi, GoDaddy, PowerDNS …)

/** One name's records of one type as the API keeps them, one set, and how to replace or delete that set whole. */
export interface WholeSet {
  /** Its values as the API gives them (a TXT value quoted where the API quotes it); none when there is no set. */
  values: readonly string[];
  /** Whether the set exists: writing it then replaces it, else creates it. */
  exists: boolean;
  /** The set becomes exactly `values`, keeping its own TTL (a new set gets the provider's). */
  replace(values: string[]): Promise<unknown>;
  /** The set goes (a TXT set after its last value). */
  remove(): Promise<unknown>;
}

/**
 * The whole DnsProvider of an API that keeps a name's records of one type as one set, read first
 * and replaced whole (`lookup` says how for one name and type): an address is written only when
 * the set is not exactly that address (`holdOnly`); a TXT value is added to or removed from the
 * set with the other values kept, and the set goes with its last value.
 */
export abstract class WholeSets {
  abstract readonly id: string;
  readonly maxHostsPerCall: number = 10;

  constructor(
    /** The provider's name in result messages. */
    protected readonly label: string,
    /** How the API keeps a TXT value: as a quoted character string (`"v"`), or as it is. */
    private readonly txt: 'quoted' | 'plain' = 'plain',
  ) {}

  /** The set of `type` of `name`; fatal, host scope, when the name is in none of the account's zones. */
  protected abstract lookup(name: string, type: 'A' | 'AAAA' | 'TXT', signal?: AbortSignal): Promise<WholeSet>;

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, async ({ hostname, family, address }) => {
      const set = await this.lookup(hostname, recordType(family), call.signal);
      return holdOnly({
        provider: this.label,
        hostname,
        family,
        address,
        held: set.values,
        write: async () => {
          await set.replace([address]);
          return set.exists ? 'updated' : 'created';
        },
      });
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return [...(await this.lookup(hostname, recordType(family), signal)).values];
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.editTxt(name, value, 'add', signal);
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.editTxt(name, value, 'remove', signal);
  }

  private async editTxt(name: string, value: string, op: 'add' | 'remove', signal?: AbortSignal): Promise<void> {
    const set = await this.lookup(name, 'TXT', signal);
    const quoted = this.txt === 'quoted';
    const after = editTxtValues(quoted ? set.values.map(unquoteTxt) : set.values, value, op);
    if (!after) return;
    if (after.length === 0) await set.remove();
    else await set.replace(quoted ? after.map(quoteTxt) : after);
  }
}

// ---------------------------------------------------------------------------------------------
// Domains kept by id (Linode, PowerDNS …)

/**
 * The account's domains with the id each has in the API's paths: a DomainList that reads them with
 * their ids and, with a domain setting (`only`), keeps that one alone (its id is read all the same).
 */
export class DomainIds<I> {
  private readonly ids = new Map<string, I>();
  private readonly list: DomainList;

  constructor(o: {
    read(signal?: AbortSignal): Promise<Array<{ name: string; id: I }>>;
    only?: string;
    /** The domains a name may be in, in words (the domain setting's, or any of the account's). */
    account: string | Sentence;
    notOwned(host: string, where: string | Sentence): DdnsError;
  }) {
    this.list = new DomainList({
      account: o.account,
      notOwned: o.notOwned,
      read: async (signal) => {
        const found = await o.read(signal);
        this.ids.clear();
        for (const d of found) this.ids.set(nameKey(d.name), d.id);
        return [...this.ids.keys()].filter((d) => !o.only || d === o.only);
      },
    });
  }

  /** The domain of `name`, its id, and the name relative to it (`''` for the apex); fatal (host) when none. */
  async require(name: string, signal?: AbortSignal): Promise<{ domain: string; id: I; sub: string }> {
    const { domain, sub } = await this.list.require(name, signal);
    return { domain, id: this.ids.get(domain)!, sub };
  }

  forget(): void {
    this.list.forget();
  }
}
