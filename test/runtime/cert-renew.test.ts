/**
 * cert-renew in a real Node-RED runtime (node-red-node-test-helper) with a real Pebble and a real
 * BIND 9: an RFC 2136 provider account sets the DNS-01 TXT records, the node writes the files.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Node-RED messages are untyped
type AnyMsg = Record<string, any>;
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helper, nodeModule, waitFor } from '../support/node-red';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'home.test';
const nodes = [nodeModule('ddns-account'), nodeModule('cert-renew')];

describe('cert-renew node', { skip }, () => {
  let bind: BindServer;
  let pebble: PebbleServer;
  let dir: string;

  before(async () => {
    bind = await startBind([{ name: ZONE, records: ['www 60 IN A 127.0.0.1'] }]);
    pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}` });
    dir = mkdtempSync(join(tmpdir(), 'ddns-cert-node-'));
    helper.settings({ userDir: dir });
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    await pebble?.stop();
    await bind?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const flow = (over: Record<string, unknown> = {}, provider = 'rfc2136') => [
    {
      id: 'acc',
      type: 'ddns-account',
      name: 'bind',
      provider,
      settings:
        provider === 'rfc2136'
          ? { server: `127.0.0.1:${bind.port}`, keyName: bind.keys.sha256.name, algorithm: 'hmac-sha256' }
          : {},
    },
    {
      id: 'cr',
      type: 'cert-renew',
      account: 'acc',
      names: `www.${ZONE}, *.${ZONE}`,
      ca: 'custom',
      directoryUrl: pebble.directoryUrl,
      caCert: pebble.caPem,
      outDir: join(dir, 'out'),
      checkOnStart: false,
      propagationTimeout: 30,
      authServers: `127.0.0.1:${bind.port}`,
      wires: [['out'], ['alerts']],
      ...over,
    },
    { id: 'out', type: 'helper' },
    { id: 'alerts', type: 'helper' },
  ];
  const creds = () => ({ acc: { tsigSecret: bind.keys.sha256.secret } });

  test('issues on input, then reports "not due"; files and status; no secret anywhere', async () => {
    await helper.load(nodes, flow(), creds());
    const cr = helper.getNode('cr');
    const out = helper.getNode('out');
    const got: Array<AnyMsg> = [];
    out.on('input', (m: AnyMsg) => got.push(m));
    const statuses: unknown[] = [];
    const origStatus = cr.status.bind(cr);
    cr.status = (s: unknown) => {
      statuses.push(s);
      return origStatus(s);
    };
    cr.receive({ payload: 'check' });
    await waitFor(() => got.length === 1, 60_000, 50, 'the first certificate');
    const p = got[0].payload;
    assert.equal(p.ok, true);
    assert.equal(p.renewed, true);
    assert.equal(got[0].topic, 'certificate');
    assert.ok(p.daysLeft > 300);
    assert.equal(statSync(p.paths.privkey).mode & 0o777, 0o600);
    assert.ok(existsSync(p.paths.fullchain));
    assert.ok(existsSync(join(dir, 'ddns-acme')), 'the ACME account key lives in the user directory');
    cr.receive({ payload: 'again' });
    await waitFor(() => got.length === 2, 30_000, 50, 'the second check');
    assert.equal(got[1].payload.renewed, false);
    assert.match(String((statuses.at(-1) as { text: string }).text), /days-left|days left/);
    assert.equal((statuses.at(-1) as { fill: string }).fill, 'green');
    const everything = JSON.stringify([got, statuses, helper.log().args?.map?.((a: unknown) => a)]);
    assert.ok(!everything.includes(bind.keys.sha256.secret), 'the TSIG secret never appears');
  });

  test('a provider without TXT support is refused with a clear error', async () => {
    await helper.load(nodes, flow({}, 'dryrun'), {});
    const cr = helper.getNode('cr');
    const errors: string[] = [];
    await new Promise<void>((resolve) => {
      cr.receive({ payload: 1 });
      cr.on('call:error', (call: { args: unknown[] }) => {
        errors.push(String(call.args[0]));
        resolve();
      });
      setTimeout(resolve, 1000);
    });
    const logged = helper
      .log()
      .args.map((a: unknown[]) => JSON.stringify(a))
      .join('\n');
    assert.match(logged + errors.join('\n'), /errors\.no-txt|cannot set TXT records/);
  });

  test('invalid configuration: red status, error, no crash', async () => {
    await helper.load(nodes, flow({ names: 'not a name!', directoryUrl: 'ftp://x' }), creds());
    const logged = helper
      .log()
      .args.map((a: unknown[]) => JSON.stringify(a))
      .join('\n');
    assert.match(logged, /cert-renew\.errors\.invalid-config|configuration is invalid/);
    assert.match(logged, /not a valid certificate name/);
  });

  test('DNS-01 cannot be proven (TXT wait times out): alert once, error with the msg, old files untouched', async () => {
    // The account writes to a zone the node does not watch: the TXT never becomes visible there.
    const other = await startBind([{ name: ZONE }]);
    try {
      await helper.load(
        nodes,
        flow({
          names: `nope.${ZONE}`,
          outDir: join(dir, 'nope'),
          authServers: `127.0.0.1:${other.port}`,
          propagationTimeout: 10,
        }),
        creds(),
      );
      const cr = helper.getNode('cr');
      const alerts: Array<AnyMsg> = [];
      helper.getNode('alerts').on('input', (m: AnyMsg) => alerts.push(m));
      const failed = new Promise<void>((resolve) => cr.on('call:error', () => resolve()));
      cr.receive({ payload: 'x', _msgid: 'm1' });
      await failed;
      await waitFor(() => alerts.length > 0, 5000, 20, 'the alert');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0].payload.state, 'failing');
      assert.match(alerts[0].payload.error, /not visible at the authoritative servers/);
      assert.equal(existsSync(join(dir, 'nope', 'cert.pem')), false);
      assert.deepEqual(
        bind.dig(`_acme-challenge.nope.${ZONE}`, 'TXT'),
        [],
        'the TXT record was removed after the failure',
      );
    } finally {
      await other.stop();
    }
  });
});
