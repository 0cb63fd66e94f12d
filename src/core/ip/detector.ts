/**
 * The detector: runs address sources for one family and decides on the public address.
 *
 * Policies:
 * - `first`: sources are asked in order; the first valid answer wins. A slow source is hedged:
 *   the next one starts after `hedgeMs` while the slow one keeps running, and a failed source
 *   hands over at once.
 * - `quorum`: `quorum` sources must give the same valid answer. As many sources as still needed
 *   run at once (in order), more start on failure, disagreement or after `hedgeMs`; the detection
 *   ends as soon as enough agree.
 * In both, every other running lookup is aborted when the decision is made, and `detect` returns
 * only once they have let go (no request is left running behind the result).
 *
 * Validation happens here, in one place: an answer must be a public unicast address of the family
 * (acceptAddress). Rejected answers, failures and timeouts appear in `reports` with their reason.
 * `detect` never throws because of a source: a failed detection has `address: null` and `error`.
 */
import net from 'node:net';
import { toDdnsError } from '../errors';
import type { Redactor } from '../redact';
import { acceptAddress, classify, familyLabel, type AddressClass, type Family } from './classify';
import type { DetectionResult, IpSource, SourceAnswer, SourceReport } from './types';

export interface DetectorOptions {
  /** The sources in the user's order; only those supporting the family are used. */
  sources: IpSource[];
  policy: 'first' | 'quorum';
  /** How many sources must agree with policy `quorum`. Default 2. */
  quorum?: number;
  /** Start the next source when the running ones have not answered after this long. Default 1500 ms; 0 = all at once. */
  hedgeMs?: number;
  /** Time limit of each source. Default 8000 ms. */
  timeoutMs?: number;
  /** Lab use: accept private and other non-public addresses. */
  allowNonPublic?: boolean;
  /** Send from this local address (multi-WAN). Used only for lookups of its own family. */
  localAddress?: string;
  redactor?: Redactor;
  /** Cancels the whole detection (e.g. the node is closing). */
  signal?: AbortSignal;
}

export const DEFAULT_QUORUM = 2;
export const DEFAULT_HEDGE_MS = 1500;
export const DEFAULT_SOURCE_TIMEOUT_MS = 8000;
/** How long to wait for aborted lookups to let go before returning anyway. */
const LET_GO_MS = 1000;

type Outcome =
  | { kind: 'valid'; address: string; cls: AddressClass; ms: number }
  | { kind: 'rejected'; address?: string; cls: AddressClass; reason: string; ms: number }
  | { kind: 'failed'; reason: string; ms: number }
  | { kind: 'stopped'; ms: number };

interface Attempt {
  source: IpSource;
  name: string;
  outcome?: Outcome;
  /** Settles when the source's own lookup has settled. */
  letGo: Promise<void>;
}

/** Report names: the source id, with "#2", "#3" … when the same source is chosen twice. */
function uniqueNames(sources: IpSource[]): string[] {
  const seen = new Map<string, number>();
  return sources.map((s) => {
    const n = (seen.get(s.id) ?? 0) + 1;
    seen.set(s.id, n);
    return n === 1 ? s.id : `${s.id}#${n}`;
  });
}

/** Wait for `p`, but no longer than `ms`. */
function within(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}

export async function detect(family: Family, opts: DetectorOptions): Promise<DetectionResult> {
  const fam = familyLabel(family);
  const sources = opts.sources.filter((s) => s.families.includes(family));
  const names = uniqueNames(sources);
  const q = opts.policy === 'quorum' ? Math.max(1, Math.floor(opts.quorum ?? DEFAULT_QUORUM)) : 1;
  const hedgeMs = Math.max(0, opts.hedgeMs ?? DEFAULT_HEDGE_MS);
  const timeoutMs = Math.max(1, opts.timeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS);
  const localAddress = opts.localAddress && net.isIP(opts.localAddress) === (family === 'ipv4' ? 4 : 6) ? opts.localAddress : undefined;
  const clean = (s: string) => (opts.redactor ? opts.redactor.text(s) : s);
  const empty = (error: string): DetectionResult => ({ family, address: null, agreedBy: [], reports: [], error });

  if (sources.length === 0) return empty(`None of the chosen sources can find an ${fam} address.`);
  if (q > sources.length) {
    return empty(`${q} sources must agree, but only ${sources.length} of the chosen sources can find an ${fam} address.`);
  }
  if (opts.signal?.aborted) return empty('The address check was cancelled.');

  const master = new AbortController();
  const attempts: Attempt[] = [];
  const votes = new Map<string, Attempt[]>();
  let next = 0;
  let hedge: NodeJS.Timeout | undefined;
  let winner: string | null = null;
  let cancelled = false;
  let finished = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const running = () => attempts.filter((a) => !a.outcome).length;
  const bestVotes = () => Math.max(0, ...[...votes.values()].map((v) => v.length));

  const evaluate = (ans: SourceAnswer, ms: number): Outcome => {
    if (!ans || typeof ans.address !== 'string') return { kind: 'failed', reason: 'gave no address', ms };
    const c = classify(ans.address);
    const acc = acceptAddress(ans.address, family, { allowNonPublic: opts.allowNonPublic });
    if (acc.ok) return { kind: 'valid', address: acc.address, cls: acc.class, ms };
    return { kind: 'rejected', address: c.family ? c.address : undefined, cls: c.class, reason: acc.reason, ms };
  };

  const run = (a: Attempt, source: IpSource): Promise<Outcome> =>
    new Promise((resolve) => {
      const started = performance.now();
      const ms = () => Math.round(performance.now() - started);
      const ctl = new AbortController();
      let over = false;
      const end = (o: Outcome) => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        master.signal.removeEventListener('abort', onStop);
        resolve(o);
      };
      const timer = setTimeout(() => {
        ctl.abort();
        end({ kind: 'failed', reason: `no answer within ${timeoutMs} ms`, ms: ms() });
      }, timeoutMs);
      const onStop = () => {
        ctl.abort();
        end({ kind: 'stopped', ms: ms() });
      };
      master.signal.addEventListener('abort', onStop, { once: true });
      let p: Promise<SourceAnswer>;
      try {
        p = source.lookup({ family, signal: ctl.signal, timeoutMs, localAddress, redactor: opts.redactor });
      } catch (e) {
        p = Promise.reject(e);
      }
      a.letGo = p.then(
        () => undefined,
        () => undefined,
      );
      p.then(
        (ans) => end(evaluate(ans, ms())),
        (e) => end({ kind: 'failed', reason: clean(toDdnsError(e).message), ms: ms() }),
      );
    });

  const finish = (address: string | null) => {
    if (finished) return;
    finished = true;
    winner = address;
    clearTimeout(hedge);
    opts.signal?.removeEventListener('abort', onCancel);
    master.abort();
    resolveDone();
  };

  const armHedge = () => {
    clearTimeout(hedge);
    if (!finished && next < sources.length && hedgeMs > 0) hedge = setTimeout(() => start(), hedgeMs);
  };

  const onOutcome = (a: Attempt) => {
    if (finished) return;
    const o = a.outcome!;
    if (o.kind === 'valid') {
      const list = votes.get(o.address) ?? [];
      list.push(a);
      votes.set(o.address, list);
      if (list.length >= q) return finish(o.address);
    }
    fill();
    if (running() === 0 && next >= sources.length) finish(null);
  };

  function start(): void {
    if (finished || next >= sources.length) return;
    const i = next++;
    const a: Attempt = { source: sources[i], name: names[i], letGo: Promise.resolve() };
    attempts.push(a);
    void run(a, sources[i]).then((o) => {
      a.outcome = o;
      onOutcome(a);
    });
    armHedge();
  }

  /** Keep as many lookups running as are still needed to reach the quorum (all at once without hedging). */
  function fill(): void {
    while (!finished && next < sources.length && (hedgeMs === 0 || running() < q - bestVotes())) start();
  }

  const onCancel = () => {
    cancelled = true;
    finish(null);
  };
  opts.signal?.addEventListener('abort', onCancel, { once: true });

  fill();
  await done;
  // Every lookup still running has been aborted: give them a moment to close their connections.
  await Promise.all(attempts.map((a) => within(a.letGo, LET_GO_MS)));
  // An aborted attempt's outcome may still be in flight: let the microtasks run.
  await new Promise<void>((r) => setImmediate(r));

  // in the user's order of sources, not in the order the answers came
  const won = winner ? (votes.get(winner) ?? []) : [];
  const agreedBy = attempts.filter((a) => won.includes(a)).map((a) => a.name);
  const firstWinner = agreedBy[0];
  const reports: SourceReport[] = attempts.map((a) => {
    const o: Outcome = a.outcome ?? { kind: 'stopped', ms: 0 };
    const base = { source: a.name, family, ms: o.ms };
    switch (o.kind) {
      case 'valid':
        if (agreedBy.includes(a.name)) return { ...base, ok: true, address: o.address };
        return {
          ...base,
          ok: false,
          address: o.address,
          error: winner ? `said ${o.address}, but ${agreedBy.join(' and ')} said ${winner}` : 'not confirmed by enough other sources',
        };
      case 'rejected':
        return { ...base, ok: false, ...(o.address ? { address: o.address } : {}), error: `answer rejected: ${clean(o.reason)}` };
      case 'failed':
        return { ...base, ok: false, error: o.reason };
      case 'stopped':
        return {
          ...base,
          ok: false,
          error: cancelled ? 'cancelled' : firstWinner ? `stopped: not needed, ${agreedBy.join(' and ')} answered first` : 'stopped',
        };
    }
  });

  const result: DetectionResult = { family, address: winner, agreedBy, reports };
  if (!winner) {
    if (cancelled) result.error = 'The address check was cancelled.';
    else {
      const said = attempts.map((a) => {
        const o = a.outcome;
        if (o?.kind === 'valid') return `${a.name} said ${o.address}`;
        if (o?.kind === 'rejected') return `${a.name}: ${clean(o.reason)}`;
        if (o?.kind === 'failed') return `${a.name}: ${o.reason}`;
        return `${a.name}: stopped`;
      });
      const what = opts.allowNonPublic ? `an ${fam} address` : `a public ${fam} address`;
      if (q === 1) result.error = `No source found ${what}. ${said.join('; ')}.`;
      else if (votes.size > 1) result.error = `The sources did not agree on the ${fam} address (${q} must agree): ${said.join('; ')}.`;
      else result.error = `Not enough sources confirmed the ${fam} address (${q} must agree): ${said.join('; ')}.`;
    }
  }
  const cgnat = cgnatCheck(attempts, winner);
  if (cgnat) result.cgnatSuspected = cgnat;
  return result;
}

/**
 * A local source (the host's own interface) holding a private or 100.64.0.0/10 address while an
 * outside source sees a public one: the line is probably behind carrier-grade NAT.
 */
function cgnatCheck(attempts: Attempt[], winner: string | null): DetectionResult['cgnatSuspected'] {
  const local = attempts.find((a) => a.source.kind === 'local' && a.outcome && 'cls' in a.outcome && (a.outcome.cls === 'private' || a.outcome.cls === 'cgnat'));
  if (!local) return undefined;
  const lo = local.outcome as { address?: string; cls: AddressClass };
  if (!lo.address) return undefined;
  const outside = attempts
    .filter((a) => a.source.kind === 'external' && a.outcome?.kind === 'valid' && a.outcome.cls === 'public')
    .map((a) => (a.outcome as { address: string }).address);
  const publicAddress = winner && outside.includes(winner) ? winner : (outside[0] ?? null);
  if (lo.cls === 'cgnat') {
    const seen = publicAddress ? ` Outside services see ${publicAddress} instead.` : '';
    return {
      localAddress: lo.address,
      localClass: 'cgnat',
      publicAddress,
      note: `Your connection is probably behind carrier-grade NAT (CGNAT): ${local.source.label} has ${lo.address}, an address from the range 100.64.0.0/10 that internet providers share between many customers.${seen} Connections from the internet will most likely not reach you on this address; ask your provider for a public IPv4 address, or use IPv6.`,
    };
  }
  if (!publicAddress) return undefined;
  return {
    localAddress: lo.address,
    localClass: 'private',
    publicAddress,
    note: `${local.source.label} has the private address ${lo.address}, while outside services see ${publicAddress}. If this interface is your internet connection (WAN), your provider probably puts you behind carrier-grade NAT (CGNAT) and connections from the internet will not reach you. If this computer sits behind your own router, this is normal.`,
  };
}
