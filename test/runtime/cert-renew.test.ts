/**
 * cert-renew in a real Node-RED runtime (node-red-node-test-helper) with a real Pebble and a real
 * BIND 9: an RFC 2136 provider account sets the DNS-01 TXT records, the node writes the files.
 * Node-RED's own Catch, Status and Complete nodes watch it (test/support/observer.ts); a
 * fault-injecting proxy in front of Pebble counts the ACME requests (test/support/acme-fault-proxy.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Node-RED messages are untyped
type AnyMsg = Record<string, any>;
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { helper, nodeModule, waitFor, helperServer } from '../support/node-red';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { skipWithoutPebble } from '../support/pebble';
import { startAcmeLab, type AcmeLab } from '../support/acme-dns-rig';
import { startFaultProxy, type FaultProxy } from '../support/acme-fault-proxy';
import { certRenewFlow, observe } from '../support/observer';
import { selfSignedCertificate } from '../support/openssl';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'home.test';
const nodes = [nodeModule('ddns-account'), nodeModule('cert-renew')];

describe('cert-renew node', { skip }, () => {
  let lab: AcmeLab;
  let bind: BindServer;
  let proxy: FaultProxy;
  let dir: string;

  helperServer('ddns-cert-node-', (d) => (dir = d));
  before(async () => {
    lab = await startAcmeLab([{ name: ZONE, records: ['www 60 IN A 127.0.0.1'] }]);
    bind = lab.bind;
    proxy = await startFaultProxy(lab.pebble);
  });
  after(async () => {
    await proxy?.close();
    await lab?.close();
  });

  const flow = (over: Record<string, unknown> = {}, provider = 'rfc2136') =>
    certRenewFlow(
      lab,
      [
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
      ],
      { account: 'acc', names: `www.${ZONE}, *.${ZONE}`, outDir: join(dir, 'out'), ...over },
    );
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

  test('the names from an environment variable (TypedInput env, issue 15)', async () => {
    process.env.DDNS_TEST_CERT_NAMES = `env.${ZONE}`;
    try {
      await helper.load(
        nodes,
        flow({ names: 'DDNS_TEST_CERT_NAMES', namesType: 'env', outDir: join(dir, 'env') }),
        creds(),
      );
      const got: AnyMsg[] = [];
      helper.getNode('out').on('input', (m: AnyMsg) => got.push(m));
      helper.getNode('cr').receive({ payload: 'check' });
      await waitFor(() => got.length === 1, 60_000, 50, 'the certificate');
      assert.deepEqual(got[0].payload.names, [`env.${ZONE}`]);
    } finally {
      delete process.env.DDNS_TEST_CERT_NAMES;
    }
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

  test('a provider that publishes slowly (netcup) raises the DNS wait to its own, and the log says why', async () => {
    const slow = flow({}, 'netcup').map((n) =>
      n.id === 'acc' ? { ...n, settings: { customerNumber: '12345', domain: ZONE } } : n,
    );
    await helper.load(nodes, slow, { acc: { token: 'netcupApiKeyForTheTest', password: 'netcupApiPassword' } });
    const logged = () =>
      helper
        .log()
        .args.map((a: unknown[]) => JSON.stringify(a))
        .join('\n');
    await waitFor(() => /netcup publishes/.test(logged()), 5000, 20, 'the log line');
    assert.match(logged(), /awaited for up to 30 minutes \(DNS wait: 30 s\)/);
    assert.doesNotMatch(logged(), /netcupApiKeyForTheTest|netcupApiPassword/);
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

  // Issue 12, defect 9: "the result is always sent back", also to a msg that joins a running order.
  test('two overlapping inputs: one ACME order, but an output msg and a done() for each', async () => {
    await helper.load(
      nodes,
      flow({ directoryUrl: proxy.directoryUrl, caCert: proxy.caPem, outDir: join(dir, 'overlap') }),
      creds(),
    );
    const h = observe('cr', 60_000);
    proxy.resetCounters();
    const [a, b] = await Promise.all([h.input({ payload: 1 }), h.input({ payload: 2 })]);
    assert.equal(h.caught.length, 0, h.caught[0]?.error?.message);
    assert.equal(proxy.seen.newOrder, 1, 'one order for both');
    assert.ok(a && b);
    assert.equal(h.completed.length, 2, 'done() for each input');
    assert.equal(h.out.length, 2, 'an output msg for each input');
    const [first, second] = h.out;
    assert.notEqual(first._msgid, second._msgid);
    assert.equal(first.payload.serial, second.payload.serial, 'both carry the one certificate');
    assert.equal(first.payload.renewed, true);
  });

  // Issue 12, defect 9: a failure looks the same to a Catch node whether a msg or the timer started the run.
  test('a failure has one shape for a timed run and for every input msg (each gets its own done(err))', async () => {
    await helper.load(
      nodes,
      flow({ directoryUrl: 'https://127.0.0.1:1/directory', checkOnStart: true, outDir: join(dir, 'down') }),
      creds(),
    );
    const h = observe('cr', 30_000);
    await waitFor(() => h.caught.length === 1, 30_000, 20, 'the timed check at start to fail');
    const [x, y] = await Promise.all([h.input({ payload: 'x', mark: 'x' }), h.input({ payload: 'y', mark: 'y' })]);
    assert.equal(h.caught.length, 3);
    assert.deepEqual(
      [x, y].map((m) => m.mark),
      ['x', 'y'],
      'each input msg reaches Catch with its own properties',
    );
    assert.equal(h.completed.length, 0);
    assert.equal(h.out.length, 0);
    const shape = (m: AnyMsg) => ({ topic: m.topic, keys: Object.keys(m.payload).sort(), ok: m.payload.ok });
    const timed = h.caught[0];
    assert.equal(timed.mark, undefined);
    assert.deepEqual(shape(timed), {
      topic: 'certificate',
      keys: ['code', 'error', 'failures', 'names', 'ok', 'retryable'],
      ok: false,
    });
    for (const m of [x, y]) {
      assert.deepEqual(shape(m), shape(timed));
      assert.match(m.error.message, /cannot be reached/);
      assert.equal(m.payload.error, m.error.message.replace(/^DdnsError: /, ''));
      assert.equal(m.payload.retryable, true);
      assert.deepEqual(m.payload.names, [`www.${ZONE}`, `*.${ZONE}`]);
    }
    assert.equal(h.alerts.filter((m) => m.payload.state === 'failing').length, 1, 'one failing alert');
  });

  // Issue 12: cert-renew must not go to the CA while the account is stopped (noticed (a)), and
  // defect 4: after a stop the certificate on disk is still watched and an alert says it runs out.
  test('account stopped: no order, the status says why; the certificate on disk that runs out soon is alerted', async () => {
    const out = join(dir, 'expiring');
    // The certificate in use: 20 days left (self-signed: only its dates and names matter here).
    selfSignedCertificate(out, 20, [`www.${ZONE}`, `*.${ZONE}`]);
    await helper.load(
      nodes,
      flow({ directoryUrl: proxy.directoryUrl, caCert: proxy.caPem, outDir: out, renewDays: 30 }),
      creds(),
    );
    const h = observe('cr', 30_000);
    // Another node on the account got a fatal answer: the account is stopped.
    helper.getNode('acc').gate.block({ code: 'badauth', message: 'bad credentials (badauth)', since: Date.now() });
    proxy.resetCounters();
    const caught = await h.input({ payload: 'renew' });
    assert.equal(proxy.seen.newOrder, 0, 'no order while the account is stopped');
    assert.match(caught.error.message, /the provider account "bind" is stopped .*bad credentials \(badauth\)/);
    assert.equal(caught.payload.code, 'account_stopped');
    assert.deepEqual(bind.dig(`_acme-challenge.www.${ZONE}`, 'TXT'), []);
    await waitFor(() => h.alerts.some((m) => m.payload.state === 'expiring'), 10_000, 20, 'the expiry alert');
    const failing = h.alerts.find((m) => m.payload.state === 'failing');
    assert.ok(failing, 'the failing alert');
    const expiring = h.alerts.find((m) => m.payload.state === 'expiring')!;
    assert.equal(expiring.topic, 'certificate');
    assert.deepEqual(expiring.payload.names, [`www.${ZONE}`, `*.${ZONE}`]);
    assert.ok(expiring.payload.daysLeft === 19 || expiring.payload.daysLeft === 20);
    assert.equal(expiring.payload.expired, false);
    assert.equal(expiring.payload.code, 'account_stopped');
    assert.match(
      expiring.payload.message,
      /^The certificate for www\.home\.test, \*\.home\.test runs out in (19|20) days \(\d{4}-\d{2}-\d{2}\) and is not being renewed, because renewal stopped: the provider account "bind" is stopped .*Fix that, then send a message to the cert-renew node/,
    );
    const texts = h.statuses.map((m) => String(m.status.text));
    assert.ok(
      texts.some((t) => /account-stopped|not ordering: account "bind" is stopped/.test(t)),
      `the status says why nothing was ordered: ${texts.join(' | ')}`,
    );
    assert.match(texts.at(-1)!, /status\.expiring|days left/);
    assert.equal(h.lastStatus()?.fill, 'red');
  });
});
