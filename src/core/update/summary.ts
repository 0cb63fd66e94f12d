/**
 * Short summaries of update results for a person: the overall `ok` of an output msg and the
 * node status (last result per name, one line).
 *
 * - ok: no result failed and none is stopped by a fatal answer (a write delayed by the minimum
 *   interval or a provider's wait is fine: it will be sent).
 * - status colour: red ring when something is stopped or failed without a retry, yellow ring
 *   while a write is pending (retry, delay) or a name keeps its AAAA because the IPv6 address is a
 *   temporary one, green dot when every name is in place.
 */
import { familyLabel } from '../address';
import { clip, fillIn } from '../text';
import type { UpdateResult } from './types';

export function resultsOk(results: readonly UpdateResult[]): boolean {
  return results.every((r) => r.status !== 'failed' && !r.stopped);
}

export interface StatusLine {
  fill: 'green' | 'yellow' | 'red';
  shape: 'dot' | 'ring';
  text: string;
}

const hhmm = (iso: string) => new Date(iso).toTimeString().slice(0, 5);

type Level = 0 | 1 | 2; // ok, pending, broken

function level(r: UpdateResult): Level {
  if (r.stopped) return 2;
  if (r.status === 'failed') return r.nextRetryAt ? 1 : 2;
  if (r.status === 'skipped')
    return r.nextRetryAt || r.reason === 'temporary-address' ? 1 : r.reason === 'no-address' ? 0 : 2;
  return 0;
}

/**
 * The texts of the status line, in English (`__name__` placeholders, as in Node-RED's message
 * catalogs): dns-update's catalog holds them under `status.` with the same keys and translations,
 * and the adapter passes `StatusWords` that look them up in the user's language.
 *
 * A stop gets a short word, as core's statuses do (the provider's own code and words are in the msg
 * and the log): documented dyndns2 words in plain language (`stop.<code>`), anything else `stop.refused`.
 */
export const STATUS_TEXTS = {
  stopped: 'stopped: __why__',
  'stop.badauth': 'wrong login',
  'stop.nohost': 'unknown name',
  'stop.notfqdn': 'not a full name',
  'stop.numhost': 'too many names',
  'stop.abuse': 'blocked',
  'stop.badagent': 'client refused',
  'stop.donator': 'paid feature',
  'stop.invalid_account': 'account settings',
  'stop.refused': 'refused',
  failed: 'failed',
  retry: 'retry __time__',
  pending: '__address__ at __time__',
  'kept-temporary': '__family__ kept: temporary address',
  names: '__n__ names',
} as const;
export type StatusKey = keyof typeof STATUS_TEXTS;
/** A status text by key, with its placeholders filled in (the user's language). */
export type StatusWords = (key: StatusKey, subs?: Record<string, string | number>) => string;

/** The status texts in English. */
export const englishStatus: StatusWords = (key, subs) => fillIn(STATUS_TEXTS[key], subs);

/** The key of a stop's word: dyndns2's `!donator` is `donator`. */
function stopKey(code: string | undefined): StatusKey {
  const k = `stop.${(code ?? '').replace(/^!/, '')}`;
  return Object.hasOwn(STATUS_TEXTS, k) ? (k as StatusKey) : 'stop.refused';
}

function mark(r: UpdateResult, w: StatusWords): string {
  if (r.stopped) return w('stopped', { why: w(stopKey(r.cause ?? r.reason)) });
  if (r.status === 'failed') {
    const what = r.reason ?? w('failed');
    return r.nextRetryAt ? `✗ ${what}, ${w('retry', { time: hhmm(r.nextRetryAt) })}` : `✗ ${what}`;
  }
  if (r.status === 'skipped')
    return r.nextRetryAt
      ? `… ${w('pending', { address: r.address, time: hhmm(r.nextRetryAt) })}`
      : r.reason === 'no-address'
        ? ''
        : r.reason === 'temporary-address'
          ? w('kept-temporary', { family: familyLabel(r.family) })
          : `– ${r.reason}`;
  return `✓ ${r.address}`;
}

/**
 * One status line from the last results per name (`last`: name → its latest results, one per
 * family). The worst name is shown when something is wrong; otherwise the names and addresses.
 */
export function statusLine(
  last: ReadonlyMap<string, readonly UpdateResult[]>,
  max = 60,
  redact: (text: string) => string = (t) => t,
  words: StatusWords = englishStatus,
): StatusLine | undefined {
  const names = [...last.keys()];
  if (names.length === 0) return undefined;
  let worst: Level = 0;
  let worstName = names[0];
  for (const n of names) {
    for (const r of last.get(n)!) {
      const l = level(r);
      if (l > worst) [worst, worstName] = [l, n];
    }
  }
  const describe = (n: string) => {
    const rs = last.get(n)!.filter((r) => r.reason !== 'no-address');
    const bad = rs.filter((r) => level(r) > 0);
    const shown = bad.length ? bad : rs;
    if (shown.every((r) => level(r) === 0)) return `${n} ✓ ${shown.map((r) => r.address).join(' ')}`;
    return `${n} ${shown.map((r) => mark(r, words)).join(', ')}`;
  };
  let text: string;
  if (names.length === 1) text = describe(names[0]);
  else if (worst === 0) {
    const addresses = [
      ...new Set(
        names.flatMap((n) =>
          last
            .get(n)!
            .filter((r) => r.reason !== 'no-address')
            .map((r) => r.address),
        ),
      ),
    ];
    text = `${words('names', { n: names.length })} ✓ ${addresses.join(' ')}`;
  } else {
    const fine = names.filter((n) => last.get(n)!.every((r) => level(r) === 0)).length;
    text = `${describe(worstName)} · ${fine}/${names.length} ✓`;
  }
  return {
    fill: worst === 0 ? 'green' : worst === 1 ? 'yellow' : 'red',
    shape: worst === 0 ? 'dot' : 'ring',
    text: clip(redact(text), max), // redact first, then shorten
  };
}
