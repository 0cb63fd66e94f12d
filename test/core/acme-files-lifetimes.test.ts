/**
 * Issue 14 against the real stack (Pebble validating DNS-01 against a real BIND, TXT set through
 * our RFC 2136 provider): the files home servers load (a PKCS#12 file openssl opens with the
 * password, a combined PEM), kept in step with the set and rotated into previous/; certificate
 * lifetimes of 6 and 47 days (Pebble's `certificateValidityPeriod`) renewed at a third of the
 * lifetime left; and ACME Renewal Information (through the shim, as Debian's Pebble lacks it): the
 * point in the CA's window is chosen once and kept (also across a restart), and its Retry-After
 * sets the next check.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { pebbleJob, skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';
import { startShim } from '../support/acme-shim';
import { dnsRig } from '../support/acme-dns-rig';
import { ensureCertificate, type CertificateJob } from '../../src/core/acme/manager';
import { nextCheckAfter } from '../../src/core/acme/renewal';
import { readCertificateSet } from '../../src/core/acme/storage';
import { certInfo, keyMatchesCert, splitPem } from '../../src/core/acme/x509';
import type { DnsProvider } from '../../src/core/providers/types';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'home.test';
const DAY = 86_400_000;

describe('certificate files and lifetimes with Pebble and BIND', { skip }, () => {
  let bind: BindServer;
  const pebbles: Record<string, PebbleServer> = {};
  let provider: DnsProvider;
  let waitVisible: (name: string, value: string) => Promise<void>;
  let dir: string;
  const job = (pebble: PebbleServer, over: Partial<CertificateJob> = {}) =>
    pebbleJob(pebble, dir, [`plex.${ZONE}`], over);

  before(async () => {
    bind = await startBind([{ name: ZONE }]);
    pebbles.six = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, validitySeconds: 6 * 86_400 });
    pebbles.fortySeven = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, validitySeconds: 47 * 86_400 });
    ({ provider, waitVisible } = dnsRig(bind));
    dir = mkdtempSync(join(tmpdir(), 'ddns-acme-files-'));
  });
  after(async () => {
    await provider?.close?.();
    for (const p of Object.values(pebbles)) await p.stop();
    await bind?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const openP12 = (file: string, password: string) =>
    spawnSync('openssl', ['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nodes'], { encoding: 'utf8' });

  test('PKCS#12 and combined PEM: written with the set (0600), opened by openssl, kept in step, rotated into previous/', async () => {
    const out = join(dir, 'plex');
    const j = job(pebbles.six, { outDir: out, pkcs12Password: 'plex-pass', combinedPem: true });
    const r = await ensureCertificate(j, { provider, waitVisible });
    assert.equal(r.renewed, true);
    assert.equal(r.paths.pkcs12, join(out, 'certificate.p12'));
    assert.equal(r.paths.combined, join(out, 'combined.pem'));
    assert.equal(statSync(r.paths.pkcs12!).mode & 0o777, 0o600);
    assert.equal(statSync(r.paths.combined!).mode & 0o777, 0o600);
    const set = (await readCertificateSet(out))!;
    const opened = openP12(r.paths.pkcs12!, 'plex-pass');
    assert.equal(opened.status, 0, opened.stderr);
    const key = opened.stdout.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/)![0];
    const certs = splitPem(opened.stdout);
    assert.ok(keyMatchesCert(key, certs[0]), 'the key in the PKCS#12 file matches its certificate');
    assert.equal(certs[0], set.cert, 'the PKCS#12 file holds the certificate just issued');
    assert.equal(certs.length, splitPem(set.fullchain).length, 'and its whole chain');
    assert.notEqual(openP12(r.paths.pkcs12!, 'wrong').status, 0);
    const combined = readFileSync(r.paths.combined!, 'utf8');
    assert.equal(combined, `${set.fullchain.trimEnd()}\n${set.privkey.trimEnd()}\n`);

    // Not due: nothing written. The password changed: the PKCS#12 file is written again.
    const p12Before = readFileSync(r.paths.pkcs12!);
    const same = await ensureCertificate(j, { provider, waitVisible });
    assert.equal(same.renewed, false);
    assert.deepEqual(readFileSync(same.paths.pkcs12!), p12Before, 'an up-to-date file is left alone');
    const other = await ensureCertificate({ ...j, pkcs12Password: 'new-pass' }, { provider, waitVisible });
    assert.equal(other.renewed, false);
    assert.equal(openP12(other.paths.pkcs12!, 'new-pass').status, 0, 'rewritten with the new password');

    // Renewal: the new files replace the old ones, which move to previous/ with the rest.
    const renewed = await ensureCertificate(
      { ...j, pkcs12Password: 'new-pass' },
      { provider, waitVisible, force: true },
    );
    assert.equal(renewed.renewed, true);
    const prevP12 = join(out, 'previous', 'certificate.p12');
    assert.ok(existsSync(prevP12));
    assert.equal(splitPem(openP12(prevP12, 'new-pass').stdout)[0], set.cert, 'previous/ has the replaced set');
    assert.equal(splitPem(openP12(renewed.paths.pkcs12!, 'new-pass').stdout)[0], (await readCertificateSet(out))!.cert);
    assert.equal(readFileSync(join(out, 'previous', 'combined.pem'), 'utf8'), combined);

    // Switched off, then renewed: no stale PKCS#12 stays live next to the new certificate.
    const plain = await ensureCertificate(job(pebbles.six, { outDir: out }), { provider, waitVisible, force: true });
    assert.equal(plain.paths.pkcs12, undefined);
    assert.equal(existsSync(join(out, 'certificate.p12')), false);
    assert.equal(existsSync(join(out, 'combined.pem')), false);
    // Switched on again while not due: written from the current set at the next check.
    const back = await ensureCertificate(j, { provider, waitVisible });
    assert.equal(back.renewed, false);
    assert.equal(splitPem(openP12(back.paths.pkcs12!, 'plex-pass').stdout)[0], (await readCertificateSet(out))!.cert);
  });

  for (const [which, days] of [
    ['six', 6],
    ['fortySeven', 47],
  ] as const) {
    test(`a ${days}-day certificate: issued, not due, renewal planned with a third of its lifetime left`, async () => {
      const j = job(pebbles[which], { names: [`l${days}.${ZONE}`], outDir: join(dir, `life${days}`) });
      const first = await ensureCertificate(j, { provider, waitVisible });
      assert.equal(first.renewed, true);
      const info = certInfo((await readCertificateSet(j.outDir))!.cert);
      const lifetime = info.notAfter.getTime() - info.notBefore.getTime();
      assert.ok(Math.abs(lifetime - days * DAY) < 2 * 3_600_000, `Pebble issued ${lifetime / DAY} days`);
      const again = await ensureCertificate(j, { provider, waitVisible });
      assert.equal(again.renewed, false);
      const renewAt = Date.parse(again.renewAt!);
      assert.ok(Math.abs(info.notAfter.getTime() - renewAt - lifetime / 3) < 1000, 'a third of the lifetime left');
      // Once that point has come, it is due (the clock moved, nothing else).
      const due = await ensureCertificate(j, { provider, waitVisible, now: () => new Date(renewAt + 60_000) });
      assert.equal(due.renewed, true);
      assert.match(due.reason, /fewer than/);
      // The loop's next check comes at that point when it is sooner than the interval.
      const fresh = await ensureCertificate(j, { provider, waitVisible });
      assert.equal(
        nextCheckAfter(fresh, Date.now(), DAY),
        undefined,
        'renewal is further than a day away: the interval',
      );
      assert.equal(
        nextCheckAfter({ ...fresh, renewAt: new Date(Date.now() + 3_600_000).toISOString() }, Date.now(), DAY),
        3_600_000 + 1000,
        'renewal due before the interval ends: checked then',
      );
    });
  }

  test("ARI: the point in the CA's window is chosen once and kept (also after a restart); its Retry-After sets the next check", async () => {
    let window = { start: new Date(Date.now() + 1 * DAY), end: new Date(Date.now() + 3 * DAY) };
    const shim = await startShim({
      pebbleDirectoryUrl: pebbles.fortySeven.directoryUrl,
      pebbleCaPem: pebbles.fortySeven.caPem,
      ariWindow: () => window,
    });
    try {
      const j: CertificateJob = {
        ...job(pebbles.fortySeven, { names: [`ari.${ZONE}`], outDir: join(dir, 'ari') }),
        directoryUrl: shim.directoryUrl,
        caPem: shim.caPem,
      };
      assert.equal((await ensureCertificate(j, { provider, waitVisible })).renewed, true);
      const session = {};
      const points = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const r = await ensureCertificate(j, { provider, waitVisible }, i < 3 ? session : {});
        assert.equal(r.renewed, false);
        assert.match(r.reason, /inside the CA's suggested window/);
        assert.equal(r.ariRetryAfterMs, 21_600_000, "the shim's Retry-After: 6 h");
        points.add(r.renewAt!);
      }
      assert.equal(points.size, 1, 'one point, kept in memory and on disk (new sessions = restarts)');
      const at = Date.parse([...points][0]);
      assert.ok(at >= window.start.getTime() && at < window.end.getTime(), 'inside the window');
      const r = await ensureCertificate(j, { provider, waitVisible });
      assert.equal(nextCheckAfter(r, Date.now(), DAY), 21_600_000, 'the next check at the Retry-After');
      assert.equal(nextCheckAfter({ ...r, ariRetryAfterMs: 5 }, Date.now(), DAY), 60_000, 'clamped to 1 min');
      assert.equal(nextCheckAfter({ ...r, ariRetryAfterMs: 9 * DAY }, Date.now(), DAY), DAY, 'clamped to 1 day');
      // The CA moves the window (e.g. after an incident): a new point is drawn, inside the new window.
      window = { start: new Date(Date.now() + 10 * DAY), end: new Date(Date.now() + 12 * DAY) };
      const moved = Date.parse((await ensureCertificate(j, { provider, waitVisible }, {})).renewAt!);
      assert.ok(moved >= window.start.getTime() && moved < window.end.getTime());
    } finally {
      await shim.close();
    }
  });
});
