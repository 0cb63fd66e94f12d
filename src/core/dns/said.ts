/**
 * Reasons that the adapters say in the user's language, for address detection (ip/), the DNS
 * client (dns/) and the reachability checks (reach/): a reason is either a plain text (a
 * provider's own words, an address) or a sentence (see core/errors.ts `say`), and lists of reasons
 * are sentences too, so that every part is said in the same language. It lives in dns/, the lowest
 * floor all three may import.
 */
import { english, isSentence, mapSentence, say, toDdnsError, type Sentence } from '../errors';

/** A reason: plain text, or a sentence whose English is the text. */
export type Said = string | Sentence;

/** `parts` joined by "; " (as one sentence when there are several). */
export function listSaid(parts: readonly Said[]): Said {
  if (parts.length <= 1) return parts[0] ?? '';
  return say('dns.list', '__first__; __rest__', { first: parts[0], rest: listSaid(parts.slice(1)) });
}

/** `parts` joined by a space (sentences that follow each other). */
export function spacedSaid(parts: readonly Said[]): Said {
  if (parts.length <= 1) return parts[0] ?? '';
  return say('dns.then', '__first__ __rest__', { first: parts[0], rest: spacedSaid(parts.slice(1)) });
}

/** Names joined by " and " ("ipify and aws"). */
export function andSaid(names: readonly string[]): Said {
  if (names.length <= 1) return names[0] ?? '';
  return say('dns.and', '__first__ and __rest__', { first: names[0], rest: andSaid(names.slice(1)) });
}

/**
 * Why a lookup failed, cleaned by `clean` (secrets removed): the error's sentence when it has one
 * (and says the same as its message), else its message.
 */
export function reasonOf(e: unknown, clean: (text: string) => string = (t) => t): Said {
  const err = toDdnsError(e);
  const text = clean(err.message);
  if (err.sentence) {
    const s = mapSentence(err.sentence, clean);
    if (english(s) === text) return s;
  }
  return text;
}

/** The sentence of a reason, when it is one. */
export const sentenceOf = (s: Said | undefined): Sentence | undefined => (isSentence(s) ? s : undefined);
