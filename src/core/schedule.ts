/**
 * The one scheduling primitive of the core: a single timer on an injected clock plus a queue that
 * serialises runs, with the timing policy every loop shares (interval with jitter, backoff after
 * failures that never comes sooner than the other side asked). Used by the update engine's retries,
 * public-ip-watch's watcher, the certificate renewal loop and the reachability monitor.
 *
 * Contract:
 * - `exclusive(fn)` runs `fn` after every earlier run has settled: never two at once. After
 *   `stop()` it rejects (`onStopped`) and nothing new starts.
 * - One timer: `at(time)` / `in(ms)` replace it, `cancel()` clears it. When it falls due the `run`
 *   callback is queued through `exclusive`; with `whenBusy: 'skip'` a timer that falls due while a
 *   run is in progress or queued is coalesced into that run instead. Delays beyond setTimeout's
 *   limit (2^31-1 ms) re-arm until the due time is reached. `repeatMs` re-arms at every firing
 *   (a fixed cadence, like setInterval).
 * - Timing policy: `succeeded()` resets the failure count and arms the interval (± jitter);
 *   `failed(retryAfterMs)` counts a failure and arms the backoff, never sooner than the server's
 *   wait, which is clamped into [1 s, 24 h] (an absurd Retry-After can never make Infinity or an
 *   Invalid Date). `plan(failures)` does either for a failure count kept elsewhere.
 * - `state()` / `restore()`: the next due time and the failure count as plain JSON.
 */
import { backoffDelay, withJitter, type BackoffOptions } from './retry';

/** Time and timers, injectable so that tests are exact (test/support/fake-clock.ts). */
export interface Clock {
  /** epoch ms */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** setTimeout's largest delay; longer waits re-arm. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** The range a server-given wait (Retry-After…) is clamped into. */
export const MIN_SERVER_WAIT_MS = 1_000;
export const MAX_SERVER_WAIT_MS = 24 * 3_600_000;

/** A server's wait made sane: 0 when absent or not a positive number, else clamped into [1 s, 24 h]. */
export function serverWait(ms: number | undefined): number {
  if (ms === undefined || Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(MAX_SERVER_WAIT_MS, Math.max(MIN_SERVER_WAIT_MS, ms));
}

/** The wait after `failures` consecutive failures: backoff with jitter, never sooner than the server's (clamped) wait. */
export function retryDelay(failures: number, backoff: BackoffOptions, retryAfterMs?: number): number {
  return backoffDelay(failures, backoff, serverWait(retryAfterMs));
}

/** Runs functions one after another, never two at once, whatever each one's outcome. */
export interface Serial {
  run<T>(fn: () => Promise<T> | T): Promise<T>;
  /** Resolves when every queued function has settled. */
  idle(): Promise<void>;
}

export function serial(): Serial {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T> | T): Promise<T> {
      const run = chain.then(fn, fn);
      chain = run.catch(() => undefined);
      return run;
    },
    idle: () => chain.then(() => undefined),
  };
}

/** What a scheduler can save and restore (plain JSON). */
export interface ScheduleState {
  /** When the timer is due (epoch ms), or null when none is armed. */
  dueAt: number | null;
  /** Consecutive failures (the backoff step). */
  failures: number;
}

export interface SchedulerOptions {
  /** What the timer runs (through `exclusive`). */
  run: () => Promise<unknown> | unknown;
  clock?: Clock;
  /** A timer due while a run is in progress or queued: queue another run (default) or skip it. */
  whenBusy?: 'queue' | 'skip';
  /** Re-arm at every firing, this much later (a fixed cadence). */
  repeatMs?: number;
  /** The regular interval armed by `succeeded()` / `plan(0)`. */
  intervalMs?: number;
  /** Random spread of the interval, fraction (default 0.1). */
  jitter?: number;
  /** Backoff after failures (default: 30 s doubling to the interval, 20 % jitter). */
  backoff?: BackoffOptions;
  /** No delay armed by the policy is shorter than this. */
  minDelayMs?: number;
  random?: () => number;
  /** A timer run that rejected (the loop itself goes on). */
  onError?: (e: unknown) => void;
  /** The rejection of `exclusive` after `stop()`. */
  onStopped?: () => Error;
}

export class Scheduler {
  readonly clock: Clock;
  private readonly queue = serial();
  private depth = 0;
  private handle: unknown;
  private due?: number;
  private fails = 0;
  private stopped = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** A run is in progress or queued. */
  get busy(): boolean {
    return this.depth > 0;
  }

  /** When the timer is due (epoch ms), or undefined. */
  get dueAt(): number | undefined {
    return this.due;
  }

  get failures(): number {
    return this.fails;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Run `fn` after every earlier run has settled. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.stopped) return Promise.reject(this.opts.onStopped?.() ?? new Error('the scheduler is stopped'));
    this.depth++;
    return this.queue.run(async () => {
      try {
        return await fn();
      } finally {
        this.depth--;
      }
    });
  }

  /** Resolves when every queued run has settled. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Arm the timer for `time` (epoch ms), replacing any other. */
  at(time: number): void {
    if (this.stopped) return;
    if (this.due === time && this.handle !== undefined) return;
    this.clear();
    this.due = time;
    this.arm();
  }

  /** Arm the timer `ms` from now. */
  in(ms: number): void {
    this.at(this.clock.now() + Math.max(0, ms));
  }

  /** Clear the timer. */
  cancel(): void {
    this.clear();
    this.due = undefined;
  }

  /** Forget the failures and arm the interval. Returns the delay armed. */
  succeeded(): number {
    this.fails = 0;
    return this.plan(0);
  }

  /** Count a failure and arm the backoff (never sooner than `retryAfterMs`, clamped). Returns the delay armed. */
  failed(retryAfterMs?: number): number {
    this.fails++;
    return this.plan(this.fails, retryAfterMs);
  }

  /** Arm the interval (no failures) or the backoff after `failures`. Returns the delay armed. */
  plan(failures: number, retryAfterMs?: number): number {
    const o = this.opts;
    const min = o.minDelayMs ?? 0;
    const interval = o.intervalMs ?? 0;
    const delay =
      failures > 0
        ? Math.max(
            min,
            retryDelay(
              failures,
              o.backoff ?? { baseMs: 30_000, capMs: Math.max(30_000, interval), random: o.random },
              retryAfterMs,
            ),
          )
        : Math.max(min, withJitter(interval, o.jitter ?? 0.1, o.random));
    this.in(delay);
    return delay;
  }

  state(): ScheduleState {
    return { dueAt: this.due ?? null, failures: this.fails };
  }

  /** Take a saved state: the failure count, and the timer (a past due time runs at once). */
  restore(s: Partial<ScheduleState> | undefined): void {
    if (!s) return;
    if (typeof s.failures === 'number' && Number.isFinite(s.failures) && s.failures >= 0)
      this.fails = Math.floor(s.failures);
    if (typeof s.dueAt === 'number' && Number.isFinite(s.dueAt)) this.at(s.dueAt);
  }

  /** Clear the timer and refuse new runs; resolves when the running one has settled. */
  stop(): Promise<void> {
    this.stopped = true;
    this.cancel();
    return this.idle();
  }

  private clear(): void {
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
  }

  private arm(): void {
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, this.due! - this.clock.now()));
    this.handle = this.clock.setTimer(() => this.fire(), ms);
  }

  private fire(): void {
    this.handle = undefined;
    if (this.stopped || this.due === undefined) return;
    if (this.clock.now() < this.due) return this.arm(); // a wait beyond setTimeout's limit
    this.due = undefined;
    if (this.opts.repeatMs !== undefined) this.in(this.opts.repeatMs);
    if (this.opts.whenBusy === 'skip' && this.busy) return;
    this.exclusive(this.opts.run).catch((e) => {
      if (!this.stopped) this.opts.onError?.(e);
    });
  }
}
