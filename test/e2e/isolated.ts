/**
 * Node-RED without the internet: a started Node-RED (startNodeRed) inside a network namespace of
 * its own that has nothing but a loopback interface, so that deploying flows whose nodes would
 * reach out on start (public IP sources, ACME directories, public resolvers, example flows with
 * placeholder settings) cannot touch the internet — they fail at once with "network unreachable".
 *
 * The admin API and the editor are still reachable from the test at the usual
 * http://127.0.0.1:<port>: a TCP listener on the test's loopback hands each connection to a Unix
 * socket in the user directory, where ./netns-bridge.js (inside the namespace) connects it to
 * Node-RED. The namespace disappears with the process; nothing is left to clean up.
 *
 * Needs root (or CAP_SYS_ADMIN) for `unshare --net` and iproute2's `ip`.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { startNodeRed, type StartOptions, type StartedNodeRed } from '../support/node-red';

/** Why Node-RED cannot be isolated here, or null when it can. */
export function isolationUnavailable(): string | null {
  const r = spawnSync('unshare', ['--net', '--', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (r.error) return `unshare not found (${r.error.message}); install util-linux and iproute2`;
  if (r.status !== 0)
    return `cannot create a network namespace (unshare --net: ${(r.stderr || '').trim() || `exit ${r.status}`}); run as root`;
  return null;
}

// Inside the new namespace: bring loopback up, start the bridge in the background, then become
// Node-RED (exec keeps the pid, so startNodeRed's signals reach Node-RED itself).
const INNER_SCRIPT = 'ip link set lo up || exit 97; "$1" "$2" "$3" "$4" </dev/null & shift 4; exec "$@"';

/** Start Node-RED (same options as startNodeRed) in a network namespace with only loopback. */
export async function startIsolatedNodeRed(opts: StartOptions = {}): Promise<StartedNodeRed> {
  let outer: net.Server | undefined;
  let listening: Promise<void> | undefined;
  const sockets = new Set<net.Socket>();
  const closeOuter = async () => {
    for (const s of sockets) s.destroy();
    if (outer?.listening) await new Promise<void>((r) => outer!.close(() => r()));
  };
  let red: StartedNodeRed;
  try {
    red = await startNodeRed({
      ...opts,
      launcher: (argv, { port, userDir }) => {
        const socketPath = join(userDir, '.admin-api.sock');
        outer = net.createServer((client) => {
          sockets.add(client);
          client.once('close', () => sockets.delete(client));
          const inner = net.connect(socketPath);
          client.pipe(inner).pipe(client);
          const close = () => {
            client.destroy();
            inner.destroy();
          };
          client.once('error', close).once('close', close);
          inner.once('error', close).once('close', close);
        });
        const server = outer;
        listening = new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => resolve());
        });
        listening.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
        const bridge = join(__dirname, 'netns-bridge.js');
        return [
          'unshare',
          '--net',
          '--',
          'sh',
          '-c',
          INNER_SCRIPT,
          'sh',
          process.execPath,
          bridge,
          socketPath,
          String(port),
          ...argv,
        ];
      },
    });
    await listening;
  } catch (err) {
    await closeOuter();
    throw err;
  }
  const stop = red.stop;
  return {
    ...red,
    stop: async () => {
      try {
        await stop();
      } finally {
        await closeOuter();
      }
    },
  };
}

/** What a failed attempt to reach the internet looks like in error texts (expected in here). */
const OFFLINE = /network unreachable|name lookup failed|ENETUNREACH|EAI_AGAIN|ENOTFOUND/;

/**
 * The `[error]` lines of a piece of Node-RED's log, split into real errors and those that only
 * report that the internet is unreachable (nodes that reach out on start, inside the namespace).
 */
export function errorLines(log: string): { errors: string[]; offline: string[] } {
  const lines = log.split('\n').filter((l) => /\[error\]/.test(l));
  return { errors: lines.filter((l) => !OFFLINE.test(l)), offline: lines.filter((l) => OFFLINE.test(l)) };
}
