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
import { badInput } from '../errors';
import { normaliseHostname } from '../hostname';
import { acceptAddress, familyLabel, type Family } from '../address';
import type { AddressSet } from '../providers/types';

export { normaliseHostname };

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
