/**
 * The inner half of the bridge to an isolated Node-RED (see ./isolated.ts). Runs inside the
 * network namespace, started in the background by the shell that then becomes Node-RED:
 *
 *   node netns-bridge.js <unix socket path> <port>
 *
 * It accepts connections on the Unix socket (file system sockets cross network namespaces) and
 * connects each one to 127.0.0.1:<port> inside the namespace, where Node-RED listens. It exits on
 * its own once its parent (Node-RED) is gone, so it can never outlive the instance.
 */
import net from 'node:net';
import { rmSync } from 'node:fs';

const [socketPath, portText] = process.argv.slice(2);
const port = Number(portText);
if (!socketPath || !Number.isInteger(port)) {
  process.stderr.write('usage: netns-bridge.js <unix socket path> <port>\n');
  process.exit(2);
}

/** Pipe two sockets into each other; either side closing or failing closes both. */
function splice(a: net.Socket, b: net.Socket): void {
  a.pipe(b).pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.once('error', close).once('close', close);
  b.once('error', close).once('close', close);
}

const server = net.createServer((outer) => splice(outer, net.connect(port, '127.0.0.1')));
rmSync(socketPath, { force: true });
server.listen(socketPath);

const parent = process.ppid;
setInterval(() => {
  if (process.ppid === parent) return;
  server.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
}, 200);
