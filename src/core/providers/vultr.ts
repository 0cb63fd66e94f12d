/**
 * Vultr DNS, API v2 (https://www.vultr.com/api/#tag/dns: list domains, list records, create,
 * update (PATCH) and delete a record; limits:
 * https://docs.vultr.com/support/platform/api/what-rate-limits-apply-to-the-vultr-api).
 *
 * - `Authorization: Bearer <API key>` on `https://api.vultr.com/v2`; a key may be restricted to
 *   the addresses it is used from (Account › API › Access Control): a refused address is a 401 too.
 * - The domain of a name: the account's domains (`GET /domains`, cursor pages of `per_page` ≤ 500,
 *   read once and remembered), the longest that ends the name.
 * - Read first: `GET /domains/{d}/records` (cursor pages; `name` relative to the domain, `""` for
 *   the apex); records are kept by id (a UUID): one is edited with `PATCH …/records/{id}` sending
 *   only `data` (PATCH changes only the attributes sent: the TTL stays the user's), further ones of
 *   that type are deleted, one is created (`POST`) with the account's TTL when there is none.
 * - Errors are `{"error": "…", "status": n}`; more than 30 requests per second from one address
 *   get 429.
 * - TXT (ACME DNS-01): the value is sent quoted (`"…"`, as lego does) and read back unquoted; its
 *   own record is created and deleted by id, the other TXT values of the name stay.
 */
import { z } from 'zod';
import { say } from '../errors';
import {
  accountZoneApi,
  bearerTokenSetting,
  checkSettings,
  type DomainList,
  quoteTxt,
  type TokenApi,
  unquoteTxt,
  zoneSettingsShape,
} from './kit';
import { createTtl, RecordsById, saidField, type RecordSet } from './kit-rest2';
import type { ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const VULTR_ENDPOINT = 'https://api.vultr.com/v2';
const TOKEN_HINT = say(
  'vultr.hint',
  'check the API key at my.vultr.com › Account › API, and that its Access Control allows the address Node-RED sends from',
);

export const vultrSettings = z.object({
  token: bearerTokenSetting(phrase('vultr.enter_vultr_api_key', 'Enter the Vultr API key.')),
  ...zoneSettingsShape('Vultr', { min: 30, max: 86_400, def: 300 }),
});
export type VultrSettings = z.infer<typeof vultrSettings>;

const VultrRecord = z.object({ id: z.string(), type: z.string(), name: z.string(), data: z.string() });
type VultrRecord = z.infer<typeof VultrRecord>;
const Meta = z.object({ links: z.object({ next: z.string().optional() }).optional() }).optional();

class VultrProvider extends RecordsById<VultrRecord> {
  readonly id = 'vultr';
  protected readonly label = 'Vultr';
  private readonly api: TokenApi;
  private readonly domains: DomainList;

  constructor(
    private readonly s: VultrSettings,
    env: ProviderEnv,
  ) {
    super();
    ({ api: this.api, domains: this.domains } = accountZoneApi(s, env, {
      name: 'Vultr',
      code: 'vultr',
      endpoint: VULTR_ENDPOINT,
      tokenHint: TOKEN_HINT,
      forbiddenScope: 'account',
      said: saidField('error'),
      domains: {
        account: say('vultr.any_domain', 'any domain of this Vultr account'),
        hint: say('vultr.check_domain', 'add the domain under Network › DNS, or check the name'),
        read: async (signal) =>
          (await this.pages('/domains', 'domains', z.object({ domain: z.string() }), 'the domain list', signal)).map(
            (d) => d.domain,
          ),
      },
    }));
  }

  protected content(r: VultrRecord): string {
    return r.type === 'TXT' ? unquoteTxt(r.data) : r.data;
  }

  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<RecordSet<VultrRecord>> {
    const { domain, sub } = await this.domains.require(name, signal);
    const path = `/domains/${domain}/records`;
    const all = await this.pages(path, 'records', VultrRecord, name, signal);
    const o = { subject: name, signal };
    const data = (value: string) => (type === 'TXT' ? quoteTxt(value) : value);
    return {
      records: all.filter((r) => r.type === type && r.name.toLowerCase() === sub),
      create: (value) =>
        this.api.call('POST', path, {
          ...o,
          body: { name: sub, type, data: data(value), ttl: createTtl(type, this.s.ttl) },
        }),
      edit: (r, value) => this.api.call('PATCH', `${path}/${r.id}`, { ...o, body: { data: data(value) } }),
      remove: (r) => this.api.call('DELETE', `${path}/${r.id}`, o),
    };
  }

  /** Every cursor page of a list (`key` holds the items). */
  private async pages<T extends z.ZodType>(
    path: string,
    key: string,
    item: T,
    subject: string,
    signal?: AbortSignal,
  ): Promise<Array<z.infer<T>>> {
    const out: Array<z.infer<T>> = [];
    const items = z.object({ [key]: z.array(item) }).transform((o) => o[key] as Array<z.infer<T>>);
    let cursor = '';
    for (let i = 0; i < 50; i++) {
      const q = new URLSearchParams({ per_page: '500', ...(cursor ? { cursor } : {}) });
      const res = await this.api.call('GET', `${path}?${q.toString()}`, { subject, signal });
      out.push(...this.api.parse(items, res));
      cursor = this.api.parse(z.object({ meta: Meta }), res).meta?.links?.next ?? '';
      if (!cursor) break;
    }
    return out;
  }
}

export const definition: ProviderDefinition<typeof vultrSettings> = {
  id: 'vultr',
  label: 'Vultr',
  settings: vultrSettings,
  fields: [
    {
      key: 'token',
      label: 'API key',
      kind: 'password',
      required: true,
      help: 'Enable the API at my.vultr.com › Account › API; under Access Control, allow only the address Node-RED sends from. A sub-account limited to DNS keeps the key\u2019s reach small.',
    },
    {
      key: 'domain',
      label: 'Domain',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the domain as Vultr DNS lists it. Left empty, it is found from the account\u2019s domains.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 300,
      help: 'Seconds. Records that already exist keep their own TTL.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: VULTR_ENDPOINT,
      advanced: true,
      help: 'Leave empty for Vultr itself; change only for testing.',
    },
  ],
  txt: true,
  group: 'cloud',
  docsUrl: 'https://docs.vultr.com/platform/other/api/enable-vultr-api',
  create: (settings, env) => new VultrProvider(checkSettings(vultrSettings, 'Vultr', settings), env),
};
