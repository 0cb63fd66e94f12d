/**
 * AAAA records for LAN hosts in the real Node-RED runtime (node-red-node-test-helper): one
 * dns-update with three names (this host's own address, a literal interface identifier, a MAC's
 * EUI-64) against a real BIND 9 (named) over RFC 2136 with TSIG
 * (https://www.rfc-editor.org/rfc/rfc2136). The payloads are public-ip-watch's (src/core/ip/payload.ts):
 * a renumbering (a new prefix) moves all three names in one pass.
 */
import { after, afterEach, before, test } from '../support/suite';
import assert from 'node:assert/strict';
import { closeHttpPools } from '../../src/core/http';
import { rfc2136Account, skipWithoutBind, startBind } from '../support/bind';
import { helper, nodeModule } from '../support/node-red';
import { observe, observerNodes, type Msg } from '../support/observer';

before(async () => {
  await helper.startServer();
});
let loaded = false;
afterEach(async () => {
  if (loaded) {
    loaded = false;
    await helper.unload();
  }
});
after(async () => {
  await helper.stopServer();
  await closeHttpPools();
});

const NAMES = 'pi.home.test nas.home.test@mac(00:11:22:33:44:55), printer.home.test@::1234';

function flow(account: Msg, hostnames = NAMES, families = 'auto'): Msg[] {
  return [
    { id: 'acc', type: 'ddns-account', name: 'BIND', ...account },
    {
      id: 'u',
      type: 'dns-update',
      account: 'acc',
      hostnames,
      families,
      minInterval: 0,
      contextStore: '',
      alertAfter: 3,
      wires: [['out'], ['alerts']],
    },
    ...observerNodes('u'),
  ];
}

async function load(f: Msg[], credentials: Msg = {}) {
  await helper.load([nodeModule('ddns-account'), nodeModule('dns-update')], f, credentials);
  loaded = true;
  return observe('u');
}

/** What public-ip-watch sends for an IPv6 change (its stable address, the /64 network). */
function payload(ipv6: string, prefix: string, previous: string | null): Msg {
  return {
    ipv4: null,
    ipv6,
    ipv6Prefix: prefix,
    prefixChanged: previous !== null,
    previous: { ipv4: null, ipv6: previous },
    changed: ['ipv6'],
    sources: { ipv6: { agreedBy: ['interface'], reports: [] } },
    checkedAt: new Date().toISOString(),
  };
}

const results = (m: Msg) => m.payload.results as Msg[];

test(
  'dns-update v6 hosts: self, literal and mac names get their AAAA, and all move with one new prefix',
  { skip: skipWithoutBind() },
  async () => {
    const bind = await startBind([{ name: 'home.test' }]);
    try {
      const { credentials, ...account } = rfc2136Account(bind);
      const h = await load(flow(account), { acc: credentials });
      const r1 = await h.input({ payload: payload('2001:db8:1:2::10', '2001:db8:1:2::/64', null) });
      assert.equal(r1.error, undefined, r1.error?.message);
      assert.deepEqual(
        results(r1).map((r) => [r.hostname, r.family, r.status, r.address]),
        [
          ['pi.home.test', 'ipv6', 'updated', '2001:db8:1:2::10'],
          ['nas.home.test', 'ipv6', 'updated', '2001:db8:1:2:211:22ff:fe33:4455'],
          ['printer.home.test', 'ipv6', 'updated', '2001:db8:1:2::1234'],
        ],
      );
      assert.deepEqual(bind.dig('pi.home.test', 'AAAA'), ['2001:db8:1:2::10']);
      assert.deepEqual(bind.dig('nas.home.test', 'AAAA'), ['2001:db8:1:2:211:22ff:fe33:4455']);
      assert.deepEqual(bind.dig('printer.home.test', 'AAAA'), ['2001:db8:1:2::1234']);

      // the same prefix again: nothing is sent
      const r2 = await h.input({ payload: payload('2001:db8:1:2::10', '2001:db8:1:2::/64', '2001:db8:1:2::10') });
      assert.deepEqual(
        results(r2).map((r) => r.status),
        ['unchanged', 'unchanged', 'unchanged'],
      );

      // the provider renumbers: one msg, three new AAAA records, the old ones gone
      const r3 = await h.input({ payload: payload('2001:db8:77:8::10', '2001:db8:77:8::/64', '2001:db8:1:2::10') });
      assert.equal(r3.error, undefined, r3.error?.message);
      assert.deepEqual(
        results(r3).map((r) => `${r.hostname} ${r.status} ${r.address}`),
        [
          'pi.home.test updated 2001:db8:77:8::10',
          'nas.home.test updated 2001:db8:77:8:211:22ff:fe33:4455',
          'printer.home.test updated 2001:db8:77:8::1234',
        ],
      );
      assert.deepEqual(bind.dig('pi.home.test', 'AAAA'), ['2001:db8:77:8::10']);
      assert.deepEqual(bind.dig('nas.home.test', 'AAAA'), ['2001:db8:77:8:211:22ff:fe33:4455']);
      assert.deepEqual(bind.dig('printer.home.test', 'AAAA'), ['2001:db8:77:8::1234']);
      assert.equal(h.out.length, 3, 'one output msg per input');
      assert.equal(h.caught.length, 0);

      // only a prefix (a router's LAN prefix): the LAN hosts move, this host's name keeps its record
      const r4 = await h.input({ payload: { ipv6Prefix: '2001:db8:5:6::/64' } });
      assert.deepEqual(
        results(r4).map((r) => `${r.hostname} ${r.status} ${r.address}`),
        [
          'nas.home.test updated 2001:db8:5:6:211:22ff:fe33:4455',
          'printer.home.test updated 2001:db8:5:6::1234',
          'pi.home.test skipped ',
        ],
      );
      assert.match(results(r4)[2].message, /only an IPv6 prefix/);
      assert.deepEqual(bind.dig('pi.home.test', 'AAAA'), ['2001:db8:77:8::10']);
      assert.deepEqual(bind.dig('printer.home.test', 'AAAA'), ['2001:db8:5:6::1234']);

      // only outside services answered, and they saw this host's temporary address (public-ip-watch
      // says so in ipv6Stability): its /64 is right for the LAN hosts, the address is not this host's
      const temp = '2001:db8:9:9:9d3c:11aa:4b2e:7f01';
      const r5 = await h.input({
        payload: { ...payload(temp, '2001:db8:9:9::/64', '2001:db8:77:8::10'), ipv6Stability: 'temporary' },
      });
      assert.equal(r5.error, undefined, r5.error?.message);
      assert.deepEqual(
        results(r5).map((r) => `${r.hostname} ${r.status} ${r.address}`),
        [
          'nas.home.test updated 2001:db8:9:9:211:22ff:fe33:4455',
          'printer.home.test updated 2001:db8:9:9::1234',
          'pi.home.test skipped ',
        ],
      );
      assert.match(
        results(r5)[2].message,
        /^pi\.home\.test keeps its AAAA record: 2001:db8:9:9:9d3c:11aa:4b2e:7f01 is this computer's temporary \(privacy\) IPv6 address/,
      );
      assert.deepEqual(bind.dig('pi.home.test', 'AAAA'), ['2001:db8:77:8::10'], 'no temporary address published');
      assert.deepEqual(bind.dig('nas.home.test', 'AAAA'), ['2001:db8:9:9:211:22ff:fe33:4455']);
      assert.equal(results(r5)[2].reason, 'temporary-address');
      assert.equal(h.lastStatus()?.fill, 'yellow');
      assert.match(h.lastStatus()?.text ?? '', /^pi\.home\.test IPv6 kept: temporary address · 2\/3 ✓/);
    } finally {
      await bind.stop();
    }
  },
);

test('dns-update v6 hosts: bad host identifiers are clear errors; a bad msg sends nothing', async () => {
  const dry = { provider: 'dryrun', settings: {} };
  // a bad identifier in the node's settings: the node stays idle with a red status and says why
  let h = await load(flow(dry, 'nas.example.com@mac(00:11:22) printer.example.com@2001:db8::1234'));
  const idle = await h.input({ payload: { ipv6: '2001:db8:1:2::1' } });
  assert.equal(h.lastStatus()?.fill, 'red');
  assert.match(idle.error.message, /nas\.example\.com: "00:11:22" is not a MAC address/);
  assert.match(idle.error.message, /printer\.example\.com: The interface identifier 2001:db8::1234 has bits set/);
  assert.equal(h.out.length, 0);
  await helper.unload();
  loaded = false;

  h = await load(flow(dry, 'lab.example.com@::5:0:0:0:1/56'));
  // the prefix given is shorter than the identifier needs: an error, nothing sent
  const bad = await h.input({ payload: { ipv6Prefix: '2001:db8:9::/48' } });
  assert.ok(bad.error);
  assert.match(
    bad.error.message,
    /lab\.example\.com@::5:0:0:0:1\/56: the prefix 2001:db8:9::\/48 is shorter than the \/56/,
  );
  const bad2 = await h.input({ payload: { ipv6Prefix: '2001:db8:9::' } });
  assert.match(bad2.error.message, /not an IPv6 prefix/);
  const bad3 = await h.input({ payload: { ipv6: '2001:db8:1:2::1' }, hostnames: ['x.example.com@mac(zz)'] });
  assert.match(bad3.error.message, /x\.example\.com: "zz" is not a MAC address/);
  assert.equal(h.out.length, 0, 'nothing sent');
  // a /56 identifier takes the subnet from the identifier
  const ok = await h.input({ payload: { ipv6: '2001:db8:1:2ff::9' } });
  assert.deepEqual(
    results(ok).map((r) => `${r.hostname} ${r.address}`),
    ['lab.example.com 2001:db8:1:205::1'],
  );
});
