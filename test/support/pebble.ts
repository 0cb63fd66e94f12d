/**
 * A real Pebble (Let's Encrypt's test ACME server) for tests, on loopback high ports, validating
 * DNS-01 for real against a DNS server of the test's (the real named of test/support/bind.ts).
 *
 * Debian's package ships no TLS certificate for Pebble's own HTTPS: a small CA and a leaf for
 * 127.0.0.1/localhost/::1 are generated with openssl; clients trust `caPem` (never disable TLS
 * checks). Deterministic by default (no nonce rejection, no authorisation reuse); pass
 * `{ defaults: true }` to keep Pebble's own 5 % badNonce and authz reuse behaviour.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateJob } from '../../src/core/acme/manager';
import { freePort, stopProcess } from './ports';
import { newCaArgs, newEcKeyArgs } from './openssl';

export const PEBBLE = process.env.PEBBLE_BIN ?? '/usr/bin/pebble';

export interface PebbleOptions {
  /** host:port of the DNS server Pebble asks for DNS-01 TXT records. */
  dnsServer: string;
  /** Keep Pebble's default randomness (5 % badNonce, authz reuse). */
  defaults?: boolean;
  /** External Account Binding keys required by the CA: kid → base64url HMAC key. */
  eab?: Record<string, string>;
  /** Validity of issued certificates, seconds (Pebble's default is 5 years). */
  validitySeconds?: number;
  /** The port Pebble connects to for HTTP-01 (config `httpPort`; default a free port nothing listens on). */
  httpPort?: number;
  /** Extra environment, e.g. PEBBLE_VA_ALWAYS_VALID=1 for a shim that validates on its own. */
  env?: Record<string, string>;
}

export interface PebbleServer {
  directoryUrl: string;
  /** PEM of the CA that signed Pebble's HTTPS certificate (trust it in the client). */
  caPem: string;
  caFile: string;
  managementUrl: string;
  /** PEM of the root that issues certificates now (changes at each start). */
  issuingRoot(): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * A certificate job for `names` against `pebble` (ECDSA P-256): the files in `dir`/live, the
 * account in `dir`/accounts; `over` changes any of it.
 */
export function pebbleJob(
  pebble: Pick<PebbleServer, 'directoryUrl' | 'caPem'>,
  dir: string,
  names: string[],
  over: Partial<CertificateJob> = {},
): CertificateJob {
  return {
    names,
    directoryUrl: pebble.directoryUrl,
    caPem: pebble.caPem,
    keyType: 'ecdsa-p256',
    outDir: join(dir, 'live'),
    accountDir: join(dir, 'accounts'),
    ...over,
  };
}

export function pebbleUnavailable(): string | null {
  if (!existsSync(PEBBLE)) return `pebble not found at ${PEBBLE} (apt-get install pebble)`;
  if (spawnSync('openssl', ['version']).error) return 'openssl not found';
  return null;
}

/** Use as the `skip` option of a test: false when runnable; a reason otherwise (an error in CI). */
export function skipWithoutPebble(): string | false {
  const why = pebbleUnavailable();
  if (why && process.env.DDNS_REQUIRE_REAL === '1') throw new Error(`real Pebble required in CI: ${why}`);
  return why ?? false;
}

function openssl(dir: string, args: string[]) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

export function makeTlsCa(dir: string): { caFile: string; certFile: string; keyFile: string } {
  openssl(dir, newCaArgs(2, '/CN=ddns test CA'));
  openssl(dir, ['req', ...newEcKeyArgs('key.pem'), '-out', 'leaf.csr', '-subj', '/CN=localhost']);
  writeFileSync(
    join(dir, 'leaf.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-extfile',
    'leaf.ext',
  ]);
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
}

export async function startPebble(opts: PebbleOptions): Promise<PebbleServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ddns-pebble-'));
  const tls = makeTlsCa(dir);
  const [port, mgmt, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const httpPort = opts.httpPort ?? (await freePort());
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${mgmt}`,
      certificate: tls.certFile,
      privateKey: tls.keyFile,
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: !!opts.eab,
      ...(opts.eab ? { externalAccountMACKeys: opts.eab } : {}),
      ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
    },
  };
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config));
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PEBBLE_VA_NOSLEEP: '1' };
  if (!opts.defaults) Object.assign(env, { PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' });
  Object.assign(env, opts.env);
  const child: ChildProcess = spawn(PEBBLE, ['-config', join(dir, 'pebble.json'), '-dnsserver', opts.dnsServer], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pebble did not start within 15 s:\n${out}`)), 15_000);
    const on = (b: Buffer) => {
      out += b.toString();
      if (out.includes('ACME directory available')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pebble exited with ${code}:\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  const caPem = readFileSync(tls.caFile, 'utf8');
  const managementUrl = `https://127.0.0.1:${mgmt}`;
  return {
    directoryUrl: `https://127.0.0.1:${port}/dir`,
    caPem,
    caFile: tls.caFile,
    managementUrl,
    log: () => out,
    issuingRoot: () =>
      new Promise((resolve, reject) => {
        https
          .get(`${managementUrl}/roots/0`, { ca: caPem }, (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () =>
              res.statusCode === 200 ? resolve(b) : reject(new Error(`roots/0: ${res.statusCode}`)),
            );
          })
          .on('error', reject);
      }),
    stop: async () => {
      await stopProcess(child, 'SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
