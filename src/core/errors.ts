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
 *
 * A message may be a `Sentence` (`say(key, english, params)`): its catalog key, its English wording
 * with `__name__` placeholders, and the values. `message` is the English; the adapters in src/nodes
 * say it in the runtime's language from the node catalogs (`core.<key>`, see src/nodes/adapter.ts).
 */
import { fillIn } from './text';

/** A sentence the adapters can say in the user's language: catalog key, English wording, values. */
export interface Sentence {
  readonly key: string;
  readonly en: string;
  /** The values of the placeholders; a value may be a sentence itself (said in the same language). */
  readonly params: Readonly<Record<string, SentenceValue>>;
}
export type SentenceValue = string | number | Sentence;

/** A sentence: `say('http.timeout', '__where__ did not answer within __ms__ ms', { where, ms })`. */
export const say = (key: string, en: string, params: Record<string, SentenceValue> = {}): Sentence => ({
  key,
  en,
  params,
});

/** Whether `v` is a sentence (not a plain text or number). */
export const isSentence = (v: unknown): v is Sentence =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Sentence).key === 'string' &&
  typeof (v as Sentence).en === 'string';

/** The values of a sentence with every inner sentence said by `speak`. */
export function flatParams(s: Sentence, speak: (s: Sentence) => string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(s.params)) out[k] = isSentence(v) ? speak(v) : v;
  return out;
}

/** The English text of a sentence (or the text itself). */
export const english = (s: string | Sentence): string =>
  typeof s === 'string' ? s : fillIn(s.en, flatParams(s, english));

/** The sentence with `edit` applied to every text value (inner sentences included): redaction. */
export function mapSentence(s: Sentence, edit: (text: string) => string): Sentence {
  const params: Record<string, SentenceValue> = {};
  for (const [k, v] of Object.entries(s.params))
    params[k] = typeof v === 'string' ? edit(v) : isSentence(v) ? mapSentence(v, edit) : v;
  return { key: s.key, en: s.en, params };
}

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
  /** The message as a sentence to translate, when it was written as one (redact() edits its values). */
  sentence?: Sentence;

  constructor(kind: ErrorKind, message: string | Sentence, opts: DdnsErrorOptions) {
    super(english(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    if (typeof message !== 'string') this.sentence = message;
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

type Message = string | Sentence;
export const transient = (message: Message, opts: DdnsErrorOptions) => new DdnsError('transient', message, opts);
export const fatal = (message: Message, opts: DdnsErrorOptions) => new DdnsError('fatal', message, opts);
export const badInput = (message: Message, code = 'invalid_input') => new DdnsError('input', message, { code });

export function isDdnsError(e: unknown): e is DdnsError {
  return e instanceof DdnsError;
}

/** Any thrown value as a DdnsError (unknown errors are treated as transient). */
export function toDdnsError(e: unknown): DdnsError {
  if (e instanceof DdnsError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return transient(message, { code: 'unknown', cause: e });
}
