/**
 * The loop of reachability-check, free of Node-RED: runs one after another (a run asked for while
 * another runs waits its turn), an optional interval (the first run 1 s after start, then every
 * interval; a tick due while a run is in progress or queued is skipped), and the down/recovered
 * latch: `alertAfter` failed runs in a row turn the state to down (one `down` event), one ok run
 * back to up (one `recovered` event).
 */
import { AlertLatch, type LatchEvent } from '../alert-latch';
import { Scheduler, systemClock, type Clock } from '../schedule';

/** The first interval run after start. */
export const FIRST_RUN_MS = 1000;

export interface MonitorOutcome<R> {
  /** What the check returned. */
  report: R;
  /** When the run ended (epoch ms). */
  at: number;
  /** A transition: down after `alertAfter` failed runs in a row, or recovered. */
  alert?: LatchEvent<'down' | 'recovered'>;
  /** Failed runs in a row (0 after an ok run). */
  failures: number;
  /** The state after this run is down. */
  down: boolean;
}

export interface MonitorOptions<I, R extends { ok: boolean }> {
  /** One run. `input` is null for interval runs. */
  check(input: I | null, signal: AbortSignal): Promise<R>;
  /** Failed runs in a row before `down`. */
  alertAfter: number;
  /** 0 or absent: runs on request only. */
  intervalMs?: number;
  clock?: Clock;
  /** The outcome of an interval run. */
  onTimerOutcome?(o: MonitorOutcome<R>): void;
  /** An interval run that threw (not after stop()). */
  onTimerError?(e: unknown): void;
}

export class ReachMonitor<I, R extends { ok: boolean }> {
  private readonly sched: Scheduler;
  private readonly clock: Clock;
  private readonly latch: AlertLatch<'down', 'recovered'>;
  private readonly closing = new AbortController();

  constructor(private readonly opts: MonitorOptions<I, R>) {
    this.clock = opts.clock ?? systemClock;
    this.latch = new AlertLatch({ after: opts.alertAfter, failing: 'down', recovered: 'recovered' });
    const every = opts.intervalMs && opts.intervalMs > 0 ? opts.intervalMs : undefined;
    this.sched = new Scheduler({
      clock: this.clock,
      whenBusy: 'skip',
      repeatMs: every,
      run: () =>
        this.once(null).then(
          (o) => this.opts.onTimerOutcome?.(o),
          (e: unknown) => {
            if (!this.closing.signal.aborted) this.opts.onTimerError?.(e);
          },
        ),
    });
  }

  /** Aborted by stop(): every check gets it. */
  get signal(): AbortSignal {
    return this.closing.signal;
  }

  /** Failed runs in a row. */
  get failures(): number {
    return this.latch.failures;
  }

  get down(): boolean {
    return this.latch.alerted;
  }

  /** Start the interval runs (when an interval is set). */
  start(): void {
    if (this.opts.intervalMs && this.opts.intervalMs > 0) this.sched.in(FIRST_RUN_MS);
  }

  /** A run on request, after the running one. */
  run(input: I): Promise<MonitorOutcome<R>> {
    return this.sched.exclusive(() => this.once(input));
  }

  /** Clear the timer, abort the running check; resolves when nothing runs any more. */
  stop(): Promise<void> {
    this.closing.abort();
    return this.sched.stop();
  }

  private async once(input: I | null): Promise<MonitorOutcome<R>> {
    const report = await this.opts.check(input, this.closing.signal);
    const at = this.clock.now();
    const alert = report.ok ? this.latch.success(at) : this.latch.failure(at);
    return { report, at, failures: this.latch.failures, down: this.latch.alerted, ...(alert ? { alert } : {}) };
  }
}
