/**
 * Figures 3 and 4: steady-state cost and footprint, measured over one window in which no address
 * changes (the clients keep polling at their budget).
 *
 * - Cost: lookups each client made at its what's-my-IP path, and requests its provider saw
 *   (updates, and DNS queries for the RFC 2136 clients), counted within the window. Lookups per
 *   day come from the mean time between consecutive lookups (exact even when the window holds
 *   only a few); provider requests per day are the count × 86 400 s / window.
 * - Footprint: resident memory (VmRSS) of each process, sampled every few seconds (median), and
 *   CPU time (user + system, including finished children such as nsupdate) over the window,
 *   scaled to an hour.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { RunningClient } from './clients';
import { cpuSeconds, median, now, rssBytes, sleep } from './util';

export interface SteadyCost {
  client: string;
  windowMs: number;
  lookups: number;
  /** Mean time between two consecutive lookups in the window (NaN with fewer than two). */
  lookupIntervalMs: number;
  updates: number;
  queries: number;
}

export interface Footprint {
  label: string;
  pid: number;
  rssMedian: number;
  rssMax: number;
  cpuSeconds: number;
  windowMs: number;
}

export interface WatchedProcess {
  label: string;
  pid: number;
}

export async function measureSteady(
  clients: RunningClient[],
  procs: WatchedProcess[],
  windowMs: number,
  sampleEveryMs = 5000,
): Promise<{ costs: SteadyCost[]; footprints: Footprint[] }> {
  const start = now();
  const cpu0 = procs.map((p) => cpuSeconds(p.pid));
  const rss: number[][] = procs.map(() => []);
  const sample = () =>
    procs.forEach((p, i) => {
      const r = rssBytes(p.pid);
      if (r !== null) rss[i].push(r);
    });
  sample();
  for (let i = 0; i < 100_000 && now() - start < windowMs; i++) {
    await sleep(Math.min(sampleEveryMs, windowMs - (now() - start)));
    sample();
  }
  const end = now();
  const cpu1 = procs.map((p) => cpuSeconds(p.pid));
  const inWindow = (t: number) => t >= start && t < end;
  const costs = clients.map((c) => {
    const ts = c.ip.lookups.filter((l) => inWindow(l.t)).map((l) => l.t);
    return {
      client: c.id,
      windowMs: end - start,
      lookups: ts.length,
      lookupIntervalMs: ts.length >= 2 ? (ts[ts.length - 1] - ts[0]) / (ts.length - 1) : NaN,
      updates: c.provider.entries.filter((e) => e.kind === 'update' && inWindow(e.t)).length,
      queries: c.provider.entries.filter((e) => e.kind !== 'update' && inWindow(e.t)).length,
    };
  });
  const footprints = procs.map((p, i) => ({
    label: p.label,
    pid: p.pid,
    rssMedian: median(rss[i]),
    rssMax: rss[i].length ? Math.max(...rss[i]) : NaN,
    cpuSeconds: cpu0[i] !== null && cpu1[i] !== null ? cpu1[i]! - cpu0[i]! : NaN,
    windowMs: end - start,
  }));
  return { costs, footprints };
}

export interface LoadCost {
  what: string;
  rss: number;
}

/**
 * Where the package's memory goes: the resident memory a fresh Node.js gains by requiring each
 * node module of the package (dependencies it shares with other modules are counted in each),
 * all of them together, and each runtime dependency alone. Approximate (one sample each).
 */
export function loadCosts(repoRoot: string): LoadCost[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require(join(repoRoot, 'package.json')) as {
    'node-red': { nodes: Record<string, string> };
    dependencies: Record<string, string>;
  };
  const measure = (what: string, modules: string[]): LoadCost => {
    const code =
      `const a = process.memoryUsage().rss; for (const m of ${JSON.stringify(modules)}) require(m); ` +
      'const b = process.memoryUsage().rss; process.stdout.write(String(b - a));';
    const r = spawnSync(process.execPath, ['-e', code], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    return { what, rss: r.status === 0 ? Number(r.stdout) : NaN };
  };
  const nodes = Object.entries(pkg['node-red'].nodes).map(([name, file]) => [name, join(repoRoot, file)] as const);
  return [
    ...nodes.map(([name, file]) => measure(`node ${name}`, [file])),
    measure(
      'all nodes of the package',
      nodes.map(([, f]) => f),
    ),
    ...Object.keys(pkg.dependencies).map((d) => measure(`dependency ${d}`, [d])),
  ];
}
