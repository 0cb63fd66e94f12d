/**
 * Propagation wait: poll until every server holds the expected records, or a timeout.
 *
 * Contract of `waitForPropagation`:
 * - `expected` values must ALL be present at a server for it to count (extra values are allowed:
 *   two ACME DNS-01 TXT challenges may share one name). TXT values compare as the record's strings
 *   joined; addresses compare in canonical form.
 * - Servers: `servers` when given, else the authoritative servers found by walking to the zone's
 *   SOA/NS through `discovery` (re-tried each round while it fails). `includePublic` adds the
 *   public resolvers (`publicResolvers`, default DEFAULT_PUBLIC_RESOLVERS), asked with RD set.
 * - A server that has matched once is not asked again (its `matchedAfterMs` says when).
 * - An IPv6 server this computer has no route to (an IPv4-only home) is `skipped`, not waited for;
 *   at least one server must match.
 * - Resolves `{ ok: true }` as soon as all servers match, `{ ok: false }` at the timeout (with the
 *   last answer of every server, so the caller can say which ones lag); never waits longer than
 *   `timeoutMs` (each query is cut to the time left). Throws only on bad input or when `signal`
 *   is aborted.
 */
import { badInput, say, transient } from '../errors';
import { sleep } from '../retry';
import {
  askServer,
  findAuthoritativeServers,
  unreachableIpv6,
  type AuthoritativeServer,
  type RecordKind,
} from './authoritative';
import { defaultPublicResolvers, withVerdict, type ResolverAnswer } from './resolvers';
import { serverLabel, type DnsServer } from './transport';

export interface PropagationOptions {
  name: string;
  type: RecordKind;
  /** Values that must all be present. */
  expected: string[];
  /** Servers to watch; default: the zone's authoritative servers found by the walk. */
  servers?: DnsServer[];
  /** Resolvers used for the walk (default: this host's resolvers). */
  discovery?: DnsServer[];
  /** Port of the authoritative servers found by the walk (tests). */
  authPort?: number;
  /** Also wait for the public resolvers. */
  includePublic?: boolean;
  publicResolvers?: DnsServer[];
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** Pause between rounds, ms. Default 2000. */
  intervalMs?: number;
  /** Time limit of one query, ms. Default 3000 (never more than the time left). */
  queryTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called after every round with the current state (for status updates). */
  onRound?: (perServer: PropagationServer[]) => void;
}

export interface PropagationServer extends ResolverAnswer {
  /** Time from the start until this server first held every expected value; null if it never did. */
  matchedAfterMs: number | null;
  /** An IPv6 server this computer cannot reach (no IPv6 route): not waited for. */
  skipped?: true;
}

export interface PropagationResult {
  ok: boolean;
  /** Time taken until success, or until giving up. */
  ms: number;
  rounds: number;
  /** The zone found by the walk (null when servers were given or the walk failed). */
  zone: string | null;
  perServer: PropagationServer[];
  /** Why there was nothing to ask (the walk failed until the timeout). */
  error?: string;
}

interface Target {
  server: AuthoritativeServer;
  role: 'authoritative' | 'public';
}

const waitCancelled = (name: string) =>
  transient(say('dns.wait_cancelled', 'propagation wait for __name__ cancelled', { name }), { code: 'aborted' });

export async function waitForPropagation(o: PropagationOptions): Promise<PropagationResult> {
  if (!o.name?.trim()) throw badInput(say('dns.wait_no_name', 'propagation wait: a name is required'));
  if (!o.expected?.length)
    throw badInput(
      say('dns.wait_no_expected', 'propagation wait for __name__: at least one expected value is required', {
        name: o.name,
      }),
    );
  if (!(o.timeoutMs > 0))
    throw badInput(
      say('dns.wait_bad_timeout', 'propagation wait: timeoutMs must be a positive number of milliseconds'),
    );
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const left = () => o.timeoutMs - (performance.now() - started);
  const intervalMs = Math.max(50, o.intervalMs ?? 2000);
  const state = new Map<string, PropagationServer>();
  let targets: Target[] | null = null;
  let zone: string | null = null;
  let walkError: string | undefined;
  let rounds = 0;

  const publicTargets = (): Target[] =>
    o.includePublic
      ? (o.publicResolvers ?? defaultPublicResolvers()).map((server) => ({ server, role: 'public' as const }))
      : [];
  if (o.servers?.length)
    targets = [...o.servers.map((server) => ({ server, role: 'authoritative' as const })), ...publicTargets()];

  for (;;) {
    if (o.signal?.aborted) throw waitCancelled(o.name);
    rounds++;
    const queryTimeoutMs = Math.max(50, Math.min(o.queryTimeoutMs ?? 3000, left()));
    if (!targets) {
      try {
        const z = await findAuthoritativeServers(o.name, {
          discovery: o.discovery,
          authPort: o.authPort,
          timeoutMs: queryTimeoutMs,
          signal: o.signal,
        });
        zone = z.zone;
        targets = [...z.servers.map((server) => ({ server, role: 'authoritative' as const })), ...publicTargets()];
        walkError = undefined;
      } catch (e) {
        if (o.signal?.aborted) throw waitCancelled(o.name);
        walkError = (e as Error).message;
      }
    }
    if (targets) {
      const done = (s?: PropagationServer) => s !== undefined && (s.matchedAfterMs !== null || s.skipped === true);
      const pending = targets.filter((t) => !done(state.get(serverLabel(t.server))));
      const answers = await Promise.all(
        pending.map((t) =>
          askServer(t.server, o.name, o.type, {
            recursion: t.role === 'public',
            role: t.role,
            nsName: t.server.nsName,
            timeoutMs: queryTimeoutMs,
            signal: o.signal,
          }),
        ),
      );
      for (const a of answers) {
        const v = withVerdict(a, o.expected);
        state.set(a.server, {
          ...v,
          matchedAfterMs: v.stale === false ? elapsed() : null,
          ...(unreachableIpv6(a) ? { skipped: true as const } : {}),
        });
      }
      const perServer = targets.map((t) => state.get(serverLabel(t.server))!);
      o.onRound?.(perServer);
      if (perServer.every(done) && perServer.some((s) => s.matchedAfterMs !== null))
        return { ok: true, ms: elapsed(), rounds, zone, perServer };
    }
    const wait = Math.min(intervalMs, left());
    if (wait <= 0) {
      const perServer = targets ? targets.map((t) => state.get(serverLabel(t.server))!) : [];
      return { ok: false, ms: elapsed(), rounds, zone, perServer, ...(walkError ? { error: walkError } : {}) };
    }
    try {
      await sleep(wait, o.signal);
    } catch {
      throw waitCancelled(o.name);
    }
  }
}

/** One line for a person: "3 of 4 servers have the new value; still old: ns2 (…)". */
export function describePropagation(r: PropagationResult, name: string): string {
  const skipped = r.perServer.filter((s) => s.skipped).length;
  const skipText = skipped
    ? ` (${skipped} IPv6 server${skipped > 1 ? 's' : ''} skipped: no IPv6 connectivity here)`
    : '';
  if (r.ok)
    return `${name}: all ${r.perServer.length - skipped} servers have the new value after ${(r.ms / 1000).toFixed(1)} s${skipText}`;
  if (!r.perServer.length) return `${name}: could not find its name servers (${r.error ?? 'no answer'})`;
  const lag = r.perServer.filter((s) => s.matchedAfterMs === null && !s.skipped);
  const why = lag.map(
    (s) =>
      `${s.nsName ? `${s.nsName} ` : ''}${s.server}: ${s.error ?? (s.values.length ? s.values.join(', ') : 'no record')}`,
  );
  return `${name}: ${r.perServer.length - skipped - lag.length} of ${r.perServer.length - skipped} servers have the new value after ${(r.ms / 1000).toFixed(1)} s; still waiting for ${why.join('; ')}${skipText}`;
}
