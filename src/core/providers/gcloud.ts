/**
 * Google Cloud DNS, API v1 (https://cloud.google.com/dns/docs/reference/rest/v1/; record sets:
 * https://cloud.google.com/dns/docs/reference/rest/v1/resourceRecordSets; zones:
 * https://cloud.google.com/dns/docs/reference/rest/v1/managedZones/list; the service-account OAuth
 * flow: https://developers.google.com/identity/protocols/oauth2/service-account#httprest).
 *
 * - The account is a service-account JSON key (the whole file is the secret, in `password`): a JWT
 *   `{iss: client_email, scope: ndev.clouddns.readwrite, aud: token URI, iat, exp: iat + 3600}`
 *   signed RS256 with its private key (./signing.ts, node:crypto) is exchanged at the token URI
 *   (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`) for an access token of an hour
 *   (./oauth.ts), sent as `Authorization: Bearer`. A refused JWT is `400 invalid_grant` (wrong or
 *   deleted key, clock off by more than a few minutes). Least privilege: the role "DNS
 *   Administrator" (roles/dns.admin) on the project, or a custom role with dns.resourceRecordSets.*,
 *   dns.changes.create and dns.managedZones.list.
 * - The managed zone of a name: the zone setting, else `GET /projects/{p}/managedZones` (every page,
 *   read once): the longest `dnsName` that ends the name, a public zone before a private one.
 * - Read first: `GET …/managedZones/{z}/rrsets/{fqdn.}/{type}` (404 when there is none); `PATCH` the
 *   same path with `{name, type, ttl, rrdatas}` replaces it, with the set's own TTL sent back; a new
 *   set is `POST …/rrsets` with the account's TTL; `DELETE` removes one. Cloud DNS propagates a
 *   change to its name servers within about a minute.
 * - Errors are `{"error": {"code", "message", "errors": [{"reason"}]}}`: 401 for the token (a new
 *   token is asked once), 403 for IAM, 404 for a zone or project, 429 rateLimitExceeded.
 * - TXT (ACME DNS-01): values are quoted strings; set adds its own value, delete removes only its own
 *   (the set goes with the last value).
 */
import { z } from 'zod';
import { say } from '../errors';
import {
  blankToUndefined,
  checkSettings,
  type DomainIds,
  tokenSetting,
  WholeSets,
  type WholeSet,
  withDomainIds,
} from './kit';
import { createTtl } from './kit-rest2';
import { oauthAccount, oauthApi, type OAuthApi } from './oauth';
import { signJwtRs256 } from './signing';
import type { DnsProvider, ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const GCLOUD_ENDPOINT = 'https://dns.googleapis.com/dns/v1';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/ndev.clouddns.readwrite';
const KEY_HINT = say(
  'gcloud.hint',
  'paste the whole JSON key of a service account (IAM › Service accounts › Keys › Add key › JSON) that has the DNS Administrator role on the project, and check this machine’s clock',
);

const ServiceAccount = z.object({
  client_email: z.string().min(3),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  project_id: z.string().optional(),
});
type ServiceAccount = z.infer<typeof ServiceAccount>;

const readKey = (s: string): ServiceAccount | undefined => {
  try {
    const r = ServiceAccount.safeParse(JSON.parse(s));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
};

const optionalName = (re: RegExp, message: string) =>
  z.preprocess(blankToUndefined, z.string().trim().regex(re, message).optional());

/** The TTL and the API and token addresses (for testing). */
const account = oauthAccount({
  provider: 'Google Cloud DNS',
  maxTtl: 86_400 * 7,
  api: { url: GCLOUD_ENDPOINT, help: 'Leave empty for Google itself; change only for testing.' },
  signIn: {
    key: 'tokenEndpoint',
    label: 'Token address',
    url: GOOGLE_TOKEN_URI,
    help: 'Leave empty for Google itself; change only for testing.',
    error: phrase('gcloud.token_address_must_http', 'The token address must be an http:// or https:// URL.'),
  },
});

export const gcloudSettings = z
  .object({
    password: tokenSetting(
      phrase('gcloud.paste_service_account_s', 'Paste the service account\u2019s JSON key.'),
    ).refine(
      (s) => readKey(s) !== undefined,
      phrase(
        'gcloud.key_must_service_account',
        'The key must be the service account\u2019s whole JSON file (with client_email and private_key).',
      ),
    ),
    project: optionalName(
      /^[a-z][a-z0-9-]{4,61}[a-z0-9]$/,
      phrase('gcloud.project_id_my_project', 'The project id is such as my-project-123.'),
    ),
    zone: optionalName(
      /^[a-z][a-z0-9-]{0,62}$/,
      phrase('gcloud.zone_cloud_dns_name', 'The zone is its Cloud DNS name, such as example-com.'),
    ),
    ...account.shape,
  })
  .refine((s) => s.project !== undefined || readKey(s.password)?.project_id !== undefined, {
    message: phrase('gcloud.enter_project_id_key', 'Enter the project id (the key names none).'),
    path: ['project'],
  });
export type GcloudSettings = z.infer<typeof gcloudSettings>;

const RRset = z.object({
  name: z.string(),
  type: z.string(),
  ttl: z.number().optional(),
  rrdatas: z.array(z.string()),
});
const Zones = z.object({
  managedZones: z
    .array(z.object({ name: z.string(), dnsName: z.string(), visibility: z.string().optional() }))
    .default([]),
  nextPageToken: z.string().optional(),
});
const ApiError = z.object({ error: z.object({ message: z.string(), status: z.string().optional() }) });

class GcloudProvider extends WholeSets implements DnsProvider {
  readonly id = 'gcloud';
  private readonly key: ServiceAccount;
  private readonly project: string;
  private readonly api: OAuthApi;
  /** The project's zones by domain, each with its name in Cloud DNS. */
  private readonly zones: DomainIds<string>;

  constructor(
    private readonly s: GcloudSettings,
    env: ProviderEnv,
  ) {
    super('Google Cloud DNS', 'quoted');
    this.key = readKey(s.password)!;
    this.project = s.project ?? this.key.project_id ?? '';
    const { api: base, signIn: url } = account.urls(s);
    ({ api: this.api, domains: this.zones } = withDomainIds(
      (onFailure) =>
        oauthApi({
          name: 'Google Cloud DNS',
          code: 'gcloud',
          base,
          env,
          hint: KEY_HINT,
          token: {
            url,
            secrets: [s.password, this.key.private_key, this.key.private_key_id ?? ''],
            form: () => {
              const iat = Math.floor(Date.now() / 1000);
              const claims = { iss: this.key.client_email, scope: SCOPE, aud: url, iat, exp: iat + 3600 };
              return {
                grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
                assertion: signJwtRs256(claims, this.key.private_key, this.key.private_key_id),
              };
            },
          },
          forbiddenScope: 'host',
          said: (json) => {
            const e = ApiError.safeParse(json);
            return e.success ? e.data.error.message : undefined;
          },
          onFailure,
        }),
      {
        account: say('gcloud.any_zone', 'any managed zone of the project __project__', { project: this.project }),
        hint: say('gcloud.check_project', 'check the name and the project, or set the zone'),
        read: (signal) => this.readZones(signal),
      },
    ));
  }

  /**
   * A name's set of one type: PATCH its path replaces it (its own TTL kept), POST to its zone's
   * rrsets creates it with the account's TTL (60 s for an ACME TXT value).
   */
  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<WholeSet> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const zone = this.s.zone ?? (await this.zones.require(host, signal)).id;
    const path = `/projects/${this.project}/managedZones/${zone}/rrsets/${encodeURIComponent(`${host}.`)}/${type}`;
    const res = await this.api.call('GET', path, { subject: host, signal, missingIsAnswer: true });
    const set = res.status === 404 ? undefined : this.api.parse(RRset, res);
    const o = { subject: name, signal };
    return {
      values: set?.rrdatas ?? [],
      exists: set !== undefined,
      replace: (rrdatas) => {
        const body = { name: `${host}.`, type, ttl: set?.ttl ?? createTtl(type, this.s.ttl), rrdatas };
        if (set) return this.api.call('PATCH', path, { ...o, body });
        return this.api.call('POST', path.replace(/\/[^/]+\/[^/]+$/, ''), { ...o, body });
      },
      remove: () => this.api.call('DELETE', path, o),
    };
  }

  /** The project's managed zones (every page) by domain, with their names: a public zone before a private one. */
  private async readZones(signal?: AbortSignal): Promise<Array<{ name: string; id: string }>> {
    const pub = new Map<string, string>();
    const priv = new Map<string, string>();
    let page = '';
    for (let i = 0; i < 50; i++) {
      const q = new URLSearchParams({ maxResults: '1000', ...(page ? { pageToken: page } : {}) });
      const path = `/projects/${this.project}/managedZones?${q.toString()}`;
      const list = this.api.parse(Zones, await this.api.call('GET', path, { subject: 'the zone list', signal }));
      for (const z of list.managedZones) {
        const target = z.visibility === 'private' ? priv : pub;
        const dns = z.dnsName.toLowerCase().replace(/\.$/, '');
        if (!target.has(dns)) target.set(dns, z.name);
      }
      if (!list.nextPageToken) break;
      page = list.nextPageToken;
    }
    for (const [d, n] of priv) if (!pub.has(d)) pub.set(d, n);
    return [...pub].map(([name, id]) => ({ name, id }));
  }
}

export const definition: ProviderDefinition<typeof gcloudSettings> = {
  id: 'gcloud',
  label: 'Google Cloud DNS',
  settings: gcloudSettings,
  fields: [
    {
      key: 'password',
      label: 'Service account key (JSON)',
      kind: 'password',
      required: true,
      placeholder: '{"type": "service_account", …}',
      help: 'The whole JSON key file of a service account with the DNS Administrator role (IAM › Service accounts › Keys › Add key › JSON).',
    },
    {
      key: 'project',
      label: 'Project id',
      kind: 'text',
      placeholder: 'my-project-123',
      help: 'Optional: the project of the zones. Left empty, the key\u2019s own project.',
    },
    {
      key: 'zone',
      label: 'Managed zone',
      kind: 'text',
      placeholder: 'example-com',
      help: 'Optional: the zone\u2019s name in Cloud DNS (not its domain). Left empty, it is found from the project\u2019s zones.',
    },
    ...account.fields,
  ],
  txt: true,
  group: 'cloud',
  docsUrl: 'https://cloud.google.com/iam/docs/keys-create-delete#creating',
  create: (settings, env) => new GcloudProvider(checkSettings(gcloudSettings, 'Google Cloud DNS', settings), env),
};
