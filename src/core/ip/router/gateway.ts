/**
 * Which router to ask: the IPv4 default gateway.
 *
 * Contract:
 * - `findGateway()` answers the gateway of the IPv4 default route with the lowest metric, read
 *   from /proc/net/route (Linux; addresses there are 32-bit hex in little-endian byte order), or
 *   the address the user set by hand. It also names the interface towards the gateway and this
 *   host's address on it (needed to join the announcement group on the right interface).
 * - When there is no usable default route it throws a DdnsError (`no_gateway`) that says why in
 *   plain words (no default route, a point-to-point link such as PPPoE where this host holds the
 *   public address itself, no /proc/net/route on this system).
 * - `containerHint()` says, when Node-RED seems to run in a container without host networking,
 *   why the "gateway" will not answer: it is the container bridge, not the home router. The
 *   protocols add this hint to their "no answer" messages.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { say, transient } from '../../errors';

export interface RouteEntry {
  iface: string;
  destination: string;
  gateway: string;
  mask: string;
  flags: number;
  metric: number;
}

export interface GatewayInfo {
  /** The router's IPv4 address. */
  address: string;
  /** The interface towards it, when known. */
  interface?: string;
  /** This host's IPv4 address on that interface, when known. */
  localAddress?: string;
  /** Where the address came from. */
  from: 'route' | 'config';
}

/** Things the lookup reads; tests replace them. */
export interface GatewayReaders {
  /** The text of /proc/net/route, or null where the system has none. */
  routes?: () => Promise<string | null>;
  interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export interface FindGatewayOptions {
  /** The router's address set by hand (IPv4). */
  gateway?: string;
  readers?: GatewayReaders;
}

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;

/** A 32-bit little-endian hex word of /proc/net/route ("0101A8C0") as dotted quad ("192.168.1.1"). */
export function hexToIpv4(hex: string): string | null {
  if (!/^[0-9a-f]{8}$/i.test(hex)) return null;
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

/** Parse /proc/net/route; malformed lines are skipped. */
export function parseProcNetRoute(text: string): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const destination = hexToIpv4(f[1]);
    const gateway = hexToIpv4(f[2]);
    const mask = hexToIpv4(f[7]);
    const flags = parseInt(f[3], 16);
    const metric = parseInt(f[6], 10);
    if (!destination || !gateway || !mask || Number.isNaN(flags) || Number.isNaN(metric)) continue;
    out.push({ iface: f[0], destination, gateway, mask, flags, metric });
  }
  return out;
}

async function readRoutes(): Promise<string | null> {
  try {
    return await readFile('/proc/net/route', 'utf8');
  } catch {
    return null;
  }
}

/** This host's IPv4 address on `iface`, or on the interface whose subnet holds `gateway`. */
export function localAddressTowards(
  gateway: string,
  all: NodeJS.Dict<os.NetworkInterfaceInfo[]>,
  iface?: string,
): { interface: string; address: string } | undefined {
  const gw = ipaddr.IPv4.parse(gateway);
  const v4 = (i: os.NetworkInterfaceInfo) => i.family === 'IPv4' || (i.family as unknown) === 4;
  for (const [name, infos] of Object.entries(all)) {
    if (iface && name !== iface) continue;
    for (const i of infos ?? []) {
      if (!v4(i) || i.internal) continue;
      try {
        const bits = ipaddr.IPv4.parse(i.netmask).prefixLengthFromSubnetMask();
        if (bits !== null && gw.match(ipaddr.IPv4.parse(i.address), bits))
          return { interface: name, address: i.address };
      } catch {
        /* an odd netmask: not this one */
      }
    }
  }
  if (iface) {
    const first = (all[iface] ?? []).find((i) => v4(i) && !i.internal);
    if (first) return { interface: iface, address: first.address };
  }
  return undefined;
}

/** The gateway to ask (see the contract above). */
export async function findGateway(opts: FindGatewayOptions = {}): Promise<GatewayInfo> {
  const readInterfaces = opts.readers?.interfaces ?? os.networkInterfaces;
  const manual = opts.gateway?.trim();
  if (manual) {
    if (net.isIP(manual) !== 4) {
      throw transient(
        say('ip.bad_gateway', 'the router address "__address__" is not an IPv4 address', {
          address: manual.slice(0, 60),
        }),
        { code: 'bad_gateway' },
      );
    }
    const local = localAddressTowards(manual, readInterfaces());
    return { address: manual, interface: local?.interface, localAddress: local?.address, from: 'config' };
  }
  const text = await (opts.readers?.routes ?? readRoutes)();
  if (text === null) {
    throw transient(
      say(
        'ip.no_route_table',
        "cannot find the router: this system has no /proc/net/route (not Linux?). Enter the router's address (e.g. 192.168.1.1) by hand.",
      ),
      { code: 'no_gateway' },
    );
  }
  const defaults = parseProcNetRoute(text)
    .filter((r) => r.destination === '0.0.0.0' && r.mask === '0.0.0.0' && r.flags & RTF_UP)
    .sort((a, b) => a.metric - b.metric);
  const viaRouter = defaults.find((r) => r.flags & RTF_GATEWAY && r.gateway !== '0.0.0.0');
  if (!viaRouter) {
    if (defaults.length) {
      throw transient(
        say(
          'ip.point_to_point',
          'the default route goes straight out of __interface__ without a router (a point-to-point link such as PPPoE): this computer holds the public address itself, so use the network interface source instead of the router',
          { interface: defaults[0].iface },
        ),
        { code: 'no_gateway' },
      );
    }
    throw transient(
      say(
        'ip.no_default_route',
        'cannot find the router: this computer has no IPv4 default route (is the network up?)',
      ),
      { code: 'no_gateway' },
    );
  }
  const local = localAddressTowards(viaRouter.gateway, readInterfaces(), viaRouter.iface);
  return { address: viaRouter.gateway, interface: viaRouter.iface, localAddress: local?.address, from: 'route' };
}

/** Readers of containerHint (tests replace them). */
export interface ContainerProbe {
  exists?: (path: string) => boolean;
  read?: (path: string) => string | null;
  interfaces?: () => string[];
  env?: NodeJS.ProcessEnv;
}

const readText = (p: string): string | null => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
};

/**
 * A sentence explaining why the gateway may not answer, when Node-RED seems to run in a
 * container that has its own network (no host networking); null otherwise. Seeing the host's
 * docker0/hassio/veth interfaces means the container shares the host's network (the Home
 * Assistant add-on does), which is fine.
 */
export function containerHint(gateway: string, probe: ContainerProbe = {}): string | null {
  const exists = probe.exists ?? existsSync;
  const read = probe.read ?? readText;
  const env = probe.env ?? process.env;
  const names = (probe.interfaces ?? (() => Object.keys(os.networkInterfaces())))();
  const cgroup = read('/proc/1/cgroup') ?? '';
  const inContainer =
    exists('/.dockerenv') ||
    exists('/run/.containerenv') ||
    !!env.container ||
    /docker|kubepods|containerd|libpod|lxc/.test(cgroup);
  if (!inContainer) return null;
  const seesHost = names.some((n) => /^(docker\d|hassio|veth|br-|virbr|cni|flannel|cali|podman)/.test(n));
  if (seesHost) return null;
  return `Node-RED seems to run in a container with its own network, so ${gateway} is probably the container's virtual bridge, not your home router. Run the container with host networking (docker run --network host, or network_mode: host in docker compose), or enter your router's address by hand.`;
}
