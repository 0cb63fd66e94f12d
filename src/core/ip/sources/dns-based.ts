/**
 * Address sources that ask a DNS server "who am I?":
 * - OpenDNS: `myip.opendns.com` A (IPv4) / AAAA (IPv6) asked of resolver1.opendns.com, which
 *   answers with the address the question came from;
 * - Google: `o-o.myaddr.l.google.com` TXT asked of ns1.google.com, which answers with the address
 *   the question came from (as text).
 * An IPv4 lookup asks the IPv4 server and an IPv6 lookup the IPv6 server, so the answer is the
 * address of the right family. Plain DNS is not encrypted: prefer the HTTPS sources first.
 */
import { say, transient } from '../../errors';
import { parseServer, query, serverLabel, type DnsServer, type QueryResult } from '../../dns/transport';
import type { Family } from '../../address';
import type { IpSource, SourceAnswer, SourceContext } from '../types';
import { endpointFor, endpointFamilies, type Endpoints } from './common';

export type DnsPreset = 'opendns' | 'google-dns';

interface DnsPresetInfo {
  name: string;
  qname: string;
  /** Record type asked per family. */
  type: (f: Family) => 'A' | 'AAAA' | 'TXT';
  /** Ask with the RD bit (a resolver) or without (an authoritative server). */
  recursion: boolean;
  servers: Required<Endpoints>;
}

export const DNS_PRESETS: Record<DnsPreset, DnsPresetInfo> = {
  opendns: {
    name: 'OpenDNS',
    qname: 'myip.opendns.com',
    type: (f) => (f === 'ipv4' ? 'A' : 'AAAA'),
    recursion: true,
    servers: { ipv4: '208.67.222.222', ipv6: '2620:119:35::35' }, // resolver1.opendns.com
  },
  'google-dns': {
    name: 'Google DNS',
    qname: 'o-o.myaddr.l.google.com',
    type: () => 'TXT',
    recursion: false,
    servers: { ipv4: '216.239.32.10', ipv6: '2001:4860:4802:32::a' }, // ns1.google.com
  },
};

/** Pick the address text out of a decoded answer. */
function addressFrom(res: QueryResult, preset: DnsPresetInfo, type: 'A' | 'AAAA' | 'TXT'): string | null {
  const qname = preset.qname.toLowerCase();
  for (const a of res.answers) {
    if (a.type !== type || a.name.toLowerCase().replace(/\.$/, '') !== qname) continue;
    if (type === 'TXT') {
      const parts = (Array.isArray(a.data) ? a.data : [a.data]) as Array<Buffer | string>;
      const text = parts.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8'))).join('');
      // Google adds "edns0-client-subnet <net>" when the question carries a client subnet
      if (text.startsWith('edns0-client-subnet')) continue;
      return text;
    }
    return String(a.data);
  }
  return null;
}

/** `overrides` are "host", "host:port" or "[v6]:port" per family; the host must be an IP address. */
export function dnsSource(preset: DnsPreset, overrides: Endpoints = {}): IpSource {
  const p = DNS_PRESETS[preset];
  const servers: Endpoints = { ipv4: overrides.ipv4 ?? p.servers.ipv4, ipv6: overrides.ipv6 ?? p.servers.ipv6 };
  const parsed: Partial<Record<Family, DnsServer>> = {};
  for (const f of endpointFamilies(servers)) parsed[f] = parseServer(servers[f]!);
  return {
    id: preset,
    label: `${p.name} (${endpointFamilies(servers)
      .map((f) => serverLabel(parsed[f]!))
      .join(', ')})`,
    families: endpointFamilies(servers),
    kind: 'external',
    async lookup(ctx: SourceContext): Promise<SourceAnswer> {
      endpointFor(servers, ctx.family, p.name);
      const server = parsed[ctx.family]!;
      const type = p.type(ctx.family);
      const res = await query(server, p.qname, type, {
        recursion: p.recursion,
        timeoutMs: ctx.timeoutMs,
        retransmitMs: Math.max(200, Math.min(1000, Math.floor(ctx.timeoutMs / 4))),
        signal: ctx.signal,
        localAddress: ctx.localAddress,
      });
      const where = serverLabel(server);
      if (res.rcode !== 'NOERROR') {
        throw transient(
          say('ip.dns_rcode', 'DNS server __server__ answered __rcode__ to __name__ __type__', {
            server: where,
            rcode: res.rcode,
            name: p.qname,
            type,
          }),
          {
            code: `dns_${res.rcode.toLowerCase()}`,
          },
        );
      }
      const address = addressFrom(res, p, type);
      if (address === null)
        throw transient(
          say('ip.dns_no_record', 'DNS server __server__ gave no __type__ record for __name__', {
            server: where,
            type,
            name: p.qname,
          }),
          { code: 'dns_no_answer' },
        );
      return { address, info: { server: serverLabel(server) } };
    },
  };
}
