/**
 * Addresses, the ground floor: what kind of address is this? The single place that decides whether an address may be
 * published as a home's public address.
 *
 * Untrusted text becomes an `Ip<F>` (`Ipv4`, `Ipv6`) here and nowhere else: a canonical address (lower case,
 * shortest form) of a known family. Code below the boundary that parsed it (detector output, dns-update msg input)
 * takes the type and never checks again.
 */
import ipaddr from 'ipaddr.js';
import { badInput, english, say, type Sentence } from './errors';

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
      /** The same, to say in the user's language. */
      said?: Sentence;
    }
  : never;

/** What `classify` says: a parsed address, or the text that is none. */
export type Classification =
  ParsedAddress | { address: string; family: null; class: 'invalid'; reason: string; said: Sentence };

/** What an address range is, in words (`__cidr__`: the range, or the address for a single one). */
const RANGE_WORDS = {
  this_network: say('address.range.this_network', '"this network" (__cidr__)'),
  private: say('address.range.private', 'a private address (__cidr__)'),
  cgnat: say(
    'address.range.cgnat',
    'a carrier-grade NAT address (__cidr__): your ISP shares one public address among many customers',
  ),
  loopback: say('address.range.loopback', 'a loopback address (__cidr__)'),
  link_local: say('address.range.link_local', 'a link-local address (__cidr__)'),
  ietf: say('address.range.ietf', 'an IETF protocol assignment (__cidr__)'),
  documentation: say('address.range.documentation', 'a documentation address (__cidr__)'),
  relay_6to4: say('address.range.relay_6to4', 'a deprecated 6to4 relay address (__cidr__)'),
  benchmarking: say('address.range.benchmarking', 'a benchmarking address (__cidr__)'),
  multicast: say('address.range.multicast', 'a multicast address (__cidr__)'),
  broadcast: say('address.range.broadcast', 'the broadcast address'),
  reserved: say('address.range.reserved', 'a reserved address (__cidr__)'),
  unspecified: say('address.range.unspecified', 'the unspecified address (__cidr__)'),
  loopback_one: say('address.range.loopback_one', 'the loopback address (__cidr__)'),
  v4_mapped: say('address.range.v4_mapped', 'an IPv4-mapped address (__cidr__)'),
  nat64: say('address.range.nat64', 'a NAT64 address (__cidr__)'),
  nat64_local: say('address.range.nat64_local', 'a local-use NAT64 address (__cidr__)'),
  discard: say('address.range.discard', 'a discard-only address (__cidr__)'),
  six_to_four: say('address.range.six_to_four', 'a 6to4 address (__cidr__)'),
  unique_local: say(
    'address.range.unique_local',
    'a unique-local address (__cidr__), reachable only inside your network',
  ),
};
type RangeWords = keyof typeof RANGE_WORDS;

const V4_RANGES: Array<[string, number, AddressClass, RangeWords]> = [
  ['0.0.0.0', 8, 'unspecified', 'this_network'],
  ['10.0.0.0', 8, 'private', 'private'],
  ['100.64.0.0', 10, 'cgnat', 'cgnat'],
  ['127.0.0.0', 8, 'loopback', 'loopback'],
  ['169.254.0.0', 16, 'link-local', 'link_local'],
  ['172.16.0.0', 12, 'private', 'private'],
  ['192.0.0.0', 24, 'reserved', 'ietf'],
  ['192.0.2.0', 24, 'documentation', 'documentation'],
  ['192.88.99.0', 24, 'reserved', 'relay_6to4'],
  ['192.168.0.0', 16, 'private', 'private'],
  ['198.18.0.0', 15, 'reserved', 'benchmarking'],
  ['198.51.100.0', 24, 'documentation', 'documentation'],
  ['203.0.113.0', 24, 'documentation', 'documentation'],
  ['224.0.0.0', 4, 'multicast', 'multicast'],
  ['255.255.255.255', 32, 'broadcast', 'broadcast'],
  ['240.0.0.0', 4, 'reserved', 'reserved'],
];

const V6_RANGES: Array<[string, number, AddressClass, RangeWords]> = [
  ['::', 128, 'unspecified', 'unspecified'],
  ['::1', 128, 'loopback', 'loopback_one'],
  ['::ffff:0:0', 96, 'reserved', 'v4_mapped'],
  ['64:ff9b::', 96, 'reserved', 'nat64'],
  ['64:ff9b:1::', 48, 'reserved', 'nat64_local'],
  ['100::', 64, 'reserved', 'discard'],
  ['2001::', 23, 'reserved', 'ietf'],
  ['2001:db8::', 32, 'documentation', 'documentation'],
  ['2002::', 16, 'reserved', 'six_to_four'],
  ['3fff::', 20, 'documentation', 'documentation'],
  ['fc00::', 7, 'unique-local', 'unique_local'],
  ['fe80::', 10, 'link-local', 'link_local'],
  ['ff00::', 8, 'multicast', 'multicast'],
];

/** The words of range `w` with its CIDR (a single address: the address). */
const rangeSaid = (w: RangeWords, net: string, p: number): Sentence => ({
  ...RANGE_WORDS[w],
  params: { cidr: p === 128 ? net : `${net}/${p}` },
});
const v4 = V4_RANGES.map(([a, p, c, w]) => [ipaddr.IPv4.parse(a), p, c, rangeSaid(w, a, p)] as const);
const v6 = V6_RANGES.map(([a, p, c, w]) => [ipaddr.IPv6.parse(a), p, c, rangeSaid(w, a, p)] as const);

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

/**
 * What `text` is (see `Classification`). Each change of address asks this several times of the same
 * text (the detector's answers, the engine's input, the msg), so the answers for the last texts are
 * kept: the same frozen object each time, not a new parse, sentence and copy per question.
 */
export function classify(text: string): Classification {
  const known = classified.get(text);
  if (known) return known;
  const c = Object.freeze(classifyNew(text));
  if (text.length > 64) return c; // no address is this long: not worth keeping (nor an answer's garbage)
  if (classified.size >= CLASSIFIED_KEPT) classified.delete(classified.keys().next().value as string);
  classified.set(text, c);
  return c;
}

/** How many texts `classify` keeps the answer of (the oldest is dropped first). */
const CLASSIFIED_KEPT = 64;
const classified = new Map<string, Classification>();

function classifyNew(text: string): Classification {
  const parsed = parseAddress(text);
  if (!parsed) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    const said = say('address.not_ip', '"__text__" is not an IP address', { text: shown });
    return { address: text, family: null, class: 'invalid', reason: english(said), said };
  }
  // `said` is not enumerable: a parsed address copied into a msg or compared stays what it was.
  const is = (c: AddressClass, said: Sentence): ParsedAddress =>
    Object.defineProperty({ ...parsed, class: c as ParsedAddress['class'], reason: english(said) }, 'said', {
      value: said,
    }) as ParsedAddress;
  const range = (c: AddressClass, r: Sentence) =>
    is(c, say('address.is', '__address__ is __range__', { address: parsed.address, range: r }));
  if (parsed.family === 'ipv4') {
    const a = ipaddr.IPv4.parse(parsed.address);
    for (const [net, p, c, r] of v4) if (a.match(net, p)) return range(c, r);
  } else {
    const a = ipaddr.IPv6.parse(parsed.address);
    for (const [net, p, c, r] of v6) if (a.match(net, p)) return range(c, r);
    // Global unicast is 2000::/3 only
    if (!a.match(ipaddr.IPv6.parse('2000::'), 3))
      return is(
        'reserved',
        say('address.not_unicast', '__address__ is outside the global unicast range (2000::/3)', {
          address: parsed.address,
        }),
      );
  }
  return is('public', say('address.public', '__address__ is a public address', { address: parsed.address }));
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
):
  | { ok: true; address: Ip<F>; class: AddressClass }
  | { ok: false; reason: string; said?: Sentence; class: AddressClass } {
  const r = accept(text, family, opts);
  return r.ok ? { ok: true, address: r.parsed.address as Ip<F>, class: r.parsed.class } : r;
}

function accept<F extends Family>(
  text: string,
  family: F,
  opts: AcceptOptions,
): { ok: true; parsed: ParsedAddress<F> } | { ok: false; reason: string; said?: Sentence; class: AddressClass } {
  const c = classify(text);
  if (c.class === 'invalid') return { ok: false, reason: c.reason, said: c.said, class: c.class };
  if (c.family !== family) {
    const said = say(
      'address.wrong_family',
      '__address__ is an __is__ address where an __wanted__ address was expected',
      {
        address: c.address,
        is: familyLabel(c.family),
        wanted: familyLabel(family),
      },
    );
    return { ok: false, reason: english(said), said, class: c.class };
  }
  if (c.class === 'public' || (opts.allowNonPublic && c.class !== 'unspecified'))
    return { ok: true, parsed: c as ParsedAddress<F> };
  const said = say('address.not_public', '__reason__, not a public address', { reason: c.said ?? c.reason });
  return { ok: false, reason: english(said), said, class: c.class };
}

/**
 * Untrusted input → an address of `family` that a name may be given. Non-public addresses are
 * accepted (split-horizon and lab setups publish them on purpose); the unspecified addresses
 * (0.0.0.0, ::) are not. Throws an `input` DdnsError (`invalid_address`) saying why not.
 */
export function parsePublishable<F extends Family>(text: unknown, family: F): ParsedAddress<F> {
  if (typeof text !== 'string')
    throw badInput(
      say('address.not_text', 'The __family__ address must be text such as __example__.', {
        family: familyLabel(family),
        example: family === 'ipv4' ? '203.0.113.7' : '2001:db8::7',
      }),
      'invalid_address',
    );
  const r = accept(text, family, { allowNonPublic: true });
  if (!r.ok)
    throw badInput(
      say('address.invalid', 'Invalid __family__ address: __reason__.', {
        family: familyLabel(family),
        reason: r.said ?? r.reason,
      }),
      'invalid_address',
    );
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

// ---------------------------------------------------------------------------------------------
// IPv6 prefix + interface identifier: a LAN host's address is the current prefix (the first
// `length` bits) followed by that host's own bits (its interface identifier).

/** The network of `address` with `length` bits, as CIDR text: `2001:db8:1:2::/64`. */
export function ipv6Prefix(address: Ipv6, length = 64): string {
  const bytes = ipaddr.IPv6.parse(address).toByteArray();
  return `${v6FromBytes(maskBytes(bytes, length)).toString()}/${length}`;
}

/** An address from 16 bytes (ipaddr.js's IPv6 constructor takes bytes as well as 16-bit parts). */
const v6FromBytes = (bytes: number[]) => new ipaddr.IPv6(bytes);

function maskBytes(bytes: number[], length: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

/** An interface identifier: the 16 bytes of an IPv6 address whose first `length` bits come from a prefix. */
export interface InterfaceId {
  bytes: number[];
  /** How many leading bits the prefix gives (the identifier gives the other 128 − length). */
  length: number;
}

/**
 * A literal interface identifier such as `::1234:5678:9abc:def0`, replacing the first `length` bits
 * (default 64). Its bits inside the prefix must be zero. Throws an `input` DdnsError saying why not.
 */
export function parseInterfaceId(text: string, length = 64): InterfaceId {
  const s = text.trim();
  checkPrefixLength(length, s);
  if (!s.includes(':') || s.includes('%') || !ipaddr.IPv6.isValid(s))
    throw badInput(
      say(
        'address.not_host_id',
        '"__text__" is not an interface identifier: write the host\'s own bits as an IPv6 address starting with ::, e.g. ::1234:5678:9abc:def0.',
        { text: clipText(s) },
      ),
      'invalid_host_id',
    );
  const bytes = ipaddr.IPv6.parse(s).toByteArray();
  if (maskBytes(bytes, length).some((b) => b !== 0))
    throw badInput(
      say(
        'address.host_id_prefix_bits',
        "The interface identifier __id__ has bits set inside the first __length__ bits, which come from the prefix: write only the host's own bits after ::, e.g. ::1234:5678:9abc:def0 (or give a shorter prefix length with /N).",
        { id: s, length },
      ),
      'invalid_host_id',
    );
  if (bytes.every((b) => b === 0))
    throw badInput(
      say(
        'address.host_id_zero',
        'The interface identifier __id__ is all zero: that is the prefix itself, not a host.',
        {
          id: s,
        },
      ),
      'invalid_host_id',
    );
  return { bytes, length };
}

/**
 * The modified EUI-64 interface identifier of a MAC address (RFC 4291 appendix A): `ff:fe` in the
 * middle and the universal/local bit (0x02 of the first byte) inverted. Accepts `aa:bb:cc:dd:ee:ff`,
 * `aa-bb-cc-dd-ee-ff` and `aabb.ccdd.eeff`. It fills the last 64 bits: the prefix must be a /64.
 */
export function eui64FromMac(mac: string): InterfaceId {
  const s = mac.trim().toLowerCase();
  const hex = /^[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}$/.test(s)
    ? s.replace(/[:-]/g, '')
    : /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(s)
      ? s.replace(/\./g, '')
      : null;
  if (!hex)
    throw badInput(
      say(
        'address.not_mac',
        '"__text__" is not a MAC address: write six pairs of hex digits, e.g. aa:bb:cc:dd:ee:ff.',
        {
          text: clipText(mac.trim()),
        },
      ),
      'invalid_host_id',
    );
  const m = hex.match(/.{2}/g)!.map((h) => parseInt(h, 16));
  const bytes = [0, 0, 0, 0, 0, 0, 0, 0, m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]];
  return { bytes, length: 64 };
}

/** The address made of the first `id.length` bits of `prefix` and the rest from the identifier. */
export function withInterfaceId(prefix: Ipv6, id: InterfaceId): Ipv6 {
  const p = maskBytes(ipaddr.IPv6.parse(prefix).toByteArray(), id.length);
  return v6FromBytes(p.map((b, i) => b | id.bytes[i])).toString() as Ipv6;
}

/**
 * An IPv6 prefix in CIDR text (`2001:db8:1:2::/64`): its address (host bits cleared) and length.
 * Throws an `input` DdnsError saying why not.
 */
export function parseIpv6Prefix(text: string): { address: Ipv6; length: number } {
  const s = text.trim();
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const addr = m ? parseAddress(m[1]) : null;
  const length = m ? Number(m[2]) : NaN;
  if (!m || !addr || addr.family !== 'ipv6' || length < 1 || length > 128)
    throw badInput(
      say('address.not_prefix', '"__text__" is not an IPv6 prefix such as 2001:db8:1:2::/64.', { text: clipText(s) }),
      'invalid_address',
    );
  const bytes = maskBytes(ipaddr.IPv6.parse(addr.address).toByteArray(), length);
  return { address: v6FromBytes(bytes).toString() as Ipv6, length };
}

function checkPrefixLength(length: number, what: string): void {
  if (!Number.isInteger(length) || length < 1 || length > 127)
    throw badInput(
      say('address.prefix_length', 'The prefix length of __what__ must be a whole number from 1 to 127 (usually 64).', {
        what: clipText(what),
      }),
      'invalid_host_id',
    );
}

const clipText = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);
