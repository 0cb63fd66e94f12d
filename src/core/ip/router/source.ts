/**
 * The `router` address source: asks the home router (the IPv4 default gateway) for its public
 * address on the LAN, so no request leaves the home network.
 *
 * Contract (IpSource, see ../types.ts), plus:
 * - IPv4 only; kind `local`.
 * - Protocols in order: the one that worked last for this gateway, then NAT-PMP, UPnP IGD, and PCP
 *   only when enabled (it briefly creates a mapping). A NAT-PMP "unsupported version" answer moves
 *   PCP (when enabled) right after it. What works is remembered per gateway; a remembered
 *   protocol that stops working is forgotten and the full order is tried again.
 * - Each protocol gets at most `protocolTimeoutMs`, all of them together at most the detector's
 *   per-source time limit.
 * - An answer is judged here: a public address is returned. "No public address" (NAT-PMP result 3,
 *   PCP NETWORK_FAILURE, an empty UPnP answer, or a private/CGNAT address reported by the router)
 *   is thrown as a RouterNoPublicError (`code === 'router_no_public'`): it is CGNAT/double-NAT
 *   evidence, not a failure to reach the router. With `allowNonPublic` (lab use) a non-public
 *   address is returned instead, and the detector decides.
 * - No answer at all: a DdnsError (`router_timeout` when every protocol was silent, else
 *   `router_failed`) naming each protocol's reason, with the container explanation when
 *   Node-RED seems to run in a container without host networking.
 * - `lastEvidence()` tells what the router said in the last lookup (for CGNAT diagnosis and the
 *   node's status); successful answers carry the same object as `info.routerEvidence`.
 *   `cgnatFromRouter()` turns a "no public address" evidence into the detector's `cgnatSuspected`.
 * - The router is asked from the interface towards it; the detector's `localAddress` (multi-WAN
 *   sending address) does not apply and is ignored.
 */
import { english, say, transient, toDdnsError } from '../../errors';
import { failureSaid, listSaid, type Said } from '../../said';
import { classify } from '../../address';
import type { DetectionResult } from '../types';
import type { IpSource, SourceAnswer, SourceContext } from '../types';
import { containerHint, findGateway, type ContainerProbe, type GatewayInfo, type GatewayReaders } from './gateway';
import { natpmpExternalAddress } from './natpmp';
import { RouterNoPublicError, type RouterProtocol } from './no-public';
import { pcpExternalAddress } from './pcp';
import { upnpExternalAddress, type UpnpService } from './upnp';

export const DEFAULT_PROTOCOL_TIMEOUT_MS = 2000;

export interface RouterSourceOptions {
  /** The router's IPv4 address; the default gateway when absent. */
  gateway?: string;
  /** Also try PCP (it creates a port mapping for a moment and deletes it). Default false. */
  enablePcp?: boolean;
  /** Time limit of each protocol, ms. Default 2000. */
  protocolTimeoutMs?: number;
  /** Lab use: return a private/CGNAT address the router reports instead of "no public address". */
  allowNonPublic?: boolean;
  /** The router's NAT-PMP/PCP port; 5351 unless a test says otherwise. */
  natpmpPort?: number;
  readers?: GatewayReaders;
  containerProbe?: ContainerProbe;
}

export interface RouterEvidence {
  gateway: string;
  /** The protocol that gave the answer; null when none did. */
  protocol: RouterProtocol | null;
  /** `public`: the router holds a public address; `no_public`: it says it has none; `no_answer`: it did not say. */
  outcome: 'public' | 'no_public' | 'no_answer';
  /** The address the router reported (public or not), when it reported one. */
  address?: string;
  /** The router's own words, e.g. "NAT-PMP result 3 (network failure)". */
  reported?: string;
  /** NAT-PMP/PCP epoch (seconds since the router's mapping table started). */
  epoch?: number;
  ms: number;
  at: string;
  /** A sentence for a person. */
  note: string;
}

export interface RouterSource extends IpSource {
  /** The protocol that works, per gateway address. */
  learned(): ReadonlyMap<string, RouterProtocol>;
  /** What the router said in the last lookup; null before the first. */
  lastEvidence(): RouterEvidence | null;
  /** Forget the learned protocols and UPnP services (e.g. after the router was replaced). */
  forget(): void;
}

const NAMES: Record<RouterProtocol, string> = { natpmp: 'NAT-PMP', upnp: 'UPnP', pcp: 'PCP' };

const ROUTER_CANCELLED = () => transient(say('ip.router_cancelled', 'router lookup cancelled'), { code: 'aborted' });

export function createRouterSource(opts: RouterSourceOptions = {}): RouterSource {
  const learned = new Map<string, RouterProtocol>();
  const upnpServices = new Map<string, UpnpService[]>();
  let evidence: RouterEvidence | null = null;
  const perProtocol = Math.max(50, opts.protocolTimeoutMs ?? DEFAULT_PROTOCOL_TIMEOUT_MS);

  const order = (gateway: string): RouterProtocol[] => {
    const base: RouterProtocol[] = ['natpmp', 'upnp', ...(opts.enablePcp ? (['pcp'] as const) : [])];
    const first = learned.get(gateway);
    return first && base.includes(first) ? [first, ...base.filter((p) => p !== first)] : base;
  };

  async function ask(
    p: RouterProtocol,
    gateway: string,
    localAddress: string | undefined,
    timeoutMs: number,
    signal: AbortSignal,
  ) {
    switch (p) {
      case 'natpmp': {
        const a = await natpmpExternalAddress({ gateway, timeoutMs, signal, port: opts.natpmpPort });
        return { address: a.address, epoch: a.epoch, reported: `NAT-PMP external address ${a.address}` };
      }
      case 'pcp': {
        const a = await pcpExternalAddress({ gateway, timeoutMs, signal, port: opts.natpmpPort });
        return { address: a.address, epoch: a.epoch, reported: `PCP assigned external address ${a.address}` };
      }
      case 'upnp': {
        const known = upnpServices.get(gateway);
        try {
          const a = await upnpExternalAddress({ gateway, localAddress, timeoutMs, signal, known });
          upnpServices.set(gateway, a.services);
          return { address: a.address, reported: `UPnP NewExternalIPAddress ${a.address}` };
        } catch (e) {
          if (!known || e instanceof RouterNoPublicError || signal.aborted) throw e;
          // The router may have restarted with another description: search again once.
          upnpServices.delete(gateway);
          const a = await upnpExternalAddress({ gateway, localAddress, timeoutMs, signal });
          upnpServices.set(gateway, a.services);
          return { address: a.address, reported: `UPnP NewExternalIPAddress ${a.address}` };
        }
      }
    }
  }

  return {
    id: 'router',
    label: opts.gateway ? `home router (${opts.gateway})` : 'home router (default gateway)',
    families: ['ipv4'],
    kind: 'local',
    learned: () => learned,
    lastEvidence: () => evidence,
    forget() {
      learned.clear();
      upnpServices.clear();
    },
    async lookup(ctx: SourceContext): Promise<SourceAnswer> {
      if (ctx.family !== 'ipv4')
        throw transient(say('ip.router_ipv4_only', 'the router can only tell its IPv4 address'), {
          code: 'family_unsupported',
        });
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let gw: GatewayInfo;
      try {
        gw = await findGateway({ gateway: opts.gateway, readers: opts.readers });
      } catch (e) {
        const err = toDdnsError(e);
        evidence = {
          gateway: opts.gateway ?? '',
          protocol: null,
          outcome: 'no_answer',
          ms: elapsed(),
          at: new Date().toISOString(),
          note: `${err.message[0].toUpperCase()}${err.message.slice(1)}.`,
        };
        throw err;
      }
      const gateway = gw.address;
      const budget = Math.max(1, ctx.timeoutMs);
      const failures: Said[] = [];
      let allSilent = true;
      /** The "no public address" error made here from a non-public answer (its evidence is set). */
      let judged: RouterNoPublicError | undefined;
      let list = order(gateway);
      for (let i = 0; i < list.length; i++) {
        const p = list[i];
        if (ctx.signal.aborted) throw ROUTER_CANCELLED();
        const left = budget - elapsed();
        if (left < 20) {
          failures.push(
            say('ip.source_failed', '__source__: __reason__', {
              source: NAMES[p],
              reason: say('ip.no_time_left', 'no time left'),
            }),
          );
          continue;
        }
        try {
          const a = await ask(p, gateway, gw.localAddress, Math.min(perProtocol, left), ctx.signal);
          learned.set(gateway, p);
          const c = classify(a.address);
          const base = {
            gateway,
            protocol: p,
            address: c.address,
            reported: a.reported,
            epoch: a.epoch,
            ms: elapsed(),
            at: new Date().toISOString(),
          };
          if (c.class === 'public') {
            evidence = {
              ...base,
              outcome: 'public',
              note: `The router at ${gateway} holds the public address ${c.address} (${NAMES[p]}).`,
            };
            return { address: a.address, info: { gateway, protocol: p, epoch: a.epoch, routerEvidence: evidence } };
          }
          const note = `the router at ${gateway} reports ${c.reason}, so it has no public address itself: your provider probably uses carrier-grade NAT (CGNAT), or there is another router in front of it`;
          evidence = { ...base, outcome: 'no_public', note: `${note[0].toUpperCase()}${note.slice(1)}.` };
          if (opts.allowNonPublic)
            return { address: a.address, info: { gateway, protocol: p, epoch: a.epoch, routerEvidence: evidence } };
          judged = new RouterNoPublicError(p, gateway, a.reported, note, c.family ? c.address : undefined);
          throw judged;
        } catch (e) {
          if (e instanceof RouterNoPublicError) {
            learned.set(gateway, p);
            if (e === judged) throw e;
            evidence = {
              gateway,
              protocol: p,
              outcome: 'no_public',
              ...(e.routerAddress ? { address: e.routerAddress } : {}),
              reported: e.reported,
              ms: elapsed(),
              at: new Date().toISOString(),
              note: `${e.message[0].toUpperCase()}${e.message.slice(1)}.`,
            };
            throw e;
          }
          const err = toDdnsError(e);
          if (err.code === 'aborted' || ctx.signal.aborted) throw ROUTER_CANCELLED();
          if (learned.get(gateway) === p) learned.delete(gateway);
          if (err.code !== 'router_timeout') allSilent = false;
          failures.push(
            say('ip.source_failed', '__source__: __reason__', { source: NAMES[p], reason: failureSaid(err) }),
          );
          if (p === 'natpmp' && err.code === 'natpmp_unsupported_version' && opts.enablePcp) {
            // The gateway speaks PCP only: ask it next.
            list = [...list.slice(0, i + 1), 'pcp', ...list.slice(i + 1).filter((x) => x !== 'pcp')];
          }
        }
      }
      const hint = allSilent && gw.from === 'route' ? containerHint(gateway, opts.containerProbe) : null;
      const whySaid = say(
        'ip.router_no_answer',
        'the router at __gateway__ did not tell its public address (__failures__)',
        {
          gateway,
          failures: listSaid(failures),
        },
      );
      const why = english(whySaid);
      evidence = {
        gateway,
        protocol: null,
        outcome: 'no_answer',
        ms: elapsed(),
        at: new Date().toISOString(),
        note: `${why[0].toUpperCase()}${why.slice(1)}.`,
      };
      const advice =
        hint ??
        say(
          'ip.router_advice',
          'If your router has a setting for UPnP or NAT-PMP (sometimes called "allow apps to open ports"), switch it on, or remove the router source; the other sources carry on.',
        );
      throw transient(say('ip.router_failed', '__why__. __advice__', { why: whySaid, advice }), {
        code: allSilent ? 'router_timeout' : 'router_failed',
      });
    },
  };
}

/**
 * The detector's `cgnatSuspected` from the router's "no public address" answer (undefined for any
 * other evidence). `publicAddress` is what outside sources saw, when they saw one.
 */
export function cgnatFromRouter(
  evidence: RouterEvidence | null,
  publicAddress: string | null,
): DetectionResult['cgnatSuspected'] {
  if (!evidence || evidence.outcome !== 'no_public') return undefined;
  const c = evidence.address ? classify(evidence.address) : null;
  const holds = c ? `holds only ${c.address}, not a public address` : 'says it has no public IPv4 address';
  const said = evidence.reported ? ` (${evidence.reported})` : '';
  const seen = publicAddress ? `, while outside services see ${publicAddress}` : '';
  return {
    localAddress: c?.address ?? '',
    localClass: c?.class ?? 'none',
    publicAddress,
    note: `Your router (${evidence.gateway}) ${holds}${said}${seen}. Your provider probably uses carrier-grade NAT (CGNAT), or there is another router in front of yours (double NAT): connections from the internet will most likely not reach you on this address. Ask your provider for a public IPv4 address, or use IPv6.`,
  };
}
