// openssl command-line pieces the tests' private CAs share.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `openssl req` arguments for a new P-256 key, unencrypted, written to keyFile. */
export const newEcKeyArgs = (keyFile: string): string[] => [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  keyFile,
];

/** `openssl req` arguments for a new self-signed CA: key ca.key, certificate ca.pem. */
export const newCaArgs = (days: number, subject: string): string[] => [
  'req',
  '-x509',
  ...newEcKeyArgs('ca.key'),
  '-out',
  'ca.pem',
  '-days',
  String(days),
  '-subj',
  subject,
];

/**
 * A self-signed certificate for `names` valid `days`, with its files as cert-renew keeps them in
 * `dir` (privkey.pem, cert.pem, an empty chain.pem, fullchain.pem): only its dates and names matter.
 * Returns the certificate (PEM).
 */
export function selfSignedCertificate(dir: string, days: number, names: string[]): string {
  mkdirSync(dir, { recursive: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...newEcKeyArgs('privkey.pem'),
      '-out',
      'cert.pem',
      '-days',
      String(days),
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    ],
    { cwd: dir, stdio: 'pipe' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  writeFileSync(join(dir, 'chain.pem'), '');
  writeFileSync(join(dir, 'fullchain.pem'), cert);
  return cert;
}
