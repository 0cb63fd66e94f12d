/**
 * Host names as this package accepts them, in one place: a fully qualified domain name of at
 * least two labels, letters/digits/hyphens (no hyphen at either end of a label), 1–63 characters
 * per label, 253 in all; the first label may be `*` (wildcard record). Returned lower-case,
 * without a trailing dot, in punycode when typed in Unicode.
 *
 * Untrusted text becomes a `Hostname` here and nowhere else; code below the boundary that parsed it
 * trusts the type. A provider's own shape rules (DuckDNS sub-names, dyndns2's "no wildcard") are
 * small predicates on a `Hostname` in that provider.
 */
import { domainToASCII } from 'node:url';
import { badInput, english, say, type Sentence } from './errors';
import { listSaid } from './said';

/** A name refused, with why (in English, and as a sentence to say in the user's language). */
const no = (said: Sentence) => ({ ok: false as const, reason: english(said), said });

declare const hostnameBrand: unique symbol;
/** A normalised host name, made only by this module's parsers. */
export type Hostname = string & { readonly [hostnameBrand]: true };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The form two DNS names are compared in, without checking either: trimmed, lower case, no final
 * dot (a name as an API or a provider's answer gives it, against a parsed Hostname or a domain).
 */
export function nameKey(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** The normalised name, or why it is not a usable host name. */
export function normaliseHostname(
  input: string,
): { ok: true; name: Hostname } | { ok: false; reason: string; said: Sentence } {
  const shown = input.length > 80 ? `${input.slice(0, 80)}…` : input;
  let n = input.trim().toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  if (n === '') return no(say('hostname.empty', 'a host name is empty'));
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(n)) {
    const ascii = domainToASCII(n);
    if (!ascii) return no(say('hostname.not_valid', '"__name__" is not a valid host name', { name: shown }));
    n = ascii;
  }
  if (n.length > 253)
    return no(
      say('hostname.too_long', '"__name__" is longer than the 253 characters a host name may have', { name: shown }),
    );
  const labels = n.split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (i === 0 && l === '*') continue;
    if (l === '')
      return no(say('hostname.empty_part', '"__name__" has an empty part between two dots', { name: shown }));
    if (l.length > 63)
      return no(say('hostname.long_part', '"__name__" has a part longer than 63 characters', { name: shown }));
    if (!LABEL.test(l)) {
      return no(
        say(
          'hostname.bad_chars',
          '"__name__" is not a valid host name: each part may only hold letters, digits and hyphens (not at its start or end)',
          { name: shown },
        ),
      );
    }
  }
  if (labels.length < 2) {
    return no(
      say(
        'hostname.not_full',
        '"__name__" is not a full host name: write it with its domain, e.g. __label__.duckdns.org or __label__.example.com',
        { name: shown, label: n },
      ),
    );
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]))
    return no(say('hostname.address', '"__name__" looks like an address, not a host name', { name: shown }));
  return { ok: true, name: n as Hostname };
}

/**
 * Names from text (separated by commas, spaces or new lines) or from an array of such texts,
 * normalised and without duplicates. Throws an `input` DdnsError naming every bad entry.
 */
export function parseHostnames(input: string | readonly string[]): Hostname[] {
  const parts = (typeof input === 'string' ? [input] : input)
    .flatMap((s) => s.split(/[\s,;]+/))
    .filter((s) => s !== '');
  const names: Hostname[] = [];
  const bad: Sentence[] = [];
  for (const p of parts) {
    const r = normaliseHostname(p);
    if (r.ok) {
      if (!names.includes(r.name)) names.push(r.name);
    } else bad.push(r.said);
  }
  if (bad.length)
    throw badInput(
      say('hostname.invalid', 'Invalid host name: __reasons__.', { reasons: listSaid(bad) }),
      'invalid_hostname',
    );
  return names;
}
