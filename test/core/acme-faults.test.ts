/**
 * Issue 12, defect 4: a passing CA fault never stops cert-renew. Real Pebble validating DNS-01
 * against a real BIND, with a fault-injecting HTTPS proxy in front (test/support/acme-fault-proxy.ts):
 * - 503, 429 (with Retry-After), a connection reset and badNonce answers (more than acme-client
 *   retries) at each ACME step: the attempt ends in a
 *   transient DdnsError (a 429 carries the CA's Retry-After), and once the fault is gone the next
 *   attempt issues the certificate; no TXT record is left behind;
 * - badNonce on 50 % of POSTs: every order ends issued or transient, never fatal;
 * - a real invalid challenge (a wrong TXT value) is still the fatal `acme_validation`.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';
import { startFaultProxy, type AcmeFault, type AcmeStep, type FaultProxy } from '../support/acme-fault-proxy';
import { dnsRig } from '../support/acme-dns-rig';
import { ensureCertificate, type CertificateJob, type CertificateResult } from '../../src/core/acme/manager';
import { DdnsError } from '../../src/core/errors';
import type { DnsProvider } from '../../src/core/providers/types';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'faults.test';
const RETRY_AFTER_S = 30;

/** Each step with the rule that reaches it: the authorization is read once after newOrder, then polled. */
const STEPS: Array<{ label: string; step: AcmeStep; skip?: number }> = [
  { label: 'newAccount', step: 'newAccount' },
  { label: 'newOrder', step: 'newOrder' },
  { label: 'authorization read', step: 'authz' },
  { label: 'challenge POST', step: 'challenge' },
  { label: 'authorization poll', step: 'authz', skip: 1 },
  { label: 'finalize', step: 'finalize' },
  { label: 'certificate download', step: 'certificate' },
];
/** badNonce here answers every request of the step: acme-client's own nonce retries run out. */
const FAULTS: AcmeFault[] = ['503', '429', 'reset', 'badNonce'];

type Outcome = { ok: CertificateResult } | { err: unknown };
const attempt = (p: Promise<CertificateResult>): Promise<Outcome> =>
  p.then(
    (ok) => ({ ok }),
    (err: unknown) => ({ err }),
  );

describe('ACME faults through a proxy in front of Pebble', { skip }, () => {
  let bind: BindServer;
  let pebble: PebbleServer;
  let proxy: FaultProxy;
  let provider: DnsProvider;
  let waitVisible: (name: string, value: string) => Promise<void>;
  let dir: string;
  const job = (name: string): CertificateJob => ({
    names: [`${name}.${ZONE}`],
    directoryUrl: proxy.directoryUrl,
    caPem: proxy.caPem,
    keyType: 'ecdsa-p256',
    outDir: join(dir, name),
    accountDir: join(dir, 'accounts'),
  });
  const txtLeft = (name: string) => bind.dig(`_acme-challenge.${name}.${ZONE}`, 'TXT');

  before(async () => {
    bind = await startBind([{ name: ZONE }]);
    pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}` });
    proxy = await startFaultProxy(pebble);
    ({ provider, waitVisible } = dnsRig(bind));
    dir = mkdtempSync(join(tmpdir(), 'ddns-acme-faults-'));
  });
  after(async () => {
    await provider?.close?.();
    await proxy?.close();
    await pebble?.stop();
    await bind?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('without a fault the proxy is transparent: a certificate is issued', async () => {
    proxy.setRule(null);
    proxy.resetCounters();
    const r = await ensureCertificate(job('clean'), { provider, waitVisible });
    assert.equal(r.renewed, true);
    for (const s of ['newAccount', 'newOrder', 'challenge', 'authz', 'finalize', 'certificate'] as const)
      assert.ok(proxy.seen[s] > 0, `the proxy saw ${s}`);
  });

  for (const { label, step, skip: skipFirst } of STEPS) {
    for (const fault of FAULTS) {
      test(`${fault} at ${label}: transient (never fatal), then issued once the fault is gone`, async () => {
        const name = `${fault}-${label.replace(/\W+/g, '-')}`.toLowerCase();
        proxy.resetCounters();
        proxy.setRule({ step, fault, skip: skipFirst, retryAfterSeconds: RETRY_AFTER_S });
        const first = await attempt(ensureCertificate(job(name), { provider, waitVisible }));
        proxy.setRule(null);
        assert.ok(proxy.injected[step] > 0, `the fault was injected at ${label}`);
        if ('err' in first) {
          const e = first.err as DdnsError;
          assert.ok(e instanceof DdnsError, `a DdnsError, not ${String(e)}`);
          assert.equal(e.kind, 'transient', `transient, got ${e.kind} ${e.code}: ${e.message}`);
          assert.notEqual(e.code, 'acme_validation');
          if (fault === '429') assert.equal(e.retryAfterMs, RETRY_AFTER_S * 1000, "the CA's Retry-After is carried");
        } else {
          assert.equal(first.ok.renewed, true); // acme-client's own retry carried it through
        }
        assert.deepEqual(txtLeft(name), [], 'no TXT record left behind');
        if ('err' in first) {
          const second = await ensureCertificate(job(name), { provider, waitVisible });
          assert.equal(second.renewed, true);
          assert.deepEqual(txtLeft(name), []);
        }
      });
    }
  }

  test('badNonce on 50 % of POSTs: every order ends issued or transient, never fatal', async () => {
    const seed = Number(process.env.DDNS_FAULT_SEED ?? Date.now() % 1_000_000);
    console.log(`badNonce seed: ${seed} (replay with DDNS_FAULT_SEED=${seed})`);
    proxy.setRule(null);
    proxy.resetCounters();
    proxy.setBadNonce(0.5, seed);
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        for (let a = 0; a < 3; a++) {
          const o = await attempt(ensureCertificate(job(`nonce${i}`), { provider, waitVisible }));
          if ('ok' in o) {
            outcomes.push('issued');
            break;
          }
          const e = o.err as DdnsError;
          assert.ok(e instanceof DdnsError, `a DdnsError, not ${String(e)}`);
          assert.equal(e.kind, 'transient', `seed ${seed}: transient, got ${e.kind} ${e.code}: ${e.message}`);
          outcomes.push(`transient ${e.code}`);
        }
        assert.deepEqual(txtLeft(`nonce${i}`), []);
      }
    } finally {
      proxy.setBadNonce(0);
    }
    console.log(`badNonce answers: ${proxy.badNonces}; outcomes: ${outcomes.join(', ')}`);
    assert.ok(proxy.badNonces > 10, 'badNonce was answered');
    assert.ok(outcomes.includes('issued'), 'orders were issued despite the badNonce answers');
  });

  test('a real invalid challenge (a wrong TXT value) is still fatal: acme_validation', async () => {
    proxy.setRule(null);
    const wrong: DnsProvider = {
      id: provider.id,
      maxHostsPerCall: provider.maxHostsPerCall,
      setAddresses: (call) => provider.setAddresses(call),
      setTxt: (name, value, signal) => provider.setTxt!(name, `wrong-${value}`, signal),
      deleteTxt: (name, value) => provider.deleteTxt!(name, `wrong-${value}`),
    };
    await assert.rejects(
      ensureCertificate(job('wrong'), {
        provider: wrong,
        waitVisible: (name, value) => waitVisible(name, `wrong-${value}`),
      }),
      (e: DdnsError) => {
        assert.equal(e.kind, 'fatal');
        assert.equal(e.code, 'acme_validation');
        assert.match(e.message, /could not validate wrong\.faults\.test through DNS-01/);
        return true;
      },
    );
    assert.deepEqual(txtLeft('wrong'), []);
  });
});
