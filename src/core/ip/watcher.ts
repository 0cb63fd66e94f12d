/**
 * The check loop of public-ip-watch, free of Node-RED: periodic and pushed (hint) checks on the core
 * scheduler, changes only, one alert latch per family. Its contract is in
 * docs/design/architecture.md.
 */
import { z } from 'zod';
import { AlertLatch, DEFAULT_ALERT_AFTER } from '../alert-latch';
import { Scheduler, systemClock, type Clock } from '../schedule';
import { ipv6Prefix, parseAddress, type Family, type Ipv6 } from '../address';
import { english, say, type Sentence } from '../errors';
import { failureSaid, type Said, sentenceOf } from '../said';
import type { DetectScope, Disagreement, Ipv6Stability, RoundDetection } from './detector';
import type { PushClaim, PushClaims } from './push-claim';
import type { DetectionResult, SourceReport } from './types';
import type { IpWatchPayload } from './payload';
import type { StateStore } from '../store';

export const DEFAULT_INTERVAL_MS = 300_000;
/** Providers and what's-my-IP services ban clients that ask more often than this. */
export const MIN_INTERVAL_MS = 30_000;

export type WatchFamilies = 'ipv4' | 'ipv6' | 'both';

export function familiesOf(f: WatchFamilies): Family[] {
  return f === 'both' ? ['ipv4', 'ipv6'] : [f];
}

export interface KnownAddresses {
  ipv4: string | null;
  ipv6: string | null;
}

/** What the store holds; anything else found there is ignored (treated as "nothing known"). */
export const knownAddressesSchema = z.object({
  ipv4: z.string().nullable().catch(null).default(null),
  ipv6: z.string().nullable().catch(null).default(null),
});

/**
 * One detection round for one family; must resolve (a rejection counts as a failure). `scope` is
 * `full` for regular checks and `local` for hint checks (only this network's own sources); a hint
 * check of a router's push passes what the router claimed for the family, to be confirmed.
 */
export type DetectFn = (
  family: Family,
  signal: AbortSignal,
  scope: DetectScope,
  claim?: PushClaim,
) => Promise<RoundDetection>;

export type CheckOrigin = 'start' | 'timer' | 'input' | 'hint';

/** The payload of output 1 (see the node's help for the user-facing contract; its schema: ./payload.ts). */
export interface AddressChange extends IpWatchPayload {
  ipv4: string | null;
  ipv6: string | null;
  /** The /64 network of `ipv6` (`2001:db8:1:2::/64`), null without an IPv6 address. */
  ipv6Prefix: string | null;
  /** The /64 network differs from the previous IPv6 address's (false without a previous one). */
  prefixChanged: boolean;
  /**
   * Whether `ipv6` may be this host's own AAAA (see RoundDetection.stability): `temporary` or
   * `unverified` when only outside services saw it; null without an IPv6 address.
   */
  ipv6Stability: Ipv6Stability | null;
  previous: KnownAddresses;
  changed: Family[];
  initial?: true;
  sources: Partial<
    Record<
      Family,
      {
        agreedBy: string[];
        reports: SourceReport[];
        confirmedBy?: string[];
        disagreement?: Disagreement;
        /** IPv6: the (temporary) address outside services saw in the same /64; not the one sent. */
        outsideTemporary?: string;
      }
    >
  >;
  cgnat?: NonNullable<DetectionResult['cgnatSuspected']> & { family: Family };
  /** The local answer and the outside services' answer differ (the first family where they do). */
  disagreement?: Disagreement & { family: Family };
  /** The router's WAN address, when the router reported it in this check. */
  wanAddress?: string;
  checkedAt: string;
}

/** The payload of output 2. */
export interface AlertEvent {
  state: 'failing' | 'recovered';
  family: Family;
  /** Consecutive failures (for `recovered`: how many there were before it worked again). */
  failures: number;
  /** The last failure's reason; null for `recovered`. */
  error: string | null;
  /** When the failures began (ISO time). */
  since: string;
}

export interface CheckResult {
  origin: CheckOrigin;
  /** The check was cut short by stop(): nothing was changed, nothing is to be sent. */
  aborted: boolean;
  checkedAt: string;
  /** The families looked up in this check (for a hint check: the hinted ones that are tracked). */
  families: Family[];
  detections: Partial<Record<Family, RoundDetection>>;
  /** Present when something is to be sent on output 1. */
  change?: AddressChange;
  alerts: AlertEvent[];
  /** Why a family failed in this check (families that worked are absent). */
  errors: Partial<Record<Family, string>>;
  /** Hint checks only: families the local sources gave no address for (not a failure). */
  unanswered: Partial<Record<Family, string>>;
  /**
   * The reasons of `errors` and `unanswered` as sentences, for the families whose reason was
   * written as one (its English is the text there): the adapter says them in the user's language.
   */
  said?: Partial<Record<Family, Sentence>>;
  /** Consecutive failures per tracked family after this check. */
  failures: Partial<Record<Family, number>>;
  known: KnownAddresses;
  /** When the next timer check is due, ms from the end of this check (absent for hint checks and once stopped). */
  nextCheckInMs?: number;
}

export interface WatcherEvents {
  /** A check begins. */
  checking?(origin: CheckOrigin): void;
  /** A check has finished (every origin, not for aborted checks). */
  checked?(result: CheckResult): void;
  /**
   * Something the user should know that is not a detection failure (store errors), for the log: its
   * English text, and the same as a sentence for the user's language.
   */
  warning?(message: string, said: Sentence): void;
}

export interface WatcherOptions {
  families: WatchFamilies;
  detect: DetectFn;
  store: StateStore<KnownAddresses>;
  intervalMs?: number;
  /** Fraction of random spread of the interval, default 0.1. */
  jitter?: number;
  emitOnStart?: boolean;
  /** Consecutive failures of a family before the `failing` alert, default 3. */
  alertAfter?: number;
  events?: WatcherEvents;
  /** Time and the timer (default: the system clock). */
  clock?: Clock;
  /** Default: the clock's time. */
  now?: () => Date;
  random?: () => number;
  /**
   * For tests only: lowers the 30 s floor of the interval and the backoff base. Never wire this
   * to user configuration.
   */
  testOnly?: { minIntervalMs: number };
}

interface QueuedHint {
  families: Set<Family>;
  claims: PushClaims;
  run: Promise<CheckResult>;
}

const failed = (family: Family, error: Said): RoundDetection => {
  const said = sentenceOf(error);
  return { family, address: null, agreedBy: [], reports: [], error: english(error), ...(said ? { said } : {}) };
};

/** A detection that ended without an address and without a reason. */
const NO_ADDRESS = () => say('ip.no_address', 'no address found');

/** The /64 network of a canonical IPv6 address (detector output or the store, both parsed). */
const prefixOf = (a: string | null): string | null => (a === null ? null : ipv6Prefix(a as Ipv6, 64));

export class IpWatcher {
  private readonly families: Family[];
  private readonly minIntervalMs: number;
  private readonly intervalMs: number;
  private readonly alertAfter: number;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly events: WatcherEvents;
  /** Failing/recovered per family; their failure counts drive the backoff. */
  private readonly latches: Record<Family, AlertLatch>;
  private knownAddresses: KnownAddresses = { ipv4: null, ipv6: null };
  private ready: Promise<void> | undefined;
  /** Serialises the checks; its timer is the next regular check. */
  private readonly sched: Scheduler;
  private current: AbortController | undefined;
  private stopped = false;
  private started = false;
  /** Whether the first successful check (the one reported as `initial`) has happened. */
  private firstSuccessDone = false;
  /** Hint checks that are queued but have not started, plain and pushed ones apart: later hints join them. */
  private readonly queued: { plain?: QueuedHint; push?: QueuedHint } = {};

  constructor(private readonly opts: WatcherOptions) {
    this.families = familiesOf(opts.families);
    this.minIntervalMs = opts.testOnly?.minIntervalMs ?? MIN_INTERVAL_MS;
    this.intervalMs = Math.max(this.minIntervalMs, opts.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.alertAfter = Math.max(1, Math.floor(opts.alertAfter ?? DEFAULT_ALERT_AFTER));
    const clock = opts.clock ?? systemClock;
    this.now = opts.now ?? (() => new Date(clock.now()));
    this.random = opts.random ?? Math.random;
    this.events = opts.events ?? {};
    this.latches = {
      ipv4: new AlertLatch({ after: this.alertAfter }),
      ipv6: new AlertLatch({ after: this.alertAfter }),
    };
    this.sched = new Scheduler({
      clock,
      run: () => this.check('timer', false),
      intervalMs: this.intervalMs,
      jitter: opts.jitter ?? 0.1,
      backoff: { baseMs: this.minIntervalMs, capMs: this.intervalMs, random: this.random },
      minDelayMs: this.minIntervalMs,
      random: this.random,
      onError: (e) => this.warn(say('ip.timed_failed', 'the timed check failed: __error__', { error: failureSaid(e) })),
    });
  }

  /** The last known addresses (null for families never found or not tracked). */
  get known(): KnownAddresses {
    return { ...this.knownAddresses };
  }

  /** Whether a check is running right now. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Load the stored addresses and run the first check; later checks follow on the timer. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.enqueue('start', false);
  }

  /**
   * Run a check now (queued behind a running one); the timer starts over after it. Resolves with
   * `aborted: true` after stop().
   */
  checkNow(o: { force?: boolean } = {}): Promise<CheckResult> {
    return this.enqueue('input', o.force === true);
  }

  /**
   * A push hint: check `families` (those tracked) with the local sources only, after the running
   * check. Joins a hint check that is already waiting. Resolves with the check's result (with no
   * families when none of them is tracked; `aborted: true` after stop()).
   */
  hint(families: readonly Family[]): Promise<CheckResult> {
    return this.queueHint('plain', families, {});
  }

  /**
   * A router's push: check the families it claims an address for (those tracked) as a hint check
   * whose answer must confirm the claim (DetectFn's `claim`). Joins a push check that is already
   * waiting (the newest claim of a family wins); plain hints queue apart, so an announcement is
   * never held to a claim.
   */
  push(claims: PushClaims): Promise<CheckResult> {
    return this.queueHint('push', Object.keys(claims) as Family[], claims);
  }

  private queueHint(kind: 'plain' | 'push', families: readonly Family[], claims: PushClaims): Promise<CheckResult> {
    const wanted = this.families.filter((f) => families.includes(f));
    if (wanted.length === 0 || this.stopped) {
      const r = this.abortedResult('hint', this.now().toISOString(), wanted);
      r.aborted = this.stopped;
      return Promise.resolve(r);
    }
    const waiting = this.queued[kind];
    if (waiting) {
      for (const f of wanted) {
        waiting.families.add(f);
        if (claims[f]) waiting.claims[f] = claims[f];
      }
      return waiting.run;
    }
    const joined = new Set(wanted);
    const held: PushClaims = { ...claims };
    const run = this.sched.exclusive(() => {
      if (this.queued[kind]?.families === joined) this.queued[kind] = undefined; // from now on, hints queue a new check
      return this.check(
        'hint',
        false,
        this.families.filter((f) => joined.has(f)),
        kind === 'push' ? held : undefined,
      );
    });
    this.queued[kind] = { families: joined, claims: held, run };
    return run;
  }

  /** Cancel the timer and the running check; resolves when nothing of the watcher runs any more. */
  async stop(): Promise<void> {
    this.stopped = true;
    const settled = this.sched.stop();
    this.current?.abort(new Error('stopped'));
    await settled;
  }

  private loadOnce(): Promise<void> {
    this.ready ??= (async () => {
      try {
        const raw = await this.opts.store.load();
        if (raw === undefined || raw === null) return;
        const parsed = knownAddressesSchema.safeParse(raw);
        if (!parsed.success) {
          this.warn(say('ip.known_unreadable', 'the stored last known addresses are not readable and were ignored'));
          return;
        }
        for (const f of ['ipv4', 'ipv6'] as const) {
          const v = parsed.data[f];
          const p = v === null ? null : parseAddress(v);
          this.knownAddresses[f] = p && p.family === f ? p.address : null;
        }
      } catch (e) {
        this.warn(
          say('ip.known_unread', 'could not read the last known addresses: __error__', { error: failureSaid(e) }),
        );
      }
    })();
    return this.ready;
  }

  private enqueue(origin: CheckOrigin, force: boolean): Promise<CheckResult> {
    if (this.sched.isStopped) return Promise.resolve(this.abortedResult(origin, this.now().toISOString()));
    return this.sched.exclusive(() => this.check(origin, force));
  }

  private abortedResult(origin: CheckOrigin, checkedAt: string, families: Family[] = this.families): CheckResult {
    return {
      origin,
      aborted: true,
      checkedAt,
      families,
      detections: {},
      alerts: [],
      errors: {},
      unanswered: {},
      failures: this.failureCounts(),
      known: this.known,
    };
  }

  private failureCounts(): Partial<Record<Family, number>> {
    return Object.fromEntries(this.families.map((f) => [f, this.latches[f].failures]));
  }

  /** One check of `families` (all tracked ones, except for hint checks); `claims`: a router's push. */
  private async check(
    origin: CheckOrigin,
    force: boolean,
    families: Family[] = this.families,
    claims?: PushClaims,
  ): Promise<CheckResult> {
    await this.loadOnce();
    const checkedAt = this.now().toISOString();
    if (this.stopped) return this.abortedResult(origin, checkedAt, families);
    const scope: DetectScope = origin === 'hint' ? 'local' : 'full';
    if (scope === 'full') this.sched.cancel();
    const ac = new AbortController();
    this.current = ac;
    this.emit(() => this.events.checking?.(origin));
    let detections: RoundDetection[];
    try {
      detections = await Promise.all(
        families.map((f) =>
          this.opts.detect(f, ac.signal, scope, claims?.[f]).then(
            (r) => r ?? failed(f, say('ip.no_result', 'no result')),
            (e: unknown) => failed(f, e instanceof Error ? failureSaid(e) : String(e)),
          ),
        ),
      );
    } finally {
      this.current = undefined;
    }
    if (ac.signal.aborted || this.stopped) return this.abortedResult(origin, checkedAt, families);

    const result = await this.evaluate(origin, force, checkedAt, families, detections);
    // A hint check leaves the timer alone: the regular checks (with the outside services) keep their pace.
    if (!this.stopped && scope === 'full') result.nextCheckInMs = this.schedule();
    this.emit(() => this.events.checked?.(result));
    return result;
  }

  /** Alerts, change detection and state update for one finished round. */
  private async evaluate(
    origin: CheckOrigin,
    force: boolean,
    checkedAt: string,
    families: Family[],
    detections: RoundDetection[],
  ): Promise<CheckResult> {
    const alerts: AlertEvent[] = [];
    const errors: Partial<Record<Family, string>> = {};
    const unanswered: Partial<Record<Family, string>> = {};
    const said: Partial<Record<Family, Sentence>> = {};
    const found: KnownAddresses = { ipv4: null, ipv6: null };
    const byFamily: Partial<Record<Family, RoundDetection>> = {};
    const at = Date.parse(checkedAt);
    for (const d of detections) {
      const f = d.family;
      byFamily[f] = d;
      if (d.address) {
        found[f] = d.address;
        const ev = this.latches[f].success(at);
        if (ev)
          alerts.push({
            state: 'recovered',
            family: f,
            failures: ev.failures,
            error: null,
            since: new Date(ev.since).toISOString(),
          });
      } else {
        const why = d.error === undefined ? NO_ADDRESS() : d.said && english(d.said) === d.error ? d.said : undefined;
        if (why) said[f] = why;
        const error = d.error ?? english(why!);
        if (origin === 'hint') {
          unanswered[f] = error;
          continue;
        }
        errors[f] = error;
        const ev = this.latches[f].failure(at);
        if (ev)
          alerts.push({
            state: 'failing',
            family: f,
            failures: ev.failures,
            error,
            since: new Date(ev.since).toISOString(),
          });
      }
    }

    const tracked = (f: Family) => this.families.includes(f);
    const previous: KnownAddresses = {
      ipv4: tracked('ipv4') ? this.knownAddresses.ipv4 : null,
      ipv6: tracked('ipv6') ? this.knownAddresses.ipv6 : null,
    };
    const anyFound = families.some((f) => found[f] !== null);
    const changed = families.filter((f) => found[f] !== null && found[f] !== previous[f]);
    const initial = anyFound && !this.firstSuccessDone && this.opts.emitOnStart === true;
    if (anyFound) this.firstSuccessDone = true;

    let change: AddressChange | undefined;
    if (changed.length > 0 || (anyFound && (force || initial))) {
      const sources: AddressChange['sources'] = {};
      let cgnat: AddressChange['cgnat'];
      let disagreement: AddressChange['disagreement'];
      let wanAddress: string | undefined;
      for (const f of families) {
        const d = byFamily[f]!;
        sources[f] = { agreedBy: d.agreedBy, reports: d.reports };
        if (d.confirmedBy) sources[f]!.confirmedBy = d.confirmedBy;
        if (d.disagreement) sources[f]!.disagreement = d.disagreement;
        if (d.outsideTemporary) sources[f]!.outsideTemporary = d.outsideTemporary;
        if (d.cgnatSuspected && !cgnat) cgnat = { family: f, ...d.cgnatSuspected };
        if (d.disagreement && !disagreement) disagreement = { family: f, ...d.disagreement };
        wanAddress ??= d.wanAddress;
      }
      const prefix = prefixOf(found.ipv6);
      const prefixChanged = prefix !== null && previous.ipv6 !== null && prefixOf(previous.ipv6) !== prefix;
      change = {
        ipv4: found.ipv4,
        ipv6: found.ipv6,
        ipv6Prefix: prefix,
        prefixChanged,
        ipv6Stability: found.ipv6 === null ? null : (byFamily.ipv6?.stability ?? 'stable'),
        previous,
        changed,
        sources,
        checkedAt,
      };
      if (initial) change.initial = true;
      if (cgnat) change.cgnat = cgnat;
      if (disagreement) change.disagreement = disagreement;
      if (wanAddress) change.wanAddress = wanAddress;
    }

    if (changed.length > 0) {
      for (const f of changed) this.knownAddresses[f] = found[f];
      try {
        await this.opts.store.save(this.known);
      } catch (e) {
        this.warn(
          say('ip.known_unsaved', 'could not save the last known addresses: __error__', { error: failureSaid(e) }),
        );
      }
    }

    return {
      origin,
      aborted: false,
      checkedAt,
      families,
      detections: byFamily,
      change,
      alerts,
      errors,
      unanswered,
      ...(Object.keys(said).length ? { said } : {}),
      failures: this.failureCounts(),
      known: this.known,
    };
  }

  /** Arm the timer for the next check: the interval, or a backoff delay after a failure. */
  private schedule(): number {
    return this.sched.plan(Math.max(...this.families.map((f) => this.latches[f].failures)));
  }

  private warn(said: Sentence): void {
    this.emit(() => this.events.warning?.(english(said), said));
  }

  /** Listener errors must not break the loop. */
  private emit(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      try {
        const said = say('ip.listener_failed', 'listener failed: __error__', { error: failureSaid(e) });
        this.events.warning?.(english(said), said);
      } catch {
        /* nothing more to do */
      }
    }
  }
}
