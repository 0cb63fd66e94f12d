/**
 * Pieces of the core's sentences (see errors.ts `say`) that every area uses: a duration, a list of
 * reasons, a failure passed on as the value of another sentence. Their texts are in the
 * ddns-account catalogs (`core.time.*`, `core.list.*`), which the runtime always loads.
 */
import { DdnsError, english, isSentence, mapSentence, say, type Sentence } from './errors';
import { duration } from './text';

/** A reason or a value: plain text (a provider's own words, an address) or a sentence. */
export type Said = string | Sentence;

/** The words of `duration()`'s units, `__n__` the count. */
const UNIT_WORDS: Readonly<Record<string, Sentence>> = {
  second: say('time.second', '__n__ second'),
  seconds: say('time.seconds', '__n__ seconds'),
  minute: say('time.minute', '__n__ minute'),
  minutes: say('time.minutes', '__n__ minutes'),
  hour: say('time.hour', '__n__ hour'),
  hours: say('time.hours', '__n__ hours'),
  day: say('time.day', '__n__ day'),
  days: say('time.days', '__n__ days'),
};

/** `duration(ms, round)` ("3 days") as a sentence: the same English, said in the user's language. */
export function durationSaid(ms: number, round: 'up' | 'down' = 'up'): Sentence {
  const [count, unit] = duration(ms, round).split(' ');
  return { ...(UNIT_WORDS[unit] ?? UNIT_WORDS.days), params: { n: Number(count) } };
}

/**
 * Items said as one: `a; b; c` (`semicolon`), `a b` (`space`: sentences that follow each other),
 * `a and b`, `a or b`. Plain text when there is nothing to translate (one item, or only texts
 * joined by punctuation), else a sentence.
 */
export function listSaid(items: readonly Said[], join: 'semicolon' | 'space' | 'and' | 'or' = 'semicolon'): Said {
  if (items.length <= 1) return items[0] ?? '';
  if ((join === 'semicolon' || join === 'space') && items.every((i) => typeof i === 'string'))
    return items.join(join === 'space' ? ' ' : '; ');
  const [first, ...more] = items;
  const rest = listSaid(more, join);
  if (join === 'and') return say('list.and', '__first__ and __rest__', { first, rest });
  if (join === 'or') return say('list.or', '__first__ or __rest__', { first, rest });
  if (join === 'space') return say('list.then', '__first__ __rest__', { first, rest });
  return say('list.semicolon', '__first__; __rest__', { first, rest });
}

/**
 * A failure as the value of another sentence, cleaned by `clean` (secrets removed): the error's
 * sentence when it has one that says the same as its message, else its message.
 */
export function failureSaid(e: unknown, clean: (text: string) => string = (t) => t): Said {
  if (!(e instanceof Error)) return clean(String(e));
  const text = clean(e.message);
  const s = e instanceof DdnsError ? e.sentence : undefined;
  if (s) {
    const cleaned = mapSentence(s, clean);
    if (english(cleaned) === text) return cleaned;
  }
  return text;
}

/** The sentence of a reason, when it is one. */
export const sentenceOf = (s: Said | undefined): Sentence | undefined => (isSentence(s) ? s : undefined);

/** English texts said through `phrase()`: template → key, and the templates with values as patterns. */
const PHRASES = new Map<string, string>();
const PATTERNS = new Map<string, { key: string; re: RegExp; names: string[] }>();

/**
 * A text that must stay a plain string (a zod schema's message, a table of texts): its English
 * (with `__name__` placeholders filled in from `values`), registered under `key` so that the
 * adapters can say it in the user's language (`phraseOf`). Use `say()` wherever a sentence can be
 * passed instead.
 */
export function phrase(key: string, en: string, values?: Record<string, string | number>): string {
  PHRASES.set(en, key);
  if (values && !PATTERNS.has(en)) {
    const names: string[] = [];
    const body = en
      .split(/(__[A-Za-z0-9_]+?__)/)
      .map((part) => {
        const m = /^__([A-Za-z0-9_]+?)__$/.exec(part);
        if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(m[1]);
        return '(.+?)';
      })
      .join('');
    PATTERNS.set(en, { key, re: new RegExp(`^${body}$`, 's'), names });
  }
  return values ? english(say(key, en, values)) : en;
}

/**
 * A value read back from a phrase's text. A field's label (`__label__`, itself a phrase) is its
 * sentence, said in the same language; any other value (a number, the user's own text) stays as it is.
 */
function phraseValue(name: string, v: string): string | Sentence {
  const key = name === 'label' ? PHRASES.get(v) : undefined;
  return key !== undefined && !PATTERNS.has(v) ? say(key, v) : v;
}

/** The sentence of a text given by `phrase()` (also when its trailing full stop was cut), if it is one. */
export function phraseOf(text: string): Sentence | undefined {
  for (const en of [text, `${text}.`]) {
    const key = PHRASES.get(en);
    if (key !== undefined && !PATTERNS.has(en)) return say(key, en);
    for (const [template, p] of PATTERNS) {
      const m = p.re.exec(en);
      if (m) return say(p.key, template, Object.fromEntries(p.names.map((n, i) => [n, phraseValue(n, m[i + 1])])));
    }
  }
  return undefined;
}
