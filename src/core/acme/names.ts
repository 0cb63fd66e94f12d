/**
 * Certificate names and well-known ACME directories: the parts of cert-renew's configuration that
 * can be checked without loading the ACME client (which is large: it is loaded only when a
 * cert-renew node actually runs).
 */
import { badInput } from '../errors';

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

const NAME_RE = /^(\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

export function validateNames(names: string[]): string[] {
  const out = [...new Set(names.map((n) => n.trim().toLowerCase()).filter(Boolean))];
  if (out.length === 0) throw badInput('no certificate names given');
  if (out.length > 100) throw badInput('at most 100 names per certificate');
  for (const n of out)
    if (!NAME_RE.test(n))
      throw badInput(
        `"${n}" is not a valid certificate name (a fully qualified domain name, optionally starting with "*.")`,
      );
  return out;
}
