/**
 * What public-ip-watch's status shows for the watcher's checks, free of Node-RED: per family the
 * last full check (address, error, what the outside services or the router said beside it),
 * updated by hint checks that found an address; rendered as one line with a colour.
 */
import type { Family } from '../address';
import { clip } from '../text';
import type { CheckResult } from './watcher';

/** A status dot as Node-RED draws it. */
export interface StatusView {
  fill: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape: 'ring' | 'dot';
  text: string;
}

/** The words of the status line (message catalog keys under `status.`). */
export type StatusWord =
  'failed' | 'no-address' | 'outside-sees' | 'router-silent' | 'stable' | 'temporary' | 'unverified';

/** What the status shows about one family. */
export interface FamilyView {
  address: string | null;
  error?: string;
  /** The outside services saw another address (last full check). */
  outside?: string;
  /** IPv6: the outside services saw a temporary address of the same network; the stable one is used. */
  stable?: boolean;
  /** IPv6: only outside services saw the address, a temporary one of this host's or one it does not hold. */
  unstable?: 'temporary' | 'unverified';
  /** The router did not answer while the outside services did. */
  routerSilent?: boolean;
  /** The router said it has no public address. */
  cgnat?: boolean;
}

const hhmm = (iso: string) => new Date(iso).toTimeString().slice(0, 5);
const tag = (f: Family) => (f === 'ipv4' ? 'v4' : 'v6');

export class AddressStatusView {
  private readonly view = new Map<Family, FamilyView>();

  /** @param tracked the families the watcher tracks, in the order the line names them */
  constructor(private readonly tracked: readonly Family[]) {}

  get(f: Family): FamilyView | undefined {
    return this.view.get(f);
  }

  /** Take in a finished check; false when there is nothing new to show (a hint check that found nothing). */
  update(r: CheckResult): boolean {
    let news = false;
    for (const f of r.families) {
      const d = r.detections[f];
      if (!d) continue;
      if (r.origin === 'hint') {
        if (!d.address) continue;
        const before = this.view.get(f);
        // A new local answer has not been confirmed yet: an earlier disagreement no longer applies.
        const keep =
          before && before.address === d.address && !before.error
            ? { outside: before.outside, cgnat: before.cgnat, stable: before.stable, unstable: before.unstable }
            : {};
        this.view.set(f, { address: d.address, ...keep });
        news = true;
        continue;
      }
      news = true;
      if (r.errors[f] !== undefined) {
        this.view.set(f, { address: null, error: r.errors[f] });
        continue;
      }
      this.view.set(f, {
        address: d.address,
        ...(d.disagreement ? { outside: d.disagreement.outside.address } : {}),
        ...(d.outsideTemporary ? { stable: true } : {}),
        ...(d.stability === 'temporary' || d.stability === 'unverified' ? { unstable: d.stability } : {}),
        ...(d.router?.outcome === 'no_answer' ? { routerSilent: true } : {}),
        ...(d.router?.outcome === 'no_public' ? { cgnat: true } : {}),
      });
    }
    return news;
  }

  /**
   * The line: red when every tracked family failed, yellow when one failed or an answer is in
   * doubt (outside services disagree, the router is silent), green otherwise; ends with the time.
   */
  render(checkedAt: string, word: (w: StatusWord) => string): StatusView {
    const time = hhmm(checkedAt);
    const shown = this.tracked.filter((f) => this.view.has(f));
    const failed = shown.filter((f) => this.view.get(f)!.error !== undefined);
    if (shown.length && failed.length === shown.length && shown.length === this.tracked.length) {
      const reason = this.view.get(failed[0])!.error ?? word('no-address');
      return { fill: 'red', shape: 'ring', text: `${clip(reason, 48)} · ${time}` };
    }
    let warn = failed.length > 0;
    const parts: string[] = [];
    for (const f of this.tracked) {
      const v = this.view.get(f);
      if (!v) {
        parts.push(`${tag(f)} …`);
        continue;
      }
      if (v.error !== undefined) {
        parts.push(`${tag(f)} ${word('failed')}`);
        continue;
      }
      let p = `${tag(f)} ${v.address}`;
      if (v.outside) p += ` (${word('outside-sees')} ${v.outside})`;
      else if (v.stable) p += ` (${word('stable')})`;
      else if (v.unstable) p += ` (${word(v.unstable)})`;
      parts.push(p);
      if (v.routerSilent) parts.push(word('router-silent'));
      if (v.cgnat) parts.push('CGNAT');
      if (v.outside || v.routerSilent) warn = true;
    }
    const text = `${parts.join(' · ')} · ${time}`;
    return warn ? { fill: 'yellow', shape: 'ring', text } : { fill: 'green', shape: 'dot', text };
  }
}
