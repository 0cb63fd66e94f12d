/**
 * What a router pushed (public-ip-watch's router-push source), free of Node-RED and of HTTP: the
 * claimed address per family, and whether another source's answer confirms it.
 *
 * A claim is only a hint. It moves nothing by itself: a check of the family follows, and the claim
 * counts only when that check's answer agrees with it (see detectRound in ./detector.ts).
 * - IPv4: the answer is the claimed address.
 * - IPv6 with a LAN prefix (Fritz!Box `<ip6lanprefix>`): the answer (this computer's address, as
 *   the network interface or an outside service sees it) lies inside that prefix. The router's own
 *   IPv6 address (`<ip6addr>`) is an address of its WAN link, not of the LAN, so the prefix is what
 *   can be compared.
 * - IPv6 without a prefix: the answer is in the same /64 network as the claimed address.
 */
import ipaddr from 'ipaddr.js';
import type { Family } from '../address';
import { english, say, type Sentence } from '../errors';

export interface PushClaim {
  /** The address the router sent (already checked: an address of the family, public unless lab use). */
  address?: string;
  /** IPv6: the LAN prefix the router hands out, e.g. `{ address: '2001:db8:1:2::', length: 64 }`. */
  prefix?: { address: string; length: number };
}

/** The claims of one push, per family. */
export type PushClaims = Partial<Record<Family, PushClaim>>;

/** The claim in words: `8.8.4.4`, or `the prefix 2001:db8:1:2::/64` (IPv6 with a prefix). */
export const describeClaim = (claim: PushClaim): string => english(claimSaid(claim));

/** The same, as the adapter says it in the user's language. */
export function claimSaid(claim: PushClaim): string | Sentence {
  if (claim.prefix)
    return say('ip.claim_prefix', 'the prefix __prefix__', {
      prefix: `${claim.prefix.address}/${claim.prefix.length}`,
    });
  return claim.address ?? say('ip.claim_nothing', 'nothing');
}

/** Does `address` (another source's answer for `family`) confirm the claim? */
export function claimMatches(family: Family, claim: PushClaim, address: string | null | undefined): boolean {
  if (!address) return false;
  try {
    // both canonical (parsed by core/address.ts)
    if (family === 'ipv4') return claim.address === address;
    const a = ipaddr.IPv6.parse(address);
    if (claim.prefix) return a.match(ipaddr.IPv6.parse(claim.prefix.address), claim.prefix.length);
    return claim.address !== undefined && a.match(ipaddr.IPv6.parse(claim.address), 64);
  } catch {
    return false;
  }
}
