/**
 * cert-renew's core against the real stack: Pebble (Let's Encrypt's test CA) validating DNS-01
 * for real against a real BIND 9, the TXT records set through our RFC 2136 provider, visibility
 * checked through our propagation wait. Nothing simulated except what Debian's Pebble 2.4 lacks
 * (ARI, profiles, a rate-limited newOrder: test/support/acme-shim.ts).
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { pebbleJob, skipWithoutPebble, startPebble, type PebbleOptions, type PebbleServer } from '../support/pebble';
import { startShim } from '../support/acme-shim';
import { dnsRig } from '../support/acme-dns-rig';
import { ensureCertificate, type CertificateJob } from '../../src/core/acme/manager';
import { certInfo, keyMatchesCert, signedBy, splitPem, ariCertId } from '../../src/core/acme/x509';
import { writeCertificateSet, readCertificateSet } from '../../src/core/acme/storage';
import { renewalDecision } from '../../src/core/acme/timing';
import type { DnsProvider } from '../../src/core/providers/types';
import type { DdnsError } from '../../src/core/errors';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'home.test';

describe('ACME DNS-01 with Pebble and BIND', { skip }, () => {
  let bind: BindServer;
  let pebble: PebbleServer;
  let provider: DnsProvider;
  let dir: string;
  let waitVisible: (name: string, value: string) => Promise<void>;
  const job = (over: Partial<CertificateJob> = {}) => pebbleJob(pebble, dir, [`www.${ZONE}`, `*.${ZONE}`], over);
  const txtLeft = () => [
    ...bind.dig(`_acme-challenge.www.${ZONE}`, 'TXT'),
    ...bind.dig(`_acme-challenge.${ZONE}`, 'TXT'),
  ];

  before(async () => {
    bind = await startBind([{ name: ZONE, records: ['www 60 IN A 127.0.0.1'] }]);
    pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}` });
    ({ provider, waitVisible } = dnsRig(bind));
    dir = mkdtempSync(join(tmpdir(), 'ddns-acme-test-'));
  });
  after(async () => {
    await provider?.close?.();
    await pebble?.stop();
    await bind?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('issues a certificate for a name and its wildcard: files, chain, key, modes; TXT records removed', async () => {
    const r = await ensureCertificate(job(), { provider, waitVisible });
    assert.equal(r.renewed, true);
    assert.deepEqual([...r.names].sort(), [`*.${ZONE}`, `www.${ZONE}`]);
    for (const p of Object.values(r.paths)) assert.ok(existsSync(p), p);
    const set = (await readCertificateSet(job().outDir))!;
    const info = certInfo(set.cert);
    assert.deepEqual([...info.names].sort(), [`*.${ZONE}`, `www.${ZONE}`]);
    assert.equal(info.serial, r.serial);
    assert.ok(keyMatchesCert(set.privkey, set.cert), 'the private key belongs to the certificate');
    assert.match(set.privkey, /BEGIN PRIVATE KEY/);
    // chain: leaf ← intermediate(s) ← Pebble's current root
    const chain = splitPem(set.fullchain);
    assert.equal(chain[0], set.cert);
    assert.ok(chain.length >= 2);
    for (let i = 0; i + 1 < chain.length; i++)
      assert.ok(signedBy(chain[i], chain[i + 1]), `certificate ${i} is signed by ${i + 1}`);
    assert.ok(signedBy(chain[chain.length - 1], await pebble.issuingRoot()), "the chain ends at Pebble's root");
    assert.equal(set.chain, chain.slice(1).join(''));
    // cross-check with openssl, the reference tool
    const rootFile = join(dir, 'root.pem');
    writeFileSync(rootFile, await pebble.issuingRoot());
    const v = spawnSync('openssl', ['verify', '-CAfile', rootFile, '-untrusted', r.paths.chain, r.paths.cert], {
      encoding: 'utf8',
    });
    assert.equal(v.status, 0, v.stderr + v.stdout);
    assert.equal(statSync(r.paths.privkey).mode & 0o777, 0o600);
    assert.equal(statSync(r.paths.fullchain).mode & 0o777, 0o644);
    const acct = spawnSync('sh', ['-c', `stat -c %a ${join(dir, 'accounts')}/*.key`], {
      encoding: 'utf8',
    }).stdout.trim();
    assert.equal(acct, '600', 'the ACME account key is 0600');
    assert.deepEqual(txtLeft(), [], 'no _acme-challenge TXT record is left behind');
  });

  test('not due: nothing is ordered; forced: renewed with a fresh key, the old set kept in previous/', async () => {
    const before1 = (await readCertificateSet(job().outDir))!;
    const r1 = await ensureCertificate(job(), { provider, waitVisible });
    assert.equal(r1.renewed, false);
    assert.match(r1.reason, /renewal due when/);
    assert.ok(r1.daysLeft > 300);
    const r2 = await ensureCertificate(job(), { provider, waitVisible, force: true });
    assert.equal(r2.renewed, true);
    assert.notEqual(r2.serial, r1.serial);
    const now = (await readCertificateSet(job().outDir))!;
    assert.notEqual(now.privkey, before1.privkey, 'a fresh key by default');
    const prev = readFileSync(join(job().outDir, 'previous', 'cert.pem'), 'utf8');
    assert.equal(prev, before1.cert);
    // pinned key: same key again
    const r3 = await ensureCertificate(job({ pinKey: true }), { provider, waitVisible, force: true });
    assert.equal(r3.renewed, true);
    assert.equal((await readCertificateSet(job().outDir))!.privkey, now.privkey);
    assert.deepEqual(txtLeft(), []);
  });

  test('RSA keys and a changed name list', async () => {
    const r = await ensureCertificate(job({ names: [`rsa.${ZONE}`], keyType: 'rsa-2048', outDir: join(dir, 'rsa') }), {
      provider,
      waitVisible,
    });
    assert.equal(r.renewed, true);
    const set = (await readCertificateSet(join(dir, 'rsa')))!;
    assert.match(
      spawnSync('openssl', ['pkey', '-noout', '-text'], { input: set.privkey, encoding: 'utf8' }).stdout,
      /2048 bit/,
    );
    const r2 = await ensureCertificate(
      job({ names: [`rsa.${ZONE}`, `rsa2.${ZONE}`], keyType: 'rsa-2048', outDir: join(dir, 'rsa') }),
      { provider, waitVisible },
    );
    assert.equal(r2.renewed, true);
    assert.match(r2.reason, /names changed/);
  });

  test('DNS-01 validation failure (the CA asks a server without the TXT record): clear error, old certificate untouched, TXT removed', async () => {
    const other = await startBind([{ name: ZONE }]);
    const blind = await startPebble({ dnsServer: `127.0.0.1:${other.port}` });
    try {
      const out = join(dir, 'fail');
      const old = { cert: 'OLD CERT', chain: 'OLD CHAIN', fullchain: 'OLD FULLCHAIN', privkey: 'OLD KEY' };
      await writeCertificateSet(out, old);
      await assert.rejects(
        ensureCertificate(
          job({ directoryUrl: blind.directoryUrl, caPem: blind.caPem, outDir: out, names: [`fail.${ZONE}`] }),
          { provider, waitVisible, force: true },
        ),
        (e: DdnsError) => {
          assert.equal(e.code, 'acme_validation');
          assert.equal(e.kind, 'fatal');
          assert.match(e.message, /could not validate fail\.home\.test through DNS-01/);
          return true;
        },
      );
      assert.deepEqual(await readCertificateSet(out), old);
      assert.deepEqual(bind.dig(`_acme-challenge.fail.${ZONE}`, 'TXT'), []);
    } finally {
      await blind.stop();
      await other.stop();
    }
  });

  test('CA unreachable: a transient error that says so', async () => {
    await assert.rejects(
      ensureCertificate(job({ directoryUrl: 'https://127.0.0.1:1/dir', outDir: join(dir, 'unreachable') }), {
        provider,
        waitVisible,
      }),
      (e: DdnsError) => e.kind === 'transient' && /cannot be reached/.test(e.message),
    );
  });

  test("rate limited: one newOrder, the CA's Retry-After carried, no retry loop", async () => {
    const shim = await startShim({
      pebbleDirectoryUrl: pebble.directoryUrl,
      pebbleCaPem: pebble.caPem,
      rateLimitNewOrder: { retryAfterSeconds: 7200 },
    });
    try {
      await assert.rejects(
        ensureCertificate(job({ directoryUrl: shim.directoryUrl, caPem: shim.caPem, outDir: join(dir, 'limited') }), {
          provider,
          waitVisible,
        }),
        (e: DdnsError) => {
          assert.equal(e.code, 'acme_rate_limited');
          assert.equal(e.kind, 'transient');
          assert.equal(e.retryAfterMs, 7_200_000);
          assert.match(e.message, /Next attempt in 2 hours\.$/, 'the wait in words (not "120 minutes")');
          return true;
        },
      );
      assert.equal(shim.newOrderRequests, 1);
    } finally {
      await shim.close();
    }
  });

  test("ARI: the CA's window triggers renewal and the new order names the certificate it replaces; profiles are checked", async () => {
    let window: { start: Date; end: Date } | null = {
      start: new Date(Date.now() + 30 * 86_400_000),
      end: new Date(Date.now() + 31 * 86_400_000),
    };
    const shim = await startShim({
      pebbleDirectoryUrl: pebble.directoryUrl,
      pebbleCaPem: pebble.caPem,
      ariWindow: () => window,
      profiles: { classic: 'the usual', shortlived: '6 days' },
    });
    try {
      const j = job({
        directoryUrl: shim.directoryUrl,
        caPem: shim.caPem,
        outDir: join(dir, 'ari'),
        names: [`ari.${ZONE}`],
      });
      const first = await ensureCertificate(j, { provider, waitVisible });
      assert.equal(first.renewed, true);
      const cert = (await readCertificateSet(j.outDir))!.cert;
      const notDue = await ensureCertificate(j, { provider, waitVisible });
      assert.equal(notDue.renewed, false);
      assert.match(notDue.reason, /suggested window/);
      assert.deepEqual(shim.ariRequests, [ariCertId(cert)]);
      window = { start: new Date(Date.now() - 7_200_000), end: new Date(Date.now() - 3_600_000) };
      const due = await ensureCertificate(j, { provider, waitVisible });
      assert.equal(due.renewed, true);
      assert.match(due.reason, /ACME Renewal Information/);
      await assert.rejects(
        ensureCertificate({ ...j, profile: 'tlsserver' }, { provider, waitVisible, force: true }),
        /does not offer the profile "tlsserver" \(it offers: classic, shortlived\)/,
      );
      // The next order names the certificate it replaces (RFC 9773 §5) and the chosen profile:
      // the shim answers newOrder itself (rate limit) to show what the client sent.
      const renewedCert = (await readCertificateSet(j.outDir))!.cert;
      shim.options.rateLimitNewOrder = { retryAfterSeconds: 60 };
      await assert.rejects(
        ensureCertificate({ ...j, profile: 'shortlived' }, { provider, waitVisible: waitVisible, force: true }, {}),
        /rate limiting/,
      );
      const sent = shim.newOrderPayloads.at(-1)!;
      assert.equal(sent.replaces, ariCertId(renewedCert));
      assert.equal(sent.profile, 'shortlived');
      assert.deepEqual(sent.identifiers, [{ type: 'dns', value: `ari.${ZONE}` }]);
    } finally {
      await shim.close();
    }
  });
});

/**
 * `fn` with a BIND serving ZONE, a Pebble of its own started with `opts` in front of it, a fresh
 * directory and the DNS rig; all stopped and removed after.
 */
async function withOwnPebble(
  opts: Omit<PebbleOptions, 'dnsServer'>,
  prefix: string,
  fn: (pebble: PebbleServer, dir: string, dns: ReturnType<typeof dnsRig>) => Promise<void>,
): Promise<void> {
  const bind = await startBind([{ name: ZONE }]);
  const pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, ...opts });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dns = dnsRig(bind);
  try {
    await fn(pebble, dir, dns);
  } finally {
    await dns.provider.close?.();
    await pebble.stop();
    await bind.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('External Account Binding (ZeroSSL, Google, private CAs)', { skip }, () => {
  test('a CA that requires EAB: refused without it, issues with it', async () => {
    const kid = 'kid-ddns-test';
    const hmacKey = Buffer.from('a-32-byte-secret-for-eab-testing!').toString('base64url');
    await withOwnPebble({ eab: { [kid]: hmacKey } }, 'ddns-eab-', async (pebble, dir, dns) => {
      const base = pebbleJob(pebble, dir, [`eab.${ZONE}`]);
      await assert.rejects(
        ensureCertificate(base, dns),
        (e: DdnsError) => e.kind === 'fatal' && /external account/i.test(e.message),
      );
      const r = await ensureCertificate({ ...base, accountDir: join(dir, 'accounts-eab'), eab: { kid, hmacKey } }, dns);
      assert.equal(r.renewed, true);
    });
  });
});

describe('Pebble with its own defaults (5 % badNonce rejections, authorization reuse)', { skip }, () => {
  test('four orders in a row succeed: acme-client retries a rejected nonce', () =>
    withOwnPebble({ defaults: true }, 'ddns-nonce-', async (pebble, dir, dns) => {
      for (let i = 0; i < 4; i++) {
        const job = pebbleJob(pebble, dir, [`n${i}.${ZONE}`, `*.${ZONE}`], { outDir: join(dir, `live${i}`) });
        const r = await ensureCertificate(job, dns);
        assert.equal(r.renewed, true);
      }
    }));
});

test('renewal timing: a third of the lifetime by default, days when set, ARI window first', () => {
  const nb = new Date('2026-01-01T00:00:00Z');
  const na = new Date('2026-04-01T00:00:00Z'); // 90 days
  assert.equal(renewalDecision({ notBefore: nb, notAfter: na }, new Date('2026-03-01T00:00:00Z')).due, false);
  assert.equal(renewalDecision({ notBefore: nb, notAfter: na }, new Date('2026-03-03T00:00:00Z')).due, true);
  assert.equal(
    renewalDecision({ notBefore: nb, notAfter: na }, new Date('2026-03-20T00:00:00Z'), { renewDaysBefore: 10 }).due,
    false,
  );
  const six = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-01-07T00:00:00Z') };
  assert.equal(renewalDecision(six, new Date('2026-01-04T23:00:00Z')).due, false);
  assert.equal(
    renewalDecision(six, new Date('2026-01-05T01:00:00Z')).due,
    true,
    'short-lived: renew with 2 of 6 days left',
  );
  const ari = { start: new Date('2026-02-01T00:00:00Z'), end: new Date('2026-02-02T00:00:00Z') };
  assert.equal(renewalDecision({ notBefore: nb, notAfter: na }, new Date('2026-02-03T00:00:00Z'), { ari }).due, true);
  assert.equal(renewalDecision({ notBefore: nb, notAfter: na }, new Date('2026-01-20T00:00:00Z'), { ari }).due, false);
  assert.equal(
    renewalDecision({ notBefore: nb, notAfter: na }, new Date('2026-05-01T00:00:00Z')).reason,
    'the certificate has expired',
  );
});
