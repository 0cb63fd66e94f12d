/**
 * The account-wide stop after a fatal answer, shared by everything that uses one provider account
 * (every dns-update node on it, cert-renew): after `badauth` or a blocked account, nobody sends
 * another request with these credentials until the account's configuration changes (a new gate is
 * made when the account node is redeployed) or someone clears it (msg.reset).
 */
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
