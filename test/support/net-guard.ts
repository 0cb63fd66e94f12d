/**
 * The test suite's network guard: no test may send traffic beyond loopback (the machine's own
 * resolver sits on a private address, so even a DNS lookup of a public name would leave it).
 *
 * Loaded into every Node process of a test run through NODE_OPTIONS=--require (scripts/test.mjs):
 * the test files, the Node-RED processes they start, npm. It blocks, before any packet is sent,
 * TCP connections and UDP datagrams to non-loopback addresses, name lookups of non-local names,
 * and c-ares queries to non-loopback servers — the code under test sees an ordinary network
 * error — and records each attempt in DDNS_NET_GUARD_LOG, which the runner reports as a failure.
 * Processes inside a network namespace that a test created (router tests) are not restricted:
 * such a namespace has no route to the outside.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';

/** In a network namespace other than the test runner's (DDNS_NET_GUARD_HOST_NETNS), i.e. one a test made. */
function inOwnNetns(): boolean {
  const host = process.env.DDNS_NET_GUARD_HOST_NETNS;
  if (!host) return false;
  try {
    return fs.readlinkSync('/proc/self/ns/net') !== host;
  } catch {
    return false;
  }
}

const GUARD = Symbol.for('ddns.netGuard');
const g = globalThis as unknown as Record<symbol, boolean>;

export function isLocal(host: string | undefined): boolean {
  if (host === undefined || host === '') return true; // defaults to localhost
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.') || h === '0.0.0.0';
  if (net.isIPv6(h)) return h === '::1' || h === '::' || /^::ffff:127\./.test(h);
  return false;
}

function record(what: string): void {
  const line = `${new Date().toISOString()} pid ${process.pid} (${process.argv.slice(1, 3).join(' ')}): ${what}\n`;
  const file = process.env.DDNS_NET_GUARD_LOG;
  try {
    if (file) fs.appendFileSync(file, line);
  } catch {
    /* the log is best effort */
  }
  process.stderr.write(`[net-guard] blocked ${what}\n`);
}

function blockedError(what: string, code = 'ECONNREFUSED'): NodeJS.ErrnoException {
  const e = new Error(`test network guard: ${what} blocked (tests may only use loopback)`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

function install(): void {
  if (g[GUARD] || inOwnNetns()) return;
  g[GUARD] = true;

  // TCP (net, tls, http, undici all end here)
  const connect = net.Socket.prototype.connect as (...a: unknown[]) => net.Socket;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    let opts: Record<string, unknown> | undefined;
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    if (first && typeof first === 'object') opts = first as Record<string, unknown>;
    else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first)))
      opts = { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
    else if (typeof first === 'string') opts = { path: first };
    if (opts && !opts.path && !isLocal(opts.host as string | undefined)) {
      const what = `TCP connection to ${String(opts.host)}:${String(opts.port)}`;
      record(what);
      process.nextTick(() => this.destroy(blockedError(what)));
      return this;
    }
    return connect.apply(this, args);
  } as typeof net.Socket.prototype.connect;

  // UDP
  const send = dgram.Socket.prototype.send as (...a: unknown[]) => void;
  dgram.Socket.prototype.send = function guardedSend(this: dgram.Socket, ...args: unknown[]) {
    const address = args.slice(1).find((a) => typeof a === 'string') as string | undefined;
    let target = address;
    if (target === undefined) {
      try {
        target = this.remoteAddress().address;
      } catch {
        target = undefined;
      }
    }
    if (target !== undefined && !isLocal(target)) {
      const what = `UDP datagram to ${target}`;
      record(what);
      const cb = args.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
      const err = blockedError(what, 'ENETUNREACH');
      process.nextTick(() => (cb ? cb(err) : this.emit('error', err)));
      return;
    }
    return send.apply(this, args);
  } as typeof dgram.Socket.prototype.send;

  // Name lookups (getaddrinfo asks the system resolver)
  const lookup = dns.lookup as (...a: unknown[]) => void;
  (dns as { lookup: unknown }).lookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
    if (!isLocal(hostname) && !net.isIP(hostname)) {
      const what = `name lookup of ${hostname}`;
      record(what);
      const cb = rest.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
      process.nextTick(() => cb?.(blockedError(what, 'ENOTFOUND')));
      return {};
    }
    return lookup.call(dns, hostname, ...rest);
  };
  const plookup = dns.promises.lookup as (...a: unknown[]) => Promise<unknown>;
  (dns.promises as { lookup: unknown }).lookup = function guardedPLookup(hostname: string, ...rest: unknown[]) {
    if (!isLocal(hostname) && !net.isIP(hostname)) {
      const what = `name lookup of ${hostname}`;
      record(what);
      return Promise.reject(blockedError(what, 'ENOTFOUND'));
    }
    return plookup.call(dns.promises, hostname, ...rest);
  };

  // c-ares queries (dns.resolve*, Resolver#resolve*) go to the configured servers
  const serversLocal = (servers: string[]) =>
    servers.every((s) => isLocal(s.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')));
  const wrapResolve = (holder: Record<string, unknown>, getServers: (self: unknown) => string[], promise: boolean) => {
    for (const name of Object.getOwnPropertyNames(holder)) {
      if (!/^resolve|^reverse$/.test(name) || typeof holder[name] !== 'function') continue;
      const orig = holder[name] as (...a: unknown[]) => unknown;
      holder[name] = function guardedResolve(this: unknown, ...args: unknown[]) {
        const servers = getServers(this);
        if (!serversLocal(servers)) {
          const what = `DNS query (${name} ${String(args[0])}) to ${servers.join(', ')}`;
          record(what);
          const err = blockedError(what, 'ECONNREFUSED');
          if (promise) return Promise.reject(err);
          const cb = args.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
          process.nextTick(() => cb?.(err));
          return undefined;
        }
        return orig.apply(this, args);
      };
    }
  };
  wrapResolve(dns as unknown as Record<string, unknown>, () => dns.getServers(), false);
  wrapResolve(dns.promises as unknown as Record<string, unknown>, () => dns.getServers(), true);
  wrapResolve(
    dns.Resolver.prototype as unknown as Record<string, unknown>,
    (self) => (self as dns.Resolver).getServers(),
    false,
  );
  wrapResolve(
    dns.promises.Resolver.prototype as unknown as Record<string, unknown>,
    (self) => (self as dns.promises.Resolver).getServers(),
    true,
  );
}

install();
