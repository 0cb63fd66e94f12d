/**
 * CGNAT and NAT diagnosis: can connections from the internet reach this home over IPv4 at all?
 *
 * Compares the router's WAN address (what the provider gave the router; or this machine's own
 * address when it holds the public address itself) with the public address that outside services
 * see:
 * - WAN in 100.64.0.0/10 (RFC 6598), or the router saying it has no public address → CGNAT;
 * - WAN private (RFC 1918, link-local) → double NAT (this router sits behind another one);
 * - WAN public but different from the public address → something in between (provider NAT, VPN,
 *   proxy, multi-WAN);
 * - WAN equal to the public address → direct: port forwards on the router work.
 * Documentation addresses (192.0.2/24, 198.51.100/24, 203.0.113/24) count as public here, so that
 * labs and tests can use them; other reserved ranges are treated as non-public (some providers
 * number their CGNAT from 198.18.0.0/15).
 *
 * Pure function, no network. Throws a DdnsError of kind `input` for an address that is not valid.
 */
import { badInput, english, say, type Sentence } from '../errors';
import { classify, type AddressClass } from '../address';

export interface NatEvidence {
  /** The router's WAN address (IPv4), as the router shows it or as the router protocol reported it. */
  wanAddress?: string | null;
  /** The public IPv4 address that outside services see. */
  publicIpv4?: string | null;
  /** A public IPv6 address of this home, when there is one. */
  publicIpv6?: string | null;
  /** The router said it has no public address (NAT-PMP result 3, an empty UPnP answer). */
  routerNoPublicAddress?: boolean;
}

export type NatVerdict = 'direct' | 'cgnat' | 'double-nat' | 'in-between' | 'unknown';

export interface NatDiagnosis {
  verdict: NatVerdict;
  /** Can a port forward on the router make an IPv4 service reachable? null when unknown. */
  portForwardingPossible: boolean | null;
  /** One line, e.g. "CGNAT: your provider shares one public IPv4 address among many customers". */
  summary: string;
  /** `summary` as a sentence, for the adapter to say in the user's language (not sent). */
  said?: Sentence;
  /** What it means, in plain words. */
  explanation: string;
  /** What the user can do, most effective first. */
  advice: string[];
  wanAddress: string | null;
  wanClass: AddressClass | null;
  publicIpv4: string | null;
  publicIpv6: string | null;
}

const ADVICE_IPV6 = (v6: string | null) =>
  v6
    ? `Use IPv6: your line has a public IPv6 address (${v6}) and IPv6 has no NAT. Publish an AAAA record and allow the port in the router's IPv6 firewall; visitors need IPv6 too (most mobile networks have it).`
    : 'Use IPv6 if your provider offers it: IPv6 has no NAT, so an AAAA record and a firewall rule on the router are enough (visitors need IPv6 too).';
const ADVICE_TUNNEL =
  'Use a tunnel or mesh VPN that connects outwards from your home, so nothing has to come in: Cloudflare Tunnel for web services, Tailscale (or ZeroTier, or WireGuard to a small rented server) for private access.';
const ADVICE_ISP =
  'Ask your internet provider for a public IPv4 address (sometimes free on request, sometimes a small fee; ask to be taken off "CGNAT" or for a "dedicated/static IP").';

function parseOptional(text: string | null | undefined, what: Sentence, family: 'ipv4' | 'ipv6') {
  if (text === undefined || text === null || String(text).trim() === '') return null;
  const c = classify(String(text));
  if (c.class === 'invalid')
    throw badInput(
      say('reach.nat_bad_address', '__what__: __reason__', { what, reason: c.said ?? c.reason }),
      'invalid_address',
    );
  if (c.family !== family)
    throw badInput(
      say('reach.expected_wrong_family', '__where__: __address__ is not an __family__ address', {
        where: what,
        address: c.address,
        family: family === 'ipv4' ? 'IPv4' : 'IPv6',
      }),
      'invalid_address',
    );
  return c;
}

/** The diagnosis's one line, in English and as a sentence. */
const summed = (said: Sentence) => ({ summary: english(said), said });

const publicLike = (c: AddressClass) => c === 'public' || c === 'documentation';

export function diagnoseNat(e: NatEvidence): NatDiagnosis {
  const wan = parseOptional(e.wanAddress, say('reach.wan_address', 'WAN address'), 'ipv4');
  const pub = parseOptional(e.publicIpv4, say('reach.public_ipv4', 'public IPv4 address'), 'ipv4');
  const v6 = parseOptional(e.publicIpv6, say('reach.public_ipv6', 'public IPv6 address'), 'ipv6');
  if (wan && ['loopback', 'unspecified', 'multicast', 'broadcast'].includes(wan.class)) {
    throw badInput(
      say('reach.wan_impossible', "WAN address: __reason__; that cannot be a router's WAN address", {
        reason: wan.reason,
      }),
      'invalid_address',
    );
  }
  const base = {
    wanAddress: wan?.address ?? null,
    wanClass: wan?.class ?? null,
    publicIpv4: pub?.address ?? null,
    publicIpv6: v6?.address ?? null,
  };
  const seen = pub ? ` The internet sees you as ${pub.address}.` : '';
  /**
   * Incoming IPv4 cannot reach the router (CGNAT, or a WAN address that is not public): no port
   * forward helps, the advice is the ways around it.
   */
  const noIncomingIpv4 = (said: Sentence, explanation: string): NatDiagnosis => ({
    ...base,
    verdict: 'cgnat',
    portForwardingPossible: false,
    ...summed(said),
    explanation,
    advice: [ADVICE_ISP, ADVICE_IPV6(base.publicIpv6), ADVICE_TUNNEL],
  });

  if (
    wan?.class === 'cgnat' ||
    pub?.class === 'cgnat' ||
    (e.routerNoPublicAddress && !(wan && publicLike(wan.class)))
  ) {
    const evidence =
      wan?.class === 'cgnat'
        ? `Your router's WAN address ${wan.address} is in 100.64.0.0/10, the range providers use for carrier-grade NAT.`
        : pub?.class === 'cgnat'
          ? `The address ${pub.address} is in 100.64.0.0/10, the range providers use for carrier-grade NAT.`
          : 'Your router reports that it has no public address of its own.';
    return noIncomingIpv4(
      say(
        'reach.nat_cgnat',
        'CGNAT: your provider shares one public IPv4 address among many customers; incoming IPv4 connections cannot reach you',
      ),
      `${evidence}${seen} Connections from the internet to that public address end at your provider's equipment, not at your router, so no port forward can make an IPv4 service reachable, and a DNS name pointing at that address will not lead home.`,
    );
  }
  if (wan && !publicLike(wan.class)) {
    const isPrivate = wan.class === 'private' || wan.class === 'link-local' || wan.class === 'unique-local';
    if (isPrivate) {
      return {
        ...base,
        verdict: 'double-nat',
        portForwardingPossible: false,
        ...summed(
          say(
            'reach.nat_double',
            "double NAT: your router's WAN address __address__ is private, so it sits behind another router",
            { address: wan.address },
          ),
        ),
        explanation: `Your router got the private address ${wan.address} from another device (usually the provider's modem-router), which holds the public address.${seen} A port forward on your router alone is not enough: the device in front must forward the port too.`,
        advice: [
          "Put the provider's device in bridge (modem-only) mode, so that your router gets the public address itself.",
          `Or forward the same port on the provider's device to your router (${wan.address}), or make your router its "exposed host" / DMZ.`,
          "If the provider's device itself shows a 100.64.x.x address, the line is behind CGNAT: ask your provider for a public IPv4 address.",
          ADVICE_IPV6(base.publicIpv6),
          ADVICE_TUNNEL,
        ],
      };
    }
    return noIncomingIpv4(
      say('reach.nat_not_public', "no public address: your router's WAN address __address__ is not a public address", {
        address: wan.address,
      }),
      `${wan.reason}; it is not reachable from the internet. Some providers number their carrier-grade NAT from such ranges.${seen} Incoming IPv4 connections cannot reach your router.`,
    );
  }
  if (wan && pub && wan.address !== pub.address) {
    return {
      ...base,
      verdict: 'in-between',
      portForwardingPossible: null,
      ...summed(
        say('reach.nat_in_between', 'something in between: your router has __wan__ but the internet sees __public__', {
          wan: wan.address,
          public: pub.address,
        }),
      ),
      explanation: `Your router's WAN address ${wan.address} is public, yet outside services see ${pub.address}. Something else carries your traffic: a VPN on this machine or the router, a proxy, a second internet line (multi-WAN / load balancing), or your provider's own NAT. Incoming connections to ${pub.address} may not reach your router.`,
      advice: [
        "If a VPN runs on this machine or the router, the public address is the VPN's: let Node-RED's address lookups bypass the VPN, or use the VPN provider's port forwarding.",
        `If you have two internet lines, make sure the DNS name points at the line that has the port forward (${wan.address}).`,
        ADVICE_IPV6(base.publicIpv6),
        ADVICE_TUNNEL,
      ],
    };
  }
  if (wan) {
    return {
      ...base,
      verdict: 'direct',
      portForwardingPossible: true,
      ...summed(
        say('reach.nat_direct', 'direct: your router holds the public address __address__', { address: wan.address }),
      ),
      explanation: `Your router has the public address ${wan.address} itself${pub ? ', the same one the internet sees' : ''}. Port forwards on the router can make a service reachable from the internet.`,
      advice: [
        'If a service is still unreachable: check the port forward on the router, the firewall on the machine running the service, and that the service listens on that port.',
      ],
    };
  }
  return {
    ...base,
    verdict: 'unknown',
    portForwardingPossible: null,
    ...summed(
      pub
        ? say(
            'reach.nat_unknown',
            "public IPv4 is __address__; the router's WAN address is unknown, so CGNAT cannot be ruled out",
            { address: pub.address },
          )
        : say('reach.nat_no_information', 'not enough information for a NAT diagnosis'),
    ),
    explanation: `To tell whether your line is behind CGNAT or double NAT, the router's WAN address is needed (shown on the router's status page, or reported by the router source of public-ip-watch).${seen}`,
    advice: [
      'Enter the WAN address your router shows on its status page, or feed the node from public-ip-watch with the router source enabled.',
    ],
  };
}
