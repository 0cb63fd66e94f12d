/**
 * The router and interface-event API that public-ip-watch wires into its watcher:
 *
 * - `createRouterSource(opts)`: an IpSource (`id: 'router'`, IPv4, kind `local`) that asks the
 *   home router over NAT-PMP, UPnP IGD and (opt-in) PCP. "No public address" answers are thrown
 *   as RouterNoPublicError (`code: 'router_no_public'`), CGNAT evidence; `lastEvidence()` keeps
 *   what the router said.
 * - `watchRouter({ gateway?, onHint, safetyPollMs })`: announcements (224.0.0.1:5350) and a
 *   safety poll, as hints to query the router again. Returns `{ ready, close() }`.
 * - `watchInterfaces({ interface?, onChange })`: this host's own address changes (ip monitor,
 *   polling on BusyBox). Returns `{ ready, close() }`.
 *
 * Option schemas (zod) accept what the Node-RED editor stores: empty strings mean "not set".
 */
import net from 'node:net';
import { z } from 'zod';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_FOLLOW_UP_MS, DEFAULT_SAFETY_POLL_MS } from './announcements';
import { DEFAULT_PROTOCOL_TIMEOUT_MS } from './source';
import { phrase } from '../../said';

const blankIsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const gatewaySchema = z.preprocess(
  blankIsUnset,
  z
    .string()
    .trim()
    .refine((s) => net.isIP(s) === 4, {
      message: phrase('ip.must_router_s_ipv4', "must be the router's IPv4 address, e.g. 192.168.1.1"),
    })
    .optional(),
);

export const routerSourceOptionsSchema = z.object({
  gateway: gatewaySchema,
  enablePcp: z.boolean().default(false),
  protocolTimeoutMs: z.number().int().min(100).max(10_000).default(DEFAULT_PROTOCOL_TIMEOUT_MS),
  /** The router's NAT-PMP/PCP port (5351); for test benches. */
  natpmpPort: z.number().int().min(1).max(65_535).optional(),
});
export type RouterSourceConfig = z.infer<typeof routerSourceOptionsSchema>;

export const routerWatchOptionsSchema = z.object({
  gateway: gatewaySchema,
  /** 0 = off; otherwise at least 5 s (a LAN query, but not a busy loop). */
  safetyPollMs: z
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 5_000 && n <= 3_600_000), {
      message: phrase('ip.must_0_off_between', 'must be 0 (off) or between 5 s and 1 hour'),
    })
    .default(DEFAULT_SAFETY_POLL_MS),
  debounceMs: z.number().int().min(0).max(5_000).default(DEFAULT_DEBOUNCE_MS),
  followUpMs: z.number().int().min(0).max(60_000).default(DEFAULT_FOLLOW_UP_MS),
});
export type RouterWatchConfig = z.infer<typeof routerWatchOptionsSchema>;

export {
  createRouterSource,
  cgnatFromRouter,
  DEFAULT_PROTOCOL_TIMEOUT_MS,
  type RouterEvidence,
  type RouterSource,
  type RouterSourceOptions,
} from './source';
export {
  watchRouter,
  parseAnnouncement,
  ANNOUNCE_GROUP,
  DEFAULT_SAFETY_POLL_MS,
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_FOLLOW_UP_MS,
  type Announcement,
  type RouterHint,
  type RouterWatch,
  type RouterWatchOptions,
} from './announcements';
export {
  findGateway,
  containerHint,
  parseProcNetRoute,
  hexToIpv4,
  type GatewayInfo,
  type GatewayReaders,
} from './gateway';
export { RouterNoPublicError, isRouterNoPublic, type RouterProtocol } from './no-public';
export { natpmpExternalAddress, parseNatPmp, type NatPmpAnswer } from './natpmp';
export { pcpExternalAddress, parsePcpMapResponse, pcpMapRequest, type PcpAnswer } from './pcp';
export { upnpExternalAddress, parseDescription, parseSsdpAnswer, type UpnpAnswer, type UpnpService } from './upnp';
export {
  watchInterfaces,
  readInterfaceAddresses,
  parseMonitorLine,
  interfaceWatchOptionsSchema,
  type InterfaceSnapshot,
  type InterfaceAddress,
  type InterfaceWatch,
  type InterfaceWatchOptions,
  type MonitorEvent,
} from '../iface-events';
