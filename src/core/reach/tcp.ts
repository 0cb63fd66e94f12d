/**
 * TCP reachability: can a connection to host:port be opened? (`nc -zv host port`.)
 *
 * Contract: `probeTcp` resolves for every network outcome (ok true/false with a sentence for a
 * person saying what it probably means); it throws only for invalid input (a DdnsError of kind
 * `input`) or when the signal is aborted. Nothing is sent: the connection is closed as soon as it
 * is open. `family` forces IPv4 or IPv6 (a name is then resolved in that family only).
 */
import net from 'node:net';
import { badInput, transient } from '../errors';

export interface TcpProbe {
  host: string;
  port: number;
  /** Connect over this family only; default: whatever the system picks (both are tried). */
  family?: 4 | 6;
  /** Default 5000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface TcpResult {
  ok: boolean;
  host: string;
  port: number;
  /** The address actually connected to (or tried, when known). */
  address?: string;
  family?: 4 | 6;
  /** `connected`, `timeout`, or the system's error code (`ECONNREFUSED`, `ENOTFOUND`…). */
  code: string;
  detail: string;
  ms: number;
}

export function validPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** A sentence for each common failure: what it means for someone trying to reach home. */
function explain(code: string, host: string, port: number, timeoutMs: number, family?: 4 | 6): string {
  const fam = family ? ` over IPv${family}` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return `connection to ${host} port ${port}${fam} refused: nothing listens on that port, or the router has no port forward for it`;
    case 'timeout':
      return `no answer from ${host} port ${port}${fam} within ${timeoutMs} ms: a firewall drops the connection, the port is not forwarded, or (checked from inside your own network) the router does not support hairpin NAT`;
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      return `${host} does not resolve${family ? ` to an IPv${family} address` : ''}`;
    case 'EAI_AGAIN':
      return `${host} could not be looked up right now (DNS temporarily failing)`;
    case 'EHOSTUNREACH':
      return `${host}${fam} is unreachable (no route to host)`;
    case 'ENETUNREACH':
      return `network unreachable${fam}: this machine has no route for that address family`;
    case 'ECONNRESET':
      return `connection to ${host} port ${port}${fam} was reset`;
    case 'EADDRNOTAVAIL':
      return `cannot connect to ${host} port ${port}${fam}: address not available`;
    default:
      return `cannot connect to ${host} port ${port}${fam} (${code})`;
  }
}

export function probeTcp(p: TcpProbe): Promise<TcpResult> {
  const host = p.host?.trim().replace(/^\[(.*)\]$/, '$1');
  if (!host) return Promise.reject(badInput('TCP check: a host is required'));
  if (!validPort(p.port))
    return Promise.reject(badInput(`TCP check: "${String(p.port)}" is not a port number (1-65535)`));
  const timeoutMs = p.timeoutMs ?? 5000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (p.signal?.aborted) return reject(transient('TCP check cancelled', { code: 'aborted' }));
    const opts: net.TcpNetConnectOpts = { host, port: p.port };
    if (p.family) {
      opts.family = p.family;
      opts.autoSelectFamily = false;
    }
    const sock = net.connect(opts);
    let done = false;
    const finish = (ok: boolean, code: string, err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      p.signal?.removeEventListener('abort', onAbort);
      const address = sock.remoteAddress;
      const fam = sock.remoteFamily === 'IPv6' ? 6 : sock.remoteFamily === 'IPv4' ? 4 : p.family;
      sock.destroy();
      if (err) return reject(err);
      const ms = Math.round(performance.now() - started);
      const where = address && address !== host ? `${host} (${address})` : host;
      resolve({
        ok,
        host,
        port: p.port,
        ...(address ? { address } : {}),
        ...(fam ? { family: fam } : {}),
        code,
        detail: ok
          ? `port ${p.port} open on ${where}${fam ? ` over IPv${fam}` : ''}`
          : explain(code, host, p.port, timeoutMs, p.family),
        ms,
      });
    };
    const onAbort = () => finish(false, 'aborted', transient('TCP check cancelled', { code: 'aborted' }));
    p.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish(false, 'timeout'), timeoutMs);
    sock.once('connect', () => finish(true, 'connected'));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      // Happy Eyeballs reports an AggregateError: the first attempt's code says the most.
      const inner = (e as unknown as { errors?: NodeJS.ErrnoException[] }).errors?.[0];
      finish(false, e.code ?? inner?.code ?? 'error');
    });
  });
}
