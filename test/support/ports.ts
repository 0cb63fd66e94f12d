import dgram from 'node:dgram';
import net from 'node:net';

/** A loopback port that is free for both TCP and UDP right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, host, () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpOk = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      u.once('error', () => resolve(false));
      u.bind(port, host, () => u.close(() => resolve(true)));
    });
    if (udpOk) return port;
  }
  throw new Error('no free port found');
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` right now. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Stop a child process by its pid: `signal`, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopProcess(
  child: import('node:child_process').ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/**
 * A home router's NAT-PMP/PCP socket on loopback: port 5351 (where announcements come from, RFC
 * 6886 §3.2.1) on a random 127.x.y.z address, so that parallel runs do not compete for the port.
 * Null when that port is taken on this machine.
 */
export async function routerSocketOnLoopback(): Promise<{ gateway: string; socket: dgram.Socket } | null> {
  const n = (k: number) => Math.floor(Math.random() * k);
  const gateway = `127.${1 + n(250)}.${n(250)}.${1 + n(250)}`;
  const socket = dgram.createSocket('udp4');
  const bound = await new Promise<boolean>((r) => {
    socket.once('error', () => r(false));
    socket.bind(5351, gateway, () => r(true));
  });
  if (bound) return { gateway, socket };
  socket.close();
  return null;
}
