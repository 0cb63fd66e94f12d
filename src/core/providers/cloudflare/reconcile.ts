/**
 * Cloudflare record reconciling: the DnsProvider that makes the A/AAAA/TXT records of a name hold
 * what is asked, over the wire client (./client).
 *
 * - The zone of a name is found by walking up its labels (`GET /zones?name=<candidate>`, most specific
 *   first) unless the account names a zone (name or 32-hex id).
 * - An A/AAAA record is changed with `PATCH {content}` only, so its TTL, proxy status and comment stay
 *   as the user set them. Settings `ttl`/`proxied` apply to records this provider creates.
 * - Several records of one name and type are converged to exactly one (see `converge`).
 * - Zone ids and record ids are cached per instance: once a name has been seen, an update costs one
 *   PATCH. A 404 / 81044 answer drops the cached ids of that name and the operation runs once more
 *   from scratch. Nothing else is remembered and nothing is retried: the update engine does that.
 * - A problem of one name (no zone, no record with creation off, a refused record) is a `failed`
 *   RecordResult; problems of the API or the account are thrown. The token never leaves.
 */
import { z } from 'zod';
import { badInput, fatal, isDdnsError, say, toDdnsError, type Sentence } from '../../errors';
import { parseAddress, type Family, type Ip } from '../../address';
import { Redactor } from '../../redact';
import type { DnsProvider, ProviderCall, ProviderEnv, RecordResult } from '../types';
import { failed, records, recordType, said } from '../kit';
import { CloudflareClient, PERMISSION_HINT } from './client';
import {
  asciiName,
  Deleted,
  quoteTxt,
  RecordSchema,
  sameAddress,
  sameName,
  unquoteTxt,
  ZONE_ID,
  zoneCandidates,
  ZoneSchema,
  type AddressType,
  type CfRecord,
  type Zone,
} from './models';

/** TTL of ACME challenge TXT records (Cloudflare's minimum outside Enterprise plans). */
const TXT_TTL = 60;
/** Pages of 100 records read at most for one name and type (a guard against a looping API). */
const MAX_PAGES = 20;
const CREATED_COMMENT = 'Managed by Node-RED (node-red-contrib-ddns)';
const TXT_COMMENT = 'ACME challenge from Node-RED (node-red-contrib-ddns), removed after use';

/** The account settings the provider uses (validated by the definition's schema). */
export interface CloudflareOptions {
  token: string;
  zone?: string;
  createMissing: boolean;
  ttl: number;
  proxied: boolean;
  endpoint: string;
}

interface Converged {
  outcome: 'updated' | 'unchanged';
  /** What was done, said in the user's language by the adapters. */
  said: Sentence;
}

export class CloudflareProvider implements DnsProvider {
  readonly id = 'cloudflare';
  /** Cloudflare is updated name by name; one name per call keeps results exact when a call throws. */
  readonly maxHostsPerCall = 1;
  private readonly redactor: Redactor;
  /** Zone name → zone; null when a walk showed that no zone has this name (only below a found zone). */
  private readonly zonesByName = new Map<string, Zone | null>();
  /** Host name → its zone. */
  private readonly zoneOfHost = new Map<string, Zone>();
  /** `${type} ${host}` → the records last seen or written (ids and contents). */
  private readonly records = new Map<string, CfRecord[]>();

  private readonly api: CloudflareClient;

  constructor(
    private readonly settings: CloudflareOptions,
    env: ProviderEnv = {},
  ) {
    this.redactor = new Redactor([settings.token]);
    this.api = new CloudflareClient(settings.endpoint.replace(/\/+$/, ''), settings.token, this.redactor, env);
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const results: RecordResult[] = [];
    for (const { hostname, family, address } of records(call))
      results.push(await this.setOne(hostname, family, address, call.signal));
    return results;
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return this.guard(async () => {
      const host = this.host(hostname);
      const type = recordType(family);
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
      await this.create(
        zone,
        { type: 'TXT', name: host, content: quoteTxt(value), ttl: TXT_TTL, comment: TXT_COMMENT },
        signal,
      );
    });
  }

  /** Deletes only the TXT records of `name` whose content is exactly `value`; none is not an error. */
  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.withTxt(name, value, signal, async (zone, host, same) => {
      for (const r of same) await this.remove(zone, r, signal);
    });
  }

  /** The TXT records of `name` whose content is exactly `value`, in their zone, handed to `fn`. */
  private withTxt(
    name: string,
    value: string,
    signal: AbortSignal | undefined,
    fn: (zone: Zone, host: string, same: CfRecord[]) => Promise<void>,
  ): Promise<void> {
    return this.guard(async () => {
      const host = this.host(name);
      checkTxtValue(value);
      await this.withFreshRetry(host, async () => {
        const zone = await this.zoneFor(host, signal);
        const existing = await this.list(zone, 'TXT', host, signal);
        await fn(
          zone,
          host,
          existing.filter((r) => unquoteTxt(r.content) === value),
        );
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
      const done = await this.withFreshRetry(host, () => this.converge(host, recordType(family), address, signal));
      return said(hostname, family, done.outcome, this.redactor.sentence(done.said));
    } catch (e) {
      const err = this.redactor.error(toDdnsError(e));
      if (err.scope === 'account' || (err.kind === 'transient' && err.code !== 'cf_not_found')) throw err;
      return failed(hostname, family, err);
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
      const after = await this.patch(zone, type, host, before.id, address, signal);
      this.records.set(key, [after]);
      return sameAddress(before.content, address)
        ? {
            outcome: 'unchanged',
            said: say('cloudflare.confirmed', '__type__ __address__ confirmed__proxy__', {
              type,
              address,
              proxy: proxyNote(after),
            }),
          }
        : { outcome: 'updated', said: setTo(type, address, before.content, proxyNote(after)) };
    }

    this.records.delete(key);
    const found = await this.list(zone, type, host, signal);
    if (found.length === 0) {
      if (!this.settings.createMissing) {
        throw fatal(
          say(
            'cloudflare.no_record',
            '__host__ has no __type__ record in the Cloudflare zone __zone__, and "Create missing records" is off: add the record in the Cloudflare dashboard, or turn the option on',
            { host, type, zone: zone.name },
          ),
          { code: 'nohost', scope: 'host' },
        );
      }
      const { ttl, proxied } = this.settings;
      const made = await this.create(
        zone,
        { type, name: host, content: address, ttl, proxied, comment: CREATED_COMMENT },
        signal,
      );
      this.records.set(key, [made]);
      return {
        outcome: 'updated',
        said: say('cloudflare.created', '__type__ record created with __address__ (__ttl__, __proxied__)__proxy__', {
          type,
          address,
          ttl:
            ttl === 1 ? say('cloudflare.ttl_auto', 'automatic TTL') : say('cloudflare.ttl', 'TTL __ttl__ s', { ttl }),
          proxied: proxied ? say('cloudflare.proxied', 'proxied') : say('cloudflare.not_proxied', 'not proxied'),
          proxy: proxyNote(made),
        }),
      };
    }

    const keep = found.find((r) => sameAddress(r.content, address)) ?? found[0];
    const extras = found.filter((r) => r !== keep);
    let kept = keep;
    if (!sameAddress(keep.content, address)) kept = await this.patch(zone, type, host, keep.id, address, signal);
    for (const x of extras) await this.remove(zone, x, signal);
    this.records.set(key, [kept]);
    const edited = kept !== keep;
    const change = (proxy: Sentence | '') =>
      edited
        ? setTo(type, address, keep.content, proxy)
        : say('cloudflare.already', '__type__ already __address____proxy__', { type, address, proxy });
    const proxy = proxyNote(kept);
    if (extras.length === 0) return { outcome: edited ? 'updated' : 'unchanged', said: change(proxy) };
    const v = { type, n: extras.length, addresses: extras.map((x) => x.content).join(', ') };
    const removed =
      extras.length > 1
        ? say(
            'cloudflare.removed_many',
            'removed __n__ other __type__ records (__addresses__) so that the name holds one address',
            v,
          )
        : say(
            'cloudflare.removed_one',
            'removed 1 other __type__ record (__addresses__) so that the name holds one address',
            v,
          );
    return {
      outcome: 'updated',
      said: say('cloudflare.and', '__change__; __removed____proxy__', { change: change(''), removed, proxy }),
    };
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
    for (const [name, z] of this.zonesByName)
      if (z === null || z.id === stale || zoneCandidates(host).includes(name)) this.zonesByName.delete(name);
    if (this.settings.zone) this.zonesByName.delete(this.settings.zone);
    for (const [h, z] of this.zoneOfHost) if (z.id === stale) this.zoneOfHost.delete(h);
  }

  private host(name: string): string {
    const ascii = typeof name === 'string' ? asciiName(name) : null;
    if (!ascii)
      throw badInput(
        say('cloudflare.invalid_name', '"__name__" is not a valid DNS name', { name: String(name).slice(0, 80) }),
        'invalid_hostname',
      );
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
        fatal(
          say(
            'cloudflare.zone_missing',
            'the zone "__zone__" set in the account is not in this Cloudflare account, or the API token cannot see it. __hint__',
            { zone: hint, hint: PERMISSION_HINT },
          ),
          {
            code: 'cf_zone_not_found',
            scope: 'account',
          },
        );
      if (ZONE_ID.test(hint)) {
        try {
          const z = (
            await this.api.call(
              say('cloudflare.op_read_zone', 'reading the zone __zone__', { zone: hint }),
              'GET',
              `/zones/${hint}`,
              ZoneSchema,
              { signal },
            )
          ).result;
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
      throw badInput(
        say('cloudflare.outside_zone', '__host__ is not inside the zone __zone__ set in the Cloudflare account', {
          host,
          zone: zone.name,
        }),
        'outside_zone',
      );
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
      say(
        'cloudflare.no_zone',
        'no zone of this Cloudflare account holds __host__ (looked for __candidates__): add the domain to Cloudflare, or give the API token access to it. __hint__',
        { host, candidates: candidates.join(', '), hint: PERMISSION_HINT },
      ),
      { code: 'cf_zone_not_found', scope: 'host' },
    );
  }

  /** `GET /zones?name=` → the zone of exactly this name, or null. */
  private async lookupZone(name: string, signal?: AbortSignal): Promise<Zone | null> {
    const { result } = await this.api.call(
      say('cloudflare.op_lookup_zone', 'looking up the zone __zone__', { zone: name }),
      'GET',
      '/zones',
      z.array(ZoneSchema),
      {
        query: { name, per_page: '50' },
        signal,
      },
    );
    // A deleted zone is archived and serves nothing; every other status still holds records.
    const matches = result.filter((z) => sameName(z.name, name) && z.status !== 'deleted');
    if (matches.length > 1) {
      throw fatal(
        say(
          'cloudflare.ambiguous',
          'Cloudflare lists __count__ zones named __name__; set the zone ID in the account to choose one',
          { count: matches.length, name },
        ),
        {
          code: 'cf_zone_ambiguous',
          scope: 'host',
        },
      );
    }
    return matches[0] ? { id: matches[0].id, name: matches[0].name.toLowerCase() } : null;
  }

  // ---- records --------------------------------------------------------------------------------

  private async list(zone: Zone, type: string, host: string, signal?: AbortSignal): Promise<CfRecord[]> {
    const out: CfRecord[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { result, info } = await this.api.call(
        say('cloudflare.op_read_records', 'reading the __type__ records of __host__', { type, host }),
        'GET',
        `/zones/${zone.id}/dns_records`,
        z.array(RecordSchema),
        {
          query: { type, name: host, per_page: '100', page: String(page) },
          signal,
        },
      );
      // Filter again: names come back in punycode, and a server may ignore a filter.
      out.push(...result.filter((r) => r.type === type && sameName(r.name, host)));
      if (result.length === 0 || !info?.total_pages || page >= info.total_pages) break;
    }
    return out;
  }

  private async patch(
    zone: Zone,
    type: string,
    host: string,
    id: string,
    address: string,
    signal?: AbortSignal,
  ): Promise<CfRecord> {
    const op = say('cloudflare.op_update', 'updating the __type__ record of __host__', { type, host });
    return (
      await this.api.call(op, 'PATCH', `/zones/${zone.id}/dns_records/${id}`, RecordSchema, {
        body: { content: address },
        signal,
      })
    ).result;
  }

  private async create(zone: Zone, body: Record<string, unknown>, signal?: AbortSignal): Promise<CfRecord> {
    const op = say('cloudflare.op_create', 'creating the __type__ record __name__', {
      type: String(body.type),
      name: String(body.name),
    });
    return (await this.api.call(op, 'POST', `/zones/${zone.id}/dns_records`, RecordSchema, { body, signal })).result;
  }

  private async remove(zone: Zone, record: CfRecord, signal?: AbortSignal): Promise<void> {
    const op = say('cloudflare.op_delete', 'deleting the __type__ record __name__ (__content__)', {
      type: record.type,
      name: record.name,
      content: record.content,
    });
    await this.api.call(op, 'DELETE', `/zones/${zone.id}/dns_records/${record.id}`, Deleted, { signal });
  }
}

/** The note of a proxied record (what DNS answers is not the address), or nothing. */
function proxyNote(r: CfRecord): Sentence | '' {
  return r.proxied
    ? say('cloudflare.proxied_note', "; proxied: DNS shows Cloudflare's addresses, confirmed through the API")
    : '';
}

/** "A set to 203.0.113.7 (was 198.51.100.1); TTL, proxy status and comment kept". */
const setTo = (type: string, address: string, before: string, proxy: Sentence | ''): Sentence =>
  say('cloudflare.set', '__type__ set to __address__ (was __before__); TTL, proxy status and comment kept__proxy__', {
    type,
    address,
    before,
    proxy,
  });

function checkTxtValue(value: string): void {
  if (typeof value !== 'string' || !/^[\x20-\x7e]{1,255}$/.test(value)) {
    throw badInput(
      say('cloudflare.invalid_txt', 'a TXT value must be 1 to 255 printable ASCII characters'),
      'invalid_txt',
    );
  }
}
