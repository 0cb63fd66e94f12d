/**
 * Provider registry: provider id → label, editor fields, zod settings schema and factory.
 * Adding a provider is adding one file under providers/ and one line in PROVIDERS.
 *
 * The contract types (ProviderDefinition, ProviderField, SECRET_KEYS) live in ./types, so that
 * provider files never import this file (no import cycle).
 */
import type { ProviderDefinition } from './types';
import * as dryrun from './dryrun';
import * as duckdns from './duckdns';
import * as freedns from './freedns';
import * as dyndns2 from './dyndns2';
import * as noip from './noip';
import * as dynu from './dynu';
import * as dyndns from './dyndns';
import * as cloudflare from './cloudflare/index';
import * as rfc2136 from './rfc2136';
import * as he from './he';
import * as strato from './strato';
import * as allinkl from './allinkl';
import * as selfhost from './selfhost';
import * as dynv6 from './dynv6';
import * as zoneedit from './zoneedit';
import * as changeip from './changeip';
import * as loopia from './loopia';
import * as dnsomatic from './dnsomatic';
import * as ydns from './ydns';
import * as dnshome from './dnshome';
import * as dode from './dode';
import * as ipv64 from './ipv64';
import * as ovh from './ovh';
import * as namecheap from './namecheap';
import * as porkbun from './porkbun';
import * as desec from './desec';
import * as digitalocean from './digitalocean';
import * as gandi from './gandi';
import * as hetzner from './hetzner';
import * as route53 from './route53';
import * as gcloud from './gcloud';
import * as azure from './azure';
import * as pihole from './pihole';
import * as adguard from './adguard';
import * as ionos from './ionos';
import * as linode from './linode';
import * as infomaniak from './infomaniak';
import * as vultr from './vultr';
import * as dnsimple from './dnsimple';
import * as powerdns from './powerdns';
import * as cloudns from './cloudns';
import * as njalla from './njalla';
import * as namesilo from './namesilo';
import * as godaddy from './godaddy';
import * as spaceship from './spaceship';
import * as ovhapi from './ovhapi';
import * as netcup from './netcup';
import * as acmedns from './acmedns';

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
  he.definition,
  strato.definition,
  allinkl.definition,
  selfhost.definition,
  dynv6.definition,
  zoneedit.definition,
  changeip.definition,
  loopia.definition,
  dnsomatic.definition,
  ydns.definition,
  dnshome.definition,
  dode.definition,
  ipv64.definition,
  ovh.definition,
  namecheap.definition,
  porkbun.definition,
  desec.definition,
  digitalocean.definition,
  gandi.definition,
  hetzner.definition,
  route53.definition,
  gcloud.definition,
  azure.definition,
  pihole.definition,
  adguard.definition,
  ionos.definition,
  linode.definition,
  vultr.definition,
  dnsimple.definition,
  powerdns.definition,
  cloudns.definition,
  njalla.definition,
  namesilo.definition,
  godaddy.definition,
  spaceship.definition,
  ovhapi.definition,
  netcup.definition,
  infomaniak.definition,
  acmedns.definition,
];

export function providerById(id: string): ProviderDefinition | undefined {
  return PROVIDERS.find((p) => p.id === id);
}

export { SECRET_KEYS, type SecretKey, type ProviderDefinition, type ProviderField } from './types';
