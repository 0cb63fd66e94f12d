/**
 * Cloudflare API v4 provider (API token, Bearer auth): settings and the registry entry.
 * API reference: https://developers.cloudflare.com/api/resources/dns/subresources/records/
 *
 * - models.ts: the API's answers as zod schemas, error codes, names and TXT contents;
 * - client.ts: one API call and the classification of its failures;
 * - reconcile.ts: the DnsProvider (zone lookup, converging a name's records, TXT set/delete).
 */
import { z } from 'zod';
import { blankToUndefined, boolSetting, httpUrl, numberInput, optionalDomain, tokenSetting } from '../kit';
import type { ProviderDefinition } from '../types';
import { asciiName, ZONE_ID } from './models';
import { CloudflareProvider } from './reconcile';
import { phrase } from '../../said';

export { asciiName, zoneCandidates } from './models';
export { RATE_LIMIT_BLOCK_MS } from './client';
export { CloudflareProvider } from './reconcile';

export const CLOUDFLARE_ENDPOINT = 'https://api.cloudflare.com/client/v4';

export const cloudflareSettings = z.object({
  token: tokenSetting(phrase('cloudflare.enter_cloudflare_api_token', 'enter the Cloudflare API token')).transform(
    (t) => t.replace(/^bearer\s+/i, ''),
  ),
  zone: optionalDomain(
    (s) => ZONE_ID.test(s) || asciiName(s) !== null,
    phrase('cloudflare.zone_must_domain_example', 'the zone must be a domain such as example.com, or a zone ID'),
  ),
  createMissing: boolSetting(true),
  ttl: z.preprocess(
    numberInput,
    z
      .number({ error: phrase('cloudflare.ttl_must_number_seconds', 'the TTL must be a number of seconds') })
      .int(phrase('cloudflare.ttl_must_whole_number', 'the TTL must be a whole number of seconds'))
      .refine(
        (t) => t === 1 || (t >= 60 && t <= 86_400),
        phrase('cloudflare.ttl_must_1_automatic', 'the TTL must be 1 (automatic) or between 60 and 86400 seconds'),
      )
      .default(1),
  ),
  proxied: boolSetting(false),
  endpoint: z.preprocess(
    blankToUndefined,
    httpUrl(phrase('cloudflare.api_address_must_http', 'the API address must be an http(s) URL')).default(
      CLOUDFLARE_ENDPOINT,
    ),
  ),
});
export type CloudflareSettings = z.infer<typeof cloudflareSettings>;

export const definition: ProviderDefinition<typeof cloudflareSettings> = {
  id: 'cloudflare',
  label: 'Cloudflare (API token)',
  group: 'registrar',
  settings: cloudflareSettings,
  fields: [
    {
      key: 'token',
      label: 'API token',
      kind: 'password',
      required: true,
      help: 'An API token with Zone · DNS · Edit and Zone · Zone · Read for your domain (the "Edit zone DNS" template). Not the Global API Key.',
    },
    {
      key: 'zone',
      label: 'Zone',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: your domain as Cloudflare shows it, or its zone ID. Left empty, the zone is found from each name.',
    },
    {
      key: 'createMissing',
      label: 'Create missing records',
      kind: 'checkbox',
      default: true,
      help: 'When a name has no A/AAAA record yet, create it. Off: a missing record is reported as an error.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 1,
      help: 'Seconds, 60 to 86400; 1 means automatic. Records that already exist keep their own TTL.',
    },
    {
      key: 'proxied',
      label: 'Proxy new records through Cloudflare',
      kind: 'checkbox',
      default: false,
      help: 'Only for records this node creates; existing records keep their proxy status. Proxied names resolve to Cloudflare, not to your address.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      default: CLOUDFLARE_ENDPOINT,
      advanced: true,
      help: 'Change only for testing or an API gateway.',
    },
  ],
  txt: true,
  docsUrl: 'https://developers.cloudflare.com/fundamentals/api/get-started/create-token/',
  create: (settings, env) => new CloudflareProvider(settings, env),
};
