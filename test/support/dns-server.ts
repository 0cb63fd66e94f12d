/**
 * A tiny UDP DNS server on loopback for tests (dns-packet): every question goes to a handler that
 * returns the answer records (and optionally an rcode), or `null` to stay silent. Records every
 * query with the address it came from.
 */
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';

const RCODES: Record<string, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

export interface DnsQuery {
  name: string;
  type: string;
  /** The address the query came from (tells which family it travelled over). */
  from: string;
  recursionDesired: boolean;
}

export type DnsReply =
  | { answers?: dnsPacket.Answer[]; rcode?: 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED' }
  | dnsPacket.Answer[]
  | null;

export type DnsHandler = (q: DnsQuery) => DnsReply | Promise<DnsReply>;

export interface TestDnsServer {
  host: string;
  port: number;
  /** "127.0.0.1:5353" or "[::1]:5353", as the sources' settings take it. */
  address: string;
  queries: DnsQuery[];
  setHandler(h: DnsHandler): void;
  close(): Promise<void>;
}

export async function startDnsServer(handler: DnsHandler, host = '127.0.0.1'): Promise<TestDnsServer> {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const queries: DnsQuery[] = [];
  let current = handler;
  sock.on('message', (buf, rinfo) => {
    let msg: dnsPacket.DecodedPacket;
    try {
      msg = dnsPacket.decode(buf);
    } catch {
      return;
    }
    const question = msg.questions?.[0];
    if (!question) return;
    const q: DnsQuery = {
      name: question.name,
      type: question.type,
      from: rinfo.address,
      recursionDesired: ((msg.flags ?? 0) & dnsPacket.RECURSION_DESIRED) !== 0,
    };
    queries.push(q);
    void Promise.resolve(current(q)).then((reply) => {
      if (reply === null) return;
      const { answers, rcode } = Array.isArray(reply) ? { answers: reply, rcode: undefined } : reply;
      const out = dnsPacket.encode({
        type: 'response',
        id: msg.id,
        // dns-packet encodes the rcode only through the low 4 bits of the flags
        flags:
          dnsPacket.AUTHORITATIVE_ANSWER |
          ((msg.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
          RCODES[rcode ?? 'NOERROR'],
        questions: msg.questions,
        answers: answers ?? [],
      });
      sock.send(out, rinfo.port, rinfo.address);
    });
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, host, () => resolve());
  });
  const port = sock.address().port;
  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    setHandler: (h) => {
      current = h;
    },
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
