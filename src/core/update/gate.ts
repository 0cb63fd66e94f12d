/**
 * What everything that uses one provider account (every dns-update node on it, cert-renew) shares:
 *
 * - the account-wide stop after a fatal answer: after `badauth` or a blocked account, nobody sends
 *   another request with these credentials until the account's configuration changes (a new gate
 *   is made when the account node is redeployed), the configuration of the caller whose request
 *   got the answer changes (it lifts its own stop, see the update engine's state), or someone
 *   clears it (msg.reset);
 * - the account's not-before time: a provider's account-wide wait (a 429 with Retry-After, which
 *   Cloudflare applies to every call of the token; dyndns2 `911`/`dnserr`) holds for every user.
 *
 * The update engines save both in their state and restore them into a new gate after a redeploy or
 * a restart.
 */
import { DdnsError, say } from '../errors';
import { serial, serverWait } from '../schedule';
import type { DnsProvider, RecordResult } from '../providers/types';
import type { StopInfo } from './types';

const stopId = (s: StopInfo) => `${s.code}|${s.since}`;

export class AccountGate {
  private info?: StopInfo;
  private until = 0;
  /** Stops lifted because the configuration that caused them changed: never restored again. */
  private readonly lifted = new Set<string>();
  private readonly listeners = new Set<(stop: StopInfo | undefined) => void>();

  /** Why the account is stopped, or undefined when requests may be sent. */
  get stop(): StopInfo | undefined {
    return this.info;
  }

  /** No request before this time (epoch ms; 0 or past: none). */
  get notBefore(): number {
    return this.until;
  }

  /** The provider asked the whole account to wait until `time` (epoch ms); the latest wait wins. */
  waitUntil(time: number): void {
    if (Number.isFinite(time) && time > this.until) this.until = time;
  }

  /** Stop the account. The first reason is kept when it is stopped already. */
  block(info: StopInfo): void {
    if (this.info) return;
    this.info = { ...info };
    this.emit();
  }

  /**
   * A saved stop, after a redeploy or a restart: blocks like `block`, unless that stop was lifted
   * (its cause's configuration changed). Returns whether the gate holds that stop now.
   */
  restore(info: StopInfo): boolean {
    if (this.lifted.has(stopId(info))) return false;
    this.block(info);
    return this.info !== undefined && stopId(this.info) === stopId(info);
  }

  /**
   * The configuration whose request caused `info` changed: clear the gate when that stop is what
   * blocks it, and never restore it again (other users of the account may still have it saved).
   */
  lift(info: StopInfo): void {
    this.lifted.add(stopId(info));
    if (this.info && stopId(this.info) === stopId(info)) this.clear();
  }

  /** Allow requests again. */
  clear(): void {
    if (!this.info) return;
    this.info = undefined;
    this.emit();
  }

  /** Called on every change; returns the unsubscribe function. */
  subscribe(fn: (stop: StopInfo | undefined) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of [...this.listeners]) fn(this.info);
  }
}

/** Thrown by a guarded provider while its account is stopped: no request was made. */
export class AccountStoppedError extends DdnsError {
  constructor(
    readonly stop: StopInfo,
    label: string,
  ) {
    super(
      'fatal',
      say(
        'update.account_stopped',
        'the provider account "__label__" is stopped after an answer that needs your attention: __reason__',
        { label, reason: stop.message },
      ),
      {
        code: 'account_stopped',
        scope: 'account',
      },
    );
  }
}

/**
 * Thrown by a guarded provider while the provider's account-wide wait lasts: no request was made.
 * Transient, with the time left as `retryAfterMs`.
 */
export class AccountWaitError extends DdnsError {
  constructor(
    readonly notBefore: number,
    now: number,
    label: string,
  ) {
    super(
      'transient',
      `the provider asked the account "${label}" to wait until ${new Date(notBefore).toISOString()} before the next request: nothing was sent`,
      { code: 'account_wait', scope: 'account', retryAfterMs: Math.max(1, notBefore - now) },
    );
  }
}

export interface GuardOptions {
  /** Shown in the stop error. Default: the provider id. */
  label?: string;
  /** When the stop happened (epoch ms). Default Date.now. */
  now?: () => number;
  /** Applied to the stop message. */
  redact?: (text: string) => string;
}

const GATE = Symbol('account gate');
type Guarded = DnsProvider & { [GATE]?: AccountGate };

/** The gate a provider is guarded by (see guardProvider), if any. */
export function gateOf(provider: DnsProvider): AccountGate | undefined {
  return (provider as Guarded)[GATE];
}

/**
 * The provider of an account with the account stop built in: requests are made one after another,
 * the gate is checked right before each one (so calls already queued when a fatal answer came are
 * refused too), a stopped account answers `AccountStoppedError` without any request, and a call
 * that ends in a fatal account-scope error stops the account. Guarding a provider already guarded
 * by the same gate returns it unchanged. The account's wait works the same way: a transient
 * account-scope answer with a wait (clamped into 1 s – 24 h) sets the gate's not-before time, and
 * until then every call is refused with `AccountWaitError` without a request.
 */
export function guardProvider(inner: DnsProvider, gate: AccountGate, o: GuardOptions = {}): DnsProvider {
  if (gateOf(inner) === gate) return inner;
  const now = o.now ?? Date.now;
  const label = o.label ?? inner.id;
  const queue = serial();
  const stopOn = (e: unknown) => {
    if (!(e instanceof DdnsError) || e.scope !== 'account') return;
    if (e instanceof AccountStoppedError || e instanceof AccountWaitError) return;
    if (e.kind === 'fatal')
      gate.block({ code: e.code, message: o.redact ? o.redact(e.message) : e.message, since: now() });
    else if (e.kind === 'transient' && serverWait(e.retryAfterMs) > 0)
      gate.waitUntil(now() + serverWait(e.retryAfterMs));
  };
  const call = <T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const go = async () => {
      signal?.throwIfAborted();
      const stop = gate.stop;
      if (stop) throw new AccountStoppedError(stop, label);
      const t = now();
      if (gate.notBefore > t) throw new AccountWaitError(gate.notBefore, t, label);
      try {
        const answer = await fn();
        // A fatal account answer can also come as the answer for one name of a call.
        if (Array.isArray(answer))
          for (const r of answer as RecordResult[]) if (r?.outcome === 'failed') stopOn(r.error);
        return answer;
      } catch (e) {
        stopOn(e);
        throw e;
      }
    };
    const run = queue.run(go);
    if (!signal) return run;
    // A caller that gives up while waiting its turn is answered at once (its turn sends nothing).
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };
  const p: Guarded = {
    id: inner.id,
    maxHostsPerCall: inner.maxHostsPerCall,
    txtSerialised: inner.txtSerialised,
    txtTarget: inner.txtTarget,
    conditional: inner.conditional,
    minIntervalMs: inner.minIntervalMs,
    setAddresses: (c) => call(() => inner.setAddresses(c), c.signal),
    [GATE]: gate,
  };
  if (inner.getAddresses) p.getAddresses = (h, f, s) => call(() => inner.getAddresses!(h, f, s), s);
  if (inner.setTxt) p.setTxt = (n, v, s) => call(() => inner.setTxt!(n, v, s), s);
  if (inner.deleteTxt) p.deleteTxt = (n, v, s) => call(() => inner.deleteTxt!(n, v, s), s);
  if (inner.close) p.close = () => inner.close!();
  return p;
}
