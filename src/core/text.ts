/** Small text helpers for what people read (status lines, warnings). */

/** `s` cut to at most `n` characters, with an ellipsis when cut. */
export const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** `__name__` placeholders of `text` filled from `subs` (unknown ones stay): Node-RED's catalog style. */
export const fillIn = (text: string, subs: Readonly<Record<string, string | number>> = {}): string =>
  text.replace(/__([A-Za-z0-9_]+?)__/g, (m, k: string) => (k in subs ? String(subs[k]) : m));

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNITS: Array<[number, string]> = [
  [DAY, 'day'],
  [HOUR, 'hour'],
  [MINUTE, 'minute'],
  [SECOND, 'second'],
];

/**
 * A duration in words: `1 second`, `45 seconds`, `1 minute`, `90 minutes`, `1 hour`, `36 hours`,
 * `3 days`: seconds under a minute, minutes under 2 hours, hours under 2 days, days beyond, or a
 * larger unit when the duration is a whole number of it (60 minutes: `1 hour`). Rounded up by default
 * (a wait is never said shorter than it is); `down` for time that is left (never said longer).
 */
export function duration(ms: number, round: 'up' | 'down' = 'up'): string {
  const t = Number.isFinite(ms) ? Math.max(0, ms) : 0;
  const bySize = t < MINUTE ? UNITS[3] : t < 2 * HOUR ? UNITS[2] : t < 2 * DAY ? UNITS[1] : UNITS[0];
  const [unit, name] = UNITS.find(([u]) => u >= bySize[0] && t >= u && t % u === 0) ?? bySize;
  const n = round === 'up' ? Math.ceil(t / unit) : Math.floor(t / unit);
  return `${n} ${name}${n === 1 ? '' : 's'}`;
}
