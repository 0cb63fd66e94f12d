/**
 * AAAA records for LAN hosts: per name, whose IPv6 address it gets. A LAN host's public IPv6
 * address is the current prefix (what public-ip-watch found) followed by that host's own
 * interface identifier; when the provider changes the prefix, every host's address changes at once.
 *
 * The syntax, in dns-update's host names (parsed once, here):
 *
 *     nas.example.com@mac(aa:bb:cc:dd:ee:ff)   the /64 prefix + the host's EUI-64 (SLAAC from its MAC)
 *     printer.example.com@::1234               the /64 prefix + ::1234
 *     lab.example.com@::5:0:0:0:1/56           the first 56 bits of the prefix + ::5:0:0:0:1
 *     home.example.com  (or home.example.com@self)  this host's own stable address, as found
 *
 * `/N` is the prefix length: how many leading bits come from the current prefix (default 64).
 * IPv4 is the same for every name (the router's public address).
 */
import { badInput, say, toDdnsError, type Sentence } from '../errors';
import { failureSaid, listSaid, type Said } from '../said';
import {
  classify,
  eui64FromMac,
  parseInterfaceId,
  withInterfaceId,
  type AddressSet,
  type Family,
  type InterfaceId,
  type Ipv6,
} from '../address';
import type { Ipv6Stability } from './detector';
import { normaliseHostname, type Hostname } from '../hostname';

/** Whose IPv6 address a name gets: this host's own (`self`) or the prefix + an interface identifier. */
export type HostId = { kind: 'self' } | ({ kind: 'iid' | 'mac'; text: string } & InterfaceId);

export interface HostEntry {
  name: Hostname;
  hostId: HostId;
}

const SELF: HostId = { kind: 'self' };

/** One host identifier (the text after `@`). Throws an `input` DdnsError saying why not. */
export function parseHostId(text: string): HostId {
  const s = text.trim();
  if (s === '' || s.toLowerCase() === 'self') return SELF;
  const slash = s.lastIndexOf('/');
  const body = slash < 0 ? s : s.slice(0, slash);
  const lenText = slash < 0 ? undefined : s.slice(slash + 1);
  if (lenText !== undefined && !/^\d{1,3}$/.test(lenText))
    throw badInput(
      say('ip.host_id_length', '"__text__": the prefix length after / must be a number such as 64.', { text: s }),
      'invalid_host_id',
    );
  const length = lenText === undefined ? 64 : Number(lenText);
  const mac = /^mac\((.*)\)$/i.exec(body);
  if (mac) {
    if (length !== 64)
      throw badInput(
        say(
          'ip.host_id_mac_length',
          '"__text__": mac(…) gives the last 64 bits (EUI-64), so it needs a /64 prefix, not /__length__.',
          { text: s, length },
        ),
        'invalid_host_id',
      );
    return { kind: 'mac', text: `mac(${mac[1].trim().toLowerCase()})`, ...eui64FromMac(mac[1]) };
  }
  const id = parseInterfaceId(body, length);
  return { kind: 'iid', text: lenText === undefined ? body : `${body}/${length}`, ...id };
}

/**
 * Host names with an optional `@hostid` each, from text (separated by commas, spaces or new lines)
 * or a list of texts. A name given twice must have the same identifier. Throws an `input` DdnsError
 * naming every bad entry.
 */
export function parseHostEntries(input: string | readonly string[]): HostEntry[] {
  const parts = (typeof input === 'string' ? [input] : input)
    .flatMap((s) => s.split(/[\s,;]+/))
    .filter((s) => s !== '');
  const out: HostEntry[] = [];
  const bad: Said[] = [];
  for (const p of parts) {
    const at = p.indexOf('@');
    const n = normaliseHostname(at < 0 ? p : p.slice(0, at));
    if (!n.ok) {
      bad.push(n.reason);
      continue;
    }
    let hostId: HostId;
    try {
      hostId = at < 0 ? SELF : parseHostId(p.slice(at + 1));
    } catch (e) {
      bad.push(`${n.name}: ${toDdnsError(e).message.replace(/\.$/, '')}`);
      continue;
    }
    const seen = out.find((x) => x.name === n.name);
    if (!seen) out.push({ name: n.name, hostId });
    else if (describeHostId(seen.hostId) !== describeHostId(hostId))
      bad.push(
        say('ip.host_twice', '__name__ is given twice, with __first__ and with __second__', {
          name: n.name,
          first: hostIdSaid(seen.hostId),
          second: hostIdSaid(hostId),
        }),
      );
  }
  if (bad.length)
    throw badInput(
      say('hostname.invalid', 'Invalid host name: __reasons__.', { reasons: listSaid(bad) }),
      'invalid_hostname',
    );
  return out;
}

/** The identifier in words: `this host's address`, `mac(aa:bb:cc:dd:ee:ff)`, `::1234`. */
export function describeHostId(id: HostId): string {
  return id.kind === 'self' ? "this host's address" : id.text;
}

/** The same, as the adapter says it in the user's language. */
const hostIdSaid = (id: HostId): Said => (id.kind === 'self' ? say('ip.host_self', "this host's address") : id.text);

/** Whether any entry has its own identifier (not this host's address). */
export const hasHostIds = (entries: readonly HostEntry[]): boolean => entries.some((e) => e.hostId.kind !== 'self');

/**
 * The IPv6 address of an entry: this host's own address (`self`), or the prefix + the identifier.
 * `prefix` is the current prefix (or any address inside it) with its length.
 */
export function hostAddress(id: HostId, self: Ipv6 | undefined, prefix: { address: Ipv6; length: number }): Ipv6 {
  if (id.kind === 'self') {
    if (!self)
      throw badInput(
        say('ip.no_self_address', 'msg.payload has no IPv6 address of this host, only a prefix.'),
        'no_address',
      );
    return self;
  }
  if (prefix.length < id.length)
    throw badInput(
      say('ip.prefix_too_short', 'the prefix __prefix__ is shorter than the /__length__ that __id__ needs.', {
        prefix: `${prefix.address}/${prefix.length}`,
        length: id.length,
        id: id.text,
      }),
      'invalid_host_id',
    );
  return withInterfaceId(prefix.address, id);
}

/** An IPv6 prefix (or an address inside it) with how many of its leading bits are known. */
export type Prefix = { address: Ipv6; length: number };

export interface PerNameOptions {
  /** What public-ip-watch said of its IPv6 address (payload `ipv6Stability`); absent: taken as given. */
  stability?: Ipv6Stability | null;
  /** Unique-local addresses may be sent (a DNS server inside the network). */
  localDns?: boolean;
  /** The provider, as the refusal of a unique-local address names it. */
  provider?: string;
}

/** The names grouped by the addresses they get, and the names that keep a record, with why. */
export interface PerName {
  groups: Array<{ names: Hostname[]; addresses: AddressSet }>;
  /** `temporary`: the name's address would be a temporary (or unverified) one of this host's. */
  kept: Array<{ name: Hostname; family: Family; said: Sentence; temporary?: true }>;
}

/**
 * The addresses of every name (one engine update per group): the IPv4 address is the same for all,
 * the IPv6 address is this host's own (`self`) or the prefix + the name's identifier.
 * - A `self` name keeps its AAAA when the payload has only a prefix, or when its IPv6 address is
 *   this host's temporary one or was seen only from outside (`stability`): the prefix of that address
 *   is right for the other names (same /64), the address is not this host's stable one.
 * - Never a link-local address; a unique-local one only to a DNS server inside the network.
 * Throws (an input DdnsError naming the name) when a name's address cannot be built or sent:
 * nothing is sent then.
 */
export function addressesPerName(
  entries: readonly HostEntry[],
  addresses: AddressSet,
  prefix: Prefix | undefined,
  opts: PerNameOptions = {},
): PerName {
  const groups = new Map<string, { names: Hostname[]; addresses: AddressSet }>();
  const kept: PerName['kept'] = [];
  const unstable = opts.stability === 'temporary' || opts.stability === 'unverified' ? opts.stability : undefined;
  for (const e of entries) {
    let ipv6: Ipv6 | undefined;
    if (prefix) {
      if (e.hostId.kind === 'self' && !addresses.ipv6)
        kept.push({
          name: e.name,
          family: 'ipv6',
          said: say(
            'ip.prefix_only_kept',
            "msg.payload has only an IPv6 prefix, not this host's address: __name__ keeps its AAAA record.",
            { name: e.name },
          ),
        });
      else if (e.hostId.kind === 'self' && unstable)
        kept.push({
          name: e.name,
          family: 'ipv6',
          said: notStable(e.name, addresses.ipv6!, unstable),
          temporary: true,
        });
      else {
        try {
          ipv6 = hostAddress(e.hostId, addresses.ipv6, prefix);
          refuseUnfit(ipv6, opts);
        } catch (err) {
          const who = e.hostId.kind === 'self' ? e.name : `${e.name}@${describeHostId(e.hostId)}`;
          throw badInput(
            say('ip.host_failed', '__host__: __reason__', { host: who, reason: failureSaid(err) }),
            'invalid_address',
          );
        }
      }
    }
    const set: AddressSet = {};
    if (addresses.ipv4) set.ipv4 = addresses.ipv4;
    if (ipv6) set.ipv6 = ipv6;
    if (!set.ipv4 && !set.ipv6) continue;
    const key = `${set.ipv4 ?? ''}|${set.ipv6 ?? ''}`;
    const g = groups.get(key) ?? { names: [], addresses: set };
    g.names.push(e.name);
    groups.set(key, g);
  }
  return { groups: [...groups.values()], kept };
}

function notStable(name: string, address: Ipv6, why: 'temporary' | 'unverified'): Sentence {
  const seen =
    why === 'temporary'
      ? say(
          'ip.temporary_seen',
          "__address__ is this computer's temporary (privacy) IPv6 address, the one outside services see because connections leave from it; it changes daily.",
          { address },
        )
      : say(
          'ip.outside_seen',
          "__address__ was seen only by outside services and is not on this computer's network interfaces: it may be a temporary (privacy) address, which changes daily.",
          { address },
        );
  return say(
    'ip.unstable_kept',
    '__name__ keeps its AAAA record: __seen__ Add the "network interface" source to public-ip-watch so that this computer\'s stable address is published, or give the name a host identifier (__name__@::1234 or __name__@mac(…)) to build its address on the prefix.',
    { name, seen },
  );
}

/** Never a link-local address in DNS; a unique-local one only to a DNS server inside the network. */
function refuseUnfit(address: Ipv6, opts: PerNameOptions): void {
  const c = classify(address);
  if (c.class === 'link-local')
    throw badInput(
      say('ip.link_local', '__reason__: it works only on one network link and is never published.', {
        reason: c.said ?? c.reason,
      }),
      'invalid_address',
    );
  if (c.class === 'unique-local' && !opts.localDns)
    throw badInput(
      say(
        'ip.unique_local',
        '__reason__: it is not sent to __provider__, whose names the whole internet sees; publish unique-local names in a DNS server inside your network (RFC 2136).',
        { reason: c.said ?? c.reason, provider: opts.provider ?? say('ip.public_provider', 'a public DNS provider') },
      ),
      'invalid_address',
    );
}
