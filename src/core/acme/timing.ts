/**
 * When to renew.
 *
 * Default: when less than a third of the certificate's lifetime is left (30 of 90 days for Let's
 * Encrypt's classic certificates, 2 of 6 days for short-lived ones), or earlier when the user sets
 * a number of days. When the CA publishes ACME Renewal Information (RFC 9773), its suggested window
 * wins: renew at a point inside it (chosen once, uniformly at random, so that many clients spread).
 */
export interface RenewalWindow {
  start: Date;
  end: Date;
}

export interface RenewalDecision {
  due: boolean;
  /** When renewal becomes due (now or later). */
  at: Date;
  reason: string;
}

const DAY = 86_400_000;

export function renewalDecision(
  cert: { notBefore: Date; notAfter: Date },
  now: Date,
  opts: { renewDaysBefore?: number; ari?: RenewalWindow | null; random?: () => number } = {},
): RenewalDecision {
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  const left = cert.notAfter.getTime() - now.getTime();
  if (left <= 0) return { due: true, at: now, reason: 'the certificate has expired' };
  if (opts.ari && opts.ari.end.getTime() > opts.ari.start.getTime()) {
    const { start, end } = opts.ari;
    const r = (opts.random ?? Math.random)();
    const at = new Date(start.getTime() + r * (end.getTime() - start.getTime()));
    if (now.getTime() >= at.getTime() || now.getTime() >= end.getTime()) {
      return {
        due: true,
        at: now,
        reason: `the CA suggests renewing between ${start.toISOString()} and ${end.toISOString()} (ACME Renewal Information)`,
      };
    }
    // A window beyond the expiry would be a CA error: never wait past the fallback rule.
    if (at.getTime() < cert.notAfter.getTime())
      return { due: false, at, reason: `renewal planned inside the CA's suggested window, at ${at.toISOString()}` };
  }
  const before = opts.renewDaysBefore !== undefined ? opts.renewDaysBefore * DAY : lifetime / 3;
  const at = new Date(cert.notAfter.getTime() - before);
  const days = (before / DAY).toFixed(before < DAY * 2 ? 1 : 0);
  if (now.getTime() >= at.getTime()) return { due: true, at: now, reason: `fewer than ${days} days left` };
  return { due: false, at, reason: `renewal due when ${days} days are left, at ${at.toISOString()}` };
}

export const daysLeft = (notAfter: Date, now: Date) => Math.floor((notAfter.getTime() - now.getTime()) / DAY);
