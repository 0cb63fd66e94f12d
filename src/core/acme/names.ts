/**
 * Certificate names and well-known ACME directories: the parts of cert-renew's configuration that
 * can be checked without loading the ACME client (which is large: it is loaded only when a
 * cert-renew node actually runs).
 */
import { badInput, say } from '../errors';

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

/**
 * The CA presets of cert-renew (acme.sh wiki "Server", lego's CA table). No Buypass: its free ACME
 * service ended in October 2025. `eab`: the CA needs External Account Binding (key ID + HMAC key).
 */
export const CA_PRESETS = {
  letsencrypt: { url: LETS_ENCRYPT, eab: false },
  'letsencrypt-staging': { url: LETS_ENCRYPT_STAGING, eab: false },
  zerossl: { url: 'https://acme.zerossl.com/v2/DV90', eab: true },
  google: { url: 'https://dv.acme-v02.api.pki.goog/directory', eab: true },
  'google-staging': { url: 'https://dv.acme-v02.test-api.pki.goog/directory', eab: true },
  'sslcom-ecc': { url: 'https://acme.ssl.com/sslcom-dv-ecc', eab: true },
  'sslcom-rsa': { url: 'https://acme.ssl.com/sslcom-dv-rsa', eab: true },
} as const;
export type CaPreset = keyof typeof CA_PRESETS;
export const CA_CHOICES = [...(Object.keys(CA_PRESETS) as CaPreset[]), 'custom'] as const;

const NAME_RE = /^(\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

export function validateNames(names: string[]): string[] {
  const out = [...new Set(names.map((n) => n.trim().toLowerCase()).filter(Boolean))];
  if (out.length === 0) throw badInput(say('acme.no_names', 'no certificate names given'));
  if (out.length > 100) throw badInput(say('acme.too_many_names', 'at most 100 names per certificate'));
  for (const n of out)
    if (!NAME_RE.test(n))
      throw badInput(
        say(
          'acme.bad_name',
          '"__name__" is not a valid certificate name (a fully qualified domain name, optionally starting with "*.")',
          { name: n },
        ),
      );
  return out;
}
