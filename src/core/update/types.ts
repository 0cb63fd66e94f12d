/**
 * The update engine's public shapes: what callers give it (requests, a store, a clock) and what it
 * gives back (one result per name and family, alerts). These are the user-facing contract of
 * dns-update's outputs, so keep them stable.
 */
import type { Family } from '../address';
import type { Sentence } from '../errors';
import type { AddressSet } from '../address';
import type { Hostname } from '../hostname';

export type UpdateStatus = 'updated' | 'unchanged' | 'failed' | 'skipped';

/**
 * Short machine-readable reasons of `skipped` results (a `failed` result carries the provider's
 * error code instead, e.g. `badauth`, `timeout`, `http_503`).
 * - `min-interval`: the record was written less than the minimum interval ago; the write is
 *   delayed until `nextRetryAt`, not dropped.
 * - `retry-pending`: an earlier write failed and its retry is scheduled at `nextRetryAt`; the
 *   newest address is the one that will be sent.
 * - `account-wait`: the provider asked the whole account to wait (rate limit, maintenance).
 * - `stopped`: a fatal answer stopped updates (see `stopped`).
 * - `no-address`: the input carried no address of a family the caller asked for.
 * - `temporary-address`: the IPv6 address of this host's name is a temporary (privacy) one, or was
 *   seen only by outside services: the name keeps its AAAA record (see core/ip/host-id.ts).
 */
export type SkipReason =
  'min-interval' | 'retry-pending' | 'account-wait' | 'stopped' | 'no-address' | 'temporary-address';

export interface UpdateResult {
  hostname: string;
  family: Family;
  status: UpdateStatus;
  /** The address that was (or is to be) published. */
  address: string;
  /** What happened, in plain words: the provider's answer, or why nothing was sent. */
  message: string;
  /** Requests made for this address (0 when nothing had to be sent). */
  attempts: number;
  /** Time spent on the provider request that produced this result, ms (0 when none). */
  ms: number;
  /** For failed/skipped: the error code or SkipReason. */
  reason?: string;
  /** For failed/skipped results that will be sent later: when (ISO time). */
  nextRetryAt?: string;
  /** Set when a fatal answer stops updates for this name or account until reset/config change. */
  stopped?: true;
  /** With `stopped`: the code of the fatal answer (e.g. `badauth`). */
  cause?: string;
  /** For failed: the error as a sentence, which `message` begins with in English (for the adapter to translate; not sent). */
  sentence?: Sentence;
}

/** Names and addresses parsed at the boundary (dns-update's input): the engine trusts them. */
export interface UpdateRequest {
  hostnames: readonly Hostname[];
  addresses: AddressSet;
  /** Write even when the address is known to be in place (never bypasses waits or stops). */
  force?: boolean;
}

/** One msg on the alert output: the account started failing, or works again. */
export interface AccountAlert {
  state: 'failing' | 'recovered';
  /** The account's label (name of the config node, or the provider's name). */
  account: string;
  /** The failure (for `recovered`: the failure that has now been overcome). */
  error: string;
  code: string;
  /** ISO time the failing state began. */
  since: string;
  /** For `recovered`: ISO time it recovered. */
  at?: string;
}

/** Where the engine keeps what it must remember across restarts (dns-update: node context). */
export { MemoryStore, type StateStore } from '../store';

/** Time and timers: the core's one clock (src/core/schedule.ts). */
export { systemClock, type Clock } from '../schedule';

/** Why updates are stopped after a fatal answer. */
export interface StopInfo {
  code: string;
  message: string;
  /** epoch ms */
  since: number;
}
