/**
 * Interface address events in a network namespace made by the test: the watcher runs inside it
 * (test/router/client.ts) while the test adds and removes addresses with `ip -n`.
 * Kernel behaviour used: IPv6 duplicate address detection (tentative → usable after ~1 s;
 * `dadfailed` when the peer already holds the address), privacy addresses made from a
 * `mngtmpaddr` address when use_tempaddr=2 (ip-address(8), RFC 8981).
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  createLinkLab,
  ipn,
  leftoverNamespaces,
  nsExec,
  skipWithoutNetns,
  spawnInNs,
  type NsChild,
  type NsTask,
} from '../support/netns';

const CLIENT = join(__dirname, 'client.js');
const skip = skipWithoutNetns({ miniupnpd: false });

type Snapshot = {
  ipv4: string[];
  ipv6: string[];
  addresses: Array<{ address: string }>;
  skipped: string[];
  via: string;
};
type Line = Record<string, unknown>;
const snap = (l: Line) => l.snapshot as Snapshot;

/** /proc/net/if_inet6 spells addresses as 32 hex digits. */
function hex6(a: string): string {
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

describe('interface events in a network namespace', { skip }, () => {
  let lab: { host: string; peer: string; close(): Promise<void> };
  let client: NsChild;

  before(async () => {
    lab = await createLinkLab();
    nsExec(lab.host, 'sysctl', '-qw', 'net.ipv6.conf.eth0.use_tempaddr=2');
    nsExec(lab.host, 'sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=1');
    // Duplicate detection lasts one retransmission timer (1 s by default): shorter keeps the test quick.
    nsExec(lab.host, 'sysctl', '-qw', 'net.ipv6.neigh.eth0.retrans_time_ms=300');
    client = spawnInNs(lab.host, CLIENT);
  });

  after(async () => {
    await client?.stop();
    await lab?.close();
    assert.deepEqual(leftoverNamespaces(), [], 'no namespace of this run is left behind');
  });

  describe('with ip monitor', () => {
    let w: NsTask;
    const changes = () => w.lines.filter((l) => l.event === 'change');
    const waitChange = (pred: (s: Snapshot) => boolean, what: string) =>
      w.waitFor((l) => l.event === 'change' && pred(snap(l)), 10_000, what);

    before(async () => {
      w = client.start({ op: 'ifwatch', interface: 'eth0' });
      const ready = await w.waitFor((l) => l.event === 'ready', 15_000, 'the interface watcher');
      assert.equal(ready.mode, 'monitor');
    });
    after(async () => {
      if (w) await client.stopTask(w);
    });

    test('the start state is reported once', () => {
      const first = changes()[0];
      assert.ok(first, 'a start snapshot');
      assert.equal(snap(first).via, 'start');
      assert.deepEqual(snap(first).ipv4, []);
    });

    test('an IPv4 address added and removed is seen', async () => {
      ipn(lab.host, 'addr', 'add', '192.0.3.50/24', 'dev', 'eth0');
      const added = await waitChange((s) => s.ipv4.includes('192.0.3.50'), 'the new IPv4 address');
      assert.equal(snap(added).via, 'monitor');
      ipn(lab.host, 'addr', 'del', '192.0.3.50/24', 'dev', 'eth0');
      await waitChange((s) => !s.ipv4.includes('192.0.3.50'), 'the IPv4 address gone');
    });

    test('a new IPv6 address is published only after duplicate detection, then its removal is seen', async () => {
      const a = '2a01:4f8:10:20::50';
      ipn(lab.host, 'addr', 'add', `${a}/64`, 'dev', 'eth0');
      const flagsNow = nsExec(lab.host, 'ip', '-6', 'addr', 'show', 'dev', 'eth0');
      assert.match(
        flagsNow,
        /2a01:4f8:10:20::50\/64 scope global tentative/,
        'the kernel runs duplicate detection first',
      );
      const seen = await waitChange((s) => s.ipv6.includes(a), 'the IPv6 address after duplicate detection');
      const flags = (seen.if6 as Record<string, number>)[hex6(a)];
      assert.equal(flags & 0x40, 0, `published while tentative (flags 0x${flags.toString(16)})`);
      for (const l of changes()) {
        if (l === seen) break;
        assert.ok(!snap(l).ipv6.includes(a), 'not in any earlier snapshot');
      }
      ipn(lab.host, 'addr', 'del', `${a}/64`, 'dev', 'eth0');
      await waitChange((s) => !s.ipv6.includes(a), 'the IPv6 address gone');
    });

    test('temporary (privacy) and failed-duplicate addresses are never published', async () => {
      const stable = '2a01:4f8:10:30::1';
      // A duplicate: the peer already holds it, so our copy ends "dadfailed".
      const dup = '2a01:4f8:10:40::99';
      ipn(lab.peer, 'addr', 'add', `${dup}/64`, 'dev', 'eth0', 'nodad');
      ipn(lab.host, 'addr', 'add', `${dup}/64`, 'dev', 'eth0');
      ipn(lab.host, 'addr', 'add', `${stable}/64`, 'dev', 'eth0', 'mngtmpaddr');
      await waitChange((s) => s.ipv6.includes(stable), 'the stable address');
      // The kernel now makes a temporary address from the mngtmpaddr prefix (after its own DAD).
      let temp = '';
      for (let i = 0; i < 60 && !temp; i++) {
        const m = /inet6 (2a01:4f8:10:30:[0-9a-f:]+)\/64 scope global temporary/.exec(
          nsExec(lab.host, 'ip', '-6', 'addr', 'show', 'dev', 'eth0'),
        );
        if (m && !/tentative/.test(m[0])) temp = m[1];
        else await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(temp, 'the kernel made a temporary address');
      for (let i = 0; i < 60 && !/dadfailed/.test(nsExec(lab.host, 'ip', '-6', 'addr', 'show', 'to', dup)); i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(nsExec(lab.host, 'ip', '-6', 'addr', 'show', 'to', dup), /dadfailed/);
      // A marker change after both: its snapshot must list neither as usable, and say why.
      ipn(lab.host, 'addr', 'add', '192.0.3.51/24', 'dev', 'eth0');
      const marker = snap(await waitChange((s) => s.ipv4.includes('192.0.3.51'), 'the marker address'));
      assert.ok(
        !marker.ipv6.includes(temp) && !marker.addresses.some((x) => x.address === temp),
        'temporary address not published',
      );
      assert.ok(
        !marker.ipv6.includes(dup) && !marker.addresses.some((x) => x.address === dup),
        'failed duplicate not published',
      );
      assert.ok(
        marker.skipped.some((x) => x.startsWith(temp) && /temporary/.test(x)),
        `skipped lists the temporary one: ${marker.skipped.join('; ')}`,
      );
      assert.ok(
        marker.skipped.some((x) => x.startsWith(dup) && /dadfailed/.test(x)),
        `skipped lists the duplicate: ${marker.skipped.join('; ')}`,
      );
      for (const l of changes()) {
        assert.ok(!snap(l).ipv6.includes(temp) && !snap(l).ipv6.includes(dup), 'never in any snapshot');
      }
      ipn(lab.host, 'addr', 'del', '192.0.3.51/24', 'dev', 'eth0');
      ipn(lab.host, 'addr', 'del', `${dup}/64`, 'dev', 'eth0');
    });
  });

  test('where "ip monitor" is missing (BusyBox), polling finds the change', async () => {
    // `false` stands for BusyBox's ip: it exits at once with an error instead of monitoring.
    const w = client.start({ op: 'ifwatch', interface: 'eth0', ipCommand: 'false', pollMs: 300 });
    const isFallback = (l: Line) => l.event === 'error' && l.code === 'monitor_unavailable';
    await w.waitFor((l) => l.event === 'ready', 15_000, 'the interface watcher');
    const fallback = w.lines.find(isFallback) ?? (await w.waitFor(isFallback, 10_000, 'the fallback notice'));
    assert.match(String(fallback.message), /checking the addresses every 0.3 s instead/);
    ipn(lab.host, 'addr', 'add', '192.0.3.60/24', 'dev', 'eth0');
    const seen = await w.waitFor(
      (l) => l.event === 'change' && snap(l).ipv4.includes('192.0.3.60'),
      10_000,
      'the polled change',
    );
    assert.equal(snap(seen).via, 'poll');
    ipn(lab.host, 'addr', 'del', '192.0.3.60/24', 'dev', 'eth0');
    await w.waitFor((l) => l.event === 'change' && !snap(l).ipv4.includes('192.0.3.60'), 10_000, 'the polled removal');
    await client.stopTask(w);
  });
});
