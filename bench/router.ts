/**
 * The router row (issue 8): public-ip-watch with ONLY the router source, in a started Node-RED
 * inside a client network namespace behind a real home router (Debian's miniupnpd: NAT-PMP, UPnP
 * IGD), wired to dns-update with the dyndns2 account of the other rows (the bench's bridge → named).
 *
 *   client ns: Node-RED ─(NAT-PMP/UPnP)─ router ns: miniupnpd, WAN address 192.0.3.x ── wan ns
 *       └─ 127.0.0.1:18080 ─ ns-forward ─ Unix socket ─ bench (host) ─ 127.0.0.1 ─ dyndns2 bridge ─ named
 *
 * - The namespaces come from test/support/netns.ts (createRouterLab), made and removed by the
 *   bench. The client namespace's only network way out is the router; the provider traffic goes
 *   through a Unix socket (a file both namespaces see), so it never touches a network interface.
 * - The address change is made on the router's WAN side (the new address added, the old deleted,
 *   promote_secondaries=1, as a reconnection does). miniupnpd refuses to report documentation
 *   ranges, so this row hands out 192.0.3.x (outside every reserved range; the WAN is isolated).
 * - The "lookups" of this client are its router queries, recorded at the router: a packet
 *   capture (AF_PACKET, Python's standard library) on the router's LAN interface logs every
 *   NAT-PMP answer and UPnP GetExternalIPAddress answer with the address it carried, and every
 *   announcement. The same capture counts every packet from the client addressed beyond the
 *   router (what would be external lookups; also DNS): it must stay 0.
 * - Everything started here (Node-RED, the forwarder, the capture, miniupnpd) is stopped by its
 *   pid and the namespaces are deleted at the bench's cleanup, also on errors and Ctrl-C.
 */
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import readline from 'node:readline';
import { createRouterLab, netnsUnavailable, type RouterLab } from '../test/support/netns';
import { linkPackageInto } from '../test/support/user-dir';
import { BRIDGE_USER, type RunningClient } from './clients';
import { NODE_RED_PATH, REPO_ROOT } from './node-red';
import type { Dyndns2Bridge, IpPath } from './servers';
import { launch, log, now, onCleanup, pollUntil, tempDir, type Managed } from './util';

/** The router's WAN address at start, and the k-th address of the change schedule. */
export const ROUTER_START = '192.0.3.9';
export const routerAddress = (k: number): string => `192.0.3.${10 + (k % 240)}`;
/** Where the forwarder listens inside the client namespace. */
const FORWARD_PORT = 18080;
const PYTHON = '/usr/bin/python3';

/** Why the router row cannot run here (null when it can). */
export function routerUnavailable(): string | null {
  const why = netnsUnavailable({ miniupnpd: true });
  if (why) return why;
  if (!existsSync(join(__dirname, 'ns-forward.js'))) return 'dist/bench/ns-forward.js is missing (build first)';
  if (!existsSync(PYTHON))
    return `${PYTHON} not found (the packet capture at the router uses Python's standard library)`;
  return null;
}

/**
 * The capture at the router's LAN interface. Prints one JSON line per event:
 * {k:"answer", p:"natpmp"|"upnp", a}, {k:"announce", a}, {k:"query", p}, {k:"outside", dst, proto, port}.
 */
const CAPTURE = String.raw`
import json, re, socket, struct, sys
ifname, gw, client = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(3))
s.bind((ifname, 0))
def out(o): sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
out({"k": "ready"})
upnp = re.compile(rb"<NewExternalIPAddress>([0-9.]*)</NewExternalIPAddress>")
while True:
    f = s.recv(65535)
    if len(f) < 34 or f[12:14] != b"\x08\x00": continue
    ip = f[14:]; ihl = (ip[0] & 15) * 4; proto = ip[9]
    src = socket.inet_ntoa(ip[12:16]); dst = socket.inet_ntoa(ip[16:20]); l4 = ip[ihl:]
    if len(l4) < 4: continue
    sp, dp = struct.unpack("!HH", l4[:4])
    if src == client and dst != gw and not (224 <= ip[16] <= 239) and dst != "255.255.255.255":
        out({"k": "outside", "dst": dst, "proto": proto, "port": dp}); continue
    if proto == 17:
        d = l4[8:]
        if src == gw and sp == 5351 and len(d) >= 12 and d[0] == 0 and d[1] == 128 and d[3] == 0:
            a = socket.inet_ntoa(d[8:12])
            out({"k": "announce" if dp == 5350 else "answer", "p": "natpmp", "a": a})
        elif src == client and dst == gw and dp in (5351, 1900):
            out({"k": "query", "p": "natpmp" if dp == 5351 else "upnp"})
    elif proto == 6 and src == gw:
        m = upnp.search(l4)
        if m: out({"k": "answer", "p": "upnp", "a": m.group(1).decode()})
`;

export interface RouterClient extends RunningClient {
  /** Packets from the client addressed beyond the router (would-be external lookups, DNS …). */
  external(): number;
  /** Router queries sent, by protocol, and announcements seen at the client's LAN. */
  counts(): { queries: Record<string, number>; announcements: number };
  /** The Node-RED in the client namespace (for the footprint). */
  nodeRedPid: number;
}

export interface RouterClientOptions {
  id: string;
  name: string;
  bridge: Dyndns2Bridge;
  bridgePassword: string;
  /** public-ip-watch's regular check (s): with only the router source, also a router query. */
  periodS: number;
}

/** Set up the namespaces, miniupnpd, the capture, the forwarder and a Node-RED in the client namespace. */
export async function startRouterClient(o: RouterClientOptions): Promise<RouterClient> {
  // netns.ts hooks SIGINT/SIGTERM to delete its namespaces and exit at once; the bench's own
  // handlers stop everything (namespaces included, registered below) before exiting, so its
  // hooks are taken off again. Its synchronous 'exit' safety net stays.
  const before = { INT: process.listeners('SIGINT'), TERM: process.listeners('SIGTERM') };
  let lab: RouterLab;
  try {
    lab = await createRouterLab({ wanAddress: ROUTER_START, nftables: false });
  } finally {
    for (const [sig, had] of [
      ['SIGINT', before.INT],
      ['SIGTERM', before.TERM],
    ] as const) {
      for (const l of process.listeners(sig)) if (!had.includes(l)) process.removeListener(sig, l as () => void);
    }
  }
  onCleanup('router namespaces and miniupnpd', () => lab.close());
  await lab.startMiniupnpd();
  log(
    `router row: namespaces ${lab.client} / ${lab.router} / ${lab.wan}, miniupnpd pid ${lab.miniupnpdPid()}, WAN ${ROUTER_START}`,
  );

  // ---- the capture at the router's LAN interface
  const ip: IpPath = { path: `router ${lab.gateway} (NAT-PMP/UPnP)`, address: ROUTER_START, lookups: [] };
  const outside: unknown[] = [];
  const queries: Record<string, number> = {};
  let announcements = 0;
  const cap = launch(
    'router capture',
    'ip',
    ['netns', 'exec', lab.router, PYTHON, '-u', '-c', CAPTURE, 'lan0', lab.gateway, lab.clientAddress],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let capReady = false;
  readline.createInterface({ input: cap.child.stdout! }).on('line', (line) => {
    const t = now();
    let e: { k: string; p?: string; a?: string };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      return;
    }
    if (e.k === 'ready') capReady = true;
    else if (e.k === 'answer' && e.a) ip.lookups.push({ t, address: e.a });
    else if (e.k === 'announce') announcements++;
    else if (e.k === 'query') queries[e.p!] = (queries[e.p!] ?? 0) + 1;
    else if (e.k === 'outside') outside.push(e);
  });
  if (!(await pollUntil(() => capReady || !cap.running(), 10_000, 20)) || !capReady)
    throw new Error(`the capture at the router did not start:\n${cap.output()}`);

  // ---- the provider path: client ns 127.0.0.1:FORWARD_PORT → Unix socket → host 127.0.0.1 bridge
  const dir = tempDir('router');
  const sock = join(dir, 'bridge.sock');
  const relay = net.createServer((c) => {
    const up = net.connect(o.bridge.port, '127.0.0.1');
    const end = () => {
      c.destroy();
      up.destroy();
    };
    c.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    c.pipe(up);
    up.pipe(c);
  });
  await new Promise<void>((r, j) => relay.once('error', j).listen(sock, () => r()));
  onCleanup('router row socket relay', () => new Promise<void>((r) => relay.close(() => r())));
  const fwd = launch('router row forwarder', 'ip', [
    'netns',
    'exec',
    lab.client,
    process.execPath,
    join(__dirname, 'ns-forward.js'),
    String(FORWARD_PORT),
    sock,
  ]);
  if (!(await pollUntil(() => /listening/.test(fwd.output()) || !fwd.running(), 10_000, 20)) || !fwd.running())
    throw new Error(`the forwarder did not start:\n${fwd.output()}`);

  // ---- Node-RED in the client namespace, flows and (unencrypted, temporary) credentials on disk
  const red = startNodeRedInNs(lab.client, o);
  const started = await pollUntil(() => /Started flows/.test(red.output()) || !red.running(), 90_000, 100);
  if (!started || !red.running()) throw new Error(`Node-RED in the client namespace did not start:\n${red.output()}`);
  return {
    id: o.id,
    software: 'node-red-contrib-ddns, router source',
    protocol: 'dyndns2',
    name: o.name,
    ip,
    provider: o.bridge,
    periodS: o.periodS,
    startAddress: ROUTER_START,
    addressFor: routerAddress,
    change: (address: string) => {
      lab.setWanAddress(address);
      ip.address = address;
    },
    external: () => outside.length,
    counts: () => ({ queries: { ...queries }, announcements }),
    nodeRedPid: red.pid,
  };
}

function startNodeRedInNs(ns: string, o: RouterClientOptions): Managed {
  const userDir = tempDir('nr-router');
  // the package as a user installs it (as node-red.ts does): a link to this checkout
  linkPackageInto(userDir, REPO_ROOT);
  const settings = {
    uiHost: '127.0.0.1', // of the client namespace: not reachable from the host, not needed
    uiPort: 1880,
    flowFile: 'flows.json',
    credentialSecret: false, // the flow is written to disk before start; removed with userDir
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const acc = `acc-${o.id}`;
  const flows = [
    { id: 'bench-router-tab', type: 'tab', label: 'bench router' },
    {
      id: acc,
      type: 'ddns-account',
      name: `bench ${o.id}`,
      provider: 'dyndns2',
      settings: { endpoint: `http://127.0.0.1:${FORWARD_PORT}/nic/update`, username: BRIDGE_USER },
    },
    {
      id: `watch-${o.id}`,
      type: 'public-ip-watch',
      z: 'bench-router-tab',
      name: o.id,
      families: 'ipv4',
      // ONLY the router source; safetyPoll left out = the default (30 s)
      sources: [{ type: 'router' }],
      policy: 'first',
      quorum: 2,
      interval: o.periodS,
      timeout: 10,
      hedge: 2,
      allowNonPublic: false,
      localAddress: '',
      emitOnStart: true,
      store: '',
      alertAfter: 3,
      topic: 'public-ip',
      wires: [[`update-${o.id}`], []],
    },
    {
      id: `update-${o.id}`,
      type: 'dns-update',
      z: 'bench-router-tab',
      name: o.id,
      account: acc,
      hostnames: o.name,
      families: 'ipv4',
      minInterval: 30,
      contextStore: '',
      alertAfter: 3,
      wires: [[], []],
    },
  ];
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows, null, 2));
  writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify({ [acc]: { password: o.bridgePassword } }), {
    mode: 0o600,
  });
  return launch(
    'Node-RED (router row, client namespace)',
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      resolve(NODE_RED_PATH, 'red.js'),
      '-u',
      userDir,
      '-s',
      join(userDir, 'settings.js'),
    ],
    {
      env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
    },
  );
}
