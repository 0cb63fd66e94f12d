/**
 * The DNS side of the bench, on 127.0.0.1:
 * - DnsProxy: a UDP+TCP relay in front of named that counts every DNS message a client sends
 *   (queries and UPDATEs, read from the wire) and notes when named answered it;
 * - visibleAt / countHolding: ask named directly (never through a relay, so never counted) until
 *   a name answers an address;
 * - preset: give names an address directly (the state before a measured change).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { query, type DnsServer } from '../src/core/dns/transport';
import { sendUpdate } from '../src/core/dns/update';
import type { TsigKey } from '../src/core/dns/tsig';
import type { ProviderEntry, ProviderLog } from './servers';
import { now, onCleanup, sleep } from './util';

// ------------------------------------------------------------------------------ DNS messages

interface ParsedMessage {
  id: number;
  opcode: number;
  rcode: number;
  qname: string;
  /** UPDATE: names of the update section and the A addresses added. */
  updated: string[];
  added: string[];
}

/** A name at `off` (with compression pointers); returns the name and the offset after it. */
function readName(buf: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  for (let guard = 0; guard < 128; guard++) {
    const len = buf[off];
    if (len === undefined) throw new Error('truncated name');
    if (len === 0) {
      off++;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = off + 2;
      off = buf.readUInt16BE(off) & 0x3fff;
      continue;
    }
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return [labels.join('.').toLowerCase(), end >= 0 ? end : off];
}

/** The few fields the bench needs; any malformation gives what was read so far. */
export function parseMessage(buf: Buffer): ParsedMessage {
  const m: ParsedMessage = {
    id: buf.readUInt16BE(0),
    opcode: (buf[2] >> 3) & 0x0f,
    rcode: buf[3] & 0x0f,
    qname: '',
    updated: [],
    added: [],
  };
  try {
    const qd = buf.readUInt16BE(4);
    const an = buf.readUInt16BE(6);
    const ns = buf.readUInt16BE(8);
    let off = 12;
    for (let i = 0; i < qd; i++) {
      const [name, next] = readName(buf, off);
      if (i === 0) m.qname = name;
      off = next + 4;
    }
    for (let i = 0; i < an + ns; i++) {
      const [name, next] = readName(buf, off);
      const type = buf.readUInt16BE(next);
      const klass = buf.readUInt16BE(next + 2);
      const rdlen = buf.readUInt16BE(next + 8);
      const rdata = next + 10;
      if (i >= an && m.opcode === 5) {
        if (!m.updated.includes(name)) m.updated.push(name);
        if (type === 1 && klass === 1 && rdlen === 4)
          m.added.push(`${buf[rdata]}.${buf[rdata + 1]}.${buf[rdata + 2]}.${buf[rdata + 3]}`);
      }
      off = rdata + rdlen;
    }
  } catch {
    /* keep what was read */
  }
  return m;
}

// ---------------------------------------------------------------------------------- DNS relay

interface UdpPeer {
  sock: dgram.Socket;
  pending: Map<number, ProviderEntry>;
  idle?: NodeJS.Timeout;
}

export class DnsProxy implements ProviderLog {
  readonly entries: ProviderEntry[] = [];
  private udp!: dgram.Socket;
  private tcp!: net.Server;
  private readonly peers = new Map<string, UdpPeer>();
  private readonly conns = new Set<net.Socket>();
  port = 0;

  constructor(private readonly upstream: DnsServer) {}

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  private record(msg: Buffer): ProviderEntry {
    const p = parseMessage(msg);
    const e: ProviderEntry =
      p.opcode === 5
        ? { t: now(), kind: 'update', names: p.updated, address: p.added[p.added.length - 1] }
        : { t: now(), kind: p.opcode === 0 ? 'query' : 'other', names: p.qname ? [p.qname] : [] };
    this.entries.push(e);
    return e;
  }

  private answered(e: ProviderEntry | undefined, msg: Buffer): void {
    if (!e || e.tDone !== undefined) return;
    e.tDone = now();
    const rcode = msg[3] & 0x0f;
    e.ok = rcode === 0 || (e.kind === 'query' && rcode === 3);
    e.answer = String(rcode);
  }

  async start(): Promise<this> {
    this.udp = dgram.createSocket('udp4');
    this.udp.on('message', (msg, rinfo) => {
      if (msg.length < 12) return;
      const key = `${rinfo.address}:${rinfo.port}`;
      let peer = this.peers.get(key);
      if (!peer) {
        const sock = dgram.createSocket('udp4');
        const created: UdpPeer = { sock, pending: new Map() };
        sock.on('message', (answer) => {
          if (answer.length < 12) return;
          const id = answer.readUInt16BE(0);
          this.answered(created.pending.get(id), answer);
          created.pending.delete(id);
          this.udp.send(answer, rinfo.port, rinfo.address);
          this.idle(key, created);
        });
        sock.on('error', () => undefined);
        this.peers.set(key, created);
        peer = created;
      }
      const id = msg.readUInt16BE(0);
      if (!peer.pending.has(id)) peer.pending.set(id, this.record(msg)); // a retransmission is one request
      if (peer.idle) clearTimeout(peer.idle);
      peer.sock.send(msg, this.upstream.port ?? 53, this.upstream.host);
      this.idle(key, peer);
    });
    await new Promise<void>((resolve, reject) => {
      this.udp.once('error', reject);
      this.udp.bind(0, '127.0.0.1', () => resolve());
    });
    this.port = this.udp.address().port;
    this.tcp = net.createServer((client) => this.relayTcp(client));
    await new Promise<void>((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(this.port, '127.0.0.1', () => resolve());
    });
    onCleanup('DNS relay', () => this.close());
    return this;
  }

  /** A client socket with nothing pending is forgotten after a short while (bounded sockets). */
  private idle(key: string, peer: UdpPeer): void {
    if (peer.idle) clearTimeout(peer.idle);
    peer.idle = setTimeout(
      () => {
        peer.sock.close();
        this.peers.delete(key);
      },
      peer.pending.size ? 10_000 : 2_000,
    );
  }

  private relayTcp(client: net.Socket): void {
    this.conns.add(client);
    const up = net.connect(this.upstream.port ?? 53, this.upstream.host);
    this.conns.add(up);
    const pending = new Map<number, ProviderEntry>();
    const frames = (onFrame: (m: Buffer) => void) => {
      let buf = Buffer.alloc(0);
      return (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          if (len >= 12) onFrame(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
        }
      };
    };
    client.on(
      'data',
      frames((m) => pending.set(m.readUInt16BE(0), this.record(m))),
    );
    up.on(
      'data',
      frames((m) => {
        this.answered(pending.get(m.readUInt16BE(0)), m);
        pending.delete(m.readUInt16BE(0));
      }),
    );
    client.pipe(up);
    up.pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
      this.conns.delete(client);
      this.conns.delete(up);
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  }

  close(): Promise<void> {
    for (const p of this.peers.values()) {
      if (p.idle) clearTimeout(p.idle);
      p.sock.close();
    }
    this.peers.clear();
    for (const c of this.conns) c.destroy();
    this.udp.close();
    return new Promise((r) => this.tcp.close(() => r()));
  }
}

// ------------------------------------------------------------------------------ record watch

/** The A addresses named holds for `name` right now ([] when none or no answer). */
export async function addressesOf(named: DnsServer, name: string): Promise<string[]> {
  try {
    const r = await query(named, name, 'A', { timeoutMs: 2000, retransmitMs: 500 });
    return r.answers.filter((a) => a.type === 'A').map((a) => String((a as { data: unknown }).data));
  } catch {
    return [];
  }
}

/**
 * Poll named every `everyMs` until `name` answers exactly `address`: the time it first did, or
 * null after `timeoutMs`.
 */
export async function visibleAt(
  named: DnsServer,
  name: string,
  address: string,
  timeoutMs: number,
  everyMs = 50,
  stop?: () => boolean,
): Promise<number | null> {
  const end = now() + timeoutMs;
  while (now() < end && !stop?.()) {
    const t = now();
    const a = await addressesOf(named, name);
    if (a.length === 1 && a[0] === address) return t;
    await sleep(everyMs);
  }
  return null;
}

/** How many of `names` hold exactly `address` (asked in parallel, 50 at a time). */
export async function countHolding(named: DnsServer, names: string[], address: string): Promise<number> {
  let ok = 0;
  for (let i = 0; i < names.length; i += 50) {
    const part = await Promise.all(names.slice(i, i + 50).map((n) => addressesOf(named, n)));
    ok += part.filter((a) => a.length === 1 && a[0] === address).length;
  }
  return ok;
}

/** Give `names` the A record `address` directly (the state before a measured change). */
export async function preset(
  named: DnsServer,
  key: TsigKey,
  zone: string,
  names: string[],
  address: string,
): Promise<void> {
  for (let i = 0; i < names.length; i += 200) {
    const part = names.slice(i, i + 200);
    await sendUpdate(
      named,
      {
        zone,
        deletes: part.map((name) => ({ name, type: 'A' as const })),
        adds: part.map((name) => ({ name, type: 'A' as const, data: address, ttl: 60 })),
      },
      key,
      { timeoutMs: 10_000 },
    );
  }
}
