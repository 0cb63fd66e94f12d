/**
 * Fuzzing every what's-my-IP parser: whatever a service answers, a source returns an answer (the
 * raw text, validated by the detector) or throws a DdnsError, and the detector turns it into a
 * result; never a crash.
 * - pure: `parseTrace` (Cloudflare trace), `pick` (custom JSON path), `regexProblem` and
 *   `boundedMatcher` (custom regex), `parseIf6Flags` (interface source), and the router and
 *   interface parsers (NAT-PMP, PCP, announcements, SSDP, UPnP descriptions, /proc/net/route,
 *   `ip monitor` lines);
 * - through a loopback HTTP server: the plain-text sources, Cloudflare trace, the custom URL
 *   source (text, JSON, regex), and `detect` over them;
 * - through a loopback DNS server: the DNS sources (OpenDNS A/AAAA, Google TXT).
 */
import { after, before, test } from '../../support/suite';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as dnsPacket from 'dns-packet';
import { acceptAddress, type Family } from '../../../src/core/address';
import { closeHttpPools } from '../../../src/core/http';
import { Redactor } from '../../../src/core/redact';
import { detect } from '../../../src/core/ip/detector';
import {
  parseTrace,
  cloudflareTraceSource,
  customUrlSource,
  dnsSource,
  plainTextSource,
} from '../../../src/core/ip/sources';
import { boundedMatcher, pick, regexProblem } from '../../../src/core/ip/sources/custom-url';
import { parseIf6Flags } from '../../../src/core/ip/sources/interface';
import { parseAnnouncement } from '../../../src/core/ip/router/announcements';
import { parseProcNetRoute } from '../../../src/core/ip/router/gateway';
import { parseNatPmp } from '../../../src/core/ip/router/natpmp';
import { parsePcpMapResponse } from '../../../src/core/ip/router/pcp';
import { firstElementText, parseDescription, parseSsdpAnswer } from '../../../src/core/ip/router/upnp';
import { parseMonitorLine } from '../../../src/core/ip/iface-events';
import type { IpSource } from '../../../src/core/ip/types';
import { addressLike, anyText, fuzz, outcome, outcomeSync, printTally, wordy } from './fuzz';
import { httpAnswer, startAnswering, startRawDns, type AnsweringServer, type RawDnsServer } from './wire';

let srv: AnsweringServer;
let dns: RawDnsServer;
before(async () => {
  srv = await startAnswering();
  dns = await startRawDns();
});
after(async () => {
  await srv.close();
  await dns.close();
  await closeHttpPools();
  printTally('ip-sources');
});

const redactor = new Redactor(['s3cret-token']);
const family = fc.constantFrom<Family>('ipv4', 'ipv6');

/** What the detector does with a source's answer: accept it or say why not. */
function judge(address: string, f: Family): void {
  assert.equal(typeof address, 'string');
  const a = acceptAddress(address, f);
  assert.equal(typeof (a.ok ? a.address : a.reason), 'string');
}

// ---------------------------------------------------------------------------------------------
// Pure parsers

const traceBody = fc.oneof(
  fc
    .tuple(
      fc.array(
        fc.oneof(
          fc
            .tuple(fc.constantFrom('ip', ' ip', 'IP', 'fl', 'h', 'ts', 'warp', ''), addressLike)
            .map(([k, v]) => `${k}=${v}`),
          anyText(30),
        ),
        { maxLength: 8 },
      ),
      fc.constantFrom('\n', '\r\n'),
    )
    .map(([lines, eol]) => lines.join(eol)),
  anyText(300),
);

test('Cloudflare trace: parseTrace on any body', async () => {
  await fuzz(
    'ip parseTrace',
    fc.property(traceBody, family, (body, f) => {
      const ip = parseTrace(body);
      if (ip !== null) judge(ip, f);
    }),
    { runs: 1500 },
  );
});

const jsonPath = fc.oneof(
  fc.constantFrom(
    'ip',
    'data.ip',
    'items.0.ip',
    'a[0].b',
    '',
    '.',
    '..',
    '__proto__',
    'constructor.name',
    'a.__proto__.b',
    'toString',
  ),
  fc.stringMatching(/^[a-z0-9_.[\]]{0,20}$/),
  anyText(20),
);

test('custom JSON source: pick on any JSON and any path', async () => {
  await fuzz(
    'ip pick',
    fc.property(fc.jsonValue(), jsonPath, (doc, path) => {
      pick(doc, path);
      pick(JSON.parse(JSON.stringify({ ip: doc, data: { ip: doc } }) ?? 'null'), path);
    }),
    { runs: 1500 },
  );
});

const patterns = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '(\\d+\\.\\d+\\.\\d+\\.\\d+)',
      'ip=(\\S+)',
      'Current IP Address: ([\\d.]+)',
      '([0-9a-f:]+)',
      '^(.*)$',
      '()',
      '(?<ip>[\\d.]+)',
      '\\b',
      '(x)?',
    ),
  },
  { weight: 3, arbitrary: anyText(15) },
  { weight: 1, arbitrary: fc.constantFrom('^(a+)+$', '(a|a)*b', '(.*a){12}') },
);

test('custom regex source: regexProblem on any pattern, boundedMatcher on any body', async () => {
  await fuzz(
    'ip custom regex',
    fc.property(patterns, fc.oneof(anyText(300), fc.constant(`${'a'.repeat(40)}!`)), family, (pattern, body, f) => {
      const problem = regexProblem(pattern);
      const r = outcomeSync(() => boundedMatcher(pattern, 50));
      assert.equal(r.ok, problem === undefined);
      if (!r.ok) return;
      const m = outcomeSync(() => r.value(body));
      if (m.ok && m.value !== null) judge(m.value, f);
    }),
    { runs: 600, timeoutMs: 10_000 },
  );
});

// Router and interface answers: NAT-PMP, PCP, announcements, SSDP, UPnP descriptions, /proc files, ip monitor.
const datagram = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc
    .tuple(fc.constantFrom(0, 2), fc.constantFrom(128, 0x81, 0x80, 1), fc.uint8Array({ minLength: 6, maxLength: 70 }))
    .map(([v, op, rest]) => Uint8Array.from([v, op, ...rest])),
);
const xmlish = fc.oneof(
  wordy([
    '<service>',
    '</service>',
    '<serviceType>',
    '</serviceType>',
    '<controlURL>',
    '</controlURL>',
    '<URLBase>',
    '</URLBase>',
    'urn:schemas-upnp-org:service:WANIPConnection:1',
    '/ctl/IPConn',
    'http://192.168.1.1:5000/',
    '<!--',
    '-->',
    '<?xml',
    '?>',
    '<!DOCTYPE x [',
    ']>',
    '&amp;',
    '&#x110000;',
    '&#0;',
    '<![CDATA[',
    ']]>',
    '<s:service/>',
  ]),
  anyText(300),
);

test('router and interface parsers (NAT-PMP, PCP, announcements, SSDP, UPnP, /proc, ip monitor) on any input', async () => {
  await fuzz(
    'ip router/interface parsers',
    fc.property(datagram, xmlish, anyText(200), (d, xml, text) => {
      const b = Buffer.from(d);
      parseNatPmp(b);
      parsePcpMapResponse(b);
      parseAnnouncement(b);
      parseSsdpAnswer(Buffer.from(`HTTP/1.1 200 OK\r\n${text}\r\nLOCATION: ${xml}\r\n\r\n`));
      parseSsdpAnswer(b);
      for (const svc of parseDescription(xml, 'http://192.168.1.1:5000/desc.xml', '192.168.1.1'))
        assert.equal(typeof svc.controlUrl, 'string');
      firstElementText(xml, 'controlURL');
      parseIf6Flags(text);
      parseIf6Flags(`${'0'.repeat(31)}1 01 80 10 80       ${text}\n${text}`);
      parseProcNetRoute(`Iface\tDestination\n${text}\neth0\t${text}`);
      parseMonitorLine(text);
      parseMonitorLine(`Deleted 3: eth0    inet6 ${text}`);
    }),
    { runs: 1500 },
  );
});

// ---------------------------------------------------------------------------------------------
// Through HTTP

const ipBody = fc.oneof(
  addressLike.map((a) => a),
  fc
    .tuple(fc.constantFrom(' ', '\n', '\r\n', '\uFEFF', ''), addressLike, fc.constantFrom('', '\n', ' x'))
    .map((p) => p.join('')),
  traceBody,
  fc.jsonValue().map((v) => JSON.stringify({ ip: v, data: { ip: v } })),
  fc.record({ ip: addressLike, data: fc.record({ ip: addressLike }) }).map((v) => JSON.stringify(v)),
  wordy(['<html>', '<title>', 'Current IP Address:', 'ip=', '{"ip":', '}']),
  anyText(300),
);

const httpSource = fc.oneof(
  fc
    .constantFrom('ipify' as const, 'icanhazip' as const, 'aws' as const)
    .map((p) => ({ kind: 'plain' as const, preset: p })),
  fc.constant({ kind: 'trace' as const }),
  fc.record({
    kind: fc.constant('custom' as const),
    format: fc.constantFrom('text' as const, 'json' as const, 'regex' as const),
    jsonPath,
    regex: patterns.filter((p) => regexProblem(p) === undefined && !/\(a\+\)\+|\(a\|a\)|\{12\}/.test(p)),
  }),
);

function makeSource(s: typeof httpSource extends fc.Arbitrary<infer T> ? T : never, url: string): IpSource {
  const endpoints = { ipv4: url, ipv6: url };
  if (s.kind === 'plain') return plainTextSource(s.preset, endpoints);
  if (s.kind === 'trace') return cloudflareTraceSource(endpoints);
  return customUrlSource({ url, format: s.format, jsonPath: s.jsonPath, regex: s.regex, family: 'any' });
}

test('HTTP address sources (plain, trace, custom) and detect: any answer gives an answer or a DdnsError', async () => {
  await fuzz(
    'ip sources (HTTP)',
    fc.asyncProperty(httpSource, httpAnswer(ipBody), fc.boolean(), async (s, a, viaDetector) => {
      srv.answer(a);
      const source = makeSource(s, `${srv.url}/ip?token=s3cret-token`);
      if (viaDetector) {
        const r = await outcome(() =>
          detect('ipv4', { sources: [source], policy: 'first', timeoutMs: 2000, redactor }),
        );
        if (r.ok) {
          assert.ok(r.value.address === null || typeof r.value.address === 'string');
          for (const rep of r.value.reports)
            assert.ok(!/TypeError|RangeError|Cannot read prop/.test(rep.error ?? ''), rep.error);
        }
        return;
      }
      const ac = new AbortController();
      const r = await outcome(() => source.lookup({ family: 'ipv4', signal: ac.signal, timeoutMs: 2000, redactor }));
      if (r.ok) judge(r.value.address, 'ipv4');
    }),
    { runs: 400 },
  );
});

// ---------------------------------------------------------------------------------------------
// Through DNS

const ttl = fc.integer({ min: 0, max: 0xffffffff });
const dnsRecord = fc.oneof(
  fc.record({
    type: fc.constant('A' as const),
    name: fc.constantFrom('myip.opendns.com', 'MYIP.OpenDNS.com.', 'other.com'),
    ttl,
    data: fc.ipV4(),
  }),
  fc.record({
    type: fc.constant('AAAA' as const),
    name: fc.constantFrom('myip.opendns.com', 'x.com'),
    ttl,
    data: fc.ipV6(),
  }),
  fc.record({
    type: fc.constant('TXT' as const),
    name: fc.constantFrom('o-o.myaddr.l.google.com', 'O-O.myaddr.l.google.com', 'x.com'),
    ttl,
    data: fc.oneof(
      addressLike,
      fc.constant('edns0-client-subnet 1.2.3.0/24'),
      fc.array(fc.oneof(addressLike, anyText(20)), { maxLength: 3 }),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    ),
  }),
  fc.record({
    type: fc.constant('CNAME' as const),
    name: fc.constantFrom('myip.opendns.com', 'o-o.myaddr.l.google.com'),
    ttl,
    data: fc.domain(),
  }),
) as fc.Arbitrary<dnsPacket.Answer>;

test('DNS address sources (OpenDNS, Google): any answer gives an answer or a DdnsError', async () => {
  await fuzz(
    'ip sources (DNS)',
    fc.asyncProperty(
      fc.constantFrom('opendns' as const, 'google-dns' as const),
      family,
      fc.array(dnsRecord, { maxLength: 4 }),
      fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 12, maxLength: 80 }) },
      ),
      async (preset, f, answers, rcode, raw) => {
        dns.reply = (q) => {
          const out = raw ? Buffer.from(raw) : encodeAnswer(answers, rcode);
          q.copy(out, 0, 0, 2);
          return out;
        };
        const at = `${dns.host}:${dns.port}`;
        const source = dnsSource(preset, { ipv4: at, ipv6: at });
        const ac = new AbortController();
        // The server listens on IPv4 only: an IPv6 lookup asks it too (the family is the source's label here).
        const r = await outcome(() => source.lookup({ family: f, signal: ac.signal, timeoutMs: 400 }));
        if (r.ok) judge(r.value.address, f);
      },
    ),
    { runs: 400 },
  );
});

function encodeAnswer(answers: dnsPacket.Answer[], rcode: number): Buffer {
  try {
    return dnsPacket.encode({ type: 'response', id: 0, flags: 0x8400 | rcode, questions: [], answers });
  } catch {
    return Buffer.alloc(12);
  }
}
