/**
 * The update engine: makes the A/AAAA records of names hold the current addresses, through any
 * registered provider, exactly once, without ever hurting the provider account. Its contract
 * (idempotence, retries, stops, minimum interval, alerts) is in docs/design/architecture.md.
 */
import { DdnsError, english, say, toDdnsError, transient, type Sentence } from '../errors';
import { parsePublishable, type AddressSet, type Family, type Ip } from '../address';
import { nameKey, normaliseHostname, type Hostname } from '../hostname';
import type { DnsProvider, RecordResult } from '../providers/types';
import { Redactor } from '../redact';
import { failureSaid } from '../said';
import { AlertLatch, DEFAULT_ALERT_AFTER, type LatchEvent } from '../alert-latch';
import type { BackoffOptions } from '../retry';
import { MAX_SERVER_WAIT_MS, Scheduler, retryDelay, serverWait, systemClock, type Clock } from '../schedule';
import { AccountGate, AccountStoppedError, AccountWaitError, gateOf, guardProvider } from './gate';
import { adoptState, recordKey, sameStop, type PendingWrite, type StateDoc } from './state';
import {
  MemoryStore,
  type AccountAlert,
  type SkipReason,
  type StateStore,
  type StopInfo,
  type UpdateRequest,
  type UpdateResult,
} from './types';

export const DEFAULT_MIN_INTERVAL_MS = 60_000;
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 30_000, capMs: 30 * 60_000, jitter: 0.2 };
const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

export interface UpdateEngineOptions {
  provider: DnsProvider;
  /** Identity of the account settings (ddns-account's accountKey). */
  accountKey: string;
  /** Shown in alerts. Default: the provider id. */
  accountLabel?: string;
  /** Identity of the caller's own configuration; per-host stops of another configKey are dropped. */
  configKey?: string;
  /** Default: in memory (nothing survives a restart). */
  store?: StateStore;
  /**
   * The account-wide stop shared with other users of the account. Default: the gate the provider
   * is guarded by (ddns-account's getProvider()), else a private one. An unguarded provider is
   * guarded with it here.
   */
  gate?: AccountGate;
  clock?: Clock;
  minIntervalMs?: number;
  backoff?: BackoffOptions;
  /** Consecutive failed calls before the `failing` alert (a fatal answer alerts at once). */
  alertAfter?: number;
  /** Results of writes the engine made on its own (retries, delayed writes). */
  onResults?: (results: UpdateResult[]) => void;
  onAlert?: (alert: AccountAlert) => void;
  /**
   * Problems that are not update failures (the store could not be read or written), for the log:
   * the English text and the same as a sentence (for the user's language), secrets removed.
   */
  onWarning?: (message: string, said: Sentence) => void;
  /** Second line of defence: every text the engine produces goes through it. */
  redactor?: Redactor;
}

type Wait = 'retry' | 'interval' | 'account';

interface Rec {
  hostname: Hostname;
  family: Family;
  key: string;
  /** Confirmed by the provider (or seen by a read). Mirrors doc.records. */
  confirmed?: { address: string; at: number };
  /** The address to publish that is not confirmed yet. */
  desired?: Ip;
  force: boolean;
  /** When a pending write of `desired` is due. Absent: none pending (stopped, or nothing to do). */
  dueAt?: number;
  wait?: Wait;
  /** A retry time that a stop interrupted: honoured when the stop is lifted (reset never skips a wait). */
  heldUntil?: number;
  /** Requests made for `desired`. */
  attempts: number;
  /** Consecutive transient failures (backoff). */
  failures: number;
  lastError?: DdnsError;
  /** Read from the provider since this engine started. */
  read: boolean;
  /** Last confirmed write (min interval). */
  lastWriteAt?: number;
}

export class UpdateEngine {
  private readonly provider: DnsProvider;
  private readonly clock: Clock;
  private readonly store: StateStore;
  readonly gate: AccountGate;
  private readonly minIntervalMs: number;
  private readonly backoff: BackoffOptions;
  private readonly alertAfter: number;
  private readonly redactor: Redactor;
  private readonly label: string;
  private readonly recs = new Map<string, Rec>();
  private doc?: StateDoc;
  /** Serialises operations; its timer is the one for the earliest pending write. */
  private readonly sched: Scheduler;
  /** Failing/recovered of the account (mirrored in doc.failing). */
  private readonly latch: AlertLatch<'failing', 'recovered', { error: string; code: string }>;
  private stopped = false;
  private readonly abort = new AbortController();
  /** The account stop this engine's own request caused (a change of its configuration lifts it). */
  private ownStop?: StopInfo;
  private clearingGate = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: UpdateEngineOptions) {
    this.clock = opts.clock ?? systemClock;
    this.store = opts.store ?? new MemoryStore();
    this.gate = opts.gate ?? gateOf(opts.provider) ?? new AccountGate();
    // The provider's own minimum (Zoneedit: 600 s) wins over a shorter one of the node.
    this.minIntervalMs = Math.max(0, opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS, opts.provider.minIntervalMs ?? 0);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.alertAfter = Math.max(1, opts.alertAfter ?? DEFAULT_ALERT_AFTER);
    this.redactor = opts.redactor ?? new Redactor();
    this.label = opts.accountLabel ?? opts.provider.id;
    // The account stop is the provider's own (a no-op for a provider the account guards already).
    this.provider = guardProvider(opts.provider, this.gate, {
      label: this.label,
      now: () => this.clock.now(),
      redact: (t) => this.redactor.text(t),
    });
    this.latch = new AlertLatch({ after: this.alertAfter, since: 'trip' });
    this.sched = new Scheduler({
      clock: this.clock,
      run: () => this.runDue(),
      onError: (e) => this.autoFailed(e),
      onStopped: () =>
        new DdnsError('input', say('update.engine_stopped', 'The update engine is stopped.'), { code: 'stopped' }),
    });
    this.unsubscribe = this.gate.subscribe((stop) => this.onGateChange(stop));
  }

  /**
   * Load the saved state and arm the timer for the writes it holds: a pending retry or delayed
   * write survives a redeploy or a restart, and so does the account's wait. Returns a `skipped`
   * result for each restored pending write (for a status). Optional: `update()` and `reset()` load
   * the state too, but only `start()` sends a restored write without an input first.
   */
  start(): Promise<UpdateResult[]> {
    return this.exclusive(async () => {
      const restored = await this.load();
      this.arm();
      await this.persist();
      return restored.flatMap((r) => {
        const stop = this.stoppedFor(r.hostname);
        if (stop) return [this.stoppedResult(r, stop)];
        return r.dueAt !== undefined && r.desired !== undefined ? [this.waitingResult(r)] : [];
      });
    });
  }

  /** One result per name and family; see the contract above. */
  async update(req: UpdateRequest): Promise<UpdateResult[]> {
    const { hostnames, addresses } = req;
    return this.exclusive(async () => {
      await this.load();
      const wanted: Array<[Rec, Ip]> = [];
      for (const hostname of hostnames)
        for (const family of FAMILIES) {
          const address = addresses[family];
          if (address !== undefined) wanted.push([this.rec(hostname, family), address]);
        }
      return this.publish(wanted, req.force === true);
    });
  }

  /**
   * Write again, with force, the address each of these names last had to publish (pending, else
   * confirmed), per family: msg.force without an address. Names with none are left out.
   */
  async rewrite(hostnames: readonly Hostname[]): Promise<UpdateResult[]> {
    return this.exclusive(async () => {
      await this.load();
      const wanted: Array<[Rec, Ip]> = [];
      for (const hostname of hostnames)
        for (const family of FAMILIES) {
          const r = this.rec(hostname, family);
          const known = r.desired ?? r.confirmed?.address;
          if (known === undefined) continue;
          try {
            wanted.push([r, r.desired ?? parsePublishable(known, family).address]);
          } catch {
            // a saved address this version no longer accepts: nothing to write again
          }
        }
      return this.publish(wanted, true);
    });
  }

  /** Plan and send these writes; one result per record, in order. Inside exclusive(). */
  private async publish(wanted: Array<[Rec, Ip]>, force: boolean): Promise<UpdateResult[]> {
    const now = this.clock.now();
    const results = new Map<Rec, UpdateResult>();
    const toWrite: Rec[] = [];
    for (const [r, address] of wanted) {
      const planned = this.plan(r, address, force, now);
      if (planned === 'write') toWrite.push(r);
      else results.set(r, planned);
    }
    await this.send(toWrite, results);
    this.arm();
    await this.persist();
    return wanted.map(([r]) => results.get(r)!).filter((x) => x !== undefined);
  }

  /**
   * Lift every stop (account and names) and send what was held back by them; pending retries and
   * provider waits stay as they are. Returns the results of what was sent.
   */
  reset(): Promise<UpdateResult[]> {
    return this.exclusive(async () => {
      await this.load();
      this.doc!.stops = { hosts: {} };
      this.ownStop = undefined;
      this.withoutGateEvents(() => this.gate.clear());
      const results = await this.release();
      this.arm();
      await this.persist();
      return results;
    });
  }

  /** Why updates of this name are stopped (account-wide or for the name), if they are. */
  stoppedFor(hostname: string): StopInfo | undefined {
    return this.gate.stop ?? this.doc?.stops.hosts[hostname];
  }

  /** Whether the account is in the failing state (an alert `failing` is open). */
  get failing(): boolean {
    return this.doc?.failing !== undefined;
  }

  /** Cancel the timer and any running request; later results are dropped. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    void this.sched.stop();
    this.abort.abort(
      new DdnsError('transient', say('update.cancelled', 'The update was cancelled because the node stopped.'), {
        code: 'stopped',
      }),
    );
  }

  // ---------------------------------------------------------------- planning

  /** What to do with one record asked to hold `address`: a result now, or 'write'. */
  private plan(r: Rec, address: Ip, force: boolean, now: number): UpdateResult | 'write' {
    const stop = this.stoppedFor(r.hostname);
    if (stop) {
      this.setDesired(r, address);
      r.force ||= force;
      hold(r);
      return this.stoppedResult(r, stop);
    }
    if (!force && r.confirmed?.address === address) {
      if (r.desired !== undefined) this.cancelPending(r); // flapped back: nothing to send
      return this.result(r, 'unchanged', address, `${r.hostname} already points to ${address}: nothing sent.`);
    }
    this.setDesired(r, address);
    r.force ||= force;
    if (r.dueAt !== undefined) return this.waitingResult(r);
    if (this.gate.notBefore > now) return this.delay(r, this.gate.notBefore, 'account');
    if (r.lastWriteAt !== undefined && now - r.lastWriteAt < this.minIntervalMs) {
      return this.delay(r, r.lastWriteAt + this.minIntervalMs, 'interval');
    }
    return 'write';
  }

  private setDesired(r: Rec, address: Ip): void {
    if (r.desired !== address) {
      r.desired = address;
      r.attempts = 0;
    }
  }

  private cancelPending(r: Rec): void {
    r.desired = undefined;
    r.force = false;
    r.dueAt = undefined;
    r.wait = undefined;
    r.heldUntil = undefined;
    r.attempts = 0;
  }

  private delay(r: Rec, at: number, wait: Wait): UpdateResult {
    r.dueAt = at;
    r.wait = wait;
    return this.waitingResult(r);
  }

  private waitingResult(r: Rec): UpdateResult {
    const at = iso(r.dueAt!);
    let reason: SkipReason;
    let why: string;
    if (r.wait === 'retry') {
      reason = 'retry-pending';
      why = `the last attempt failed (${r.lastError?.message ?? 'unknown error'}); the next attempt is at ${at}`;
    } else if (r.wait === 'account') {
      reason = 'account-wait';
      why = `the provider asked to wait until ${at} before the next request`;
    } else {
      reason = 'min-interval';
      why = `it was written less than ${Math.round(this.minIntervalMs / 1000)} s ago; it will be sent at ${at}`;
    }
    return {
      ...this.result(r, 'skipped', r.desired!, `${r.hostname} → ${r.desired} not sent yet: ${why}.`),
      reason,
      nextRetryAt: at,
    };
  }

  private stoppedResult(r: Rec, stop: StopInfo): UpdateResult {
    const scope = this.gate.stop ? 'this account' : r.hostname;
    return {
      ...this.result(
        r,
        'skipped',
        r.desired!,
        `Not sent: updates for ${scope} are stopped since the provider answered "${stop.message}". ` +
          'Fix the account or name and deploy, or send msg.reset = true.',
      ),
      reason: 'stopped',
      stopped: true,
      cause: stop.code,
    };
  }

  private result(r: Rec, status: UpdateResult['status'], address: string, message: string, ms = 0): UpdateResult {
    // Nothing was sent for an `unchanged` result made here; a skipped one reports the attempts so far.
    const attempts = status === 'unchanged' ? 0 : r.attempts;
    return {
      hostname: r.hostname,
      family: r.family,
      status,
      address,
      message: this.redactor.text(message),
      attempts,
      ms,
    };
  }

  // ---------------------------------------------------------------- sending

  /** Read (when useful) and write the records, in batches; one result per record into `out`. */
  private async send(recs: Rec[], out: Map<Rec, UpdateResult>): Promise<void> {
    let pending = recs;
    // A conditional provider checks each record in the write itself (a stale saved state makes the
    // condition fail, and the provider reads then): no read per name before it.
    if (this.provider.getAddresses && !this.provider.conditional && pending.length)
      pending = await this.readFirst(pending, out);
    for (const batch of this.batches(pending)) {
      if (this.stopped) return;
      const live: Rec[] = [];
      for (const r of batch.recs) {
        const stop = this.doc!.stops.hosts[r.hostname];
        if (stop) out.set(r, this.stoppedResult(r, stop));
        // An earlier call of this run got an account-wide wait: the rest waits too.
        else if (this.gate.notBefore > this.clock.now()) out.set(r, this.delay(r, this.gate.notBefore, 'account'));
        else live.push(r);
      }
      const hostnames = [...new Set(live.map((r) => r.hostname))];
      if (hostnames.length === 0) continue;
      for (const r of live) r.attempts++;
      const t0 = this.clock.now();
      let answer: RecordResult[];
      try {
        const expected = this.provider.conditional
          ? new Map(live.flatMap((r) => (r.confirmed ? [[r.key, r.confirmed.address] as const] : [])))
          : undefined;
        answer = await this.provider.setAddresses({
          hostnames,
          addresses: batch.addresses,
          signal: this.abort.signal,
          ...(expected ? { expected } : {}),
        });
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof AccountStoppedError || e instanceof AccountWaitError) {
          // Refused before anything was sent: not an attempt.
          for (const r of live) {
            r.attempts--;
            out.set(r, this.refused(r, e));
          }
          continue;
        }
        const err = this.clean(toDdnsError(e));
        const ms = this.clock.now() - t0;
        this.callFailed(err);
        for (const r of live) out.set(r, this.failed(r, err, ms));
        continue;
      }
      if (this.stopped) return;
      const ms = this.clock.now() - t0;
      let anyOk = false;
      let lastErr: DdnsError | undefined;
      // the provider's answer by name and family, the first for each (one pass: a call can hold 1,000 names)
      const answered = new Map<string, RecordResult>();
      for (const x of answer) {
        const k = `${nameKey(x.hostname)}|${x.family}`;
        if (!answered.has(k)) answered.set(k, x);
      }
      for (const r of live) {
        const a = answered.get(`${r.hostname}|${r.family}`);
        if (!a) {
          lastErr = this.clean(
            transient(
              say('update.no_answer', "The provider's answer said nothing about __host__ (__family__).", {
                host: r.hostname,
                family: r.family,
              }),
              { code: 'no_answer' },
            ),
          );
          out.set(r, this.failed(r, lastErr, ms));
        } else if (a.outcome === 'failed') {
          lastErr = this.clean(a.error ?? transient(a.message, { code: 'failed' }));
          out.set(r, this.failed(r, lastErr, ms, a.message));
        } else {
          anyOk = true;
          out.set(
            r,
            this.succeeded(
              r,
              a.outcome,
              this.redactor.text(a.message),
              ms,
              true,
              a.said && this.redactor.sentence(a.said),
            ),
          );
        }
      }
      if (anyOk) this.callSucceeded();
      else if (lastErr) this.callFailed(lastErr);
    }
  }

  /**
   * Each record is read before its first write after the engine starts, even when the saved state
   * names a confirmed address: that may be stale (a store that flushes late, a crash after the
   * write). Those already right are confirmed without a write.
   */
  private async readFirst(recs: Rec[], out: Map<Rec, UpdateResult>): Promise<Rec[]> {
    const rest: Rec[] = [];
    for (const r of recs) {
      if (this.stopped) return [];
      if (r.force || r.read) {
        rest.push(r);
        continue;
      }
      const stop = this.doc!.stops.hosts[r.hostname];
      if (stop) {
        out.set(r, this.stoppedResult(r, stop));
        continue;
      }
      if (this.gate.notBefore > this.clock.now()) {
        out.set(r, this.delay(r, this.gate.notBefore, 'account'));
        continue;
      }
      const t0 = this.clock.now();
      let held: string[];
      try {
        held = await this.provider.getAddresses!(r.hostname, r.family, this.abort.signal);
      } catch (e) {
        if (this.stopped) return [];
        if (e instanceof AccountStoppedError || e instanceof AccountWaitError) {
          out.set(r, this.refused(r, e));
          continue;
        }
        const err = this.clean(toDdnsError(e));
        r.attempts++;
        this.callFailed(err);
        out.set(r, this.failed(r, err, this.clock.now() - t0));
        continue;
      }
      if (this.stopped) return [];
      r.read = true;
      const ms = this.clock.now() - t0;
      const normalised = held.map((h) => h.trim().toLowerCase());
      if (normalised.length === 1 && normalised[0] === r.desired!.toLowerCase()) {
        this.callSucceeded();
        const read = say(
          'update.read_unchanged',
          '__host__ already holds __address__ (read from the provider): nothing written.',
          { host: r.hostname, address: r.desired! },
        );
        out.set(r, this.succeeded(r, 'unchanged', english(read), ms, false, read));
      } else rest.push(r);
    }
    return rest;
  }

  /** Names grouped by the addresses they need, in order, cut to maxHostsPerCall. */
  private batches(recs: Rec[]): Array<{ addresses: AddressSet; recs: Rec[] }> {
    const byHost = new Map<string, { addresses: AddressSet; recs: Rec[] }>();
    for (const r of recs) {
      let h = byHost.get(r.hostname);
      if (!h) byHost.set(r.hostname, (h = { addresses: {}, recs: [] }));
      (h.addresses as Partial<Record<Family, Ip>>)[r.family] = r.desired; // desired is of r.family: it came from addresses[family]
      h.recs.push(r);
    }
    const groups = new Map<string, { addresses: AddressSet; hosts: Array<{ recs: Rec[] }> }>();
    for (const h of byHost.values()) {
      const sig = `${h.addresses.ipv4 ?? ''}|${h.addresses.ipv6 ?? ''}`;
      let g = groups.get(sig);
      if (!g) groups.set(sig, (g = { addresses: h.addresses, hosts: [] }));
      g.hosts.push(h);
    }
    const max = Math.max(1, Math.floor(this.provider.maxHostsPerCall) || 1);
    const out: Array<{ addresses: AddressSet; recs: Rec[] }> = [];
    for (const g of groups.values()) {
      for (let i = 0; i < g.hosts.length; i += max) {
        out.push({ addresses: g.addresses, recs: g.hosts.slice(i, i + max).flatMap((h) => h.recs) });
      }
    }
    return out;
  }

  private succeeded(
    r: Rec,
    outcome: 'updated' | 'unchanged',
    message: string,
    ms: number,
    written: boolean,
    sentence?: Sentence,
  ): UpdateResult {
    const now = this.clock.now();
    const address = r.desired!;
    const res: UpdateResult = {
      hostname: r.hostname,
      family: r.family,
      status: outcome,
      address,
      message,
      attempts: r.attempts,
      ms,
      ...(sentence ? { sentence } : {}),
    };
    r.confirmed = { address, at: now };
    this.doc!.records[r.key] = { address, at: now };
    if (written) r.lastWriteAt = now;
    r.failures = 0;
    r.lastError = undefined;
    this.cancelPending(r);
    return res;
  }

  private failed(r: Rec, err: DdnsError, ms: number, answer?: string): UpdateResult {
    const now = this.clock.now();
    const address = r.desired!;
    const serverMs = serverWait(err.retryAfterMs);
    const capped =
      err.kind === 'transient' && serverMs >= MAX_SERVER_WAIT_MS
        ? `; the provider asked to wait ${MAX_SERVER_WAIT_MS / 3_600_000} h or longer, so the next attempt is in ${MAX_SERVER_WAIT_MS / 3_600_000} h (the longest wait kept)`
        : '';
    const message = this.redactor.text(
      (answer && !err.message.includes(answer) ? `${err.message} (${answer})` : err.message) + capped,
    );
    const res: UpdateResult = {
      hostname: r.hostname,
      family: r.family,
      status: 'failed',
      address,
      message,
      attempts: r.attempts,
      ms,
      reason: err.code,
      ...(err.sentence ? { sentence: err.sentence } : {}),
    };
    // The record's state is unknown now: never remembered as done.
    r.confirmed = undefined;
    delete this.doc!.records[r.key];
    r.lastError = err;
    if (err.kind === 'fatal') {
      const stop: StopInfo = { code: err.code, message: this.redactor.text(err.message), since: now };
      if (err.scope === 'account') {
        // The guarded provider has stopped the account (gate) on this engine's request: everything
        // waits for the stop to be lifted.
        this.ownStop = this.gate.stop;
        for (const o of this.recs.values()) if (o.desired !== undefined) hold(o);
      } else {
        this.doc!.stops.hosts[r.hostname] ??= stop;
        for (const o of this.recs.values()) if (o.hostname === r.hostname && o.desired !== undefined) hold(o);
      }
      this.enterFailing(err, now);
      return { ...res, stopped: true, cause: err.code };
    }
    if (err.kind === 'input') {
      // Nothing was sent and sending again cannot help: not retried, not stopped.
      this.cancelPending(r);
      return res;
    }
    r.failures++;
    const waitMs = retryDelay(r.failures, this.backoff, err.retryAfterMs);
    // The guarded provider set the account's wait when the answer came, a moment ago: the same
    // instant as this record's retry, so that both say one time (also after a redeploy).
    if (err.scope === 'account' && serverMs) this.gate.waitUntil(now + serverMs);
    r.dueAt = now + waitMs;
    r.wait = 'retry';
    return { ...res, nextRetryAt: iso(r.dueAt) };
  }

  /**
   * The guarded provider refused to send: the account is stopped (the address is held until the
   * stop is lifted) or the account's wait lasts (the write is due when it ends).
   */
  private refused(r: Rec, e: AccountStoppedError | AccountWaitError): UpdateResult {
    if (e instanceof AccountWaitError) return this.delay(r, Math.max(e.notBefore, this.gate.notBefore), 'account');
    hold(r);
    return this.stoppedResult(r, e.stop);
  }

  private callSucceeded(): void {
    const now = this.clock.now();
    const ev = this.latch.success(now, { recover: !this.gate.stop && Object.keys(this.doc!.stops.hosts).length === 0 });
    if (!ev?.detail) return;
    this.doc!.failing = undefined;
    this.opts.onAlert?.({
      state: 'recovered',
      account: this.label,
      error: ev.detail.error,
      code: ev.detail.code,
      since: iso(ev.since),
      at: iso(now),
    });
  }

  private callFailed(err: DdnsError): void {
    // Fatal answers alert through enterFailing, input errors never: both only count here.
    this.alertIf(
      this.latch.failure(this.clock.now(), { quiet: err.kind !== 'transient', detail: this.alertDetail(err) }),
    );
  }

  private enterFailing(err: DdnsError, now: number): void {
    this.alertIf(this.latch.trip(now, this.alertDetail(err)));
  }

  private alertDetail(err: DdnsError): { error: string; code: string } {
    return { error: this.redactor.text(err.message), code: err.code };
  }

  private alertIf(ev: LatchEvent<'failing', { error: string; code: string }> | undefined): void {
    if (!ev?.detail) return;
    const { error, code } = ev.detail;
    this.doc!.failing = { since: ev.since, error, code };
    this.opts.onAlert?.({ state: 'failing', account: this.label, error, code, since: iso(ev.since) });
  }

  private clean(err: DdnsError): DdnsError {
    return this.redactor.error(err);
  }

  // ---------------------------------------------------------------- timer

  /** One timer, for the earliest pending write. */
  private arm(): void {
    if (this.stopped) return;
    let next: number | undefined;
    for (const r of this.recs.values()) {
      if (r.dueAt !== undefined && r.desired !== undefined && (next === undefined || r.dueAt < next)) next = r.dueAt;
    }
    if (next === undefined) this.sched.cancel();
    else this.sched.at(next);
  }

  private async runDue(): Promise<void> {
    if (this.stopped) return;
    const now = this.clock.now();
    const due: Rec[] = [];
    for (const r of this.recs.values()) {
      if (r.dueAt === undefined || r.desired === undefined || r.dueAt > now) continue;
      if (this.gate.notBefore > now) {
        r.dueAt = this.gate.notBefore;
        r.wait = 'account';
        continue;
      }
      r.dueAt = undefined;
      r.wait = undefined;
      due.push(r);
    }
    const results = await this.writeHeld(due);
    this.arm();
    await this.persist();
    if (results.length && !this.stopped) this.opts.onResults?.(results);
  }

  /** Send records whose address is held (due retries, released stops), skipping confirmed ones. */
  private async writeHeld(recs: Rec[]): Promise<UpdateResult[]> {
    const out = new Map<Rec, UpdateResult>();
    const toWrite: Rec[] = [];
    for (const r of recs) {
      if (!r.force && r.confirmed?.address === r.desired) {
        out.set(
          r,
          this.result(r, 'unchanged', r.desired!, `${r.hostname} already points to ${r.desired}: nothing sent.`),
        );
        this.cancelPending(r);
      } else toWrite.push(r);
    }
    await this.send(toWrite, out);
    return recs.map((r) => out.get(r)!).filter((x) => x !== undefined);
  }

  /** After a stop is lifted: held addresses are sent now (or when their wait ends). */
  private async release(): Promise<UpdateResult[]> {
    const now = this.clock.now();
    const ready: Rec[] = [];
    const out: UpdateResult[] = [];
    for (const r of this.recs.values()) {
      if (r.desired === undefined || r.dueAt !== undefined) continue;
      const held = r.heldUntil;
      r.heldUntil = undefined;
      // The later of the account's wait and the record's own held retry time (both were ordered).
      if (held !== undefined && held > now && held >= this.gate.notBefore) out.push(this.delay(r, held, 'retry'));
      else if (this.gate.notBefore > now) out.push(this.delay(r, this.gate.notBefore, 'account'));
      else if (r.lastWriteAt !== undefined && now - r.lastWriteAt < this.minIntervalMs)
        out.push(this.delay(r, r.lastWriteAt + this.minIntervalMs, 'interval'));
      else ready.push(r);
    }
    return [...out, ...(await this.writeHeld(ready))];
  }

  private onGateChange(stop: StopInfo | undefined): void {
    if (stop || this.clearingGate || this.stopped) return;
    // Another user of the account lifted the stop: send what this engine held back.
    void this.exclusive(async () => {
      if (this.stopped || !this.doc) return;
      const results = await this.release();
      this.arm();
      await this.persist();
      if (results.length && !this.stopped) this.opts.onResults?.(results);
    }).catch((e) => this.autoFailed(e));
  }

  // ---------------------------------------------------------------- state

  private rec(hostname: Hostname, family: Family): Rec {
    const key = recordKey(hostname, family);
    let r = this.recs.get(key);
    if (!r) {
      const c = this.doc!.records[key];
      r = {
        hostname,
        family,
        key,
        confirmed: c ? { ...c } : undefined,
        force: false,
        attempts: 0,
        failures: 0,
        read: false,
        lastWriteAt: c?.at,
      };
      this.recs.set(key, r);
    }
    return r;
  }

  /** Load the saved state once (the records whose pending write it restored, the first time). */
  private async load(): Promise<Rec[]> {
    if (this.doc) return [];
    let raw: unknown;
    try {
      raw = await this.store.load();
    } catch (e) {
      this.warn(
        say('update.state_unread', 'could not read the saved update state (__error__); starting without it', {
          error: failureSaid(e),
        }),
      );
    }
    const { doc, note, lifted } = adoptState(raw, this.opts.accountKey, this.opts.configKey);
    if (note) this.warn(note);
    this.doc = doc;
    if (doc.failing)
      this.latch.restore({
        alerted: true,
        since: doc.failing.since,
        failures: 0,
        detail: { error: doc.failing.error, code: doc.failing.code },
      });
    const now = this.clock.now();
    // Waits and stops come back into the account's gate (a new one after a full deploy or a restart).
    if (doc.notBefore !== undefined) this.gate.waitUntil(Math.min(doc.notBefore, now + MAX_SERVER_WAIT_MS));
    if (lifted) this.withoutGateEvents(() => this.gate.lift(lifted));
    if (doc.stops.account && this.gate.restore(doc.stops.account) && doc.stops.accountOwn)
      this.ownStop = doc.stops.account;
    const restored: Rec[] = [];
    let dropped = false;
    for (const [key, p] of Object.entries(doc.pending)) {
      const r = this.restorePending(key, p, now);
      if (r) restored.push(r);
      else dropped = true;
    }
    if (dropped)
      this.warn(say('update.pending_dropped', 'a saved pending update could not be read and has been dropped'));
    return restored;
  }

  /** A saved pending write back into its record (the saved values are parsed again), or undefined. */
  private restorePending(key: string, p: PendingWrite, now: number): Rec | undefined {
    const cut = key.lastIndexOf('|');
    const family = key.slice(cut + 1) as Family;
    const name = normaliseHostname(key.slice(0, cut));
    if (cut < 0 || !FAMILIES.includes(family) || !name.ok || recordKey(name.name, family) !== key) return undefined;
    let address: Ip;
    try {
      address = parsePublishable(p.address, family).address;
    } catch {
      return undefined;
    }
    const r = this.rec(name.name, family);
    r.desired = address;
    r.force = p.force === true;
    r.failures = p.failures;
    r.attempts = p.attempts;
    r.lastError = p.error ? transient(p.error.message, { code: p.error.code }) : undefined;
    // No wait is longer than a day; a write held by a stop that no longer holds goes out now.
    r.dueAt =
      p.dueAt !== undefined
        ? Math.min(p.dueAt, now + MAX_SERVER_WAIT_MS)
        : this.stoppedFor(r.hostname)
          ? undefined
          : now;
    r.wait = r.dueAt === undefined ? undefined : (p.wait ?? 'retry');
    if (p.heldUntil !== undefined) r.heldUntil = Math.min(p.heldUntil, now + MAX_SERVER_WAIT_MS);
    return r;
  }

  private async persist(): Promise<void> {
    if (!this.doc || this.stopped) return;
    const stop = this.gate.stop;
    this.doc.stops.account = stop;
    this.doc.stops.accountOwn = sameStop(stop, this.ownStop) ? true : undefined;
    this.doc.notBefore = this.gate.notBefore > this.clock.now() ? this.gate.notBefore : undefined;
    const pending: Record<string, PendingWrite> = {};
    for (const r of this.recs.values()) {
      if (r.desired === undefined) continue;
      pending[r.key] = {
        address: r.desired,
        dueAt: r.dueAt,
        wait: r.dueAt === undefined ? undefined : r.wait,
        ...(r.heldUntil !== undefined && { heldUntil: r.heldUntil }),
        failures: r.failures,
        attempts: r.attempts,
        force: r.force || undefined,
        error: r.lastError ? { code: r.lastError.code, message: r.lastError.message } : undefined,
      };
    }
    this.doc.pending = pending;
    try {
      await this.store.save(this.doc);
    } catch (e) {
      this.warn(
        say(
          'update.state_unsaved',
          'could not save the update state (__error__); after a restart, names may be sent once more',
          { error: failureSaid(e) },
        ),
      );
    }
  }

  /** Change the gate without this engine reacting to it (its own change). */
  private withoutGateEvents(fn: () => void): void {
    this.clearingGate = true;
    try {
      fn();
    } finally {
      this.clearingGate = false;
    }
  }

  /** A write the engine made on its own (a retry, a delayed write) failed outside of any result. */
  private autoFailed(e: unknown): void {
    this.warn(say('update.auto_failed', 'automatic update failed: __error__', { error: failureSaid(e) }));
  }

  private warn(said: Sentence): void {
    if (this.stopped) return;
    const clean = this.redactor.sentence(said);
    this.opts.onWarning?.(english(clean), clean);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.sched.exclusive(fn);
  }
}

/** An ISO time; a time beyond what Date can show (never expected: waits are clamped) shows as the latest one. */
const iso = (ms: number) =>
  new Date(Number.isFinite(ms) ? Math.min(Math.max(ms, -8.64e15), 8.64e15) : 8.64e15).toISOString();

/** A stop holds the record: its pending write waits for the stop to be lifted, keeping a retry time. */
function hold(r: Rec): void {
  if (r.dueAt !== undefined && r.wait === 'retry') r.heldUntil = Math.max(r.heldUntil ?? 0, r.dueAt);
  r.dueAt = undefined;
  r.wait = undefined;
}
