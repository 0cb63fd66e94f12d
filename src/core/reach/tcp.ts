/**
 * TCP reachability: can a connection to host:port be opened? (`nc -zv host port`.)
 *
 * Contract: `probeTcp` resolves for every network outcome (ok true/false with a sentence for a
 * person saying what it probably means); it throws only for invalid input (a DdnsError of kind
 * `input`) or when the signal is aborted. Nothing is sent: the connection is closed as soon as it
 * is open. `family` forces IPv4 or IPv6 (a name is then resolved in that family only).
 */
import net from 'node:net';
import { badInput, english, say, transient, type Sentence } from '../errors';

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
  /** `detail` as a sentence, for the adapter to say in the user's language. */
  said: Sentence;
  ms: number;
}

export function validPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** A sentence for each common failure: what it means for someone trying to reach home. */
/** " over IPv4" / " over IPv6" after a place, or nothing. */
const overFamily = (family?: 4 | 6) => (family ? say('reach.over', ' over IPv__family__', { family }) : '');

const CANCELLED = () => transient(say('reach.tcp_cancelled', 'TCP check cancelled'), { code: 'aborted' });

function explain(code: string, host: string, port: number, timeoutMs: number, family?: 4 | 6): Sentence {
  const over = overFamily(family);
  switch (code) {
    case 'ECONNREFUSED':
      return say(
        'reach.tcp_refused',
        'connection to __host__ port __port____over__ refused: nothing listens on that port, or the router has no port forward for it',
        { host, port, over },
      );
    case 'timeout':
      return say(
        'reach.tcp_timeout',
        'no answer from __host__ port __port____over__ within __ms__ ms: a firewall drops the connection, the port is not forwarded, or (checked from inside your own network) the router does not support hairpin NAT',
        { host, port, over, ms: timeoutMs },
      );
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      return family
        ? say('reach.tcp_no_address', '__host__ does not resolve to an IPv__family__ address', { host, family })
        : say('reach.tcp_no_name', '__host__ does not resolve', { host });
    case 'EAI_AGAIN':
      return say('reach.tcp_lookup_failed', '__host__ could not be looked up right now (DNS temporarily failing)', {
        host,
      });
    case 'EHOSTUNREACH':
      return say('reach.tcp_host_unreachable', '__host____over__ is unreachable (no route to host)', { host, over });
    case 'ENETUNREACH':
      return say(
        'reach.tcp_net_unreachable',
        'network unreachable__over__: this machine has no route for that address family',
        { over },
      );
    case 'ECONNRESET':
      return say('reach.tcp_reset', 'connection to __host__ port __port____over__ was reset', { host, port, over });
    case 'EADDRNOTAVAIL':
      return say(
        'reach.tcp_address_unavailable',
        'cannot connect to __host__ port __port____over__: address not available',
        { host, port, over },
      );
    default:
      return say('reach.tcp_failed', 'cannot connect to __host__ port __port____over__ (__code__)', {
        host,
        port,
        over,
        code,
      });
  }
}

export function probeTcp(p: TcpProbe): Promise<TcpResult> {
  const host = p.host?.trim().replace(/^\[(.*)\]$/, '$1');
  if (!host) return Promise.reject(badInput(say('reach.tcp_no_host', 'TCP check: a host is required')));
  if (!validPort(p.port))
    return Promise.reject(
      badInput(
        say('reach.tcp_bad_port', 'TCP check: "__port__" is not a port number (1-65535)', { port: String(p.port) }),
      ),
    );
  const timeoutMs = p.timeoutMs ?? 5000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (p.signal?.aborted) return reject(CANCELLED());
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
      const said = ok
        ? say('reach.tcp_open', 'port __port__ open on __where____over__', {
            port: p.port,
            where,
            over: overFamily(fam),
          })
        : explain(code, host, p.port, timeoutMs, p.family);
      resolve({
        ok,
        host,
        port: p.port,
        ...(address ? { address } : {}),
        ...(fam ? { family: fam } : {}),
        code,
        detail: english(said),
        said,
        ms,
      });
    };
    const onAbort = () => finish(false, 'aborted', CANCELLED());
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
