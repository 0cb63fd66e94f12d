/**
 * ClouDNS, HTTP API (https://www.cloudns.net/wiki/article/42/ API overview and authentication;
 * records: https://www.cloudns.net/wiki/article/57/ list, https://www.cloudns.net/wiki/article/58/
 * add (and the accepted TTLs), https://www.cloudns.net/wiki/article/60/ modify,
 * https://www.cloudns.net/wiki/article/59/ delete; zones: https://www.cloudns.net/wiki/article/50/).
 *
 * - An API user (Reseller › API settings: an `auth-id` and its `auth-password`; or a sub-user with
 *   `sub-auth-id` or `sub-auth-user`, which can be limited to some zones). The credentials travel
 *   as form fields of a POST to `https://api.cloudns.net/dns/<action>.json` (never in the URL),
 *   and the API user may be limited to the addresses it is used from.
 * - Answers are HTTP 200 JSON: a failure is `{"status":"Failed","statusDescription":"…"}` (a
 *   wrong auth-id or password: "Invalid authentication, incorrect auth-id or auth-password.").
 * - The zone of a name: the account's zones (`list-zones.json`, pages of 100, read once and
 *   remembered), the longest that ends the name.
 * - Read first: `records.json?domain-name=&host=&type=` answers an object keyed by record id
 *   (`{id, type, host, record, ttl, status}`, `host` `""` for the apex) or `[]` when there is none.
 *   `mod-record.json` needs `host`, `record` and `ttl`: the record's own TTL is sent back. A new
 *   record gets the account's TTL, rounded up to one ClouDNS accepts (60, 300, 900, 1800, 3600 …).
 * - TXT (ACME DNS-01): its own record (the value unquoted) is added and deleted by id; the other
 *   TXT values of the name stay. ClouDNS's name servers publish within a minute or so.
 */
import { z } from 'zod';
import { fatal, say } from '../errors';
import { Redactor } from '../redact';
import {
  checkSettings,
  choiceField,
  DomainList,
  excerpt,
  jsonRequest,
  type JsonResponse,
  notJsonFault,
  notOwnedError,
  tokenSetting,
  zoneSettingsShape,
} from './kit';
import { createTtl, RecordsById, roundUpTtl, type RecordSet } from './kit-rest2';
import type { ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const CLOUDNS_ENDPOINT = 'https://api.cloudns.net';
const TTLS = [60, 300, 900, 1800, 3600, 21600, 43200, 86400, 172800, 259200, 604800, 1209600, 2592000];
const AUTH_HINT = say(
  'cloudns.hint',
  'check the API user and its password at cloudns.net › API & Resellers, and its allowed IP addresses',
);

export const cloudnsSettings = z.object({
  username: z
    .string({ error: phrase('cloudns.enter_cloudns_auth_id', 'Enter the ClouDNS auth-id.') })
    .trim()
    .min(1, phrase('cloudns.enter_cloudns_auth_id', 'Enter the ClouDNS auth-id.')),
  userKind: z.preprocess(
    (v) => (v === '' || v === null ? undefined : v),
    z.enum(['auth-id', 'sub-auth-id', 'sub-auth-user']).default('auth-id'),
  ),
  password: tokenSetting(phrase('cloudns.enter_cloudns_api_password', 'Enter the ClouDNS API password.')),
  ...zoneSettingsShape('ClouDNS', { min: 60, max: 2_592_000, def: 3600 }),
});
export type CloudnsSettings = z.infer<typeof cloudnsSettings>;

const CloudnsRecord = z.object({
  id: z.coerce.string(),
  type: z.string(),
  host: z.string(),
  record: z.string(),
  ttl: z.coerce.number(),
});
type CloudnsRecord = z.infer<typeof CloudnsRecord>;
const Failure = z.object({ status: z.literal('Failed'), statusDescription: z.string() });

class CloudnsProvider extends RecordsById<CloudnsRecord> {
  readonly id = 'cloudns';
  protected readonly label = 'ClouDNS';
  private readonly redactor: Redactor;
  private readonly domains: DomainList;
  private readonly base: string;

  constructor(
    private readonly s: CloudnsSettings,
    private readonly env: ProviderEnv,
  ) {
    super();
    this.redactor = new Redactor([s.password]);
    this.base = (s.endpoint ?? CLOUDNS_ENDPOINT).replace(/\/+$/, '');
    this.domains = new DomainList({
      fixed: s.domain,
      account: say('cloudns.any_zone', 'any zone of this ClouDNS API user'),
      notOwned: (host, where) =>
        notOwnedError(
          this.redactor,
          'cloudns_not_owned',
          host,
          where,
          say('cloudns.check_zone', 'add the zone at ClouDNS (or give the sub-user access to it), or check the name'),
        ),
      read: (signal) => this.zones(signal),
    });
  }

  protected content(r: CloudnsRecord): string {
    return r.record;
  }

  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<RecordSet<CloudnsRecord>> {
    const { domain, sub } = await this.domains.require(name, signal);
    const zone = { 'domain-name': domain };
    const res = await this.call('records', { ...zone, host: sub, type }, name, signal);
    const list = Array.isArray(res.json) ? [] : Object.values(this.parse(z.record(z.string(), CloudnsRecord), res));
    const ttl = roundUpTtl(TTLS, createTtl(type, this.s.ttl));
    return {
      records: list.filter((r) => r.type === type && r.host.toLowerCase() === sub),
      create: (record) =>
        this.call('add-record', { ...zone, 'record-type': type, host: sub, record, ttl: String(ttl) }, name, signal),
      edit: (r, record) =>
        this.call('mod-record', { ...zone, 'record-id': r.id, host: r.host, record, ttl: String(r.ttl) }, name, signal),
      remove: (r) => this.call('delete-record', { ...zone, 'record-id': r.id }, name, signal),
    };
  }

  /** The API user's zones, every page. */
  private async zones(signal?: AbortSignal): Promise<string[]> {
    const found: string[] = [];
    for (let page = 1; page <= 50; page++) {
      const res = await this.call(
        'list-zones',
        { page: String(page), 'rows-per-page': '100' },
        'the zone list',
        signal,
      );
      const rows = this.parse(z.array(z.object({ name: z.string() })), res);
      found.push(...rows.map((r) => r.name));
      if (rows.length < 100) break;
    }
    return found;
  }

  /** One API action: the credentials and `params` as form fields; the answer's JSON, or its failure thrown. */
  private async call(
    action: string,
    params: Record<string, string>,
    subject: string,
    signal?: AbortSignal,
  ): Promise<JsonResponse> {
    const form = new URLSearchParams({
      [this.s.userKind]: this.s.username,
      'auth-password': this.s.password,
      ...params,
    });
    const res = await jsonRequest(
      { name: 'ClouDNS', redactor: this.redactor, env: this.env, maxBodyBytes: 512 * 1024 },
      {
        url: `${this.base}/dns/${action}.json`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal,
      },
    );
    if (res.status < 200 || res.status >= 300 || res.json === undefined)
      throw notJsonFault(res, { name: 'ClouDNS', redactor: this.redactor });
    const failure = Failure.safeParse(res.json);
    if (failure.success) throw this.failure(failure.data.statusDescription, subject, res);
    return res;
  }

  /** A `Failed` answer: the credentials' (fatal, account) or this name's (fatal, host). */
  private failure(said: string, subject: string, res: JsonResponse) {
    const words = this.redactor.text(said);
    const detail = excerpt(res.body, this.redactor);
    if (/auth|password|credential|not allowed|\bip\b/i.test(said))
      return this.redactor.error(
        fatal(
          say('cloudns.auth', 'ClouDNS refused the API user (__said__): __hint__', { said: words, hint: AUTH_HINT }),
          {
            code: 'cloudns_auth',
            scope: 'account',
            detail,
          },
        ),
      );
    return this.redactor.error(
      fatal(say('cloudns.refused', 'ClouDNS refused the change of __subject__ (__said__)', { subject, said: words }), {
        code: 'cloudns_refused',
        scope: 'host',
        detail,
      }),
    );
  }

  /** The answer read with `schema`, or the transient error of an answer that is not ClouDNS's. */
  private parse<S extends z.ZodType>(schema: S, res: JsonResponse): z.infer<S> {
    const r = schema.safeParse(res.json);
    if (!r.success) throw notJsonFault(res, { name: 'ClouDNS', redactor: this.redactor });
    return r.data;
  }
}

export const definition: ProviderDefinition<typeof cloudnsSettings> = {
  id: 'cloudns',
  label: 'ClouDNS',
  settings: cloudnsSettings,
  fields: [
    choiceField(
      'userKind',
      'API user',
      [
        ['auth-id', 'API user (auth-id)'],
        ['sub-auth-id', 'API sub-user (sub-auth-id)'],
        ['sub-auth-user', 'API sub-user by name (sub-auth-user)'],
      ],
      'A sub-user limited to your zone is the least privilege (cloudns.net › API & Resellers › Add sub-user).',
    ),
    { key: 'username', label: 'Id or name', kind: 'text', required: true, placeholder: '1234' },
    {
      key: 'password',
      label: 'API password',
      kind: 'password',
      required: true,
      help: 'The password of that API user (not the login of your ClouDNS account).',
    },
    {
      key: 'domain',
      label: 'Zone',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the zone as ClouDNS lists it. Left empty, it is found from the API user\u2019s zones.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 3600,
      help: 'Seconds, rounded up to one ClouDNS accepts (60, 300, 900, 1800, 3600 …). Records that already exist keep their own TTL.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: CLOUDNS_ENDPOINT,
      advanced: true,
      help: 'Leave empty for ClouDNS itself; change only for testing.',
    },
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://www.cloudns.net/wiki/article/42/',
  create: (settings, env) => new CloudnsProvider(checkSettings(cloudnsSettings, 'ClouDNS', settings), env),
};
