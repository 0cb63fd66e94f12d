/**
 * GoDaddy Domains API v1, DNS records (https://developer.godaddy.com/doc/endpoint/domains; keys:
 * https://developer.godaddy.com/keys; getting started: https://developer.godaddy.com/getstarted).
 *
 * - `Authorization: sso-key <key>:<secret>` on `https://api.godaddy.com/v1` (a Production key; the
 *   key is not secret, its secret is).
 * - **Gated since May 2024**: GoDaddy lets only accounts with 10 or more domains (or a Discount
 *   Domain Club Premier plan) use the Domains and DNS API; other accounts get 403
 *   `{"code":"ACCESS_DENIED","message":"Authenticated user is not allowed access"}` for every call
 *   (qdm12/ddns-updater#707, srvrco/getssl#847, jeessy2/ddns-go#1105). That 403 stops the account
 *   with a sentence saying so.
 * - The domain of a name: the account's domains (`GET /domains`, read once), the longest that ends it.
 * - Records are sets per name and type: `GET /domains/{domain}/records/{type}/{name}` answers
 *   `[{data, name, ttl, type}]` (`[]` when there is none; the apex is `@`), `PUT` the same path
 *   with `[{data, ttl}]` replaces them all: the set's own TTL is sent back so that it stays the
 *   user's, a new set gets the account's TTL (GoDaddy's minimum is 600). `DELETE` the path removes them.
 * - Errors are `{"code", "message"}`: 401 `UNABLE_TO_AUTHENTICATE`, 403 `ACCESS_DENIED`, 404
 *   `NOT_FOUND` (a domain not in the account), 422 `INVALID_BODY`, 429 `TOO_MANY_REQUESTS` with
 *   `retryAfterSec` (60 requests per minute per key).
 * - TXT (ACME DNS-01): the set of TXT values of the name with its own value added or removed (the
 *   set deleted with its last value). GoDaddy's name servers serve a change within a few minutes.
 */
import { z } from 'zod';
import { DdnsError, fatal, say } from '../errors';
import {
  checkSettings,
  type DomainList,
  type JsonResponse,
  requiredText,
  TokenApi,
  tokenSetting,
  type WholeSet,
  WholeSets,
  withDomains,
  zoneFields,
  zoneSettingsShape,
} from './kit';
import type { DnsProvider, ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const GODADDY_ENDPOINT = 'https://api.godaddy.com/v1';
const TOKEN_HINT = say('godaddy.hint', 'check the Production API key and its secret (developer.godaddy.com/keys)');
/** What the editor and the 403 ACCESS_DENIED error say. */
export const GODADDY_GATED =
  'GoDaddy gates its API for most accounts since 2024 (accounts with fewer than 10 domains get 403 ACCESS_DENIED)';

export const godaddySettings = z.object({
  apiKey: requiredText(phrase('godaddy.enter_godaddy_api_key', 'Enter the GoDaddy API key.')),
  password: tokenSetting(phrase('godaddy.enter_secret_godaddy_api', 'Enter the secret of the GoDaddy API key.')),
  ...zoneSettingsShape('GoDaddy', { min: 600, max: 604_800, def: 600 }),
});
export type GodaddySettings = z.infer<typeof godaddySettings>;

const GdRecord = z.object({ data: z.string(), ttl: z.number().optional() });
const ApiError = z.object({ code: z.string(), message: z.string().optional() });

class GodaddyProvider extends WholeSets implements DnsProvider {
  readonly id = 'godaddy';
  private readonly api: TokenApi;
  private readonly domains: DomainList;

  constructor(
    private readonly s: GodaddySettings,
    env: ProviderEnv,
  ) {
    super('GoDaddy');
    ({ api: this.api, domains: this.domains } = withDomains(
      (onFailure) =>
        new TokenApi({
          name: 'GoDaddy',
          code: 'godaddy',
          base: s.endpoint ?? GODADDY_ENDPOINT,
          token: s.password,
          authorization: (secret) => `sso-key ${s.apiKey}:${secret}`,
          env,
          tokenHint: TOKEN_HINT,
          forbiddenScope: 'account',
          said: (json) => {
            const e = ApiError.safeParse(json);
            return e.success ? `${e.data.code}: ${e.data.message ?? ''}` : undefined;
          },
          rateLimitWaitMs: (res) => {
            const wait = z.object({ retryAfterSec: z.number() }).safeParse(res.json);
            return wait.success ? wait.data.retryAfterSec * 1000 : 60_000;
          },
          onFailure,
        }),
      {
        fixed: s.domain,
        account: say('godaddy.any_domain', 'any domain of this GoDaddy account'),
        hint: say('godaddy.check_domain', 'check the name, or that the domain is at GoDaddy'),
        read: async (signal) => {
          const res = await this.call('GET', '/domains?statuses=ACTIVE&limit=1000', 'the domain list', signal);
          return this.api.parse(z.array(z.object({ domain: z.string() })), res).map((d) => d.domain);
        },
      },
    ));
  }

  /** The record set of one type of a name (empty when there is none): a PUT of its path replaces it, keeping its TTL. */
  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<WholeSet> {
    const { domain, sub } = await this.domains.require(name, signal);
    const path = `/domains/${domain}/records/${type}/${encodeURIComponent(sub || '@')}`;
    const set = this.api.parse(z.array(GdRecord), await this.call('GET', path, name, signal));
    const ttl = set[0]?.ttl ?? this.s.ttl;
    return {
      values: set.map((r) => r.data),
      exists: set.length > 0,
      replace: (values) =>
        this.call(
          'PUT',
          path,
          name,
          signal,
          values.map((data) => ({ data, ttl })),
        ),
      remove: () => this.call('DELETE', path, name, signal),
    };
  }

  /** One API call; the gated account's 403 ACCESS_DENIED becomes the account error that says so. */
  private async call(
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    subject: string,
    signal?: AbortSignal,
    body?: object,
  ): Promise<JsonResponse> {
    try {
      return await this.api.call(method, path, { subject, signal, body });
    } catch (e) {
      if (e instanceof DdnsError && e.code === 'godaddy_forbidden' && /ACCESS_DENIED/.test(e.message))
        throw this.api.redactor.error(
          fatal(
            say(
              'godaddy.access_denied',
              "GoDaddy refused this account's API access: GoDaddy gates its API for most accounts since 2024 (accounts with fewer than 10 domains get 403 ACCESS_DENIED); use another DNS host for the name.",
            ),
            {
              code: 'godaddy_access_denied',
              scope: 'account',
              detail: e.detail,
            },
          ),
        );
      throw e;
    }
  }
}

export const definition: ProviderDefinition<typeof godaddySettings> = {
  id: 'godaddy',
  label: 'GoDaddy',
  settings: godaddySettings,
  fields: [
    {
      key: 'apiKey',
      label: 'API key',
      kind: 'text',
      required: true,
      help: `A Production key made at developer.godaddy.com/keys. ${GODADDY_GATED}: use another DNS host then, or delegate the name to one with a CNAME.`,
    },
    { key: 'password', label: 'API secret', kind: 'password', required: true, help: 'The secret shown with the key.' },
    ...zoneFields({
      provider: 'GoDaddy',
      foundFrom: 'the account\u2019s domains',
      ttl: { min: 600, def: 600 },
      endpoint: GODADDY_ENDPOINT,
    }),
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://developer.godaddy.com/getstarted',
  create: (settings, env) => new GodaddyProvider(checkSettings(godaddySettings, 'GoDaddy', settings), env),
};
