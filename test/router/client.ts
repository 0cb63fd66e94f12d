/**
 * Runs inside a test's client network namespace (`ip netns exec <ns> node client.js`): reads
 * commands as JSON lines on stdin and prints JSON lines carrying the command's `id`; a one-shot
 * command ends with a line that has `done: true`. Watches (`watch`, `ifwatch`) print events until
 * a `stop` command or the end of stdin. One process serves a whole test file (a node start costs
 * about a second on a busy machine).
 * Not a test file itself: test/router/*.test.ts spawn it.
 */
import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import { closeHttpPools } from '../../src/core/http';
import { toDdnsError } from '../../src/core/errors';
import {
  createRouterSource,
  findGateway,
  natpmpExternalAddress,
  pcpExternalAddress,
  upnpExternalAddress,
  watchInterfaces,
  watchRouter,
  isRouterNoPublic,
  type RouterHint,
} from '../../src/core/ip/router';

type Op = {
  op: 'gateway' | 'natpmp' | 'pcp' | 'upnp' | 'source' | 'watch' | 'ifwatch' | 'stop';
  gateway?: string;
  timeoutMs?: number;
  enablePcp?: boolean;
  protocolTimeoutMs?: number;
  lookups?: number;
  safetyPollMs?: number;
  debounceMs?: number;
  followUpMs?: number;
  interface?: string;
  mode?: 'auto' | 'monitor' | 'poll';
  pollMs?: number;
  ipCommand?: string;
};

const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);

const errInfo = (e: unknown) => {
  const d = toDdnsError(e);
  return {
    ok: false,
    code: d.code,
    message: d.message,
    kind: d.kind,
    ...(isRouterNoPublic(e)
      ? { noPublic: { protocol: e.protocol, reported: e.reported, routerAddress: e.routerAddress } }
      : {}),
  };
};

async function attempt(f: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  try {
    return { ok: true, ...(await f()) };
  } catch (e) {
    return errInfo(e);
  }
}

/** A small read of /proc/net/if_inet6 for the test's own judgement (flags of each address). */
function if6Flags(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const l of readFileSync('/proc/net/if_inet6', 'utf8').split('\n')) {
      const f = l.trim().split(/\s+/);
      if (f.length >= 6) out[f[0]] = parseInt(f[4], 16);
    }
  } catch {
    /* none */
  }
  return out;
}

type Print = (o: Record<string, unknown>) => void;
const watches = new Map<string, { close(): Promise<void>; stats?: unknown }>();

/** Run one command; one-shot commands print a line with `done: true`, watches print events. */
async function handle(o: Op & { id?: string; target?: string }, print: Print): Promise<void> {
  const signal = new AbortController().signal;
  switch (o.op) {
    case 'gateway':
      return print({
        done: true,
        ...(await attempt(async () => ({ ...(await findGateway({ gateway: o.gateway })) }))),
      });
    case 'natpmp':
      return print({
        done: true,
        ...(await attempt(async () => ({
          ...(await natpmpExternalAddress({
            gateway: o.gateway ?? (await findGateway()).address,
            timeoutMs: o.timeoutMs,
          })),
        }))),
      });
    case 'pcp':
      return print({
        done: true,
        ...(await attempt(async () => ({
          ...(await pcpExternalAddress({
            gateway: o.gateway ?? (await findGateway()).address,
            timeoutMs: o.timeoutMs,
          })),
        }))),
      });
    case 'upnp':
      return print({
        done: true,
        ...(await attempt(async () => {
          const g = await findGateway({ gateway: o.gateway });
          const a = await upnpExternalAddress({
            gateway: g.address,
            localAddress: g.localAddress,
            timeoutMs: o.timeoutMs,
          });
          return { address: a.address, service: a.service, services: a.services, ms: a.ms };
        })),
      });
    case 'source': {
      const src = createRouterSource({
        gateway: o.gateway,
        enablePcp: o.enablePcp,
        protocolTimeoutMs: o.protocolTimeoutMs,
      });
      const results: Array<Record<string, unknown>> = [];
      for (let i = 0; i < (o.lookups ?? 1); i++) {
        const started = performance.now();
        const r = await attempt(async () => ({
          ...(await src.lookup({ family: 'ipv4', signal, timeoutMs: o.timeoutMs ?? 8000 })),
        }));
        results.push({
          ...r,
          ms: Math.round(performance.now() - started),
          learned: Object.fromEntries(src.learned()),
          evidence: src.lastEvidence(),
        });
      }
      return print({ done: true, results });
    }
    case 'watch': {
      // The lead's wiring in miniature: every hint runs a router lookup.
      const src = createRouterSource({ gateway: o.gateway, protocolTimeoutMs: o.protocolTimeoutMs ?? 1000 });
      const w = watchRouter({
        gateway: o.gateway,
        safetyPollMs: o.safetyPollMs,
        debounceMs: o.debounceMs,
        followUpMs: o.followUpMs,
        onError: (e) => print({ event: 'error', code: e.code, message: e.message }),
        onHint: async (h: RouterHint) => {
          const hintAt = Date.now();
          const r = await attempt(async () => ({ ...(await src.lookup({ family: 'ipv4', signal, timeoutMs: 3000 })) }));
          print({
            event: 'hint',
            reason: h.reason,
            announced: h.announced,
            hintAt,
            ...r,
            queryMs: Date.now() - hintAt,
          });
        },
      });
      watches.set(o.id ?? '', w);
      await w.ready;
      return print({ event: 'ready', listening: w.listening, gateway: w.gateway });
    }
    case 'ifwatch': {
      const w = watchInterfaces({
        interface: o.interface,
        mode: o.mode,
        pollMs: o.pollMs,
        ipCommand: o.ipCommand,
        onError: (e) => print({ event: 'error', code: e.code, message: e.message }),
        onChange: (s) => print({ event: 'change', snapshot: s, if6: if6Flags() }),
      });
      watches.set(o.id ?? '', w);
      await w.ready;
      return print({ event: 'ready', mode: w.mode });
    }
    case 'stop': {
      const w = watches.get(o.target ?? '');
      watches.delete(o.target ?? '');
      await w?.close();
      return print({ done: true, event: 'closed', stats: w?.stats });
    }
    default:
      return print({ done: true, ok: false, message: `unknown op ${String((o as { op?: unknown }).op)}` });
  }
}

/** Commands come one JSON object per stdin line (`id` echoed on every line they print); stdin's end closes everything. */
async function main(): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin });
  const running = new Set<Promise<void>>();
  rl.on('line', (line) => {
    let cmd: Op & { id?: string };
    try {
      cmd = JSON.parse(line) as Op & { id?: string };
    } catch {
      return out({ done: true, ok: false, message: `not JSON: ${line.slice(0, 80)}` });
    }
    const print: Print = (o) => out({ id: cmd.id, ...o });
    const p = handle(cmd, print).catch((e) =>
      print({ done: true, ok: false, crashed: true, message: String((e as Error)?.stack ?? e) }),
    );
    running.add(p);
    void p.finally(() => running.delete(p));
  });
  await new Promise<void>((r) => rl.once('close', () => r()));
  await Promise.all(running);
  for (const w of watches.values()) await w.close();
  await closeHttpPools();
  out({ event: 'exit' });
}

main().catch((e) => {
  out({ done: true, ok: false, crashed: true, message: String((e as Error)?.stack ?? e) });
  process.exitCode = 1;
});
