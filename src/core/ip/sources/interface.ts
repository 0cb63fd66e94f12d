/**
 * The address held by this host's own network interface: right for hosts that hold the public
 * address themselves (PPPoE on `ppp0`, a global IPv6 address on `eth0`).
 *
 * Contract: answers the first public address of the family (on the named interface, or on any
 * non-loopback interface). When there is none, it answers the first other usable address (a
 * private or CGNAT one) so that the detector can say why it is not public and spot CGNAT.
 * IPv6 addresses that the kernel marks temporary (privacy addresses, which change daily),
 * deprecated (on their way out), tentative (duplicate check not finished) or failed duplicate
 * check are skipped; temporary ones may be allowed. The flags come from /proc/net/if_inet6
 * (Linux); elsewhere no address is skipped for them.
 */
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import ipaddr from 'ipaddr.js';
import { say, transient, type Sentence } from '../../errors';
import { listSaid } from '../../said';
import { classify, familyLabel, type Family } from '../../address';
import type { IpSource, SourceAnswer, SourceContext } from '../types';

/** Kernel address flags (linux/if_addr.h) as shown in /proc/net/if_inet6 (low 8 bits). */
export const IFA_F = { temporary: 0x01, dadfailed: 0x08, deprecated: 0x20, tentative: 0x40 } as const;

export interface InterfaceReaders {
  /** The host's interfaces, like os.networkInterfaces(). */
  interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** The text of /proc/net/if_inet6, or null where the system has none. */
  if6Flags?: (signal: AbortSignal) => Promise<string | null>;
}

export interface InterfaceSourceOptions {
  /** Interface name (e.g. `ppp0`); any non-loopback interface when absent. */
  interface?: string;
  /** Also use temporary (privacy) IPv6 addresses. They change often: not advised for DNS. */
  allowTemporary?: boolean;
  readers?: InterfaceReaders;
}

/** The text of /proc/net/if_inet6, or null where the system has none. */
export async function readProcIf6(signal: AbortSignal): Promise<string | null> {
  try {
    return await readFile('/proc/net/if_inet6', { encoding: 'utf8', signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    return null;
  }
}

/** Parse /proc/net/if_inet6 into "ifname|address" → flags. */
export function parseIf6Flags(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-f]{32}$/i.test(f[0])) continue;
    const addr = ipaddr.IPv6.parse(f[0].match(/.{4}/g)!.join(':')).toString();
    out.set(`${f[5]}|${addr}`, parseInt(f[4], 16));
  }
  return out;
}

/**
 * The flags (`temporary`, `deprecated`, …) this host's interfaces give `address` in /proc/net/if_inet6
 * text: [] when it is held without any, undefined when no interface holds it.
 */
export function hostFlagsOf(text: string, address: string): string[] | undefined {
  let found: string[] | undefined;
  for (const [key, f] of parseIf6Flags(text)) {
    if (key.slice(key.indexOf('|') + 1) !== address) continue;
    found = [...(found ?? []), ...flagWords(f)];
  }
  return found;
}

const familyOfInfo = (i: os.NetworkInterfaceInfo): Family =>
  i.family === 'IPv4' || (i.family as unknown) === 4 ? 'ipv4' : 'ipv6';

function flagWords(flags: number): string[] {
  return (Object.keys(IFA_F) as Array<keyof typeof IFA_F>).filter((k) => flags & IFA_F[k]);
}

export function interfaceSource(opts: InterfaceSourceOptions = {}): IpSource {
  const name = opts.interface?.trim() || undefined;
  const readInterfaces = opts.readers?.interfaces ?? os.networkInterfaces;
  const readFlags = opts.readers?.if6Flags ?? readProcIf6;
  return {
    id: 'interface',
    label: name ? `network interface ${name}` : 'network interface (any)',
    families: ['ipv4', 'ipv6'],
    kind: 'local',
    async lookup(ctx: SourceContext): Promise<SourceAnswer> {
      if (ctx.signal.aborted)
        throw transient(say('ip.interface_cancelled', 'interface lookup cancelled'), { code: 'aborted' });
      const all = readInterfaces();
      const names = Object.keys(all);
      if (name && !all[name]) {
        throw transient(
          say('ip.no_interface', 'there is no network interface "__name__" right now (this host has: __names__)', {
            name,
            names: names.join(', ') || say('ip.none', 'none'),
          }),
          {
            code: 'no_interface',
          },
        );
      }
      const flags =
        ctx.family === 'ipv6' ? parseIf6Flags((await readFlags(ctx.signal)) ?? '') : new Map<string, number>();
      const skipped: Sentence[] = [];
      const usable: Array<{ ifname: string; address: string; cls: string }> = [];
      for (const ifname of name ? [name] : names) {
        for (const info of all[ifname] ?? []) {
          if (familyOfInfo(info) !== ctx.family || (!name && info.internal)) continue;
          const address = classify(info.address).address;
          const f = flags.get(`${ifname}|${address}`) ?? 0;
          const bad = flagWords(f).filter((w) => w !== 'temporary' || !opts.allowTemporary);
          if (bad.length) {
            skipped.push(
              say('ip.interface_flagged', '__address__ on __interface__ (__flags__)', {
                address,
                interface: ifname,
                flags: bad.join(', '),
              }),
            );
            continue;
          }
          usable.push({ ifname, address, cls: classify(address).class });
        }
      }
      const pick =
        usable.find((u) => u.cls === 'public') ??
        usable.find((u) => ['private', 'cgnat', 'unique-local'].includes(u.cls)) ??
        usable.find((u) => !['link-local', 'loopback'].includes(u.cls));
      if (!pick) {
        const where = name
          ? say('ip.on_interface', 'interface __name__', { name })
          : say('ip.on_any_interface', 'any network interface');
        const why = skipped.length
          ? say('ip.interface_skipped', ' (skipped: __skipped__)', { skipped: listSaid(skipped) })
          : '';
        const seen = usable.length
          ? say('ip.interface_found_only', '; found only __addresses__', {
              addresses: usable.map((u) => `${u.address} (${u.cls})`).join(', '),
            })
          : '';
        throw transient(
          say('ip.no_usable_address', 'no usable __family__ address on __where____seen____why__', {
            family: familyLabel(ctx.family),
            where,
            seen,
            why,
          }),
          { code: 'no_address' },
        );
      }
      return { address: pick.address, info: { interface: pick.ifname } };
    },
  };
}
