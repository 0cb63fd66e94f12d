/**
 * The renewal loop of cert-renew, free of Node-RED: when to run ensureCertificate (manager.ts) and
 * what a run's outcome means for the next one.
 *
 * - `start()`: the first check 2 s after start (`checkOnStart`), else after one interval.
 * - After a success the next check is one interval later (±5 %); after a passing failure it comes
 *   after a backoff (5 min doubling to 6 h, never sooner than the server's clamped wait); after a
 *   fatal (or input) failure no order is attempted until the next `check()`, but the certificate on
 *   disk is still watched (see below).
 * - Runs never overlap. `check()` during a run: without `force` it waits for that run and answers
 *   `joined` with that run's outcome (so every caller gets an answer); with `force` it runs again
 *   after it. A timer due during a run is coalesced into it.
 * - One `failing` alert at the first failure, one `recovered` at the next success (AlertLatch).
 * - The account stop is the provider's own (the account's guarded provider refuses to send); and
 *   while the account is stopped (`accountStopped`) no order is created at all: the CA is not asked
 *   for one that would fail at its first TXT record.
 * - The expiry watch while stopped: at once after the stop, then every interval (at most 24 h), the
 *   certificate on disk is read (neither the CA nor the provider is asked); when it is due for
 *   renewal, or has expired, `onExpiring` gets a warning, at most once per 24 h.
 * - The expiry alert while renewal is failing but not stopped (Let's Encrypt sends no expiry
 *   e-mails any more): after a passing failure, when the certificate on disk is due and fewer
 *   than `expiryAlertDays` (default 7) days are left, `onExpiring` gets a warning, at most once
 *   per 24 h.
 * - The next check after a success: the interval; sooner when the CA's ARI answer asked for it
 *   (its Retry-After, clamped into [1 min, 24 h] as RFC 9773 §4.3 suggests) or when renewal falls
 *   due before the interval ends (short-lived certificates).
 * - `stop()` clears the timer, aborts the running order and resolves when it has settled.
 */
import { AlertLatch, type LatchEvent } from '../alert-latch';
import { DdnsError, english, mapSentence, say, toDdnsError, type Sentence } from '../errors';
import type { DnsProvider } from '../providers/types';
import type { BackoffOptions } from '../retry';
import { Scheduler, systemClock, type Clock } from '../schedule';
import type { AcmeSession } from './client';
import { durationSaid } from '../said';
import type { ChallengeSolver } from './solver';
import type { CertificateJob, CertificateResult, ManagerDeps } from './manager';
import { readCertificateSet } from './storage';
import { daysLeft, renewalDecision } from './timing';
import { certInfo } from './x509';

/** Backoff after passing failures. */
export const RENEW_RETRY: BackoffOptions = { baseMs: 5 * 60_000, capMs: 6 * 3_600_000 };
/** The first check after start, when checking on start. */
export const FIRST_CHECK_MS = 2000;
/** The expiry watch while stopped: at most this long between two looks, and between two warnings. */
export const EXPIRY_WATCH_MS = 24 * 3_600_000;
/** The expiry alert while renewal fails: this many days before the end, by default. */
export const EXPIRY_ALERT_DAYS = 7;
/** The CA's ARI Retry-After is clamped into this range (RFC 9773 §4.3). */
export const ARI_RECHECK_MS = { min: 60_000, max: 24 * 3_600_000 };

/** The outcome of one run. */
export type RunOutcome =
  | { kind: 'ok'; result: CertificateResult; recovered?: LatchEvent<'recovered'> }
  /** `retryInMs` absent: a fatal (or input) failure; no order until the next check(). */
  | { kind: 'failed'; error: DdnsError; failures: number; failing?: LatchEvent<'failing'>; retryInMs?: number }
  /** stop() came during the run: nothing is to be reported. */
  | { kind: 'closed' };

export type RenewalOutcome =
  | RunOutcome
  /** A check() without force during a run: `outcome` is that run's (its alerts went with it). */
  | { kind: 'joined'; outcome: RunOutcome };

/** The certificate on disk runs out soon and nothing renews it (the loop is stopped). */
export interface ExpiryWarning {
  /** The names in the certificate. */
  names: string[];
  /** ISO 8601. */
  notAfter: string;
  /** Whole days left (negative: expired). */
  daysLeft: number;
  expired: boolean;
  /** What stopped the renewal (or, with `retrying`, why the last attempt failed). */
  cause: DdnsError;
  /** Renewal is not stopped: the node keeps trying by itself. */
  retrying?: boolean;
  /** What is wrong and what to do, in words. */
  message: string;
  /** `message` as a sentence (for the adapter to say in the user's language; not sent). */
  sentence?: Sentence;
}

/** The certificate as the expiry watch sees it. */
export interface CertificateOnDisk {
  names: string[];
  notBefore: Date;
  notAfter: Date;
}

/** The certificate in `dir`, or null when there is none or it cannot be read. */
export async function certificateOnDisk(dir: string): Promise<CertificateOnDisk | null> {
  const set = await readCertificateSet(dir);
  if (!set) return null;
  try {
    return certInfo(set.cert);
  } catch {
    return null;
  }
}

/**
 * The warning for a certificate that nothing renews (`cause`): when it is due for renewal by the
 * lifetime rule (a third of its lifetime left, or `renewDaysBefore`), or has expired; else null.
 */
export function expiryWarning(
  cert: CertificateOnDisk,
  now: number,
  cause: DdnsError,
  renewDaysBefore?: number,
  retrying?: { alertDays: number },
): ExpiryWarning | null {
  if (!renewalDecision(cert, new Date(now), { renewDaysBefore }).due) return null;
  const left = cert.notAfter.getTime() - now;
  if (retrying && left > retrying.alertDays * 86_400_000) return null;
  const date = cert.notAfter.toISOString().slice(0, 10);
  const names = cert.names.join(', ') || say('acme.expiry.your_names', 'your names');
  const when =
    left <= 0
      ? say('acme.expiry.expired', 'The certificate for __names__ expired on __date__', { names, date })
      : say('acme.expiry.runs_out', 'The certificate for __names__ runs out in __left__ (__date__)', {
          names,
          date,
          left: durationSaid(left, 'down'),
        });
  // The cause without its final full stop: its sentence, when its English is the message and has none.
  const why =
    cause.sentence && english(cause.sentence) === cause.message && !cause.message.endsWith('.')
      ? cause.sentence
      : cause.message.replace(/\.$/, '');
  const sentence = retrying
    ? say(
        'acme.expiry.retrying',
        '__when__ and has not been renewed: the last attempt failed: __why__. The node keeps trying by itself; if the error needs you, fix it before the certificate runs out.',
        { when, why },
      )
    : say(
        'acme.expiry.stopped',
        '__when__ and is not being renewed, because renewal stopped: __why__. Fix that, then send a message to the cert-renew node (or deploy again) to renew it.',
        { when, why },
      );
  return {
    names: cert.names,
    notAfter: cert.notAfter.toISOString(),
    daysLeft: daysLeft(cert.notAfter, new Date(now)),
    expired: left <= 0,
    cause,
    ...(retrying ? { retrying: true } : {}),
    message: english(sentence),
    sentence,
  };
}

/**
 * When to check again after a success that renewed nothing, when sooner or other than the
 * interval: at the CA's ARI Retry-After (clamped), but never after the planned renewal time.
 */
export function nextCheckAfter(r: CertificateResult, now: number, intervalMs: number): number | undefined {
  let next: number | undefined;
  if (r.ariRetryAfterMs !== undefined && r.ariRetryAfterMs > 0)
    next = Math.min(ARI_RECHECK_MS.max, Math.max(ARI_RECHECK_MS.min, r.ariRetryAfterMs));
  const due = r.renewAt ? Date.parse(r.renewAt) - now : NaN;
  if (!r.renewed && due > 0 && due < (next ?? intervalMs)) next = due + 1000;
  return next;
}

export type EnsureFn = (
  job: CertificateJob,
  deps: ManagerDeps,
  session: { session?: AcmeSession },
) => Promise<CertificateResult>;

export interface RenewalOptions {
  job: CertificateJob;
  /** The DNS-01 provider account; absent when `solver` answers another challenge. */
  provider?: DnsProvider;
  /** HTTP-01 or DNS-PERSIST-01 instead of DNS-01 (solver.ts). */
  solver?: ChallengeSolver;
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
  onTimerOutcome?(o: RunOutcome): void;
  /** Why the provider account sends nothing now (its stop), or undefined: checked before an order. */
  accountStopped?: () => DdnsError | undefined;
  /**
   * The certificate on disk runs out soon and renewal has not succeeded: while stopped (when it is
   * due), or while failing (when it is due and fewer than `expiryAlertDays` are left); at most
   * once per EXPIRY_WATCH_MS.
   */
  onExpiring?(w: ExpiryWarning): void;
  /** Days before the end when failing renewals raise the expiry alert (default EXPIRY_ALERT_DAYS). */
  expiryAlertDays?: number;
  /** Default: certificateOnDisk(job.outDir). */
  readCertificate?: (job: CertificateJob) => Promise<CertificateOnDisk | null>;
}

export class RenewalLoop {
  private readonly sched: Scheduler;
  private readonly clock: Clock;
  private readonly latch = new AlertLatch({ after: 1 });
  private readonly session: { session?: AcmeSession } = {};
  private abort?: AbortController;
  private closed = false;
  private fatal: DdnsError | null = null;
  /** Runs (orders) queued or running: a check() without force joins them. */
  private runs = 0;
  /** The outcome of the last run that ended. */
  private last: RunOutcome = { kind: 'closed' };
  /** When the expiry watch last warned (epoch ms). */
  private warnedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: RenewalOptions) {
    this.clock = opts.clock ?? systemClock;
    this.sched = new Scheduler({
      clock: this.clock,
      run: () => (this.fatal ? this.watchExpiry() : this.run('timer', false)),
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
    if (this.runs > 0 && !o.force) {
      await this.sched.idle();
      return { kind: 'joined', outcome: this.last };
    }
    return this.run('input', o.force === true);
  }

  private run(origin: 'timer' | 'input', force: boolean): Promise<RunOutcome> {
    this.runs++;
    const done = () => void this.runs--;
    // The timer's run is already inside the scheduler's queue.
    const r = origin === 'timer' ? this.once(origin, force) : this.sched.exclusive(() => this.once(origin, force));
    return r.finally(done);
  }

  stop(): Promise<void> {
    this.closed = true;
    this.abort?.abort();
    return this.sched.stop();
  }

  private async once(origin: 'timer' | 'input', force: boolean): Promise<RunOutcome> {
    this.sched.cancel();
    const abort = (this.abort = new AbortController());
    this.opts.onChecking?.();
    let out: RunOutcome;
    try {
      const ensure = this.opts.ensure ?? (await import('./manager')).ensureCertificate;
      const o = this.opts;
      const result = await ensure(
        o.job,
        {
          provider: o.provider,
          solver: o.solver,
          waitVisible: o.waitVisible,
          force,
          signal: abort.signal,
          log: o.log,
          accountStopped: o.accountStopped,
        },
        this.session,
      );
      this.fatal = null;
      this.warnedAt = Number.NEGATIVE_INFINITY;
      const recovered = this.latch.success(this.clock.now());
      const next = nextCheckAfter(result, this.clock.now(), this.opts.checkEveryMs);
      if (next === undefined) this.sched.plan(0);
      else this.sched.in(next);
      out = { kind: 'ok', result, ...(recovered ? { recovered } : {}) };
    } catch (e) {
      if (this.closed) return (this.last = { kind: 'closed' });
      const error = toDdnsError(e);
      const clean = this.opts.clean ?? ((t: string) => t);
      error.message = clean(error.message);
      if (error.stack) error.stack = clean(error.stack);
      if (error.sentence) error.sentence = mapSentence(error.sentence, clean);
      const failing = this.latch.failure(this.clock.now());
      let retryInMs: number | undefined;
      if (error.kind === 'transient') {
        this.fatal = null;
        retryInMs = this.sched.plan(this.latch.failures, error.retryAfterMs);
      } else {
        this.fatal = error;
        this.sched.in(0); // the expiry watch, at once (after this outcome is reported)
      }
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
    this.last = out;
    if (origin === 'timer' && !this.closed) this.opts.onTimerOutcome?.(out);
    if (out.kind === 'failed' && out.retryInMs !== undefined) void this.lookAtExpiry(out.error);
    return out;
  }

  /** After a passing failure: the expiry alert when the certificate on disk runs out within the alert days. */
  private async lookAtExpiry(cause: DdnsError): Promise<void> {
    const o = this.opts;
    let cert: CertificateOnDisk | null = null;
    try {
      cert = await (o.readCertificate ?? ((j: CertificateJob) => certificateOnDisk(j.outDir)))(o.job);
    } catch {
      cert = null;
    }
    if (this.closed || !cert) return;
    const now = this.clock.now();
    const w = expiryWarning(cert, now, cause, o.job.renewDaysBefore, {
      alertDays: o.expiryAlertDays ?? EXPIRY_ALERT_DAYS,
    });
    if (w && now - this.warnedAt >= EXPIRY_WATCH_MS) {
      this.warnedAt = now;
      o.onExpiring?.(w);
    }
  }

  /** While stopped: look at the certificate on disk, warn when it runs out soon, look again later. */
  private async watchExpiry(): Promise<void> {
    const cause = this.fatal;
    if (!cause || this.closed) return;
    const o = this.opts;
    let cert: CertificateOnDisk | null = null;
    try {
      cert = await (o.readCertificate ?? ((j: CertificateJob) => certificateOnDisk(j.outDir)))(o.job);
    } catch {
      cert = null; // nothing readable: nothing to warn about
    }
    if (this.closed || this.fatal !== cause) return;
    const now = this.clock.now();
    const w = cert && expiryWarning(cert, now, cause, o.job.renewDaysBefore);
    if (w && now - this.warnedAt >= EXPIRY_WATCH_MS) {
      this.warnedAt = now;
      o.onExpiring?.(w);
    }
    this.sched.in(Math.min(o.checkEveryMs, EXPIRY_WATCH_MS));
  }
}
