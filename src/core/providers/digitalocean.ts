/**
 * DigitalOcean DNS, API v2 (https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records,
 * domains: https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains, limits:
 * https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Rate-Limit).
 *
 * - `Authorization: Bearer <token>` on `https://api.digitalocean.com/v2`; a custom-scoped token
 *   needs `domain:read`, `domain:create`, `domain:update` and `domain:delete`.
 * - The domain of a name: the account's domains (`GET /domains`, read once and remembered), the
 *   longest that ends the name (DigitalOcean may host a sub-domain as a domain of its own).
 * - Read first: `GET /domains/{d}/records?type=A&name=<fqdn>` (the filter takes the full name);
 *   records are kept by id: one is edited with `PATCH /domains/{d}/records/{id}` sending only `data`
 *   (PATCH changes only the attributes sent: the TTL stays the user's), further ones are deleted,
 *   one is created (`POST /domains/{d}/records`) with the account's TTL when there is none.
 * - Errors are `{"id":"unauthorized"|"forbidden"|"not_found"|"too_many_requests"…, "message"}`.
 *   Limits: 5000 requests per hour and 250 per minute per token; a 429 carries `ratelimit-reset`
 *   (epoch seconds) rather than Retry-After: the wait is taken from it.
 * - TXT (ACME DNS-01): its own TXT record is created and deleted by id (the data unquoted); the
 *   other TXT values of the name stay. DigitalOcean's name servers publish within about a minute.
 */
import { z } from 'zod';
import { say } from '../errors';
import type { Family } from '../address';
import {
  accountZoneApi,
  bearerTokenSetting,
  checkSettings,
  convergedResult,
  convergeRecords,
  type DomainList,
  eachRecord,
  rateLimitResetWait,
  recordType,
  type TokenApi,
  zoneFields,
  zoneSettingsShape,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const DIGITALOCEAN_ENDPOINT = 'https://api.digitalocean.com/v2';
const TOKEN_HINT = say(
  'digitalocean.hint',
  'create a personal access token at cloud.digitalocean.com › API with the domain scopes (read, create, update, delete)',
);

export const digitaloceanSettings = z.object({
  token: bearerTokenSetting(phrase('digitalocean.enter_digitalocean_api_token', 'Enter the DigitalOcean API token.')),
  ...zoneSettingsShape('DigitalOcean', { min: 30, max: 86_400, def: 1800 }),
});
export type DigitaloceanSettings = z.infer<typeof digitaloceanSettings>;

const DoRecord = z.object({ id: z.number(), type: z.string(), name: z.string(), data: z.string() });
type DoRecord = z.infer<typeof DoRecord>;
const ApiError = z.object({ id: z.string(), message: z.string().optional() });
const Records = z.object({ domain_records: z.array(DoRecord) });
const Domains = z.object({
  domains: z.array(z.object({ name: z.string() })),
  links: z.object({ pages: z.object({ next: z.string().optional() }).optional() }).optional(),
});

class DigitaloceanProvider implements DnsProvider {
  readonly id = 'digitalocean';
  readonly maxHostsPerCall = 10;
  private readonly api: TokenApi;
  private readonly domains: DomainList;

  constructor(
    private readonly s: DigitaloceanSettings,
    env: ProviderEnv,
  ) {
    ({ api: this.api, domains: this.domains } = accountZoneApi(s, env, {
      name: 'DigitalOcean',
      code: 'do',
      endpoint: DIGITALOCEAN_ENDPOINT,
      tokenHint: TOKEN_HINT,
      forbiddenScope: 'account',
      said: (json) => {
        const e = ApiError.safeParse(json);
        return e.success ? `${e.data.id}: ${e.data.message ?? ''}` : undefined;
      },
      rateLimitWaitMs: (res) => rateLimitResetWait(res, 60_000),
      domains: {
        account: say('digitalocean.any_domain', 'any domain of this DigitalOcean account'),
        hint: say('digitalocean.check_domain', 'add the domain under Networking › Domains, or check the name'),
        read: (signal) => this.accountDomains(signal),
      },
    }));
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, async ({ hostname, family, address }) => {
      const type = recordType(family);
      const { domain, sub, records } = await this.lookup(hostname, type, call.signal);
      const path = `/domains/${domain}/records`;
      const o = { subject: hostname, signal: call.signal };
      const c = await convergeRecords(records, address, {
        content: (r) => r.data,
        create: () =>
          this.api.call('POST', path, { ...o, body: { type, name: sub || '@', data: address, ttl: this.s.ttl } }),
        edit: (r) => this.api.call('PATCH', `${path}/${r.id}`, { ...o, body: { type, data: address } }),
        remove: (r) => this.api.call('DELETE', `${path}/${r.id}`, o),
      });
      return convergedResult('DigitalOcean', hostname, family, address, c);
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return (await this.lookup(hostname, recordType(family), signal)).records.map((r) => r.data);
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { domain, sub, records } = await this.lookup(name, 'TXT', signal);
    if (records.some((r) => r.data === value)) return;
    const body = { type: 'TXT', name: sub || '@', data: value, ttl: 30 };
    await this.api.call('POST', `/domains/${domain}/records`, { body, subject: name, signal });
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { domain, records } = await this.lookup(name, 'TXT', signal);
    for (const r of records.filter((x) => x.data === value))
      await this.api.call('DELETE', `/domains/${domain}/records/${r.id}`, { subject: name, signal });
  }

  /** The records of one type of a name, with its domain and the name relative to it. */
  private async lookup(
    name: string,
    type: string,
    signal?: AbortSignal,
  ): Promise<{ domain: string; sub: string; records: DoRecord[] }> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const { domain, sub } = await this.domains.require(host, signal);
    const q = new URLSearchParams({ type, name: host, per_page: '200' });
    const res = await this.api.call('GET', `/domains/${domain}/records?${q.toString()}`, { subject: host, signal });
    const records = this.api
      .parse(Records, res)
      .domain_records.filter((r) => r.type === type && (r.name === (sub || '@') || r.name === host));
    return { domain, sub, records };
  }

  /** The account's domains, every page. */
  private async accountDomains(signal?: AbortSignal): Promise<string[]> {
    const found: string[] = [];
    for (let page = 1; page <= 20; page++) {
      const res = await this.api.call('GET', `/domains?per_page=200&page=${page}`, {
        subject: 'the domain list',
        signal,
      });
      const list = this.api.parse(Domains, res);
      found.push(...list.domains.map((d) => d.name));
      if (!list.links?.pages?.next) break;
    }
    return found;
  }
}

export const definition: ProviderDefinition<typeof digitaloceanSettings> = {
  id: 'digitalocean',
  label: 'DigitalOcean',
  settings: digitaloceanSettings,
  fields: [
    {
      key: 'token',
      label: 'API token',
      kind: 'password',
      required: true,
      placeholder: 'dop_v1_…',
      help: 'A personal access token (cloud.digitalocean.com › API); with custom scopes, give it domain read, create, update and delete only.',
    },
    ...zoneFields({
      provider: 'DigitalOcean',
      foundFrom: 'the account\u2019s domains',
      ttl: { min: 30, def: 1800 },
      endpoint: DIGITALOCEAN_ENDPOINT,
    }),
  ],
  txt: true,
  group: 'cloud',
  docsUrl: 'https://docs.digitalocean.com/reference/api/create-personal-access-token/',
  create: (settings, env) =>
    new DigitaloceanProvider(checkSettings(digitaloceanSettings, 'DigitalOcean', settings), env),
};
