/**
 * Contracts of public address detection.
 *
 * A source answers one question: "what is the public address of this family, as you see it?"
 * It returns the raw text it got (addresses are validated by the detector, in one place), or
 * throws a DdnsError saying why it could not answer. A source never retries by itself: the
 * detector decides about fallback, hedging and quorum.
 */
import type { Family } from '../address';
import type { Sentence } from '../errors';
import type { Redactor } from '../redact';

export interface SourceContext {
  family: Family;
  signal: AbortSignal;
  /** Per-attempt time limit, ms. */
  timeoutMs: number;
  /** Send from this local address (multi-WAN), when set. */
  localAddress?: string;
  redactor?: Redactor;
}

export interface SourceAnswer {
  /** The address text as the source gave it (the detector validates it). */
  address: string;
  /** Extra facts a source may report, e.g. `{ interface: 'ppp0' }` or the service's host. */
  info?: Record<string, unknown>;
}

export interface IpSource {
  /** Stable id used in config and output, e.g. `ipify`, `cloudflare-trace`, `opendns`, `interface`, `custom`. */
  readonly id: string;
  /** A short label for people, e.g. "ipify (api.ipify.org)". */
  readonly label: string;
  /** Families this source can answer for. */
  readonly families: readonly Family[];
  /** `local` sources read this host's own interfaces/router; `external` ones ask someone outside. */
  readonly kind: 'external' | 'local';
  lookup(ctx: SourceContext): Promise<SourceAnswer>;
}

/** The outcome of one source in one detection round (reported to the user). */
export interface SourceReport {
  source: string;
  family: Family;
  ok: boolean;
  address?: string;
  /** Why the answer was not used (error, rejected address, disagreement). */
  error?: string;
  ms: number;
}

export interface DetectionResult {
  family: Family;
  /** The agreed public address, or null when detection failed. */
  address: string | null;
  /** Sources whose answer was used. */
  agreedBy: string[];
  reports: SourceReport[];
  /** A person-readable reason when address is null. */
  error?: string;
  /** The same reason as a sentence (its English is `error`), for the adapter to say in the user's language. */
  said?: Sentence;
  /** Set when a local address (interface/router) is private/CGNAT while outside sources see another. */
  cgnatSuspected?: { localAddress: string; localClass: string; publicAddress: string | null; note: string };
}
