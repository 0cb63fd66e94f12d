/**
 * One certificate's life: look at what is on disk, decide whether to renew (lifetime rule or the
 * CA's ARI window), and if so order a new one through DNS-01 and install it atomically.
 * No Node-RED here; the cert-renew node schedules calls and turns results into messages.
 */
import { join } from 'node:path';
import { DdnsError, say } from '../errors';
import type { DnsProvider } from '../providers/types';
import { fetchDirectory, renewalInfo, type CaDirectory } from './ari';
import type { AcmeSession } from './client';
import {
  assertWritable,
  EXTRA_FILES,
  loadOrCreateKey,
  pathsIn,
  readCertificateSet,
  readExtraFile,
  writeCertificateSet,
  writeExtraFile,
  type CertificatePaths,
  type CertificateSet,
  type ExtraFiles,
} from './storage';
import { buildPkcs12, pkcs12PasswordMatches } from './pkcs12';
import { daysLeft, renewalDecision } from './timing';
import { ariCertId, certInfo, splitPem } from './x509';
import { promises as fs } from 'node:fs';
import { X509Certificate, createHash } from 'node:crypto';
import { validateNames } from './names';
import type { ChallengeSolver } from './solver';

export { validateNames };

export type KeyType = 'ecdsa-p256' | 'rsa-2048' | 'rsa-4096';

export interface CertificateJob {
  names: string[];
  directoryUrl: string;
  email?: string;
  eab?: { kid: string; hmacKey: string };
  caPem?: string;
  keyType: KeyType;
  /** Keep the same certificate key across renewals (for key pinning). Default: a fresh key each time. */
  pinKey?: boolean;
  /** Renew when fewer than this many days are left. Default: a third of the lifetime. */
  renewDaysBefore?: number;
  profile?: string;
  /** Where cert.pem, chain.pem, fullchain.pem, privkey.pem go. */
  outDir: string;
  /** Also write certificate.p12 (PKCS#12: key + chain) protected by this password (Plex, Jellyfin). */
  pkcs12Password?: string;
  /** Also write combined.pem: the full chain and the key in one file (HAProxy, some NAS). */
  combinedPem?: boolean;
  /** Directory for ACME account keys (one per CA and e-mail), mode 0700, keys 0600. */
  accountDir: string;
}

export interface CertificateResult {
  ok: true;
  renewed: boolean;
  names: string[];
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  serial: string;
  paths: CertificatePaths;
  /** Why it was (not) renewed, in words. */
  reason: string;
  /** When the next renewal is due (ISO), when known. */
  renewAt?: string;
  /** The CA's ARI answer asked to be asked again after this long (its Retry-After), when it did. */
  ariRetryAfterMs?: number;
}

export interface ManagerDeps {
  /** The DNS-01 provider account; absent when `solver` answers another challenge. */
  provider?: DnsProvider;
  /** HTTP-01 or DNS-PERSIST-01 instead of DNS-01: opened before the order, closed after. */
  solver?: ChallengeSolver;
  waitVisible(name: string, value: string, signal?: AbortSignal): Promise<void>;
  now?: () => Date;
  log?: (text: string) => void;
  signal?: AbortSignal;
  /** Renew even if not due (msg.force). */
  force?: boolean;
  /**
   * Why the provider account sends nothing now (its stop after a fatal answer), or undefined.
   * Checked before an order is created: while the account is stopped the CA is not asked for an
   * order that would fail at its first TXT record.
   */
  accountStopped?: () => DdnsError | undefined;
}

/** acme-client (7–13 MB, issue 17) is loaded only here: when a key is made or a certificate ordered. */
const acmeClient = () => import('acme-client');

async function makeKey(type: KeyType): Promise<string> {
  const acme = await acmeClient();
  const k =
    type === 'ecdsa-p256'
      ? await acme.crypto.createPrivateEcdsaKey('P-256')
      : await acme.crypto.createPrivateRsaKey(type === 'rsa-4096' ? 4096 : 2048);
  return k.toString();
}

export function accountKeyPath(job: Pick<CertificateJob, 'accountDir' | 'directoryUrl' | 'email'>): string {
  const id = createHash('sha256')
    .update(`${job.directoryUrl}\n${job.email ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  return join(job.accountDir, `account-${id}.key`);
}

/** The optional files the job asks for, made from `set`. */
function extraFiles(job: CertificateJob, set: CertificateSet): ExtraFiles {
  return {
    ...(job.pkcs12Password
      ? {
          pkcs12: buildPkcs12({
            keyPem: set.privkey,
            certPems: splitPem(set.fullchain),
            password: job.pkcs12Password,
            friendlyName: job.names[0],
          }),
        }
      : {}),
    ...(job.combinedPem ? { combined: `${set.fullchain.trimEnd()}\n${set.privkey.trimEnd()}\n` } : {}),
  };
}

/**
 * The optional files for a set already installed: written when missing, or when they no longer
 * match (another password, another certificate, other contents). Returns their paths.
 */
async function syncExtraFiles(job: CertificateJob, set: CertificateSet): Promise<Partial<CertificatePaths>> {
  const out: Partial<CertificatePaths> = {};
  if (job.pkcs12Password) {
    const have = await readExtraFile(job.outDir, 'pkcs12');
    const current =
      have !== null &&
      pkcs12PasswordMatches(have, job.pkcs12Password) &&
      have.includes(new X509Certificate(set.cert).raw);
    out.pkcs12 = current
      ? join(job.outDir, EXTRA_FILES.pkcs12)
      : await writeExtraFile(job.outDir, 'pkcs12', extraFiles({ ...job, combinedPem: false }, set).pkcs12!);
  }
  if (job.combinedPem) {
    const want = extraFiles({ ...job, pkcs12Password: undefined }, set).combined!;
    const have = await readExtraFile(job.outDir, 'combined');
    out.combined =
      have !== null && have.toString('utf8') === want
        ? join(job.outDir, EXTRA_FILES.combined)
        : await writeExtraFile(job.outDir, 'combined', want);
  }
  return out;
}

const sameNames = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** The point chosen in a CA's ARI window, kept for that certificate and window. */
interface AriChoice {
  certId: string;
  start: string;
  end: string;
  /** Where in the window (0 ≤ fraction < 1). */
  fraction: number;
}

/**
 * RFC 9773 §4.2: the client picks a random time in the suggested window. It is picked once per
 * certificate and window, and kept (in memory and in `<accountDir>/ari-<id>.json`, so that a
 * restart does not draw again); a new window (the CA moved it) draws again.
 */
async function keptAriFraction(
  job: CertificateJob,
  certPem: string,
  window: { start: Date; end: Date },
  cache?: { ariChoice?: AriChoice },
): Promise<number> {
  const want = { certId: ariCertId(certPem) ?? '', start: window.start.toISOString(), end: window.end.toISOString() };
  const file = join(job.accountDir, `ari-${createHash('sha256').update(job.outDir).digest('hex').slice(0, 16)}.json`);
  let c: AriChoice | undefined = cache?.ariChoice;
  if (!c)
    c =
      (await fs
        .readFile(file, 'utf8')
        .then((t) => JSON.parse(t) as AriChoice)
        .catch(() => undefined)) ?? undefined;
  const same = c && c.certId === want.certId && c.start === want.start && c.end === want.end;
  if (!c || !same || !(c.fraction >= 0 && c.fraction < 1)) {
    c = { ...want, fraction: Math.random() };
    const chosen = c;
    await fs
      .mkdir(job.accountDir, { recursive: true, mode: 0o700 })
      .then(() => fs.writeFile(file, JSON.stringify(chosen), { mode: 0o600 }))
      .catch(() => undefined); // kept in memory at least
  }
  if (cache) cache.ariChoice = c;
  return c.fraction;
}

/** Check the certificate and renew it when due. Throws DdnsError on failure (nothing half-written). */
export async function ensureCertificate(
  job: CertificateJob,
  deps: ManagerDeps,
  sessionCache?: { session?: AcmeSession; ariChoice?: AriChoice },
): Promise<CertificateResult> {
  const names = validateNames(job.names);
  const now = (deps.now ?? (() => new Date()))();
  const log = deps.log ?? (() => undefined);
  const current = await readCertificateSet(job.outDir);
  let info: ReturnType<typeof certInfo> | null = null;
  let unreadable = false;
  try {
    info = current ? certInfo(current.cert) : null;
  } catch {
    unreadable = true; // not a certificate (damaged, or written by something else): replace it
  }

  const session = async () => {
    if (sessionCache?.session) return sessionCache.session;
    const { pem } = await loadOrCreateKey(accountKeyPath(job), () => makeKey('ecdsa-p256'));
    const { openAccount } = await import('./client');
    const s = await openAccount({
      directoryUrl: job.directoryUrl,
      accountKeyPem: pem,
      email: job.email,
      eab: job.eab,
      caPem: job.caPem,
    });
    if (sessionCache) sessionCache.session = s;
    return s;
  };

  let reason: string;
  if (unreadable) reason = `the current certificate in ${job.outDir} cannot be read`;
  else if (!current || !info) reason = 'no certificate yet';
  else if (!sameNames(info.names, names)) reason = `the names changed (certificate has ${info.names.join(', ')})`;
  else {
    // ARI needs only the directory: no account, no acme-client while the certificate is not due
    const ca: CaDirectory = sessionCache?.session ?? (await fetchDirectory(job.directoryUrl, job.caPem));
    const ari = await renewalInfo(ca, current.cert);
    const fraction = ari ? await keptAriFraction(job, current.cert, ari, sessionCache) : 0;
    const d = renewalDecision(info, now, { renewDaysBefore: job.renewDaysBefore, ari, random: () => fraction });
    if (!d.due && !deps.force) {
      const extras = await syncExtraFiles(job, current);
      return {
        ok: true,
        renewed: false,
        names,
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        daysLeft: daysLeft(info.notAfter, now),
        serial: info.serial,
        paths: { ...pathsIn(job.outDir), ...extras },
        reason: d.reason,
        renewAt: d.at.toISOString(),
        ...(ari?.retryAfterMs ? { ariRetryAfterMs: ari.retryAfterMs } : {}),
      };
    }
    reason = deps.force && !d.due ? 'renewal forced' : d.reason;
  }
  const stopped = deps.accountStopped?.();
  if (stopped) throw stopped;
  log(`ordering a certificate for ${names.join(', ')}: ${reason}`);
  await assertWritable(job.outDir);
  const keyPem = job.pinKey && current && info ? current.privkey : await makeKey(job.keyType);
  const s = await session();
  const { orderCertificate, accountThumbprint } = await import('./client');
  const solver = deps.solver;
  let chainPem: string;
  try {
    await solver?.prepare(names, {
      accountUrl: s.client.getAccountUrl(),
      thumbprint: accountThumbprint(s),
      directory: s.directory,
      signal: deps.signal,
      log,
    });
    chainPem = await orderCertificate(
      s,
      { provider: deps.provider, waitVisible: deps.waitVisible, log },
      {
        names,
        keyPem,
        profile: job.profile,
        replacesCertPem: info ? current?.cert : undefined,
        signal: deps.signal,
        solver,
      },
    );
  } finally {
    await solver?.finish();
  }
  const certs = splitPem(chainPem);
  if (certs.length === 0)
    throw new DdnsError('transient', say('acme.empty', 'the certificate authority sent no certificate'), {
      code: 'acme_empty',
    });
  const set: CertificateSet = {
    cert: certs[0],
    chain: certs.slice(1).join(''),
    fullchain: certs.join(''),
    privkey: keyPem,
  };
  const paths = await writeCertificateSet(job.outDir, set, extraFiles(job, set));
  const ni = certInfo(certs[0]);
  const next = renewalDecision(ni, now, { renewDaysBefore: job.renewDaysBefore });
  return {
    ok: true,
    renewed: true,
    names,
    notBefore: ni.notBefore.toISOString(),
    notAfter: ni.notAfter.toISOString(),
    daysLeft: daysLeft(ni.notAfter, now),
    serial: ni.serial,
    paths,
    reason,
    renewAt: next.at.toISOString(),
  };
}
