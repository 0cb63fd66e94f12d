/**
 * Azure DNS, Azure Resource Manager API 2018-05-01 (record sets:
 * https://learn.microsoft.com/en-us/rest/api/dns/record-sets/create-or-update and …/record-sets/get;
 * zones: https://learn.microsoft.com/en-us/rest/api/dns/zones/list-by-resource-group; the token:
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
 *
 * - An app registration (service principal) with a client secret: `POST
 *   https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` with
 *   `grant_type=client_credentials`, `client_id`, `client_secret`, `scope=https://management.azure.com/.default`
 *   gives an access token of about an hour (./oauth.ts); a refused secret is 401 `invalid_client`
 *   (AADSTS7000215), an unknown app 400 `unauthorized_client`/`invalid_request`. Least privilege:
 *   the role "DNS Zone Contributor" on the zone (or its resource group).
 * - The zone of a name: the zone setting, else the resource group's DNS zones (`GET …/dnsZones`,
 *   every page, read once): the longest that ends the name.
 * - Read first: `GET …/dnsZones/{zone}/{A|AAAA|TXT}/{relative name, @ for the apex}` answers the set
 *   with its `etag` and `properties` (`TTL`, `metadata`, `ARecords` …), or 404 `NotFound`. A write
 *   is a `PUT` of the whole set that sends the set's own TTL and metadata back, with `If-Match:
 *   <etag>` (a set changed meanwhile answers 412 and is read again on the next try) or, for a new
 *   set, `If-None-Match: *` and the account's TTL. Alias record sets (`targetResource`) are left alone.
 * - Errors are `{"error": {"code", "message"}}`: 401 InvalidAuthenticationToken, 403
 *   AuthorizationFailed, 404 ResourceNotFound (zone) / ResourceGroupNotFound, 412 PreconditionFailed,
 *   429 with Retry-After (Resource Manager throttling).
 * - TXT (ACME DNS-01): each TXT record is `{value: [string]}`; set adds a record of its own value,
 *   delete removes only that record (`DELETE` of the set with its last record). Azure DNS serves a
 *   change within about a minute.
 */
import { z } from 'zod';
import { fatal, say, transient } from '../errors';
import {
  checkSettings,
  type DomainList,
  type JsonResponse,
  optionalDomain,
  tokenSetting,
  WholeSets,
  type WholeSet,
  withDomains,
} from './kit';
import { createTtl } from './kit-rest2';
import { oauthAccount, oauthApi, type OAuthApi } from './oauth';
import type { DnsProvider, ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const AZURE_ENDPOINT = 'https://management.azure.com';
export const AZURE_LOGIN = 'https://login.microsoftonline.com';
const API = 'api-version=2018-05-01';
const HINT = say(
  'azure.hint',
  'check the tenant, the application (client) id and its client secret (Entra ID › App registrations › Certificates & secrets), and that the app has the DNS Zone Contributor role on the zone',
);

const uuid = (what: string) =>
  z
    .string({ error: phrase('azure.enter', 'Enter the __what__.', { what }) })
    .trim()
    .regex(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
      phrase('azure.guid', 'The __what__ is a GUID.', { what }),
    );

/** The TTL, the API address (Resource Manager) and the login address (Entra ID) of another cloud. */
const account = oauthAccount({
  provider: 'Azure DNS',
  maxTtl: 2_147_483_647,
  api: { url: AZURE_ENDPOINT, help: 'Leave empty for Azure itself (another cloud: its Resource Manager address).' },
  signIn: {
    key: 'authorityHost',
    label: 'Login address',
    url: AZURE_LOGIN,
    help: 'Leave empty for Azure itself (another cloud: its Entra ID login address).',
    error: phrase('azure.login_address_must_http', 'The login address must be an http:// or https:// URL.'),
  },
});

export const azureSettings = z.object({
  tenant: z
    .string({ error: phrase('azure.enter_tenant_directory_id', 'Enter the tenant (directory) id.') })
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/,
      phrase('azure.tenant_id_guid_domain', 'The tenant is its id (a GUID) or its domain.'),
    ),
  clientId: uuid('application (client) id'),
  password: tokenSetting(phrase('azure.enter_client_secret', 'Enter the client secret.')),
  subscriptionId: uuid('subscription id'),
  resourceGroup: z
    .string({ error: phrase('azure.enter_resource_group', 'Enter the resource group.') })
    .trim()
    .regex(
      /^[-\w._()]{1,90}$/,
      phrase('azure.resource_group_name_letters', 'The resource group is a name of letters, digits, - _ . ( ).'),
    ),
  zone: optionalDomain(),
  ...account.shape,
});
export type AzureSettings = z.infer<typeof azureSettings>;

const RecordSet = z.object({
  etag: z.string().optional(),
  properties: z
    .object({
      TTL: z.number().optional(),
      metadata: z.record(z.string(), z.string()).nullish(),
      ARecords: z.array(z.object({ ipv4Address: z.string() })).optional(),
      AAAARecords: z.array(z.object({ ipv6Address: z.string() })).optional(),
      TXTRecords: z.array(z.object({ value: z.array(z.string()) })).optional(),
      targetResource: z.object({ id: z.string().nullish() }).nullish(),
    })
    .loose(),
});
type RecordSet = z.infer<typeof RecordSet>;
const Zones = z.object({ value: z.array(z.object({ name: z.string() })), nextLink: z.string().nullish() });
const ApiError = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

/** The records of a set in the API's shape, from values. */
const recordsOf = (type: string, values: string[]) =>
  type === 'A'
    ? { ARecords: values.map((ipv4Address) => ({ ipv4Address })) }
    : type === 'AAAA'
      ? { AAAARecords: values.map((ipv6Address) => ({ ipv6Address })) }
      : { TXTRecords: values.map((v) => ({ value: [v] })) };

/** The values of a set (TXT records joined from their strings). */
const valuesOf = (type: string, set: RecordSet | undefined): string[] =>
  !set
    ? []
    : type === 'A'
      ? (set.properties.ARecords ?? []).map((r) => r.ipv4Address)
      : type === 'AAAA'
        ? (set.properties.AAAARecords ?? []).map((r) => r.ipv6Address)
        : (set.properties.TXTRecords ?? []).map((r) => r.value.join(''));

class AzureProvider extends WholeSets implements DnsProvider {
  readonly id = 'azure';
  private readonly api: OAuthApi;
  private readonly zones: DomainList;
  private readonly group: string;

  constructor(
    private readonly s: AzureSettings,
    env: ProviderEnv,
  ) {
    super('Azure DNS');
    const urls = account.urls(s);
    const endpoint = urls.api.replace(/\/+$/, '');
    this.group = `/subscriptions/${s.subscriptionId}/resourceGroups/${encodeURIComponent(s.resourceGroup)}/providers/Microsoft.Network/dnsZones`;
    ({ api: this.api, domains: this.zones } = withDomains(
      (onFailure) =>
        oauthApi({
          name: 'Azure DNS',
          code: 'azure',
          base: endpoint,
          env,
          hint: HINT,
          token: {
            name: 'Azure',
            url: `${urls.signIn.replace(/\/+$/, '')}/${encodeURIComponent(s.tenant)}/oauth2/v2.0/token`,
            secrets: [s.password],
            form: () => ({
              grant_type: 'client_credentials',
              client_id: s.clientId,
              client_secret: s.password,
              scope: `${new URL(endpoint).origin}/.default`,
            }),
          },
          forbiddenScope: 'host',
          said: (json) => {
            const e = ApiError.safeParse(json);
            return e.success ? `${e.data.error.code}: ${e.data.error.message ?? ''}` : undefined;
          },
          onFailure,
        }),
      {
        fixed: s.zone,
        account: say('azure.any_zone', 'any DNS zone of the resource group __group__', { group: s.resourceGroup }),
        hint: say('azure.check_group', 'check the name and the resource group, or set the zone'),
        read: (signal) => this.readZones(signal),
      },
    ));
  }

  /** A name's set of one type; a new set gets the account's TTL (60 s for an ACME TXT value). */
  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<WholeSet> {
    const { path, set } = await this.read(name, type, signal);
    return {
      values: valuesOf(type, set),
      exists: set !== undefined,
      replace: (values) => this.write(path, name, type, set, values, signal, createTtl(type, this.s.ttl)),
      remove: () =>
        this.api.call('DELETE', path, {
          subject: name,
          signal,
          headers: set?.etag ? { 'if-match': set.etag } : {},
        }),
    };
  }

  /** PUT the whole set: its own TTL and metadata kept (If-Match its etag), or a new one (If-None-Match: *). */
  private async write(
    path: string,
    name: string,
    type: string,
    set: RecordSet | undefined,
    values: string[],
    signal: AbortSignal | undefined,
    newTtl: number,
  ): Promise<void> {
    const properties = {
      TTL: set?.properties.TTL ?? newTtl,
      ...(set?.properties.metadata ? { metadata: set.properties.metadata } : {}),
      ...recordsOf(type, values),
    };
    const headers: Record<string, string> = set?.etag ? { 'if-match': set.etag } : set ? {} : { 'if-none-match': '*' };
    try {
      await this.api.call('PUT', path, { body: { properties }, headers, subject: name, signal });
    } catch (e) {
      throw this.conflict(e, name);
    }
  }

  /** 412 (the set changed since it was read) is transient: the next try reads it again. */
  private conflict(e: unknown, name: string): unknown {
    if (!(e instanceof Error) || (e as { code?: string }).code !== 'azure_refused') return e;
    const detail = (e as { detail?: string }).detail ?? '';
    if (!/PreconditionFailed|Precondition Failed/i.test(detail)) return e;
    return transient(
      say('azure.conflict', 'Azure DNS: the record set of __name__ changed while it was being updated: trying again', {
        name,
      }),
      {
        code: 'azure_conflict',
        scope: 'host',
        retryAfterMs: 5_000,
        detail,
      },
    );
  }

  /** A name's set of one type (undefined when there is none) and its API path. */
  private async read(name: string, type: string, signal?: AbortSignal): Promise<{ path: string; set?: RecordSet }> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const { domain, sub } = await this.zones.require(host, signal);
    const path = `${this.group}/${domain}/${type}/${encodeURIComponent(sub || '@')}?${API}`;
    const res = await this.api.call('GET', path, { subject: host, signal, missingIsAnswer: true });
    if (res.status === 404) return { path, set: this.missing(res, host) };
    const set = this.api.parse(RecordSet, res);
    if (set.properties.targetResource?.id)
      throw fatal(
        say(
          'azure.alias',
          '__host__ is an alias record set at Azure DNS: it is left as it is (change it in the portal)',
          {
            host,
          },
        ),
        { code: 'azure_alias_record', scope: 'host' },
      );
    return { path, set };
  }

  /** A 404 of a record set read: `NotFound` is a set that does not exist; any other is the zone's. */
  private missing(res: JsonResponse, host: string): undefined {
    const code = ApiError.safeParse(res.json).data?.error.code;
    if (code === 'NotFound') return undefined;
    this.zones.forget();
    throw this.api.notOwned(
      host,
      code
        ? say('azure.known_zone', 'a DNS zone Azure knows (__code__)', { code })
        : say('azure.known_zone_none', 'a DNS zone Azure knows (not found)'),
      say('azure.check_zone', 'check the zone and the resource group'),
    );
  }

  /** The resource group's DNS zones, every page. */
  private async readZones(signal?: AbortSignal): Promise<string[]> {
    const found: string[] = [];
    let path = `${this.group}?${API}`;
    for (let page = 0; page < 50 && path; page++) {
      const list = this.api.parse(Zones, await this.api.call('GET', path, { subject: 'the zone list', signal }));
      found.push(...list.value.map((z) => z.name));
      path = list.nextLink ? new URL(list.nextLink).pathname + new URL(list.nextLink).search : '';
    }
    return found;
  }
}

const text = (key: string, label: string, placeholder: string, help: string) => ({
  key,
  label,
  kind: 'text' as const,
  required: true,
  placeholder,
  help,
});

export const definition: ProviderDefinition<typeof azureSettings> = {
  id: 'azure',
  label: 'Azure DNS',
  settings: azureSettings,
  fields: [
    text('tenant', 'Tenant id', '00000000-0000-0000-0000-000000000000', 'Entra ID › Overview › Tenant ID.'),
    text(
      'clientId',
      'Application (client) id',
      '00000000-0000-0000-0000-000000000000',
      'Of an app registration given the DNS Zone Contributor role on the zone (Access control (IAM) of the zone).',
    ),
    {
      key: 'password',
      label: 'Client secret',
      kind: 'password',
      required: true,
      help: 'The secret\u2019s value (App registrations › Certificates & secrets), shown once when it is made.',
    },
    text('subscriptionId', 'Subscription id', '00000000-0000-0000-0000-000000000000', 'The subscription of the zone.'),
    text('resourceGroup', 'Resource group', 'dns-rg', 'The resource group of the zone.'),
    {
      key: 'zone',
      label: 'Zone',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the DNS zone. Left empty, it is found from the resource group\u2019s zones.',
    },
    ...account.fields,
  ],
  txt: true,
  group: 'cloud',
  docsUrl: 'https://learn.microsoft.com/en-us/entra/identity-platform/howto-create-service-principal-portal',
  create: (settings, env) => new AzureProvider(checkSettings(azureSettings, 'Azure DNS', settings), env),
};
