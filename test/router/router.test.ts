/**
 * The router source against a real router: Debian's miniupnpd (UPnP IGD, NAT-PMP, PCP) in network
 * namespaces made by the test (see test/support/netns.ts). The client side runs in the client
 * namespace as a child process (test/router/client.ts) and reports JSON.
 *
 * Protocol references: NAT-PMP https://www.rfc-editor.org/rfc/rfc6886 (external address §3.2,
 * announcements §3.2.1, result codes §3.5), PCP https://www.rfc-editor.org/rfc/rfc6887 (MAP §11,
 * delete §15, ANNOUNCE §14.1), UPnP IGD https://openconnectivity.org/developer/specifications/upnp-resources/upnp/internet-gateway-device-igd-v-2-0/
 * (WANIPConnection:2 GetExternalIPAddress).
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  CGNAT,
  closeNsLab,
  PUBLIC_1,
  PUBLIC_2,
  PUBLIC_3,
  sh,
  skipWithoutNetns,
  startRouterLabClient,
  type NsChild,
  type RouterLab,
} from '../support/netns';

const CLIENT = join(__dirname, 'client.js');
const skip = skipWithoutNetns();

type Line = Record<string, unknown>;

describe('router source with a real miniupnpd', { skip }, () => {
  let lab: RouterLab;
  /** One node process in the client namespace serves every command of this file. */
  let client: NsChild;

  before(async () => {
    ({ lab, client } = await startRouterLabClient(CLIENT, PUBLIC_1));
  });

  after(() => closeNsLab(client, lab));

  const run = (cmd: Record<string, unknown>, timeoutMs?: number) => client.request(cmd, timeoutMs);

  test('the client finds the router as its default gateway (from /proc/net/route)', async () => {
    const r = await run({ op: 'gateway' });
    assert.deepEqual(
      { ok: r.ok, address: r.address, interface: r.interface, localAddress: r.localAddress, from: r.from },
      { ok: true, address: lab.gateway, interface: 'eth0', localAddress: lab.clientAddress, from: 'route' },
      JSON.stringify(r),
    );
  });

  test('NAT-PMP: the external address and the epoch', async (t) => {
    const r = await run({ op: 'natpmp' });
    assert.equal(r.ok, true, JSON.stringify(r));
    t.diagnostic(`NAT-PMP query: ${r.ms as number} ms`);
    assert.equal(r.address, PUBLIC_1);
    assert.equal(typeof r.epoch, 'number');
  });

  test('UPnP IGD: M-SEARCH to the gateway, description, WANIPConnection:2 GetExternalIPAddress', async (t) => {
    const r = await run({ op: 'upnp' });
    assert.equal(r.ok, true, JSON.stringify(r));
    t.diagnostic(`UPnP search + description + SOAP: ${r.ms as number} ms`);
    assert.equal(r.address, PUBLIC_1);
    const service = r.service as { serviceType: string; controlUrl: string };
    assert.equal(service.serviceType, 'urn:schemas-upnp-org:service:WANIPConnection:2');
    assert.equal(new URL(service.controlUrl).hostname, lab.gateway);
  });

  test('UPnP: when the router ignores unicast searches, the multicast search out of the LAN interface finds it', async () => {
    const table = `table ip ddnsunicast {\n  chain input {\n    type filter hook input priority -10;\n    ip daddr ${lab.gateway} udp dport 1900 drop\n  }\n}\n`;
    sh('ip', ['netns', 'exec', lab.router, 'nft', '-f', '-'], table);
    try {
      const r = await run({ op: 'upnp' });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.address, PUBLIC_1);
    } finally {
      spawnSync('ip', ['netns', 'exec', lab.router, 'nft', 'delete', 'table', 'ip', 'ddnsunicast']);
    }
  });

  test('PCP: MAP gives the assigned external address and the mapping is deleted at once', async (t) => {
    const r = await run({ op: 'pcp' });
    assert.equal(r.ok, true, JSON.stringify(r));
    t.diagnostic(`PCP MAP: ${r.ms as number} ms`);
    assert.equal(r.address, PUBLIC_1);
    assert.equal(r.deleted, true);
    const rules = sh('ip', [
      'netns',
      'exec',
      lab.router,
      'nft',
      'list',
      'chain',
      'inet',
      'filter',
      'prerouting_miniupnpd',
    ]);
    assert.doesNotMatch(rules, /dnat/, `no mapping is left on the router:\n${rules}`);
  });

  test('the router source answers over NAT-PMP first and remembers it for this gateway', async () => {
    const r = await run({ op: 'source', lookups: 2 });
    const [first, second] = r.results as Line[];
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.equal(first.address, PUBLIC_1);
    assert.deepEqual(first.learned, { [lab.gateway]: 'natpmp' });
    const ev = first.evidence as Line;
    assert.equal(ev.outcome, 'public');
    assert.equal(ev.protocol, 'natpmp');
    assert.equal(second.address, PUBLIC_1);
    assert.equal((second.info as Line).protocol, 'natpmp');
  });

  test('push: an address change is announced, and the debounced query returns the new address', async (t) => {
    const w = client.start({ op: 'watch', safetyPollMs: 600_000, followUpMs: 0 });
    const ready = await w.waitFor((l) => l.event === 'ready', 15_000, 'the watcher to listen');
    assert.equal(ready.listening, true, 'listening on 224.0.0.1:5350');
    assert.equal(ready.gateway, lab.gateway);
    const changedAt = Date.now();
    lab.setWanAddress(PUBLIC_2);
    const hint = await w.waitFor(
      (l) => l.event === 'hint' && l.address === PUBLIC_2,
      10_000,
      `a hint with ${PUBLIC_2}`,
    );
    assert.equal(hint.reason, 'announcement');
    assert.equal(hint.ok, true);
    const announced = hint.announced as Array<{ protocol: string }>;
    assert.ok(
      announced.some((a) => a.protocol === 'natpmp'),
      'a NAT-PMP announcement triggered it',
    );
    t.diagnostic(
      `address change → answer with the new address: ${(hint.t as number) - changedAt} ms (includes running "ip addr" twice, the 100 ms debounce and the router query of ${hint.queryMs as number} ms)`,
    );
    const closed = await client.stopTask(w);
    assert.equal(closed.event, 'closed', 'the watcher closed cleanly');
  });

  test('a lost announcement is caught by the safety poll', async (t) => {
    lab.dropAnnouncements(true);
    try {
      const w = client.start({ op: 'watch', safetyPollMs: 700, followUpMs: 0 });
      await w.waitFor((l) => l.event === 'ready', 15_000, 'the watcher to listen');
      const changedAt = Date.now();
      lab.setWanAddress(PUBLIC_3);
      const hint = await w.waitFor(
        (l) => l.event === 'hint' && l.address === PUBLIC_3,
        10_000,
        `a hint with ${PUBLIC_3}`,
      );
      assert.equal(hint.reason, 'safety-poll');
      assert.ok(
        !w.lines.some((l) => l.event === 'hint' && l.reason === 'announcement'),
        'no announcement got through the drop rule',
      );
      t.diagnostic(`found by the safety poll (700 ms) after ${(hint.t as number) - changedAt} ms`);
      const closed = await client.stopTask(w);
      const stats = (closed.stats ?? {}) as Line;
      assert.equal(stats.announcements, 0);
    } finally {
      lab.dropAnnouncements(false);
    }
  });

  describe('CGNAT: the router holds 100.64.7.7', () => {
    before(() => lab.setWanAddress(CGNAT));
    after(() => lab.setWanAddress(PUBLIC_1));

    test('NAT-PMP answers result 3: router_no_public', async () => {
      const r = await run({ op: 'natpmp' });
      assert.equal(r.ok, false);
      assert.equal(r.code, 'router_no_public');
      assert.match(String(r.message), /no public address.*carrier-grade NAT/);
      assert.equal((r.noPublic as Line).protocol, 'natpmp');
    });

    test('UPnP answers an empty NewExternalIPAddress: router_no_public', async () => {
      const r = await run({ op: 'upnp' });
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.code, 'router_no_public');
      assert.equal((r.noPublic as Line).protocol, 'upnp');
    });

    test('the router source reports it as CGNAT evidence', async () => {
      const r = await run({ op: 'source' });
      const [res] = r.results as Line[];
      assert.equal(res.ok, false);
      assert.equal(res.code, 'router_no_public');
      const ev = res.evidence as Line;
      assert.equal(ev.outcome, 'no_public');
      assert.equal(ev.protocol, 'natpmp');
      assert.equal(ev.gateway, lab.gateway);
      assert.match(String(ev.note), /carrier-grade NAT/);
      assert.deepEqual(
        res.learned,
        { [lab.gateway]: 'natpmp' },
        'a "no public address" answer is an answer: NAT-PMP works',
      );
    });
  });

  describe('a gateway that does not answer', () => {
    test('every request dropped: router_timeout naming each protocol', async () => {
      sh(
        'ip',
        ['netns', 'exec', lab.router, 'nft', '-f', '-'],
        'table inet ddnsblock {\n  chain input {\n    type filter hook input priority -10;\n    udp dport { 1900, 5351 } drop\n  }\n}\n',
      );
      try {
        const r = await run({ op: 'source', protocolTimeoutMs: 400 });
        const [res] = r.results as Line[];
        assert.equal(res.ok, false);
        assert.equal(res.code, 'router_timeout');
        assert.match(String(res.message), /did not answer NAT-PMP within 400 ms/);
        assert.match(String(res.message), /did not answer the UPnP search within/);
        assert.equal((res.evidence as Line).outcome, 'no_answer');
      } finally {
        spawnSync('ip', ['netns', 'exec', lab.router, 'nft', 'delete', 'table', 'inet', 'ddnsblock']);
      }
    });

    test('nothing listening (router software stopped): NAT-PMP refused at once', async () => {
      await lab.stopMiniupnpd();
      try {
        const r = await run({ op: 'natpmp', timeoutMs: 3000 });
        assert.equal(r.ok, false);
        assert.equal(r.code, 'router_refused');
        assert.match(String(r.message), /does not offer NAT-PMP/);
      } finally {
        await lab.startMiniupnpd();
      }
      const again = await run({ op: 'natpmp' });
      assert.equal(
        again.address,
        PUBLIC_1,
        `works again once the router software is back: ${JSON.stringify(again)}\n${lab.log().slice(-1500)}`,
      );
    });
  });
});
