/**
 * Provider registry: provider id → label, zod settings schema and factory.
 * Adding a provider is adding one file under providers/ and one line in PROVIDERS.
 */
import type { z } from 'zod';
import type { DnsProvider, ProviderEnv } from './types';

export interface ProviderDefinition<S extends z.ZodType = z.ZodType> {
  id: string;
  label: string;
  /** Validates the account settings (config fields and credentials together). */
  settings: S;
  /** Names of the settings that are secrets (kept in Node-RED credentials, redacted everywhere). */
  secrets: readonly string[];
  /** Whether this provider can manage TXT records (ACME DNS-01). */
  txt: boolean;
  /** Where the user gets the token or password (shown in the editor). */
  docsUrl?: string;
  create(settings: z.infer<S>, env: ProviderEnv): DnsProvider;
}

export const PROVIDERS: ProviderDefinition[] = [
  // one line per provider file, e.g. duckdns.definition,
];

export function providerById(id: string): ProviderDefinition | undefined {
  return PROVIDERS.find((p) => p.id === id);
}
