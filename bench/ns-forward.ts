/**
 * A TCP → Unix-socket forwarder, run inside the router row's client namespace:
 *
 *   ip netns exec <client ns> node dist/bench/ns-forward.js <port> <socket path>
 *
 * It listens on 127.0.0.1:<port> of the namespace and pipes every connection to the Unix socket
 * (a file, so reachable from the host namespace), where the bench pipes it on to its dyndns2
 * bridge on the host's 127.0.0.1. This way the provider traffic never uses a network interface:
 * the namespace keeps the router as its only way out, and whatever it sends past the router is
 * seen (and counted) on the router's LAN side. Prints "listening" once ready; exits on SIGTERM.
 */
import net from 'node:net';

const port = Number(process.argv[2]);
const path = process.argv[3];
if (!Number.isInteger(port) || !path) {
  process.stderr.write('usage: ns-forward <port> <unix socket path>\n');
  process.exit(2);
}
const conns = new Set<net.Socket>();
const server = net.createServer((c) => {
  const up = net.connect(path);
  conns.add(c).add(up);
  const end = () => {
    c.destroy();
    up.destroy();
    conns.delete(c);
    conns.delete(up);
  };
  c.on('error', end).on('close', end);
  up.on('error', end).on('close', end);
  c.pipe(up);
  up.pipe(c);
});
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.once('SIGTERM', () => {
  for (const s of conns) s.destroy();
  server.close(() => process.exit(0));
});
