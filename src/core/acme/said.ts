/**
 * Pieces of cert-renew's sentences (issue 15): a duration said in the user's language, and a
 * failure passed on as a value of another sentence (its own sentence when it has one).
 */
import { DdnsError, say, type Sentence } from '../errors';
import { duration } from '../text';

/** `duration(ms, round)` as a sentence: the same English ("3 days"), said in the user's language. */
export function spanSaid(ms: number, round: 'up' | 'down' = 'up'): Sentence {
  const text = duration(ms, round);
  const [count, unit] = text.split(' ');
  const n = Number(count);
  switch (unit) {
    case 'second':
      return say('acme.time.second', '__n__ second', { n });
    case 'seconds':
      return say('acme.time.seconds', '__n__ seconds', { n });
    case 'minute':
      return say('acme.time.minute', '__n__ minute', { n });
    case 'minutes':
      return say('acme.time.minutes', '__n__ minutes', { n });
    case 'hour':
      return say('acme.time.hour', '__n__ hour', { n });
    case 'hours':
      return say('acme.time.hours', '__n__ hours', { n });
    case 'day':
      return say('acme.time.day', '__n__ day', { n });
    default:
      return say('acme.time.days', '__n__ days', { n });
  }
}

/** A failure as the value of another sentence: a DdnsError's own sentence, else its message. */
export function saidFailure(e: unknown): string | Sentence {
  if (e instanceof DdnsError) return e.sentence ?? e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Items said as one list: `a; b; c` (`semicolon`), `a and b` (`and`), `a or b` (`or`). Plain texts
 * when there is nothing to translate (one item, or only texts joined by `;`), else a sentence.
 */
export function listSaid(items: Array<string | Sentence>, join: 'semicolon' | 'and' | 'or'): string | Sentence {
  if (items.length === 0) return '';
  if (items.length === 1) return items[0];
  if (join === 'semicolon' && items.every((i) => typeof i === 'string')) return items.join('; ');
  const [first, ...more] = items;
  const rest = listSaid(more, join);
  if (join === 'and') return say('acme.list.and', '__first__ and __rest__', { first, rest });
  if (join === 'or') return say('acme.list.or', '__first__ or __rest__', { first, rest });
  return say('acme.list.semicolon', '__first__; __rest__', { first, rest });
}
