/**
 * The provider contract: what every DNS provider implements (learned from libdns: small verbs).
 *
 * - `setAddresses` makes the A (ipv4) and/or AAAA (ipv6) records of the given names hold the given
 *   addresses. It returns one RecordResult per name and family that was asked for. A failure that
 *   concerns the whole request/account is thrown as a DdnsError (kind transient or fatal); a failure
 *   of one name in a multi-name answer is returned as a `failed` RecordResult carrying its error.
 * - `getAddresses` (optional) reads what a record holds now, when the provider offers a cheap read
 *   (Cloudflare API, RFC 2136 servers). Used to avoid writing a value that is already there.
 * - `setTxt` / `deleteTxt` (optional) manage TXT records for ACME DNS-01 (cert-renew).
 *   `txtSerialised` says two TXT values on one name cannot coexist (DuckDNS): challenges run one
 *   after another.
 *
 * Providers do not retry, remember or throttle: the update engine does that, for every provider.
 * Every message they produce is already redacted.
 */
import type { Family } from '../ip/classify';

export type Outcome = 'updated' | 'unchanged' | 'failed';

export interface AddressSet {
  ipv4?: string;
  ipv6?: string;
}

export interface RecordResult {
  hostname: string;
  family: Family;
  outcome: Outcome;
  /** The provider's answer in words a person understands, e.g. `good 8.8.8.8: record updated`. */
  message: string;
  /** Present when outcome is `failed`. */
  error?: import('../errors').DdnsError;
}

export interface ProviderCall {
  hostnames: string[];
  addresses: AddressSet;
  signal?: AbortSignal;
}

export interface DnsProvider {
  readonly id: string;
  /** Largest number of names one call to setAddresses may carry (the engine batches). */
  readonly maxHostsPerCall: number;
  setAddresses(call: ProviderCall): Promise<RecordResult[]>;
  getAddresses?(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]>;
  setTxt?(name: string, value: string, signal?: AbortSignal): Promise<void>;
  deleteTxt?(name: string, value: string, signal?: AbortSignal): Promise<void>;
  readonly txtSerialised?: boolean;
  /** Release pooled resources (sockets). */
  close?(): Promise<void>;
}

/** What every provider factory receives besides its own validated settings. */
export interface ProviderEnv {
  /** Timeout of one request, ms. */
  timeoutMs?: number;
  /** Local address to send from. */
  localAddress?: string;
}
