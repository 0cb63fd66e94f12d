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
 *
 * `detectRound` (below) is what public-ip-watch runs: the local sources (router, network
 * interface) answer at once and outside services confirm them; a push hint asks only the local ones;
 * a router's push (a claimed address) is confirmed by one other answer before it counts.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { english, mapSentence, say } from '../errors';
import type { Redactor } from '../redact';
import { acceptAddress, classify, familyLabel, type AddressClass, type Family } from '../address';
import { claimMatches, claimSaid, type PushClaim } from './push-claim';
import { cgnatFromRouter, type RouterEvidence, type RouterSource } from './router/source';
import { hostFlagsOf, readProcIf6 } from './sources/interface';
import { failureSaid, listSaid, type Said, sentenceOf } from '../said';
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

const CANCELLED = () => say('ip.cancelled', 'The address check was cancelled.');

/** A detection's failure: its English text and, when it was written as one, its sentence. */
function failure(reason: Said): Pick<DetectionResult, 'error' | 'said'> {
  const said = sentenceOf(reason);
  return { error: english(reason), ...(said ? { said } : {}) };
}

type Outcome =
  | { kind: 'valid'; address: string; cls: AddressClass; ms: number }
  | { kind: 'rejected'; address?: string; cls: AddressClass; reason: Said; ms: number }
  | { kind: 'failed'; reason: Said; ms: number }
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
  const localAddress =
    opts.localAddress && net.isIP(opts.localAddress) === (family === 'ipv4' ? 4 : 6) ? opts.localAddress : undefined;
  const clean = (s: string) => (opts.redactor ? opts.redactor.text(s) : s);
  const cleanSaid = (s: Said): Said => (typeof s === 'string' ? clean(s) : mapSentence(s, clean));
  const empty = (error: Said): DetectionResult => ({
    family,
    address: null,
    agreedBy: [],
    reports: [],
    ...failure(error),
  });

  if (sources.length === 0)
    return empty(say('ip.no_source', 'None of the chosen sources can find an __family__ address.', { family: fam }));
  if (q > sources.length) {
    return empty(
      say(
        'ip.quorum_unreachable',
        '__quorum__ sources must agree, but only __count__ of the chosen sources can find an __family__ address.',
        { quorum: q, count: sources.length, family: fam },
      ),
    );
  }
  if (opts.signal?.aborted) return empty(CANCELLED());

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
    return {
      kind: 'rejected',
      address: c.family ? c.address : undefined,
      cls: c.class,
      reason: acc.said ?? acc.reason,
      ms,
    };
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
        end({
          kind: 'failed',
          reason: say('ip.source_timeout', 'no answer within __ms__ ms', { ms: timeoutMs }),
          ms: ms(),
        });
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
        (e) => end({ kind: 'failed', reason: failureSaid(e, clean), ms: ms() }),
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
          error: winner
            ? `said ${o.address}, but ${agreedBy.join(' and ')} said ${winner}`
            : 'not confirmed by enough other sources',
        };
      case 'rejected':
        return {
          ...base,
          ok: false,
          ...(o.address ? { address: o.address } : {}),
          error: `answer rejected: ${clean(english(o.reason))}`,
        };
      case 'failed':
        return { ...base, ok: false, error: english(o.reason) };
      case 'stopped':
        return {
          ...base,
          ok: false,
          error: cancelled
            ? 'cancelled'
            : firstWinner
              ? `stopped: not needed, ${agreedBy.join(' and ')} answered first`
              : 'stopped',
        };
    }
  });

  const result: DetectionResult = { family, address: winner, agreedBy, reports };
  if (!winner) {
    if (cancelled) Object.assign(result, failure(CANCELLED()));
    else {
      const said = listSaid(
        attempts.map((a): Said => {
          const o = a.outcome;
          const source = a.name;
          if (o?.kind === 'valid')
            return say('ip.source_said', '__source__ said __address__', { source, address: o.address });
          if (o?.kind === 'rejected' || o?.kind === 'failed') {
            const reason = o.kind === 'rejected' ? cleanSaid(o.reason) : o.reason;
            return say('ip.source_failed', '__source__: __reason__', { source, reason });
          }
          return say('ip.source_stopped', '__source__: stopped', { source });
        }),
      );
      const params = { family: fam, quorum: q, said };
      Object.assign(
        result,
        failure(
          q === 1
            ? opts.allowNonPublic
              ? say('ip.none_found', 'No source found an __family__ address. __said__.', params)
              : say('ip.none_found_public', 'No source found a public __family__ address. __said__.', params)
            : votes.size > 1
              ? say(
                  'ip.disagreed',
                  'The sources did not agree on the __family__ address (__quorum__ must agree): __said__.',
                  params,
                )
              : say(
                  'ip.not_confirmed',
                  'Not enough sources confirmed the __family__ address (__quorum__ must agree): __said__.',
                  params,
                ),
        ),
      );
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
  const locals = attempts
    .filter((a) => a.source.kind === 'local' && a.outcome && 'cls' in a.outcome)
    .map((a) => ({
      label: a.source.label,
      address: (a.outcome as { address?: string }).address,
      cls: (a.outcome as { cls: AddressClass }).cls,
    }));
  const outside = attempts
    .filter((a) => a.source.kind === 'external' && a.outcome?.kind === 'valid' && a.outcome.cls === 'public')
    .map((a) => (a.outcome as { address: string }).address);
  return cgnatFromLocal(locals, outside, winner);
}

/** The CGNAT suspicion from what local sources held (`cls` of their answer) and what outside sources saw. */
function cgnatFromLocal(
  locals: Array<{ label: string; address?: string; cls: AddressClass }>,
  outside: string[],
  winner: string | null,
): DetectionResult['cgnatSuspected'] {
  const lo = locals.find((l) => l.cls === 'private' || l.cls === 'cgnat');
  if (!lo?.address) return undefined;
  const publicAddress = winner && outside.includes(winner) ? winner : (outside[0] ?? null);
  if (lo.cls === 'cgnat') {
    const seen = publicAddress ? ` Outside services see ${publicAddress} instead.` : '';
    return {
      localAddress: lo.address,
      localClass: 'cgnat',
      publicAddress,
      note: `Your connection is probably behind carrier-grade NAT (CGNAT): ${lo.label} has ${lo.address}, an address from the range 100.64.0.0/10 that internet providers share between many customers.${seen} Connections from the internet will most likely not reach you on this address; ask your provider for a public IPv4 address, or use IPv6.`,
    };
  }
  if (!publicAddress) return undefined;
  return {
    localAddress: lo.address,
    localClass: 'private',
    publicAddress,
    note: `${lo.label} has the private address ${lo.address}, while outside services see ${publicAddress}. If this interface is your internet connection (WAN), your provider probably puts you behind carrier-grade NAT (CGNAT) and connections from the internet will not reach you. If this computer sits behind your own router, this is normal.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Rounds: local sources (router, interfaces) answer at once, outside services confirm.

/** Which sources a round asks: `full` every chosen source, `local` only this network's own (a push hint). */
export type DetectScope = 'full' | 'local';

/** The local answer and the outside answer of one round differ. */
export interface Disagreement {
  /** What the router / network interface said (the address that is used). */
  local: { address: string; sources: string[] };
  /** What the outside services saw. */
  outside: { address: string; sources: string[] };
  /** A sentence for a person. */
  note: string;
}

/** A detection round: the detector's result plus what the combination of local and outside sources found. */
export interface RoundDetection extends DetectionResult {
  /** Outside sources that saw the same address as the local answer (same /64 network for IPv6). */
  confirmedBy?: string[];
  /**
   * IPv6: the outside services saw another address of the same /64 network (this host's temporary
   * address, which connections leave from); the local, stable answer is the one used.
   */
  outsideTemporary?: string;
  disagreement?: Disagreement;
  /** The router's WAN address as the router reported it in this round (public or not). */
  wanAddress?: string;
  /** What the router said in this round, when it was asked. */
  router?: RouterEvidence;
  /**
   * IPv6: whether the address is fit to be this host's own AAAA. `stable` when a network interface
   * gave it (its flags were read) or when outside services saw an address this host holds without
   * the temporary/deprecated/tentative/failed flags; `temporary` when this host marks the address
   * they saw temporary (privacy) or otherwise unusable; `unverified` when only outside services saw
   * it and it is not on this host's interfaces (it may be a temporary address). Only with an address.
   */
  stability?: Ipv6Stability;
}

/** See RoundDetection.stability. */
export type Ipv6Stability = 'stable' | 'temporary' | 'unverified';

export interface RoundOptions extends DetectorOptions {
  scope: DetectScope;
  /** With scope `local`: what the router pushed for this family, to be confirmed (see confirmPush). */
  claim?: PushClaim;
  /** This host's IPv6 address flags, as /proc/net/if_inet6 text (null where there is none). Default: that file. */
  if6Flags?: (signal: AbortSignal) => Promise<string | null>;
}

const isRouterSource = (s: IpSource): s is RouterSource =>
  s.id === 'router' && typeof (s as Partial<RouterSource>).lastEvidence === 'function';

/**
 * IPv6 answers of a local source and of outside services agree when they are in the same /64:
 * outside services see the temporary (privacy) address that connections leave from, while the
 * interface source publishes the stable one of the same network.
 */
function sameAnswer(family: Family, a: string, b: string): boolean {
  if (a === b) return true;
  if (family !== 'ipv6') return false;
  const p = (x: string) => ipaddr.IPv6.parse(x).parts.slice(0, 4).join(':');
  try {
    return p(a) === p(b);
  } catch {
    return false;
  }
}

/**
 * One round for one family, as public-ip-watch runs it.
 *
 * - scope `local` (a push hint: a router announcement, an interface event): only the local
 *   sources (kind `local`) are asked, first answer wins; no request leaves the network.
 * - scope `full` with both local and outside sources for the family: both groups are asked at
 *   once; the local answer is the result (it is what the router or this host holds), the outside
 *   services, with the configured policy and quorum, confirm it (`confirmedBy`) or not
 *   (`disagreement`, reported, never hidden). When the local sources find no public address the
 *   outside answer is used: the outside sources carry on.
 * - scope `full` otherwise: exactly `detect()`.
 * - scope `local` with a `claim` (the router pushed an address): see confirmPush.
 * In every scope, when a router source was asked in this round, `router` holds what it said,
 * `wanAddress` the address it reported, and a "no public address" answer becomes the CGNAT
 * evidence (`cgnatSuspected`, with the outside answer as the public address).
 */
export async function detectRound(family: Family, opts: RoundOptions): Promise<RoundDetection> {
  const all = opts.sources.filter((s) => s.families.includes(family));
  const local = all.filter((s) => s.kind === 'local');
  const outside = all.filter((s) => s.kind !== 'local');
  const routers = local.filter(isRouterSource);
  const before = routers.map((r) => r.lastEvidence());

  let result: RoundDetection;
  /** What the outside services saw in this round, when they were asked beside local sources. */
  let outsideSaw: string | null = null;
  if (opts.scope === 'local' && opts.claim) {
    result = await confirmPush(family, opts.claim, local, outside, opts);
  } else if (opts.scope === 'local') {
    result = local.length
      ? await detect(family, { ...opts, sources: local, policy: 'first' })
      : {
          family,
          address: null,
          agreedBy: [],
          reports: [],
          ...failure(
            say('ip.no_local_source', 'None of the chosen sources on this network can find an __family__ address.', {
              family: familyLabel(family),
            }),
          ),
        };
  } else if (!local.length || !outside.length) {
    result = await detect(family, opts);
  } else {
    const [l, o] = await Promise.all([
      detect(family, { ...opts, sources: local, policy: 'first' }),
      detect(family, { ...opts, sources: outside }),
    ]);
    result = combine(family, all, local, l, o);
    outsideSaw = o.address;
  }

  // What the router said in this round (a lookup sets a new evidence object).
  const ev = routers
    .map((r, i) => {
      const now = r.lastEvidence();
      return now && now !== before[i] ? now : null;
    })
    .find((e): e is RouterEvidence => e !== null);
  if (ev) {
    result.router = ev;
    if (ev.address) result.wanAddress = ev.address;
    // The router's own words are the strongest evidence: they replace an interface-based guess.
    if (ev.outcome === 'no_public') result.cgnatSuspected = cgnatFromRouter(ev, outsideSaw);
  }
  if (family === 'ipv6' && result.address) result.stability = await stabilityOf(result, local, opts);
  return result;
}

/**
 * Whether an IPv6 answer may be this host's own AAAA (RoundDetection.stability): a network
 * interface's answer is (the source read the flags); an answer of outside services only (or of a
 * router push they confirmed) is looked up in this host's address flags.
 */
async function stabilityOf(result: RoundDetection, local: IpSource[], opts: RoundOptions): Promise<Ipv6Stability> {
  const base = (n: string) => n.replace(/#\d+$/, '');
  const interfaces = new Set(local.filter((s) => s.id !== PUSH_SOURCE && !isRouterSource(s)).map((s) => s.id));
  if (result.agreedBy.some((n) => interfaces.has(base(n)))) return 'stable';
  let text: string | null = null;
  try {
    text = await (opts.if6Flags ?? readProcIf6)(opts.signal ?? new AbortController().signal);
  } catch {
    text = null;
  }
  const flags = hostFlagsOf(text ?? '', result.address!);
  if (flags === undefined) return 'unverified';
  return flags.length ? 'temporary' : 'stable';
}

/** The name of the router-push source in reports and `agreedBy`. */
export const PUSH_SOURCE = 'router-push';

/**
 * A router's push is a hint: it counts only when one other answer agrees with it (claimMatches).
 * That answer comes from this network's own sources when the list has any for the family (the
 * router asked over NAT-PMP/UPnP, this computer's interface: what an announcement would ask),
 * else from the outside services, first answer wins: one outside check. A local source that
 * answers decides (the outside services are not asked then). Agreement: the address is the
 * confirming answer (for IPv6 with a prefix, this computer's address inside it), agreed by the push
 * and that source. Otherwise the address is null with the reason: a forged or mistaken push moves
 * nothing.
 */
async function confirmPush(
  family: Family,
  claim: PushClaim,
  local: IpSource[],
  outside: IpSource[],
  opts: RoundOptions,
): Promise<RoundDetection> {
  const reports: SourceReport[] = [];
  let answer: DetectionResult | undefined;
  const said: Said[] = [];
  for (const group of [local, outside]) {
    if (!group.length) continue;
    const d = await detect(family, { ...opts, sources: group, policy: 'first' });
    reports.push(...d.reports);
    if (d.address) {
      answer = d;
      break;
    }
    if (d.error) said.push(d.said ?? d.error);
  }
  const pushed = claimSaid(claim);
  const ok = claimMatches(family, claim, answer?.address);
  const push: SourceReport = {
    source: PUSH_SOURCE,
    family,
    ok,
    ...(claim.address ? { address: claim.address } : {}),
    ms: 0,
  };
  if (ok)
    return {
      family,
      address: answer!.address,
      agreedBy: [PUSH_SOURCE, ...answer!.agreedBy],
      reports: [push, ...reports],
    };
  const error = answer
    ? say(
        'ip.push_contradicted',
        'The router pushed __pushed__, but __sources__ said __address__: the push is not confirmed and changes nothing.',
        { pushed, sources: listSaid(answer.agreedBy, 'and'), address: answer.address! },
      )
    : said.length
      ? say(
          'ip.push_unconfirmed_because',
          'The router pushed __pushed__, but no other source could confirm it, so it changes nothing. __said__',
          { pushed, said: listSaid(said, 'space') },
        )
      : say(
          'ip.push_unconfirmed',
          'The router pushed __pushed__, but no other source could confirm it, so it changes nothing.',
          { pushed },
        );
  push.error = answer ? `not confirmed: ${answer.agreedBy.join(' and ')} said ${answer.address}` : 'not confirmed';
  return { family, address: null, agreedBy: [], reports: [push, ...reports], ...failure(error) };
}

/** The local answer `l` is used when there is one; the outside answer `o` confirms it, contradicts it, or stands in. */
function combine(
  family: Family,
  all: IpSource[],
  local: IpSource[],
  l: DetectionResult,
  o: DetectionResult,
): RoundDetection {
  const names = uniqueNames(all);
  const localNames = uniqueNames(local);
  const labelOf = (n: string) => local[localNames.indexOf(n)]?.label ?? n;
  const order = (n: string) => {
    const i = names.indexOf(n);
    return i < 0 ? names.length : i;
  };
  const reports = [...l.reports, ...o.reports].sort((a, b) => order(a.source) - order(b.source));
  const r: RoundDetection = {
    family,
    address: l.address ?? o.address,
    agreedBy: l.address ? l.agreedBy : o.agreedBy,
    reports,
  };
  if (l.address && o.address) {
    if (sameAnswer(family, l.address, o.address)) {
      r.confirmedBy = o.agreedBy;
      if (l.address !== o.address) r.outsideTemporary = o.address;
    } else {
      const who = l.agreedBy.map(labelOf).join(' and ');
      r.disagreement = {
        local: { address: l.address, sources: l.agreedBy },
        outside: { address: o.address, sources: o.agreedBy },
        note: `${who[0].toUpperCase()}${who.slice(1)} says the public ${familyLabel(family)} address is ${l.address}, but outside services (${o.agreedBy.join(', ')}) see ${o.address}. ${l.address} is used. This happens when connections to the internet leave through a VPN, a proxy or another line than the router's, or when another router sits in front of yours; if ${o.address} is the address your DNS name should have, remove the ${who} from the sources.`,
      };
    }
  }
  if (!r.address) {
    const why = [l, o].filter((x) => x.error).map((x): Said => x.said ?? x.error!);
    Object.assign(
      r,
      failure(
        why.length === 2
          ? say(
              'ip.neither_found',
              "Neither this network's own sources nor the outside services found an address. __local__ __outside__",
              { local: why[0], outside: why[1] },
            )
          : `Neither this network's own sources nor the outside services found an address. ${l.error ?? ''} ${o.error ?? ''}`.replace(
              /\s+$/,
              '',
            ),
      ),
    );
  }
  // An interface holding a private or CGNAT address while outside services see a public one.
  const locals = l.reports
    .filter((x) => x.address)
    .map((x) => ({ label: labelOf(x.source), address: x.address, cls: classify(x.address!).class }));
  const cg = cgnatFromLocal(locals, o.address ? [o.address] : [], o.address);
  if (cg) r.cgnatSuspected = cg;
  return r;
}
