/**
 * AAAA records for LAN hosts through a renumbering, with the kernel's own address flags: a network
 * namespace made by the test holds this host's addresses (`ip -6 addr add … mngtmpaddr` with
 * use_tempaddr=2, so the kernel makes temporary privacy addresses, RFC 8981, ip-address(8)); the
 * interface source reads them from `ip -j addr` and the namespace's /proc/net/if_inet6, the watcher
 * (IpWatcher + detectRound, an outside service answering the temporary address that connections
 * leave from) makes public-ip-watch's payloads, and a dns-update in the real Node-RED runtime writes
 * three names (self, ::1234, mac()) to a real BIND over RFC 2136. The provider renumbers: the old
 * prefix goes deprecated (`preferred_lft 0`), a new one arrives; the three names move in one pass,
 * and no temporary or deprecated address is ever published. Without the interface source (the
 * outside service alone), the kernel's flags mark the address it saw temporary: this host's name keeps
 * its AAAA, the LAN hosts keep their addresses in the same /64.
 */
import { after, before, test } from '../support/suite';
import assert from 'node:assert/strict';
import type os from 'node:os';
import { closeHttpPools } from '../../src/core/http';
import { parseIf6Flags, interfaceSource } from '../../src/core/ip/sources/interface';
import type { IpWatcher } from '../../src/core/ip/watcher';
import { bindUnavailable, rfc2136Account, startBind } from '../support/bind';
import { createLinkLab, ipn, leftoverNamespaces, netnsUnavailable, nsExec } from '../support/netns';
import { helper, nodeModule, waitFor } from '../support/node-red';
import { observe, observerNodes, type Msg } from '../support/observer';
import { ipv6Watcher, outsideEcho } from '../support/ipv6-watcher';

const skip = netnsUnavailable({ miniupnpd: false }) ?? bindUnavailable() ?? false;

const MAC = '00:11:22:33:44:55';
const OLD = '2a00:1450:1:2';
const NEW = '2a00:1450:9:8';
const eui = (p: string) => `${p}:211:22ff:fe33:4455`;

before(async () => {
  if (!skip) await helper.startServer();
});
after(async () => {
  if (!skip) await helper.stopServer();
  await closeHttpPools();
});

/** The namespace's IPv6 addresses on eth0, as os.networkInterfaces() would give them. */
function interfacesOf(ns: string): NodeJS.Dict<os.NetworkInterfaceInfo[]> {
  const links = JSON.parse(ipn(ns, '-j', '-6', 'addr', 'show', 'dev', 'eth0')) as Array<{
    addr_info: Array<{ local: string; prefixlen: number }>;
  }>;
  return {
    eth0: links[0].addr_info.map((a) => ({
      address: a.local,
      netmask: 'ffff:ffff:ffff:ffff::',
      family: 'IPv6',
      mac: MAC,
      internal: false,
      cidr: `${a.local}/${a.prefixlen}`,
      scopeid: 0,
    })),
  };
}

const if6 = (ns: string) => nsExec(ns, 'cat', '/proc/net/if_inet6');

/** Whether `address` on eth0 has finished duplicate detection (no tentative flag). */
const settled = (ns: string, address: string) => ((parseIf6Flags(if6(ns)).get(`eth0|${address}`) ?? 0x40) & 0x40) === 0;

/** The kernel's temporary addresses on eth0 that have finished duplicate detection, in `prefix`. */
function temporaries(ns: string, prefix: string): string[] {
  return [...parseIf6Flags(if6(ns))]
    .filter(([k, f]) => k.startsWith(`eth0|${prefix}:`) && f & 0x01 && !(f & 0x40))
    .map(([k]) => k.slice(5));
}

test(
  'ipv6 hosts in a namespace: a renumbering moves self, ::1234 and mac() names in one pass; no temporary address is published',
  { skip },
  async () => {
    const lab = await createLinkLab();
    const bind = await startBind([{ name: 'home.test' }]);
    let w: IpWatcher | undefined;
    try {
      const ns = lab.host;
      nsExec(ns, 'sysctl', '-qw', 'net.ipv6.conf.eth0.use_tempaddr=2');
      nsExec(ns, 'sysctl', '-qw', 'net.ipv6.neigh.eth0.retrans_time_ms=300');
      ipn(ns, '-6', 'addr', 'add', `${eui(OLD)}/64`, 'dev', 'eth0', 'mngtmpaddr');
      const oldTemps = await waitFor(
        () => (temporaries(ns, OLD).length ? temporaries(ns, OLD) : null),
        10_000,
        50,
        'a temporary address',
      );
      const seenTemporary = new Set(oldTemps);
      // the stable address is usable once its duplicate check is over (a tentative one is skipped, and
      // then the outside answer, a temporary address, would stand in: see the report)
      await waitFor(() => settled(ns, eui(OLD)), 10_000, 50, 'DAD');

      const eth0 = interfaceSource({
        interface: 'eth0',
        readers: { interfaces: () => interfacesOf(ns), if6Flags: async () => if6(ns) },
      });
      // an outside service sees the temporary address that connections leave from
      const outside = outsideEcho(() => {
        const t = [...temporaries(ns, NEW), ...temporaries(ns, OLD)];
        t.forEach((a) => seenTemporary.add(a));
        return t[0];
      });
      w = ipv6Watcher([eth0, outside], { keep: true });

      const { credentials, ...account } = rfc2136Account(bind);
      await helper.load(
        [nodeModule('ddns-account'), nodeModule('dns-update')],
        [
          {
            id: 'acc',
            type: 'ddns-account',
            ...account,
          },
          {
            id: 'u',
            type: 'dns-update',
            account: 'acc',
            hostnames: `pi.home.test nas.home.test@mac(${MAC}) printer.home.test@::1234`,
            families: 'ipv6',
            minInterval: 0,
            contextStore: '',
            alertAfter: 3,
            wires: [['out'], ['alerts']],
          },
          ...observerNodes('u'),
        ],
        { acc: credentials },
      );
      const h = observe('u');
      const published: string[] = [];
      const pass = async () => {
        const r = await w!.checkNow();
        assert.ok(r.change, 'a change');
        const out = await h.input({ payload: r.change });
        assert.equal(out.error, undefined, out.error?.message);
        const res = out.payload.results as Msg[];
        published.push(...res.map((x) => x.address as string));
        return { change: r.change!, res };
      };

      const first = await pass();
      assert.equal(first.change.ipv6, eui(OLD));
      assert.equal(first.change.ipv6Prefix, `${OLD}::/64`);
      assert.equal(first.change.sources.ipv6?.outsideTemporary !== undefined, true, 'the outside saw a temporary one');
      assert.deepEqual(bind.dig('pi.home.test', 'AAAA'), [eui(OLD)]);
      assert.deepEqual(bind.dig('nas.home.test', 'AAAA'), [eui(OLD)]);
      assert.deepEqual(bind.dig('printer.home.test', 'AAAA'), [`${OLD}::1234`]);

      // renumbering: the old prefix deprecated, a new one with its own temporary address
      ipn(ns, '-6', 'addr', 'change', `${eui(OLD)}/64`, 'dev', 'eth0', 'mngtmpaddr', 'preferred_lft', '0');
      ipn(ns, '-6', 'addr', 'add', `${eui(NEW)}/64`, 'dev', 'eth0', 'mngtmpaddr');
      await waitFor(() => temporaries(ns, NEW).length > 0, 10_000, 50, 'a new temporary address');
      temporaries(ns, NEW).forEach((a) => seenTemporary.add(a));
      // the new stable address is usable once its duplicate check is over
      await waitFor(() => settled(ns, eui(NEW)), 10_000, 50, 'DAD');

      const second = await pass();
      assert.equal(second.change.ipv6, eui(NEW), 'the preferred prefix only');
      assert.equal(second.change.prefixChanged, true);
      assert.deepEqual(
        second.res.map((r) => `${r.hostname} ${r.status} ${r.address}`),
        [
          `pi.home.test updated ${eui(NEW)}`,
          `nas.home.test updated ${eui(NEW)}`,
          `printer.home.test updated ${NEW}::1234`,
        ],
      );
      assert.deepEqual(bind.dig('pi.home.test', 'AAAA'), [eui(NEW)]);
      assert.deepEqual(bind.dig('nas.home.test', 'AAAA'), [eui(NEW)]);
      assert.deepEqual(bind.dig('printer.home.test', 'AAAA'), [`${NEW}::1234`]);

      // without the interface source, only the outside service answers: the kernel's flags say that
      // the address it saw is temporary; the LAN hosts keep using its /64, this host's name keeps its AAAA
      const outsideOnly = ipv6Watcher([outside], { if6Flags: async () => if6(ns) });
      try {
        const r = await outsideOnly.checkNow();
        assert.ok(seenTemporary.has(r.change!.ipv6!), 'the outside service saw a temporary address');
        assert.equal(r.change!.ipv6Stability, 'temporary');
        const out = await h.input({ payload: r.change });
        assert.equal(out.error, undefined, out.error?.message);
        const third = out.payload.results as Msg[];
        assert.deepEqual(
          third.map((x) => `${x.hostname} ${x.status} ${x.reason ?? ''}`),
          ['nas.home.test unchanged ', 'printer.home.test unchanged ', 'pi.home.test skipped temporary-address'],
        );
        published.push(...third.map((x) => x.address as string).filter((a) => a !== ''));
        assert.deepEqual(bind.dig('pi.home.test', 'AAAA'), [eui(NEW)], 'this host keeps its stable AAAA');
      } finally {
        await outsideOnly.stop();
      }

      assert.ok(seenTemporary.size >= 2, 'the kernel made temporary addresses');
      for (const a of published) assert.ok(!seenTemporary.has(a), `${a} is not a temporary address`);
      assert.ok(
        !published.slice(3).some((a) => a.startsWith(`${OLD}:`)),
        'nothing in the deprecated prefix after the renumbering',
      );
    } finally {
      await w?.stop();
      await helper.unload();
      await bind.stop();
      await lab.close();
      assert.deepEqual(leftoverNamespaces(), [], 'no namespace of this run is left behind');
    }
  },
);
