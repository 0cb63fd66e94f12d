/**
 * Removal of secrets from any text that may reach a person: logs, status, msg, error messages.
 *
 * Two layers: the exact secret values a component knows (tokens, passwords, TSIG secrets), and
 * patterns that carry secrets in URLs of the providers we talk to (query parameters such as
 * `token=`/`password=`, FreeDNS `/u/<token>/` paths and its v1 `update.php?<token>`, user:pass@).
 */
import { isSentence, mapSentence, type Sentence } from './errors';

const REDACTED = '***';

const URL_PATTERNS: Array<[RegExp, string]> = [
  // user:password@host in URLs
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, `$1${REDACTED}:${REDACTED}@`],
  // secret-bearing query parameters
  [/([?&](?:token|password|pass|pwd|key|secret|apikey|api_key|auth)=)[^&#\s"']*/gi, `$1${REDACTED}`],
  // FreeDNS v2: /u/<token>/
  [/(\/u\/)[^/?\s"']+/g, `$1${REDACTED}`],
  // FreeDNS v1: update.php?<token>
  [/(update\.php\?)[^&\s"']+/gi, `$1${REDACTED}`],
  // Authorization headers echoed in text
  [/(authorization:\s*(?:bearer|basic)\s+)[^\s"']+/gi, `$1${REDACTED}`],
];

/**
 * What every URL pattern needs to match (`@`, `=`, `/u/`, `update.php?`, `authorization`): a text
 * without any of them is left as it is after one test instead of five replacements.
 */
const MAY_CARRY_SECRET = /[@=]|\/u\/|update\.php\?|authorization/i;

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string | undefined | null> = []) {
    this.secrets = [];
    for (const s of secrets) this.add(s);
  }

  /** Remember one more secret value (ignored when empty or too short to be a real secret). */
  add(secret: string | undefined | null): this {
    if (typeof secret !== 'string' || secret.length < 3) return this;
    const forms = new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]);
    for (const f of forms) if (!this.secrets.includes(f)) this.secrets.push(f);
    // longest first so that a secret containing another is replaced whole
    this.secrets.sort((a, b) => b.length - a.length);
    return this;
  }

  /** The text with every known secret and every secret-looking URL part replaced by `***`. */
  text(input: string): string {
    let out = input;
    for (const s of this.secrets) out = out.split(s).join(REDACTED);
    if (!MAY_CARRY_SECRET.test(out)) return out;
    for (const [re, rep] of URL_PATTERNS) out = out.replace(re, rep);
    return out;
  }

  /** A sentence with every text value redacted. */
  sentence(s: Sentence): Sentence {
    return mapSentence(s, (t) => this.text(t));
  }

  /** The same, applied to an Error's message and stack in place; returns the error. */
  error<E>(e: E): E {
    if (e instanceof Error) {
      e.message = this.text(e.message);
      if (e.stack) e.stack = this.text(e.stack);
      const d = (e as { detail?: unknown }).detail;
      if (typeof d === 'string') (e as { detail?: string }).detail = this.text(d);
      const s = (e as { sentence?: unknown }).sentence;
      if (isSentence(s)) (e as { sentence?: Sentence }).sentence = this.sentence(s);
    }
    return e;
  }
}

/** Redact with URL patterns only (no known secret values). */
export function redact(input: string, secrets: Iterable<string | undefined | null> = []): string {
  return new Redactor(secrets).text(input);
}
