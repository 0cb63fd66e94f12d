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
import { badInput, toDdnsError } from '../errors';
import { eui64FromMac, parseInterfaceId, withInterfaceId, type InterfaceId, type Ipv6 } from '../address';
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
    throw badInput(`"${s}": the prefix length after / must be a number such as 64.`, 'invalid_host_id');
  const length = lenText === undefined ? 64 : Number(lenText);
  const mac = /^mac\((.*)\)$/i.exec(body);
  if (mac) {
    if (length !== 64)
      throw badInput(
        `"${s}": mac(…) gives the last 64 bits (EUI-64), so it needs a /64 prefix, not /${length}.`,
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
  const bad: string[] = [];
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
      bad.push(`${n.name} is given twice, with ${describeHostId(seen.hostId)} and with ${describeHostId(hostId)}`);
  }
  if (bad.length) throw badInput(`Invalid host name: ${bad.join('; ')}.`, 'invalid_hostname');
  return out;
}

/** The identifier in words: `this host's address`, `mac(aa:bb:cc:dd:ee:ff)`, `::1234`. */
export function describeHostId(id: HostId): string {
  return id.kind === 'self' ? "this host's address" : id.text;
}

/** Whether any entry has its own identifier (not this host's address). */
export const hasHostIds = (entries: readonly HostEntry[]): boolean => entries.some((e) => e.hostId.kind !== 'self');

/**
 * The IPv6 address of an entry: this host's own address (`self`), or the prefix + the identifier.
 * `prefix` is the current prefix (or any address inside it) with its length.
 */
export function hostAddress(id: HostId, self: Ipv6 | undefined, prefix: { address: Ipv6; length: number }): Ipv6 {
  if (id.kind === 'self') {
    if (!self) throw badInput('msg.payload has no IPv6 address of this host, only a prefix.', 'no_address');
    return self;
  }
  if (prefix.length < id.length)
    throw badInput(
      `the prefix ${prefix.address}/${prefix.length} is shorter than the /${id.length} that ${id.text} needs.`,
      'invalid_host_id',
    );
  return withInterfaceId(prefix.address, id);
}
