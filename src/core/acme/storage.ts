/**
 * Certificate files on disk, written so that a reader never sees a half-written file and a
 * failure leaves the previous certificate untouched.
 *
 * Layout (as certbot's live/ directory, so service configs look familiar):
 *   <dir>/cert.pem        the leaf certificate
 *   <dir>/chain.pem       the intermediate(s)
 *   <dir>/fullchain.pem   leaf + intermediates (what most servers want)
 *   <dir>/privkey.pem     the private key, mode 0600
 *   <dir>/certificate.p12 optional: PKCS#12 of key + chain, password-protected, mode 0600 (Plex, Jellyfin)
 *   <dir>/combined.pem    optional: key + leaf + intermediates in one PEM, mode 0600 (HAProxy, some NAS)
 *   <dir>/previous/…      the set that was replaced by the last renewal
 *
 * Every new file is first written completely to a temporary file in the same directory (same
 * filesystem, so rename is atomic), flushed, and only when all four exist are they renamed into
 * place. If anything fails before that, the temporary files are removed and nothing else changed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DdnsError, english, say, type Sentence } from '../errors';

export interface CertificateSet {
  cert: string;
  chain: string;
  fullchain: string;
  privkey: string;
}

export const FILES: Array<keyof CertificateSet> = ['cert', 'chain', 'fullchain', 'privkey'];
/** Where the files are; `pkcs12` and `combined` only when they were asked for. */
export type CertificatePaths = Record<keyof CertificateSet, string> & { pkcs12?: string; combined?: string };

/** The optional files made from a set (both hold the private key: mode 0600). */
export interface ExtraFiles {
  pkcs12?: Buffer;
  combined?: string;
}
export const EXTRA_FILES: Record<keyof ExtraFiles, string> = { pkcs12: 'certificate.p12', combined: 'combined.pem' };
const extraKeys = Object.keys(EXTRA_FILES) as Array<keyof ExtraFiles>;

export function pathsIn(dir: string): CertificatePaths {
  return {
    cert: join(dir, 'cert.pem'),
    chain: join(dir, 'chain.pem'),
    fullchain: join(dir, 'fullchain.pem'),
    privkey: join(dir, 'privkey.pem'),
  };
}

async function writeFileSynced(path: string, data: string | Buffer, mode: number): Promise<void> {
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
  const denied = say('acme.disk.denied', 'permission denied');
  const why: Record<string, Sentence> = {
    EACCES: denied,
    EPERM: denied,
    EROFS: say('acme.disk.read_only', 'the filesystem is read-only'),
    ENOSPC: say('acme.disk.full', 'the disk is full'),
    ENOTDIR: say('acme.disk.not_dir', 'a part of the path is a file, not a directory'),
    ENOENT: say('acme.disk.no_dir', 'the directory does not exist'),
  };
  const reason = why[code] ?? (e as Error)?.message ?? code;
  const message =
    code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
      ? say(
          'acme.disk.failed_hint',
          'cannot write the certificate files to __dir__: __reason__. The previous certificate is unchanged. __hint__',
          { dir, reason, hint: elsewhereSaid(dir) },
        )
      : say(
          'acme.disk.failed',
          'cannot write the certificate files to __dir__: __reason__. The previous certificate is unchanged.',
          { dir, reason },
        );
  return new DdnsError('fatal', message, { code: `disk_${code}`, cause: e });
}

/**
 * Where to write instead, for a folder that cannot be written. The Home Assistant Node-RED add-on
 * maps /ssl read-only (its config.yaml maps `ssl` without `:rw`) and /share read-write; Home
 * Assistant itself sees /share too, so its `http:` ssl_certificate / ssl_key can point there.
 */
export function writeElsewhereHint(dir: string): string {
  return ` ${english(elsewhereSaid(dir))}`;
}

/** `writeElsewhereHint` as a sentence (without the leading space). */
function elsewhereSaid(dir: string): Sentence {
  if (dir === '/ssl' || dir.startsWith('/ssl/'))
    return say(
      'acme.disk.ha_ssl',
      "In the Home Assistant Node-RED add-on /ssl is read-only: choose a folder under /share instead (e.g. __folder__) and point Home Assistant's http: ssl_certificate and ssl_key there.",
      { folder: `/share/ssl${dir.slice(4) || '/<name>'}` },
    );
  return say(
    'acme.disk.elsewhere',
    'Choose a folder that the user running Node-RED can write (e.g. one in its user directory).',
  );
}

/**
 * Write a new certificate set atomically, with the optional files asked for; the replaced set
 * (with its optional files, also those not asked for any more) moves to previous/.
 */
export async function writeCertificateSet(
  dir: string,
  set: CertificateSet,
  extras: ExtraFiles = {},
): Promise<CertificatePaths> {
  const paths: CertificatePaths = pathsIn(dir);
  const tag = randomBytes(6).toString('hex');
  const temps: Partial<Record<keyof CertificateSet | keyof ExtraFiles, string>> = {};
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    for (const f of FILES) {
      temps[f] = `${paths[f]}.tmp-${tag}`;
      await writeFileSynced(temps[f]!, set[f], f === 'privkey' ? 0o600 : 0o644);
    }
    for (const f of extraKeys) {
      if (extras[f] === undefined) continue;
      paths[f] = join(dir, EXTRA_FILES[f]);
      temps[f] = `${paths[f]}.tmp-${tag}`;
      await writeFileSynced(temps[f]!, extras[f], 0o600);
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
    for (const f of extraKeys) {
      await fs.rename(join(dir, EXTRA_FILES[f]), join(prevDir, EXTRA_FILES[f])).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  } catch {
    /* the new set is still installed below */
  }
  try {
    // privkey first: a service reloading between two renames sees a new key with the old cert
    // for at most microseconds; fullchain last so that watchers keyed on it see a complete set.
    for (const f of ['privkey', 'cert', 'chain', ...extraKeys, 'fullchain'] as const)
      if (temps[f]) await fs.rename(temps[f], paths[f]!);
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

/**
 * Write one optional file in place (temporary file, then rename), for a set already installed
 * (the option was switched on, or the password changed, after the last renewal).
 */
export async function writeExtraFile(dir: string, which: keyof ExtraFiles, data: string | Buffer): Promise<string> {
  const path = join(dir, EXTRA_FILES[which]);
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFileSynced(tmp, data, 0o600);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw diskError(dir, e);
  }
  return path;
}

/** An optional file's content, or null when it does not exist or cannot be read. */
export async function readExtraFile(dir: string, which: keyof ExtraFiles): Promise<Buffer | null> {
  return fs.readFile(join(dir, EXTRA_FILES[which])).catch(() => null);
}

/**
 * At deploy: can the certificate folder be written? The folder itself when it exists, else the
 * nearest existing folder above it (nothing is created: a probe file is written and removed).
 * Throws the DdnsError of a failed write (with where to write instead); resolves when writable.
 */
export async function checkWritableFolder(dir: string): Promise<void> {
  let at = resolve(dir);
  for (;;) {
    try {
      if ((await fs.stat(at)).isDirectory()) break;
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || dirname(at) === at) throw diskError(dir, e);
      at = dirname(at);
    }
  }
  const probe = join(at, `.write-test-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(probe, '');
    await fs.rm(probe);
  } catch (e) {
    throw diskError(dir, e);
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
