/**
 * Network namespaces for router tests: a real home router (miniupnpd from Debian's
 * miniupnpd-nftables: UPnP IGD, NAT-PMP and PCP) between a LAN client and a simulated WAN.
 *
 *     client ns (eth0 10.200.N.2/24) ── router ns (lan0 10.200.N.1/24 │ wan0 <wan>/24) ── wan ns (eth0 <wan>.1/24)
 *
 * Everything lives in namespaces made here with unique names (`ddns-<role>-<pid>-<random>`), so no
 * packet touches the host's network. The WAN address is "public" (192.0.3.7 works: miniupnpd
 * refuses to report reserved and documentation ranges) or a CGNAT one (100.64.x).
 * Code that must run inside the client namespace runs as a child: `ip netns exec <ns> node <script>`.
 *
 * Cleanup: `close()` kills miniupnpd and the client children by pid and deletes the namespaces;
 * an exit/SIGTERM/SIGINT handler does the same if a test dies first, and namespaces left by an
 * earlier run whose process is gone are removed at the next start.
 *
 * Needs root, iproute2, nft and /usr/sbin/miniupnpd; `netnsUnavailable()` says what is missing.
 * With DDNS_REQUIRE_REAL=1 (CI) a missing piece is an error instead of a skip.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';

export const MINIUPNPD = process.env.MINIUPNPD_BIN ?? '/usr/sbin/miniupnpd';
const PREFIX = 'ddns-';

let availability: string | null | undefined;

/** Why namespace tests cannot run here, or null when they can. */
export function netnsUnavailable(opts: { miniupnpd?: boolean } = {}): string | null {
  if (availability === undefined) {
    if (process.platform !== 'linux') availability = 'network namespaces need Linux';
    else if (process.getuid?.() !== 0) availability = 'network namespaces need root (CI runs the tests as root)';
    else if (spawnSync('ip', ['-V']).error) availability = 'iproute2 "ip" is not installed';
    else {
      const probe = `${PREFIX}probe-${process.pid}-${randomBytes(2).toString('hex')}`;
      const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
      if (r.status !== 0) availability = `cannot create a network namespace: ${(r.stderr || '').trim()}`;
      else {
        spawnSync('ip', ['netns', 'del', probe]);
        availability = null;
      }
    }
  }
  if (availability) return availability;
  if (opts.miniupnpd !== false) {
    if (!existsSync(MINIUPNPD))
      return `miniupnpd not found at ${MINIUPNPD} (apt-get install miniupnpd-nftables miniupnpc nftables)`;
    if (spawnSync('nft', ['--version']).error) return 'nft not found (apt-get install nftables)';
  }
  return null;
}

/** The `skip` option of a test: false when runnable, a reason otherwise (an error in CI). */
export function skipWithoutNetns(opts: { miniupnpd?: boolean } = {}): string | false {
  const why = netnsUnavailable(opts);
  if (why && process.env.DDNS_REQUIRE_REAL === '1')
    throw new Error(`real router tests required in CI (DDNS_REQUIRE_REAL=1): ${why}`);
  return why ?? false;
}

// ---- cleanup registry: what this process created ----
const namespaces = new Set<string>();
const children = new Set<ChildProcess>();
let hooked = false;

function cleanupSync(): void {
  for (const c of children) {
    if (c.pid && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  children.clear();
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
  namespaces.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Remove namespaces of earlier runs whose process no longer exists. */
function removeStale(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const m = new RegExp(`^(${PREFIX}[a-z]+-(\\d+)-[0-9a-f]+)\\b`).exec(line.trim());
    if (!m) continue;
    const pid = Number(m[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) spawnSync('ip', ['netns', 'del', m[1]]);
  }
}

/** Run a command; throws with its stderr on failure. */
export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

/** `ip -n <ns> …` */
export const ipn = (ns: string, ...args: string[]) => sh('ip', ['-n', ns, ...args]);
/** Run a command inside a namespace. */
export const nsExec = (ns: string, cmd: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

/** Wait until a link has carrier (veth peers come up a moment after `ip link set up`). */
export async function waitLinkUp(ns: string, dev: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const state = spawnSync('ip', ['-n', ns, '-o', 'link', 'show', 'dev', dev], { encoding: 'utf8' }).stdout ?? '';
    if (/[<,]LOWER_UP[,>]/.test(state) && /state UP/.test(state)) return;
    if (Date.now() > end) throw new Error(`${dev} in ${ns} did not come up: ${state.trim()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function makeNamespace(role: string, tag: string): string {
  hookExit();
  const name = `${PREFIX}${role}-${process.pid}-${tag}`;
  sh('ip', ['netns', 'add', name]);
  namespaces.add(name);
  ipn(name, 'link', 'set', 'lo', 'up');
  return name;
}

export function deleteNamespace(ns: string): void {
  spawnSync('ip', ['netns', 'del', ns]);
  namespaces.delete(ns);
}

/** Namespaces this process still holds (tests assert it is empty at the end). */
export const heldNamespaces = (): string[] => [...namespaces];

/** Every namespace of the system with our prefix and this process's pid. */
export function leftoverNamespaces(): string[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  return list
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n && n.startsWith(`${PREFIX}`) && n.includes(`-${process.pid}-`));
}

// ---- a child node process inside a namespace, speaking JSON lines ----

type Line = Record<string, unknown>;

/** The lines of one command (or watch) of an NsChild. */
export interface NsTask {
  id: string;
  /** Every line of this task received so far. */
  lines: Line[];
  /** Wait for the next line of this task (from now on) matching `pred`. */
  waitFor(pred: (l: Line) => boolean, timeoutMs: number, what: string): Promise<Line>;
}

export interface NsChild {
  pid: number;
  /** Run a one-shot command; resolves with its `done` line. */
  request(cmd: Line, timeoutMs?: number): Promise<Line>;
  /** Start a long-running command (a watch); `stopTask` ends it. */
  start(cmd: Line): NsTask;
  stopTask(task: NsTask, timeoutMs?: number): Promise<Line>;
  /** Close stdin (the child closes everything and exits), wait; SIGKILL after 5 s. */
  stop(): Promise<void>;
  stderr(): string;
}

/**
 * Start `node <script>` in namespace `ns`: it reads commands as JSON lines (each with an `id`) and
 * prints JSON lines carrying that id (see test/router/client.ts).
 */
export function spawnInNs(ns: string, script: string): NsChild {
  hookExit();
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const all: Line[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let seq = 0;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (err.length < 20_000) err += d;
  });
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      all.push(JSON.parse(l) as Line);
    } catch {
      all.push({ raw: l });
    }
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  void exited.then(() => {
    children.delete(child);
    for (const w of [...waiters]) w();
  });
  const ended = () => child.exitCode !== null || child.signalCode !== null;

  const task = (id: string): NsTask => {
    const mine = () => all.filter((l) => l.id === id);
    return {
      id,
      get lines() {
        return mine();
      },
      waitFor(pred, timeoutMs, what) {
        let i = mine().length;
        return new Promise((resolve, reject) => {
          const check = () => {
            const list = mine();
            for (; i < list.length; i++) {
              if (pred(list[i])) {
                done();
                return resolve(list[i]);
              }
            }
            if (ended()) {
              done();
              reject(
                new Error(
                  `the client process ended before ${what}; stderr: ${err.slice(-2000)}; lines: ${JSON.stringify(list).slice(-2000)}`,
                ),
              );
            }
          };
          const t = setTimeout(() => {
            done();
            reject(
              new Error(
                `timed out after ${timeoutMs} ms waiting for ${what}; lines: ${JSON.stringify(mine()).slice(-3000)}; stderr: ${err.slice(-1500)}`,
              ),
            );
          }, timeoutMs);
          const done = () => {
            clearTimeout(t);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        });
      },
    };
  };
  const send = (cmd: Line): NsTask => {
    const id = `t${++seq}`;
    const t = task(id);
    child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    return t;
  };

  return {
    pid: child.pid!,
    request(cmd, timeoutMs = 15_000) {
      const t = task(`t${seq + 1}`);
      const p = t.waitFor((l) => l.done === true, timeoutMs, `the result of ${JSON.stringify(cmd)}`);
      send(cmd);
      return p;
    },
    start: send,
    async stopTask(t, timeoutMs = 10_000) {
      const closed = t.waitFor((l) => l.event === 'closed', timeoutMs, `${t.id} to close`);
      child.stdin!.write(`${JSON.stringify({ op: 'stop', target: t.id, id: t.id })}\n`);
      return closed;
    },
    async stop() {
      if (!ended()) {
        child.stdin!.end();
        const k = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(k);
      }
    },
    stderr: () => err,
  };
}

// ---- the router lab ----

/** WAN addresses the router tests give the lab: "public" ones (see above) and a CGNAT one. */
export const PUBLIC_1 = '192.0.3.7';
export const PUBLIC_2 = '192.0.3.8';
export const PUBLIC_3 = '192.0.3.9';
export const CGNAT = '100.64.7.7';

export interface RouterLabOptions {
  /** The router's WAN address, e.g. 192.0.3.7 (public) or 100.64.7.7 (CGNAT). */
  wanAddress: string;
  /** Create miniupnpd's nftables table (needed for PCP mappings). Default true. */
  nftables?: boolean;
}

export interface RouterLab {
  tag: string;
  router: string;
  client: string;
  wan: string;
  /** The router's LAN address = the client's default gateway. */
  gateway: string;
  clientAddress: string;
  wanAddress: string;
  /** miniupnpd's pid (0 when stopped). */
  miniupnpdPid(): number;
  startMiniupnpd(): Promise<void>;
  stopMiniupnpd(): Promise<void>;
  /** Replace the WAN address (the new one is added before the old is removed, as a reconnection would). */
  setWanAddress(address: string): void;
  /** Ask miniupnpd to announce now (SIGUSR1). */
  announce(): void;
  /** Drop (or stop dropping) announcements at the client with an nft rule in the client namespace. */
  dropAnnouncements(drop: boolean): void;
  /** miniupnpd's output so far. */
  log(): string;
  close(): Promise<void>;
}

function miniupnpdConf(lab: { lanIf: string; wanIf: string; httpPort: number; uuid: string; lanNet: string }): string {
  return [
    `ext_ifname=${lab.wanIf}`,
    `listening_ip=${lab.lanIf}`,
    `http_port=${lab.httpPort}`,
    'enable_natpmp=yes',
    'enable_upnp=yes',
    'secure_mode=yes',
    'ipv6_disable=yes',
    'system_uptime=yes',
    'notify_interval=600',
    `uuid=${lab.uuid}`,
    `allow 1024-65535 ${lab.lanNet} 1024-65535`,
    'deny 0-65535 0.0.0.0/0 0-65535',
    '',
  ].join('\n');
}

/** The nftables structure miniupnpd's nft backend expects (as /etc/miniupnpd/nft_init.sh makes it). */
const NFT_INIT = `table inet filter {
  chain forward {
    type filter hook forward priority 0; policy accept;
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`;

const peerOf = (addr: string) => addr.split('.').slice(0, 3).concat('1').join('.');

export async function createRouterLab(o: RouterLabOptions): Promise<RouterLab> {
  removeStale();
  const tag = randomBytes(3).toString('hex');
  const n = randomBytes(1)[0];
  const made: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ddns-router-'));
  let mupnp: ChildProcess | null = null;
  let log = '';
  let wanAddress = o.wanAddress;
  try {
    const router = makeNamespace('r', tag);
    made.push(router);
    const client = makeNamespace('c', tag);
    made.push(client);
    const wan = makeNamespace('w', tag);
    made.push(wan);
    const gateway = `10.200.${n}.1`;
    const clientAddress = `10.200.${n}.2`;
    sh('ip', ['link', 'add', 'lan0', 'netns', router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
    sh('ip', ['link', 'add', 'wan0', 'netns', router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', wan]);
    nsExec(router, 'sysctl', '-qw', 'net.ipv4.conf.wan0.promote_secondaries=1');
    ipn(router, 'addr', 'add', `${gateway}/24`, 'dev', 'lan0');
    ipn(client, 'addr', 'add', `${clientAddress}/24`, 'dev', 'eth0');
    ipn(router, 'addr', 'add', `${wanAddress}/24`, 'dev', 'wan0');
    ipn(wan, 'addr', 'add', `${peerOf(wanAddress)}/24`, 'dev', 'eth0');
    ipn(router, 'link', 'set', 'lan0', 'up');
    ipn(router, 'link', 'set', 'wan0', 'up');
    ipn(client, 'link', 'set', 'eth0', 'up');
    ipn(wan, 'link', 'set', 'eth0', 'up');
    await waitLinkUp(client, 'eth0');
    await waitLinkUp(router, 'lan0');
    await waitLinkUp(router, 'wan0');
    ipn(client, 'route', 'add', 'default', 'via', gateway);
    ipn(router, 'route', 'add', 'default', 'via', peerOf(wanAddress));
    if (o.nftables !== false) sh('ip', ['netns', 'exec', router, 'nft', '-f', '-'], NFT_INIT);
    const conf = join(dir, 'miniupnpd.conf');
    writeFileSync(
      conf,
      miniupnpdConf({ lanIf: 'lan0', wanIf: 'wan0', httpPort: 5555, uuid: randomUUID(), lanNet: `10.200.${n}.0/24` }),
    );

    const lab: RouterLab = {
      tag,
      router,
      client,
      wan,
      gateway,
      clientAddress,
      get wanAddress() {
        return wanAddress;
      },
      miniupnpdPid: () => (mupnp && mupnp.exitCode === null ? mupnp.pid! : 0),
      async startMiniupnpd() {
        if (mupnp && mupnp.exitCode === null) return;
        const child = spawn(
          'ip',
          ['netns', 'exec', router, MINIUPNPD, '-f', conf, '-P', join(dir, 'miniupnpd.pid'), '-d'],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        mupnp = child;
        children.add(child);
        const from = log.length;
        child.once('close', () => children.delete(child));
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`miniupnpd did not start within 10 s:\n${log}`)), 10_000);
          const onData = (d: Buffer) => {
            log += d.toString();
            const mine = log.slice(Math.min(from, log.length));
            if (/Listening for NAT-PMP\/PCP traffic/.test(mine) && /HTTP listening on port/.test(mine)) {
              clearTimeout(t);
              resolve();
            }
          };
          child.stdout!.on('data', onData);
          child.stderr!.on('data', onData);
          child.once('close', (code) => {
            clearTimeout(t);
            reject(new Error(`miniupnpd exited (${code}):\n${log}`));
          });
        });
      },
      async stopMiniupnpd() {
        const c = mupnp;
        mupnp = null;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('close', r));
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      },
      setWanAddress(address: string) {
        const old = wanAddress;
        if (address === old) return;
        ipn(router, 'addr', 'add', `${address}/24`, 'dev', 'wan0');
        ipn(router, 'addr', 'del', `${old}/24`, 'dev', 'wan0');
        wanAddress = address;
      },
      announce() {
        if (mupnp?.pid) process.kill(mupnp.pid, 'SIGUSR1');
      },
      dropAnnouncements(drop: boolean) {
        if (drop) {
          sh(
            'ip',
            ['netns', 'exec', client, 'nft', '-f', '-'],
            'table inet ddnsdrop {\n  chain input {\n    type filter hook input priority -10;\n    udp dport 5350 drop\n  }\n}\n',
          );
        } else {
          spawnSync('ip', ['netns', 'exec', client, 'nft', 'delete', 'table', 'inet', 'ddnsdrop']);
        }
      },
      log: () => log,
      async close() {
        await lab.stopMiniupnpd();
        for (const ns of made) deleteNamespace(ns);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return lab;
  } catch (e) {
    if (mupnp) (mupnp as ChildProcess).kill('SIGKILL');
    for (const ns of made) deleteNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Two namespaces joined by a veth (`eth0` in each), for interface event tests. */
export async function createLinkLab(): Promise<{ host: string; peer: string; close(): Promise<void> }> {
  removeStale();
  const tag = randomBytes(3).toString('hex');
  const host = makeNamespace('i', tag);
  let peer = '';
  try {
    peer = makeNamespace('p', tag);
    sh('ip', ['link', 'add', 'eth0', 'netns', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer]);
    ipn(host, 'link', 'set', 'eth0', 'up');
    ipn(peer, 'link', 'set', 'eth0', 'up');
    await waitLinkUp(host, 'eth0');
  } catch (e) {
    deleteNamespace(host);
    if (peer) deleteNamespace(peer);
    throw e;
  }
  return {
    host,
    peer,
    async close() {
      deleteNamespace(host);
      deleteNamespace(peer);
    },
  };
}

/**
 * A router lab (miniupnpd running, WAN address `wanAddress`) and one node process running `script`
 * in its client namespace, which serves every command of a test file; end them with `closeNsLab`.
 */
export async function startRouterLabClient(
  script: string,
  wanAddress: string,
): Promise<{ lab: RouterLab; client: NsChild }> {
  const lab = await createRouterLab({ wanAddress });
  try {
    await lab.startMiniupnpd();
    return { lab, client: spawnInNs(lab.client, script) };
  } catch (e) {
    await lab.close();
    throw e;
  }
}

/** Stop `client` and close `lab` (either is missing when its start failed), then no namespace of this run may be left. */
export async function closeNsLab(
  client: NsChild | undefined,
  lab: { close(): Promise<void> } | undefined,
): Promise<void> {
  await client?.stop();
  await lab?.close();
  assert.deepEqual(leftoverNamespaces(), [], 'no namespace of this run is left behind');
}
