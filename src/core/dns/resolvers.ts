/**
 * What the rest of the world sees: ask recursive resolvers (public ones, and this host's own).
 *
 * - `askPublicResolvers` sends each listed resolver one query with RD set, directly on the wire
 *   (no cache of ours in between), and reports per server the answer, TTL and whether it is stale.
 * - `askSystemResolver` asks through node:dns (c-ares) with the resolvers this host is configured
 *   with (resolv.conf); `servers` replaces them (tests). It reads DNS only: /etc/hosts is not used.
 * - `compareExpected` decides "stale": a server that answered but lacks one of the expected values.
 *
 * Nothing here throws for a DNS failure (it becomes `error` on the server's answer), only when the
 * signal is aborted.
 */
import dns from 'node:dns';
import { english, say, transient, type Sentence } from '../errors';
import {
  answerSaid,
  askServer,
  normName,
  normaliseValue,
  withAnswerSaid,
  type RecordKind,
  type ServerAnswer,
} from './authoritative';
import { parseServer, serverLabel, type DnsServer } from './transport';

/** Cloudflare, Google and Quad9, over IPv4 and IPv6. Editable in the node; never asked by tests. */
export const DEFAULT_PUBLIC_RESOLVERS: readonly string[] = [
  '1.1.1.1',
  '8.8.8.8',
  '9.9.9.9',
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '2620:fe::fe',
];

export const defaultPublicResolvers = (): DnsServer[] => DEFAULT_PUBLIC_RESOLVERS.map((s) => parseServer(s));

export interface Comparison {
  /** Every expected value is present. */
  matches: boolean;
  /** Expected values the server did not return. */
  missing: string[];
  /** Values the server returned that were not expected (an old address left beside the new one). */
  extra: string[];
}

/** Compare a server's values with the expected ones (normalised; all expected must be present). */
export function compareExpected(type: RecordKind, values: string[], expected: string[]): Comparison {
  const have = new Set(values.map((v) => normaliseValue(type, v)));
  const want = new Set(expected.map((v) => normaliseValue(type, v)));
  const missing = [...want].filter((v) => !have.has(v));
  const extra = [...have].filter((v) => !want.has(v));
  return { matches: missing.length === 0, missing, extra };
}

/** A server's answer with the verdict against the expected values. */
export interface ResolverAnswer extends ServerAnswer {
  /** True when the server answered but lacks an expected value; null without expectation or answer. */
  stale: boolean | null;
  missing?: string[];
  extra?: string[];
}

export function withVerdict(a: ServerAnswer, expected?: string[]): ResolverAnswer {
  if (!expected?.length || a.error) return withAnswerSaid({ ...a, stale: null }, answerSaid(a));
  const c = compareExpected(a.type, a.values, expected);
  return {
    ...a,
    stale: !c.matches,
    ...(c.missing.length ? { missing: c.missing } : {}),
    ...(c.extra.length ? { extra: c.extra } : {}),
  };
}

export interface ResolverQuery {
  name: string;
  type: RecordKind;
  /** Values that must all be present for the server not to be stale. */
  expected?: string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Ask each public resolver (RD set); default list: DEFAULT_PUBLIC_RESOLVERS. */
export async function askPublicResolvers(q: ResolverQuery & { servers?: DnsServer[] }): Promise<ResolverAnswer[]> {
  const servers = q.servers ?? defaultPublicResolvers();
  const answers = await Promise.all(
    servers.map((s) =>
      askServer(s, q.name, q.type, { recursion: true, timeoutMs: q.timeoutMs, signal: q.signal, role: 'public' }),
    ),
  );
  return answers.map((a) => withVerdict(a, q.expected));
}

const NEGATIVE = new Set(['ENODATA', 'ENOTFOUND']);

const CANCELLED = () => transient(say('dns.check_cancelled', 'DNS check cancelled'), { code: 'aborted' });

/** Ask this host's resolver through node:dns. `servers` replaces the configured resolvers. */
export async function askSystemResolver(q: ResolverQuery & { servers?: DnsServer[] }): Promise<ResolverAnswer> {
  const started = performance.now();
  const timeoutMs = q.timeoutMs ?? 3000;
  // c-ares doubles the timeout per try: one try keeps the wait within timeoutMs (plus the guard below).
  const resolver = new dns.promises.Resolver({ timeout: timeoutMs, tries: 1 });
  if (q.servers?.length) resolver.setServers(q.servers.map((s) => serverLabel(s)));
  const label = q.servers?.length ? `system (${q.servers.map((s) => serverLabel(s)).join(', ')})` : 'system';
  const base = { server: label, role: 'system' as const, type: q.type };
  const name = normName(q.name);
  if (q.signal?.aborted) throw CANCELLED();
  const onAbort = () => resolver.cancel();
  q.signal?.addEventListener('abort', onAbort, { once: true });
  let guard: NodeJS.Timeout | undefined;
  try {
    const lookup = (async () => {
      if (q.type === 'TXT') {
        const rows = await resolver.resolveTxt(name);
        return { values: rows.map((r) => r.join('')), ttl: null as number | null };
      }
      const rows =
        q.type === 'A' ? await resolver.resolve4(name, { ttl: true }) : await resolver.resolve6(name, { ttl: true });
      return { values: rows.map((r) => r.address), ttl: rows.length ? Math.min(...rows.map((r) => r.ttl)) : null };
    })();
    const timeout = new Promise<never>((_, reject) => {
      guard = setTimeout(() => {
        resolver.cancel();
        reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }));
      }, timeoutMs + 500);
    });
    const r = await Promise.race([lookup, timeout]);
    lookup.catch(() => undefined);
    const values = [...new Set(r.values.map((v) => normaliseValue(q.type, v)))].sort();
    return withVerdict(
      { ...base, rcode: 'NOERROR', values, ttl: r.ttl, ms: Math.round(performance.now() - started) },
      q.expected,
    );
  } catch (e) {
    if (q.signal?.aborted) throw CANCELLED();
    const code = (e as NodeJS.ErrnoException).code ?? 'dns_error';
    const ms = Math.round(performance.now() - started);
    if (NEGATIVE.has(code)) {
      return withVerdict(
        { ...base, rcode: code === 'ENOTFOUND' ? 'NXDOMAIN' : 'NOERROR', values: [], ttl: null, ms },
        q.expected,
      );
    }
    const words: Record<string, () => Sentence> = {
      ETIMEOUT: () => say('dns.system_timeout', 'no answer within __ms__ ms', { ms: timeoutMs }),
      ECONNREFUSED: () => say('dns.system_refused', 'connection refused'),
      ESERVFAIL: () => say('dns.system_servfail', 'the resolver failed (SERVFAIL)'),
      EREFUSED: () => say('dns.system_query_refused', 'the resolver refused the query'),
      ECANCELLED: () => say('dns.system_cancelled', 'cancelled'),
    };
    const said = say('dns.system_failed', 'system resolver: __reason__', {
      reason: words[code]?.() ?? (e as Error).message,
    });
    return withAnswerSaid(
      {
        ...base,
        values: [],
        ttl: null,
        stale: null,
        error: english(said),
        errorCode: code.toLowerCase(),
        ms,
      },
      said,
    );
  } finally {
    clearTimeout(guard);
    q.signal?.removeEventListener('abort', onAbort);
  }
}
