/**
 * PCP (RFC 6887, version 2): learn the external address with a short-lived MAP, then delete it.
 *
 * PCP has no "what is my address" request (its ANNOUNCE carries none), so the address comes from
 * the answer to a MAP request: we ask for a mapping of our own UDP socket's port (a 12-byte random
 * nonce, a short lifetime), read the assigned external address, and at once send the same MAP
 * with lifetime 0 to delete it (RFC 6887 §15). Because a mapping exists for a moment, PCP is only
 * used when the user enables it.
 *
 * Timers: a single question on the LAN, so the NAT-PMP schedule (250 ms doubling, see udp.ts)
 * instead of RFC 6887 §8.1.1's 3 s initial timer; a retransmitted MAP carries the same nonce and
 * is therefore idempotent.
 *
 * Outcomes: SUCCESS → the assigned external address as given (the router source judges whether
 * it is public); NETWORK_FAILURE (7) → RouterNoPublicError; UNSUPP_VERSION (1, in NAT-PMP or PCP form) → `pcp_unsupported_version`;
 * other result codes → a transient DdnsError `pcp_<code>` with the code's name.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { say, transient } from '../../errors';
import { classify } from '../../address';
import { RouterNoPublicError } from './no-public';
import { udpExchange, type RouterQueryOptions } from './udp';

export const PCP_PORT = 5351;
const VERSION = 2;
const OP_MAP = 1;
export const OP_ANNOUNCE = 0;
const PROTO_UDP = 17;
/** Requested lifetime of the probe mapping, s: short, in case the delete is lost. */
const PROBE_LIFETIME_S = 30;

export const PCP_RESULTS: Record<number, string> = {
  0: 'SUCCESS',
  1: 'UNSUPP_VERSION',
  2: 'NOT_AUTHORIZED',
  3: 'MALFORMED_REQUEST',
  4: 'UNSUPP_OPCODE',
  5: 'UNSUPP_OPTION',
  6: 'MALFORMED_OPTION',
  7: 'NETWORK_FAILURE',
  8: 'NO_RESOURCES',
  9: 'UNSUPP_PROTOCOL',
  10: 'USER_EX_QUOTA',
  11: 'CANNOT_PROVIDE_EXTERNAL',
  12: 'ADDRESS_MISMATCH',
  13: 'EXCESSIVE_REMOTE_PEERS',
};

/** `timeoutMs`: total time of the MAP exchange (the delete gets the same again at most). */
export type PcpOptions = RouterQueryOptions;

export interface PcpAnswer {
  address: string;
  epoch: number;
  ms: number;
  /** False when the router did not confirm the deletion (the mapping then expires by itself). */
  deleted: boolean;
}

export interface PcpMapResponse {
  result: number;
  lifetime: number;
  epoch: number;
  nonce: Buffer;
  protocol: number;
  internalPort: number;
  externalPort: number;
  /** The assigned external address (IPv4 when it is IPv4-mapped). */
  externalAddress: string;
}

/** ::ffff:a.b.c.d as 16 bytes. */
function mapped(v4: string): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(0xffff, 10);
  v4.split('.').forEach((o, i) => (b[12 + i] = Number(o)));
  return b;
}

function unmapped(b: Buffer): string {
  const isMapped = b.subarray(0, 10).every((x) => x === 0) && b.readUInt16BE(10) === 0xffff;
  if (isMapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return classify(groups.join(':')).address;
}

/** A 60-byte MAP request (24-byte header + 36-byte MAP body). */
export function pcpMapRequest(p: {
  clientAddress: string;
  nonce: Buffer;
  lifetime: number;
  protocol: number;
  internalPort: number;
  externalPort?: number;
  externalAddress?: string;
}): Buffer {
  if (net.isIP(p.clientAddress) !== 4)
    throw transient(
      say('ip.pcp_no_client_address', 'PCP needs this computer\'s IPv4 address, got "__address__"', {
        address: p.clientAddress,
      }),
      { code: 'pcp_no_client_address' },
    );
  const b = Buffer.alloc(60);
  b[0] = VERSION;
  b[1] = OP_MAP; // R bit 0: a request
  b.writeUInt32BE(p.lifetime, 4);
  mapped(p.clientAddress).copy(b, 8);
  p.nonce.copy(b, 24, 0, 12);
  b[36] = p.protocol;
  b.writeUInt16BE(p.internalPort, 40);
  b.writeUInt16BE(p.externalPort ?? 0, 42);
  mapped(p.externalAddress ?? '0.0.0.0').copy(b, 44); // all zeros: no preference (RFC 6887 §11.1)
  return b;
}

/** Decode a MAP response; null when the datagram is not a PCP MAP response. */
export function parsePcpMapResponse(msg: Buffer): PcpMapResponse | null {
  if (msg.length < 24 || msg[0] !== VERSION || (msg[1] & 0x80) === 0 || (msg[1] & 0x7f) !== OP_MAP) return null;
  const result = msg[3];
  const base = { result, lifetime: msg.readUInt32BE(4), epoch: msg.readUInt32BE(8) };
  if (msg.length < 60) {
    // Error answers may be cut short; only a success must carry the MAP body.
    if (result === 0) return null;
    return { ...base, nonce: Buffer.alloc(0), protocol: 0, internalPort: 0, externalPort: 0, externalAddress: '' };
  }
  return {
    ...base,
    nonce: Buffer.from(msg.subarray(24, 36)),
    protocol: msg[36],
    internalPort: msg.readUInt16BE(40),
    externalPort: msg.readUInt16BE(42),
    externalAddress: unmapped(msg.subarray(44, 60)),
  };
}

type Exchange = PcpMapResponse | { unsupportedVersion: true };

async function mapExchange(
  o: PcpOptions,
  build: (local: { address: string; port: number }) => Buffer,
  nonce: Buffer,
  timeoutMs: number,
) {
  return udpExchange<Exchange>({
    host: o.gateway,
    port: o.port ?? PCP_PORT,
    protocol: 'PCP',
    timeoutMs,
    firstRetryMs: o.firstRetryMs,
    localAddress: o.localAddress,
    signal: o.signal,
    request: build,
    accept: (msg) => {
      // A NAT-PMP-only router answers "unsupported version" in its own format (version 0).
      if (msg.length >= 4 && msg[0] === 0 && msg.readUInt16BE(2) === 1) return { unsupportedVersion: true };
      if (msg.length >= 4 && msg[0] === VERSION && msg[3] === 1) return { unsupportedVersion: true };
      const r = parsePcpMapResponse(msg);
      if (!r) return undefined;
      // A short error answer has no nonce to compare; a full one must carry ours.
      if (r.nonce.length && !r.nonce.equals(nonce)) return undefined;
      return r;
    },
  });
}

/** Ask the gateway for the external address with a PCP MAP, and delete the mapping at once. */
export async function pcpExternalAddress(o: PcpOptions): Promise<PcpAnswer> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const nonce = randomBytes(12);
  let internalPort = 0;
  let clientAddress = '';
  const first = await mapExchange(
    o,
    (local) => {
      internalPort = local.port;
      clientAddress = local.address;
      return pcpMapRequest({ clientAddress, nonce, lifetime: PROBE_LIFETIME_S, protocol: PROTO_UDP, internalPort });
    },
    nonce,
    timeoutMs,
  );
  const r = first.value;
  if ('unsupportedVersion' in r) {
    throw transient(
      say('ip.pcp_unsupported', 'the router at __gateway__ does not speak PCP (it answered "unsupported version")', {
        gateway: o.gateway,
      }),
      { code: 'pcp_unsupported_version' },
    );
  }
  if (r.result !== 0) {
    const name = PCP_RESULTS[r.result] ?? 'unknown';
    if (r.result === 7) {
      throw new RouterNoPublicError(
        'pcp',
        o.gateway,
        'PCP result 7 (NETWORK_FAILURE)',
        say(
          'ip.pcp_no_public',
          'the router at __gateway__ says it has no public address (PCP NETWORK_FAILURE): your provider probably uses carrier-grade NAT (CGNAT), there is another router in front of it, or its internet connection is down',
          { gateway: o.gateway },
        ),
      );
    }
    throw transient(
      say('ip.pcp_result', 'the router at __gateway__ answered PCP with result __result__ (__name__)', {
        gateway: o.gateway,
        result: r.result,
        name,
      }),
      { code: `pcp_${r.result}`, detail: name },
    );
  }
  // Delete the probe mapping at once: same nonce, protocol and internal port, lifetime 0.
  let deleted = false;
  try {
    const del = await mapExchange(
      { ...o, signal: undefined },
      () =>
        pcpMapRequest({
          clientAddress,
          nonce,
          lifetime: 0,
          protocol: PROTO_UDP,
          internalPort,
          externalPort: r.externalPort,
          externalAddress: net.isIP(r.externalAddress) === 4 ? r.externalAddress : undefined,
        }),
      nonce,
      Math.min(timeoutMs, 1000),
    );
    deleted = !('unsupportedVersion' in del.value) && del.value.result === 0;
  } catch {
    /* the mapping expires after PROBE_LIFETIME_S by itself */
  }
  return { address: r.externalAddress, epoch: r.epoch, ms: first.ms, deleted };
}
