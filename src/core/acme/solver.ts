/**
 * A challenge other than DNS-01 through a provider account: HTTP-01 answered by cert-renew itself
 * (http01.ts), DNS-PERSIST-01 with a record the user created once (persist.ts). The order in
 * client.ts asks the solver for each authorization; the manager opens it before the order and
 * closes it after, whatever the outcome.
 */
import type { Sentence } from '../errors';

export interface SolverContext {
  /** The ACME account URL (RFC 8555 §7.3). */
  accountUrl: string;
  /** The account key's SHA-256 JWK thumbprint (RFC 7638), base64url. */
  thumbprint: string;
  /** The CA's directory (its `meta` says what the CA offers). */
  directory: Record<string, unknown>;
  signal?: AbortSignal;
  log(text: string): void;
}

/** One challenge of an authorization, as the CA sent it. */
export interface OfferedChallenge {
  type: string;
  url: string;
  token?: string;
  [k: string]: unknown;
}

export interface ChallengeSolver {
  /** The ACME challenge type, e.g. `http-01`. */
  readonly type: string;
  /** For messages, e.g. `HTTP-01`. */
  readonly label: string;
  /** Before the order: open what answers the CA, check it; throws (a DdnsError) when it cannot work. */
  prepare(names: string[], ctx: SolverContext): Promise<void>;
  /** Make one challenge answerable; `keyAuthorization` is RFC 8555 §8.1's (empty where unused). */
  present(
    a: { identifier: string; wildcard: boolean; challenge: OfferedChallenge; keyAuthorization: string },
    ctx: SolverContext,
  ): Promise<void>;
  /** After the order, issued or not: close what prepare opened. Never throws. */
  finish(): Promise<void>;
  /** What the check before the order found, added to the CA's "invalid" verdict; or undefined. */
  hint?(): string | Sentence | undefined;
}
