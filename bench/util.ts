/**
 * Small shared pieces of the bench: a monotonic clock, statistics, a seeded random generator, and
 * the cleanup registry that makes sure every process the bench started is stopped by its pid and
 * every temporary directory is removed (also on Ctrl-C and on errors).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Milliseconds since the epoch with sub-millisecond resolution, never going backwards. */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Write a progress line to stderr (stdout carries only the final table). */
export function log(text: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${t}] ${text}\n`);
}

// ------------------------------------------------------------------------------------ statistics

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile; NaN for an empty list. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function max(xs: readonly number[]): number {
  return xs.length ? Math.max(...xs) : NaN;
}

/** Seconds with a sensible number of digits ("0.004 s", "1.2 s", "154 s"); "—" for NaN. */
export function secs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = ms / 1000;
  if (s < 0.1) return `${s.toFixed(3)} s`;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 100) return `${s.toFixed(1)} s`;
  return `${Math.round(s)} s`;
}

/** Milliseconds for short durations ("3.1 ms", "250 ms"). */
export function msText(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return secs(ms);
}

/** mulberry32: the same seed gives every client the same sequence of random moments. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poll `cond` every `everyMs` until it is truthy; null after `timeoutMs` (bounded). */
export async function pollUntil<T>(cond: () => T | Promise<T>, timeoutMs: number, everyMs = 50): Promise<T | null> {
  const end = now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (now() >= end) return null;
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------------------ cleanup registry

type Cleanup = { name: string; run: () => Promise<void> | void };
const cleanups: Cleanup[] = [];
let cleaning: Promise<void> | null = null;

/** Register something to undo at the end (last registered, first undone). Returns an unregister function. */
export function onCleanup(name: string, run: () => Promise<void> | void): () => void {
  const c = { name, run };
  cleanups.push(c);
  return () => {
    const i = cleanups.indexOf(c);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** Undo everything registered, newest first; errors are reported, never thrown. Idempotent. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const c = cleanups.pop()!;
      try {
        await c.run();
      } catch (e) {
        log(`cleanup of ${c.name} failed: ${(e as Error).message}`);
      }
    }
  })();
  return cleaning;
}

/** Ctrl-C, SIGTERM and crashes: stop everything, then exit. */
export function installExitHandlers(): void {
  const bail = (code: number, why: string) => {
    log(why);
    const hard = setTimeout(() => process.exit(code), 30_000);
    hard.unref();
    void cleanupAll().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => bail(130, 'interrupted: stopping every process the bench started'));
  process.once('SIGTERM', () => bail(143, 'terminated: stopping every process the bench started'));
  process.on('uncaughtException', (e) => bail(1, `unexpected error: ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) => bail(1, `unexpected error: ${(e as Error)?.stack ?? e}`));
}

/** A fresh temporary directory, removed at cleanup. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ddns-bench-${prefix}-`));
  onCleanup(`temp dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ------------------------------------------------------------------------------------ processes

export interface Managed {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Everything it printed so far (capped at 1 MB, newest kept). */
  output(): string;
  /** Resolves with the exit code (or the signal name) when it ends. */
  exited: Promise<number | string>;
  running(): boolean;
  /** SIGTERM by pid, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_CAP = 1 << 20;

/** Start a process that is stopped by its pid at cleanup (or earlier through `stop()`). */
export function launch(name: string, command: string, args: string[], opts: SpawnOptions = {}): Managed {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  child.on('error', (e) => log(`${name}: ${e.message}`)); // e.g. not installed: reported, never a crash
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command} (is it installed?)`);
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > OUTPUT_CAP) out = out.slice(-OUTPUT_CAP / 2);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const pid = child.pid;
  const stop = async (graceMs = 5000) => {
    if (running()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, graceMs);
      await exited;
      clearTimeout(t);
    }
    unregister();
  };
  const unregister = onCleanup(`${name} (pid ${pid})`, () => stop());
  return { name, pid, child, output: () => out, exited, running, stop };
}

// ---------------------------------------------------------------------------------- /proc readers

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time of a process (user + system, including waited-for children), seconds; null when gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after the name start at field 3 (state): utime=14, stime=15, cutime=16, cstime=17
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return ticks / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Resident memory of a process, bytes; null when gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * A process's resident memory by where it lies (/proc/PID/smaps), in bytes: `threadArenas`, the
 * malloc heaps of threads other than the main one (glibc maps each at a 64 MiB boundary; V8's
 * compiler threads and libuv's pool allocate there, and what they free stays resident until the
 * top of the heap is free); `mainMalloc`, the main thread's malloc heap (`[heap]`); `anon`, other
 * anonymous memory (V8's heap pages, code, stacks); `files`, mapped files (node, libraries).
 */
export interface RssParts {
  threadArenas: number;
  mainMalloc: number;
  anon: number;
  files: number;
}

export function rssParts(pid: number): RssParts | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const parts: RssParts = { threadArenas: 0, mainMalloc: 0, anon: 0, files: 0 };
  let where: keyof RssParts = 'anon';
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const [start, end, perms, name] = [BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`), m[3], m[4]];
      const arena = 64n << 20n;
      if (name === '[heap]') where = 'mainMalloc';
      else if (name && !name.startsWith('[')) where = 'files';
      else if (!name && perms === 'rw-p' && start % arena === 0n && end - start <= arena) where = 'threadArenas';
      else where = 'anon';
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) parts[where] += Number(r[1]) * 1024;
  }
  return parts;
}

export interface Listening {
  port: number;
  /** Close the server and every open connection. */
  close(): Promise<void>;
}

/** Listen on a free port of 127.0.0.1, keeping track of the connections so that close() ends them. */
export async function listenLoopback(server: import('node:net').Server): Promise<Listening> {
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as import('node:net').AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
