/**
 * Linode (Akamai) DNS Manager, API v4 (domains: https://techdocs.akamai.com/linode-api/reference/get-domains,
 * records: https://techdocs.akamai.com/linode-api/reference/get-domain-records and
 * https://techdocs.akamai.com/linode-api/reference/put-domain-record, errors and limits:
 * https://techdocs.akamai.com/linode-api/reference/errors and
 * https://techdocs.akamai.com/linode-api/reference/rate-limits).
 *
 * - `Authorization: Bearer <personal access token>` on `https://api.linode.com/v4`; the token needs
 *   the `domains:read_write` scope only.
 * - Domains and records are kept by numeric id: the domain of a name is the longest of the
 *   account's domains (`GET /domains`, pages of `page_size`, read once and remembered) that ends it.
 * - Read first: `GET /domains/{id}/records` (every page; `name` is relative to the domain, `""`
 *   for the apex); a record is edited with `PUT /domains/{id}/records/{rid}` sending only `target`
 *   (the fields not sent stay: the TTL stays the user's), further ones of that type are deleted, one
 *   is created (`POST`) with the account's TTL when there is none. Linode rounds a TTL to the next
 *   of its fixed values (300, 3600, 7200 …).
 * - Errors are `{"errors":[{"reason","field?"}]}`: 401 "Invalid Token", 403 a token without the
 *   domains scope, 404 "Not found"; 429 when a per-operation limit is exceeded.
 * - TXT (ACME DNS-01): its own record (the value unquoted) is created and deleted by id; the other
 *   TXT values of the name stay. Linode's name servers pick changes up within minutes (lego's
 *   Linode provider allows up to 15).
 */
import { z } from 'zod';
import { say } from '../errors';
import {
  bearerTokenSetting,
  checkSettings,
  type DomainIds,
  type TokenApi,
  accountApi,
  withDomainIds,
  zoneSettingsShape,
} from './kit';
import { createTtl, RecordsById, type RecordSet } from './kit-rest2';
import type { ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const LINODE_ENDPOINT = 'https://api.linode.com/v4';
const TOKEN_HINT = say(
  'linode.hint',
  'create a personal access token at cloud.linode.com › Profile › API Tokens with Domains: Read/Write',
);

export const linodeSettings = z.object({
  token: bearerTokenSetting(phrase('linode.enter_linode_personal_access', 'Enter the Linode personal access token.')),
  ...zoneSettingsShape('Linode', { min: 30, max: 2_419_200, def: 300 }),
});
export type LinodeSettings = z.infer<typeof linodeSettings>;

const LinodeRecord = z.object({ id: z.number(), type: z.string(), name: z.string(), target: z.string() });
type LinodeRecord = z.infer<typeof LinodeRecord>;
const Page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), page: z.number(), pages: z.number() });
const LinodeDomain = z.object({ id: z.number(), domain: z.string() });
const ApiErrors = z.object({ errors: z.array(z.object({ reason: z.string(), field: z.string().optional() })).min(1) });

class LinodeProvider extends RecordsById<LinodeRecord> {
  readonly id = 'linode';
  protected readonly label = 'Linode';
  private readonly api: TokenApi;
  private readonly domains: DomainIds<number>;

  constructor(
    private readonly s: LinodeSettings,
    env: ProviderEnv,
  ) {
    super();
    ({ api: this.api, domains: this.domains } = withDomainIds(
      (onFailure) =>
        accountApi(s, env, {
          name: 'Linode',
          code: 'linode',
          endpoint: LINODE_ENDPOINT,
          tokenHint: TOKEN_HINT,
          forbiddenScope: 'account',
          said: (json) => {
            const e = ApiErrors.safeParse(json);
            return e.success
              ? e.data.errors.map((x) => (x.field ? `${x.field}: ${x.reason}` : x.reason)).join('; ')
              : undefined;
          },
          onFailure,
        }),
      {
        only: s.domain,
        account: s.domain
          ? say('kit.account_domain', "the account's domain __domain__", { domain: s.domain })
          : say('linode.any_domain', 'any domain of this Linode account'),
        hint: say('linode.check_domain', 'add the domain in the Linode DNS Manager, or check the name'),
        read: async (signal) =>
          (await this.pages('/domains', LinodeDomain, 'the domain list', signal)).map((d) => ({
            name: d.domain,
            id: d.id,
          })),
      },
    ));
  }

  protected content(r: LinodeRecord): string {
    return r.target;
  }

  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<RecordSet<LinodeRecord>> {
    const { id, sub } = await this.domains.require(name, signal);
    const path = `/domains/${id}/records`;
    const all = await this.pages(path, LinodeRecord, name, signal);
    const o = { subject: name, signal };
    return {
      records: all.filter((r) => r.type === type && r.name.toLowerCase() === sub),
      create: (target) =>
        this.api.call('POST', path, {
          ...o,
          body: { type, name: sub, target, ttl_sec: createTtl(type, this.s.ttl, 30) },
        }),
      edit: (r, target) => this.api.call('PUT', `${path}/${r.id}`, { ...o, body: { target } }),
      remove: (r) => this.api.call('DELETE', `${path}/${r.id}`, o),
    };
  }

  /** Every page of a list. */
  private async pages<T extends z.ZodType>(
    path: string,
    item: T,
    subject: string,
    signal?: AbortSignal,
  ): Promise<Array<z.infer<T>>> {
    const out: Array<z.infer<T>> = [];
    for (let page = 1; page <= 50; page++) {
      const res = await this.api.call('GET', `${path}?page=${page}&page_size=500`, { subject, signal });
      const p = this.api.parse(Page(item), res);
      out.push(...p.data);
      if (p.page >= p.pages) break;
    }
    return out;
  }
}

export const definition: ProviderDefinition<typeof linodeSettings> = {
  id: 'linode',
  label: 'Linode (Akamai)',
  settings: linodeSettings,
  fields: [
    {
      key: 'token',
      label: 'Personal access token',
      kind: 'password',
      required: true,
      help: 'Create it at cloud.linode.com › Profile › API Tokens with Domains: Read/Write and nothing else.',
    },
    {
      key: 'domain',
      label: 'Domain',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the domain as the DNS Manager lists it. Left empty, it is found from the account\u2019s domains.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 300,
      help: 'Seconds (Linode rounds to its own steps: 300, 3600 …). Records that already exist keep their own TTL.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: LINODE_ENDPOINT,
      advanced: true,
      help: 'Leave empty for Linode itself; change only for testing.',
    },
  ],
  txt: true,
  group: 'cloud',
  docsUrl: 'https://techdocs.akamai.com/cloud-computing/docs/manage-personal-access-tokens',
  create: (settings, env) => new LinodeProvider(checkSettings(linodeSettings, 'Linode', settings), env),
};
