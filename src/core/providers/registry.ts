/**
 * Provider registry: provider id → label, editor fields, zod settings schema and factory.
 * Adding a provider is adding one file under providers/ and one line in PROVIDERS.
 *
 * Secrets: every provider names its secret settings with one of SECRET_KEYS. The account config
 * node stores exactly these as Node-RED credentials (encrypted, never exported); all other settings
 * are ordinary config properties.
 */
import type { z } from 'zod';
import type { DnsProvider, ProviderEnv } from './types';
import * as dryrun from './dryrun';
import * as duckdns from './duckdns';
import * as freedns from './freedns';
import * as dyndns2 from './dyndns2';
import * as noip from './noip';
import * as dynu from './dynu';
import * as dyndns from './dyndns';
import * as cloudflare from './cloudflare';
import * as rfc2136 from './rfc2136';

/** The only setting names that hold secrets, shared by all providers. */
export const SECRET_KEYS = ['password', 'token', 'tsigSecret'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** One field of the account edit dialog (rendered by the editor from this description). */
export interface ProviderField {
  /** Settings key; a SecretKey when kind is `password`. */
  key: string;
  label: string;
  kind: 'text' | 'password' | 'number' | 'select' | 'checkbox' | 'url';
  required?: boolean;
  placeholder?: string;
  /** One sentence of help shown under the field. */
  help?: string;
  options?: Array<{ value: string; label: string }>;
  default?: string | number | boolean;
  /** Advanced fields (endpoint overrides …) are shown folded. */
  advanced?: boolean;
}

export interface ProviderDefinition<S extends z.ZodType = z.ZodType> {
  id: string;
  label: string;
  /** Validates the account settings (config fields and credentials together). */
  settings: S;
  fields: readonly ProviderField[];
  /** Whether this provider can manage TXT records (ACME DNS-01). */
  txt: boolean;
  /** Where the user gets the token or password (shown in the editor). */
  docsUrl?: string;
  create(settings: z.infer<S>, env: ProviderEnv): DnsProvider;
}

export const PROVIDERS: ProviderDefinition[] = [
  dryrun.definition,
  duckdns.definition,
  freedns.definition,
  dyndns2.definition,
  noip.definition,
  dynu.definition,
  dyndns.definition,
  cloudflare.definition,
  rfc2136.definition,
  // one line per provider file, e.g. duckdns.definition,
];

export function providerById(id: string): ProviderDefinition | undefined {
  return PROVIDERS.find((p) => p.id === id);
}
