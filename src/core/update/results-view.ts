/**
 * dns-update's view of its results, free of Node-RED: the last result per name and family (what
 * the status line shows, see summary.ts) and the one error text naming every failed result.
 */
import { familyLabel } from '../address';
import { englishStatus, statusLine, type StatusLine, type StatusWords } from './summary';
import type { UpdateResult } from './types';

export class ResultsView {
  /** name → its latest results, one per family */
  readonly last = new Map<string, UpdateResult[]>();

  /** `redact` cleans the status text before it is shortened; `words` are its texts in the user's language. */
  constructor(
    private readonly redact: (text: string) => string = (t) => t,
    private readonly words: StatusWords = englishStatus,
  ) {}

  /** Take in new results; the status line to show, or undefined when there is nothing to show. */
  take(results: readonly UpdateResult[]): StatusLine | undefined {
    const byName = new Map<string, UpdateResult[]>();
    for (const r of results) byName.set(r.hostname, [...(byName.get(r.hostname) ?? []), r]);
    for (const [name, rs] of byName) {
      // keep the other family's last result when only one family was updated
      const kept = (this.last.get(name) ?? []).filter((o) => !rs.some((r) => r.family === o.family));
      this.last.set(
        name,
        [...kept, ...rs].sort((a, b) => a.family.localeCompare(b.family)),
      );
    }
    return statusLine(this.last, 60, this.redact, this.words);
  }

  /** After a reset: forget the stops that have been lifted; true when no result is left to show. */
  forgetStops(): boolean {
    for (const [name, rs] of this.last) {
      const kept = rs.filter((r) => !r.stopped);
      if (kept.length) this.last.set(name, kept);
      else this.last.delete(name);
    }
    return this.last.size === 0;
  }
}

/** One text naming every failed result (with when it is tried again, or that it is stopped), or null. */
export function resultsFailure(results: readonly UpdateResult[]): string | null {
  const bad = results.filter((r) => r.status === 'failed');
  if (!bad.length) return null;
  return bad
    .map(
      (r) =>
        `${r.hostname} (${familyLabel(r.family)}): ${r.message}` +
        (r.stopped
          ? ' — updates are stopped until the account is fixed and deployed, or msg.reset = true is sent'
          : r.nextRetryAt
            ? ` — next attempt at ${r.nextRetryAt}`
            : ''),
    )
    .join('; ');
}
