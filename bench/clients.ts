/**
 * The clients under test and how each is configured, all against the same local servers:
 *
 * - this package: public-ip-watch → dns-update in a started Node-RED, with a ddns-account for
 *   RFC 2136 (to named through a counting relay) or dyndns2 (to the bridge);
 * - ddclient (Debian's package): `use=web` against the what's-my-IP service, protocol `nsupdate`
 *   (RFC 2136 through the `nsupdate` tool, to named through a counting relay) or `dyndns2`;
 * - inadyn (Debian's package): custom checkip server and a `custom` dyndns2 provider (inadyn has
 *   no RFC 2136).
 *
 * Every client asks its own path of the what's-my-IP service and talks to its own relay or bridge,
 * so every request is counted for the client that made it.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TsigKey } from '../src/core/dns/tsig';
import type { DnsProxy } from './dns-relay';
import type { Dyndns2Bridge, IpPath, IpService, ProviderLog } from './servers';
import { launch, type Managed } from './util';

export type Protocol = 'RFC 2136' | 'dyndns2';

/** One client kept running during the staleness and steady-state phases. */
export interface RunningClient {
  id: string;
  /** Software and protocol, for the tables. */
  software: 'node-red-contrib-ddns' | 'ddclient' | 'inadyn' | string;
  protocol: Protocol;
  /** The DNS name it keeps up to date. */
  name: string;
  /** Its path at the what's-my-IP service (the bench changes the address there). */
  ip: IpPath;
  /** What its provider saw. */
  provider: ProviderLog;
  /** Seconds between two lookups as configured (its budget is 3600 / periodS lookups per hour). */
  periodS: number;
  /**
   * How the address changes for this client. Default: its what's-my-IP path answers the new
   * address. (The router row of issue 8 changes the router's WAN address instead, and records
   * its router queries in `ip.lookups`.)
   */
  change?(address: string): Promise<void> | void;
  /** The k-th address of the change schedule for this client (default: staleness.ts changeAddress). */
  addressFor?(k: number): string;
  /** The address its name holds before the first change (default: the bench's start address). */
  startAddress?: string;
  /**
   * At least this long between a change becoming visible and the next change (default 0), before
   * the random part of the wait. The router row uses dns-update's minInterval (30 s): its updates
   * follow a change within a second, so a change sooner than that would measure the rate limit.
   */
  minGapMs?: number;
  /** Time a change needs to finish, kept free before the window closes (default: 1.25 periods + 5 s). */
  roomMs?: number;
  /**
   * Its lookups are not external (the router row: queries to the home router on the LAN), so no
   * lookup budget applies and the derived figures for the issue's budget are its measured ones.
   * Returns the number of external lookups (requests that left the LAN) it made.
   */
  external?(): number;
  /**
   * The change reaches it as a push from the router's DDNS client (issue 16), not through its
   * polling: its wait does not scale with the polling period, so its 12/h columns are as measured.
   */
  pushed?: boolean;
}

export const BRIDGE_USER = 'bench';

// ------------------------------------------------------------------------------- this package

export interface OursFlowClient {
  id: string;
  name: string;
  ip: IpPath;
  /** RFC 2136 through this relay, or dyndns2 to this bridge. */
  relay?: DnsProxy;
  bridge?: Dyndns2Bridge;
  /** A router-push source beside the custom URL (issue 16): its path and token. */
  push?: { path: string; token: string };
}

/**
 * Node-RED flows: per client a ddns-account, a public-ip-watch (one custom-URL source, the given
 * interval; with `push` also a router-push source, the custom URL then confirms each push) wired to
 * a dns-update for one name. minInterval 30 s = ddclient's default min-interval.
 */
export function oursFlows(o: {
  clients: OursFlowClient[];
  ipService: IpService;
  key: TsigKey;
  zone: string;
  bridgePassword: string;
  periodS: number;
}): object[] {
  const flows: object[] = [{ id: 'bench-tab', type: 'tab', label: 'bench' }];
  for (const c of o.clients) {
    const account = c.relay
      ? {
          id: `acc-${c.id}`,
          type: 'ddns-account',
          name: `bench ${c.id}`,
          provider: 'rfc2136',
          settings: {
            server: c.relay.endpoint,
            zone: o.zone,
            keyName: o.key.name,
            algorithm: o.key.algorithm,
            ttl: 60,
          },
          credentials: { tsigSecret: o.key.secret },
        }
      : {
          id: `acc-${c.id}`,
          type: 'ddns-account',
          name: `bench ${c.id}`,
          provider: 'dyndns2',
          settings: { endpoint: c.bridge!.endpoint, username: BRIDGE_USER },
          credentials: { password: o.bridgePassword },
        };
    flows.push(
      account,
      {
        id: `watch-${c.id}`,
        type: 'public-ip-watch',
        z: 'bench-tab',
        name: c.id,
        families: 'ipv4',
        sources: [
          ...(c.push ? [{ type: 'router-push', path: c.push.path }] : []),
          { type: 'custom', url: o.ipService.url(c.ip), format: 'text' },
        ],
        ...(c.push ? { credentials: { pushToken: c.push.token } } : {}),
        policy: 'first',
        quorum: 2,
        interval: o.periodS,
        timeout: 10,
        hedge: 2,
        // the bench hands out documentation addresses (198.51.100.0/24), which inadyn also accepts
        allowNonPublic: true,
        localAddress: '',
        emitOnStart: true,
        store: '',
        alertAfter: 3,
        topic: 'public-ip',
        wires: [[`update-${c.id}`], []],
      },
      {
        id: `update-${c.id}`,
        type: 'dns-update',
        z: 'bench-tab',
        name: c.id,
        account: `acc-${c.id}`,
        hostnames: c.name,
        families: 'ipv4',
        minInterval: 30,
        contextStore: '',
        alertAfter: 3,
        wires: [[], []],
      },
    );
  }
  return flows;
}

/**
 * What a router's built-in DDNS client sends when its address changes (the dyndns2 request, Basic
 * auth, the way curl, inadyn or a Fritz!Box sends it): one GET to the push endpoint. Returns the answer.
 */
export async function routerPush(o: {
  nodeRedUrl: string;
  path: string;
  token: string;
  name: string;
  address: string;
}): Promise<string> {
  const res = await fetch(`${o.nodeRedUrl}${o.path}/nic/update?hostname=${o.name}&myip=${o.address}`, {
    headers: { authorization: `Basic ${Buffer.from(`router:${o.token}`).toString('base64')}` },
  });
  return (await res.text()).trim();
}

// ------------------------------------------------------------------------------------ ddclient

export interface DdclientOptions {
  id: string;
  dir: string;
  ipUrl: string;
  names: string[];
  zone: string;
  key: TsigKey;
  /** RFC 2136 through nsupdate to this relay, or dyndns2 to this bridge. */
  relay?: DnsProxy;
  bridge?: Dyndns2Bridge;
  bridgePassword?: string;
  /** Daemon with this period (s); undefined: one run (`-daemon 0`). */
  daemonS?: number;
  /** Further configuration lines (global settings, before the names). */
  extra?: string[];
}

export interface DdclientFiles {
  conf: string;
  cache: string;
  pid: string;
}

/** Write ddclient's configuration (mode 0600, as it demands) and, for nsupdate, the TSIG key file. */
export function ddclientFiles(o: DdclientOptions): DdclientFiles {
  mkdirSync(o.dir, { recursive: true });
  const lines = ['syslog=no', 'ssl=no', 'use=web', `web=${o.ipUrl}`];
  if (o.daemonS !== undefined) lines.unshift(`daemon=${o.daemonS}`);
  if (o.relay) {
    const keyFile = join(o.dir, 'tsig.key');
    writeFileSync(keyFile, `key "${o.key.name}" { algorithm ${o.key.algorithm}; secret "${o.key.secret}"; };\n`, {
      mode: 0o600,
    });
    // nsupdate wants "host port"; ddclient turns the colon into a space itself
    lines.push('protocol=nsupdate', `server=${o.relay.endpoint}`, `password=${keyFile}`, `zone=${o.zone}`);
  } else {
    const u = new URL(o.bridge!.endpoint);
    lines.push(
      'protocol=dyndns2',
      `server=${u.host}`,
      `script=${u.pathname}`,
      `login=${BRIDGE_USER}`,
      `password=${o.bridgePassword}`,
    );
  }
  lines.push(...(o.extra ?? []), ...o.names);
  const files = {
    conf: join(o.dir, 'ddclient.conf'),
    cache: join(o.dir, 'ddclient.cache'),
    pid: join(o.dir, 'ddclient.pid'),
  };
  writeFileSync(files.conf, lines.join('\n') + '\n', { mode: 0o600 });
  chmodSync(files.conf, 0o600);
  return files;
}

export function startDdclient(o: DdclientOptions): Managed {
  const f = ddclientFiles(o);
  const args = ['-file', f.conf, '-cache', f.cache, '-foreground', '-daemon', String(o.daemonS ?? 0)];
  if (o.daemonS !== undefined) args.push('-pid', f.pid);
  return launch(`ddclient ${o.id}`, 'ddclient', args);
}

// -------------------------------------------------------------------------------------- inadyn

export interface InadynOptions {
  id: string;
  dir: string;
  ipService: IpService;
  ip: IpPath;
  bridge: Dyndns2Bridge;
  bridgePassword: string;
  names: string[];
  /** What inadyn's cache says each name holds (without it, inadyn asks the system resolver). */
  cachedAddress: string;
  periodS: number;
  /** One check and update, then exit (`--once`). */
  once?: boolean;
}

/** Names one inadyn provider section may list. */
export const INADYN_MAX_ALIASES = 50;

export function startInadyn(o: InadynOptions): Managed {
  const cacheDir = join(o.dir, 'cache');
  mkdirSync(cacheDir, { recursive: true });
  for (const n of o.names) writeFileSync(join(cacheDir, `${n}.cache`), o.cachedAddress);
  // inadyn takes at most 50 names per provider section ("Too many hostname aliases"): one
  // section per 50 names, as a user with more names has to write it.
  const sections: string[] = [];
  for (let i = 0; i < o.names.length; i += INADYN_MAX_ALIASES) {
    sections.push(
      `custom bench${i / INADYN_MAX_ALIASES}@local {`,
      '    ssl = false',
      `    username = ${BRIDGE_USER}`,
      `    password = ${o.bridgePassword}`,
      `    checkip-server = 127.0.0.1:${o.ipService.port}`,
      `    checkip-path = ${o.ip.path}`,
      '    checkip-ssl = false',
      `    ddns-server = 127.0.0.1:${o.bridge.port}`,
      '    ddns-path = "/nic/update?hostname=%h&myip=%i"',
      `    hostname = { ${o.names
        .slice(i, i + INADYN_MAX_ALIASES)
        .map((n) => `"${n}"`)
        .join(', ')} }`,
      '}',
    );
  }
  const conf = [`period = ${o.periodS}`, ...sections, ''].join('\n');
  const file = join(o.dir, 'inadyn.conf');
  writeFileSync(file, conf, { mode: 0o600 });
  const args = ['-f', file, '--foreground', '--cache-dir', cacheDir, '-l', 'notice'];
  if (o.once) args.push('--once', '--no-pidfile');
  else args.push('-P', join(o.dir, 'inadyn.pid'));
  return launch(`inadyn ${o.id}`, 'inadyn', args);
}
