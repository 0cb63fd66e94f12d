/**
 * Error classes shared by every part of the core.
 *
 * The one question every caller asks of a failure is "may I try again, and when?":
 * - `transient`: try again later (timeouts, connection errors, 5xx, 429, dyndns2 `911`/`dnserr`);
 *   `retryAfterMs` is the earliest moment allowed by the provider, when it said so.
 * - `fatal`: the user must act (bad credentials, unknown host, abuse block, bad agent). Stop sending.
 * - `input`: the request itself is invalid (bad name, bad address); nothing was sent.
 *
 * Messages are written for a person reading a Node-RED status or debug pane, and never contain a
 * secret: everything that builds them goes through `redact()`.
 */
export type ErrorKind = 'transient' | 'fatal' | 'input';

export interface DdnsErrorOptions {
  /** A short machine-readable code, e.g. `badauth`, `timeout`, `http_503`, `cf_9109`. */
  code: string;
  /** The earliest time (ms from now) a retry is allowed, when the other side said so. */
  retryAfterMs?: number;
  /** `account` when every name of the account is affected (e.g. bad credentials). */
  scope?: 'account' | 'host';
  /** The other side's own answer, shortened and redacted, for display. */
  detail?: string;
  cause?: unknown;
}

export class DdnsError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly retryAfterMs?: number;
  readonly scope: 'account' | 'host';
  readonly detail?: string;

  constructor(kind: ErrorKind, message: string, opts: DdnsErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DdnsError';
    this.kind = kind;
    this.code = opts.code;
    this.retryAfterMs = opts.retryAfterMs;
    this.scope = opts.scope ?? 'host';
    this.detail = opts.detail;
  }

  get retryable(): boolean {
    return this.kind === 'transient';
  }
}

export const transient = (message: string, opts: DdnsErrorOptions) => new DdnsError('transient', message, opts);
export const fatal = (message: string, opts: DdnsErrorOptions) => new DdnsError('fatal', message, opts);
export const badInput = (message: string, code = 'invalid_input') => new DdnsError('input', message, { code });

export function isDdnsError(e: unknown): e is DdnsError {
  return e instanceof DdnsError;
}

/** Any thrown value as a DdnsError (unknown errors are treated as transient). */
export function toDdnsError(e: unknown): DdnsError {
  if (e instanceof DdnsError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return transient(message, { code: 'unknown', cause: e });
}
