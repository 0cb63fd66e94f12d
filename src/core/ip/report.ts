/**
 * What public-ip-watch says about a finished check beside the status, free of Node-RED: the
 * warnings worth saying once while their cause lasts, the one error naming every failed family,
 * and the payload that goes with that error.
 */
import { familyLabel } from '../address';
import type { WarnOnce } from '../warn-once';
import type { CheckResult } from './watcher';

const isRouterReport = (source: string) => source === 'router' || source.startsWith('router#');

/**
 * Warn about what a full check found beside the address: a disagreement between the local answer
 * and the outside services, a silent router, CGNAT evidence. Hint checks say nothing.
 * `routerSilent(address)` is the catalog's opening sentence of the silent-router warning.
 */
export function reviewCheck(r: CheckResult, warnings: WarnOnce, routerSilent: (address: string) => string): void {
  if (r.origin === 'hint') return;
  for (const f of r.families) {
    const d = r.detections[f];
    if (!d) continue;
    if (d.disagreement) warnings.warn(`disagree:${f}`, `${familyLabel(f)}: ${d.disagreement.note}`);
    else warnings.clear(`disagree:${f}`);
    if (d.router?.outcome === 'no_answer' && d.address) {
      const reason = d.reports.find((x) => isRouterReport(x.source) && !x.ok)?.error ?? d.router.note;
      warnings.warn('router-silent', `${routerSilent(d.address)} ${reason[0].toUpperCase()}${reason.slice(1)}`);
    } else if (d.router) warnings.clear('router-silent');
    if (d.router?.outcome === 'no_public' && d.cgnatSuspected) warnings.warn(`cgnat:${f}`, d.cgnatSuspected.note);
    else if (d.router) warnings.clear(`cgnat:${f}`);
  }
}

/** One error naming every family that failed, or null. */
export function checkFailure(r: CheckResult): Error | null {
  const parts = r.families.filter((f) => r.errors[f] !== undefined).map((f) => `${familyLabel(f)}: ${r.errors[f]}`);
  return parts.length ? new Error(parts.join('; ')) : null;
}

/** The payload that goes with a failed check's error (for Catch nodes): errors, counts, what is known, evidence. */
export function failurePayload(r: CheckResult): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    errors: r.errors,
    failures: r.failures,
    known: r.known,
    checkedAt: r.checkedAt,
  };
  // The CGNAT evidence explains many failures (a router without a public address).
  const f = r.families.find((x) => r.detections[x]?.cgnatSuspected);
  if (f) payload.cgnat = { family: f, ...r.detections[f]!.cgnatSuspected };
  const wan = r.families.map((x) => r.detections[x]?.wanAddress).find(Boolean);
  if (wan) payload.wanAddress = wan;
  return payload;
}
