/**
 * "The router has no public address": the strongest evidence of carrier-grade NAT there is.
 *
 * A router that answers NAT-PMP with result 3 (network failure), PCP with NETWORK_FAILURE, or
 * UPnP with an empty or non-public external address is telling us that it does not hold a
 * public IPv4 address itself: the provider uses carrier-grade NAT (CGNAT), there is a second
 * router in front of it (double NAT), or its internet connection is down. It is an answer, not
 * a failure to reach the router; callers tell it apart by `code === 'router_no_public'`.
 */
import { DdnsError, type Sentence } from '../../errors';

export type RouterProtocol = 'natpmp' | 'pcp' | 'upnp';

export class RouterNoPublicError extends DdnsError {
  readonly protocol: RouterProtocol;
  readonly gateway: string;
  /** What the router reported: a result code, an empty answer, or the non-public address it holds. */
  readonly reported: string;
  /** The non-public address the router reported, when it gave one (e.g. 100.64.12.34). */
  readonly routerAddress?: string;

  constructor(
    protocol: RouterProtocol,
    gateway: string,
    reported: string,
    message: string | Sentence,
    routerAddress?: string,
  ) {
    super('transient', message, { code: 'router_no_public', detail: reported });
    this.name = 'RouterNoPublicError';
    this.protocol = protocol;
    this.gateway = gateway;
    this.reported = reported;
    this.routerAddress = routerAddress;
  }
}

export function isRouterNoPublic(e: unknown): e is RouterNoPublicError {
  return e instanceof RouterNoPublicError;
}
