/**
 * cert-renew (issue 14) in a real Node-RED runtime with a real Pebble issuing short-lived (3-day)
 * certificates and a real BIND: the PKCS#12 file (password from the node's credentials) and the
 * combined PEM; the expiry alert on output 2 when renewal fails within the alert days (Let's
 * Encrypt no longer e-mails); a read-only certificate folder found at deploy (a tmpfs mounted
 * read-only by the test, as root); CA presets that need External Account Binding say where to get
 * the keys.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { helper, nodeModule, waitFor, helperServer } from '../support/node-red';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';
import { observe, observerNodes } from '../support/observer';
import { keyMatchesCert, splitPem } from '../../src/core/acme/x509';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'home.test';
const nodes = [nodeModule('ddns-account'), nodeModule('cert-renew')];
const P12_PASSWORD = 'jellyfin-Pfx-pass-7f3a';

describe('cert-renew node: files, expiry alert, read-only folder', { skip }, () => {
  let bind: BindServer;
  let blind: BindServer;
  let pebble: PebbleServer;
  let dir: string;

  helperServer('ddns-cert-files-', (d) => (dir = d));
  before(async () => {
    bind = await startBind([{ name: ZONE }]);
    blind = await startBind([{ name: ZONE }]); // never gets the TXT records
    pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, validitySeconds: 3 * 86_400 });
  });
  after(async () => {
    await pebble?.stop();
    await blind?.stop();
    await bind?.stop();
  });

  const at = { z: 'f1', x: 100, y: 100 };
  const flow = (over: Record<string, unknown> = {}) => [
    { id: 'f1', type: 'tab', label: 'certificates' },
    {
      id: 'acc',
      type: 'ddns-account',
      name: 'bind',
      provider: 'rfc2136',
      settings: { server: `127.0.0.1:${bind.port}`, keyName: bind.keys.sha256.name, algorithm: 'hmac-sha256' },
    },
    {
      id: 'cr',
      type: 'cert-renew',
      ...at,
      account: 'acc',
      names: `media.${ZONE}`,
      ca: 'custom',
      directoryUrl: pebble.directoryUrl,
      caCert: pebble.caPem,
      outDir: join(dir, 'media'),
      checkOnStart: false,
      propagationTimeout: 10,
      authServers: `127.0.0.1:${bind.port}`,
      wires: [['out'], ['alerts']],
      ...over,
    },
    ...observerNodes('cr', at),
  ];
  const creds = (cr: Record<string, string> = {}) => ({ acc: { tsigSecret: bind.keys.sha256.secret }, cr });
  const logged = () =>
    helper
      .log()
      .args.map((a: unknown[]) => JSON.stringify(a))
      .join('\n');

  test('a short-lived certificate: PKCS#12 + combined PEM written; renewal then fails within the alert days: the expiry alert on output 2', async () => {
    // 3-day certificates, renewal wanted 5 days before the end: due at once after issue, so the
    // next check orders again; the alert days (7) cover the whole lifetime.
    const cfg = { pkcs12: true, combinedPem: true, renewDays: 5, expiryDays: 7 };
    await helper.load(nodes, flow(cfg), creds({ p12Password: P12_PASSWORD }));
    let h = observe('cr', 60_000);
    await h.input({ payload: 'issue' });
    assert.equal(h.caught.length, 0, h.caught[0]?.error?.message);
    const p = h.out[0].payload;
    assert.equal(p.renewed, true);
    assert.ok(p.daysLeft <= 3, `a short-lived certificate (${p.daysLeft} days)`);
    const opened = spawnSync(
      'openssl',
      ['pkcs12', '-in', p.paths.pkcs12, '-passin', `pass:${P12_PASSWORD}`, '-nodes'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(opened.status, 0, opened.stderr);
    const key = opened.stdout.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/)![0];
    assert.ok(keyMatchesCert(key, splitPem(opened.stdout)[0]), 'the key in the PKCS#12 file matches the certificate');
    const combined = readFileSync(p.paths.combined, 'utf8');
    assert.ok(combined.includes(readFileSync(p.paths.fullchain, 'utf8').trim()) && /PRIVATE KEY/.test(combined));
    assert.equal(h.alerts.length, 0);

    // The DNS now fails (the node watches a server that never gets the TXT record): passing trouble.
    await helper.unload();
    await helper.load(
      nodes,
      flow({ ...cfg, authServers: `127.0.0.1:${blind.port}` }),
      creds({ p12Password: P12_PASSWORD }),
    );
    h = observe('cr', 60_000);
    const caught = await h.input({ payload: 'renew' });
    assert.match(caught.error.message, /not visible at the authoritative servers/);
    assert.equal(caught.payload.retryable, true);
    await waitFor(() => h.alerts.some((m) => m.payload.state === 'expiring'), 10_000, 20, 'the expiry alert');
    const states = h.alerts.map((m) => m.payload.state);
    assert.deepEqual(states, ['failing', 'expiring']);
    const e = h.alerts[1];
    assert.equal(e.topic, 'certificate');
    assert.equal(e.payload.retrying, true);
    assert.equal(e.payload.expired, false);
    assert.ok(e.payload.daysLeft <= 3);
    assert.deepEqual(e.payload.names, [`media.${ZONE}`]);
    assert.equal(e.payload.code, 'txt_not_visible');
    assert.match(e.payload.message, /^The certificate for media\.home\.test runs out in .* and has not been renewed/);
    assert.equal(h.lastStatus()?.fill, 'red');
    const everything = JSON.stringify([h.out, h.alerts, h.caught, h.statuses]) + logged();
    assert.ok(!everything.includes(P12_PASSWORD), 'the PKCS#12 password never appears');
  });

  test('the PKCS#12 file without a password: invalid configuration that says so', async () => {
    await helper.load(nodes, flow({ pkcs12: true, outDir: join(dir, 'nopass') }), creds());
    assert.match(logged(), /errors\.no-p12-password|certificate\.p12 needs a password/);
  });

  test('a CA preset that needs External Account Binding, without the keys: says where to get them', async () => {
    await helper.load(nodes, flow({ ca: 'google', outDir: join(dir, 'gts') }), creds());
    assert.match(logged(), /errors\.eab-google|gcloud publicca external-account-keys create/);
    await helper.unload();
    await helper.load(nodes, flow({ ca: 'zerossl', outDir: join(dir, 'zs') }), creds());
    assert.match(logged(), /errors\.eab-zerossl|app\.zerossl\.com\/developer/);
  });

  const notRoot = process.getuid?.() !== 0 ? 'mounting a read-only tmpfs needs root' : false;
  test(
    'a read-only certificate folder is found at deploy: red status and an error saying where to write',
    { skip: notRoot },
    async () => {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro], { encoding: 'utf8' });
      assert.equal(mount.status, 0, mount.stderr);
      try {
        const errors: string[] = [];
        await helper.load(nodes, flow({ outDir: join(ro, 'media') }), creds());
        const cr = helper.getNode('cr');
        cr.on('call:error', (call: { args: unknown[] }) => errors.push(String(call.args[0])));
        const h = observe('cr');
        await waitFor(() => h.lastStatus()?.fill === 'red', 5000, 20, 'the red status');
        await waitFor(() => errors.length > 0, 5000, 20, 'the error');
        assert.match(errors[0], /cannot write the certificate files to .*\/ro\/media: the filesystem is read-only/);
        assert.match(errors[0], /Choose a folder that the user running Node-RED can write/);
        assert.match(String(h.lastStatus()?.text), /status\.not-writable|cannot write/);
      } finally {
        await helper.unload();
        const um = spawnSync('umount', [ro], { encoding: 'utf8' });
        assert.equal(um.status, 0, um.stderr);
      }
    },
  );
});
