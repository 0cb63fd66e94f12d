/**
 * Interface address events: notice at once when this host's own addresses change (PPPoE on ppp0,
 * global IPv6 on eth0), without asking anyone.
 *
 * Contract:
 * - Where iproute2 is available, a child `ip -o monitor address` prints one line per kernel
 *   address event (a `Deleted` prefix on removals; flags such as `tentative`, `deprecated`,
 *   `temporary`, `dadfailed`). Each line for the chosen interface (any non-loopback interface
 *   when none is chosen) triggers a fresh read of the addresses; events are not trusted to
 *   carry the whole state.
 * - Where it is not (BusyBox `ip` has no `monitor`, e.g. the Home Assistant add-on), or when the
 *   child dies, the addresses are polled every `pollMs` (default 2 s) instead: cheap local reads.
 * - Reading the addresses: os.networkInterfaces() for the list, /proc/net/if_inet6 for the IPv6
 *   flags (0x01 temporary, 0x08 dadfailed, 0x20 deprecated, 0x40 tentative). Tentative (duplicate
 *   detection still running), failed, deprecated and temporary (privacy; unless allowed)
 *   addresses are never reported as usable. While an address is tentative the state is read
 *   again every `dadRecheckMs` (default 500 ms) until it settles, so a new IPv6 address is
 *   reported once duplicate detection has finished (~1–2 s), even without a further event.
 * - `onChange(snapshot)` is called with the start state once, then whenever the usable addresses
 *   of the interface change. `snapshot.ipv4`/`ipv6` hold the public ones (what DNS may get);
 *   `addresses` all usable ones with their class (a private or 100.64/10 address on ppp0 is
 *   CGNAT evidence).
 * - `close()` kills the child (by its pid, through the ChildProcess handle), clears every timer
 *   and resolves once the child has exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { z } from 'zod';
import { toDdnsError, transient, type DdnsError } from '../errors';
import { classify, type AddressClass, type Family } from '../address';
import { IFA_F, parseIf6Flags } from './sources/interface';
import { phrase } from '../said';

export const DEFAULT_POLL_MS = 2000;
export const DEFAULT_DAD_RECHECK_MS = 500;
/** Coalesce the burst of lines one change produces (address, route, DAD end). */
const EVENT_SETTLE_MS = 30;

export const interfaceWatchOptionsSchema = z.object({
  interface: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z
      .string()
      .trim()
      .max(64)
      .regex(/^[^\s/]+$/, {
        message: phrase('ip.interface_name_no_slashes', 'an interface name has no spaces or slashes'),
      })
      .optional(),
  ),
  allowTemporary: z.boolean().optional(),
  mode: z.enum(['auto', 'monitor', 'poll']).default('auto'),
  pollMs: z.number().int().min(200).max(600_000).default(DEFAULT_POLL_MS),
});

export interface InterfaceAddress {
  interface: string;
  address: string;
  family: Family;
  class: AddressClass;
}

export interface InterfaceSnapshot {
  /** Usable public IPv4 / IPv6 addresses, sorted. */
  ipv4: string[];
  ipv6: string[];
  /** Every usable address (public or not, no link-local/loopback), sorted. */
  addresses: InterfaceAddress[];
  /** Addresses left out, with why (e.g. "2001:… on eth0 (tentative)"). */
  skipped: string[];
  /** What noticed the change. */
  via: 'start' | 'monitor' | 'poll' | 'dad';
  at: string;
}

export interface MonitorEvent {
  deleted: boolean;
  index: number;
  interface: string;
  family: Family;
  address: string;
  prefixLength: number;
  flags: string[];
}

export interface InterfaceReadersEv {
  interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  if6Flags?: () => Promise<string | null>;
}

export interface InterfaceWatchOptions {
  /** Interface name; every non-loopback interface when absent. */
  interface?: string;
  /** Count temporary (privacy) IPv6 addresses as usable. Not advised for DNS. */
  allowTemporary?: boolean;
  /** `auto` (and `monitor`): ip monitor, polling where it is missing or dies; `poll`: polling only. Default auto. */
  mode?: 'auto' | 'monitor' | 'poll';
  pollMs?: number;
  dadRecheckMs?: number;
  /** The iproute2 binary. Default `ip`. */
  ipCommand?: string;
  onChange: (snapshot: InterfaceSnapshot) => void;
  onError?: (err: DdnsError) => void;
  readers?: InterfaceReadersEv;
}

export interface InterfaceWatch {
  /** Resolves after the first read (and onChange with `via: 'start'`). */
  readonly ready: Promise<void>;
  /** How changes are noticed right now. */
  readonly mode: 'monitor' | 'poll' | 'closed';
  /** The last snapshot. */
  current(): InterfaceSnapshot | null;
  close(): Promise<void>;
}

/**
 * Parse one line of `ip -o monitor address`, e.g.
 * `Deleted 3: eth0    inet6 2001:db8::1/64 scope global tentative \       valid_lft forever …`.
 * Returns null for lines that are not address events.
 */
export function parseMonitorLine(line: string): MonitorEvent | null {
  let s = line.trim();
  // `ip monitor` may prefix the object type (`[ADDR]`) or a timestamp; drop any bracketed prefix.
  s = s.replace(/^(\[[^\]]*\]\s*)+/, '');
  let deleted = false;
  if (s.startsWith('Deleted ')) {
    deleted = true;
    s = s.slice(8).trim();
  }
  const m = /^(\d+):\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?(?:\s+peer\s+\S+)?(.*)$/.exec(s);
  if (!m) return null;
  const family: Family = m[3] === 'inet' ? 'ipv4' : 'ipv6';
  const c = classify(m[4]);
  if (c.family !== family) return null;
  const rest = m[6].split('\\')[0];
  const words = rest.trim().split(/\s+/);
  const known = new Set([
    'tentative',
    'deprecated',
    'temporary',
    'dadfailed',
    'secondary',
    'dynamic',
    'mngtmpaddr',
    'noprefixroute',
    'optimistic',
    'permanent',
    'home',
    'nodad',
    'stable-privacy',
  ]);
  return {
    deleted,
    index: Number(m[1]),
    interface: m[2],
    family,
    address: c.address,
    prefixLength: m[5] ? Number(m[5]) : family === 'ipv4' ? 32 : 128,
    flags: words.filter((w) => known.has(w)),
  };
}

async function readIf6(): Promise<string | null> {
  try {
    return await readFile('/proc/net/if_inet6', 'utf8');
  } catch {
    return null;
  }
}

const isV4 = (i: os.NetworkInterfaceInfo) => i.family === 'IPv4' || (i.family as unknown) === 4;

/** Read the usable addresses of `name` (or of all non-loopback interfaces). */
export async function readInterfaceAddresses(
  opts: { interface?: string; allowTemporary?: boolean; readers?: InterfaceReadersEv },
  via: InterfaceSnapshot['via'] = 'start',
): Promise<InterfaceSnapshot & { tentative: boolean }> {
  const all = (opts.readers?.interfaces ?? os.networkInterfaces)();
  const flags = parseIf6Flags((await (opts.readers?.if6Flags ?? readIf6)()) ?? '');
  const addresses: InterfaceAddress[] = [];
  const skipped: string[] = [];
  let tentative = false;
  for (const [ifname, infos] of Object.entries(all)) {
    if (opts.interface ? ifname !== opts.interface : false) continue;
    for (const i of infos ?? []) {
      if (!opts.interface && i.internal) continue;
      const family: Family = isV4(i) ? 'ipv4' : 'ipv6';
      const c = classify(i.address);
      if (c.class === 'invalid' || c.class === 'link-local' || c.class === 'loopback' || c.class === 'multicast')
        continue;
      if (family === 'ipv6') {
        const f = flags.get(`${ifname}|${c.address}`) ?? 0;
        const bad = (Object.keys(IFA_F) as Array<keyof typeof IFA_F>).filter(
          (k) => f & IFA_F[k] && (k !== 'temporary' || !opts.allowTemporary),
        );
        if (f & IFA_F.tentative && !(f & IFA_F.dadfailed)) tentative = true;
        if (bad.length) {
          skipped.push(`${c.address} on ${ifname} (${bad.join(', ')})`);
          continue;
        }
      }
      addresses.push({ interface: ifname, address: c.address, family, class: c.class });
    }
  }
  addresses.sort((a, b) => (a.interface + a.address < b.interface + b.address ? -1 : 1));
  const pub = (f: Family) =>
    [...new Set(addresses.filter((a) => a.family === f && a.class === 'public').map((a) => a.address))].sort();
  return {
    ipv4: pub('ipv4'),
    ipv6: pub('ipv6'),
    addresses,
    skipped: skipped.sort(),
    via,
    at: new Date().toISOString(),
    tentative,
  };
}

const fingerprint = (s: InterfaceSnapshot) => JSON.stringify(s.addresses.map((a) => [a.interface, a.address]));

export function watchInterfaces(o: InterfaceWatchOptions): InterfaceWatch {
  const pollMs = Math.max(200, o.pollMs ?? DEFAULT_POLL_MS);
  const dadRecheckMs = Math.max(50, o.dadRecheckMs ?? DEFAULT_DAD_RECHECK_MS);
  const want = o.interface?.trim() || undefined;
  let mode: 'monitor' | 'poll' | 'closed' = o.mode === 'poll' ? 'poll' : 'monitor';
  let child: ChildProcess | null = null;
  let childExited: Promise<void> = Promise.resolve();
  let last: InterfaceSnapshot | null = null;
  let closed = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let dadTimer: NodeJS.Timeout | undefined;
  let settleTimer: NodeJS.Timeout | undefined;
  let reading: Promise<void> | null = null;
  let again: InterfaceSnapshot['via'] | null = null;

  const report = (e: unknown) => {
    if (!closed) o.onError?.(toDdnsError(e));
  };

  /** Read now (one read at a time; a request during a read causes one more read after it). */
  const check = (via: InterfaceSnapshot['via']): Promise<void> => {
    if (closed) return Promise.resolve();
    if (reading) {
      again = via;
      return reading;
    }
    reading = (async () => {
      try {
        const snap = await readInterfaceAddresses(
          { interface: want, allowTemporary: o.allowTemporary, readers: o.readers },
          via,
        );
        if (closed) return;
        const { tentative, ...s } = snap;
        clearTimeout(dadTimer);
        if (tentative) dadTimer = setTimeout(() => void check('dad'), dadRecheckMs);
        if (!last || fingerprint(last) !== fingerprint(s)) {
          last = s;
          o.onChange(s);
        } else last = s;
      } catch (e) {
        report(e);
      }
    })().finally(() => {
      reading = null;
      const next = again;
      again = null;
      if (next && !closed) void check(next);
    });
    return reading;
  };

  const startPolling = () => {
    if (closed) return;
    mode = 'poll';
    const tick = () => {
      pollTimer = setTimeout(() => {
        void check('poll').finally(() => {
          if (!closed) tick();
        });
      }, pollMs);
    };
    tick();
  };

  const startMonitor = () => {
    let c: ChildProcess;
    try {
      c = spawn(o.ipCommand ?? 'ip', ['-o', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      report(
        transient(
          `cannot run "ip monitor" (${(e as Error).message}); checking the addresses every ${pollMs / 1000} s instead`,
          { code: 'monitor_unavailable' },
        ),
      );
      return startPolling();
    }
    child = c;
    // The child subscribes to the kernel a moment after it starts: read once more then, so a
    // change between our first read and its subscription is not missed.
    settleTimer = setTimeout(() => void check('monitor'), 250);
    let buf = '';
    let err = '';
    let spawnError: Error | undefined;
    c.stdout!.setEncoding('utf8');
    c.stdout!.on('data', (d: string) => {
      buf += d;
      if (buf.length > 1 << 20) buf = buf.slice(-4096); // a runaway line cannot grow without bound
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const ev = parseMonitorLine(line);
        if (!ev || (want && ev.interface !== want)) continue;
        clearTimeout(settleTimer);
        settleTimer = setTimeout(() => void check('monitor'), EVENT_SETTLE_MS);
      }
    });
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => {
      if (err.length < 2000) err += d;
    });
    c.on('error', (e) => (spawnError = e));
    childExited = new Promise((resolve) => {
      c.once('close', (code, signal) => {
        child = null;
        resolve();
        if (closed) return;
        const why = spawnError
          ? (spawnError as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'the "ip" command is not installed'
            : spawnError.message
          : `"ip monitor" stopped (${signal ?? `exit code ${code}`}${err.trim() ? `: ${err.trim().split('\n')[0].slice(0, 120)}` : ''}); this "ip" may be BusyBox, which has no monitor`;
        clearTimeout(settleTimer);
        report(
          transient(`${why}; checking the addresses every ${pollMs / 1000} s instead`, { code: 'monitor_unavailable' }),
        );
        startPolling();
        void check('poll');
      });
    });
  };

  const ready = (async () => {
    if (mode === 'monitor') startMonitor();
    else startPolling();
    await check('start');
  })();

  return {
    ready,
    get mode() {
      return mode;
    },
    current: () => last,
    async close() {
      if (closed) return;
      closed = true;
      mode = 'closed';
      clearTimeout(pollTimer);
      clearTimeout(dadTimer);
      clearTimeout(settleTimer);
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await childExited;
      await ready.catch(() => undefined);
      if (reading) await reading;
    },
  };
}
