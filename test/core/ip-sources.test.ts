/**
 * The address sources against local servers (HTTP on 127.0.0.1 and ::1, DNS over UDP on both):
 * what each one sends, how it reads the answer, and the clear errors when the answer is unusable.
 * Answer formats follow the services' own behaviour:
 * - ipify: https://www.ipify.org/ (plain text address)
 * - icanhazip: https://major.io/p/a-new-future-for-icanhazip/ (address and a newline)
 * - Cloudflare trace: https://www.cloudflare.com/cdn-cgi/trace (`key=value` lines, `ip=`)
 * - OpenDNS: `dig myip.opendns.com @resolver1.opendns.com` (A / AAAA of the asker)
 * - Google: `dig TXT o-o.myaddr.l.google.com @ns1.google.com` (TXT with the asker's address)
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import type os from 'node:os';
import { closeHttpPools } from '../../src/core/http';
import type { DdnsError } from '../../src/core/errors';
import type { Family } from '../../src/core/address';
import type { SourceContext } from '../../src/core/ip/types';
import {
  DEFAULT_SOURCES,
  SOURCE_CATALOG,
  buildSource,
  interfaceSource,
  parseIf6Flags,
  parseTrace,
  sourceConfigSchema,
  type SourceConfig,
} from '../../src/core/ip/sources';
import { pick } from '../../src/core/ip/sources/custom-url';
import { startServer, text, json, type TestServer } from '../support/http-server';
import { startDnsServer, type TestDnsServer } from '../support/dns-server';

const V4 = '8.8.8.8';
const V6 = '2001:4860:4860::8888';

let http4: TestServer;
let http6: TestServer;
let dns4: TestDnsServer;
let dns6: TestDnsServer;

/** Both HTTP servers answer by path; the address returned is the one of the server's family. */
function routes(v6: boolean) {
  const me = v6 ? V6 : V4;
  return (req: { path: string }, res: import('node:http').ServerResponse) => {
    switch (req.path) {
      case '/plain':
        return text(res, `  \n${me}\r\n \t`);
      case '/trace':
        return text(
          res,
          `fl=29f1\nh=1.1.1.1\nip=${me}\nts=1700000000.1\nvisit_scheme=https\nuag=x\ncolo=FRA\nhttp=http/1.1\nloc=DE\ntls=TLSv1.3\nsni=off\nwarp=off\ngateway=off\n`,
        );
      case '/trace-no-ip':
        return text(res, 'fl=29f1\nh=1.1.1.1\n');
      case '/json':
        return json(res, { data: { ip: me, list: [{ addr: me }] } });
      case '/json-number':
        return json(res, { data: { ip: 42 } });
      case '/regex':
        return text(res, `<html><body>Your WAN address: <b>${me}</b> (up 3 days)</body></html>`);
      case '/html':
        return text(
          res,
          '<!DOCTYPE html><html><head><title>Sign in to the hotel Wi-Fi</title></head><body>…</body></html>',
          200,
          { 'content-type': 'text/html' },
        );
      case '/big':
        return text(res, 'x'.repeat(1024 * 1024));
      case '/busy':
        return text(res, 'Service Unavailable', 503);
      case '/silent':
        return; // never answers
      default:
        return text(res, 'not found', 404);
    }
  };
}

const ctx = (family: Family, timeoutMs = 3000): SourceContext => ({
  family,
  timeoutMs,
  signal: new AbortController().signal,
});

before(async () => {
  http4 = await startServer(routes(false), '127.0.0.1');
  http6 = await startServer(routes(true), '::1');
  const dnsHandler = (v6: boolean) => (q: { name: string; type: string }) => {
    const me = v6 ? V6 : V4;
    if (q.name === 'myip.opendns.com' && q.type === 'A')
      return [{ type: 'A' as const, name: q.name, ttl: 0, data: V4 }];
    if (q.name === 'myip.opendns.com' && q.type === 'AAAA')
      return [{ type: 'AAAA' as const, name: q.name, ttl: 0, data: V6 }];
    if (q.name === 'o-o.myaddr.l.google.com' && q.type === 'TXT') {
      return [
        { type: 'TXT' as const, name: q.name, ttl: 60, data: ['edns0-client-subnet 8.8.0.0/24'] },
        { type: 'TXT' as const, name: q.name, ttl: 60, data: [me] },
      ];
    }
    return { rcode: 'NXDOMAIN' as const, answers: [] };
  };
  dns4 = await startDnsServer(dnsHandler(false), '127.0.0.1');
  dns6 = await startDnsServer(dnsHandler(true), '::1');
});

after(async () => {
  await Promise.all([http4?.close(), http6?.close(), dns4?.close(), dns6?.close()]);
  await closeHttpPools();
});

const build = (cfg: unknown) => buildSource(sourceConfigSchema.parse(cfg));

describe('settings', () => {
  test('defaults, catalog and empty editor fields', () => {
    for (const d of DEFAULT_SOURCES) assert.deepEqual(sourceConfigSchema.parse(d), d);
    assert.deepEqual(
      DEFAULT_SOURCES.map((d) => d.type),
      ['cloudflare-trace', 'ipify', 'icanhazip', 'opendns'],
    );
    const types = SOURCE_CATALOG.map((c) => c.type).sort();
    assert.deepEqual(types, [
      'aws',
      'cloudflare-trace',
      'custom',
      'google-dns',
      'icanhazip',
      'interface',
      'ipify',
      'opendns',
      'router',
      'router-push',
    ]);
    assert.deepEqual(SOURCE_CATALOG.find((c) => c.type === 'aws')!.families, ['ipv4']);
    assert.equal(
      SOURCE_CATALOG.find((c) => c.type === 'cloudflare-trace')!.endpoints.ipv6,
      'https://[2606:4700:4700::1111]/cdn-cgi/trace',
    );
    // the editor stores "" for untouched fields: they mean "not set"
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v));
    assert.deepEqual(plain(sourceConfigSchema.parse({ type: 'ipify', urlV4: '', urlV6: ' ' })), { type: 'ipify' });
    assert.deepEqual(
      plain(sourceConfigSchema.parse({ type: 'custom', url: 'https://router.lan/status', jsonPath: '' })),
      {
        type: 'custom',
        url: 'https://router.lan/status',
        format: 'text',
      },
    );
  });

  test('bad settings are refused with a reason', () => {
    const issues = (cfg: unknown) => {
      const r = sourceConfigSchema.safeParse(cfg);
      assert.equal(r.success, false, JSON.stringify(cfg));
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    assert.match(issues({ type: 'whatismyip' }), /type/);
    assert.match(issues({ type: 'ipify', urlV4: 'ftp://x/' }), /urlV4: must be a full http/);
    assert.match(issues({ type: 'custom' }), /url/);
    assert.match(issues({ type: 'custom', url: 'https://x/', format: 'json' }), /jsonPath: a JSON path/);
    assert.match(
      issues({ type: 'custom', url: 'https://x/', format: 'regex', regex: '([' }),
      /regex: is not a valid regular expression/,
    );
    assert.match(issues({ type: 'opendns', serverV4: '2620:119:35::35' }), /serverV4: must be an IPv4 address/);
    assert.match(issues({ type: 'opendns', serverV6: 'resolver1.opendns.com' }), /serverV6: must be an IPv6 address/);
    assert.match(issues({ type: 'google-dns', serverV4: '127.0.0.1:99999' }), /serverV4/);
    assert.match(issues({ type: 'interface', interface: 'eth 0' }), /no spaces/);
    assert.equal(
      sourceConfigSchema.safeParse({ type: 'opendns', serverV4: '127.0.0.1:5353', serverV6: '[::1]:5353' }).success,
      true,
    );
  });

  test('families, kinds and labels of built sources', () => {
    const all = (['ipify', 'icanhazip', 'aws', 'cloudflare-trace', 'opendns', 'google-dns', 'interface'] as const).map(
      (type) => build({ type }),
    );
    assert.deepEqual(
      all.map((s) => [s.id, s.families.join('+'), s.kind]),
      [
        ['ipify', 'ipv4+ipv6', 'external'],
        ['icanhazip', 'ipv4+ipv6', 'external'],
        ['aws', 'ipv4', 'external'],
        ['cloudflare-trace', 'ipv4+ipv6', 'external'],
        ['opendns', 'ipv4+ipv6', 'external'],
        ['google-dns', 'ipv4+ipv6', 'external'],
        ['interface', 'ipv4+ipv6', 'local'],
      ],
    );
    assert.equal(all[0].label, 'ipify (api.ipify.org, api6.ipify.org)');
    assert.equal(all[4].label, 'OpenDNS (208.67.222.222:53, [2620:119:35::35]:53)');
    assert.deepEqual(build({ type: 'custom', url: 'http://x/?token=abc', family: 'ipv6' }).families, ['ipv6']);
    // the label shows the host only, never a path or query that may hold a token
    assert.equal(build({ type: 'custom', url: 'http://x:81/u/SECRET/?token=abc' }).label, 'custom URL (x:81)');
  });
});

describe('HTTPS plain-text services', () => {
  test('each family asks its own URL over its own family; whitespace is trimmed', async () => {
    for (const type of ['ipify', 'icanhazip', 'aws'] as const) {
      const s = build({ type, urlV4: `${http4.url}/plain`, urlV6: `${http6.url}/plain` });
      assert.deepEqual(await s.lookup(ctx('ipv4')), { address: V4, info: { host: `127.0.0.1:${http4.port}` } });
      assert.equal((await s.lookup(ctx('ipv6'))).address, V6);
    }
    assert.ok(
      http4.requests.length >= 3 &&
        http4.requests.every((r) => r.remoteAddress.replace(/^::ffff:/, '') === '127.0.0.1'),
    );
    assert.ok(http6.requests.length >= 3 && http6.requests.every((r) => r.remoteAddress === '::1'));
    assert.match(String(http4.requests[0].headers['user-agent']), /node-red-contrib-ddns/);
  });

  test('an HTML page, a 1 MB body, an HTTP error, a silent server: clear errors', async () => {
    const src = (path: string) => build({ type: 'ipify', urlV4: `${http4.url}${path}` });
    await assert.rejects(src('/html').lookup(ctx('ipv4')), (e: DdnsError) => {
      assert.equal(e.code, 'html_answer');
      assert.match(
        e.message,
        /answered with a web page \(HTML page "Sign in to the hotel Wi-Fi"\) instead of an address/,
      );
      return true;
    });
    await assert.rejects(
      src('/big').lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'body_too_large' && /more than the 4096/.test(e.message),
    );
    await assert.rejects(
      src('/busy').lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'http_503' && /HTTP 503: Service Unavailable/.test(e.message),
    );
    await assert.rejects(
      src('/silent').lookup(ctx('ipv4', 300)),
      (e: DdnsError) => e.code === 'timeout' && /within 300 ms/.test(e.message),
    );
    const ac = new AbortController();
    const p = src('/silent').lookup({ ...ctx('ipv4'), signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, (e: DdnsError) => e.code === 'aborted');
  });
});

describe('Cloudflare trace', () => {
  test('the ip= line, over each family', async () => {
    const s = build({ type: 'cloudflare-trace', urlV4: `${http4.url}/trace`, urlV6: `${http6.url}/trace` });
    assert.equal((await s.lookup(ctx('ipv4'))).address, V4);
    assert.equal((await s.lookup(ctx('ipv6'))).address, V6);
    assert.equal(parseTrace('h=x\r\nip= 8.8.8.8 \r\nts=1'), '8.8.8.8');
    assert.equal(parseTrace('visit_scheme=https'), null);
    const none = build({ type: 'cloudflare-trace', urlV4: `${http4.url}/trace-no-ip` });
    await assert.rejects(
      none.lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'trace_no_ip' && /without an "ip=" line/.test(e.message),
    );
  });
});

describe('custom URL', () => {
  test('text, JSON path and regular expression', async () => {
    const c = (o: object) => build({ type: 'custom', url: `${http4.url}/plain`, ...o });
    assert.equal((await c({}).lookup(ctx('ipv4'))).address, V4);
    assert.equal(
      (await c({ url: `${http4.url}/json`, format: 'json', jsonPath: 'data.ip' }).lookup(ctx('ipv4'))).address,
      V4,
    );
    assert.equal(
      (await c({ url: `${http6.url}/json`, format: 'json', jsonPath: 'data.list[0].addr' }).lookup(ctx('ipv6')))
        .address,
      V6,
    );
    assert.equal(
      (
        await c({ url: `${http4.url}/regex`, format: 'regex', regex: 'WAN address: <b>([^<]+)</b>' }).lookup(
          ctx('ipv4'),
        )
      ).address,
      V4,
    );
    // no group: the whole match
    assert.equal(
      (await c({ url: `${http4.url}/regex`, format: 'regex', regex: '\\d+\\.\\d+\\.\\d+\\.\\d+' }).lookup(ctx('ipv4')))
        .address,
      V4,
    );
  });

  test('answers that do not fit the format', async () => {
    const c = (o: object) => build({ type: 'custom', ...o });
    await assert.rejects(
      c({ url: `${http4.url}/html`, format: 'json', jsonPath: 'ip' }).lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'not_json' && /HTML page/.test(e.message),
    );
    await assert.rejects(
      c({ url: `${http4.url}/json`, format: 'json', jsonPath: 'data.addr' }).lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'json_path_missing' && /"data.addr"/.test(e.message),
    );
    await assert.rejects(
      c({ url: `${http4.url}/json-number`, format: 'json', jsonPath: 'data.ip' }).lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'json_path_missing',
    );
    await assert.rejects(
      c({ url: `${http4.url}/plain`, format: 'regex', regex: 'WAN: (\\S+)' }).lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'regex_no_match',
    );
    await assert.rejects(
      c({ url: `${http4.url}/html` }).lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'html_answer',
    );
    await assert.rejects(
      c({ url: `${http4.url}/big`, format: 'regex', regex: 'x' }).lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'body_too_large' && /more than the 65536/.test(e.message),
    );
    assert.equal(pick({ a: { b: [1, { c: 'x' }] } }, 'a.b.1.c'), 'x');
    assert.equal(pick({ a: 1 }, 'a.toString'), undefined);
  });
});

describe('DNS-based sources', () => {
  test('OpenDNS A/AAAA and Google TXT, each family asking its own server over its own family', async () => {
    const open = build({ type: 'opendns', serverV4: dns4.address, serverV6: dns6.address });
    const google = build({ type: 'google-dns', serverV4: dns4.address, serverV6: dns6.address });
    assert.equal((await open.lookup(ctx('ipv4'))).address, V4);
    assert.equal((await open.lookup(ctx('ipv6'))).address, V6);
    assert.equal((await google.lookup(ctx('ipv4'))).address, V4);
    assert.deepEqual(await google.lookup(ctx('ipv6')), { address: V6, info: { server: dns6.address } });
    assert.deepEqual(
      dns4.queries.map((q) => [q.name, q.type, q.from, q.recursionDesired]),
      [
        ['myip.opendns.com', 'A', '127.0.0.1', true],
        ['o-o.myaddr.l.google.com', 'TXT', '127.0.0.1', false],
      ],
    );
    assert.deepEqual(
      dns6.queries.map((q) => [q.name, q.type, q.from]),
      [
        ['myip.opendns.com', 'AAAA', '::1'],
        ['o-o.myaddr.l.google.com', 'TXT', '::1'],
      ],
    );
  });

  test('an error code, an empty answer and a silent server', async () => {
    const srv = await startDnsServer(() => ({ rcode: 'REFUSED' }));
    try {
      const s = build({ type: 'opendns', serverV4: srv.address });
      await assert.rejects(
        s.lookup(ctx('ipv4')),
        (e: DdnsError) => e.code === 'dns_refused' && /answered REFUSED to myip.opendns.com A/.test(e.message),
      );
      srv.setHandler(() => []);
      await assert.rejects(
        s.lookup(ctx('ipv4')),
        (e: DdnsError) => e.code === 'dns_no_answer' && /gave no A record/.test(e.message),
      );
      srv.setHandler(() => null);
      await assert.rejects(s.lookup(ctx('ipv4', 400)), (e: DdnsError) => e.code === 'timeout');
    } finally {
      await srv.close();
    }
  });
});

describe('network interface', () => {
  const nic = (address: string, extra: Partial<os.NetworkInterfaceInfo> = {}): os.NetworkInterfaceInfo => {
    const v6 = address.includes(':');
    return (
      v6
        ? {
            address,
            netmask: 'ffff:ffff:ffff:ffff::',
            family: 'IPv6',
            mac: '02:00:00:00:00:01',
            internal: false,
            cidr: `${address}/64`,
            scopeid: 0,
            ...extra,
          }
        : {
            address,
            netmask: '255.255.255.0',
            family: 'IPv4',
            mac: '02:00:00:00:00:01',
            internal: false,
            cidr: `${address}/24`,
            ...extra,
          }
    ) as os.NetworkInterfaceInfo;
  };
  const interfaces = () => ({
    lo: [nic('127.0.0.1', { internal: true }), nic('::1', { internal: true })],
    eth0: [
      nic('192.168.1.10'),
      nic('fe80::1'),
      nic('2001:4860:4860::1234'), // temporary (privacy) address
      nic('2001:4860:4860::dead'), // deprecated
      nic('2001:4860:4860::beef'), // tentative
      nic('2001:4860:4860::bad'), // duplicate check failed
      nic('2001:4860:4860::8888'), // stable
    ],
    ppp0: [nic('8.8.4.4')],
    wwan0: [nic('100.64.7.8')],
  });
  // /proc/net/if_inet6: address, ifindex, prefix length, scope, flags, name (all hex but the name)
  const if6 =
    [
      '00000000000000000000000000000001 01 80 10 80       lo',
      'fe800000000000000000000000000001 02 40 20 80     eth0',
      '20014860486000000000000000001234 02 40 00 01     eth0',
      '2001486048600000000000000000dead 02 40 00 20     eth0',
      '2001486048600000000000000000beef 02 40 00 40     eth0',
      '20014860486000000000000000000bad 02 40 00 08     eth0',
      '20014860486000000000000000008888 02 40 00 80     eth0',
    ].join('\n') + '\n';
  const src = (
    o: {
      interface?: string;
      allowTemporary?: boolean;
      flags?: string | null;
      nics?: ReturnType<typeof interfaces>;
    } = {},
  ) =>
    interfaceSource({
      interface: o.interface,
      allowTemporary: o.allowTemporary,
      readers: {
        interfaces: () => o.nics ?? interfaces(),
        if6Flags: async () => (o.flags === undefined ? if6 : o.flags),
      },
    });

  test('the first public address of the family, on any interface or the named one', async () => {
    assert.deepEqual(await src().lookup(ctx('ipv4')), { address: '8.8.4.4', info: { interface: 'ppp0' } });
    assert.deepEqual(await src().lookup(ctx('ipv6')), { address: V6, info: { interface: 'eth0' } });
    // no public address on the named interface: the private one, so that the detector can say why
    assert.deepEqual(await src({ interface: 'eth0' }).lookup(ctx('ipv4')), {
      address: '192.168.1.10',
      info: { interface: 'eth0' },
    });
    assert.equal((await src({ interface: 'wwan0' }).lookup(ctx('ipv4'))).address, '100.64.7.8');
  });

  test('temporary, deprecated, tentative and failed IPv6 addresses are skipped', async () => {
    assert.equal((await src({ allowTemporary: true }).lookup(ctx('ipv6'))).address, '2001:4860:4860::1234');
    // without the kernel's flags (not Linux) nothing can be skipped: the first public one
    assert.equal((await src({ flags: null }).lookup(ctx('ipv6'))).address, '2001:4860:4860::1234');
    const only = { ...interfaces(), eth0: interfaces().eth0.filter((n) => !n.address.endsWith('8888')) };
    await assert.rejects(src({ nics: only, interface: 'eth0' }).lookup(ctx('ipv6')), (e: DdnsError) => {
      assert.equal(e.code, 'no_address');
      assert.match(e.message, /no usable IPv6 address on interface eth0; found only fe80::1 \(link-local\)/);
      assert.match(e.message, /2001:4860:4860::1234 on eth0 \(temporary\)/);
      assert.match(e.message, /::dead on eth0 \(deprecated\)/);
      assert.match(e.message, /::beef on eth0 \(tentative\)/);
      assert.match(e.message, /::bad on eth0 \(dadfailed\)/);
      return true;
    });
    const flags = parseIf6Flags(if6);
    assert.equal(flags.get('eth0|2001:4860:4860::1234'), 0x01);
    assert.equal(flags.get('lo|::1'), 0x80);
  });

  test('a missing interface is named with the ones that exist; the real system is readable', async () => {
    await assert.rejects(
      src({ interface: 'ppp1' }).lookup(ctx('ipv4')),
      (e: DdnsError) =>
        e.code === 'no_interface' &&
        /no network interface "ppp1" right now \(this host has: lo, eth0, ppp0, wwan0\)/.test(e.message),
    );
    // the real os.networkInterfaces() and /proc/net/if_inet6 of this machine: loopback is never usable
    const real = buildSource({ type: 'interface', interface: 'lo' } as SourceConfig);
    await assert.rejects(
      real.lookup(ctx('ipv4')),
      (e: DdnsError) => e.code === 'no_address' && /127\.0\.0\.1 \(loopback\)/.test(e.message),
    );
  });
});
