/**
 * The account-wide stop after a fatal answer, shared by everything that uses one provider account
 * (every dns-update node on it, cert-renew): after `badauth` or a blocked account, nobody sends
 * another request with these credentials until the account's configuration changes (a new gate is
 * made when the account node is redeployed) or someone clears it (msg.reset).
 */
import { DdnsError } from '../errors';
import { serial } from '../schedule';
import type { DnsProvider, RecordResult } from '../providers/types';
import type { StopInfo } from './types';

export class AccountGate {
  private info?: StopInfo;
  private readonly listeners = new Set<(stop: StopInfo | undefined) => void>();

  /** Why the account is stopped, or undefined when requests may be sent. */
  get stop(): StopInfo | undefined {
    return this.info;
  }

  /** Stop the account. The first reason is kept when it is stopped already. */
  block(info: StopInfo): void {
    if (this.info) return;
    this.info = { ...info };
    this.emit();
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
      `the provider account "${label}" is stopped after an answer that needs your attention: ${stop.message}`,
      {
        code: 'account_stopped',
        scope: 'account',
      },
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
 * by the same gate returns it unchanged.
 */
export function guardProvider(inner: DnsProvider, gate: AccountGate, o: GuardOptions = {}): DnsProvider {
  if (gateOf(inner) === gate) return inner;
  const now = o.now ?? Date.now;
  const label = o.label ?? inner.id;
  const queue = serial();
  const stopOn = (e: unknown) => {
    if (e instanceof DdnsError && e.kind === 'fatal' && e.scope === 'account' && !(e instanceof AccountStoppedError)) {
      gate.block({ code: e.code, message: o.redact ? o.redact(e.message) : e.message, since: now() });
    }
  };
  const call = <T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const go = async () => {
      signal?.throwIfAborted();
      const stop = gate.stop;
      if (stop) throw new AccountStoppedError(stop, label);
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
    setAddresses: (c) => call(() => inner.setAddresses(c), c.signal),
    [GATE]: gate,
  };
  if (inner.getAddresses) p.getAddresses = (h, f, s) => call(() => inner.getAddresses!(h, f, s), s);
  if (inner.setTxt) p.setTxt = (n, v, s) => call(() => inner.setTxt!(n, v, s), s);
  if (inner.deleteTxt) p.deleteTxt = (n, v, s) => call(() => inner.deleteTxt!(n, v, s), s);
  if (inner.close) p.close = () => inner.close!();
  return p;
}
