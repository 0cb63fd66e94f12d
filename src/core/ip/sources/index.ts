/**
 * The address sources a user can choose: their settings (zod), a catalog for the editor, a
 * default order, and `buildSource` that turns one validated setting into an IpSource.
 *
 * Every endpoint can be overridden (tests, mirrors, a provider's own check-IP service). Empty
 * strings — what the Node-RED editor stores for an untouched field — count as "not set".
 */
import net from 'node:net';
import { z } from 'zod';
import { parseServer } from '../../dns/transport';
import type { Family } from '../../address';
import { createRouterSource, DEFAULT_SAFETY_POLL_MS, routerSourceOptionsSchema } from '../router';
import type { IpSource } from '../types';
import { CLOUDFLARE_TRACE, cloudflareTraceSource } from './cloudflare-trace';
import { customUrlSource } from './custom-url';
import { DNS_PRESETS, dnsSource } from './dns-based';
import { PLAIN_PRESETS, plainTextSource } from './https-plain';
import { interfaceSource } from './interface';
import { DEFAULT_PUSH_PATH, pushPathSchema, routerPushSource } from './router-push';
import { phrase } from '../../said';

const blankIsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optional = <T extends z.ZodType>(s: T) => z.preprocess(blankIsUnset, s.optional());

const httpUrl = z.url({
  protocol: /^https?$/,
  error: phrase('ip.must_full_http_https', 'must be a full http:// or https:// URL'),
});

/** "host", "host:port" or "[v6]:port", where host is an IP address of `family`. */
const dnsServer = (family: Family) =>
  z
    .string()
    .trim()
    .refine(
      (s) => {
        const srv = parseServer(s);
        const port = srv.port ?? 53;
        return net.isIP(srv.host) === (family === 'ipv4' ? 4 : 6) && Number.isInteger(port) && port > 0 && port < 65536;
      },
      {
        message:
          family === 'ipv4'
            ? 'must be an IPv4 address, optionally with a port (e.g. 208.67.222.222 or 127.0.0.1:5353)'
            : 'must be an IPv6 address, optionally in brackets with a port (e.g. 2620:119:35::35 or [::1]:5353)',
      },
    );

const urls = { urlV4: optional(httpUrl), urlV6: optional(httpUrl) };
const servers = { serverV4: optional(dnsServer('ipv4')), serverV6: optional(dnsServer('ipv6')) };

/** Numbers typed into the editor arrive as text; empty means "not set". */
const toNumber = (v: unknown) =>
  blankIsUnset(v) === undefined ? undefined : typeof v === 'string' ? Number(v.trim()) : v;
const toBool = (v: unknown) =>
  blankIsUnset(v) === undefined ? undefined : v === 'true' ? true : v === 'false' ? false : v;
const udpPort = z.preprocess(
  toNumber,
  z
    .number({ error: phrase('ip.must_port_number', 'must be a port number') })
    .int(phrase('ip.must_port_number', 'must be a port number'))
    .min(1)
    .max(65_535)
    .optional(),
);
const ipv4Text = z
  .string()
  .trim()
  .refine((s) => net.isIP(s) === 4, { message: phrase('ip.must_ipv4_address', 'must be an IPv4 address') });

/** Default safety poll of the router source, seconds. */
export const DEFAULT_ROUTER_SAFETY_POLL_S = DEFAULT_SAFETY_POLL_MS / 1000;

/**
 * The router source (IPv4 only, kind `local`). Besides the source itself, public-ip-watch listens
 * for the router's change announcements and asks it again every `safetyPoll` seconds (0 = only
 * announcements). `natpmpPort`, `announcePort` and `announceGroup` are for test benches (not in
 * the editor): the router's NAT-PMP/PCP port (5351) and where announcements arrive (224.0.0.1:5350).
 */
const routerSchema = z.object({
  type: z.literal('router'),
  gateway: routerSourceOptionsSchema.shape.gateway,
  enablePcp: z.preprocess(
    toBool,
    z.boolean({ error: phrase('ip.must_true_false', 'must be true or false') }).optional(),
  ),
  safetyPoll: z.preprocess(
    toNumber,
    z
      .number({ error: phrase('ip.safety_poll_must_number', 'the safety poll must be a number of seconds') })
      .refine((n) => n === 0 || (n >= 5 && n <= 3600), {
        message: phrase('ip.safety_poll_must_0', 'the safety poll must be 0 (off) or between 5 and 3600 seconds'),
      })
      .optional(),
  ),
  natpmpPort: udpPort,
  announcePort: udpPort,
  announceGroup: optional(ipv4Text),
});

const validRegex = (s: string) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
};

const customSchema = z
  .object({
    type: z.literal('custom'),
    url: httpUrl,
    format: z.enum(['text', 'json', 'regex']).default('text'),
    jsonPath: optional(z.string().trim().max(200)),
    regex: optional(
      z
        .string()
        .max(500)
        .refine(validRegex, {
          message: phrase('ip.not_valid_regular_expression', 'is not a valid regular expression'),
        }),
    ),
    family: optional(z.enum(['ipv4', 'ipv6', 'any'])),
  })
  .refine((c) => c.format !== 'json' || !!c.jsonPath, {
    message: phrase('ip.json_path_data_ip', 'a JSON path (e.g. data.ip) is needed for the JSON format'),
    path: ['jsonPath'],
  })
  .refine((c) => c.format !== 'regex' || !!c.regex, {
    message: phrase('ip.regular_expression_needed_regex', 'a regular expression is needed for the regex format'),
    path: ['regex'],
  });

export const sourceConfigSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ipify'), ...urls }),
  z.object({ type: z.literal('icanhazip'), ...urls }),
  z.object({ type: z.literal('aws'), ...urls }),
  z.object({ type: z.literal('cloudflare-trace'), ...urls }),
  z.object({ type: z.literal('opendns'), ...servers }),
  z.object({ type: z.literal('google-dns'), ...servers }),
  z.object({
    type: z.literal('interface'),
    interface: optional(
      z
        .string()
        .trim()
        .max(64)
        .regex(/^\S+$/, { message: phrase('ip.interface_name_no_spaces', 'an interface name has no spaces') }),
    ),
    allowTemporary: z.boolean().optional(),
  }),
  routerSchema,
  z.object({
    type: z.literal('router-push'),
    path: z.preprocess(blankIsUnset, pushPathSchema.default(DEFAULT_PUSH_PATH)),
  }),
  customSchema,
]);

export type SourceConfig = z.infer<typeof sourceConfigSchema>;

/** One validated setting → its source. */
export function buildSource(cfg: SourceConfig): IpSource {
  switch (cfg.type) {
    case 'ipify':
    case 'icanhazip':
    case 'aws':
      return plainTextSource(cfg.type, { ipv4: cfg.urlV4, ipv6: cfg.urlV6 });
    case 'cloudflare-trace':
      return cloudflareTraceSource({ ipv4: cfg.urlV4, ipv6: cfg.urlV6 });
    case 'opendns':
    case 'google-dns':
      return dnsSource(cfg.type, { ipv4: cfg.serverV4, ipv6: cfg.serverV6 });
    case 'interface':
      return interfaceSource({ interface: cfg.interface, allowTemporary: cfg.allowTemporary });
    case 'router':
      return createRouterSource({
        gateway: cfg.gateway,
        enablePcp: cfg.enablePcp === true,
        natpmpPort: cfg.natpmpPort,
      });
    case 'router-push':
      return routerPushSource(cfg.path);
    case 'custom':
      return customUrlSource({
        url: cfg.url,
        format: cfg.format,
        jsonPath: cfg.jsonPath,
        regex: cfg.regex,
        family: cfg.family,
      });
  }
}

export interface SourceCatalogEntry {
  type: SourceConfig['type'];
  label: string;
  families: Family[];
  kind: 'external' | 'local';
  endpoints: { ipv4?: string; ipv6?: string };
  note: string;
}

/** What the editor says about each source. */
const NOTES: Record<SourceConfig['type'], string> = {
  router:
    'Asks your home router for its public IPv4 address on your own network (NAT-PMP or UPnP, which many routers offer): no request leaves your network, and the router announces changes, so a new address is noticed within about a second. The router must have UPnP or NAT-PMP switched on. PCP is used only if you allow it, because it briefly creates a port mapping on the router (deleted at once).',
  'cloudflare-trace':
    'Asks Cloudflare (1.1.1.1) over HTTPS, by IP address, so no DNS lookup is involved. A good first choice.',
  ipify: 'A popular free service over HTTPS that answers with your address as plain text.',
  icanhazip: 'A long-running free service (operated by Cloudflare) over HTTPS, plain text.',
  aws: "Amazon's check-IP service over HTTPS. IPv4 only.",
  opendns:
    'Asks the OpenDNS resolver for myip.opendns.com over plain DNS. Quick, but not encrypted: someone on the network path could change the answer, so keep an HTTPS source before it.',
  'google-dns': "Asks Google's name server (ns1.google.com) for o-o.myaddr.l.google.com over plain DNS. Not encrypted.",
  interface:
    "Reads the address of one of this computer's network interfaces. Use it when this computer holds the public address itself (PPPoE on ppp0, IPv6 on eth0); behind a home router it only sees a private address. Temporary IPv6 privacy addresses are skipped unless you allow them.",
  'router-push':
    "Your router calls Node-RED the moment its address changes (its built-in dynamic DNS client with a custom update URL: Fritz!Box, OpenWrt, UniFi, MikroTik…), so no polling is needed. A push is only a hint: another source in this list (the home router, a network interface or one outside service) must confirm it before anything changes, so a forged request cannot move your DNS name. Protected by the push token below; the node's help and the README show the URL to paste into your router.",
  custom:
    "Your own service or your router's status page: the answer is plain text, a field of a JSON answer (e.g. data.ip) or the first group of a regular expression.",
};

const entry = (
  type: SourceConfig['type'],
  label: string,
  families: Family[],
  kind: SourceCatalogEntry['kind'],
  endpoints: SourceCatalogEntry['endpoints'],
): SourceCatalogEntry => ({ type, label, families, kind, endpoints, note: NOTES[type] });

/** What the editor shows about each source. */
export const SOURCE_CATALOG: ReadonlyArray<SourceCatalogEntry> = [
  entry('router', 'Home router', ['ipv4'], 'local', {}),
  entry('router-push', 'Router push (the router calls Node-RED)', ['ipv4', 'ipv6'], 'local', {}),
  entry('cloudflare-trace', 'Cloudflare trace', ['ipv4', 'ipv6'], 'external', { ...CLOUDFLARE_TRACE }),
  entry('ipify', 'ipify', ['ipv4', 'ipv6'], 'external', { ...PLAIN_PRESETS.ipify.endpoints }),
  entry('icanhazip', 'icanhazip', ['ipv4', 'ipv6'], 'external', { ...PLAIN_PRESETS.icanhazip.endpoints }),
  entry('aws', 'AWS checkip', ['ipv4'], 'external', { ...PLAIN_PRESETS.aws.endpoints }),
  entry('opendns', 'OpenDNS', ['ipv4', 'ipv6'], 'external', { ...DNS_PRESETS.opendns.servers }),
  entry('google-dns', 'Google DNS', ['ipv4', 'ipv6'], 'external', { ...DNS_PRESETS['google-dns'].servers }),
  entry('interface', 'Network interface', ['ipv4', 'ipv6'], 'local', {}),
  entry('custom', 'Custom URL', ['ipv4', 'ipv6'], 'external', {}),
];

/** HTTPS first, so a network attacker cannot easily steer the answer; plain DNS last. */
export const DEFAULT_SOURCES: SourceConfig[] = [
  { type: 'cloudflare-trace' },
  { type: 'ipify' },
  { type: 'icanhazip' },
  { type: 'opendns' },
];

export { cloudflareTraceSource, parseTrace } from './cloudflare-trace';
export { customUrlSource } from './custom-url';
export { dnsSource } from './dns-based';
export { plainTextSource } from './https-plain';
export { interfaceSource, parseIf6Flags, type InterfaceReaders } from './interface';
export { DEFAULT_PUSH_PATH, routerPushSource } from './router-push';
