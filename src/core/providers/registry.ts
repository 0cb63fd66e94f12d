/**
 * Provider registry: provider id → label, editor fields, zod settings schema and factory.
 * Adding a provider is adding one file under providers/ and one line in LOADERS.
 *
 * A provider's module is loaded when it is first asked for (issue 17): a Node-RED whose accounts
 * use DuckDNS loads DuckDNS, not the other 47 (about 5 MB of code in a bare process). The editor's
 * provider list (`allProviders()`) loads them all, when the editor asks for it.
 *
 * The contract types (ProviderDefinition, ProviderField, SECRET_KEYS) live in ./types, so that
 * provider files never import this file (no import cycle).
 */
import type { ProviderDefinition } from './types';

type Loader = () => { definition: ProviderDefinition };

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
const LOADERS: ReadonlyArray<readonly [string, Loader]> = [
  ['dryrun', () => require('./dryrun')],
  ['duckdns', () => require('./duckdns')],
  ['freedns', () => require('./freedns')],
  ['dyndns2', () => require('./dyndns2')],
  ['noip', () => require('./noip')],
  ['dynu', () => require('./dynu')],
  ['dyndns', () => require('./dyndns')],
  ['cloudflare', () => require('./cloudflare/index')],
  ['rfc2136', () => require('./rfc2136')],
  ['he', () => require('./he')],
  ['strato', () => require('./strato')],
  ['allinkl', () => require('./allinkl')],
  ['selfhost', () => require('./selfhost')],
  ['dynv6', () => require('./dynv6')],
  ['zoneedit', () => require('./zoneedit')],
  ['changeip', () => require('./changeip')],
  ['loopia', () => require('./loopia')],
  ['dnsomatic', () => require('./dnsomatic')],
  ['ydns', () => require('./ydns')],
  ['dnshome', () => require('./dnshome')],
  ['dode', () => require('./dode')],
  ['ipv64', () => require('./ipv64')],
  ['ovh-dynhost', () => require('./ovh')],
  ['namecheap', () => require('./namecheap')],
  ['porkbun', () => require('./porkbun')],
  ['desec', () => require('./desec')],
  ['digitalocean', () => require('./digitalocean')],
  ['gandi', () => require('./gandi')],
  ['hetzner', () => require('./hetzner')],
  ['route53', () => require('./route53')],
  ['gcloud', () => require('./gcloud')],
  ['azure', () => require('./azure')],
  ['pihole', () => require('./pihole')],
  ['adguard', () => require('./adguard')],
  ['ionos', () => require('./ionos')],
  ['linode', () => require('./linode')],
  ['vultr', () => require('./vultr')],
  ['dnsimple', () => require('./dnsimple')],
  ['powerdns', () => require('./powerdns')],
  ['cloudns', () => require('./cloudns')],
  ['njalla', () => require('./njalla')],
  ['namesilo', () => require('./namesilo')],
  ['godaddy', () => require('./godaddy')],
  ['spaceship', () => require('./spaceship')],
  ['ovhapi', () => require('./ovhapi')],
  ['netcup', () => require('./netcup')],
  ['infomaniak', () => require('./infomaniak')],
  ['acmedns', () => require('./acmedns')],
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** The ids of every provider, in the order the editor lists them, without loading any. */
export const PROVIDER_IDS: readonly string[] = LOADERS.map(([id]) => id);

function load([id, loader]: readonly [string, Loader]): ProviderDefinition {
  const def = loader().definition;
  if (def.id !== id) throw new Error(`provider registry: ${id} loads the definition of ${def.id}`);
  return def;
}

/** Every provider's definition (loads every provider module). */
export function allProviders(): ProviderDefinition[] {
  return LOADERS.map(load);
}

export function providerById(id: string): ProviderDefinition | undefined {
  const entry = LOADERS.find(([known]) => known === id);
  return entry ? load(entry) : undefined;
}

export { SECRET_KEYS, type SecretKey, type ProviderDefinition, type ProviderField } from './types';
