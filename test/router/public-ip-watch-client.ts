/**
 * Runs public-ip-watch in the real Node-RED runtime (node-red-node-test-helper) inside a test's
 * client network namespace (`ip netns exec <ns> node public-ip-watch-client.js`), behind the
 * test's miniupnpd router. Not a test file itself: public-ip-watch-router.test.ts spawns it.
 *
 * Commands come as JSON lines on stdin (each with an `id`, echoed on every line printed for it):
 * - `start`: start the helper's server and an "outside" what's-my-IP service on 127.0.0.1 of the
 *   namespace (it answers like api.ipify.org: the address as plain text, https://www.ipify.org/);
 *   prints `{ done, url }`.
 * - `answer { text }`: what the outside service answers from now on.
 * - `load { config }`: a flow with public-ip-watch `w` (config merged in) and Catch/Status/Complete nodes;
 *   prints `{ event: 'loaded' }`, then for as long as it runs, every message as `out` / `alert` /
 *   `caught`, every status as `status`, every warning or error node w logs as `log`.
 * - `input { msg }`: send msg to w.
 * - `stats`: `{ done, outside }`: requests the outside service has had.
 * - `unload`: unload the flow; `{ done, before, after }`: the process's active handles by type
 *   (getActiveResourcesInfo) before the first load and after this unload.
 * The end of stdin closes everything; the last line is `{ event: 'exit' }`.
 */
import readline from 'node:readline';
import { closeHttpPools } from '../../src/core/http';
import { startServer, text, type TestServer } from '../support/http-server';
import { helper, nodeModule } from '../support/node-red';
import { publicIpWatchFlow } from '../support/observer';

type Line = Record<string, unknown>;
type Cmd = { id?: string; op: string; text?: string; config?: Line; msg?: Line };

const out = (o: Line): void => {
  process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);
};

let outside: TestServer | null = null;
let answer = '192.0.3.7';
let baseline: Record<string, number> | null = null;
let logTimer: NodeJS.Timeout | undefined;

/** Active handles by type (UDPWRAP: sockets, ProcessWrap: children, Timeout: timers, …). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

async function handle(c: Cmd, print: (o: Line) => void): Promise<void> {
  switch (c.op) {
    case 'start': {
      await helper.startServer();
      outside = await startServer((_req, res) => text(res, `${answer}\n`));
      baseline = resources();
      return print({ done: true, url: outside.url });
    }
    case 'answer':
      answer = String(c.text);
      return print({ done: true });
    case 'stats':
      return print({ done: true, outside: outside?.requests.length ?? 0 });
    case 'load': {
      await helper.load(nodeModule('public-ip-watch'), publicIpWatchFlow(c.config ?? {}, [], 'router'));
      helper.getNode('out').on('input', (m: Line) => print({ event: 'out', payload: m.payload, topic: m.topic }));
      helper.getNode('alerts').on('input', (m: Line) => print({ event: 'alert', payload: m.payload }));
      helper
        .getNode('caught')
        .on('input', (m: Line) => print({ event: 'caught', error: (m.error as Line)?.message, payload: m.payload }));
      helper.getNode('statuses').on('input', (m: Line) => print({ event: 'status', status: m.status }));
      // Warnings and errors of node w, from the runtime's log spy.
      let seen = 0;
      clearInterval(logTimer);
      logTimer = setInterval(() => {
        const log = helper.log();
        const args = log.args as Array<[Line]>;
        for (; seen < args.length; seen++) {
          const e = args[seen][0];
          if (e.id === 'w' && (e.level === log.WARN || e.level === log.ERROR))
            print({ event: 'log', level: e.level === log.WARN ? 'warn' : 'error', msg: String(e.msg) });
        }
      }, 20);
      return print({ event: 'loaded' });
    }
    case 'input':
      helper.getNode('w').receive(c.msg ?? { payload: 'check' });
      return print({ done: true });
    case 'unload': {
      clearInterval(logTimer);
      await helper.unload();
      // Sockets report closed on the next turns of the event loop.
      await new Promise((r) => setTimeout(r, 200));
      return print({ done: true, before: baseline, after: resources() });
    }
    default:
      return print({ done: true, ok: false, message: `unknown op ${c.op}` });
  }
}

async function main(): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin });
  const running = new Set<Promise<void>>();
  rl.on('line', (l) => {
    let c: Cmd;
    try {
      c = JSON.parse(l) as Cmd;
    } catch {
      return out({ done: true, ok: false, message: `not JSON: ${l.slice(0, 80)}` });
    }
    const print = (o: Line) => out({ id: c.id, ...o });
    const p = handle(c, print).catch((e) =>
      print({ done: true, ok: false, crashed: true, message: String((e as Error)?.stack ?? e) }),
    );
    running.add(p);
    void p.finally(() => running.delete(p));
  });
  await new Promise<void>((r) => rl.once('close', () => r()));
  await Promise.all(running);
  clearInterval(logTimer);
  await helper.unload().catch(() => undefined);
  await helper.stopServer().catch(() => undefined);
  await outside?.close();
  await closeHttpPools();
  out({ event: 'exit' });
}

main().catch((e) => {
  out({ done: true, ok: false, crashed: true, message: String((e as Error)?.stack ?? e) });
  process.exitCode = 1;
});
