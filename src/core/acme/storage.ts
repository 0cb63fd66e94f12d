/**
 * Certificate files on disk, written so that a reader never sees a half-written file and a
 * failure leaves the previous certificate untouched.
 *
 * Layout (as certbot's live/ directory, so service configs look familiar):
 *   <dir>/cert.pem        the leaf certificate
 *   <dir>/chain.pem       the intermediate(s)
 *   <dir>/fullchain.pem   leaf + intermediates (what most servers want)
 *   <dir>/privkey.pem     the private key, mode 0600
 *   <dir>/previous/…      the set that was replaced by the last renewal
 *
 * Every new file is first written completely to a temporary file in the same directory (same
 * filesystem, so rename is atomic), flushed, and only when all four exist are they renamed into
 * place. If anything fails before that, the temporary files are removed and nothing else changed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { DdnsError } from '../errors';

export interface CertificateSet {
  cert: string;
  chain: string;
  fullchain: string;
  privkey: string;
}

export const FILES: Array<keyof CertificateSet> = ['cert', 'chain', 'fullchain', 'privkey'];
export type CertificatePaths = Record<keyof CertificateSet, string>;

export function pathsIn(dir: string): CertificatePaths {
  return {
    cert: join(dir, 'cert.pem'),
    chain: join(dir, 'chain.pem'),
    fullchain: join(dir, 'fullchain.pem'),
    privkey: join(dir, 'privkey.pem'),
  };
}

async function writeFileSynced(path: string, data: string, mode: number): Promise<void> {
  const fh = await fs.open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.chmod(path, mode); // umask may have narrowed or widened it
}

function diskError(dir: string, e: unknown): DdnsError {
  const code = (e as NodeJS.ErrnoException)?.code ?? 'io';
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the filesystem is read-only',
    ENOSPC: 'the disk is full',
    ENOTDIR: 'a part of the path is a file, not a directory',
    ENOENT: 'the directory does not exist',
  };
  return new DdnsError(
    'fatal',
    `cannot write the certificate files to ${dir}: ${why[code] ?? (e as Error)?.message ?? code}. The previous certificate is unchanged.`,
    { code: `disk_${code}`, cause: e },
  );
}

/** Write a new certificate set atomically; the replaced set moves to previous/. */
export async function writeCertificateSet(dir: string, set: CertificateSet): Promise<CertificatePaths> {
  const paths = pathsIn(dir);
  const tag = randomBytes(6).toString('hex');
  const temps: Partial<Record<keyof CertificateSet, string>> = {};
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    for (const f of FILES) {
      temps[f] = `${paths[f]}.tmp-${tag}`;
      await writeFileSynced(temps[f]!, set[f], f === 'privkey' ? 0o600 : 0o644);
    }
  } catch (e) {
    await Promise.all(Object.values(temps).map((t) => fs.rm(t!, { force: true }).catch(() => undefined)));
    throw diskError(dir, e);
  }
  // Keep the replaced set. Failing to keep it is not a reason to keep the old certificate live.
  const prevDir = join(dir, 'previous');
  try {
    await fs.mkdir(prevDir, { recursive: true, mode: 0o700 });
    for (const f of FILES) {
      await fs.rename(paths[f], join(prevDir, `${f}.pem`)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  } catch {
    /* the new set is still installed below */
  }
  try {
    // privkey first: a service reloading between two renames sees a new key with the old cert
    // for at most microseconds; fullchain last so that watchers keyed on it see a complete set.
    for (const f of ['privkey', 'cert', 'chain', 'fullchain'] as const) await fs.rename(temps[f]!, paths[f]);
  } catch (e) {
    await Promise.all(Object.values(temps).map((t) => fs.rm(t!, { force: true }).catch(() => undefined)));
    throw diskError(dir, e);
  }
  return paths;
}

/** The current set, or null when there is none (or it cannot be read). */
export async function readCertificateSet(dir: string): Promise<CertificateSet | null> {
  const paths = pathsIn(dir);
  try {
    const out = {} as CertificateSet;
    for (const f of FILES) out[f] = await fs.readFile(paths[f], 'utf8');
    return out;
  } catch {
    return null;
  }
}

/** Check that a directory is writable before ordering (so a CA rate limit is not spent in vain). */
export async function assertWritable(dir: string): Promise<void> {
  const probe = join(dir, `.write-test-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(probe, '');
    await fs.rm(probe);
  } catch (e) {
    throw diskError(dir, e);
  }
}

/** Read a key file, or create it (mode 0600) with `make` when it does not exist. */
export async function loadOrCreateKey(
  path: string,
  make: () => Promise<string>,
): Promise<{ pem: string; created: boolean }> {
  try {
    return { pem: await fs.readFile(path, 'utf8'), created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw diskError(path, e);
  }
  const pem = await make();
  const dir = path.slice(0, path.lastIndexOf('/'));
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFileSynced(tmp, pem, 0o600);
    await fs.rename(tmp, path);
  } catch (e) {
    throw diskError(dir, e);
  }
  return { pem, created: true };
}
