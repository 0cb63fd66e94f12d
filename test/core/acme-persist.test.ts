/**
 * DNS-PERSIST-01 (draft-ietf-acme-dns-persist -01 of 24 March 2026 and -02 of 20 September 2026):
 * the record cert-renew asks for, checked read-only at a real BIND, then used with a CA that
 * offers the challenge: test/support/persist-shim.ts in front of Pebble, which validates it by
 * reading that BIND itself. No provider account: the test writes the record once, as the user
 * would; renewals then touch no DNS at all.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutBind, startBind, type BindServer } from '../support/bind';
import { skipWithoutPebble, startPebble, type PebbleServer } from '../support/pebble';
import { dnsRig } from '../support/acme-dns-rig';
import { SHIM_ISSUER, startPersistShim, type PersistShim } from '../support/persist-shim';
import { ensureCertificate, type CertificateJob } from '../../src/core/acme/manager';
import { hashedAccountUri, matchRecord, parseIssueValue, PersistSolver } from '../../src/core/acme/persist';
import { certInfo } from '../../src/core/acme/x509';
import { readCertificateSet } from '../../src/core/acme/storage';
import type { DdnsError } from '../../src/core/errors';
import type { DnsProvider } from '../../src/core/providers/types';

const skip = skipWithoutBind() || skipWithoutPebble();
const ZONE = 'home.test';

test('the hashed account URI of draft -02 §10.2 (its test vectors)', () => {
  const thumb = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'; // RFC 7638 §3.1's example thumbprint
  const prefix = 'https://ca.example/account-hash/';
  assert.equal(
    hashedAccountUri(prefix, 'example.com', thumb, 'https://ca.example/acct/123'),
    'https://ca.example/account-hash/sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw',
  );
  assert.equal(
    hashedAccountUri(prefix, '*', thumb, 'https://ca.example/acct/123'),
    'https://ca.example/account-hash/sha-256/NpDnSwUthQK8zCgFdefYxAdAVPnygMLbs9US6oO-5ug',
  );
});

test('records read as RFC 8659 issue-values, and judged as the draft says', () => {
  assert.deepEqual(parseIssueValue('Authority.Example;  accounturi=https://a/1 ; policy=wildcard'), {
    issuer: 'authority.example',
    params: { accounturi: 'https://a/1', policy: 'wildcard' },
  });
  assert.equal(parseIssueValue('not a name; x'), null);
  const want = {
    issuers: ['ca.example'],
    uri: 'https://ca.example/acct/1',
    wildcard: false,
    now: Date.UTC(2026, 11, 6),
  };
  assert.deepEqual(matchRecord(['ca.example; accounturi=https://ca.example/acct/1'], want), { ok: true });
  assert.match((matchRecord([], want) as { why: string }).why, /no TXT record/);
  assert.match(
    (matchRecord(['other.example; accounturi=https://ca.example/acct/1'], want) as { why: string }).why,
    /name other\.example, not ca\.example/,
  );
  assert.match(
    (matchRecord(['ca.example; accounturi=https://ca.example/acct/2'], want) as { why: string }).why,
    /another ACME account/,
  );
  assert.match(
    (
      matchRecord(['ca.example; accounturi=https://ca.example/acct/1; persistUntil=1721952000'], want) as {
        why: string;
      }
    ).why,
    /expired \(persistUntil 2024-07-26\)/,
  );
  assert.match(
    (matchRecord(['ca.example; accounturi=https://ca.example/acct/1'], { ...want, wildcard: true }) as { why: string })
      .why,
    /policy=wildcard/,
  );
  assert.deepEqual(
    matchRecord(['ca.example; accounturi=https://ca.example/acct/1; POLICY=Wildcard; future=1'], {
      ...want,
      wildcard: true,
    }),
    { ok: true },
  );
});

describe('DNS-PERSIST-01 with a shim CA reading BIND', { skip }, () => {
  let bind: BindServer;
  let pebble: PebbleServer;
  let user: DnsProvider; // the user's own hand in the zone, not cert-renew's
  let dir: string;
  const shims: PersistShim[] = [];
  const job = (shim: PersistShim, over: Partial<CertificateJob> = {}): CertificateJob => ({
    names: [`www.${ZONE}`, `*.${ZONE}`],
    directoryUrl: shim.proxy.directoryUrl,
    caPem: shim.proxy.caPem,
    keyType: 'ecdsa-p256',
    outDir: join(dir, 'live'),
    accountDir: join(dir, 'accounts'),
    ...over,
  });
  const noTxt = async () => assert.fail('DNS-PERSIST-01 writes and waits for no TXT record');
  const authServers = () => [{ host: '127.0.0.1', port: bind.port }];

  before(async () => {
    bind = await startBind([{ name: ZONE, records: ['www 60 IN A 127.0.0.1'] }]);
    pebble = await startPebble({ dnsServer: `127.0.0.1:${bind.port}`, env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
    ({ provider: user } = dnsRig(bind));
    dir = mkdtempSync(join(tmpdir(), 'ddns-persist-'));
  });
  after(async () => {
    for (const s of shims) await s.proxy.close();
    await user?.close?.();
    await pebble?.stop();
    await bind?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('draft -02 (the CA publishes its issuers and a hash prefix): the records to create are said before any order; once they exist, issued with no DNS write', async () => {
    const shim = await startPersistShim(pebble, bind, 'draft02');
    shims.push(shim);
    const solver = new PersistSolver({ authServers: authServers(), timeoutMs: 2000 });
    shim.proxy.resetCounters();
    let said = '';
    await assert.rejects(
      ensureCertificate(job(shim, { outDir: join(dir, 'v2') }), { solver, waitVisible: noTxt }),
      (e: DdnsError) => {
        assert.equal(e.code, 'persist_record_missing');
        assert.equal(e.kind, 'transient');
        said = e.message;
        return true;
      },
    );
    assert.equal(shim.proxy.seen.newOrder, 0, 'no order before the records exist');
    assert.equal(solver.records.length, 2);
    const base = solver.records.find((r) => r.name === `_validation-persist.${ZONE}`)!;
    const www = solver.records.find((r) => r.name === `_validation-persist.www.${ZONE}`)!;
    const hashed = new RegExp(
      `^${SHIM_ISSUER.replace(/\./g, '\\.')}; accounturi=https://127\\.0\\.0\\.1:\\d+/account-hash/sha-256/[A-Za-z0-9_-]{43}`,
    );
    assert.match(base.value, hashed);
    assert.match(base.value, /; policy=wildcard$/, 'the wildcard is covered by the base name with policy=wildcard');
    assert.match(www.value, hashed);
    assert.doesNotMatch(www.value, /policy/);
    assert.ok(said.includes(`${base.name} TXT "${base.value}"`), said);
    assert.match(said, /create these TXT records once/);

    // The user creates them (once), by hand.
    for (const r of solver.records) await user.setTxt!(r.name, r.value);
    const r = await ensureCertificate(job(shim, { outDir: join(dir, 'v2') }), { solver, waitVisible: noTxt });
    assert.equal(r.renewed, true);
    const set = (await readCertificateSet(join(dir, 'v2')))!;
    assert.deepEqual([...certInfo(set.cert).names].sort(), [`*.${ZONE}`, `www.${ZONE}`]);
    assert.deepEqual(
      shim.validations.map((v) => [v.name, v.ok]).sort(),
      [
        [ZONE, true],
        [`www.${ZONE}`, true],
      ],
      'the CA found the records itself',
    );
    // A renewal: the same records, nothing written.
    const again = await ensureCertificate(job(shim, { outDir: join(dir, 'v2') }), {
      solver,
      waitVisible: noTxt,
      force: true,
    });
    assert.equal(again.renewed, true);
    for (const rec of solver.records) await user.deleteTxt!(rec.name, rec.value);
  });

  test('draft -01 (issuers only in the challenge, accounturi the account URL): said at the challenge, then issued', async () => {
    const shim = await startPersistShim(pebble, bind, 'draft01');
    shims.push(shim);
    const solver = new PersistSolver({ authServers: authServers(), timeoutMs: 2000 });
    const j = job(shim, { names: [`www.${ZONE}`], outDir: join(dir, 'v1') });
    await assert.rejects(ensureCertificate(j, { solver, waitVisible: noTxt }), (e: DdnsError) => {
      assert.equal(e.code, 'persist_record_missing');
      assert.match(e.message, /create this TXT record once/);
      assert.match(e.message, /there is no TXT record there/);
      return true;
    });
    assert.equal(shim.validations.length, 0, 'the CA was not asked to validate a record that is not there');
    const [rec] = solver.records;
    // A record for another account is not taken for this one (read here, before the CA is asked).
    const other = rec.value.replace(/accounturi=\S+/, 'accounturi=https://127.0.0.1:1/my-account/other');
    await user.setTxt!(rec.name, other);
    await assert.rejects(ensureCertificate(j, { solver, waitVisible: noTxt }), (e: DdnsError) => {
      assert.match(e.message, /names another ACME account/);
      return true;
    });
    await user.deleteTxt!(rec.name, other);
    assert.match(
      rec.value,
      new RegExp(
        `^${SHIM_ISSUER.replace(/\./g, '\\.')}; accounturi=https://127\\.0\\.0\\.1:\\d+/my-account/[0-9a-f]+$`,
      ),
    );
    await user.setTxt!(rec.name, rec.value);
    const r = await ensureCertificate(j, { solver, waitVisible: noTxt });
    assert.equal(r.renewed, true);
    assert.deepEqual(shim.validations.at(-1), { name: `www.${ZONE}`, ok: true, why: rec.value });
    await user.deleteTxt!(rec.name, rec.value);
  });
});
