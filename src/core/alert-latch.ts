/**
 * The one failing/recovered latch of the core: after `after` consecutive failures (or at once for
 * a fatal one) it emits one failing event, and one recovered event on the next success; never one
 * per failure. The state names are the caller's (dns-update and cert-renew say `failing`,
 * reachability-check says `down`); so are the payloads it turns the events into.
 *
 * - `failure(at, { fatal, quiet, detail })` counts a failure; it trips the latch when `fatal`, or
 *   when the count reaches `after` (unless `quiet`: counted, never the one that trips it).
 * - `trip(at, detail)` trips it without counting (a fatal answer reported apart from the count).
 * - `success(at, { recover })` resets the count; it releases the latch (one recovered event) unless
 *   `recover` is false (the caller knows something still stops it).
 * - `since`: when the failing state began, either at the first failure of the run of failures
 *   (default) or at the moment the latch tripped.
 * - `state()` / `restore()`: plain JSON, so that a restart neither repeats nor forgets an alert.
 */

/** Consecutive failures before a failing alert, where the caller sets nothing else. */
export const DEFAULT_ALERT_AFTER = 3;

export interface LatchEvent<S extends string, D = undefined> {
  state: S;
  /** When the failing state began (epoch ms). */
  since: number;
  /** When this event happened (epoch ms). */
  at: number;
  /** Consecutive failures (for recovered: how many there were before the success). */
  failures: number;
  /** What the caller gave with the failure that tripped the latch. */
  detail?: D;
}

export interface LatchState<D = unknown> {
  failures: number;
  /** First failure of the current run of failures (or the trip time), epoch ms. */
  since: number | null;
  alerted: boolean;
  detail?: D;
}

export interface AlertLatchOptions<F extends string, R extends string> {
  /** Consecutive failures before the failing event (default DEFAULT_ALERT_AFTER, at least 1). */
  after?: number;
  failing?: F;
  recovered?: R;
  /** Where `since` comes from: the first failure (default) or the moment the latch trips. */
  since?: 'first-failure' | 'trip';
}

export class AlertLatch<F extends string = 'failing', R extends string = 'recovered', D = undefined> {
  readonly after: number;
  private readonly failingName: F;
  private readonly recoveredName: R;
  private count = 0;
  private first: number | null = null;
  private tripped = false;
  private info?: D;

  constructor(private readonly opts: AlertLatchOptions<F, R> = {}) {
    this.after = Math.max(1, Math.floor(opts.after ?? DEFAULT_ALERT_AFTER));
    this.failingName = opts.failing ?? ('failing' as F);
    this.recoveredName = opts.recovered ?? ('recovered' as R);
  }

  /** Whether the failing event has been emitted and the recovered one not yet. */
  get alerted(): boolean {
    return this.tripped;
  }

  get failures(): number {
    return this.count;
  }

  /** When the failing state began (epoch ms), or null. */
  get since(): number | null {
    return this.first;
  }

  get detail(): D | undefined {
    return this.info;
  }

  failure(at: number, o: { fatal?: boolean; quiet?: boolean; detail?: D } = {}): LatchEvent<F, D> | undefined {
    this.count++;
    if (this.opts.since !== 'trip') this.first ??= at;
    if (o.fatal || (!o.quiet && this.count >= this.after)) return this.trip(at, o.detail);
    return undefined;
  }

  trip(at: number, detail?: D): LatchEvent<F, D> | undefined {
    if (this.tripped) return undefined;
    this.tripped = true;
    this.first ??= at;
    this.info = detail;
    return { state: this.failingName, since: this.first, at, failures: this.count, detail };
  }

  success(at: number, o: { recover?: boolean } = {}): LatchEvent<R, D> | undefined {
    const failures = this.count;
    this.count = 0;
    if (o.recover === false && this.tripped) return undefined;
    const since = this.first;
    const detail = this.info;
    this.first = null;
    this.info = undefined;
    if (!this.tripped) return undefined;
    this.tripped = false;
    return { state: this.recoveredName, since: since ?? at, at, failures, detail };
  }

  state(): LatchState<D> {
    return {
      failures: this.count,
      since: this.first,
      alerted: this.tripped,
      ...(this.info === undefined ? {} : { detail: this.info }),
    };
  }

  restore(s: Partial<LatchState<D>> | undefined): void {
    if (!s) return;
    this.count = typeof s.failures === 'number' && s.failures >= 0 ? Math.floor(s.failures) : 0;
    this.first = typeof s.since === 'number' ? s.since : null;
    this.tripped = s.alerted === true;
    this.info = s.detail;
  }
}
