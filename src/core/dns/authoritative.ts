/**
 * The truth without caches: find the zone of a name and ask its authoritative servers directly.
 *
 * - `findZone` walks up from the name to the closest enclosing SOA, asking a *discovery*
 *   resolver (default: this host's resolvers from `dns.getServers()`; in tests, named itself).
 * - `findAuthoritativeServers` reads the zone's NS names and their addresses (glue first, then the
 *   discovery resolver). `authPort` sends every query to the servers found to that port instead of
 *   53 (tests run named on a high port).
 * - `askServer` asks one server one question (RD clear by default) and never throws for a DNS
 *   failure: the answer carries `error` instead, so a report can list every server. It throws only
 *   when cancelled.
 * - `askAuthoritative` combines both and follows a CNAME into another zone when every server
 *   answers with the same alias (DuckDNS users often point their own name at `x.duckdns.org`).
 *
 * Values are normalised: addresses in their canonical text form, TXT records as one string per
 * record (the record's character-strings joined, as RFC 7208/8555 consumers read them).
 */
import dns from 'node:dns';
import type * as dnsPacket from 'dns-packet';
import { english, isDdnsError, say, transient, type Sentence } from '../errors';
import { failureSaid, listSaid, type Said, sentenceOf } from '../said';
import { parseAddress } from '../address';
import { parseServer, query, serverLabel, type DnsServer } from './transport';

export type RecordKind = 'A' | 'AAAA' | 'TXT';

/** An authoritative server of a zone: an address plus the NS name it was found under. */
export interface AuthoritativeServer extends DnsServer {
  nsName?: string;
}

/** One server's answer to one question. */
export interface ServerAnswer {
  /** `host:port`, `[v6]:port` or `system`. */
  server: string;
  /** The NS name, for authoritative servers found by the walk. */
  nsName?: string;
  role: 'authoritative' | 'public' | 'system';
  type: RecordKind;
  /** DNS response code; absent when no answer came at all. */
  rcode?: string;
  /** The AA bit of the answer (authoritative servers must set it). */
  authoritative?: boolean;
  /** Record values of the asked type, normalised and sorted. */
  values: string[];
  /** Smallest TTL among those records (seconds), null when there are none. */
  ttl: number | null;
  /** For an empty answer: how long resolvers may cache "nothing here" (SOA minimum), seconds. */
  negativeTtl?: number;
  /** Alias targets met on the way (CNAME chain). */
  cnames?: string[];
  /** Why there is no usable answer (timeout, refused…), in words for a person. */
  error?: string;
  errorCode?: string;
  ms: number;
}

/** The sentences of answers' `error` (which stays English), beside the answers: see answerSaid. */
const ANSWER_SAID = new WeakMap<object, Sentence>();

/** `a`, with `s` noted as the sentence of its `error` (when it is one). */
export function withAnswerSaid<T extends object>(a: T, s: Said | undefined): T {
  const said = sentenceOf(s);
  if (said) ANSWER_SAID.set(a, said);
  return a;
}

/** The sentence of an answer's `error`, for the adapter to say in the user's language. */
export const answerSaid = (a: object): Sentence | undefined => ANSWER_SAID.get(a);

export interface DiscoveryOptions {
  /** Resolvers used to find the zone and its servers. Default: `dns.getServers()`. */
  discovery?: DnsServer[];
  /** Port of the authoritative servers found (default 53). For tests with named on a high port. */
  authPort?: number;
  /** Per-query time limit, ms. Default 3000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ZoneServers {
  zone: string;
  nsNames: string[];
  servers: AuthoritativeServer[];
  /** NS names for which no address was found (reported, not fatal while others remain). */
  unresolved: string[];
}

/** This host's configured resolvers (resolv.conf), as DnsServers. */
export function systemResolvers(): DnsServer[] {
  return dns.getServers().map((s) => parseServer(s));
}

/** The data of a record whose data is a string (A, AAAA, NS, CNAME). */
const dataOf = (a: dnsPacket.Answer): string => String((a as { data?: unknown }).data);

export const normName = (n: string) => n.trim().replace(/\.$/, '').toLowerCase();

/** Is `name` equal to `zone` or below it? */
export function inZone(name: string, zone: string): boolean {
  const n = normName(name);
  const z = normName(zone);
  return z === '' || n === z || n.endsWith(`.${z}`);
}

function parentOf(name: string): string | null {
  const i = name.indexOf('.');
  return i < 0 ? (name === '' ? null : '') : name.slice(i + 1);
}

/** A record's value as text: canonical address, or a TXT record's strings joined. */
export function recordValue(a: dnsPacket.Answer): string | null {
  if (a.type === 'A' || a.type === 'AAAA') return parseAddress(dataOf(a))?.address ?? dataOf(a);
  if (a.type === 'TXT') {
    const d = a.data as string | Buffer | Array<string | Buffer>;
    const parts = Array.isArray(d) ? d : [d];
    return parts.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join('');
  }
  return null;
}

/** Normalise expected values the same way answers are normalised. */
export function normaliseValue(type: RecordKind, v: string): string {
  if (type === 'TXT') return v;
  return parseAddress(v)?.address ?? v.trim().toLowerCase();
}

/** Errors meaning "no route for this address family here", not "the server does not answer". */
const NO_ROUTE = new Set(['ENETUNREACH', 'EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EHOSTUNREACH']);

/**
 * True when an IPv6 server could not be asked because this computer has no IPv6 route (an IPv4-only
 * home): that says nothing about the record, so callers skip such a server instead of failing.
 */
export function unreachableIpv6(a: ServerAnswer): boolean {
  return Boolean(a.error) && a.server.startsWith('[') && NO_ROUTE.has(a.errorCode ?? '');
}

function cancelled(signal?: AbortSignal) {
  if (signal?.aborted) throw transient(say('dns.check_cancelled', 'DNS check cancelled'), { code: 'aborted' });
}

export interface AskOptions {
  recursion?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  role?: ServerAnswer['role'];
  nsName?: string;
}

/** Ask one server for the `type` records of `name`. Errors become `error`; only cancellation throws. */
export async function askServer(
  server: DnsServer,
  name: string,
  type: RecordKind,
  opts: AskOptions = {},
): Promise<ServerAnswer> {
  const started = performance.now();
  const base = {
    server: serverLabel(server),
    role: opts.role ?? 'authoritative',
    type,
    ...(opts.nsName ? { nsName: opts.nsName } : {}),
  } as const;
  try {
    const r = await query(server, normName(name), type, {
      recursion: opts.recursion,
      timeoutMs: opts.timeoutMs ?? 3000,
      signal: opts.signal,
    });
    const ms = Math.round(performance.now() - started);
    const records = r.answers.filter((a) => a.type === type);
    const values = [...new Set(records.map(recordValue).filter((v): v is string => v !== null))].sort();
    const ttls = records.map((a) => (a as { ttl?: number }).ttl ?? 0);
    const cnames = r.answers.filter((a) => a.type === 'CNAME').map((a) => normName(dataOf(a)));
    const out: ServerAnswer = {
      ...base,
      rcode: r.rcode,
      authoritative: r.authoritative,
      values,
      ttl: ttls.length ? Math.min(...ttls) : null,
      ms,
    };
    if (cnames.length) out.cnames = cnames;
    if (!values.length) {
      const soa = r.authorities.find((a) => a.type === 'SOA') as dnsPacket.SoaAnswer | undefined;
      if (soa) out.negativeTtl = Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
    }
    if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN') {
      const said =
        r.rcode === 'REFUSED'
          ? say(
              'dns.refused_answer',
              '__server__ refused to answer for __name__ (not its zone, or queries not allowed)',
              {
                server: base.server,
                name,
              },
            )
          : say('dns.answered_rcode', '__server__ answered __rcode__ for __name__', {
              server: base.server,
              rcode: r.rcode,
              name,
            });
      out.error = english(said);
      out.errorCode = r.rcode.toLowerCase();
      withAnswerSaid(out, said);
    }
    return out;
  } catch (e) {
    if (opts.signal?.aborted) cancelled(opts.signal);
    const err = isDdnsError(e) ? e : transient(String((e as Error)?.message ?? e), { code: 'dns_error' });
    return withAnswerSaid(
      {
        ...base,
        values: [],
        ttl: null,
        error: err.message,
        errorCode: err.code,
        ms: Math.round(performance.now() - started),
      },
      failureSaid(err),
    );
  }
}

/**
 * Ask each discovery resolver in turn until one gives a usable answer (NOERROR or NXDOMAIN).
 * Throws a transient DdnsError when none does.
 */
async function askDiscovery(name: string, type: dnsPacket.RecordType, o: DiscoveryOptions) {
  const servers = o.discovery?.length ? o.discovery : systemResolvers();
  if (!servers.length)
    throw transient(say('dns.no_resolver', 'this system has no DNS resolver configured; set a discovery resolver'), {
      code: 'no_resolver',
    });
  const errors: Said[] = [];
  for (const s of servers) {
    cancelled(o.signal);
    try {
      const r = await query(s, name, type, { recursion: true, timeoutMs: o.timeoutMs ?? 3000, signal: o.signal });
      if (r.rcode === 'NOERROR' || r.rcode === 'NXDOMAIN') return r;
      errors.push(
        say('dns.server_answered', '__server__ answered __rcode__', { server: serverLabel(s), rcode: r.rcode }),
      );
    } catch (e) {
      cancelled(o.signal);
      errors.push(e instanceof Error ? failureSaid(e) : String((e as Error)?.message ?? ''));
    }
  }
  throw transient(
    say('dns.lookup_failed', 'could not look up __name__ __type__: __errors__', {
      name,
      type,
      errors: listSaid(errors),
    }),
    { code: 'discovery_failed' },
  );
}

/** The zone that holds `name`: the closest enclosing name with an SOA record. */
export async function findZone(name: string, o: DiscoveryOptions = {}): Promise<string> {
  let candidate: string | null = normName(name);
  while (candidate !== null) {
    const r = await askDiscovery(candidate || '.', 'SOA', o);
    const own = r.answers.find((a) => a.type === 'SOA' && normName(a.name) === candidate);
    if (own) return candidate;
    // A negative or empty answer carries the zone's SOA in the authority section.
    const auth = r.authorities.find((a) => a.type === 'SOA');
    if (auth && inZone(candidate, auth.name) && !r.answers.some((a) => a.type === 'CNAME')) return normName(auth.name);
    candidate = parentOf(candidate);
  }
  throw transient(say('dns.no_zone', 'no zone found for __name__: no SOA record on the way to the root', { name }), {
    code: 'no_zone',
  });
}

/** The zone of `name` with its NS names and their addresses. */
export async function findAuthoritativeServers(name: string, o: DiscoveryOptions = {}): Promise<ZoneServers> {
  const zone = await findZone(name, o);
  const r = await askDiscovery(zone || '.', 'NS', o);
  const nsNames = [...new Set(r.answers.filter((a) => a.type === 'NS').map((a) => normName(dataOf(a))))].sort();
  if (!nsNames.length)
    throw transient(say('dns.no_ns', 'the zone __zone__ lists no name servers (NS records)', { zone }), {
      code: 'no_ns',
    });
  const servers: AuthoritativeServer[] = [];
  const unresolved: string[] = [];
  const port = o.authPort ?? 53;
  for (const ns of nsNames) {
    let addrs = r.additionals
      .filter((a) => (a.type === 'A' || a.type === 'AAAA') && normName(a.name) === ns)
      .map(dataOf);
    if (!addrs.length) {
      for (const t of ['A', 'AAAA'] as const) {
        try {
          const ar = await askDiscovery(ns, t, o);
          addrs.push(...ar.answers.filter((a) => a.type === t).map(dataOf));
        } catch (e) {
          cancelled(o.signal);
          void e; // reported below as unresolved when no family gives an address
        }
      }
    }
    addrs = [...new Set(addrs.map((a) => parseAddress(a)?.address ?? a))];
    if (!addrs.length) unresolved.push(ns);
    for (const host of addrs) servers.push({ host, port, nsName: ns });
  }
  if (!servers.length)
    throw transient(
      say('dns.ns_unresolved', 'no address found for the name servers of __zone__ (__names__)', {
        zone,
        names: nsNames.join(', '),
      }),
      { code: 'ns_unresolved' },
    );
  return { zone, nsNames, servers, unresolved };
}

export interface AuthoritativeOptions extends DiscoveryOptions {
  /** Ask these servers instead of walking (the walk is skipped). */
  servers?: AuthoritativeServer[];
  /** Aliases followed at most this deep. Default 4. */
  maxCnames?: number;
}

export interface AuthoritativeReport {
  /** The name whose records were finally read (after following aliases). */
  name: string;
  /** The zone asked (null when the servers were given). */
  zone: string | null;
  /** Aliases followed from the name asked to `name`. */
  chain: string[];
  answers: ServerAnswer[];
  /** NS names without an address. */
  unresolved: string[];
}

/** Ask every authoritative server of `name` (found by the walk, or given) for its `type` records. */
export async function askAuthoritative(
  name: string,
  type: RecordKind,
  o: AuthoritativeOptions = {},
): Promise<AuthoritativeReport> {
  const chain: string[] = [];
  let current = normName(name);
  for (let depth = 0; ; depth++) {
    let zone: string | null = null;
    let servers = o.servers;
    let unresolved: string[] = [];
    if (!servers?.length || depth > 0) {
      const z = await findAuthoritativeServers(current, o);
      zone = z.zone;
      servers = z.servers;
      unresolved = z.unresolved;
    }
    const answers = await Promise.all(
      servers.map((s) =>
        askServer(s, current, type, { ...o, recursion: false, role: 'authoritative', nsName: s.nsName }),
      ),
    );
    // Follow an alias into another zone only when every server agrees on it and none has data.
    const targets = new Set(answers.filter((a) => !a.error).map((a) => a.cnames?.at(-1) ?? ''));
    const onlyAlias = answers.every((a) => !a.values.length) && targets.size === 1 && !targets.has('');
    if (!onlyAlias || depth >= (o.maxCnames ?? 4)) return { name: current, zone, chain, answers, unresolved };
    current = [...targets][0];
    chain.push(current);
  }
}
