/**
 * AAAA records for LAN hosts: the address math of src/core/address.ts (prefix + interface
 * identifier, modified EUI-64 from a MAC: RFC 4291 §2.5.1 and appendix A) and the `name@hostid`
 * syntax of src/core/ip/host-id.ts, as dns-update parses its host names.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import {
  eui64FromMac,
  ipv6Prefix,
  parseInterfaceId,
  parseIpv6Prefix,
  withInterfaceId,
  type Ipv6,
} from '../../src/core/address';
import { addressesPerName, hostAddress, parseHostEntries, parseHostId } from '../../src/core/ip/host-id';
import ipaddr from 'ipaddr.js';
import { DdnsError, english } from '../../src/core/errors';
import { ipWatchPayloadSchema } from '../../src/core/ip/payload';
import { interfaceSource } from '../../src/core/ip/sources/interface';
import { AddressStatusView } from '../../src/core/ip/status-view';
import { ipv6Watcher, outsideEcho } from '../support/ipv6-watcher';

const v6 = (s: string) => s as Ipv6;

test('ipv6 hosts: the /64 (or other) network of an address, as CIDR text', () => {
  assert.equal(ipv6Prefix(v6('2001:db8:1:2:a:b:c:d')), '2001:db8:1:2::/64');
  assert.equal(ipv6Prefix(v6('2001:db8:1:2ff:a:b:c:d'), 56), '2001:db8:1:200::/56');
  assert.equal(ipv6Prefix(v6('2001:db8:1:2ff:a:b:c:d'), 60), '2001:db8:1:2f0::/60');
  assert.deepEqual(parseIpv6Prefix(' 2001:db8:1:2:3::/64 '), { address: '2001:db8:1:2::', length: 64 });
  for (const bad of ['2001:db8::', '2001:db8::/129', '203.0.113.0/24', 'x/64', '2001:db8::/'])
    assert.throws(() => parseIpv6Prefix(bad), /not an IPv6 prefix/, bad);
});

test('ipv6 hosts: modified EUI-64 from a MAC flips the universal/local bit and puts ff:fe in the middle', () => {
  const id = eui64FromMac('00:11:22:33:44:55');
  assert.equal(withInterfaceId(v6('2001:db8:1:2::'), id), '2001:db8:1:2:211:22ff:fe33:4455');
  // a locally administered MAC (bit 0x02 set) loses the bit
  assert.equal(
    withInterfaceId(v6('2001:db8:1:2::'), eui64FromMac('AA-BB-CC-DD-EE-FF')),
    '2001:db8:1:2:a8bb:ccff:fedd:eeff',
  );
  assert.equal(withInterfaceId(v6('2001:db8:1:2::'), eui64FromMac('0211.2233.4455')), '2001:db8:1:2:11:22ff:fe33:4455');
  for (const bad of ['00:11:22:33:44', '00:11:22:33:44:5g', '00:11-22:33:44:55', '', '001122334455x'])
    assert.throws(() => eui64FromMac(bad), /not a MAC address/, bad);
});

test('ipv6 hosts: prefix + literal identifier, /64 and /56; the prefix host bits are replaced', () => {
  // the detected address's own host bits (a temporary address, say) are replaced
  const detected = v6('2001:db8:1:2:dead:beef:1:2');
  assert.equal(withInterfaceId(detected, parseInterfaceId('::1234')), '2001:db8:1:2::1234');
  assert.equal(
    withInterfaceId(detected, parseInterfaceId('::1234:5678:9abc:def0')),
    '2001:db8:1:2:1234:5678:9abc:def0',
  );
  // /56: the subnet id (bits 56–63) comes from the identifier
  assert.equal(withInterfaceId(detected, parseInterfaceId('::5:0:0:0:1', 56)), '2001:db8:1:5::1');
  assert.equal(withInterfaceId(v6('2001:db8:1:2ff::'), parseInterfaceId('::5:0:0:0:1', 56)), '2001:db8:1:205::1');
});

test('ipv6 hosts: bad identifiers and prefix lengths are input errors that say why', () => {
  const err = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof DdnsError && e.kind === 'input' && re.test(e.message));
  err(() => parseInterfaceId('2001:db8::1234'), /bits set inside the first 64 bits/);
  err(() => parseInterfaceId('::1:0:0:0:1', 64), /bits set inside the first 64 bits/);
  err(() => parseInterfaceId('::'), /all zero/);
  err(() => parseInterfaceId('1234'), /not an interface identifier/);
  err(() => parseInterfaceId('fe80::1%eth0'), /not an interface identifier/);
  err(() => parseInterfaceId('::1', 0), /from 1 to 127/);
  err(() => parseInterfaceId('::1', 128), /from 1 to 127/);
  err(() => parseHostId('mac(00:11:22:33:44:55)/56'), /needs a \/64 prefix/);
  err(() => parseHostId('::1/x'), /must be a number/);
});

test('ipv6 hosts: name@hostid entries, parsed once, with every bad entry named', () => {
  const e = parseHostEntries(
    'Home.Example.com, nas.example.com@mac(00:11:22:33:44:55)\nprinter.example.com@::1234 lab.example.com@::5:0:0:0:1/56 pi.example.com@self',
  );
  assert.deepEqual(
    e.map((x) => [x.name, x.hostId.kind, 'text' in x.hostId ? x.hostId.text : '']),
    [
      ['home.example.com', 'self', ''],
      ['nas.example.com', 'mac', 'mac(00:11:22:33:44:55)'],
      ['printer.example.com', 'iid', '::1234'],
      ['lab.example.com', 'iid', '::5:0:0:0:1/56'],
      ['pi.example.com', 'self', ''],
    ],
  );
  const prefix = { address: v6('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), length: 128 };
  assert.deepEqual(
    e.map((x) => hostAddress(x.hostId, prefix.address, prefix)),
    [
      '2001:db8:1:2:aaaa:bbbb:cccc:dddd',
      '2001:db8:1:2:211:22ff:fe33:4455',
      '2001:db8:1:2::1234',
      '2001:db8:1:5::1',
      '2001:db8:1:2:aaaa:bbbb:cccc:dddd',
    ],
  );
  // only a prefix (a router's LAN prefix): this host's names have no address, a /56 id needs 56 bits
  const lan = parseIpv6Prefix('2001:db8:9:9::/64');
  assert.equal(hostAddress(e[2].hostId, undefined, lan), '2001:db8:9:9::1234');
  assert.throws(() => hostAddress(e[0].hostId, undefined, lan), /only a prefix/);
  assert.throws(
    () => hostAddress(parseHostId('::1'), undefined, parseIpv6Prefix('2001:db8:9::/48')),
    /shorter than the \/64/,
  );
  // the same name twice: fine when the same, an error when not; all bad entries in one message
  assert.equal(parseHostEntries('a.example.com@::1 a.example.com@::1').length, 1);
  assert.throws(
    () => parseHostEntries('a.example.com@::1 a.example.com@::2 b@::1 c.example.com@mac(1) d.example.com@1:2::3'),
    (x: unknown) =>
      x instanceof DdnsError &&
      /given twice/.test(x.message) &&
      /"b" is not a full host name/.test(x.message) &&
      /c\.example\.com: "1" is not a MAC address/.test(x.message) &&
      /d\.example\.com: The interface identifier 1:2::3 has bits set/.test(x.message),
  );
});

// ---------------------------------------------------------------------------------------------
// public-ip-watch's side: only the stable address, the prefix, and prefixChanged on renumbering.

/** /proc/net/if_inet6 spells addresses as 32 hex digits. */
const hex32 = (a: string) =>
  new ipaddr.IPv6(ipaddr.IPv6.parse(a).parts)
    .toNormalizedString()
    .split(':')
    .map((g) => g.padStart(4, '0'))
    .join('');
const line = (a: string, flags: number) => `${hex32(a)} 02 40 00 ${flags.toString(16).padStart(2, '0')} eth0`;

test('ipv6 hosts: the watcher publishes the stable address and its prefix, flags a renumbering, never a temporary one', async () => {
  // what the kernel holds on eth0: [address, flags] (IFA_F: temporary 0x01, deprecated 0x20, tentative 0x40)
  let held: Array<[string, number]> = [
    ['fe80::211:22ff:fe33:4455', 0x80],
    ['2a00:1450:1:2:211:22ff:fe33:4455', 0x00], // stable (EUI-64)
    ['2a00:1450:1:2:9d3c:11aa:4b2e:7f01', 0x01], // temporary (privacy)
    ['2a00:1450:1:2::dead', 0x40], // tentative
  ];
  const eth0 = interfaceSource({
    interface: 'eth0',
    readers: {
      interfaces: () => ({
        eth0: held.map(([address]) => ({
          address,
          netmask: 'ffff:ffff:ffff:ffff::',
          family: 'IPv6',
          mac: '00:11:22:33:44:55',
          internal: false,
          cidr: `${address}/64`,
          scopeid: 0,
        })),
      }),
      if6Flags: async () => held.map(([a, f]) => line(a, f)).join('\n'),
    },
  });
  // an outside service sees the temporary address connections leave from
  const outside = outsideEcho(() => held.find(([, f]) => f === 0x01)![0]);
  const w = ipv6Watcher([eth0, outside], { keep: true });
  const view = new AddressStatusView(['ipv6']);
  const published: string[] = [];
  try {
    const r1 = await w.checkNow();
    assert.equal(r1.change?.ipv6, '2a00:1450:1:2:211:22ff:fe33:4455');
    assert.equal(r1.change?.ipv6Prefix, '2a00:1450:1:2::/64');
    assert.equal(r1.change?.prefixChanged, false, 'no previous address');
    assert.equal(r1.change?.sources.ipv6?.outsideTemporary, '2a00:1450:1:2:9d3c:11aa:4b2e:7f01');
    assert.ok(ipWatchPayloadSchema.safeParse(r1.change).success);
    view.update(r1);
    assert.match(view.render(r1.checkedAt, (x) => x).text, /^v6 2a00:1450:1:2:211:22ff:fe33:4455 \(stable\) · /);
    published.push(r1.change!.ipv6!);

    // the provider renumbers: the old prefix goes deprecated, a new one comes with a new temporary address
    held = [
      ['fe80::211:22ff:fe33:4455', 0x80],
      ['2a00:1450:1:2:211:22ff:fe33:4455', 0x20],
      ['2a00:1450:1:2:9d3c:11aa:4b2e:7f01', 0x21],
      ['2a00:1450:9:8:211:22ff:fe33:4455', 0x00],
      ['2a00:1450:9:8:51c2:3a0f:e2d4:1b9c', 0x01],
    ];
    const r2 = await w.checkNow();
    assert.equal(r2.change?.ipv6, '2a00:1450:9:8:211:22ff:fe33:4455', 'only the preferred prefix');
    assert.equal(r2.change?.ipv6Prefix, '2a00:1450:9:8::/64');
    assert.equal(r2.change?.prefixChanged, true);
    published.push(r2.change!.ipv6!);

    // a new temporary address alone (same prefix, same stable address): nothing to send
    held[4] = ['2a00:1450:9:8:7777:3a0f:e2d4:1b9c', 0x01];
    const r3 = await w.checkNow();
    assert.equal(r3.change, undefined);

    // this host's own part changes, not the prefix: an address change without prefixChanged
    held[3] = ['2a00:1450:9:8::10', 0x00];
    const r4 = await w.checkNow();
    assert.equal(r4.change?.ipv6, '2a00:1450:9:8::10');
    assert.equal(r4.change?.prefixChanged, false);
    published.push(r4.change!.ipv6!);

    for (const a of published)
      assert.ok(!/9d3c|51c2|7777|dead/.test(a), `${a} is not a temporary or tentative address`);
  } finally {
    await w.stop();
  }
});

test("ipv6 hosts: with outside services only, a temporary or unverified address is not this host's AAAA; the others use its prefix", async () => {
  // the address an outside service sees (connections leave from the temporary one) and what this host holds
  let seen = '2a00:1450:1:2:9d3c:11aa:4b2e:7f01';
  let held: Array<[string, number]> = [
    ['2a00:1450:1:2:211:22ff:fe33:4455', 0x00],
    ['2a00:1450:1:2:9d3c:11aa:4b2e:7f01', 0x01], // temporary (privacy)
  ];
  const w = ipv6Watcher([outsideEcho(() => seen)], {
    if6Flags: async () => held.map(([a, f]) => line(a, f)).join('\n'),
  });
  const view = new AddressStatusView(['ipv6']);
  const entries = parseHostEntries(
    'home.example.com nas.example.com@mac(00:11:22:aa:bb:cc) printer.example.com@::1234',
  );
  const publish = (p: { ipv6: string | null; ipv6Stability: 'stable' | 'temporary' | 'unverified' | null }) =>
    addressesPerName(
      entries,
      { ipv6: v6(p.ipv6!) },
      { address: v6(p.ipv6!), length: 128 },
      {
        stability: p.ipv6Stability,
      },
    );
  try {
    // 1. the outside service saw this host's temporary address
    const r1 = await w.checkNow();
    assert.equal(r1.change?.ipv6Stability, 'temporary');
    assert.ok(ipWatchPayloadSchema.safeParse(r1.change).success);
    view.update(r1);
    assert.match(view.render(r1.checkedAt, (x) => x).text, /^v6 2a00:1450:1:2:9d3c:11aa:4b2e:7f01 \(temporary\) · /);
    const p1 = publish(r1.change!);
    assert.deepEqual(
      p1.groups.map((g) => [g.names, g.addresses.ipv6]),
      [
        [['nas.example.com'], '2a00:1450:1:2:211:22ff:feaa:bbcc'],
        [['printer.example.com'], '2a00:1450:1:2::1234'],
      ],
    );
    assert.equal(p1.kept.length, 1);
    assert.equal(p1.kept[0].name, 'home.example.com');
    assert.match(
      english(p1.kept[0].said),
      /^home\.example\.com keeps its AAAA record: 2a00:1450:1:2:9d3c:11aa:4b2e:7f01 is this computer's temporary \(privacy\) IPv6 address.*Add the "network interface" source/,
    );

    // 2. an address this host does not hold (another machine's, or no /proc): unverified, same treatment
    seen = '2a00:1450:1:2:aaaa:bbbb:cccc:dddd';
    const r2 = await w.checkNow();
    assert.equal(r2.change?.ipv6Stability, 'unverified');
    view.update(r2);
    assert.match(view.render(r2.checkedAt, (x) => x).text, /\(unverified\)/);
    assert.match(
      english(publish(r2.change!).kept[0].said),
      /seen only by outside services and is not on this computer's/,
    );

    // 3. this host holds the address it is seen with, without the temporary flag (no privacy addresses): stable
    held = [['2a00:1450:1:2:aaaa:bbbb:cccc:dddd', 0x00]];
    seen = '2a00:1450:1:2:aaaa:bbbb:cccc:dddd';
    const r3 = await w.checkNow({ force: true });
    assert.equal(r3.change?.ipv6Stability, 'stable');
    const p3 = publish(r3.change!);
    assert.deepEqual(p3.kept, []);
    assert.deepEqual(p3.groups[0], {
      names: ['home.example.com'],
      addresses: { ipv6: '2a00:1450:1:2:aaaa:bbbb:cccc:dddd' },
    });

    // 4. a deprecated address held by this host (the old prefix of a renumbering) is not stable either
    held = [['2a00:1450:1:2:aaaa:bbbb:cccc:dddd', 0x20]];
    const r4 = await w.checkNow({ force: true });
    assert.equal(r4.change?.ipv6Stability, 'temporary');
  } finally {
    await w.stop();
  }
});

test('ipv6 hosts: never a link-local address; a unique-local one only to a DNS server inside the network', () => {
  const entries = parseHostEntries('home.example.com printer.example.com@::1234');
  const ula = { address: v6('fd12:3456:789a:1::5'), length: 128 };
  assert.throws(
    () => addressesPerName(entries, { ipv6: ula.address }, ula, { provider: 'Cloudflare' }),
    (x: unknown) =>
      x instanceof DdnsError &&
      /^home\.example\.com: fd12:3456:789a:1::5 is a unique-local address \(fc00::\/7\).*it is not sent to Cloudflare/.test(
        x.message,
      ),
  );
  // a unique-local prefix given alone: the built names are refused too
  const lanUla = parseIpv6Prefix('fd12:3456:789a:1::/64');
  assert.throws(
    () => addressesPerName(entries, {}, lanUla, {}),
    /printer\.example\.com@::1234: fd12:3456:789a:1::1234 is a unique-local address.*not sent to a public DNS provider/,
  );
  // local DNS (RFC 2136 to your own server) takes them
  const local = addressesPerName(entries, { ipv6: ula.address }, ula, { localDns: true });
  assert.deepEqual(
    local.groups.map((g) => g.addresses.ipv6),
    ['fd12:3456:789a:1::5', 'fd12:3456:789a:1::1234'],
  );
  // link-local: never, not even to local DNS
  const ll = { address: v6('fe80::211:22ff:fe33:4455'), length: 128 };
  for (const localDns of [false, true])
    assert.throws(
      () => addressesPerName(entries, { ipv6: ll.address }, ll, { localDns }),
      /home\.example\.com: fe80::211:22ff:fe33:4455 is a link-local address \(fe80::\/10\): it works only on one network link/,
    );
  assert.throws(
    () => addressesPerName(entries, {}, parseIpv6Prefix('fe80::/64'), { localDns: true }),
    /printer\.example\.com@::1234: fe80::1234 is a link-local address/,
  );
});
