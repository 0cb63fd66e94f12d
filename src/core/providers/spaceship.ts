/**
 * Spaceship DNS records API v1 (https://docs.spaceship.dev/, DNS records:
 * https://docs.spaceship.dev/#tag/DNS-records; keys: https://www.spaceship.com/application/api-manager/).
 *
 * - `X-API-Key: <key>` and `X-API-Secret: <secret>` on `https://spaceship.dev/api/v1`; the key needs
 *   the `dnsRecords:read` and `dnsRecords:write` permissions (and `domains:read` when the domain
 *   setting is empty: the domain of a name is then found from `GET /domains`).
 * - Records are kept by value, not by id: `GET /dns/records/{domain}?take=&skip=` (paged) answers
 *   `{items: [{type, name, address | value, ttl}], total}` with names relative to the domain (`@`
 *   the apex); `PUT /dns/records/{domain}` with `{force: true, items: [...]}` adds (or overwrites)
 *   records (204); `DELETE /dns/records/{domain}` with the list of records `[{type, name, address}]`
 *   removes exactly those (204). A changed address is the new record put (with the old one's TTL)
 *   and the old one deleted; further ones are deleted; a new one gets the account's TTL (60–3600).
 * - Errors are `{detail, data: [{field, details}]}` with a `spaceship-error-code` header: 401 bad
 *   key/secret, 403 a key without `dnsRecords:write`, 404 `SOA record for domain … not found.` (the
 *   domain is not on Spaceship DNS), 429 above 300 requests per 300 s per domain.
 * - TXT (ACME DNS-01): its own TXT record (`value`) is put and deleted; the other TXT records of
 *   the name stay. Spaceship's name servers serve a change within a few minutes.
 *
 * Cross-checked with qdm12/ddns-updater (internal/provider/providers/spaceship) and Posh-ACME's
 * Spaceship plugin.
 */
import { z } from 'zod';
import { say } from '../errors';
import type { Family } from '../address';
import {
  checkSettings,
  convergeRecords,
  convergedResult,
  eachRecord,
  recordType,
  requiredText,
  tokenSetting,
  withDomains,
  type DomainList,
  zoneFields,
  zoneSettingsShape,
} from './kit';
import { OAuthApi, staticKey } from './oauth';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const SPACESHIP_ENDPOINT = 'https://spaceship.dev/api/v1';
const HINT = say(
  'spaceship.hint',
  'make an API key at spaceship.com › API Manager with dnsRecords read and write (and domains read), and paste its key and secret',
);
const PAGE = 500;

export const spaceshipSettings = z.object({
  apiKey: requiredText(phrase('spaceship.enter_spaceship_api_key', 'Enter the Spaceship API key.')),
  password: tokenSetting(phrase('spaceship.enter_spaceship_api_secret', 'Enter the Spaceship API secret.')),
  ...zoneSettingsShape('Spaceship', { min: 60, max: 3600, def: 3600 }),
});
export type SpaceshipSettings = z.infer<typeof spaceshipSettings>;

const Item = z.object({
  type: z.string(),
  name: z.string(),
  address: z.string().optional(),
  value: z.string().optional(),
  ttl: z.number().optional(),
});
const ApiError = z.object({
  detail: z.string().optional(),
  data: z.array(z.object({ field: z.string().optional(), details: z.string().optional() })).optional(),
});

class SpaceshipProvider implements DnsProvider {
  readonly id = 'spaceship';
  readonly maxHostsPerCall = 10;
  private readonly api: OAuthApi;
  private readonly domains: DomainList;

  constructor(
    private readonly s: SpaceshipSettings,
    env: ProviderEnv,
  ) {
    ({ api: this.api, domains: this.domains } = withDomains(
      (onFailure) =>
        new OAuthApi(staticKey(s.password), {
          name: 'Spaceship',
          code: 'spaceship',
          base: s.endpoint ?? SPACESHIP_ENDPOINT,
          env,
          tokenHint: HINT,
          forbiddenScope: 'account',
          authHeaders: (secret) => ({ 'x-api-key': s.apiKey, 'x-api-secret': secret }),
          said: (json) => {
            const e = ApiError.safeParse(json);
            if (!e.success || (!e.data.detail && !e.data.data)) return undefined;
            const fields = (e.data.data ?? []).map((d) =>
              d.field ? `${d.field}: ${d.details ?? ''}` : (d.details ?? ''),
            );
            return [e.data.detail, ...fields].filter(Boolean).join('; ');
          },
          onFailure,
        }),
      {
        fixed: s.domain,
        account: say('spaceship.any_domain', 'any domain of this Spaceship account'),
        hint: say('spaceship.check_domain', 'check the name, or that the domain is at Spaceship'),
        read: async (signal) =>
          (await this.pages(z.object({ name: z.string() }), '/domains', 'the domain list', signal)).map((d) => d.name),
      },
    ));
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, async ({ hostname, family, address }) => {
      const type = recordType(family);
      const { domain, name, items } = await this.lookup(hostname, type, call.signal);
      const o = { hostname, domain, signal: call.signal };
      const c = await convergeRecords(items, address, {
        content: (r) => r.address ?? '',
        create: () => this.put(o, { type, name, address, ttl: this.s.ttl }),
        edit: async (r) => {
          await this.put(o, { type, name, address, ttl: r.ttl ?? this.s.ttl });
          await this.remove(o, { type, name, address: r.address });
        },
        remove: (r) => this.remove(o, { type, name, address: r.address }),
      });
      return convergedResult('Spaceship', hostname, family, address, c);
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return (await this.lookup(hostname, recordType(family), signal)).items.map((r) => r.address ?? '');
  }

  async setTxt(hostname: string, value: string, signal?: AbortSignal): Promise<void> {
    const { domain, name, items } = await this.lookup(hostname, 'TXT', signal);
    if (items.some((r) => r.value === value)) return;
    await this.put({ hostname, domain, signal }, { type: 'TXT', name, value, ttl: 60 });
  }

  async deleteTxt(hostname: string, value: string, signal?: AbortSignal): Promise<void> {
    const { domain, name, items } = await this.lookup(hostname, 'TXT', signal);
    if (items.some((r) => r.value === value))
      await this.remove({ hostname, domain, signal }, { type: 'TXT', name, value });
  }

  private put(o: { hostname: string; domain: string; signal?: AbortSignal }, item: object) {
    const body = { force: true, items: [item] };
    return this.api.call('PUT', `/dns/records/${o.domain}`, { body, subject: o.hostname, signal: o.signal });
  }

  private remove(o: { hostname: string; domain: string; signal?: AbortSignal }, item: object) {
    return this.api.call('DELETE', `/dns/records/${o.domain}`, { body: [item], subject: o.hostname, signal: o.signal });
  }

  /** The records of one type of a name, with its domain and the name relative to it. */
  private async lookup(hostname: string, type: string, signal?: AbortSignal) {
    const { domain, sub } = await this.domains.require(hostname, signal);
    const name = sub || '@';
    const all = await this.pages(Item, `/dns/records/${domain}`, hostname, signal);
    const items = all.filter((r) => r.type === type && r.name.toLowerCase() === name);
    return { domain, name, items };
  }

  /** Every item of a paged list (`take`/`skip`). */
  private async pages<S extends z.ZodType>(item: S, path: string, subject: string, signal?: AbortSignal) {
    const found: Array<z.infer<S>> = [];
    const Page = z.object({ items: z.array(item), total: z.number().optional() });
    for (let skip = 0; skip < 20 * PAGE; skip += PAGE) {
      const res = await this.api.call('GET', `${path}?take=${PAGE}&skip=${skip}`, { subject, signal });
      const page = this.api.parse(Page, res);
      found.push(...page.items);
      if (page.items.length < PAGE || found.length >= (page.total ?? Infinity)) break;
    }
    return found;
  }
}

export const definition: ProviderDefinition<typeof spaceshipSettings> = {
  id: 'spaceship',
  label: 'Spaceship',
  settings: spaceshipSettings,
  fields: [
    {
      key: 'apiKey',
      label: 'API key',
      kind: 'text',
      required: true,
      help: 'Made at spaceship.com › API Manager, with the dnsRecords read and write permissions only (and domains read to leave the domain empty).',
    },
    { key: 'password', label: 'API secret', kind: 'password', required: true, help: 'The secret shown with the key.' },
    ...zoneFields({
      provider: 'Spaceship',
      foundFrom: 'the account\u2019s domains',
      ttl: { min: 60, def: 3600 },
      endpoint: SPACESHIP_ENDPOINT,
    }),
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://docs.spaceship.dev/',
  create: (settings, env) => new SpaceshipProvider(checkSettings(spaceshipSettings, 'Spaceship', settings), env),
};
