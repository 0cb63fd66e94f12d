/**
 * msg.payload of public-ip-watch's first output, in one schema: the contract between its writer
 * (the watcher, src/core/ip/watcher.ts, whose `AddressChange` extends this type) and its readers
 * (dns-update, reachability-check), which pick the fields they use.
 *
 *     { ipv4, ipv6, ipv6Prefix, prefixChanged, ipv6Stability, previous: { ipv4, ipv6 }, changed: [...], initial?, sources, cgnat?,
 *       disagreement?, wanAddress?, checkedAt }
 *
 * An address is text, or null for a family that is not tracked or was not found; a reader also
 * takes the short form `{ ipv4?, ipv6? }`. The text is parsed by each reader with the rule it
 * needs (dns-update: an address a name may be given; reachability-check: any IP address).
 * `ipv6Prefix` is the /64 network of the IPv6 address in CIDR text (`2001:db8:1:2::/64`): what a LAN
 * host's address is built on (dns-update's `name@::1234`, `name@mac(…)`); a reader also takes it
 * alone (`{ ipv6Prefix }`, e.g. a router's LAN prefix). `prefixChanged` is true when that network
 * differs from the previous one (the provider renumbered), false when only the host part changed or
 * there was no previous address. `ipv6Stability` says whether `ipv6` may be this host's own AAAA:
 * `stable` (a network interface gave it, or this host holds it without the temporary flag),
 * `temporary` (outside services saw this host's temporary, privacy address) or `unverified` (seen
 * only by outside services, not on this host's interfaces: possibly a temporary address).
 * Loose: fields not named here pass through.
 */
import { z } from 'zod';

/** One address field: text, null (family not tracked or not found), or absent (short form). */
export const payloadAddress = z.union([z.null(), z.string()]).optional();

const family = z.enum(['ipv4', 'ipv6']);

export const ipWatchPayloadSchema = z.looseObject({
  ipv4: payloadAddress,
  ipv6: payloadAddress,
  /** The IPv6 prefix in CIDR text, e.g. `2001:db8:1:2::/64`. */
  ipv6Prefix: payloadAddress,
  prefixChanged: z.boolean().optional(),
  ipv6Stability: z.enum(['stable', 'temporary', 'unverified']).nullable().optional(),
  previous: z.object({ ipv4: payloadAddress, ipv6: payloadAddress }).optional(),
  changed: z.array(family).optional(),
  initial: z.literal(true).optional(),
  /** The local (interface/router) address when it is private or CGNAT while outside sources see another. */
  cgnat: z.looseObject({ localAddress: z.string().optional(), localClass: z.string().optional() }).optional(),
  /** The router's WAN address, when the router reported it. */
  wanAddress: payloadAddress,
  checkedAt: z.string().optional(),
});

export type IpWatchPayload = z.infer<typeof ipWatchPayloadSchema>;
