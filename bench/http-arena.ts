/**
 * `--only memory`, last table: what the package's HTTP client leaves resident in a bare Node.js
 * process. Run as a child (`node dist/bench/http-arena.js [V8 flags]`): N requests through
 * core/http.ts (undici) to a loopback server, then the RSS and its thread arenas (bench/util.ts
 * rssParts) as one JSON line. undici parses HTTP/1 with llhttp compiled to WebAssembly; V8
 * recompiles it with TurboFan on a background thread, often at the first request already, and that
 * thread's malloc heap (glibc) keeps much of the compiler's memory resident (RESULTS.md §7d). `--liftoff-only` keeps V8 from that recompilation:
 * the difference is its share. Node-RED's core nodes use node:http, whose parser is native.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpRequest } from '../src/core/http';
import { rssParts } from './util';

export interface HttpArenaRow {
  flags: string;
  requests: number;
  rssMb: number;
  threadArenasMb: number;
}

/** Both rows: default V8, and V8 without TurboFan for WebAssembly. */
export function measureHttpArena(requests = 1000): HttpArenaRow[] {
  return [[], ['--liftoff-only']].map((flags) => {
    const out = execFileSync(process.execPath, [...flags, __filename, String(requests)], { timeout: 120_000 });
    const r = JSON.parse(out.toString().trim().split('\n').pop()!) as { rss: number; arenas: number };
    return { flags: flags.join(' ') || '(none)', requests, rssMb: r.rss / 1e6, threadArenasMb: r.arenas / 1e6 };
  });
}

export function httpArenaReport(rows: HttpArenaRow[]): string {
  return [
    `| bare Node.js, ${rows[0]?.requests ?? 0} requests through core/http.ts (undici) | RSS (MB) | thread arenas (MB) |`,
    '|---|---|---|',
    ...rows.map((r) => `| V8 flags ${r.flags} | ${r.rssMb.toFixed(1)} | ${r.threadArenasMb.toFixed(1)} |`),
  ].join('\n');
}

async function child(requests: number): Promise<void> {
  const server = http.createServer((_req, res) => res.end('203.0.113.7'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  for (let i = 0; i < requests; i++) await httpRequest({ url, timeoutMs: 5000 });
  server.close();
  await new Promise((r) => setTimeout(r, 2000)); // background compilations end
  const parts = rssParts(process.pid);
  process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, arenas: parts?.threadArenas ?? NaN })}\n`);
  process.exit(0);
}

if (require.main === module) void child(Number(process.argv[2]) || 1000);
