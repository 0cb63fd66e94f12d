/**
 * The PKCS#12 file cert-renew writes for Plex and Jellyfin (src/core/acme/pkcs12.ts), opened by
 * the real openssl: `openssl pkcs12 -in f.p12 -passin pass:… -nodes` must give back the key and
 * the chain, the key must match the certificate, and a wrong password must be refused by the MAC.
 * The algorithms are read back with `-info` (PBES2/PBKDF2/AES-256-CBC/hmacWithSHA256, MAC SHA-256).
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPkcs12, pkcs12Kdf, pkcs12PasswordMatches, bmpPassword } from '../../src/core/acme/pkcs12';
import { keyMatchesCert, splitPem } from '../../src/core/acme/x509';
import { newCaArgs } from '../support/openssl';

const skip = spawnSync('openssl', ['version']).error ? 'openssl not found' : false;

function openssl(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('PKCS#12 built with node:crypto, opened by openssl', { skip }, () => {
  let dir: string;
  /** A chain as a CA gives it: a leaf signed by an intermediate (here: a test CA). */
  const chain: Record<'ec' | 'rsa', { key: string; leaf: string; ca: string }> = {} as never;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ddns-p12-'));
    assert.equal(openssl(newCaArgs(2, '/CN=ddns p12 test CA'), dir).status, 0);
    for (const kind of ['ec', 'rsa'] as const) {
      const keyArgs =
        kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
      const r1 = openssl(
        ['req', ...keyArgs, '-nodes', '-keyout', `${kind}.key`, '-out', `${kind}.csr`, '-subj', '/CN=plex.home.test'],
        dir,
      );
      assert.equal(r1.status, 0, r1.stderr);
      writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:plex.home.test,DNS:*.home.test\n');
      const r2 = openssl(
        [
          'x509',
          '-req',
          '-in',
          `${kind}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-days',
          '6',
          '-extfile',
          'san.ext',
          '-out',
          `${kind}.pem`,
        ],
        dir,
      );
      assert.equal(r2.status, 0, r2.stderr);
      chain[kind] = {
        key: readFileSync(join(dir, `${kind}.key`), 'utf8'),
        leaf: readFileSync(join(dir, `${kind}.pem`), 'utf8'),
        ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      };
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['ec', 'rsa'] as const) {
    test(`${kind}: openssl opens it with the password; the key matches the certificate; the chain is complete`, () => {
      const c = chain[kind];
      const password = 'correct horse · battery';
      const file = join(dir, `${kind}.p12`);
      writeFileSync(file, buildPkcs12({ keyPem: c.key, certPems: [c.leaf, c.ca], password }));
      const r = openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nodes'], dir);
      assert.equal(r.status, 0, r.stderr);
      const key = r.stdout.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/)?.[0];
      assert.ok(key, 'the key is in the output');
      const certs = splitPem(r.stdout);
      assert.equal(certs.length, 2, 'leaf and intermediate');
      assert.ok(keyMatchesCert(key, certs[0]), 'the key belongs to the first certificate');
      assert.equal(certs[0].replace(/\s/g, ''), c.leaf.replace(/\s/g, ''));
      assert.match(r.stdout, /friendlyName: plex\.home\.test/);
      assert.match(r.stdout, /localKeyID: /);

      const info = openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-info', '-noout'], dir);
      assert.equal(info.status, 0, info.stderr);
      assert.match(info.stderr + info.stdout, /MAC: sha256, Iteration 10000/);
      assert.match(
        info.stderr + info.stdout,
        /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/,
      );

      const wrong = openssl(['pkcs12', '-in', file, '-passin', 'pass:wrong', '-nodes'], dir);
      assert.notEqual(wrong.status, 0);
      assert.match(wrong.stderr, /Mac verify error/);
    });
  }

  test('pkcs12PasswordMatches: the MAC verifies with the password, and only with it', () => {
    const pfx = buildPkcs12({ keyPem: chain.ec.key, certPems: [chain.ec.leaf], password: 's3cret' });
    assert.equal(pkcs12PasswordMatches(pfx, 's3cret'), true);
    assert.equal(pkcs12PasswordMatches(pfx, 's3cret '), false);
    assert.equal(pkcs12PasswordMatches(Buffer.from('not a pfx'), 's3cret'), false);
    // A file written by openssl itself (AES, SHA-256 MAC) is read the same way.
    writeFileSync(join(dir, 'k.pem'), chain.ec.key);
    writeFileSync(join(dir, 'c.pem'), chain.ec.leaf);
    const r = openssl(
      ['pkcs12', '-export', '-inkey', 'k.pem', '-in', 'c.pem', '-passout', 'pass:s3cret', '-out', 'o.p12'],
      dir,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(pkcs12PasswordMatches(readFileSync(join(dir, 'o.p12')), 's3cret'), true);
    assert.equal(pkcs12PasswordMatches(readFileSync(join(dir, 'o.p12')), 'other'), false);
  });

  test('refuses to build without a password or a certificate', () => {
    assert.throws(() => buildPkcs12({ keyPem: chain.ec.key, certPems: [chain.ec.leaf], password: '' }), /password/);
    assert.throws(() => buildPkcs12({ keyPem: chain.ec.key, certPems: [], password: 'x' }), /certificate/);
  });
});

test('the PKCS#12 KDF (RFC 7292 B.2) with SHA-256: the password as BMPString, more than one block', () => {
  assert.deepEqual([...bmpPassword('ab')], [0, 0x61, 0, 0x62, 0, 0]);
  const salt = Buffer.from('0102030405060708', 'hex');
  const one = pkcs12Kdf(bmpPassword('pw'), salt, 3, 1, 32);
  const two = pkcs12Kdf(bmpPassword('pw'), salt, 3, 1, 64);
  assert.equal(one.length, 32);
  assert.deepEqual(two.subarray(0, 32), one, 'the first block does not depend on the length asked for');
  assert.notDeepEqual(two.subarray(32), one, 'the second block comes from the updated I');
  assert.notDeepEqual(pkcs12Kdf(bmpPassword('pw'), salt, 1, 1, 32), one, 'the ID (1 key, 2 IV, 3 MAC) matters');
});
