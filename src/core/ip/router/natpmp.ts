/**
 * NAT-PMP (RFC 6886) external address query.
 *
 * Request: 2 bytes (version 0, opcode 0) to the gateway's UDP port 5351 from an ephemeral port.
 * Answer: version 0, opcode 128, a 16-bit result code, the router's epoch (seconds since its
 * port-mapping table was last reset; it starts again at 0 when the external address changes)
 * and the external IPv4 address. Retransmission: 250 ms doubling (see udp.ts). Only answers from
 * gateway:5351 are accepted.
 *
 * Result codes become outcomes:
 * - 0 success → the address (validated by the detector, like every source's answer);
 * - 1 unsupported version → DdnsError `natpmp_unsupported_version`: the gateway speaks PCP only;
 * - 2 not authorized/refused → `natpmp_refused` (switched off by the router's administrator);
 * - 3 network failure → `router_no_public`: the router has no public address itself (carrier-grade
 *   NAT, a second router in front of it, or its internet connection is down);
 * - 4 out of resources, 5 unsupported opcode, others → transient errors with the code.
 */
import { say, transient } from '../../errors';
import { RouterNoPublicError } from './no-public';
import { udpExchange, type RouterQueryOptions, type UdpExchangeResult } from './udp';

export const NATPMP_PORT = 5351;
export const NATPMP_ANNOUNCE_PORT = 5350;

export type NatPmpOptions = RouterQueryOptions;

export interface NatPmpAnswer {
  address: string;
  /** Seconds since the router's mapping table was (re)started. */
  epoch: number;
  ms: number;
}

export interface NatPmpPacket {
  version: number;
  opcode: number;
  result: number;
  epoch: number;
  /** Present in a 12-byte external address answer. */
  address?: string;
}

const RESULT_TEXT: Record<number, string> = {
  1: 'unsupported version',
  2: 'not authorized/refused',
  3: 'network failure',
  4: 'out of resources',
  5: 'unsupported opcode',
};

/** The 2-byte external address request. */
export const natpmpRequest = (): Buffer => Buffer.from([0, 0]);

/** Decode a NAT-PMP datagram (answer or announcement); null when it is not one. */
export function parseNatPmp(msg: Buffer): NatPmpPacket | null {
  if (msg.length < 8 || msg[0] !== 0) return null;
  const p: NatPmpPacket = { version: msg[0], opcode: msg[1], result: msg.readUInt16BE(2), epoch: msg.readUInt32BE(4) };
  if (p.opcode === 128 && p.result === 0) {
    if (msg.length < 12) return null;
    p.address = [msg[8], msg[9], msg[10], msg[11]].join('.');
  }
  return p;
}

/** Ask the gateway for its external IPv4 address over NAT-PMP. */
export async function natpmpExternalAddress(o: NatPmpOptions): Promise<NatPmpAnswer> {
  const r: UdpExchangeResult<NatPmpPacket> = await udpExchange<NatPmpPacket>({
    host: o.gateway,
    port: o.port ?? NATPMP_PORT,
    protocol: 'NAT-PMP',
    timeoutMs: o.timeoutMs ?? 2000,
    firstRetryMs: o.firstRetryMs,
    localAddress: o.localAddress,
    signal: o.signal,
    request: natpmpRequest,
    accept: (msg) => {
      // A PCP-only server answers a version 0 request with "unsupported version" in NAT-PMP
      // form (RFC 6887 §9); one that answers in PCP form (version 2) means the same.
      if (msg.length >= 4 && msg[0] === 2) return { version: 2, opcode: msg[1] & 0x7f, result: 1, epoch: 0 };
      const p = parseNatPmp(msg);
      return p && p.opcode === 128 ? p : undefined;
    },
  });
  const p = r.value;
  switch (p.result) {
    case 0:
      return { address: p.address!, epoch: p.epoch, ms: r.ms };
    case 1:
      throw transient(
        say(
          'ip.natpmp_unsupported',
          'the router at __gateway__ does not speak NAT-PMP (it answered "unsupported version"; it may speak PCP)',
          { gateway: o.gateway },
        ),
        {
          code: 'natpmp_unsupported_version',
        },
      );
    case 2:
      throw transient(
        say(
          'ip.natpmp_refused',
          "the router at __gateway__ refused NAT-PMP (it is switched off or not allowed for this computer in the router's settings)",
          { gateway: o.gateway },
        ),
        {
          code: 'natpmp_refused',
        },
      );
    case 3:
      throw new RouterNoPublicError(
        'natpmp',
        o.gateway,
        'NAT-PMP result 3 (network failure)',
        say(
          'ip.natpmp_no_public',
          'the router at __gateway__ says it has no public address (NAT-PMP "network failure"): your provider probably uses carrier-grade NAT (CGNAT), there is another router in front of it, or its internet connection is down',
          { gateway: o.gateway },
        ),
      );
    default:
      throw transient(
        say('ip.natpmp_result', 'the router at __gateway__ answered NAT-PMP with result __result__ (__name__)', {
          gateway: o.gateway,
          result: p.result,
          name: RESULT_TEXT[p.result] ?? 'unknown',
        }),
        {
          code: `natpmp_${p.result}`,
        },
      );
  }
}
