/**
 * Validation of what an update is about: host names and addresses. Used by the update engine (its
 * own guard) and by dns-update (to reject a bad msg before anything is sent).
 *
 * - A host name is a fully qualified domain name: at least two labels, letters/digits/hyphens
 *   (no hyphen at either end of a label), 1–63 characters per label, 253 in all; the first label
 *   may be `*` (wildcard record). Names are returned lower-case, without a trailing dot, and in
 *   punycode when they were typed in Unicode.
 * - An address must be a valid IPv4 or IPv6 address of the family it is given for. Non-public
 *   addresses are accepted (split-horizon and lab setups publish them on purpose); the
 *   unspecified addresses (0.0.0.0, ::) are not.
 */
import { domainToASCII } from 'node:url';
import { badInput } from '../errors';
import { acceptAddress, familyLabel, type Family } from '../ip/classify';
import type { AddressSet } from '../providers/types';

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

/**
 * Names from text (separated by commas, spaces or new lines) or from an array of such texts,
 * normalised and without duplicates. Throws an `input` DdnsError naming every bad entry.
 */
export function parseHostnames(input: string | readonly string[]): string[] {
  const parts = (typeof input === 'string' ? [input] : input).flatMap((s) => s.split(/[\s,;]+/)).filter((s) => s !== '');
  const names: string[] = [];
  const bad: string[] = [];
  for (const p of parts) {
    const r = normaliseHostname(p);
    if (r.ok) {
      if (!names.includes(r.name)) names.push(r.name);
    } else bad.push(r.reason);
  }
  if (bad.length) throw badInput(`Invalid host name: ${bad.join('; ')}.`, 'invalid_hostname');
  return names;
}

/** The address normalised, or throws an `input` DdnsError saying why it cannot be published. */
export function checkAddress(text: unknown, family: Family): string {
  if (typeof text !== 'string') throw badInput(`The ${familyLabel(family)} address must be text such as ${family === 'ipv4' ? '203.0.113.7' : '2001:db8::7'}.`, 'invalid_address');
  const r = acceptAddress(text, family, { allowNonPublic: true });
  if (!r.ok) throw badInput(`Invalid ${familyLabel(family)} address: ${r.reason}.`, 'invalid_address');
  return r.address;
}

/** Both families checked; absent (undefined or null) families are left out. */
export function checkAddresses(a: { ipv4?: unknown; ipv6?: unknown }): AddressSet {
  const out: AddressSet = {};
  if (a.ipv4 !== undefined && a.ipv4 !== null) out.ipv4 = checkAddress(a.ipv4, 'ipv4');
  if (a.ipv6 !== undefined && a.ipv6 !== null) out.ipv6 = checkAddress(a.ipv6, 'ipv6');
  return out;
}
