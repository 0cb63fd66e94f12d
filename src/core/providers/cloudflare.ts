/**
 * Cloudflare API v4 provider (API token, Bearer auth).
 * API reference: https://developers.cloudflare.com/api/resources/dns/subresources/records/
 *
 * Contract (beyond DnsProvider's):
 * - The zone of a name is found by walking up its labels (`GET /zones?name=<candidate>`, most specific
 *   first) unless the account names a zone (name or 32-hex id).
 * - An A/AAAA record is changed with `PATCH {content}` only, so its TTL, proxy status and comment stay
 *   as the user set them. Settings `ttl`/`proxied` apply to records this provider creates.
 * - Several records of one name and type are converged to exactly one (see `converge`).
 * - Zone ids and record ids are cached per instance: once a name has been seen, an update costs one
 *   PATCH. A 404 / 81044 answer drops the cached ids of that name and the operation runs once more
 *   from scratch. Nothing else is remembered and nothing is retried: the update engine does that.
 * - Errors: authentication answers are fatal for the whole account, 429 is transient for the whole
 *   account (Cloudflare blocks every call for five minutes), 5xx / unreadable answers / timeouts are
 *   transient; a problem of one name (no zone, no record with creation off, a refused record) is a
 *   `failed` RecordResult. Every text passes through the Redactor: the token never leaves.
 */
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { badInput, fatal, isDdnsError, toDdnsError, transient } from '../errors';
import { excerpt, httpRequest, parseRetryAfter, type HttpResponse } from '../http';
import { parseAddress, type Family, type Ip } from '../address';
import { Redactor } from '../redact';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';

export const CLOUDFLARE_ENDPOINT = 'https://api.cloudflare.com/client/v4';
/** Cloudflare blocks every call for five minutes once the rate limit is exceeded. */
export const RATE_LIMIT_BLOCK_MS = 5 * 60_000;
/** TTL of ACME challenge TXT records (Cloudflare's minimum outside Enterprise plans). */
const TXT_TTL = 60;
const MAX_BODY_BYTES = 256 * 1024;
/** Pages of 100 records read at most for one name and type (a guard against a looping API). */
const MAX_PAGES = 20;
const CREATED_COMMENT = 'Managed by Node-RED (node-red-contrib-ddns)';
const TXT_COMMENT = 'ACME challenge from Node-RED (node-red-contrib-ddns), removed after use';

const PERMISSION_HINT =
  'The token needs the permissions Zone · DNS · Edit and Zone · Zone · Read for this domain ' +
  '(the "Edit zone DNS" template in My Profile › API Tokens gives both).';

// ---------------------------------------------------------------------------------------------
// Settings

const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const boolSetting = (def: boolean) =>
  z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : blankToUndefined(v)), z.boolean().default(def));

const ZONE_ID = /^[0-9a-f]{32}$/;

export const cloudflareSettings = z.object({
  token: z
    .string({ error: 'enter the Cloudflare API token' })
    .trim()
    .transform((t) => t.replace(/^bearer\s+/i, ''))
    .pipe(z.string().min(1, 'enter the Cloudflare API token')),
  zone: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .toLowerCase()
      .transform((s) => s.replace(/\.$/, ''))
      .refine((s) => ZONE_ID.test(s) || asciiName(s) !== null, 'the zone must be a domain such as example.com, or a zone ID')
      .optional(),
  ),
  createMissing: boolSetting(true),
  ttl: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : blankToUndefined(v)),
    z
      .number({ error: 'the TTL must be a number of seconds' })
      .int('the TTL must be a whole number of seconds')
      .refine((t) => t === 1 || (t >= 60 && t <= 86_400), 'the TTL must be 1 (automatic) or between 60 and 86400 seconds')
      .default(1),
  ),
  proxied: boolSetting(false),
  endpoint: z.preprocess(
    blankToUndefined,
    z.url({ protocol: /^https?$/, error: 'the API address must be an http(s) URL' }).default(CLOUDFLARE_ENDPOINT),
  ),
});
export type CloudflareSettings = z.infer<typeof cloudflareSettings>;

// ---------------------------------------------------------------------------------------------
// Cloudflare's answers (validated; unknown fields are allowed)

const CfMessage = z.looseObject({
  code: z.number(),
  message: z.string(),
  error_chain: z.array(z.looseObject({ code: z.number(), message: z.string() })).optional(),
});
const ResultInfo = z.looseObject({
  page: z.number().optional(),
  per_page: z.number().optional(),
  total_pages: z.number().optional(),
  count: z.number().optional(),
  total_count: z.number().optional(),
});
const Envelope = z.looseObject({
  success: z.boolean(),
  errors: z.array(CfMessage).nullish(),
  messages: z.array(z.unknown()).nullish(),
  // Some error answers carry no `result` at all (9106: `{"success":false,"errors":[…]}`).
  result: z.unknown().optional(),
  result_info: ResultInfo.nullish(),
});
const ZoneSchema = z.looseObject({ id: z.string().min(1), name: z.string().min(1), status: z.string().optional() });
const RecordSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string(),
  name: z.string(),
  content: z.string(),
  proxied: z.boolean().optional(),
  ttl: z.number().optional(),
  comment: z.string().nullish(),
});
const Deleted = z.looseObject({ id: z.string() });

type CfMessage = z.infer<typeof CfMessage>;
type Zone = { id: string; name: string };
type CfRecord = z.infer<typeof RecordSchema>;
type AddressType = 'A' | 'AAAA';

/** Codes (or chained codes) meaning "this token cannot be used": stop the account. */
const AUTH_CODES = new Set([6003, 6111, 9103, 9106, 9109, 10000]);
/** Codes meaning "no such record / zone": cached ids are stale. */
const NOT_FOUND_CODES = new Set([81044, 7003, 1001]);

// ---------------------------------------------------------------------------------------------
// Names and contents

/** The ASCII (punycode) lower-case form of a DNS name, or null when it is not a usable name. */
export function asciiName(name: string): string | null {
  const ascii = domainToASCII(name.trim().replace(/\.$/, '')).toLowerCase();
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2) return null;
  const ok = labels.every((l, i) => (l === '*' && i === 0) || /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/.test(l));
  return ok ? ascii : null;
}

/** The names that may be the zone of `host`, most specific first (never a bare TLD or a wildcard). */
export function zoneCandidates(host: string): string[] {
  const labels = host.split('.');
  const out: string[] = [];
  for (let i = 0; i <= labels.length - 2; i++) if (labels[i] !== '*') out.push(labels.slice(i).join('.'));
  return out;
}

const sameName = (a: string, b: string) => asciiName(a) === asciiName(b);

function sameAddress(content: string, address: string): boolean {
  return parseAddress(content)?.address === address;
}

/** TXT contents travel as quoted RFC 1035 character strings (Cloudflare's documented form). */
function quoteTxt(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
function unquoteTxt(content: string): string {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(content);
  return m ? m[1].replace(/\\(.)/g, '$1') : content;
}

const typeOf = (family: Family): AddressType => (family === 'ipv4' ? 'A' : 'AAAA');

function describeErrors(errors: CfMessage[]): string {
  return errors
    .map((e) => {
      const chain = (e.error_chain ?? []).map((c) => `${c.code} ${c.message}`).join('; ');
      return `${e.code} ${e.message}${chain ? ` (${chain})` : ''}`;
    })
    .join('; ');
}

function allCodes(errors: CfMessage[]): number[] {
  return errors.flatMap((e) => [e.code, ...(e.error_chain ?? []).map((c) => c.code)]);
}

// ---------------------------------------------------------------------------------------------
// The provider

interface CallOptions {
  query?: Record<string, string>;
  body?: object;
  signal?: AbortSignal;
}

interface Converged {
  outcome: 'updated' | 'unchanged';
  message: string;
}

export class CloudflareProvider implements DnsProvider {
  readonly id = 'cloudflare';
  /** Cloudflare is updated name by name; one name per call keeps results exact when a call throws. */
  readonly maxHostsPerCall = 1;
  private readonly redactor: Redactor;
  private readonly base: string;
  /** Zone name → zone; null when a walk showed that no zone has this name (only below a found zone). */
  private readonly zonesByName = new Map<string, Zone | null>();
  /** Host name → its zone. */
  private readonly zoneOfHost = new Map<string, Zone>();
  /** `${type} ${host}` → the records last seen or written (ids and contents). */
  private readonly records = new Map<string, CfRecord[]>();

  constructor(
    private readonly settings: CloudflareSettings,
    private readonly env: ProviderEnv = {},
  ) {
    this.redactor = new Redactor([settings.token]);
    this.base = settings.endpoint.replace(/\/+$/, '');
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const results: RecordResult[] = [];
    for (const hostname of call.hostnames) {
      for (const family of ['ipv4', 'ipv6'] as const) {
        const address = call.addresses[family];
        if (address !== undefined) results.push(await this.setOne(hostname, family, address, call.signal));
      }
    }
    return results;
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return this.guard(async () => {
      const host = this.host(hostname);
      const type = typeOf(family);
      return this.withFreshRetry(host, async () => {
        const zone = await this.zoneFor(host, signal);
        const found = await this.list(zone, type, host, signal);
        this.records.set(`${type} ${host}`, found);
        return found.map((r) => parseAddress(r.content)?.address ?? r.content);
      });
    });
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.withTxt(name, value, signal, async (zone, host, same) => {
      if (same.length) return;
      await this.create(zone, { type: 'TXT', name: host, content: quoteTxt(value), ttl: TXT_TTL, comment: TXT_COMMENT }, signal);
    });
  }

  /** Deletes only the TXT records of `name` whose content is exactly `value`; none is not an error. */
  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.withTxt(name, value, signal, async (zone, host, same) => {
      for (const r of same) await this.remove(zone, r, signal);
    });
  }

  /** The TXT records of `name` whose content is exactly `value`, in their zone, handed to `fn`. */
  private withTxt(name: string, value: string, signal: AbortSignal | undefined, fn: (zone: Zone, host: string, same: CfRecord[]) => Promise<void>): Promise<void> {
    return this.guard(async () => {
      const host = this.host(name);
      checkTxtValue(value);
      await this.withFreshRetry(host, async () => {
        const zone = await this.zoneFor(host, signal);
        const existing = await this.list(zone, 'TXT', host, signal);
        await fn(zone, host, existing.filter((r) => unquoteTxt(r.content) === value));
      });
    });
  }

  async close(): Promise<void> {
    this.zonesByName.clear();
    this.zoneOfHost.clear();
    this.records.clear();
  }

  // -------------------------------------------------------------------------------------------

  /**
   * One name and family. Problems of this name become a `failed` result; problems of the API or the
   * account (authentication, rate limit, outage, unreadable answers) are thrown.
   */
  private async setOne(hostname: string, family: Family, address: Ip, signal?: AbortSignal): Promise<RecordResult> {
    try {
      const host = this.host(hostname);
      const done = await this.withFreshRetry(host, () => this.converge(host, typeOf(family), address, signal));
      return { hostname, family, outcome: done.outcome, message: this.redactor.text(done.message) };
    } catch (e) {
      const err = this.redactor.error(toDdnsError(e));
      if (err.scope === 'account' || (err.kind === 'transient' && err.code !== 'cf_not_found')) throw err;
      return { hostname, family, outcome: 'failed', message: err.message, error: err };
    }
  }

  /**
   * Make the `type` records of `host` hold exactly `address`.
   *
   * Several records of one name and type: we keep one (the one that already holds the address, else
   * the first), PATCH it when needed, then delete the others, as favonia/cloudflare-ddns does. For a
   * dynamic name the extra records are nearly always leftovers (an earlier failed run, a copy made
   * by hand) and each one sends part of the visitors to an address that is no longer the home's.
   * Rewriting them all to the same content is not possible (Cloudflare refuses identical records on
   * one name, 81058), and leaving them would keep the name half wrong. The result message names the
   * addresses removed, so nothing disappears silently. The update happens before the deletions, so
   * the name never goes without a record.
   */
  private async converge(host: string, type: AddressType, address: string, signal?: AbortSignal): Promise<Converged> {
    const zone = await this.zoneFor(host, signal);
    const key = `${type} ${host}`;
    const cached = this.records.get(key);
    if (cached?.length === 1) {
      // Known id: one PATCH, nothing else. A stale id answers 404/81044 and withFreshRetry starts over.
      const before = cached[0];
      const after = await this.patch(zone, `${type} record of ${host}`, before.id, address, signal);
      this.records.set(key, [after]);
      return sameAddress(before.content, address)
        ? { outcome: 'unchanged', message: `${type} ${address} confirmed${proxyNote(after)}` }
        : { outcome: 'updated', message: `${type} set to ${address} (was ${before.content}); TTL, proxy status and comment kept${proxyNote(after)}` };
    }

    this.records.delete(key);
    const found = await this.list(zone, type, host, signal);
    if (found.length === 0) {
      if (!this.settings.createMissing) {
        throw fatal(
          `${host} has no ${type} record in the Cloudflare zone ${zone.name}, and "Create missing records" is off: ` +
            'add the record in the Cloudflare dashboard, or turn the option on',
          { code: 'nohost', scope: 'host' },
        );
      }
      const { ttl, proxied } = this.settings;
      const made = await this.create(zone, { type, name: host, content: address, ttl, proxied, comment: CREATED_COMMENT }, signal);
      this.records.set(key, [made]);
      const ttlText = ttl === 1 ? 'automatic TTL' : `TTL ${ttl} s`;
      return { outcome: 'updated', message: `${type} record created with ${address} (${ttlText}, ${proxied ? 'proxied' : 'not proxied'})${proxyNote(made)}` };
    }

    const keep = found.find((r) => sameAddress(r.content, address)) ?? found[0];
    const extras = found.filter((r) => r !== keep);
    let kept = keep;
    const parts: string[] = [];
    if (!sameAddress(keep.content, address)) {
      kept = await this.patch(zone, `${type} record of ${host}`, keep.id, address, signal);
      parts.push(`${type} set to ${address} (was ${keep.content}); TTL, proxy status and comment kept`);
    } else {
      parts.push(`${type} already ${address}`);
    }
    for (const x of extras) await this.remove(zone, x, signal);
    if (extras.length > 0) {
      const n = extras.length;
      parts.push(`removed ${n} other ${type} record${n > 1 ? 's' : ''} (${extras.map((x) => x.content).join(', ')}) so that the name holds one address`);
    }
    this.records.set(key, [kept]);
    const changed = kept !== keep || extras.length > 0;
    return { outcome: changed ? 'updated' : 'unchanged', message: parts.join('; ') + proxyNote(kept) };
  }

  /** Runs `fn`; when it fails with "not found" while cached ids were used, forgets them and runs it once more. */
  private async withFreshRetry<T>(host: string, fn: () => Promise<T>): Promise<T> {
    const usedCache = this.hasCachedZone(host);
    try {
      return await fn();
    } catch (e) {
      if (!usedCache || !isDdnsError(e) || e.code !== 'cf_not_found') throw e;
      this.forget(host);
      return fn();
    }
  }

  private hasCachedZone(host: string): boolean {
    if (this.zoneOfHost.has(host)) return true;
    const hint = this.settings.zone;
    if (hint) return Boolean(this.zonesByName.get(hint));
    return zoneCandidates(host).some((c) => Boolean(this.zonesByName.get(c)));
  }

  private forget(host: string): void {
    const zone = this.zoneOfHost.get(host);
    this.zoneOfHost.delete(host);
    for (const type of ['A', 'AAAA']) this.records.delete(`${type} ${host}`);
    // The zone itself may be gone (or re-created with a new id): look it up again.
    const stale = zone?.id;
    for (const [name, z] of this.zonesByName) if (z === null || z.id === stale || zoneCandidates(host).includes(name)) this.zonesByName.delete(name);
    if (this.settings.zone) this.zonesByName.delete(this.settings.zone);
    for (const [h, z] of this.zoneOfHost) if (z.id === stale) this.zoneOfHost.delete(h);
  }

  private host(name: string): string {
    const ascii = typeof name === 'string' ? asciiName(name) : null;
    if (!ascii) throw badInput(`"${String(name).slice(0, 80)}" is not a valid DNS name`, 'invalid_hostname');
    return ascii;
  }

  /** Every public method's errors leave as redacted DdnsErrors. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.redactor.error(toDdnsError(e));
    }
  }

  // ---- zones ----------------------------------------------------------------------------------

  private async zoneFor(host: string, signal?: AbortSignal): Promise<Zone> {
    const known = this.zoneOfHost.get(host);
    if (known) return known;
    const zone = this.settings.zone ? await this.configuredZone(host, signal) : await this.walk(host, signal);
    this.zoneOfHost.set(host, zone);
    return zone;
  }

  private async configuredZone(host: string, signal?: AbortSignal): Promise<Zone> {
    const hint = this.settings.zone!;
    let zone = this.zonesByName.get(hint) ?? null;
    if (!zone) {
      const missing = () =>
        fatal(`the zone "${hint}" set in the account is not in this Cloudflare account, or the API token cannot see it. ${PERMISSION_HINT}`, {
          code: 'cf_zone_not_found',
          scope: 'account',
        });
      if (ZONE_ID.test(hint)) {
        try {
          const z = (await this.call(`reading the zone ${hint}`, 'GET', `/zones/${hint}`, ZoneSchema, { signal })).result;
          zone = { id: z.id, name: z.name.toLowerCase() };
        } catch (e) {
          throw isDdnsError(e) && e.code === 'cf_not_found' ? missing() : e;
        }
      } else {
        zone = await this.lookupZone(hint, signal);
        if (!zone) throw missing();
      }
      this.zonesByName.set(hint, zone);
    }
    if (host !== zone.name && !host.endsWith(`.${zone.name}`)) {
      throw badInput(`${host} is not inside the zone ${zone.name} set in the Cloudflare account`, 'outside_zone');
    }
    return zone;
  }

  private async walk(host: string, signal?: AbortSignal): Promise<Zone> {
    const candidates = zoneCandidates(host);
    const misses: string[] = [];
    for (const name of candidates) {
      let zone = this.zonesByName.get(name);
      if (zone === undefined) zone = await this.lookupZone(name, signal);
      if (zone) {
        // Names between the host and its zone are known not to be zones (no further lookups for them).
        for (const m of misses) this.zonesByName.set(m, null);
        this.zonesByName.set(name, zone);
        return zone;
      }
      misses.push(name);
    }
    throw fatal(
      `no zone of this Cloudflare account holds ${host} (looked for ${candidates.join(', ')}): add the domain to Cloudflare, ` +
        `or give the API token access to it. ${PERMISSION_HINT}`,
      { code: 'cf_zone_not_found', scope: 'host' },
    );
  }

  /** `GET /zones?name=` → the zone of exactly this name, or null. */
  private async lookupZone(name: string, signal?: AbortSignal): Promise<Zone | null> {
    const { result } = await this.call(`looking up the zone ${name}`, 'GET', '/zones', z.array(ZoneSchema), {
      query: { name, per_page: '50' },
      signal,
    });
    // A deleted zone is archived and serves nothing; every other status still holds records.
    const matches = result.filter((z) => sameName(z.name, name) && z.status !== 'deleted');
    if (matches.length > 1) {
      throw fatal(`Cloudflare lists ${matches.length} zones named ${name}; set the zone ID in the account to choose one`, {
        code: 'cf_zone_ambiguous',
        scope: 'host',
      });
    }
    return matches[0] ? { id: matches[0].id, name: matches[0].name.toLowerCase() } : null;
  }

  // ---- records --------------------------------------------------------------------------------

  private async list(zone: Zone, type: string, host: string, signal?: AbortSignal): Promise<CfRecord[]> {
    const out: CfRecord[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { result, info } = await this.call(`reading the ${type} records of ${host}`, 'GET', `/zones/${zone.id}/dns_records`, z.array(RecordSchema), {
        query: { type, name: host, per_page: '100', page: String(page) },
        signal,
      });
      // Filter again: names come back in punycode, and a server may ignore a filter.
      out.push(...result.filter((r) => r.type === type && sameName(r.name, host)));
      if (result.length === 0 || !info?.total_pages || page >= info.total_pages) break;
    }
    return out;
  }

  private async patch(zone: Zone, what: string, id: string, address: string, signal?: AbortSignal): Promise<CfRecord> {
    const op = `updating the ${what}`;
    return (await this.call(op, 'PATCH', `/zones/${zone.id}/dns_records/${id}`, RecordSchema, { body: { content: address }, signal })).result;
  }

  private async create(zone: Zone, body: Record<string, unknown>, signal?: AbortSignal): Promise<CfRecord> {
    const op = `creating the ${String(body.type)} record ${String(body.name)}`;
    return (await this.call(op, 'POST', `/zones/${zone.id}/dns_records`, RecordSchema, { body, signal })).result;
  }

  private async remove(zone: Zone, record: CfRecord, signal?: AbortSignal): Promise<void> {
    const op = `deleting the ${record.type} record ${record.name} (${record.content})`;
    await this.call(op, 'DELETE', `/zones/${zone.id}/dns_records/${record.id}`, Deleted, { signal });
  }

  // ---- one API call ---------------------------------------------------------------------------

  private async call<S extends z.ZodType>(
    op: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    schema: S,
    opts: CallOptions = {},
  ): Promise<{ result: z.infer<S>; info?: z.infer<typeof ResultInfo> }> {
    const qs = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
    let res: HttpResponse;
    try {
      res = await httpRequest({
        url: `${this.base}${path}${qs}`,
        method,
        headers: { authorization: `Bearer ${this.settings.token}`, accept: 'application/json' },
        body: opts.body,
        timeoutMs: this.env.timeoutMs,
        localAddress: this.env.localAddress,
        maxBodyBytes: MAX_BODY_BYTES,
        redactor: this.redactor,
        signal: opts.signal,
      });
    } catch (e) {
      const err = toDdnsError(e);
      throw transient(`Cloudflare API, ${op}: ${err.message}`, { code: err.code, detail: err.detail, cause: e });
    }
    return this.interpret(op, res, schema);
  }

  private interpret<S extends z.ZodType>(op: string, res: HttpResponse, schema: S): { result: z.infer<S>; info?: z.infer<typeof ResultInfo> } {
    const shown = () => excerpt(res.body, this.redactor);
    let env: z.infer<typeof Envelope> | undefined;
    try {
      const parsed = Envelope.safeParse(JSON.parse(res.body));
      if (parsed.success) env = parsed.data;
    } catch {
      env = undefined;
    }
    const errors = env?.errors ?? [];
    const codes = allCodes(errors);
    const said = errors.length ? describeErrors(errors) : `HTTP ${res.status}`;

    if (res.status === 429) {
      const after = parseRetryAfter(res.headers['retry-after']);
      const wait = after ?? RATE_LIMIT_BLOCK_MS;
      throw transient(
        `Cloudflare's rate limit was reached (${said}) while ${op}: Cloudflare blocks every call of this account for a while; next try in ${Math.ceil(wait / 1000)} s`,
        { code: 'rate_limited', retryAfterMs: wait, scope: 'account', detail: shown() },
      );
    }
    const auth = codes.find((c) => AUTH_CODES.has(c));
    if (res.status === 401 || res.status === 403 || (auth !== undefined && res.status < 500)) {
      throw fatal(`${authProblem(codes, said, res.status)} ${PERMISSION_HINT}`, {
        code: errors[0] ? `cf_${errors[0].code}` : `http_${res.status}`,
        scope: 'account',
        detail: shown(),
      });
    }
    if (res.status >= 500) {
      throw transient(`Cloudflare API is having trouble (HTTP ${res.status}) while ${op}: ${env ? said : shown()}`, {
        code: `http_${res.status}`,
        detail: shown(),
      });
    }
    if (!env) {
      throw transient(`Cloudflare sent an answer that is not its JSON envelope (HTTP ${res.status}) while ${op}: ${shown()}`, {
        code: 'cf_bad_answer',
        detail: shown(),
      });
    }
    if (res.status === 404 || codes.some((c) => NOT_FOUND_CODES.has(c))) {
      throw transient(`Cloudflare does not know the object while ${op} (${said})`, { code: 'cf_not_found', detail: shown() });
    }
    if (res.status >= 400) {
      throw fatal(`Cloudflare refused ${op}: ${said}`, { code: errors[0] ? `cf_${errors[0].code}` : `http_${res.status}`, scope: 'host', detail: shown() });
    }
    if (!env.success) {
      throw transient(`Cloudflare reported a failure (HTTP ${res.status}) while ${op}: ${said}`, { code: 'cf_bad_answer', detail: shown() });
    }
    const result = schema.safeParse(env.result);
    if (!result.success) {
      throw transient(`Cloudflare's answer has an unexpected shape while ${op}: ${shown()}`, { code: 'cf_bad_answer', detail: shown() });
    }
    return { result: result.data, info: env.result_info ?? undefined };
  }
}

function authProblem(codes: number[], said: string, status: number): string {
  if (codes.includes(9106)) return `No API token reached Cloudflare (${said}).`;
  if (codes.includes(6111) || codes.includes(6003)) {
    return `Cloudflare says the API token is malformed (${said}): paste the API token itself (not the Global API Key).`;
  }
  if (codes.includes(9109)) return `Cloudflare does not accept this API token (${said}): it may have been deleted, rolled or mistyped.`;
  if (status === 403) return `Cloudflare refused the API token (${said}): it lacks a permission for this domain, or it has expired.`;
  return `Cloudflare refused the API token (${said}): it may have expired or been disabled.`;
}

function proxyNote(r: CfRecord): string {
  return r.proxied ? "; proxied: DNS shows Cloudflare's addresses, confirmed through the API" : '';
}

function checkTxtValue(value: string): void {
  if (typeof value !== 'string' || !/^[\x20-\x7e]{1,255}$/.test(value)) {
    throw badInput('a TXT value must be 1 to 255 printable ASCII characters', 'invalid_txt');
  }
}

// ---------------------------------------------------------------------------------------------
// Registry entry

export const definition: ProviderDefinition<typeof cloudflareSettings> = {
  id: 'cloudflare',
  label: 'Cloudflare (API token)',
  settings: cloudflareSettings,
  fields: [
    {
      key: 'token',
      label: 'API token',
      kind: 'password',
      required: true,
      help: 'An API token with Zone · DNS · Edit and Zone · Zone · Read for your domain (the "Edit zone DNS" template). Not the Global API Key.',
    },
    {
      key: 'zone',
      label: 'Zone',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: your domain as Cloudflare shows it, or its zone ID. Left empty, the zone is found from each name.',
    },
    {
      key: 'createMissing',
      label: 'Create missing records',
      kind: 'checkbox',
      default: true,
      help: 'When a name has no A/AAAA record yet, create it. Off: a missing record is reported as an error.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 1,
      help: 'Seconds, 60 to 86400; 1 means automatic. Records that already exist keep their own TTL.',
    },
    {
      key: 'proxied',
      label: 'Proxy new records through Cloudflare',
      kind: 'checkbox',
      default: false,
      help: 'Only for records this node creates; existing records keep their proxy status. Proxied names resolve to Cloudflare, not to your address.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      default: CLOUDFLARE_ENDPOINT,
      advanced: true,
      help: 'Change only for testing or an API gateway.',
    },
  ],
  txt: true,
  docsUrl: 'https://developers.cloudflare.com/fundamentals/api/get-started/create-token/',
  create: (settings, env) => new CloudflareProvider(settings, env),
};
