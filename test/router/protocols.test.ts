/**
 * The router protocols' wire formats and outcomes against local contract servers on 127.0.0.1
 * (no root needed), reproducing the documented answers:
 * - NAT-PMP, RFC 6886 https://www.rfc-editor.org/rfc/rfc6886 §3.2 (external address answer),
 *   §3.5 (result codes), §3.1 (retransmission 250 ms doubling);
 * - PCP, RFC 6887 https://www.rfc-editor.org/rfc/rfc6887 §7 (header), §11.1 (MAP), §15 (delete
 *   with lifetime 0), §7.4 (result codes), §9 (version negotiation);
 * - UPnP IGD WANIPConnection:2 https://upnp.org/specs/gw/UPnP-gw-WANIPConnection-v2-Service.pdf
 *   §2.5.20 (GetExternalIPAddress), UPnP Device Architecture 1.1 §1.3.3 (search answer), §2.3
 *   (device description, URLBase), §3.2.2 (SOAP fault / UPnPError).
 * Plus the parsers of /proc/net/route, `ip -o monitor address` and /proc/net/if_inet6.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type os from 'node:os';
import { closeHttpPools } from '../../src/core/http';
import {
  cgnatFromRouter,
  containerHint,
  createRouterSource,
  findGateway,
  hexToIpv4,
  interfaceWatchOptionsSchema,
  isRouterNoPublic,
  natpmpExternalAddress,
  parseAnnouncement,
  parseDescription,
  parseMonitorLine,
  parseNatPmp,
  parsePcpMapResponse,
  parseProcNetRoute,
  parseSsdpAnswer,
  pcpExternalAddress,
  pcpMapRequest,
  readInterfaceAddresses,
  routerSourceOptionsSchema,
  routerWatchOptionsSchema,
  upnpExternalAddress,
  watchInterfaces,
  watchRouter,
  type InterfaceSnapshot,
  type RouterHint,
  type UpnpService,
} from '../../src/core/ip/router';
import type { DdnsError } from '../../src/core/errors';
import { startServer, type TestServer } from '../support/http-server';
import { freePort, routerSocketOnLoopback } from '../support/ports';

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
eth0\t00000000\t FEA8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
`;

const nic = (
  address: string,
  netmask: string,
  family: 'IPv4' | 'IPv6' = 'IPv4',
  internal = false,
): os.NetworkInterfaceInfo =>
  ({
    address,
    netmask,
    family,
    internal,
    mac: '00:00:00:00:00:00',
    cidr: null,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  }) as os.NetworkInterfaceInfo;

describe('gateway', () => {
  test('little-endian hex of /proc/net/route', () => {
    assert.equal(hexToIpv4('0101A8C0'), '192.168.1.1');
    assert.equal(hexToIpv4('00000000'), '0.0.0.0');
    assert.equal(hexToIpv4('xyz'), null);
    const routes = parseProcNetRoute(ROUTE);
    assert.equal(routes.length, 3, 'the malformed line is skipped');
    assert.deepEqual(routes[2], {
      iface: 'eth0',
      destination: '0.0.0.0',
      gateway: '192.168.0.1',
      mask: '0.0.0.0',
      flags: 3,
      metric: 100,
    });
  });

  test('the default route with the lowest metric, and our address towards it', async () => {
    const g = await findGateway({
      readers: {
        routes: async () => ROUTE,
        interfaces: () => ({
          lo: [nic('127.0.0.1', '255.0.0.0', 'IPv4', true)],
          eth0: [nic('192.168.0.20', '255.255.255.0')],
          wlan0: [nic('192.168.1.30', '255.255.255.0')],
        }),
      },
    });
    assert.deepEqual(g, { address: '192.168.0.1', interface: 'eth0', localAddress: '192.168.0.20', from: 'route' });
  });

  test('set by hand: validated, and the interface found by subnet', async () => {
    const g = await findGateway({
      gateway: ' 192.168.1.1 ',
      readers: { interfaces: () => ({ wlan0: [nic('192.168.1.30', '255.255.255.0')] }) },
    });
    assert.deepEqual(g, { address: '192.168.1.1', interface: 'wlan0', localAddress: '192.168.1.30', from: 'config' });
    await assert.rejects(findGateway({ gateway: 'router.local' }), (e: DdnsError) => e.code === 'bad_gateway');
  });

  test('clear reasons when there is no router to ask', async () => {
    await assert.rejects(findGateway({ readers: { routes: async () => null } }), /no \/proc\/net\/route.*by hand/);
    await assert.rejects(
      findGateway({ readers: { routes: async () => ROUTE.split('\n').slice(0, 2).join('\n') } }),
      /no IPv4 default route/,
    );
    const ppp =
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nppp0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\n';
    await assert.rejects(
      findGateway({ readers: { routes: async () => ppp } }),
      (e: DdnsError) => e.code === 'no_gateway' && /ppp0 without a router.*network interface source/.test(e.message),
    );
  });

  test('container hint: only inside a container that has its own network', () => {
    const inDocker = { exists: (p: string) => p === '/.dockerenv', read: () => '0::/', env: {} };
    assert.match(
      containerHint('172.17.0.1', { ...inDocker, interfaces: () => ['lo', 'eth0'] }) ?? '',
      /container's virtual bridge.*--network host/,
    );
    assert.equal(
      containerHint('192.168.1.1', { ...inDocker, interfaces: () => ['lo', 'end0', 'docker0', 'hassio'] }),
      null,
      'host networking (HA add-on)',
    );
    assert.equal(
      containerHint('192.168.1.1', { exists: () => false, read: () => '0::/', env: {}, interfaces: () => ['eth0'] }),
      null,
    );
    assert.ok(
      containerHint('10.88.0.1', {
        exists: () => false,
        read: () => '',
        env: { container: 'podman' },
        interfaces: () => ['eth0'],
      }),
    );
  });
});

/** A UDP contract server on 127.0.0.1 answering through `handler`. */
async function udpServer(handler: (msg: Buffer, from: dgram.RemoteInfo, s: dgram.Socket) => void) {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m, r) => {
    got.push(m);
    handler(m, r, s);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, got, close: () => new Promise<void>((r) => s.close(() => r())) };
}

const natpmpAnswer = (result: number, epoch: number, addr = '0.0.0.0') => {
  const b = Buffer.alloc(12);
  b[0] = 0;
  b[1] = 128;
  b.writeUInt16BE(result, 2);
  b.writeUInt32BE(epoch, 4);
  addr.split('.').forEach((o, i) => (b[8 + i] = Number(o)));
  return b;
};

describe('NAT-PMP (RFC 6886) against a local server', () => {
  test('the 2-byte request, the 12-byte answer', async () => {
    const srv = await udpServer((m, r, s) => s.send(natpmpAnswer(0, 4242, '93.184.216.34'), r.port, r.address));
    try {
      const a = await natpmpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 2000 });
      assert.equal(a.address, '93.184.216.34');
      assert.equal(a.epoch, 4242);
      assert.deepEqual([...srv.got[0]], [0, 0]);
    } finally {
      await srv.close();
    }
  });

  test('retransmits (250 ms, doubling) until answered', async () => {
    let n = 0;
    const srv = await udpServer((m, r, s) => {
      if (++n === 3) s.send(natpmpAnswer(0, 1, '93.184.216.34'), r.port, r.address);
    });
    try {
      const a = await natpmpExternalAddress({
        gateway: '127.0.0.1',
        port: srv.port,
        timeoutMs: 3000,
        firstRetryMs: 50,
      });
      assert.equal(a.address, '93.184.216.34');
      assert.equal(srv.got.length, 3);
    } finally {
      await srv.close();
    }
  });

  test('answers from another port are not accepted', async () => {
    const other = dgram.createSocket('udp4');
    await new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()));
    const srv = await udpServer((m, r, s) => {
      other.send(natpmpAnswer(0, 1, '6.6.6.6'), r.port, r.address); // an impostor first
      setTimeout(() => s.send(natpmpAnswer(0, 1, '93.184.216.34'), r.port, r.address), 30);
    });
    try {
      const a = await natpmpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 2000 });
      assert.equal(a.address, '93.184.216.34');
    } finally {
      await srv.close();
      other.close();
    }
  });

  test('result codes: 3 is "no public address", 1 is "speaks PCP only", 2 refused', async () => {
    for (const [result, check] of [
      [
        3,
        (e: DdnsError) =>
          isRouterNoPublic(e) &&
          e.code === 'router_no_public' &&
          e.protocol === 'natpmp' &&
          /carrier-grade NAT/.test(e.message),
      ],
      [1, (e: DdnsError) => e.code === 'natpmp_unsupported_version'],
      [2, (e: DdnsError) => e.code === 'natpmp_refused' && /switched off/.test(e.message)],
      [4, (e: DdnsError) => e.code === 'natpmp_4' && /out of resources/.test(e.message)],
    ] as const) {
      // an error answer may be 8 bytes long (no address)
      const srv = await udpServer((m, r, s) =>
        s.send(natpmpAnswer(result, 9).subarray(0, result === 1 ? 8 : 12), r.port, r.address),
      );
      try {
        await assert.rejects(
          natpmpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 1000 }),
          check as (e: unknown) => boolean,
        );
      } finally {
        await srv.close();
      }
    }
  });

  test('nothing listening: refused at once; silence: a timeout naming the tries', async () => {
    const srv = await udpServer(() => undefined);
    const port = srv.port;
    try {
      await assert.rejects(
        natpmpExternalAddress({ gateway: '127.0.0.1', port, timeoutMs: 600, firstRetryMs: 100 }),
        (e: DdnsError) => e.code === 'router_timeout' && /within 600 ms \(\d+ tries\)/.test(e.message),
      );
    } finally {
      await srv.close();
    }
    await assert.rejects(
      natpmpExternalAddress({ gateway: '127.0.0.1', port, timeoutMs: 2000 }),
      (e: DdnsError) => e.code === 'router_refused',
    );
  });

  test('cancellation', async () => {
    const srv = await udpServer(() => undefined);
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(
        natpmpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 5000, signal: ac.signal }),
        (e: DdnsError) => e.code === 'aborted',
      );
    } finally {
      await srv.close();
    }
  });

  test('parseNatPmp', () => {
    assert.deepEqual(parseNatPmp(natpmpAnswer(0, 7, '1.2.3.4')), {
      version: 0,
      opcode: 128,
      result: 0,
      epoch: 7,
      address: '1.2.3.4',
    });
    assert.equal(parseNatPmp(Buffer.from([2, 0, 0, 0, 0, 0, 0, 0])), null);
    assert.equal(parseNatPmp(natpmpAnswer(0, 7).subarray(0, 10)), null, 'a success must carry the address');
  });
});

/** A PCP server answering MAP requests (RFC 6887 §11.1, response layout §7.2 and §11.1). */
function pcpAnswer(req: Buffer, result: number, external: string, epoch = 77): Buffer {
  const b = Buffer.alloc(60);
  b[0] = 2;
  b[1] = 0x80 | 1;
  b[3] = result;
  b.writeUInt32BE(req.readUInt32BE(4), 4);
  b.writeUInt32BE(epoch, 8);
  req.copy(b, 24, 24, 44); // nonce, protocol, reserved, internal port, suggested port
  b.writeUInt16BE(40000, 42);
  b.writeUInt16BE(0xffff, 54);
  external.split('.').forEach((o, i) => (b[56 + i] = Number(o)));
  return b;
}

describe('PCP (RFC 6887) against a local server', () => {
  test('MAP with our address and a nonce, then the same MAP with lifetime 0', async () => {
    const srv = await udpServer((m, r, s) => s.send(pcpAnswer(m, 0, '93.184.216.34'), r.port, r.address));
    try {
      const a = await pcpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 2000 });
      assert.deepEqual(
        { address: a.address, epoch: a.epoch, deleted: a.deleted },
        { address: '93.184.216.34', epoch: 77, deleted: true },
      );
      const [map, del] = srv.got;
      assert.equal(map.length, 60);
      assert.equal(map[0], 2, 'version 2');
      assert.equal(map[1], 1, 'MAP request');
      assert.ok(map.readUInt32BE(4) > 0, 'a lifetime');
      assert.equal(map.subarray(8, 24).toString('hex'), '00000000000000000000ffff7f000001', 'our address, IPv4-mapped');
      assert.equal(map[36], 17, 'UDP');
      assert.ok(map.readUInt16BE(40) > 0, 'our port');
      assert.equal(del.readUInt32BE(4), 0, 'delete: lifetime 0');
      assert.ok(del.subarray(24, 36).equals(map.subarray(24, 36)), 'delete: the same nonce');
      assert.equal(del.readUInt16BE(40), map.readUInt16BE(40), 'delete: the same internal port');
    } finally {
      await srv.close();
    }
  });

  test('an answer with another nonce is ignored', async () => {
    const srv = await udpServer((m, r, s) => {
      const wrong = pcpAnswer(m, 0, '6.6.6.6');
      wrong[24] ^= 0xff;
      s.send(wrong, r.port, r.address);
      setTimeout(() => s.send(pcpAnswer(m, 0, '93.184.216.34'), r.port, r.address), 20);
    });
    try {
      assert.equal(
        (await pcpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 2000 })).address,
        '93.184.216.34',
      );
    } finally {
      await srv.close();
    }
  });

  test('NETWORK_FAILURE is "no public address"; a NAT-PMP-only router says unsupported version', async () => {
    let srv = await udpServer((m, r, s) => s.send(pcpAnswer(m, 7, '0.0.0.0'), r.port, r.address));
    try {
      await assert.rejects(
        pcpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 1000 }),
        (e: DdnsError) => isRouterNoPublic(e) && e.protocol === 'pcp',
      );
    } finally {
      await srv.close();
    }
    srv = await udpServer((m, r, s) => s.send(natpmpAnswer(1, 0).subarray(0, 8), r.port, r.address));
    try {
      await assert.rejects(
        pcpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 1000 }),
        (e: DdnsError) => e.code === 'pcp_unsupported_version',
      );
    } finally {
      await srv.close();
    }
    srv = await udpServer((m, r, s) => s.send(pcpAnswer(m, 2, '0.0.0.0'), r.port, r.address));
    try {
      await assert.rejects(
        pcpExternalAddress({ gateway: '127.0.0.1', port: srv.port, timeoutMs: 1000 }),
        (e: DdnsError) => e.code === 'pcp_2' && /NOT_AUTHORIZED/.test(e.message),
      );
    } finally {
      await srv.close();
    }
  });

  test('request and response codecs', () => {
    const nonce = Buffer.alloc(12, 7);
    const req = pcpMapRequest({ clientAddress: '10.0.0.2', nonce, lifetime: 30, protocol: 17, internalPort: 1234 });
    const res = parsePcpMapResponse(pcpAnswer(req, 0, '203.0.113.9'));
    assert.equal(res?.externalAddress, '203.0.113.9');
    assert.equal(res?.internalPort, 1234);
    assert.ok(res?.nonce.equals(nonce));
    assert.equal(parsePcpMapResponse(req), null, 'a request is not a response');
    assert.throws(
      () => pcpMapRequest({ clientAddress: '::1', nonce, lifetime: 0, protocol: 17, internalPort: 1 }),
      /IPv4/,
    );
  });
});

const DESCRIPTION = (port: number, opts: { urlBase?: string; ipControl?: string } = {}) => `<?xml version="1.0"?>
<!DOCTYPE root [ <!ENTITY boom "boom"> ]>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  ${opts.urlBase ? `<URLBase>${opts.urlBase}</URLBase>` : ''}
  <device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
  <!-- <service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>http://evil.example/</controlURL></service> -->
  <serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/ctl/L3F</controlURL></service></serviceList>
  <deviceList><device><deviceList><device><serviceList>
    <service>
      <serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>
      <controlURL>/upnp/control/WANPPPConn1?a=1&amp;b=2</controlURL>
    </service>
    <service>
      <serviceType> urn:schemas-upnp-org:service:WANIPConnection:1 </serviceType>
      <controlURL>${opts.ipControl ?? `http://127.0.0.1:${port}/upnp/control/WANIPConn1`}</controlURL>
    </service>
    <service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>http://192.168.1.2/ctl</controlURL></service>
  </serviceList></device></deviceList></device></deviceList></device>
</root>`;

const soapOk = (addr: string) => `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>
<u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>${addr}</NewExternalIPAddress></u:GetExternalIPAddressResponse>
</s:Body></s:Envelope>`;

const soapFault = (code: number, desc: string) => `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>
<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>${desc}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`;

describe('the router source against a local NAT-PMP/PCP server', () => {
  const ctx = () => ({ family: 'ipv4' as const, signal: new AbortController().signal, timeoutMs: 4000 });
  const noContainer = { exists: () => false, read: () => '', env: {}, interfaces: () => [] };

  test('NAT-PMP "unsupported version" → PCP (when enabled), which is then remembered', async () => {
    const srv = await udpServer((m, r, s) =>
      s.send(m[0] === 0 ? natpmpAnswer(1, 0).subarray(0, 8) : pcpAnswer(m, 0, '93.184.216.34'), r.port, r.address),
    );
    try {
      const src = createRouterSource({
        gateway: '127.0.0.1',
        natpmpPort: srv.port,
        enablePcp: true,
        protocolTimeoutMs: 300,
      });
      const a = await src.lookup(ctx());
      assert.equal(a.address, '93.184.216.34');
      assert.equal(src.learned().get('127.0.0.1'), 'pcp');
      assert.equal(src.lastEvidence()?.outcome, 'public');
      srv.got.length = 0;
      await src.lookup(ctx());
      assert.equal(srv.got[0][0], 2, 'asked over PCP first the second time');
    } finally {
      await srv.close();
    }
  });

  test('without PCP enabled the same router gives a clear failure naming each protocol', async () => {
    const srv = await udpServer((m, r, s) => s.send(natpmpAnswer(1, 0).subarray(0, 8), r.port, r.address));
    try {
      const src = createRouterSource({
        gateway: '127.0.0.1',
        natpmpPort: srv.port,
        protocolTimeoutMs: 300,
        containerProbe: noContainer,
      });
      await assert.rejects(
        src.lookup(ctx()),
        (e: DdnsError) => e.code === 'router_failed' && /NAT-PMP: .*unsupported version.*; UPnP: /.test(e.message),
      );
      assert.equal(src.lastEvidence()?.outcome, 'no_answer');
      assert.ok(
        srv.got.every((m) => m[0] === 0),
        'no PCP request: it creates a mapping, so it is opt-in',
      );
    } finally {
      await srv.close();
    }
  });

  test('a CGNAT address reported with result 0 is "no public address" (or the answer, for lab use)', async () => {
    const srv = await udpServer((m, r, s) => s.send(natpmpAnswer(0, 12, '100.64.12.34'), r.port, r.address));
    try {
      const src = createRouterSource({ gateway: '127.0.0.1', natpmpPort: srv.port, protocolTimeoutMs: 300 });
      await assert.rejects(
        src.lookup(ctx()),
        (e: DdnsError) =>
          isRouterNoPublic(e) && e.routerAddress === '100.64.12.34' && /carrier-grade NAT/.test(e.message),
      );
      const ev = src.lastEvidence();
      assert.equal(ev?.outcome, 'no_public');
      assert.equal(ev?.address, '100.64.12.34');
      const c = cgnatFromRouter(ev, '93.184.216.34');
      assert.equal(c?.localClass, 'cgnat');
      assert.match(
        c?.note ?? '',
        /Your router \(127\.0\.0\.1\) holds only 100\.64\.12\.34.*outside services see 93\.184\.216\.34.*CGNAT/,
      );
      const lab = createRouterSource({ gateway: '127.0.0.1', natpmpPort: srv.port, allowNonPublic: true });
      assert.equal((await lab.lookup(ctx())).address, '100.64.12.34');
    } finally {
      await srv.close();
    }
    assert.equal(cgnatFromRouter(null, null), undefined);
  });

  test('a silent gateway inside a container: the explanation says why and what to do', async () => {
    const srv = await udpServer(() => undefined);
    try {
      const route =
        'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\n';
      const src = createRouterSource({
        natpmpPort: srv.port,
        protocolTimeoutMs: 200,
        readers: { routes: async () => route, interfaces: () => ({}) },
        containerProbe: {
          exists: (p) => p === '/.dockerenv',
          read: () => '',
          env: {},
          interfaces: () => ['lo', 'eth0'],
        },
      });
      await assert.rejects(
        src.lookup(ctx()),
        (e: DdnsError) =>
          e.code === 'router_timeout' &&
          /did not answer NAT-PMP within 200 ms.*container's virtual bridge.*--network host/.test(e.message),
      );
      assert.equal(src.lastEvidence()?.outcome, 'no_answer');
      assert.equal(src.lastEvidence()?.gateway, '127.0.0.1');
    } finally {
      await srv.close();
    }
    const none = createRouterSource({ readers: { routes: async () => null } });
    await assert.rejects(none.lookup(ctx()), (e: DdnsError) => e.code === 'no_gateway');
    assert.match(none.lastEvidence()?.note ?? '', /^Cannot find the router/);
  });

  test('IPv6 is not asked', async () => {
    const src = createRouterSource({ gateway: '127.0.0.1' });
    assert.deepEqual(src.families, ['ipv4']);
    assert.equal(src.kind, 'local');
    await assert.rejects(src.lookup({ ...ctx(), family: 'ipv6' }), (e: DdnsError) => e.code === 'family_unsupported');
  });
});

describe('UPnP IGD', () => {
  let srv: TestServer;
  let answers: Record<string, () => { status: number; body: string }>;
  before(async () => {
    srv = await startServer((req, res) => {
      const a = answers[req.path]?.() ?? { status: 404, body: 'not found' };
      res.writeHead(a.status, {
        'content-type': 'text/xml; charset="utf-8"',
        'content-length': Buffer.byteLength(a.body),
      });
      res.end(a.body);
    });
  });
  after(async () => {
    await srv.close();
    await closeHttpPools();
  });

  test('search answers: only "200 OK" with a LOCATION', () => {
    const ok = Buffer.from(
      'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLocation: http://192.168.1.1:5000/rootDesc.xml\r\nSERVER: x\r\n\r\n',
    );
    assert.equal(parseSsdpAnswer(ok)?.location, 'http://192.168.1.1:5000/rootDesc.xml');
    assert.equal(parseSsdpAnswer(Buffer.from('NOTIFY * HTTP/1.1\r\nLOCATION: http://x/\r\n\r\n')), null);
    assert.equal(parseSsdpAnswer(Buffer.from('HTTP/1.1 200 OK\r\nST: x\r\n\r\n')), null);
  });

  test('description: WAN services in order, entities decoded, comments and foreign hosts ignored, URLBase honoured', () => {
    const s = parseDescription(DESCRIPTION(5000), 'http://127.0.0.1:5000/desc.xml', '127.0.0.1');
    assert.deepEqual(s, [
      {
        serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1',
        controlUrl: 'http://127.0.0.1:5000/upnp/control/WANIPConn1',
      },
      {
        serviceType: 'urn:schemas-upnp-org:service:WANPPPConnection:1',
        controlUrl: 'http://127.0.0.1:5000/upnp/control/WANPPPConn1?a=1&b=2',
      },
    ]);
    const based = parseDescription(
      DESCRIPTION(5000, { urlBase: 'http://127.0.0.1:49000/' }),
      'http://127.0.0.1:5000/desc.xml',
      '127.0.0.1',
    );
    assert.equal(based[1].controlUrl, 'http://127.0.0.1:49000/upnp/control/WANPPPConn1?a=1&b=2');
    const elsewhere = parseDescription(
      DESCRIPTION(5000, { urlBase: 'http://10.9.9.9/' }),
      'http://127.0.0.1:5000/desc.xml',
      '127.0.0.1',
    );
    assert.deepEqual(
      elsewhere.map((x) => x.serviceType),
      ['urn:schemas-upnp-org:service:WANIPConnection:1'],
      'a URLBase on another host is not followed',
    );
  });

  test('description: hostile or broken input gives nothing, never an error', () => {
    const unclosed = '<root>' + '<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1'.repeat(1500);
    assert.deepEqual(parseDescription(unclosed, 'http://127.0.0.1/', '127.0.0.1'), []);
    assert.deepEqual(parseDescription('<!-- never closed <service>', 'http://127.0.0.1/', '127.0.0.1'), []);
    const wrongType =
      '<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:9</serviceType><controlURL>/c</controlURL></service>';
    assert.deepEqual(parseDescription(wrongType, 'http://127.0.0.1/', '127.0.0.1'), []);
    const ftp =
      '<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>ftp://127.0.0.1/c</controlURL></service>';
    assert.deepEqual(parseDescription(ftp, 'http://127.0.0.1/', '127.0.0.1'), []);
  });

  const known = (): UpnpService[] => [
    { serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1', controlUrl: `${srv.url}/ip` },
    { serviceType: 'urn:schemas-upnp-org:service:WANPPPConnection:1', controlUrl: `${srv.url}/ppp` },
  ];

  test('SOAP GetExternalIPAddress: the action and its answer', async () => {
    answers = { '/ip': () => ({ status: 200, body: soapOk('93.184.216.34') }) };
    srv.requests.length = 0;
    const a = await upnpExternalAddress({ gateway: '127.0.0.1', known: known(), timeoutMs: 2000 });
    assert.equal(a.address, '93.184.216.34');
    const req = srv.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.headers.soapaction, '"urn:schemas-upnp-org:service:WANIPConnection:1#GetExternalIPAddress"');
    assert.match(String(req.headers['content-type']), /^text\/xml/);
    assert.match(req.body, /<u:GetExternalIPAddress xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">/);
  });

  test('the IP service empty, the PPP service in use: the PPP answer wins', async () => {
    answers = {
      '/ip': () => ({ status: 200, body: soapOk('') }),
      '/ppp': () => ({ status: 200, body: soapOk('93.184.216.35') }),
    };
    const a = await upnpExternalAddress({ gateway: '127.0.0.1', known: known(), timeoutMs: 2000 });
    assert.equal(a.address, '93.184.216.35');
    assert.equal(a.service.serviceType, 'urn:schemas-upnp-org:service:WANPPPConnection:1');
  });

  test('every service empty: "no public address"', async () => {
    answers = { '/ip': () => ({ status: 200, body: soapOk('') }), '/ppp': () => ({ status: 200, body: soapOk('  ') }) };
    await assert.rejects(
      upnpExternalAddress({ gateway: '127.0.0.1', known: known(), timeoutMs: 2000 }),
      (e: DdnsError) => isRouterNoPublic(e) && e.protocol === 'upnp',
    );
  });

  test('a SOAP fault becomes upnp_<errorCode>; a huge answer is refused', async () => {
    answers = { '/ip': () => ({ status: 500, body: soapFault(501, 'Action Failed') }) };
    await assert.rejects(
      upnpExternalAddress({ gateway: '127.0.0.1', known: known().slice(0, 1), timeoutMs: 2000 }),
      (e: DdnsError) => e.code === 'upnp_501' && /UPnP error 501 \(Action Failed\)/.test(e.message),
    );
    answers = { '/ip': () => ({ status: 200, body: soapOk('1.2.3.4') + ' '.repeat(64 * 1024) }) };
    await assert.rejects(
      upnpExternalAddress({ gateway: '127.0.0.1', known: known().slice(0, 1), timeoutMs: 2000 }),
      (e: DdnsError) => e.code === 'body_too_large',
    );
  });
});

describe('announcements', () => {
  test('NAT-PMP and PCP ANNOUNCE are recognised; anything else is not', () => {
    assert.deepEqual(parseAnnouncement(natpmpAnswer(0, 0, '93.184.216.34')), {
      protocol: 'natpmp',
      address: '93.184.216.34',
      epoch: 0,
    });
    const pcp = Buffer.alloc(24);
    pcp[0] = 2;
    pcp[1] = 0x80;
    pcp.writeUInt32BE(5, 8);
    assert.deepEqual(parseAnnouncement(pcp), { protocol: 'pcp', epoch: 5 });
    assert.equal(parseAnnouncement(natpmpAnswer(3, 0)), null, 'an error answer is no announcement');
    assert.equal(parseAnnouncement(Buffer.from('M-SEARCH * HTTP/1.1')), null);
  });

  test('hints: debounced, merged, a follow-up, the safety poll, and a clean close (unicast on loopback)', async (t) => {
    // The router's side: announcements come from port 5351 (RFC 6886 §3.2.1), here from a random
    // loopback address so that parallel runs do not compete for the port.
    const r = await routerSocketOnLoopback();
    if (!r) return t.skip('port 5351 is in use on this loopback address');
    const { gateway: gw, socket: router } = r;
    const port = await freePort();
    const hints: RouterHint[] = [];
    const w = watchRouter({
      gateway: gw,
      group: '127.0.0.1',
      port,
      debounceMs: 50,
      followUpMs: 200,
      safetyPollMs: 500,
      onHint: (h) => void hints.push(h),
    });
    try {
      await w.ready;
      assert.equal(w.listening, true);
      const send = (b: Buffer) => new Promise<void>((r) => router.send(b, port, '127.0.0.1', () => r()));
      await send(natpmpAnswer(0, 0, '93.184.216.1')); // the old address first, as miniupnpd sometimes does
      await send(natpmpAnswer(0, 0, '93.184.216.2'));
      await send(Buffer.from('junk'));
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(hints.length, 1, 'two announcements, one hint');
      assert.equal(hints[0].reason, 'announcement');
      assert.deepEqual(
        hints[0].announced?.map((a) => a.address),
        ['93.184.216.1', '93.184.216.2'],
      );
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(hints[1]?.reason, 'follow-up');
      assert.equal(w.stats.ignored, 1);
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(
        hints.some((h) => h.reason === 'safety-poll'),
        'the safety poll',
      );
    } finally {
      await w.close();
      router.close();
    }
    const n = hints.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(hints.length, n, 'no hint after close');
  });

  test('a slow onHint: hints never overlap', async () => {
    let running = 0;
    let max = 0;
    let calls = 0;
    const w = watchRouter({
      gateway: '127.0.0.1',
      port: 0,
      group: '127.0.0.1',
      safetyPollMs: 30,
      onHint: async () => {
        calls++;
        running++;
        max = Math.max(max, running);
        await new Promise((r) => setTimeout(r, 100));
        running--;
      },
    });
    await w.ready;
    await new Promise((r) => setTimeout(r, 400));
    await w.close();
    assert.ok(calls >= 2);
    assert.equal(max, 1);
  });
});

describe('interface events: parsing and polling', () => {
  test('ip -o monitor address lines', () => {
    assert.deepEqual(
      parseMonitorLine(
        '2: eth0    inet 192.0.3.50/24 scope global eth0\\       valid_lft forever preferred_lft forever',
      ),
      {
        deleted: false,
        index: 2,
        interface: 'eth0',
        family: 'ipv4',
        address: '192.0.3.50',
        prefixLength: 24,
        flags: [],
      },
    );
    const d = parseMonitorLine(
      'Deleted 3: eth0    inet6 2a01:4f8:1:3::99/64 scope global dadfailed tentative \\       valid_lft forever preferred_lft forever',
    );
    assert.equal(d?.deleted, true);
    assert.deepEqual(d?.flags, ['dadfailed', 'tentative']);
    const tmp = parseMonitorLine(
      '[ADDR]2: eth0    inet6 2a01:4f8:1:2:3589:a0b4:efe2:1ac3/64 scope global temporary dynamic \\       valid_lft 604799sec',
    );
    assert.deepEqual(tmp?.flags, ['temporary', 'dynamic']);
    const ppp = parseMonitorLine(
      '5: ppp0    inet 100.64.1.2 peer 10.0.0.1/32 scope global ppp0\\       valid_lft forever',
    );
    assert.equal(ppp?.address, '100.64.1.2');
    assert.equal(parseMonitorLine('3: eth0    link/ether 00:11:22:33:44:55'), null);
  });

  const flagsText = (rows: Array<[string, string, number]>) =>
    rows.map(([ifname, hex, f]) => `${hex} 02 40 00 ${f.toString(16).padStart(2, '0')} ${ifname}`).join('\n');

  test('tentative, deprecated, temporary and failed addresses are skipped; link-local ignored', async () => {
    const s = await readInterfaceAddresses({
      interface: 'eth0',
      readers: {
        interfaces: () => ({
          eth0: [
            nic('192.0.3.5', '255.255.255.0'),
            nic('10.0.0.5', '255.0.0.0'),
            nic('2a01:4f8::1', 'ffff:ffff:ffff:ffff::', 'IPv6'),
            nic('2a01:4f8::2', 'ffff:ffff:ffff:ffff::', 'IPv6'),
            nic('2a01:4f8::3', 'ffff:ffff:ffff:ffff::', 'IPv6'),
            nic('2a01:4f8::4', 'ffff:ffff:ffff:ffff::', 'IPv6'),
            nic('2a01:4f8::5', 'ffff:ffff:ffff:ffff::', 'IPv6'),
            nic('fe80::1', 'ffff:ffff:ffff:ffff::', 'IPv6'),
          ],
          eth1: [nic('192.0.3.99', '255.255.255.0')],
        }),
        if6Flags: async () =>
          flagsText([
            ['eth0', '2a0104f8000000000000000000000001', 0x80],
            ['eth0', '2a0104f8000000000000000000000002', 0xc0],
            ['eth0', '2a0104f8000000000000000000000003', 0x01],
            ['eth0', '2a0104f8000000000000000000000004', 0xa0],
            ['eth0', '2a0104f8000000000000000000000005', 0xc8],
          ]),
      },
    });
    assert.deepEqual(s.ipv4, ['192.0.3.5']);
    assert.deepEqual(s.ipv6, ['2a01:4f8::1']);
    assert.deepEqual(
      s.addresses.map((a) => a.address),
      ['10.0.0.5', '192.0.3.5', '2a01:4f8::1'],
    );
    assert.deepEqual(s.skipped, [
      '2a01:4f8::2 on eth0 (tentative)',
      '2a01:4f8::3 on eth0 (temporary)',
      '2a01:4f8::4 on eth0 (deprecated)',
      '2a01:4f8::5 on eth0 (dadfailed, tentative)',
    ]);
    assert.equal(s.tentative, true, 'recheck until duplicate detection ends');
  });

  test('polling mode: the start state, a change, no event without a change, a clean close', async () => {
    let addrs = [nic('192.0.3.5', '255.255.255.0')];
    const seen: InterfaceSnapshot[] = [];
    const w = watchInterfaces({
      interface: 'ppp0',
      mode: 'poll',
      pollMs: 100,
      onChange: (s) => seen.push(s),
      readers: { interfaces: () => ({ ppp0: addrs }), if6Flags: async () => null },
    });
    await w.ready;
    assert.equal(w.mode, 'poll');
    assert.deepEqual(
      seen.map((s) => s.ipv4),
      [['192.0.3.5']],
    );
    addrs = [nic('192.0.3.6', '255.255.255.0')];
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      seen.map((s) => s.ipv4),
      [['192.0.3.5'], ['192.0.3.6']],
    );
    assert.equal(seen[1].via, 'poll');
    await w.close();
    assert.equal(w.mode, 'closed');
    addrs = [nic('192.0.3.7', '255.255.255.0')];
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(seen.length, 2, 'nothing after close');
  });
});

describe('option schemas', () => {
  test('router source and watch options, as the editor stores them', () => {
    assert.deepEqual(
      { ...routerSourceOptionsSchema.parse({ gateway: '' }) },
      { gateway: undefined, enablePcp: false, protocolTimeoutMs: 2000 },
    );
    assert.equal(routerSourceOptionsSchema.parse({ gateway: ' 192.168.1.1 ' }).gateway, '192.168.1.1');
    assert.throws(() => routerSourceOptionsSchema.parse({ gateway: 'fritz.box' }), /IPv4 address/);
    assert.deepEqual(
      { ...routerWatchOptionsSchema.parse({}) },
      { safetyPollMs: 30_000, debounceMs: 100, followUpMs: 2000 },
    );
    assert.equal(routerWatchOptionsSchema.parse({ safetyPollMs: 0 }).safetyPollMs, 0);
    assert.throws(() => routerWatchOptionsSchema.parse({ safetyPollMs: 1000 }), /between 5 s and 1 hour/);
    assert.deepEqual(
      { ...interfaceWatchOptionsSchema.parse({ interface: '' }) },
      { interface: undefined, mode: 'auto', pollMs: 2000 },
    );
    assert.throws(() => interfaceWatchOptionsSchema.parse({ interface: 'eth0; rm -rf /' }));
  });
});
