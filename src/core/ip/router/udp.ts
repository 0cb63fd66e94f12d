/**
 * One request/answer exchange with the router over UDP, shared by NAT-PMP and PCP.
 *
 * Contract:
 * - The socket is bound to an ephemeral port and connected to host:port, so the kernel only
 *   hands us datagrams from exactly that address and port (and reports an ICMP "port
 *   unreachable" as ECONNREFUSED); `accept` checks the sender again and validates the datagram.
 * - The request is sent at once and retransmitted after `firstRetryMs`, doubling each time
 *   (RFC 6886 §3.1: 250 ms, 500 ms, 1 s …), until an acceptable answer arrives or `timeoutMs`
 *   has passed in total.
 * - Rejects with a transient DdnsError: `router_timeout` (no acceptable answer), `router_refused`
 *   (nothing listens on that port), `aborted`, or a network error code. The socket is always
 *   closed before the promise settles; no timer survives.
 */
import dgram from 'node:dgram';
import { say, transient, type Sentence } from '../../errors';

export interface LocalEnd {
  address: string;
  port: number;
}

/** What a caller of one router protocol (NAT-PMP, PCP) gives: the router and the time it may take. */
export interface RouterQueryOptions {
  gateway: string;
  /** Server port; the protocol's own (5351) unless a test says otherwise. */
  port?: number;
  /** Total time for the query, ms. Default 2000. */
  timeoutMs?: number;
  /** First retransmission, ms. Default 250. */
  firstRetryMs?: number;
  localAddress?: string;
  signal?: AbortSignal;
}

export interface UdpExchangeOptions<T> {
  host: string;
  port: number;
  /** Builds the request once the socket is bound (PCP needs our own address and port). */
  request: (local: LocalEnd) => Buffer;
  /** Validates an answer: a value ends the exchange, undefined ignores the datagram. */
  accept: (msg: Buffer, from: dgram.RemoteInfo) => T | undefined;
  /** Total time, ms. */
  timeoutMs: number;
  /** First retransmission, ms (doubles afterwards). Default 250. */
  firstRetryMs?: number;
  /** Bind to this local address. */
  localAddress?: string;
  signal?: AbortSignal;
  /** Used in messages, e.g. "NAT-PMP". */
  protocol: string;
}

export interface UdpExchangeResult<T> {
  value: T;
  /** Time from the first send to the accepted answer. */
  ms: number;
  local: LocalEnd;
  /** Datagrams sent (1 = no retransmission). */
  sends: number;
}

const NET_ERRORS: Record<string, () => Sentence> = {
  EHOSTUNREACH: () => say('ip.router_host_unreachable', 'the router cannot be reached (host unreachable)'),
  ENETUNREACH: () => say('ip.router_net_unreachable', 'the router cannot be reached (network unreachable)'),
  EADDRNOTAVAIL: () => say('ip.local_address_unavailable', 'the local address to send from is not available'),
  EPERM: () => say('ip.firewall_blocked', 'a firewall on this computer blocked the request'),
  EACCES: () => say('ip.firewall_blocked', 'a firewall on this computer blocked the request'),
};

const cancelledAt = (protocol: string, where: string) =>
  transient(say('ip.udp_cancelled', '__protocol__ request to __where__ was cancelled', { protocol, where }), {
    code: 'aborted',
  });

export function udpExchange<T>(o: UdpExchangeOptions<T>): Promise<UdpExchangeResult<T>> {
  return new Promise((resolve, reject) => {
    const where = `${o.host}:${o.port}`;
    if (o.signal?.aborted) return reject(cancelledAt(o.protocol, where));
    const socket = dgram.createSocket('udp4');
    const started = performance.now();
    let retry: NodeJS.Timeout | undefined;
    // eslint-disable-next-line prefer-const -- assigned below, after the closures that clear it
    let deadline: NodeJS.Timeout | undefined;
    let interval = Math.max(10, o.firstRetryMs ?? 250);
    let sends = 0;
    let local: LocalEnd = { address: '0.0.0.0', port: 0 };
    let request: Buffer | undefined;
    let over = false;

    const finish = (err: Error | null, value?: T) => {
      if (over) return;
      over = true;
      clearTimeout(retry);
      clearTimeout(deadline);
      o.signal?.removeEventListener('abort', onAbort);
      const ms = Math.round(performance.now() - started);
      const settle = () => (err ? reject(err) : resolve({ value: value as T, ms, local, sends }));
      try {
        socket.close(settle);
      } catch {
        settle();
      }
    };
    const onAbort = () => finish(cancelledAt(o.protocol, where));
    o.signal?.addEventListener('abort', onAbort, { once: true });

    const send = () => {
      if (over || !request) return;
      sends++;
      socket.send(request, (e) => {
        if (e) onError(e);
      });
      retry = setTimeout(send, interval);
      interval *= 2;
    };

    const onError = (e: Error) => {
      const code = (e as NodeJS.ErrnoException).code ?? 'network';
      if (code === 'ECONNREFUSED') {
        return finish(
          transient(
            say(
              'ip.router_refused',
              'the router at __host__ does not offer __protocol__ (nothing answers on UDP port __port__)',
              { host: o.host, protocol: o.protocol, port: o.port },
            ),
            { code: 'router_refused' },
          ),
        );
      }
      finish(
        transient(
          say('ip.udp_failed', '__protocol__ request to __where__ failed: __reason__', {
            protocol: o.protocol,
            where,
            reason: NET_ERRORS[code]?.() ?? e.message,
          }),
          {
            code,
            detail: e.message,
          },
        ),
      );
    };

    socket.on('error', onError);
    socket.on('message', (msg, from) => {
      if (over || from.address !== o.host || from.port !== o.port) return;
      let v: T | undefined;
      try {
        v = o.accept(msg, from);
      } catch (e) {
        return finish(e as Error);
      }
      if (v !== undefined) finish(null, v);
    });

    deadline = setTimeout(
      () =>
        finish(
          transient(
            sends === 1
              ? say(
                  'ip.router_timeout_one',
                  'the router at __host__ did not answer __protocol__ within __ms__ ms (1 try)',
                  {
                    host: o.host,
                    protocol: o.protocol,
                    ms: o.timeoutMs,
                  },
                )
              : say(
                  'ip.router_timeout',
                  'the router at __host__ did not answer __protocol__ within __ms__ ms (__tries__ tries)',
                  { host: o.host, protocol: o.protocol, ms: o.timeoutMs, tries: sends },
                ),
            {
              code: 'router_timeout',
            },
          ),
        ),
      o.timeoutMs,
    );
    socket.bind({ port: 0, address: o.localAddress, exclusive: true }, () => {
      if (over) return;
      socket.connect(o.port, o.host, (err?: Error) => {
        if (over) return;
        if (err) return onError(err);
        const a = socket.address();
        local = { address: a.address, port: a.port };
        try {
          request = o.request(local);
        } catch (e) {
          return finish(e as Error);
        }
        send();
      });
    });
  });
}
