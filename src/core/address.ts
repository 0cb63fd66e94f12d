/**
 * Addresses, the ground floor: what kind of address is this? The single place that decides whether an address may be
 * published as a home's public address.
 *
 * Untrusted text becomes an `Ip<F>` (`Ipv4`, `Ipv6`) here and nowhere else: a canonical address (lower case,
 * shortest form) of a known family. Code below the boundary that parsed it (detector output, dns-update msg input)
 * takes the type and never checks again.
 */
import ipaddr from 'ipaddr.js';
import { badInput } from './errors';

export type Family = 'ipv4' | 'ipv6';

declare const ipBrand: unique symbol;
/** A canonical address of family F, made only by the parsers of this module. */
export type Ip<F extends Family = Family> = string & { readonly [ipBrand]: F };
export type Ipv4 = Ip<'ipv4'>;
export type Ipv6 = Ip<'ipv6'>;

/** Parsed addresses, at most one per family: what an update publishes. */
export interface AddressSet {
  ipv4?: Ipv4;
  ipv6?: Ipv6;
}

export type AddressClass =
  | 'public'
  | 'private' // RFC 1918, 10/8 172.16/12 192.168/16
  | 'cgnat' // RFC 6598 shared address space 100.64.0.0/10
  | 'loopback'
  | 'link-local'
  | 'unique-local' // fc00::/7
  | 'documentation' // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved' // everything else that is not global unicast (benchmarking 198.18/15, 240/4, 6to4 relay, ...)
  | 'invalid';

/** An address that parsed: its canonical form, its family and its class. */
export type ParsedAddress<F extends Family = Family> = F extends Family
  ? {
      address: Ip<F>;
      family: F;
      class: Exclude<AddressClass, 'invalid'>;
      /** A sentence for a person: why this address is (not) acceptable. */
      reason: string;
    }
  : never;

/** What `classify` says: a parsed address, or the text that is none. */
export type Classification = ParsedAddress | { address: string; family: null; class: 'invalid'; reason: string };

const V4_RANGES: Array<[string, number, AddressClass, string]> = [
  ['0.0.0.0', 8, 'unspecified', '"this network" (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'private', 'a private address (10.0.0.0/8)'],
  [
    '100.64.0.0',
    10,
    'cgnat',
    'a carrier-grade NAT address (100.64.0.0/10): your ISP shares one public address among many customers',
  ],
  ['127.0.0.0', 8, 'loopback', 'a loopback address (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'link-local', 'a link-local address (169.254.0.0/16)'],
  ['172.16.0.0', 12, 'private', 'a private address (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'reserved', 'an IETF protocol assignment (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'documentation', 'a documentation address (192.0.2.0/24)'],
  ['192.88.99.0', 24, 'reserved', 'a deprecated 6to4 relay address (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'private', 'a private address (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'reserved', 'a benchmarking address (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'documentation', 'a documentation address (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'documentation', 'a documentation address (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'multicast', 'a multicast address (224.0.0.0/4)'],
  ['255.255.255.255', 32, 'broadcast', 'the broadcast address'],
  ['240.0.0.0', 4, 'reserved', 'a reserved address (240.0.0.0/4)'],
];

const V6_RANGES: Array<[string, number, AddressClass, string]> = [
  ['::', 128, 'unspecified', 'the unspecified address (::)'],
  ['::1', 128, 'loopback', 'the loopback address (::1)'],
  ['::ffff:0:0', 96, 'reserved', 'an IPv4-mapped address (::ffff:0:0/96)'],
  ['64:ff9b::', 96, 'reserved', 'a NAT64 address (64:ff9b::/96)'],
  ['64:ff9b:1::', 48, 'reserved', 'a local-use NAT64 address (64:ff9b:1::/48)'],
  ['100::', 64, 'reserved', 'a discard-only address (100::/64)'],
  ['2001::', 23, 'reserved', 'an IETF protocol assignment (2001::/23)'],
  ['2001:db8::', 32, 'documentation', 'a documentation address (2001:db8::/32)'],
  ['2002::', 16, 'reserved', 'a 6to4 address (2002::/16)'],
  ['3fff::', 20, 'documentation', 'a documentation address (3fff::/20)'],
  ['fc00::', 7, 'unique-local', 'a unique-local address (fc00::/7), reachable only inside your network'],
  ['fe80::', 10, 'link-local', 'a link-local address (fe80::/10)'],
  ['ff00::', 8, 'multicast', 'a multicast address (ff00::/8)'],
];

const v4 = V4_RANGES.map(([a, p, c, r]) => [ipaddr.IPv4.parse(a), p, c, r] as const);
const v6 = V6_RANGES.map(([a, p, c, r]) => [ipaddr.IPv6.parse(a), p, c, r] as const);

/** Strict parse: dotted-quad IPv4 (no octal, no short forms) or IPv6 (no zone id). */
export function parseAddress(
  text: string,
): { address: Ipv4; family: 'ipv4' } | { address: Ipv6; family: 'ipv6' } | null {
  const s = text.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(s))
    return { address: ipaddr.IPv4.parse(s).toString() as Ipv4, family: 'ipv4' };
  if (s.includes(':') && !s.includes('%') && ipaddr.IPv6.isValid(s)) {
    return { address: ipaddr.IPv6.parse(s).toString() as Ipv6, family: 'ipv6' };
  }
  return null;
}

export function classify(text: string): Classification {
  const parsed = parseAddress(text);
  if (!parsed) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    return { address: text, family: null, class: 'invalid', reason: `"${shown}" is not an IP address` };
  }
  if (parsed.family === 'ipv4') {
    const a = ipaddr.IPv4.parse(parsed.address);
    for (const [net, p, c, r] of v4)
      if (a.match(net, p))
        return { ...parsed, class: c as ParsedAddress['class'], reason: `${parsed.address} is ${r}` };
  } else {
    const a = ipaddr.IPv6.parse(parsed.address);
    for (const [net, p, c, r] of v6)
      if (a.match(net, p))
        return { ...parsed, class: c as ParsedAddress['class'], reason: `${parsed.address} is ${r}` };
    // Global unicast is 2000::/3 only
    if (!a.match(ipaddr.IPv6.parse('2000::'), 3)) {
      return {
        ...parsed,
        class: 'reserved',
        reason: `${parsed.address} is outside the global unicast range (2000::/3)`,
      };
    }
  }
  return { ...parsed, class: 'public', reason: `${parsed.address} is a public address` };
}

export interface AcceptOptions {
  /** Lab use: accept any syntactically valid address of the right family. */
  allowNonPublic?: boolean;
}

/**
 * Is `text` acceptable as the public address of `family`? Returns the normalised address, or the
 * reason why not.
 */
export function acceptAddress<F extends Family>(
  text: string,
  family: F,
  opts: AcceptOptions = {},
): { ok: true; address: Ip<F>; class: AddressClass } | { ok: false; reason: string; class: AddressClass } {
  const r = accept(text, family, opts);
  return r.ok ? { ok: true, address: r.parsed.address as Ip<F>, class: r.parsed.class } : r;
}

function accept<F extends Family>(
  text: string,
  family: F,
  opts: AcceptOptions,
): { ok: true; parsed: ParsedAddress<F> } | { ok: false; reason: string; class: AddressClass } {
  const c = classify(text);
  if (c.class === 'invalid') return { ok: false, reason: c.reason, class: c.class };
  if (c.family !== family) {
    return {
      ok: false,
      reason: `${c.address} is an ${familyLabel(c.family)} address where an ${familyLabel(family)} address was expected`,
      class: c.class,
    };
  }
  if (c.class === 'public' || (opts.allowNonPublic && c.class !== 'unspecified'))
    return { ok: true, parsed: c as ParsedAddress<F> };
  return { ok: false, reason: `${c.reason}, not a public address`, class: c.class };
}

/**
 * Untrusted input → an address of `family` that a name may be given. Non-public addresses are
 * accepted (split-horizon and lab setups publish them on purpose); the unspecified addresses
 * (0.0.0.0, ::) are not. Throws an `input` DdnsError (`invalid_address`) saying why not.
 */
export function parsePublishable<F extends Family>(text: unknown, family: F): ParsedAddress<F> {
  if (typeof text !== 'string')
    throw badInput(
      `The ${familyLabel(family)} address must be text such as ${family === 'ipv4' ? '203.0.113.7' : '2001:db8::7'}.`,
      'invalid_address',
    );
  const r = accept(text, family, { allowNonPublic: true });
  if (!r.ok) throw badInput(`Invalid ${familyLabel(family)} address: ${r.reason}.`, 'invalid_address');
  return r.parsed;
}

/** Both families parsed with `parsePublishable`; absent (undefined or null) families are left out. */
export function parseAddressSet(a: { ipv4?: unknown; ipv6?: unknown }): AddressSet {
  const out: AddressSet = {};
  if (a.ipv4 !== undefined && a.ipv4 !== null) out.ipv4 = parsePublishable(a.ipv4, 'ipv4').address;
  if (a.ipv6 !== undefined && a.ipv6 !== null) out.ipv6 = parsePublishable(a.ipv6, 'ipv6').address;
  return out;
}

export function familyLabel(f: Family): 'IPv4' | 'IPv6' {
  return f === 'ipv4' ? 'IPv4' : 'IPv6';
}
