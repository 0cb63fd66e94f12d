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
import { clip } from '../text';
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
 * The word a short status gives a stop, as core's statuses do (the provider's own code and words
 * are in the msg and the log): documented dyndns2 words in plain English, anything else "refused".
 */
const STOP_WORDS: Record<string, string> = {
  badauth: 'wrong login',
  nohost: 'unknown name',
  notfqdn: 'not a full name',
  numhost: 'too many names',
  abuse: 'blocked',
  badagent: 'client refused',
  '!donator': 'paid feature',
  invalid_account: 'account settings',
};
const stopWord = (code: string | undefined) => (code && STOP_WORDS[code]) || 'refused';

function mark(r: UpdateResult): string {
  if (r.stopped) return `stopped: ${stopWord(r.cause ?? r.reason)}`;
  if (r.status === 'failed')
    return r.nextRetryAt ? `✗ ${r.reason ?? 'failed'}, retry ${hhmm(r.nextRetryAt)}` : `✗ ${r.reason ?? 'failed'}`;
  if (r.status === 'skipped')
    return r.nextRetryAt
      ? `… ${r.address} at ${hhmm(r.nextRetryAt)}`
      : r.reason === 'no-address'
        ? ''
        : r.reason === 'temporary-address'
          ? `${familyLabel(r.family)} kept: temporary address`
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
    return `${n} ${shown.map(mark).join(', ')}`;
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
    text = `${names.length} names ✓ ${addresses.join(' ')}`;
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
