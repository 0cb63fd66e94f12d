// openssl command-line pieces the tests' private CAs share.

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
