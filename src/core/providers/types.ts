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
import type { z } from 'zod';
import type { AddressSet, Family } from '../address';
import type { Hostname } from '../hostname';

export type { AddressSet };

export type Outcome = 'updated' | 'unchanged' | 'failed';

export interface RecordResult {
  hostname: string;
  family: Family;
  outcome: Outcome;
  /** The provider's answer in words a person understands, e.g. `good 8.8.8.8: record updated`. */
  message: string;
  /** The message as a sentence to say in the user's language (see kit.ts `said`), when written as one. */
  said?: import('../errors').Sentence;
  /** Present when outcome is `failed`. */
  error?: import('../errors').DdnsError;
}

/** Names and addresses already parsed (src/core/hostname.ts, src/core/address.ts): a provider trusts them. */
export interface ProviderCall {
  hostnames: Hostname[];
  addresses: AddressSet;
  signal?: AbortSignal;
  /**
   * What the caller last confirmed, per `hostname|family` (hostname as in `hostnames`). A provider
   * that writes conditionally (`conditional`) makes it the write's condition; others ignore it.
   */
  expected?: ReadonlyMap<string, string>;
}

export interface DnsProvider {
  readonly id: string;
  /** Largest number of names one call to setAddresses may carry (the engine batches). */
  readonly maxHostsPerCall: number;
  setAddresses(call: ProviderCall): Promise<RecordResult[]>;
  getAddresses?(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]>;
  /**
   * setAddresses writes on the condition that each record holds what `expected` names (or nothing
   * when it names nothing), and reads and decides afresh only when the condition fails (RFC 2136
   * prerequisites): the caller need not read before a write, whatever it remembers.
   */
  readonly conditional?: boolean;
  setTxt?(name: string, value: string, signal?: AbortSignal): Promise<void>;
  deleteTxt?(name: string, value: string, signal?: AbortSignal): Promise<void>;
  readonly txtSerialised?: boolean;
  /**
   * The one name this provider writes TXT records at, when it has one (acme-dns: the account's
   * fulldomain): the name a challenge delegation's CNAME must point to.
   */
  readonly txtTarget?: string;
  /**
   * The provider may be a DNS server inside the network (RFC 2136 to your own BIND, the dry run):
   * unique-local IPv6 addresses (fc00::/7) may be sent to it. Public providers never get them.
   */
  readonly localDns?: boolean;
  /** The provider's documented shortest time between two writes of a record, ms (e.g. Zoneedit's 600 s). */
  readonly minIntervalMs?: number;
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

/**
 * Secrets: every provider names its secret settings with one of SECRET_KEYS. The account config
 * node stores exactly these as Node-RED credentials (encrypted, never exported); all other settings
 * are ordinary config properties.
 */
/** The only setting names that hold secrets, shared by all providers. */
export const SECRET_KEYS = ['password', 'token', 'tsigSecret', 'apiUser'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** One field of the account edit dialog (rendered by the editor from this description). */
export interface ProviderField {
  /** Settings key; a SecretKey when kind is `password`. */
  key: string;
  label: string;
  /**
   * `url`: an address the provider sends its requests to (with the account's secrets);
   * `email`: an e-mail address.
   */
  kind: 'text' | 'password' | 'number' | 'select' | 'checkbox' | 'url' | 'email';
  required?: boolean;
  placeholder?: string;
  /** One sentence of help shown under the field. */
  help?: string;
  options?: Array<{ value: string; label: string }>;
  default?: string | number | boolean;
  /** Advanced fields (endpoint overrides …) are shown folded. */
  advanced?: boolean;
}

/**
 * Where the editor lists a provider: free dynamic-DNS services, registrars and DNS hosts, clouds,
 * self-hosted servers, local (split-horizon) DNS. Without a group: listed first (the dry run).
 */
export const PROVIDER_GROUPS = ['ddns', 'registrar', 'cloud', 'self-hosted', 'local'] as const;
export type ProviderGroup = (typeof PROVIDER_GROUPS)[number];

export interface ProviderDefinition<S extends z.ZodType = z.ZodType> {
  id: string;
  label: string;
  group?: ProviderGroup;
  /** Validates the account settings (config fields and credentials together). */
  settings: S;
  fields: readonly ProviderField[];
  /** Whether this provider can manage TXT records (ACME DNS-01). */
  txt: boolean;
  /**
   * How long a TXT value may take to reach the provider's own name servers, when that is longer
   * than cert-renew's usual wait (netcup and NameSilo publish their zones in batches). cert-renew
   * waits at least `maxMs` at the authoritative servers and logs `note` (the provider's fact, one
   * sentence) when that raises the node's own wait.
   */
  txtPropagation?: { maxMs: number; note: string };
  /** It holds TXT records only (acme-dns): dns-update refuses the account, cert-renew uses it for delegation. */
  txtOnly?: boolean;
  /** Where the user gets the token or password (shown in the editor). */
  docsUrl?: string;
  /** The link's words when "Where do I get the token or password?" does not fit (RFC 2136: a TSIG key). */
  docsLabel?: string;
  create(settings: z.infer<S>, env: ProviderEnv): DnsProvider;
}
