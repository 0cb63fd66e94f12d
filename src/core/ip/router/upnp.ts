/**
 * UPnP IGD: the router's `GetExternalIPAddress`.
 *
 * Steps: (1) SSDP M-SEARCH sent unicast to gateway:1900 (retransmitted 250 ms doubling) and,
 * when it stays silent, also to the multicast group 239.255.255.250:1900 out of the interface
 * towards the gateway; only answers from the gateway's address count, and the LOCATION must be an
 * http:// URL on the gateway itself. (2) GET the device description with the package's HTTP client
 * (no proxy: this is the LAN; body capped) and find the WANIPConnection:2/1 or WANPPPConnection:1
 * services with small, careful text scanning (no entity expansion, no DOCTYPE), each extracted
 * service validated with zod; every control URL must point at the gateway too. (3) SOAP
 * `GetExternalIPAddress` to each service in that order until one gives an address.
 *
 * Outcomes: the address as the router gave it (the router source judges whether it is public);
 * every service answering with an empty `NewExternalIPAddress` → RouterNoPublicError; a SOAP
 * fault → transient `upnp_<errorCode>`; no SSDP answer → `router_timeout`; no WAN service →
 * `upnp_no_wan_service`.
 */
import dgram from 'node:dgram';
import { z } from 'zod';
import { say, transient } from '../../errors';
import { excerpt, httpRequest } from '../../http';
import { USER_AGENT } from '../../version';
import { classify } from '../../address';
import { RouterNoPublicError } from './no-public';

export const SSDP_PORT = 1900;
export const SSDP_GROUP = '239.255.255.250';
const SEARCH_TARGETS = [
  'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  'urn:schemas-upnp-org:device:InternetGatewayDevice:2',
];
/** Largest device description accepted (real ones are 3–20 KiB). */
export const DESCRIPTION_CAP = 128 * 1024;
/** Largest SOAP answer accepted. */
const SOAP_CAP = 16 * 1024;
const MAX_SERVICES = 64;

/** In order of preference. */
export const WAN_SERVICE_TYPES = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
] as const;

export interface UpnpService {
  serviceType: (typeof WAN_SERVICE_TYPES)[number];
  /** Absolute http:// URL on the gateway. */
  controlUrl: string;
}

export interface UpnpOptions {
  gateway: string;
  /** This host's address towards the gateway: outgoing interface of the multicast fallback. */
  localAddress?: string;
  /** Total time, ms. Default 3000. */
  timeoutMs?: number;
  /** Start the multicast fallback when unicast got no answer after this long, ms. Default 500. */
  multicastAfterMs?: number;
  /** Services found earlier for this gateway (skip discovery). */
  known?: UpnpService[];
  signal?: AbortSignal;
}

export interface UpnpAnswer {
  address: string;
  service: UpnpService;
  /** All WAN services of the gateway, to pass as `known` next time. */
  services: UpnpService[];
  ms: number;
}

const locationSchema = z.url({ protocol: /^http$/ }).max(1024);

const serviceSchema = z.object({
  serviceType: z.enum(WAN_SERVICE_TYPES),
  controlURL: z.string().trim().min(1).max(1024),
});

const soapAnswerSchema = z.object({ NewExternalIPAddress: z.string().trim().max(64) });

/** The M-SEARCH datagram; unicast searches name the gateway in HOST and carry no MX. */
export function msearch(st: string, host: string): Buffer {
  const multicast = host === `${SSDP_GROUP}:${SSDP_PORT}`;
  return Buffer.from(
    [
      'M-SEARCH * HTTP/1.1',
      `HOST: ${host}`,
      'MAN: "ssdp:discover"',
      ...(multicast ? ['MX: 1'] : []),
      `ST: ${st}`,
      `USER-AGENT: ${USER_AGENT} UPnP/1.1`,
      '',
      '',
    ].join('\r\n'),
  );
}

/** The LOCATION of an SSDP search answer ("HTTP/1.1 200 OK" + headers); null when it is not one. */
export function parseSsdpAnswer(msg: Buffer): { location: string; st?: string; server?: string } | null {
  const text = msg.subarray(0, 4096).toString('latin1');
  const lines = text.split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200\b/i.test(lines[0] ?? '')) return null;
  const h: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  if (!h.location) return null;
  return { location: h.location, st: h.st, server: h.server };
}

/** Find the router's description URL with SSDP (see the contract above). */
export function ssdpDiscover(o: UpnpOptions & { timeoutMs: number }): Promise<{ location: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const started = performance.now();
    const timers: NodeJS.Timeout[] = [];
    let over = false;
    let seenElsewhere = '';
    const finish = (err: Error | null, location?: string) => {
      if (over) return;
      over = true;
      timers.forEach(clearTimeout);
      o.signal?.removeEventListener('abort', onAbort);
      const ms = Math.round(performance.now() - started);
      const settle = () => (err ? reject(err) : resolve({ location: location!, ms }));
      try {
        socket.close(settle);
      } catch {
        settle();
      }
    };
    const onAbort = () => finish(transient(say('ip.upnp_cancelled', 'UPnP search was cancelled'), { code: 'aborted' }));
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });

    const sendAll = (host: string, port: number, label: string) => {
      for (const st of SEARCH_TARGETS) {
        socket.send(msearch(st, label), port, host, () => {
          /* a failed send is retried on the next round; the deadline reports silence */
        });
      }
    };
    const schedule = (host: string, port: number, label: string, first: number) => {
      let wait = 250;
      const round = () => {
        if (over) return;
        sendAll(host, port, label);
        timers.push(setTimeout(round, wait));
        wait *= 2;
      };
      timers.push(setTimeout(round, first));
    };

    socket.on('error', (e) =>
      finish(
        transient(say('ip.upnp_failed', 'UPnP search failed: __reason__', { reason: e.message }), {
          code: (e as NodeJS.ErrnoException).code ?? 'network',
        }),
      ),
    );
    socket.on('message', (msg, from) => {
      if (over) return;
      const a = parseSsdpAnswer(msg);
      if (!a) return;
      if (from.address !== o.gateway) {
        seenElsewhere = from.address;
        return;
      }
      const loc = locationSchema.safeParse(a.location);
      if (!loc.success || new URL(loc.data).hostname !== o.gateway) {
        return finish(
          transient(
            say(
              'ip.upnp_bad_location',
              'the router at __gateway__ gave an unusable UPnP description address (__location__); only http:// addresses on the router itself are accepted',
              { gateway: o.gateway, location: excerpt(a.location, undefined, 80) },
            ),
            { code: 'upnp_bad_location' },
          ),
        );
      }
      finish(null, loc.data);
    });
    timers.push(
      setTimeout(() => {
        const other = seenElsewhere
          ? say('ip.upnp_other_device', ' (a UPnP device at __address__ answered, but it is not the router)', {
              address: seenElsewhere,
            })
          : '';
        finish(
          transient(
            say(
              'ip.upnp_timeout',
              "the router at __gateway__ did not answer the UPnP search within __ms__ ms__other__; UPnP may be switched off in the router's settings",
              { gateway: o.gateway, ms: o.timeoutMs, other },
            ),
            { code: 'router_timeout' },
          ),
        );
      }, o.timeoutMs),
    );
    socket.bind({ port: 0, address: o.localAddress }, () => {
      if (over) return;
      if (o.localAddress) {
        try {
          socket.setMulticastInterface(o.localAddress);
          socket.setMulticastTTL(2);
        } catch {
          /* unicast still works */
        }
      }
      schedule(o.gateway, SSDP_PORT, `${o.gateway}:${SSDP_PORT}`, 0);
      schedule(SSDP_GROUP, SSDP_PORT, `${SSDP_GROUP}:${SSDP_PORT}`, Math.max(0, o.multicastAfterMs ?? 500));
    });
  });
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decode the five predefined entities and numeric references (nothing else is expanded). */
export function xmlText(s: string): string {
  const cdata = /^\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*$/.exec(s);
  if (cdata) return cdata[1];
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m;
    }
    return XML_ENTITIES[e.toLowerCase()] ?? m;
  });
}

const PREFIX = '(?:[A-Za-z_][\\w.-]*:)?';

/**
 * The inner text of each <tag>…</tag> (any namespace prefix) in `xml`, in order; `<tag/>` gives
 * ''. Linear in the size of the text whatever it holds (an opening tag without its closing tag
 * ends the scan), so a hostile description cannot make it slow.
 */
export function* elements(xml: string, tag: string): Generator<string> {
  const open = new RegExp(`<${PREFIX}${tag}(?=[\\s/>])`, 'g');
  const close = new RegExp(`</${PREFIX}${tag}\\s*>`, 'g');
  let from = 0;
  for (;;) {
    open.lastIndex = from;
    const o = open.exec(xml);
    if (!o) return;
    const gt = xml.indexOf('>', o.index);
    if (gt < 0) return;
    if (xml[gt - 1] === '/') {
      yield '';
      from = gt + 1;
      continue;
    }
    close.lastIndex = gt + 1;
    const c = close.exec(xml);
    if (!c) return;
    yield xml.slice(gt + 1, c.index);
    from = c.index + c[0].length;
  }
}

/** The decoded, trimmed text of the first <tag> inside `xml`; undefined when absent. */
export function firstElementText(xml: string, tag: string): string | undefined {
  for (const inner of elements(xml, tag)) return xmlText(inner).trim();
  return undefined;
}

/** `s` without every part from `start` to `end` (an unclosed part runs to the end). */
function cut(s: string, start: string, end: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const a = s.indexOf(start, i);
    if (a < 0) return out + s.slice(i);
    out += s.slice(i, a);
    const b = s.indexOf(end, a + start.length);
    if (b < 0) return out;
    i = b + end.length;
  }
}

/** Remove comments, processing instructions and a DOCTYPE (with its internal subset) before scanning. */
function cleanXml(xml: string): string {
  let doc = cut(cut(xml, '<!--', '-->'), '<?', '?>');
  const d = /<!DOCTYPE/i.exec(doc);
  if (d) {
    const gt = doc.indexOf('>', d.index);
    const bracket = doc.indexOf('[', d.index);
    const end = bracket >= 0 && (gt < 0 || bracket < gt) ? doc.indexOf(']>', bracket) + 1 : gt;
    doc = end > 0 ? doc.slice(0, d.index) + doc.slice(end + 1) : doc.slice(0, d.index);
  }
  return doc;
}

/**
 * The WAN connection services of a device description, in order of preference, with control URLs
 * resolved against URLBase (UPnP 1.0) or the description's own URL. Services whose control URL
 * is not http:// on `gateway` are left out.
 */
export function parseDescription(xml: string, location: string, gateway: string): UpnpService[] {
  const doc = cleanXml(xml);
  const base = firstElementText(doc, 'URLBase') || location;
  const found: UpnpService[] = [];
  let n = 0;
  for (const block of elements(doc, 'service')) {
    if (n++ >= MAX_SERVICES) break;
    const parsed = serviceSchema.safeParse({
      serviceType: firstElementText(block, 'serviceType'),
      controlURL: firstElementText(block, 'controlURL'),
    });
    if (!parsed.success) continue;
    let url: URL;
    try {
      url = new URL(parsed.data.controlURL, base);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' || url.hostname !== gateway) continue;
    found.push({ serviceType: parsed.data.serviceType, controlUrl: url.toString() });
  }
  const rank = (s: UpnpService) => WAN_SERVICE_TYPES.indexOf(s.serviceType);
  return found.sort((a, b) => rank(a) - rank(b));
}

/** GET the description and list its WAN services. */
export async function fetchServices(location: string, o: UpnpOptions & { timeoutMs: number }): Promise<UpnpService[]> {
  const res = await httpRequest({
    url: location,
    timeoutMs: o.timeoutMs,
    maxBodyBytes: DESCRIPTION_CAP,
    noProxy: true,
    family: 4,
    signal: o.signal,
  });
  if (res.status !== 200) {
    throw transient(
      say('ip.upnp_description_status', "the router's UPnP description (__location__) answered HTTP __status__", {
        location,
        status: res.status,
      }),
      { code: `http_${res.status}`, detail: excerpt(res.body) },
    );
  }
  const services = parseDescription(res.body, location, o.gateway);
  if (!services.length) {
    throw transient(
      say(
        'ip.upnp_no_wan_service',
        'the router at __gateway__ speaks UPnP but offers no internet connection service (WANIPConnection or WANPPPConnection)',
        { gateway: o.gateway },
      ),
      { code: 'upnp_no_wan_service' },
    );
  }
  return services;
}

/** One SOAP GetExternalIPAddress; resolves with the (possibly empty) address text. */
export async function soapGetExternalIp(
  service: UpnpService,
  o: { timeoutMs: number; signal?: AbortSignal },
): Promise<string> {
  const body =
    '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:GetExternalIPAddress xmlns:u="${service.serviceType}"></u:GetExternalIPAddress></s:Body></s:Envelope>\r\n`;
  const res = await httpRequest({
    url: service.controlUrl,
    method: 'POST',
    body,
    headers: {
      'content-type': 'text/xml; charset="utf-8"',
      soapaction: `"${service.serviceType}#GetExternalIPAddress"`,
    },
    timeoutMs: o.timeoutMs,
    maxBodyBytes: SOAP_CAP,
    noProxy: true,
    family: 4,
    signal: o.signal,
  });
  const doc = cleanXml(res.body);
  if (res.status !== 200) {
    const code = firstElementText(doc, 'errorCode');
    const desc = firstElementText(doc, 'errorDescription');
    const what = code
      ? `UPnP error ${excerpt(code, undefined, 10)}${desc ? ` (${excerpt(desc, undefined, 80)})` : ''}`
      : `HTTP ${res.status}`;
    throw transient(say('ip.upnp_refused', 'the router refused GetExternalIPAddress: __what__', { what }), {
      code: code && /^\d+$/.test(code) ? `upnp_${code}` : `http_${res.status}`,
      detail: excerpt(res.body),
    });
  }
  const parsed = soapAnswerSchema.safeParse({ NewExternalIPAddress: firstElementText(doc, 'NewExternalIPAddress') });
  if (!parsed.success) {
    throw transient(
      say(
        'ip.upnp_bad_answer',
        "the router's GetExternalIPAddress answer has no usable NewExternalIPAddress (__answer__)",
        { answer: excerpt(res.body, undefined, 80) },
      ),
      { code: 'upnp_bad_answer' },
    );
  }
  return parsed.data.NewExternalIPAddress;
}

/** The external address over UPnP IGD (see the contract above). */
export async function upnpExternalAddress(o: UpnpOptions): Promise<UpnpAnswer> {
  const started = performance.now();
  const total = o.timeoutMs ?? 3000;
  const left = () => Math.max(1, Math.round(total - (performance.now() - started)));
  let services = o.known;
  if (!services?.length) {
    const { location } = await ssdpDiscover({ ...o, timeoutMs: left() });
    services = await fetchServices(location, { ...o, timeoutMs: left() });
  }
  const empty: string[] = [];
  let firstOther: { address: string; service: UpnpService } | undefined;
  let lastError: unknown;
  for (const service of services) {
    let text: string;
    try {
      text = await soapGetExternalIp(service, { timeoutMs: left(), signal: o.signal });
    } catch (e) {
      lastError = e;
      continue;
    }
    if (!text) {
      empty.push(service.serviceType.split(':').slice(-2).join(':'));
      continue;
    }
    // A router with a PPP and an IP connection service answers on the one in use: prefer an
    // address that looks public, otherwise report the first one given.
    if (classify(text).class === 'public') {
      return { address: text, service, services, ms: Math.round(performance.now() - started) };
    }
    firstOther ??= { address: text, service };
  }
  if (firstOther) return { ...firstOther, services, ms: Math.round(performance.now() - started) };
  if (empty.length) {
    throw new RouterNoPublicError(
      'upnp',
      o.gateway,
      `UPnP GetExternalIPAddress answered an empty address (${empty.join(', ')})`,
      say(
        'ip.upnp_no_public',
        'the router at __gateway__ says it has no public address (UPnP answered an empty external address): your provider probably uses carrier-grade NAT (CGNAT), there is another router in front of it, or its internet connection is down',
        { gateway: o.gateway },
      ),
    );
  }
  throw (
    lastError ??
    transient(
      say('ip.upnp_no_address', 'the router at __gateway__ gave no address over UPnP', { gateway: o.gateway }),
      {
        code: 'upnp_bad_answer',
      },
    )
  );
}
