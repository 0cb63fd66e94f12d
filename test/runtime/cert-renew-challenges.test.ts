/**
 * cert-renew's other challenges in a real Node-RED runtime (node-red-node-test-helper), without any
 * provider account: HTTP-01 on a port of the node's own, validated for real by Pebble (its
 * `httpPort` is that port; the name resolves to 127.0.0.1 at a real BIND), the CGNAT diagnosis
 * from what public-ip-watch reports, the refusals at deploy time; and DNS-PERSIST-01 against the
 * shim CA of test/support/persist-shim.ts. Node-RED's own Catch, Status and Complete nodes watch.
 * (HTTP-01 on Node-RED's own HTTP server: test/runtime/started-node-red-http01.test.ts.)
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';

import { join } from 'node:path';
import { helper, nodeModule, helperServer } from '../support/node-red';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';
import { freePort, portOpen } from '../support/ports';
import { dnsRig } from '../support/acme-dns-rig';
import { startPersistShim, type PersistShim } from '../support/persist-shim';
import { observe, observerNodes } from '../support/observer';
import type { DnsProvider } from '../../src/core/providers/types';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'home.test';
const nodes = [nodeModule('ddns-account'), nodeModule('cert-renew')];

describe('cert-renew node: HTTP-01 and DNS-PERSIST-01, no provider account', { skip }, () => {
  let bind: BindServer;
  let pebble: PebbleServer;
  let persistCa: PebbleServer;
  let shim: PersistShim;
  let user: DnsProvider;
  let dir: string;
  let httpPort: number;

  helperServer('ddns-cert-challenges-', (d) => (dir = d));
  before(async () => {
    bind = await startBind([{ name: ZONE, records: ['www 60 IN A 127.0.0.1'] }]);
    httpPort = await freePort();
    pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, httpPort });
    persistCa = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
    shim = await startPersistShim(persistCa, bind, 'draft02');
    ({ provider: user } = dnsRig(bind));
  });
  after(async () => {
    await shim?.proxy.close();
    await user?.close?.();
    await persistCa?.stop();
    await pebble?.stop();
    await bind?.stop();
  });

  const at = { z: 'f1', x: 100, y: 100 };
  const flow = (over: Record<string, unknown>) => [
    { id: 'f1', type: 'tab', label: 'certificates' },
    {
      id: 'cr',
      type: 'cert-renew',
      ...at,
      names: `www.${ZONE}`,
      challenge: 'http-01',
      http01Port: httpPort,
      ca: 'custom',
      directoryUrl: pebble.directoryUrl,
      caCert: pebble.caPem,
      outDir: join(dir, 'out'),
      checkOnStart: false,
      authServers: `127.0.0.1:${bind.port}`,
      wires: [['out'], ['alerts']],
      ...over,
    },
    ...observerNodes('cr', at),
  ];
  const logged = () =>
    helper
      .log()
      .args.map((a: unknown[]) => JSON.stringify(a))
      .join('\n');

  test('HTTP-01 on its own port: issued by Pebble with no account; the port is open only during the order', async () => {
    await helper.load(nodes, flow({}));
    const h = observe('cr', 60_000);
    assert.equal(await portOpen(httpPort), false, 'nothing listens before the order');
    await h.input({ payload: 'check' });
    assert.equal(h.caught.length, 0, h.caught[0]?.error?.message);
    const p = h.out[0].payload;
    assert.equal(p.renewed, true);
    assert.deepEqual(p.names, [`www.${ZONE}`]);
    assert.match(pebble.log(), /validate w\/ HTTP: http:\/\/www\.home\.test:\d+\/\.well-known\/acme-challenge\//);
    assert.equal(await portOpen(httpPort), false, 'nothing listens after the order');
    assert.equal(h.lastStatus()?.fill, 'green');
  });

  test("HTTP-01 and public-ip-watch's report of a WAN address in 100.64.0.0/10: the CGNAT diagnosis, no order", async () => {
    await helper.load(nodes, flow({ outDir: join(dir, 'cgnat') }));
    const h = observe('cr', 30_000);
    const orders = () => pebble.log().split('POST /order-plz').length;
    const before = orders();
    // public-ip-watch's payload: the public address and the router's WAN address
    const end = await h.input({ payload: { ipv4: '203.0.113.5', wanAddress: '100.64.9.9' }, force: true });
    assert.equal(h.caught.length, 1);
    assert.equal(end.payload.code, 'http01_cgnat');
    assert.match(end.payload.error, /HTTP-01 cannot work for www\.home\.test: CGNAT/);
    assert.match(end.payload.error, /100\.64\.9\.9/);
    assert.equal(end.payload.retryable, false);
    assert.equal(h.lastStatus()?.fill, 'red');
    assert.equal(orders(), before, 'the CA was not asked for an order');
  });

  test('a wildcard with HTTP-01 is refused at deploy, with the reason', async () => {
    await helper.load(nodes, flow({ names: `www.${ZONE}, *.${ZONE}` }));
    assert.match(
      logged(),
      /\*\.home\.test is a wildcard name, and certificate authorities issue wildcards only through DNS-01/,
    );
  });

  test('DNS-01 still needs an account; HTTP-01 on a Node-RED server not mounted at / is refused with the reason', async () => {
    await helper.load(nodes, flow({ challenge: 'dns-01' }));
    assert.match(logged(), /choose a provider account/);
    await helper.unload();
    helper.settings({ userDir: dir, httpNodeRoot: '/api', httpAdminRoot: '/admin' });
    try {
      await helper.load(nodes, flow({ challenge: 'http-01-node' }));
      assert.match(logged(), /Node-RED serves its HTTP endpoints under \/api and its editor under \/admin/);
    } finally {
      helper.settings({ userDir: dir });
    }
  });

  test('DNS-PERSIST-01: the record to create is said; once the user made it, issued with no account and no DNS write', async () => {
    await helper.load(
      nodes,
      flow({
        challenge: 'dns-persist-01',
        directoryUrl: shim.proxy.directoryUrl,
        caCert: shim.proxy.caPem,
        outDir: join(dir, 'persist'),
      }),
    );
    const h = observe('cr', 60_000);
    const first = await h.input({ payload: 'check' });
    assert.equal(first.payload.code, 'persist_record_missing');
    assert.equal(first.payload.retryable, true);
    const m = /(_validation-persist\.www\.home\.test) TXT "([^"]+)"/.exec(first.payload.error);
    assert.ok(m, first.payload.error);
    assert.match(m[2], /^persist\.pebble\.test; accounturi=https:\/\/127\.0\.0\.1:\d+\/account-hash\/sha-256\//);
    assert.equal(h.alerts[0]?.payload.state, 'failing');
    await user.setTxt!(m[1], m[2]); // the user, once
    await h.input({ payload: 'check' });
    assert.equal(h.out.length, 1, h.caught.at(-1)?.payload?.error);
    assert.equal(h.out[0].payload.renewed, true);
    assert.deepEqual(
      shim.validations.map((v) => v.ok),
      [true],
    );
    await user.deleteTxt!(m[1], m[2]);
  });
});
