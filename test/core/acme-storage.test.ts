/**
 * Certificate files on a disk that fails: a read-only filesystem and a full one (small tmpfs
 * mounts made by the test, as root). A failed write leaves the previous certificate untouched and
 * no temporary file behind.
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertWritable, readCertificateSet, writeCertificateSet } from '../../src/core/acme/storage';
import type { DdnsError } from '../../src/core/errors';

function mountUnavailable(): string | false {
  const why = process.getuid?.() !== 0 ? 'mounting a test tmpfs needs root' : null;
  if (why && process.env.DDNS_REQUIRE_REAL === '1') throw new Error(`required in CI: ${why}`);
  return why ?? false;
}

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
};

describe('certificate storage on a failing disk', { skip: mountUnavailable() }, () => {
  let base: string;
  const mounts: string[] = [];
  const mount = (name: string, size: string) => {
    const dir = join(base, name);
    sh('mkdir', ['-p', dir]);
    sh('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    mounts.push(dir);
    return dir;
  };
  const old = { cert: 'OLD CERT\n', chain: 'OLD CHAIN\n', fullchain: 'OLD FULLCHAIN\n', privkey: 'OLD KEY\n' };

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'ddns-disk-'));
  });
  after(() => {
    for (const m of mounts.reverse()) spawnSync('umount', [m]);
    rmSync(base, { recursive: true, force: true });
  });

  test('read-only filesystem: a clear fatal error before anything is ordered or written', async () => {
    const dir = mount('ro', '64k');
    await writeCertificateSet(join(dir, 'live'), old);
    sh('mount', ['-o', 'remount,ro', dir]);
    await assert.rejects(
      assertWritable(join(dir, 'live')),
      (e: DdnsError) =>
        e.kind === 'fatal' && /read-only/.test(e.message) && /previous certificate is unchanged/.test(e.message),
    );
    await assert.rejects(
      writeCertificateSet(join(dir, 'live'), { ...old, cert: 'NEW' }),
      (e: DdnsError) => e.code === 'disk_EROFS',
    );
    assert.deepEqual(await readCertificateSet(join(dir, 'live')), old);
  });

  test('full disk: the new set does not fit; the old one stays, no temporary file is left', async () => {
    const dir = mount('full', '16k');
    const live = join(dir, 'live');
    await writeCertificateSet(live, old);
    const big = 'X'.repeat(12_000);
    await assert.rejects(
      writeCertificateSet(live, { cert: big, chain: big, fullchain: big, privkey: big }),
      (e: DdnsError) => e.code === 'disk_ENOSPC' && /disk is full/.test(e.message),
    );
    assert.deepEqual(await readCertificateSet(live), old);
    assert.deepEqual(
      readdirSync(live).filter((f) => f.includes('.tmp-')),
      [],
    );
  });

  test('a path through a file: ENOTDIR explained', async () => {
    const dir = mount('file', '64k');
    sh('touch', [join(dir, 'afile')]);
    await assert.rejects(assertWritable(join(dir, 'afile', 'live')), (e: DdnsError) =>
      /a part of the path is a file/.test(e.message),
    );
  });

  test('a successful write: modes, and the replaced set in previous/', async () => {
    const dir = mount('ok', '64k');
    const live = join(dir, 'live');
    await writeCertificateSet(live, old);
    const fresh = { cert: 'NEW CERT\n', chain: 'NEW CHAIN\n', fullchain: 'NEW FULLCHAIN\n', privkey: 'NEW KEY\n' };
    await writeCertificateSet(live, fresh);
    assert.deepEqual(await readCertificateSet(live), fresh);
    assert.deepEqual(await readCertificateSet(join(live, 'previous')), old);
    assert.equal(statSync(join(live, 'privkey.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(live, 'previous', 'privkey.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(live, 'fullchain.pem')).mode & 0o777, 0o644);
  });
});

// Issue 14: the Home Assistant Node-RED add-on maps /ssl read-only (its config.yaml: `ssl` without
// `:rw`) and /share read-write; an error about a folder under /ssl says to write under /share.
test('a folder that cannot be written: the error says where to write instead (/share for /ssl)', async () => {
  const { writeElsewhereHint } = await import('../../src/core/acme/storage');
  assert.match(
    writeElsewhereHint('/ssl/home.example.com'),
    /\/ssl is read-only: .*under \/share .*\/share\/ssl\/home\.example\.com/,
  );
  assert.match(writeElsewhereHint('/ssl'), /\/share\/ssl\/<name>/);
  assert.match(writeElsewhereHint('/ssl'), /http: ssl_certificate and ssl_key/);
  assert.doesNotMatch(writeElsewhereHint('/sslx/a'), /share/);
  assert.match(writeElsewhereHint('/srv/certs'), /user running Node-RED can write/);
});
