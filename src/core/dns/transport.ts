/**
 * DNS on the wire (dns-packet): one exchange with one server, UDP with TCP fallback.
 *
 * - UDP first (unless `tcp` is set), retransmitted after `retransmitMs` until `timeoutMs`;
 *   answers accepted only from the server asked and only with our message id.
 * - A truncated UDP answer (TC bit) is asked again over TCP (RFC 7766); so is a message larger
 *   than 512 bytes.
 * Errors are transient DdnsErrors ("no answer from 127.0.0.1:53 within 3000 ms").
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { say, transient } from '../errors';

export interface DnsServer {
  host: string; // an IP address
  port?: number; // default 53
}

export interface ExchangeOptions {
  timeoutMs?: number; // default 3000
  retransmitMs?: number; // default 1000
  tcp?: boolean;
  signal?: AbortSignal;
  /** Send from this local address (multi-WAN); must be of the server's family. */
  localAddress?: string;
}

/** Parse "1.2.3.4", "1.2.3.4:5353", "[::1]:5353", "::1" into a DnsServer. */
export function parseServer(text: string, defaultPort = 53): DnsServer {
  const s = text.trim();
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (m6) return { host: m6[1], port: m6[2] ? Number(m6[2]) : defaultPort };
  if (net.isIPv6(s)) return { host: s, port: defaultPort };
  const m4 = /^([^:]+):(\d+)$/.exec(s);
  if (m4) return { host: m4[1], port: Number(m4[2]) };
  return { host: s, port: defaultPort };
}

export const serverLabel = (s: DnsServer) =>
  s.host.includes(':') ? `[${s.host}]:${s.port ?? 53}` : `${s.host}:${s.port ?? 53}`;

/** A fresh random 16-bit message id. */
export const newId = () => randomInt(0, 0x10000);

function aborted() {
  return transient(say('dns.query_cancelled', 'DNS query cancelled'), { code: 'aborted' });
}

/** Send a raw message over UDP; resolve with the raw answer. */
export function exchangeUdp(server: DnsServer, msg: Buffer, opts: ExchangeOptions = {}): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const retransmitMs = opts.retransmitMs ?? 1000;
  const port = server.port ?? 53;
  const id = msg.readUInt16BE(0);
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(aborted());
    const sock = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | null, buf?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(total);
      clearInterval(again);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.close();
      if (err) reject(err);
      else resolve(buf!);
    };
    const onAbort = () => finish(aborted());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (e) =>
      finish(
        transient(
          say('dns.server_error', 'DNS server __server__: __reason__', {
            server: serverLabel(server),
            reason: e.message,
          }),
          {
            code: (e as NodeJS.ErrnoException).code ?? 'dns_error',
            cause: e,
          },
        ),
      ),
    );
    sock.on('message', (buf, rinfo) => {
      if (buf.length < 12 || buf.readUInt16BE(0) !== id) return;
      if (rinfo.port !== port || rinfo.address.replace(/^::ffff:/, '') !== server.host.replace(/^::ffff:/, '')) return;
      finish(null, buf);
    });
    if (opts.localAddress) sock.bind({ address: opts.localAddress, port: 0 });
    const send = () =>
      sock.send(
        msg,
        port,
        server.host,
        (e) =>
          e &&
          finish(
            transient(
              say('dns.server_error', 'DNS server __server__: __reason__', {
                server: serverLabel(server),
                reason: e.message,
              }),
              { code: (e as NodeJS.ErrnoException).code ?? 'dns_error' },
            ),
          ),
      );
    const total = setTimeout(
      () =>
        finish(
          transient(
            say('dns.timeout', 'no answer from DNS server __server__ within __ms__ ms', {
              server: serverLabel(server),
              ms: timeoutMs,
            }),
            { code: 'timeout' },
          ),
        ),
      timeoutMs,
    );
    const again = setInterval(send, retransmitMs);
    send();
  });
}

/** Send a raw message over TCP (2-byte length prefix); resolve with the raw answer. */
export function exchangeTcp(server: DnsServer, msg: Buffer, opts: ExchangeOptions = {}): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(aborted());
    const sock = net.connect({
      host: server.host,
      port: server.port ?? 53,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    let done = false;
    let buf = Buffer.alloc(0);
    const finish = (err: Error | null, out?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(out!);
    };
    const onAbort = () => finish(aborted());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () =>
        finish(
          transient(
            say('dns.tcp_timeout', 'no answer from DNS server __server__ (TCP) within __ms__ ms', {
              server: serverLabel(server),
              ms: timeoutMs,
            }),
            { code: 'timeout' },
          ),
        ),
      timeoutMs,
    );
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > 70_000)
        return finish(
          transient(
            say('dns.oversize', 'DNS server __server__ sent an oversized TCP answer', { server: serverLabel(server) }),
            { code: 'dns_oversize' },
          ),
        );
      if (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length >= 2 + n) finish(null, buf.subarray(2, 2 + n));
      }
    });
    sock.on('error', (e) =>
      finish(
        transient(
          say('dns.tcp_error', 'DNS server __server__ (TCP): __reason__', {
            server: serverLabel(server),
            reason: e.message,
          }),
          {
            code: (e as NodeJS.ErrnoException).code ?? 'dns_error',
            cause: e,
          },
        ),
      ),
    );
    sock.on('close', () =>
      finish(
        transient(
          say('dns.tcp_closed', 'DNS server __server__ closed the TCP connection without an answer', {
            server: serverLabel(server),
          }),
          { code: 'dns_closed' },
        ),
      ),
    );
  });
}

/** One exchange: UDP, then TCP when the answer is truncated or the message is too large for UDP. */
export async function exchange(server: DnsServer, msg: Buffer, opts: ExchangeOptions = {}): Promise<Buffer> {
  if (opts.tcp || msg.length > 512) return exchangeTcp(server, msg, opts);
  const ans = await exchangeUdp(server, msg, opts);
  const flags = ans.readUInt16BE(2);
  if (flags & dnsPacket.TRUNCATED_RESPONSE) return exchangeTcp(server, msg, opts);
  return ans;
}

export const RCODES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
};

export interface QueryOptions extends ExchangeOptions {
  /** Ask for recursion (RD bit). Default false: we mostly ask authoritative servers. */
  recursion?: boolean;
  klass?: 'IN' | 'CH';
}

/** A decoded answer with its rcode as text. */
export interface QueryResult {
  rcode: string;
  authoritative: boolean;
  answers: dnsPacket.Answer[];
  authorities: dnsPacket.Answer[];
  additionals: dnsPacket.Answer[];
}

/** Ask `server` one question; resolve with the decoded answer (any rcode). */
export async function query(
  server: DnsServer,
  name: string,
  type: dnsPacket.RecordType,
  opts: QueryOptions = {},
): Promise<QueryResult> {
  const id = newId();
  const msg = dnsPacket.encode({
    type: 'query',
    id,
    flags: opts.recursion ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type, name, class: opts.klass ?? 'IN' }],
  });
  const raw = await exchange(server, msg, opts);
  let dec: dnsPacket.DecodedPacket;
  try {
    dec = dnsPacket.decode(raw);
  } catch (e) {
    throw transient(
      say('dns.undecodable', 'DNS server __server__ sent an answer that cannot be decoded', {
        server: serverLabel(server),
      }),
      {
        code: 'dns_malformed',
        cause: e,
      },
    );
  }
  const rcodeNum = raw.readUInt16BE(2) & 0x0f;
  return {
    rcode: RCODES[rcodeNum] ?? `RCODE${rcodeNum}`,
    authoritative: ((dec.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER) !== 0,
    answers: dec.answers ?? [],
    authorities: dec.authorities ?? [],
    additionals: dec.additionals ?? [],
  };
}
