/**
 * The renewal loop of cert-renew, free of Node-RED: when to run ensureCertificate (manager.ts) and
 * what a run's outcome means for the next one.
 *
 * - `start()`: the first check 2 s after start (`checkOnStart`), else after one interval.
 * - After a success the next check is one interval later (±5 %); after a passing failure it comes
 *   after a backoff (5 min doubling to 6 h, never sooner than the server's clamped wait); after a
 *   fatal (or input) failure nothing is scheduled until the next `check()`.
 * - Runs never overlap. `check()` during a run: without `force` it waits for that run and answers
 *   `joined` (that run's outcome was reported); with `force` it runs again after it. A timer due
 *   during a run is coalesced into it.
 * - One `failing` alert at the first failure, one `recovered` at the next success (AlertLatch).
 * - The account stop is the provider's own (the account's guarded provider refuses to send).
 * - `stop()` clears the timer, aborts the running order and resolves when it has settled.
 */
import { AlertLatch, type LatchEvent } from '../alert-latch';
import { DdnsError, toDdnsError } from '../errors';
import type { DnsProvider } from '../providers/types';
import type { BackoffOptions } from '../retry';
import { Scheduler, systemClock, type Clock } from '../schedule';
import type { AcmeSession } from './client';
import type { CertificateJob, CertificateResult, ManagerDeps } from './manager';

/** Backoff after passing failures. */
export const RENEW_RETRY: BackoffOptions = { baseMs: 5 * 60_000, capMs: 6 * 3_600_000 };
/** The first check after start, when checking on start. */
export const FIRST_CHECK_MS = 2000;

export type RenewalOutcome =
  | { kind: 'ok'; result: CertificateResult; recovered?: LatchEvent<'recovered'> }
  /** `retryInMs` absent: a fatal (or input) failure; nothing is scheduled until the next check(). */
  | { kind: 'failed'; error: DdnsError; failures: number; failing?: LatchEvent<'failing'>; retryInMs?: number }
  /** A check() without force during a run: that run's outcome was reported. */
  | { kind: 'joined' }
  /** stop() came during the run: nothing is to be reported. */
  | { kind: 'closed' };

export type EnsureFn = (
  job: CertificateJob,
  deps: ManagerDeps,
  session: { session?: AcmeSession },
) => Promise<CertificateResult>;

export interface RenewalOptions {
  job: CertificateJob;
  provider: DnsProvider;
  waitVisible: ManagerDeps['waitVisible'];
  checkEveryMs: number;
  checkOnStart: boolean;
  log?: (text: string) => void;
  /** Applied to every error text (secrets out). */
  clean?: (text: string) => string;
  clock?: Clock;
  random?: () => number;
  /** Default: ensureCertificate of manager.ts (loaded at the first check: the ACME client is large). */
  ensure?: EnsureFn;
  /** A run begins. */
  onChecking?(): void;
  /** The outcome of a run the timer started. */
  onTimerOutcome?(o: RenewalOutcome): void;
}

export class RenewalLoop {
  private readonly sched: Scheduler;
  private readonly clock: Clock;
  private readonly latch = new AlertLatch({ after: 1 });
  private readonly session: { session?: AcmeSession } = {};
  private abort?: AbortController;
  private closed = false;
  private fatal: DdnsError | null = null;

  constructor(private readonly opts: RenewalOptions) {
    this.clock = opts.clock ?? systemClock;
    this.sched = new Scheduler({
      clock: this.clock,
      run: () => this.once('timer', false),
      whenBusy: 'skip',
      intervalMs: opts.checkEveryMs,
      jitter: 0.05,
      backoff: { ...RENEW_RETRY, random: opts.random },
      random: opts.random,
    });
  }

  /** The fatal failure that stopped automatic checks, or null. */
  get stoppedBy(): DdnsError | null {
    return this.fatal;
  }

  /** When the next automatic check is due (epoch ms), or undefined. */
  get nextAt(): number | undefined {
    return this.sched.dueAt;
  }

  start(): void {
    if (this.opts.checkOnStart) this.sched.in(FIRST_CHECK_MS);
    else this.sched.plan(0);
  }

  /** A check on request (msg); see the contract above. */
  async check(o: { force?: boolean } = {}): Promise<RenewalOutcome> {
    if (this.closed) return { kind: 'closed' };
    if (this.sched.busy && !o.force) {
      await this.sched.idle();
      return { kind: 'joined' };
    }
    return this.sched.exclusive(() => this.once('input', o.force === true));
  }

  stop(): Promise<void> {
    this.closed = true;
    this.abort?.abort();
    return this.sched.stop();
  }

  private async once(origin: 'timer' | 'input', force: boolean): Promise<RenewalOutcome> {
    this.sched.cancel();
    const abort = (this.abort = new AbortController());
    this.opts.onChecking?.();
    let out: RenewalOutcome;
    try {
      const ensure = this.opts.ensure ?? (await import('./manager')).ensureCertificate;
      const o = this.opts;
      const result = await ensure(
        o.job,
        { provider: o.provider, waitVisible: o.waitVisible, force, signal: abort.signal, log: o.log },
        this.session,
      );
      this.fatal = null;
      const recovered = this.latch.success(this.clock.now());
      this.sched.plan(0);
      out = { kind: 'ok', result, ...(recovered ? { recovered } : {}) };
    } catch (e) {
      if (this.closed) return { kind: 'closed' };
      const error = toDdnsError(e);
      const clean = this.opts.clean ?? ((t: string) => t);
      error.message = clean(error.message);
      if (error.stack) error.stack = clean(error.stack);
      const failing = this.latch.failure(this.clock.now());
      let retryInMs: number | undefined;
      if (error.kind === 'transient') retryInMs = this.sched.plan(this.latch.failures, error.retryAfterMs);
      else this.fatal = error;
      out = {
        kind: 'failed',
        error,
        failures: this.latch.failures,
        ...(failing ? { failing } : {}),
        ...(retryInMs === undefined ? {} : { retryInMs }),
      };
    } finally {
      if (this.abort === abort) this.abort = undefined;
    }
    if (origin === 'timer' && !this.closed) this.opts.onTimerOutcome?.(out);
    return out;
  }
}
