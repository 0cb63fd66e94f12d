/**
 * RFC 2136 dynamic DNS updates signed with TSIG (BIND, Knot, PowerDNS, Windows DNS with TSIG …).
 * Protocol: RFC 2136 (UPDATE), RFC 8945 (TSIG). Wire code in ../dns/update.ts and ../dns/tsig.ts.
 *
 * Contract (beyond DnsProvider's):
 * - The zone of a name is the account's `zone`, or found by SOA queries to the same server.
 * - setAddresses writes with ONE UPDATE message per zone, without reading first (issue 17: messages
 *   O(zones), not O(names)): per name and type, "delete the RRset, add the address" (the RRset ends
 *   up holding exactly that one address), on RFC 2136 §2.4 prerequisites: the RRset holds exactly
 *   what the caller last confirmed (`expected`), or, when it confirmed nothing, the RRset does not
 *   exist and the name is not an alias (CNAME). When a prerequisite fails (NXRRSET / YXRRSET:
 *   someone changed a record, or the caller's memory is stale), each record of that zone is read
 *   (one unsigned query each): one already holding the address is `unchanged`, an alias fails, the
 *   rest is written once more on the values read. So the first write after a start is safe without
 *   a read (`conditional`: the update engine does not read first). Names are compressed in the
 *   message, so about a thousand names fit one; a zone's write too large for one DNS message is
 *   split in two halves (and so on).
 * - A name that is an alias (CNAME), outside the configured zone, or in no zone the server serves is
 *   a `failed` RecordResult (fatal). A zone's update refused by the server fails that zone's names.
 *   Errors concerning the whole account (TSIG key/secret/clock, server unreachable) are thrown
 *   when nothing was updated in the call.
 * - setTxt adds one TXT record and leaves other values of the name alone; deleteTxt removes exactly
 *   that value.
 * - The TSIG secret is used only to sign; every error passes through the Redactor.
 */
import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { badInput, DdnsError, fatal, say, toDdnsError, transient } from '../errors';
import type { Family } from '../address';
import { Redactor } from '../redact';
import { parseServer, serverLabel, type DnsServer, type ExchangeOptions } from '../dns/transport';
import { encodeName, type TsigKey } from '../dns/tsig';
import { inZone } from '../dns/authoritative';
import { findZoneAt, readRRset, sendUpdate, type Prereq, type UpdateOptions, type UpdateMessage } from '../dns/update';
import { blankToUndefined, boolSetting, checkSettings, choiceField, failed, messageOf, numberInput } from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

/** Names per call: one UPDATE message per zone carries them all (TCP when large, names compressed). */
const MAX_HOSTS_PER_CALL = 1000;
const DEFAULT_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Settings

/** `name`, `name.` → `name` in ASCII lower case, or null when it is not a usable DNS name. */
export function dnsName(text: string): string | null {
  const ascii = domainToASCII(text.trim().replace(/\.$/, '')).toLowerCase();
  if (!ascii || !ascii.split('.').every((l) => /^[a-z0-9_*-]{1,63}$/.test(l))) return null;
  try {
    encodeName(ascii);
  } catch {
    return null;
  }
  return ascii;
}

/** An optional DNS name setting (a zone, a key name), normalised by `dnsName`; `message` when it is none. */
const dnsNameSetting = (message: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .transform((s, ctx) => {
        const n = dnsName(s);
        if (n === null) ctx.addIssue({ code: 'custom', message });
        return n ?? '';
      })
      .optional(),
  );

function validServer(text: string): boolean {
  const s = parseServer(text);
  if (!Number.isInteger(s.port) || s.port! < 1 || s.port! > 65535) return false;
  return net.isIP(s.host) !== 0 || dnsName(s.host) !== null;
}

export const rfc2136Settings = z
  .object({
    server: z
      .string({
        error: phrase(
          'rfc2136.enter_dns_server_name',
          'enter the DNS server (its name or address, optionally with :port)',
        ),
      })
      .trim()
      .min(
        1,
        phrase('rfc2136.enter_dns_server_name', 'enter the DNS server (its name or address, optionally with :port)'),
      )
      .refine(
        validServer,
        phrase(
          'rfc2136.dns_server_must_host',
          'the DNS server must be a host name or an IP address, optionally with :port (IPv6 in brackets: [2001:db8::1]:53)',
        ),
      ),
    zone: dnsNameSetting(phrase('rfc2136.zone_must_domain_example', 'the zone must be a domain such as example.com')),
    keyName: dnsNameSetting(
      phrase('rfc2136.key_name_must_look', 'the key name must look like a DNS name, e.g. ddns-key'),
    ),
    algorithm: z.preprocess(
      (v) => {
        const b = blankToUndefined(v);
        if (typeof b !== 'string') return b;
        const a = b.trim().toLowerCase();
        return a.startsWith('hmac-') ? a : `hmac-${a}`;
      },
      z
        .enum(['hmac-sha256', 'hmac-sha512'], {
          error: phrase('rfc2136.tsig_algorithm_must_hmac', 'the TSIG algorithm must be hmac-sha256 or hmac-sha512'),
        })
        .default('hmac-sha256'),
    ),
    tsigSecret: z.preprocess(
      (v) =>
        typeof v === 'string'
          ? blankToUndefined(
              v
                .trim()
                .replace(/^secret\s+/i, '')
                .replace(/;$/, '')
                .replace(/^"(.*)"$/, '$1')
                .replace(/\s+/g, ''),
            )
          : blankToUndefined(v),
      z
        .string()
        .regex(
          /^[A-Za-z0-9+/]+={0,2}$/,
          phrase(
            'rfc2136.tsig_secret_must_base64',
            'the TSIG secret must be the base64 text of the key (the "secret" line of the key file)',
          ),
        )
        .optional(),
    ),
    ttl: z.preprocess(
      numberInput,
      z
        .number({ error: phrase('cloudflare.ttl_must_number_seconds', 'the TTL must be a number of seconds') })
        .int(phrase('cloudflare.ttl_must_whole_number', 'the TTL must be a whole number of seconds'))
        .min(0, phrase('rfc2136.ttl_cannot_negative', 'the TTL cannot be negative'))
        .max(604_800, phrase('rfc2136.ttl_must_most_604800', 'the TTL must be at most 604800 seconds (a week)'))
        .default(60),
    ),
    tcp: boolSetting(false),
  })
  .refine((s) => (s.keyName === undefined) === (s.tsigSecret === undefined), {
    message: phrase(
      'rfc2136.enter_both_tsig_key',
      'enter both the TSIG key name and its secret (or neither, for a server that accepts unsigned updates)',
    ),
    path: ['tsigSecret'],
  });
export type Rfc2136Settings = z.infer<typeof rfc2136Settings>;

// ---------------------------------------------------------------------------------------------
// The provider

type AddressType = 'A' | 'AAAA';
const TYPE_OF: Record<Family, AddressType> = { ipv4: 'A', ipv6: 'AAAA' };

interface Item {
  hostname: string; // as asked
  name: string; // canonical
  family: Family;
  type: AddressType;
  address: string;
  previous: string[];
}

/** The same error, marked as concerning the whole account (the server or the key). */
function accountWide(e: DdnsError): DdnsError {
  if (e.scope === 'account') return e;
  return new DdnsError(e.kind, e.sentence ?? e.message, {
    code: e.code,
    scope: 'account',
    retryAfterMs: e.retryAfterMs,
    detail: e.detail,
    cause: e,
  });
}

/** Codes meaning "no usable answer from the server at all" or "the key / clock is wrong". */
const serverWide = (code: string) =>
  code.startsWith('tsig_') || /^(timeout|dns_closed|dns_oversize|dns_error|dns_malformed|E[A-Z]+)$/.test(code);

/**
 * One UPDATE that sets each item's RRset to its one address, on the condition that the RRset holds
 * exactly `previous` (or does not exist, and the name is no alias, when `previous` is empty).
 */
function conditionalWrite(zone: string, items: Item[], ttl: number): UpdateMessage {
  const prereqs: Prereq[] = [];
  const aliasChecked = new Set<string>();
  for (const i of items) {
    if (i.previous.length) prereqs.push({ kind: 'rrset-equals', name: i.name, type: i.type, data: i.previous });
    else {
      prereqs.push({ kind: 'rrset-absent', name: i.name, type: i.type });
      if (!aliasChecked.has(i.name)) prereqs.push({ kind: 'rrset-absent', name: i.name, type: 'CNAME' });
      aliasChecked.add(i.name);
    }
  }
  return {
    zone,
    prereqs,
    deletes: items.map((i) => ({ name: i.name, type: i.type })),
    adds: items.map((i) => ({ name: i.name, type: i.type, data: i.address, ttl })),
  };
}

class Rfc2136Provider implements DnsProvider {
  readonly id = 'rfc2136';
  readonly maxHostsPerCall = MAX_HOSTS_PER_CALL;
  readonly conditional = true;
  readonly localDns = true;
  private readonly key: TsigKey | null;
  private readonly redactor: Redactor;
  private readonly zones = new Map<string, string>();

  constructor(
    private readonly s: Rfc2136Settings,
    private readonly env: ProviderEnv,
  ) {
    this.key = s.keyName && s.tsigSecret ? { name: s.keyName, algorithm: s.algorithm, secret: s.tsigSecret } : null;
    this.redactor = new Redactor([s.tsigSecret]);
  }

  private opts(signal?: AbortSignal): UpdateOptions & ExchangeOptions {
    return { timeoutMs: this.env.timeoutMs ?? DEFAULT_TIMEOUT_MS, tcp: this.s.tcp, signal };
  }

  /** The server as an address (a host name is looked up through the system resolver each call). */
  private async server(): Promise<DnsServer> {
    const s = parseServer(this.s.server);
    if (net.isIP(s.host)) return s;
    try {
      const { address } = await dnsPromises.lookup(s.host);
      return { host: address, port: s.port };
    } catch (e) {
      throw transient(
        say('rfc2136.server_lookup', 'cannot find the address of DNS server __server__: __reason__', {
          server: this.s.server,
          reason: (e as Error).message,
        }),
        {
          code: 'server_lookup',
          scope: 'account',
          cause: e,
        },
      );
    }
  }

  /** The zone of `name` (canonical): the configured one, or found by SOA queries (cached). */
  private async zoneOf(server: DnsServer, name: string, signal?: AbortSignal): Promise<string> {
    if (this.s.zone) {
      if (!inZone(name, this.s.zone))
        throw fatal(
          say(
            'rfc2136.notzone',
            '__name__ is not inside zone __zone__ set in the account: check the name, or the zone setting.',
            { name, zone: this.s.zone },
          ),
          { code: 'notzone' },
        );
      return this.s.zone;
    }
    let zone = this.zones.get(name);
    if (!zone) {
      zone = await findZoneAt(server, name, this.opts(signal));
      this.zones.set(name, zone);
    }
    return zone;
  }

  private name(hostname: string): string {
    const n = dnsName(hostname);
    if (n === null)
      throw badInput(
        say('rfc2136.invalid_name', '"__name__" is not a valid DNS name', { name: hostname }),
        'invalid_hostname',
      );
    return n;
  }

  /** Run `fn`, rethrowing any error as a redacted DdnsError. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.redactor.error(toDdnsError(e));
    }
  }

  private async update(server: DnsServer, req: UpdateMessage, signal?: AbortSignal): Promise<void> {
    try {
      await sendUpdate(server, req, this.key, this.opts(signal));
    } catch (e) {
      const err = toDdnsError(e);
      if (err.code === 'notauth' || err.code === 'notzone')
        for (const [n, z] of this.zones) if (z === req.zone) this.zones.delete(n);
      // no answer at all, or a key / clock problem: every name of the account is concerned
      throw serverWide(err.code) ? accountWide(err) : err;
    }
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return this.guard(async () => {
      // validate everything before sending anything
      const wanted: Array<Omit<Item, 'previous'>> = [];
      for (const hostname of call.hostnames) {
        const name = this.name(hostname);
        for (const family of ['ipv4', 'ipv6'] as const) {
          const address = call.addresses[family];
          if (address === undefined) continue;
          wanted.push({ hostname, name, family, type: TYPE_OF[family], address });
        }
      }
      const server = await this.server();
      const results: RecordResult[] = [];
      const byZone = new Map<string, Item[]>();
      for (const it of wanted) {
        let zone: string;
        try {
          zone = await this.zoneOf(server, it.name, call.signal);
        } catch (e) {
          const err = toDdnsError(e);
          if (err.kind === 'transient') throw accountWide(err);
          results.push(failed(it.hostname, it.family, this.redactor.error(err)));
          continue;
        }
        // The condition of the write: the record holds what the caller last confirmed, or nothing.
        const known = call.expected?.get(`${it.hostname}|${it.family}`);
        const list = byZone.get(zone) ?? [];
        list.push({ ...it, previous: known === undefined ? [] : [known] });
        byZone.set(zone, list);
      }

      let updated = 0;
      let stop: DdnsError | null = null;
      for (const [zone, items] of byZone) {
        if (stop) {
          for (const it of items) results.push(failed(it.hostname, it.family, this.redactor.error(stop)));
          continue;
        }
        const outcome = await this.writeZone(server, zone, items, call.signal);
        stop ??= outcome.stop;
        updated += outcome.updated;
        results.push(...outcome.results);
      }
      if (stop && updated === 0) throw stop;
      return results;
    });
  }

  /**
   * Write a zone's records in one UPDATE on the condition that each holds what `previous` says (RFC
   * 2136 §2.4: "RRset exists (value dependent)", or "RRset does not exist" and no alias), so
   * nothing is read first. When a condition fails (someone changed a record), the records are read
   * and the write is tried once more on what was read: names already right are `unchanged`, an
   * alias (CNAME) fails.
   */
  private async writeZone(
    server: DnsServer,
    zone: string,
    items: Item[],
    signal: AbortSignal | undefined,
    reread = false,
  ): Promise<{ results: RecordResult[]; updated: number; stop: DdnsError | null }> {
    const results: RecordResult[] = [];
    const fail = (it: Item, err: DdnsError) => results.push(failed(it.hostname, it.family, this.redactor.error(err)));
    try {
      if (items.length) await this.update(server, conditionalWrite(zone, items, this.s.ttl), signal);
    } catch (e) {
      const err = toDdnsError(e);
      if (err.code === 'too_large' && items.length > 1) {
        // more than one DNS message holds (64 KiB): two halves, each its own all-or-nothing write
        const half = Math.ceil(items.length / 2);
        const a = await this.writeZone(server, zone, items.slice(0, half), signal, reread);
        if (a.stop) {
          for (const it of items.slice(half)) fail(it, a.stop);
          return { results: [...a.results, ...results], updated: a.updated, stop: a.stop };
        }
        const b = await this.writeZone(server, zone, items.slice(half), signal, reread);
        return { results: [...a.results, ...b.results], updated: a.updated + b.updated, stop: b.stop };
      }
      if (!reread && (err.code === 'nxrrset' || err.code === 'yxrrset'))
        return this.writeZone(server, zone, await this.readItems(server, items, results, signal), signal, true).then(
          (o) => ({ ...o, results: [...results, ...o.results] }),
        );
      for (const it of items) fail(it, err);
      return { results, updated: 0, stop: err.scope === 'account' ? err : null };
    }
    for (const it of items) {
      const v = { type: it.type, name: it.name, address: it.address, was: [...it.previous].sort().join(', ') };
      results.push({
        hostname: it.hostname,
        family: it.family,
        outcome: 'updated',
        ...messageOf(
          it.previous.length
            ? say('rfc2136.set_was', '__type__ record of __name__ set to __address__ (was __was__)', v)
            : say('rfc2136.set_new', '__type__ record of __name__ set to __address__ (new record)', v),
        ),
      });
    }
    return { results, updated: items.length, stop: null };
  }

  /**
   * Read each record (one query per name and type) into `previous`; those already right go to
   * `results` as `unchanged`, aliases as `failed`; the rest is returned, to be written.
   */
  private async readItems(
    server: DnsServer,
    items: Item[],
    results: RecordResult[],
    signal: AbortSignal | undefined,
  ): Promise<Item[]> {
    const rest: Item[] = [];
    for (const it of items) {
      const current = await readRRset(server, it.name, it.type, this.opts(signal)).catch((e) => {
        throw accountWide(toDdnsError(e));
      });
      if (current.cname) {
        const err = fatal(
          say(
            'rfc2136.cname',
            '__name__ is an alias (CNAME) of __target__: an alias cannot hold an address. Update __target__ instead, or remove the alias.',
            { name: it.name, target: current.cname },
          ),
          { code: 'cname' },
        );
        results.push(failed(it.hostname, it.family, this.redactor.error(err)));
      } else if (current.values.length === 1 && current.values[0] === it.address) {
        results.push({
          hostname: it.hostname,
          family: it.family,
          outcome: 'unchanged',
          ...messageOf(
            say('rfc2136.holds', '__type__ record of __name__ already holds __address__', {
              type: it.type,
              name: it.name,
              address: it.address,
            }),
          ),
        });
      } else rest.push({ ...it, previous: current.values });
    }
    return rest;
  }

  getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return this.guard(async () => {
      const name = this.name(hostname);
      const server = await this.server();
      const r = await readRRset(server, name, TYPE_OF[family], this.opts(signal));
      if (r.rcode === 'NOERROR' || r.rcode === 'NXDOMAIN') return r.values;
      const shown = serverLabel(server);
      if (r.rcode === 'REFUSED')
        throw fatal(
          say(
            'rfc2136.query_refused',
            'DNS server __server__ refuses to answer queries for __name__ (REFUSED): check allow-query, or the server address.',
            { server: shown, name },
          ),
          { code: 'query_refused' },
        );
      throw transient(
        say('rfc2136.rcode', 'DNS server __server__ answered __rcode__ for __name__', {
          server: shown,
          rcode: r.rcode,
          name,
        }),
        { code: r.rcode.toLowerCase() },
      );
    });
  }

  setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.guard(async () => {
      const n = this.name(name);
      const server = await this.server();
      const zone = await this.zoneOf(server, n, signal);
      await this.update(server, { zone, adds: [{ name: n, type: 'TXT', data: value, ttl: this.s.ttl }] }, signal);
    });
  }

  deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.guard(async () => {
      const n = this.name(name);
      const server = await this.server();
      const zone = await this.zoneOf(server, n, signal);
      await this.update(server, { zone, deletes: [{ name: n, type: 'TXT', data: value }] }, signal);
    });
  }
}

export const definition: ProviderDefinition<typeof rfc2136Settings> = {
  id: 'rfc2136',
  label: 'RFC 2136 (BIND, Knot, PowerDNS…)',
  group: 'self-hosted',
  settings: rfc2136Settings,
  fields: [
    {
      key: 'server',
      label: 'DNS server',
      kind: 'text',
      required: true,
      placeholder: 'ns1.example.com or 192.0.2.53:53',
      help: "The zone's primary server, which accepts updates: a name or an address, with :port when it is not 53 (IPv6 in brackets).",
    },
    {
      key: 'zone',
      label: 'Zone',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Leave empty to find the zone of each name automatically (asked from the server).',
    },
    {
      key: 'keyName',
      label: 'TSIG key name',
      kind: 'text',
      placeholder: 'ddns-key',
      help: 'The name of the key in the server configuration (key "ddns-key" { … }).',
    },
    choiceField(
      'algorithm',
      'Algorithm',
      ['hmac-sha256', 'hmac-sha512'],
      'The algorithm of the key, as in its definition on the server.',
    ),
    {
      key: 'tsigSecret',
      label: 'TSIG secret',
      kind: 'password',
      placeholder: 'base64 text from the key file',
      help: 'The "secret" of the key (tsig-keygen prints it). Stored encrypted in Node-RED credentials.',
    },
    {
      key: 'ttl',
      label: 'TTL (seconds)',
      kind: 'number',
      default: 60,
      help: 'Time to live of the records written; short values let a new address reach everyone quickly.',
      advanced: true,
    },
    {
      key: 'tcp',
      label: 'Always use TCP',
      kind: 'checkbox',
      default: false,
      help: 'Send updates over TCP even when they would fit in UDP (for firewalls that block DNS over UDP).',
      advanced: true,
    },
  ],
  txt: true,
  docsUrl: 'https://manpages.debian.org/trixie/bind9/tsig-keygen.8.en.html',
  docsLabel: 'How do I make a TSIG key (tsig-keygen) and allow it to update the zone?',
  create: (settings, env) => new Rfc2136Provider(checkSettings(rfc2136Settings, 'RFC 2136', settings), env),
};
