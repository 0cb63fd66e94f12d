/**
 * cert-renew's challenge, from its configuration: DNS-01 through the provider account (nothing
 * here), HTTP-01 on a port of its own or on Node-RED's HTTP server (acme-http.ts), or
 * DNS-PERSIST-01; and the NAT evidence an input msg brings for HTTP-01's check (public-ip-watch's
 * payload: the router's WAN address, its "no public address"; or msg.wanAddress), read as
 * reachability-check reads it (core/reach/input.ts).
 */
import { Http01Solver, ownPortListener } from '../core/acme/http01';
import { PersistSolver } from '../core/acme/persist';
import type { ChallengeSolver } from '../core/acme/solver';
import type { DnsServer } from '../core/dns/transport';
import type { NatEvidence } from '../core/reach/cgnat';
import { readInput, type ReachMsgFields } from '../core/reach/input';
import { nodeRedListener } from './acme-http';
import type { Msg, Red } from './red-types';

export const CHALLENGES = ['dns-01', 'http-01', 'http-01-node', 'dns-persist-01'] as const;
export type Challenge = (typeof CHALLENGES)[number];

/** The sentence for a wildcard with HTTP-01, or null. */
export function wildcardRefusal(challenge: Challenge, names: string[]): string | null {
  const w = names.find((n) => n.trim().startsWith('*.'));
  return w && challenge.startsWith('http-01')
    ? `${w.trim()} is a wildcard name, and certificate authorities issue wildcards only through DNS-01: choose the DNS-01 challenge (with a provider account) for it, or leave the wildcard out`
    : null;
}

/** What msgs told about the line, for HTTP-01's NAT diagnosis. */
export class NatFromMsgs {
  private evidence: NatEvidence = {};
  /** Read a msg (throws a DdnsError of kind `input` for a WAN address that is not IPv4). */
  update(msg: Msg): void {
    const p = (msg.payload && typeof msg.payload === 'object' ? msg.payload : {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const cgnat = p.cgnat && typeof p.cgnat === 'object' ? (p.cgnat as Record<string, unknown>) : undefined;
    const fields: ReachMsgFields = {
      wanAddress: str(msg.wanAddress),
      payload: {
        wanAddress: str(p.wanAddress),
        ipv6: str(p.ipv6),
        ...(cgnat ? { cgnat: { localAddress: str(cgnat.localAddress), localClass: str(cgnat.localClass) } } : {}),
      },
    };
    if (!fields.wanAddress && !fields.payload?.wanAddress && !fields.payload?.cgnat) return;
    const r = readInput({ names: [], expectedIpv4: '', expectedIpv6: '', wanAddress: '' }, fields);
    this.evidence = {
      wanAddress: r.wanAddress,
      routerNoPublicAddress: r.routerNoPublicAddress,
      publicIpv6: r.expected.ipv6 ?? null,
    };
  }
  get(): NatEvidence {
    return this.evidence;
  }
}

/** The solver of a challenge other than DNS-01, or the sentence why it cannot work here. */
export function challengeSolver(
  RED: Red,
  challenge: Exclude<Challenge, 'dns-01'>,
  o: { port: number; authServers?: DnsServer[]; discovery?: DnsServer[]; nat: NatFromMsgs },
): ChallengeSolver | { error: string } {
  if (challenge === 'dns-persist-01') return new PersistSolver({ authServers: o.authServers, discovery: o.discovery });
  const listener = challenge === 'http-01' ? ownPortListener(o.port) : nodeRedListener(RED);
  if ('error' in listener) return listener;
  return new Http01Solver({
    listener,
    authServers: o.authServers,
    discovery: o.discovery,
    nat: () => o.nat.get(),
  });
}
