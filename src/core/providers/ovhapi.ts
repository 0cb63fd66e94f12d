/**
 * OVHcloud DNS through the OVHcloud API v1 (first steps and signing:
 * https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784;
 * DNS zone calls: https://eu.api.ovh.com/console/?section=%2Fdomain&branch=v1; keys: https://eu.api.ovh.com/createToken/).
 *
 * - Three keys: the application key (AK, not secret), the application secret (AS, in `password`)
 *   and the consumer key (CK, in `token`), made together at `/createToken` with rights limited to
 *   `GET /domain/zone/*`, `POST /domain/zone/*`, `PUT /domain/zone/*` and `DELETE /domain/zone/*`.
 * - Every call is signed: `X-Ovh-Application: AK`, `X-Ovh-Consumer: CK`, `X-Ovh-Timestamp: T` (the
 *   server's clock: `GET /auth/time` once, its difference from ours kept), `X-Ovh-Signature:
 *   "$1$" + sha1hex(AS+"+"+CK+"+"+METHOD+"+"+full URL+"+"+body+"+"+T)`.
 * - Endpoints: `https://eu.api.ovh.com/1.0`, `https://ca.api.ovh.com/1.0`, `https://api.us.ovhcloud.com/1.0`.
 * - The zone of a name: `GET /domain/zone` (the zone names, read once), the longest that ends it.
 * - Read first: `GET /domain/zone/{zone}/record?fieldType=A&subDomain=<sub>` answers record ids,
 *   `GET …/record/{id}` each record `{id, zone, subDomain, fieldType, target, ttl}`. One is changed
 *   with `PUT …/record/{id}` sending only `target` (its TTL stays), further ones are deleted, one
 *   is created (`POST …/record` with the account TTL) when there is none. Changes are published
 *   only by `POST /domain/zone/{zone}/refresh`, sent once after the changes of a zone.
 * - Errors are `{"errorCode"?, "httpCode"?, "message"}`: a bad key or signature is 400/403
 *   (`INVALID_KEY`, `INVALID_SIGNATURE`, `INVALID_CREDENTIAL`, `NOT_CREDENTIAL`), a call the
 *   consumer key was not granted 403 `NOT_GRANTED_CALL`, 404 `This service does not exist`.
 * - TXT (ACME DNS-01): its own TXT record is created and deleted by id (targets compared
 *   unquoted), then the zone refreshed. OVH's name servers serve a refreshed zone within minutes.
 *
 * Cross-checked with qdm12/ddns-updater (internal/provider/providers/ovh) and lego's ovh provider.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Family } from '../address';
import { fatal, say } from '../errors';
import { Redactor } from '../redact';
import {
  blankToUndefined,
  checkSettings,
  choiceField,
  convergedResult,
  convergeRecords,
  DomainList,
  eachRecord,
  jsonRequest,
  type JsonResponse,
  notJsonFault,
  notOwnedError,
  recordType,
  requiredText,
  restFailure,
  tokenSetting,
  unquoteTxt,
  zoneFields,
  zoneSettingsShape,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const OVH_ENDPOINTS = {
  eu: 'https://eu.api.ovh.com/1.0',
  ca: 'https://ca.api.ovh.com/1.0',
  us: 'https://api.us.ovhcloud.com/1.0',
} as const;
const HINT = say(
  'ovhapi.hint',
  'make the keys at eu.api.ovh.com/createToken (or ca./us.) with GET, POST, PUT and DELETE on /domain/zone/*, and check the region',
);
const AUTH_CODES = ['INVALID_KEY', 'INVALID_SIGNATURE', 'INVALID_CREDENTIAL', 'NOT_CREDENTIAL'];

/** OVH's request signature: "$1$" + SHA-1 hex of secret+consumer+method+url+body+timestamp. */
export function ovhSignature(secret: string, consumer: string, method: string, url: string, body: string, ts: number) {
  return `$1$${createHash('sha1').update(`${secret}+${consumer}+${method}+${url}+${body}+${ts}`).digest('hex')}`;
}

export const ovhApiSettings = z.object({
  region: z.preprocess(blankToUndefined, z.enum(['eu', 'ca', 'us']).default('eu')),
  applicationKey: requiredText(phrase('ovhapi.enter_ovh_application_key', 'Enter the OVH application key.')),
  password: tokenSetting(phrase('ovhapi.enter_ovh_application_secret', 'Enter the OVH application secret.')),
  token: tokenSetting(phrase('ovhapi.enter_ovh_consumer_key', 'Enter the OVH consumer key.')),
  ...zoneSettingsShape('OVH', { min: 60, max: 86_400, def: 3600 }),
});
export type OvhApiSettings = z.infer<typeof ovhApiSettings>;

const OvhRecord = z.object({ id: z.number(), subDomain: z.string(), fieldType: z.string(), target: z.string() });
type OvhRecord = z.infer<typeof OvhRecord>;
const ApiError = z.object({ errorCode: z.string().optional(), message: z.string() });

class OvhApiProvider implements DnsProvider {
  readonly id = 'ovhapi';
  readonly maxHostsPerCall = 10;
  private readonly base: string;
  private readonly redactor: Redactor;
  private readonly zones: DomainList;
  private delta?: number;

  constructor(
    private readonly s: OvhApiSettings,
    private readonly env: ProviderEnv,
  ) {
    this.base = (s.endpoint ?? OVH_ENDPOINTS[s.region]).replace(/\/+$/, '');
    this.redactor = new Redactor([s.password, s.token]);
    this.zones = new DomainList({
      fixed: s.domain,
      account: say('ovhapi.any_zone', 'any DNS zone of this OVH account'),
      notOwned: (host, where) =>
        notOwnedError(
          this.redactor,
          'ovh_not_owned',
          host,
          where,
          say('ovhapi.check_zone', 'check the name, or that the zone is at OVH'),
        ),
      read: async (signal) =>
        this.parse(z.array(z.string()), await this.call('GET', '/domain/zone', 'the zone list', signal)),
    });
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, async ({ hostname, family, address }) => {
      const type = recordType(family);
      const { path, sub, records } = await this.lookup(hostname, type, call.signal);
      const write = (m: 'POST' | 'PUT' | 'DELETE', p: string, body?: object) =>
        this.call(m, p, hostname, call.signal, body);
      const c = await convergeRecords(records, address, {
        content: (r) => r.target,
        create: () =>
          write('POST', `${path}/record`, { fieldType: type, subDomain: sub, target: address, ttl: this.s.ttl }),
        edit: (r) => write('PUT', `${path}/record/${r.id}`, { target: address }),
        remove: (r) => write('DELETE', `${path}/record/${r.id}`),
      });
      if (c.change !== 'none' || c.removed) await write('POST', `${path}/refresh`);
      return convergedResult('OVH', hostname, family, address, c);
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return (await this.lookup(hostname, recordType(family), signal)).records.map((r) => r.target);
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { path, sub, records } = await this.lookup(name, 'TXT', signal);
    if (records.some((r) => unquoteTxt(r.target) === value)) return;
    await this.call('POST', `${path}/record`, name, signal, {
      fieldType: 'TXT',
      subDomain: sub,
      target: value,
      ttl: 60,
    });
    await this.call('POST', `${path}/refresh`, name, signal);
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { path, records } = await this.lookup(name, 'TXT', signal);
    const mine = records.filter((r) => unquoteTxt(r.target) === value);
    for (const r of mine) await this.call('DELETE', `${path}/record/${r.id}`, name, signal);
    if (mine.length) await this.call('POST', `${path}/refresh`, name, signal);
  }

  /** The records of one type of a name, with the zone's path and the name relative to it. */
  private async lookup(name: string, type: string, signal?: AbortSignal) {
    const { domain, sub } = await this.zones.require(name, signal);
    const path = `/domain/zone/${domain}`;
    const q = new URLSearchParams({ fieldType: type, subDomain: sub });
    const ids = this.parse(z.array(z.number()), await this.call('GET', `${path}/record?${q}`, name, signal));
    const records: OvhRecord[] = [];
    for (const id of ids)
      records.push(this.parse(OvhRecord, await this.call('GET', `${path}/record/${id}`, name, signal)));
    return { path, sub, records: records.filter((r) => r.fieldType === type && r.subDomain === sub) };
  }

  /** The answer's JSON, or the transient error of an answer that is not OVH's. */
  private parse<S extends z.ZodType>(schema: S, res: JsonResponse): z.infer<S> {
    const r = schema.safeParse(res.json);
    if (!r.success) throw notJsonFault(res, { name: 'OVH', redactor: this.redactor });
    return r.data;
  }

  private async serverTime(signal?: AbortSignal): Promise<number> {
    if (this.delta === undefined) {
      const res = await this.request('GET', `${this.base}/auth/time`, {}, undefined, signal);
      const t = z.number().safeParse(res.json);
      if (res.status !== 200 || !t.success) throw notJsonFault(res, { name: 'OVH', redactor: this.redactor });
      this.delta = t.data - Math.floor(Date.now() / 1000);
    }
    return Math.floor(Date.now() / 1000) + this.delta;
  }

  private request(method: string, url: string, headers: Record<string, string>, body?: string, signal?: AbortSignal) {
    const http = { name: 'OVH', redactor: this.redactor, env: this.env, maxBodyBytes: 512 * 1024 };
    return jsonRequest(http, { url, method: method as 'GET', headers, body, signal });
  }

  /** One signed call about `subject`; a 2xx answer is returned, anything else thrown. */
  private async call(method: string, path: string, subject: string, signal?: AbortSignal, body?: object) {
    const url = `${this.base}${path}`;
    const text = body === undefined ? '' : JSON.stringify(body);
    const ts = await this.serverTime(signal);
    const headers = {
      'content-type': 'application/json',
      'x-ovh-application': this.s.applicationKey,
      'x-ovh-consumer': this.s.token,
      'x-ovh-timestamp': String(ts),
      'x-ovh-signature': ovhSignature(this.s.password, this.s.token, method, url, text, ts),
    };
    const res = await this.request(method, url, headers, body === undefined ? undefined : text, signal);
    if (res.status >= 200 && res.status < 300) return res;
    if (res.status === 404) this.zones.forget();
    const e = ApiError.safeParse(res.json);
    const said = e.success ? this.redactor.text(`${e.data.errorCode ?? ''} ${e.data.message}`.trim()) : undefined;
    if (e.success && AUTH_CODES.includes(e.data.errorCode ?? ''))
      throw this.redactor.error(
        fatal(say('ovhapi.auth', 'OVH refused the keys (__said__): __hint__', { said: said ?? '', hint: HINT }), {
          code: 'ovh_auth',
          scope: 'account',
          detail: said,
        }),
      );
    throw restFailure(res, {
      name: 'OVH',
      code: 'ovh',
      said,
      tokenHint: HINT,
      subject,
      forbiddenScope: 'account',
      redactor: this.redactor,
    });
  }
}

export const definition: ProviderDefinition<typeof ovhApiSettings> = {
  id: 'ovhapi',
  label: 'OVHcloud DNS (API)',
  settings: ovhApiSettings,
  fields: [
    choiceField(
      'region',
      'API region',
      [
        ['eu', 'OVHcloud Europe (eu.api.ovh.com)'],
        ['ca', 'OVHcloud Canada (ca.api.ovh.com)'],
        ['us', 'OVHcloud US (api.us.ovhcloud.com)'],
      ],
      'Where the account lives; the keys are made on that region\u2019s /createToken page.',
    ),
    {
      key: 'applicationKey',
      label: 'Application key',
      kind: 'text',
      required: true,
      help: 'Made with the two keys below at eu.api.ovh.com/createToken, with GET, POST, PUT and DELETE on /domain/zone/* only.',
    },
    { key: 'password', label: 'Application secret', kind: 'password', required: true },
    { key: 'token', label: 'Consumer key', kind: 'password', required: true },
    ...zoneFields({
      provider: 'OVH',
      label: 'Zone',
      foundFrom: 'the account\u2019s DNS zones',
      ttl: { min: 60, def: 3600 },
      endpoint: OVH_ENDPOINTS.eu,
    }),
  ],
  txt: true,
  group: 'registrar',
  docsUrl:
    'https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784',
  create: (settings, env) => new OvhApiProvider(checkSettings(ovhApiSettings, 'OVH', settings), env),
};
