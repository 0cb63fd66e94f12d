/**
 * DNSimple, API v2 (https://developer.dnsimple.com/v2/zones/records/; the account:
 * https://developer.dnsimple.com/v2/identity/#whoami and https://developer.dnsimple.com/v2/accounts/;
 * zones: https://developer.dnsimple.com/v2/zones/#listZones; limits and errors:
 * https://developer.dnsimple.com/v2/#rate-limiting, https://developer.dnsimple.com/v2/#errors).
 *
 * - `Authorization: Bearer <API access token>` on `https://api.dnsimple.com/v2` (the sandbox is
 *   `https://api.sandbox.dnsimple.com/v2`, an endpoint override). Every path starts with the
 *   account id: the setting when given, else `GET /whoami`'s `data.account.id` (an account token),
 *   else the only account of `GET /accounts` (a user token that sees one account); read once.
 * - The zone of a name: the account's zones (`GET /{account}/zones`, pages, read once and
 *   remembered), the longest that ends the name.
 * - Read first: `GET /{account}/zones/{zone}/records?name=<sub>&type=A` (`name` relative to the
 *   zone, `""` for the apex, an exact match); records are kept by id: one is edited with `PATCH
 *   …/records/{id}` sending only `content` (the TTL, regions and priority stay the user's),
 *   further ones are deleted, one is created (`POST`) with the account's TTL when there is none.
 * - Errors are `{"message": "…", "errors"?: {field: [..]}}`: 401 "Authentication failed", 404
 *   "Zone `x` not found", 400 "Validation failed". 2400 requests per hour per account (4000 in
 *   older documents); a 429 carries `X-RateLimit-Reset` (epoch seconds): the wait is taken from it.
 * - TXT (ACME DNS-01): its own record is created (the value as given) and deleted by id, the other
 *   TXT values of the name stay; DNSimple may give TXT content back quoted: it is read unquoted.
 */
import { z } from 'zod';
import { fatal, say } from '../errors';
import {
  accountZoneApi,
  bearerTokenSetting,
  blankToUndefined,
  checkSettings,
  type DomainList,
  type TokenApi,
  unquoteTxt,
  zoneSettingsShape,
} from './kit';
import { createTtl, epochResetWait, RecordsById, saidField, type RecordSet } from './kit-rest2';
import type { ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const DNSIMPLE_ENDPOINT = 'https://api.dnsimple.com/v2';
const TOKEN_HINT = say('dnsimple.hint', 'create an account API token at dnsimple.com › Account › Access tokens');

export const dnsimpleSettings = z.object({
  token: bearerTokenSetting(phrase('dnsimple.enter_dnsimple_api_access', 'Enter the DNSimple API access token.')),
  accountId: z.preprocess(
    blankToUndefined,
    z.coerce
      .string()
      .trim()
      .regex(
        /^\d+$/,
        phrase(
          'dnsimple.dnsimple_account_id_number',
          'The DNSimple account id is a number (shown in the address of the account\u2019s pages).',
        ),
      )
      .optional(),
  ),
  ...zoneSettingsShape('DNSimple', { min: 60, max: 86_400, def: 3600 }),
});
export type DnsimpleSettings = z.infer<typeof dnsimpleSettings>;

const DnsimpleRecord = z.object({ id: z.number(), type: z.string(), name: z.string(), content: z.string() });
type DnsimpleRecord = z.infer<typeof DnsimpleRecord>;
const Pagination = z.object({ current_page: z.number(), total_pages: z.number() });
const Whoami = z.object({ data: z.object({ account: z.object({ id: z.number() }).nullable().optional() }) });
const Accounts = z.object({ data: z.array(z.object({ id: z.number() })) });

class DnsimpleProvider extends RecordsById<DnsimpleRecord> {
  readonly id = 'dnsimple';
  protected readonly label = 'DNSimple';
  private readonly api: TokenApi;
  private readonly domains: DomainList;
  private account?: string;

  constructor(
    private readonly s: DnsimpleSettings,
    env: ProviderEnv,
  ) {
    super();
    this.account = s.accountId;
    ({ api: this.api, domains: this.domains } = accountZoneApi(s, env, {
      name: 'DNSimple',
      code: 'dnsimple',
      endpoint: DNSIMPLE_ENDPOINT,
      tokenHint: TOKEN_HINT,
      forbiddenScope: 'account',
      said: saidField('message'),
      rateLimitWaitMs: epochResetWait('x-ratelimit-reset'),
      domains: {
        account: say('dnsimple.any_zone', 'any zone of this DNSimple account'),
        hint: say('dnsimple.check_zone', 'add the domain or zone at DNSimple, or check the name and the account id'),
        read: (signal) => this.readZones(signal),
      },
    }));
  }

  protected content(r: DnsimpleRecord): string {
    return r.type === 'TXT' ? unquoteTxt(r.content) : r.content;
  }

  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<RecordSet<DnsimpleRecord>> {
    const { domain, sub } = await this.domains.require(name, signal);
    const path = `/${await this.accountId(signal)}/zones/${domain}/records`;
    const q = new URLSearchParams({ name: sub, type, per_page: '100' });
    const o = { subject: name, signal };
    const res = await this.api.call('GET', `${path}?${q.toString()}`, o);
    const all = this.api.parse(z.object({ data: z.array(DnsimpleRecord) }), res).data;
    return {
      records: all.filter((r) => r.type === type && r.name.toLowerCase() === sub),
      create: (content) =>
        this.api.call('POST', path, { ...o, body: { name: sub, type, content, ttl: createTtl(type, this.s.ttl) } }),
      edit: (r, content) => this.api.call('PATCH', `${path}/${r.id}`, { ...o, body: { content } }),
      remove: (r) => this.api.call('DELETE', `${path}/${r.id}`, o),
    };
  }

  /** The account id: the setting, the token's own account, or the only account the user token sees. */
  private async accountId(signal?: AbortSignal): Promise<string> {
    if (this.account) return this.account;
    const who = this.api.parse(Whoami, await this.api.call('GET', '/whoami', { subject: 'the account', signal }));
    let id = who.data.account?.id;
    if (id === undefined) {
      const res = await this.api.call('GET', '/accounts', { subject: 'the account', signal });
      const list = this.api.parse(Accounts, res).data;
      if (list.length !== 1)
        throw this.api.redactor.error(
          fatal(
            say(
              'dnsimple.accounts',
              'DNSimple: this user token sees __count__ accounts: enter the account id, or use an account token',
              { count: list.length },
            ),
            {
              code: 'dnsimple_account',
              scope: 'account',
            },
          ),
        );
      id = list[0].id;
    }
    this.account = String(id);
    return this.account;
  }

  /** The account's zones, every page. */
  private async readZones(signal?: AbortSignal): Promise<string[]> {
    const path = `/${await this.accountId(signal)}/zones`;
    const found: string[] = [];
    for (let page = 1; page <= 50; page++) {
      const res = await this.api.call('GET', `${path}?per_page=100&page=${page}`, { subject: 'the zone list', signal });
      const p = this.api.parse(
        z.object({ data: z.array(z.object({ name: z.string() })), pagination: Pagination }),
        res,
      );
      found.push(...p.data.map((z) => z.name));
      if (p.pagination.current_page >= p.pagination.total_pages) break;
    }
    return found;
  }
}

export const definition: ProviderDefinition<typeof dnsimpleSettings> = {
  id: 'dnsimple',
  label: 'DNSimple',
  settings: dnsimpleSettings,
  fields: [
    {
      key: 'token',
      label: 'API access token',
      kind: 'password',
      required: true,
      help: 'An account token (dnsimple.com › Account › Access tokens) reaches only that account; a user token reaches all of yours.',
    },
    {
      key: 'accountId',
      label: 'Account id',
      kind: 'text',
      placeholder: '1010',
      help: 'Optional: found from an account token. Needed only with a user token that sees several accounts.',
    },
    {
      key: 'domain',
      label: 'Zone',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the zone as DNSimple lists it. Left empty, it is found from the account\u2019s zones.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 3600,
      help: 'Seconds, 60 or more. Records that already exist keep their own TTL.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: DNSIMPLE_ENDPOINT,
      advanced: true,
      help: 'Leave empty for DNSimple itself; https://api.sandbox.dnsimple.com/v2 for its sandbox.',
    },
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://support.dnsimple.com/articles/api-access-token/',
  create: (settings, env) => new DnsimpleProvider(checkSettings(dnsimpleSettings, 'DNSimple', settings), env),
};
