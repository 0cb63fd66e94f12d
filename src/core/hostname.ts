/**
 * Host names as this package accepts them, in one place: a fully qualified domain name of at
 * least two labels, letters/digits/hyphens (no hyphen at either end of a label), 1–63 characters
 * per label, 253 in all; the first label may be `*` (wildcard record). Returned lower-case,
 * without a trailing dot, in punycode when typed in Unicode.
 */
import { domainToASCII } from 'node:url';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The normalised name, or why it is not a usable host name. */
export function normaliseHostname(input: string): { ok: true; name: string } | { ok: false; reason: string } {
  const shown = input.length > 80 ? `${input.slice(0, 80)}…` : input;
  let n = input.trim().toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  if (n === '') return { ok: false, reason: 'a host name is empty' };
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(n)) {
    const ascii = domainToASCII(n);
    if (!ascii) return { ok: false, reason: `"${shown}" is not a valid host name` };
    n = ascii;
  }
  if (n.length > 253) return { ok: false, reason: `"${shown}" is longer than the 253 characters a host name may have` };
  const labels = n.split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (i === 0 && l === '*') continue;
    if (l === '') return { ok: false, reason: `"${shown}" has an empty part between two dots` };
    if (l.length > 63) return { ok: false, reason: `"${shown}" has a part longer than 63 characters` };
    if (!LABEL.test(l)) {
      return { ok: false, reason: `"${shown}" is not a valid host name: each part may only hold letters, digits and hyphens (not at its start or end)` };
    }
  }
  if (labels.length < 2) {
    return { ok: false, reason: `"${shown}" is not a full host name: write it with its domain, e.g. ${n}.duckdns.org or ${n}.example.com` };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return { ok: false, reason: `"${shown}" looks like an address, not a host name` };
  return { ok: true, name: n };
}
