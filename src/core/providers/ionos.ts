/**
 * IONOS DNS API v1 (https://developer.hosting.ionos.com/docs/dns; getting started and keys:
 * https://developer.hosting.ionos.com/docs/getstarted).
 *
 * - `X-API-Key: <public prefix>.<secret>` on `https://api.hosting.ionos.com/dns/v1` (the key is
 *   made at developer.hosting.ionos.com › API keys; the whole "prefix.secret" is the secret here).
 * - The zone of a name: `GET /zones` (`[{id, name, type}]`, read once), the longest name that ends it.
 * - Read first: `GET /zones/{id}?recordName=<fqdn>&recordType=A` answers the zone with its
 *   `records` `[{id, name (the full name), type, content, ttl, prio, disabled}]`. Records are kept
 *   by id: one is changed with `PUT /zones/{id}/records/{recordId}` sending back its own ttl, prio
 *   and disabled with the new content, further ones are deleted, one is created (`POST
 *   /zones/{id}/records` with a list of one record, the account's TTL) when there is none.
 * - Errors are a list `[{"code", "message"}]`: 401 `UNAUTHORIZED` (key), 403, 404 `NOT_FOUND`,
 *   400 `INVALID_RECORD`, 429.
 * - TXT (ACME DNS-01): its own TXT record is created and deleted by id; IONOS answers TXT contents
 *   quoted (as lego's ionos provider compares them), so values are compared unquoted. The other TXT
 *   records of the name stay. IONOS's name servers serve a change within a few minutes.
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
  tokenSetting,
  unquoteTxt,
  withDomains,
  zoneSettingsShape,
  type DomainList,
} from './kit';
import { OAuthApi, staticKey } from './oauth';
import { addressField, ttlField } from './rrset';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const IONOS_ENDPOINT = 'https://api.hosting.ionos.com/dns/v1';
const HINT = say(
  'ionos.hint',
  'create an API key at developer.hosting.ionos.com › API keys, and paste it as prefix.secret',
);

export const ionosSettings = z.object({
  password: tokenSetting(phrase('ionos.enter_ionos_api_key', 'Enter the IONOS API key (prefix.secret).')).regex(
    /^[^.\s]+\.[^.\s]+$/,
    phrase(
      'ionos.ionos_api_key_public',
      'The IONOS API key is its public prefix and its secret joined by a dot: prefix.secret.',
    ),
  ),
  ...zoneSettingsShape('IONOS', { min: 60, max: 86_400, def: 3600 }),
});
export type IonosSettings = z.infer<typeof ionosSettings>;

const IonosRecord = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  content: z.string(),
  ttl: z.number().optional(),
  prio: z.number().optional(),
  disabled: z.boolean().optional(),
});
type IonosRecord = z.infer<typeof IonosRecord>;
const Zone = z.object({ records: z.array(IonosRecord).default([]) });
const ApiErrors = z.array(z.object({ code: z.string(), message: z.string().optional() })).min(1);

class IonosProvider implements DnsProvider {
  readonly id = 'ionos';
  readonly maxHostsPerCall = 10;
  private readonly api: OAuthApi;
  private readonly zones: DomainList;
  private zoneIds = new Map<string, string>();

  constructor(
    private readonly s: IonosSettings,
    env: ProviderEnv,
  ) {
    ({ api: this.api, domains: this.zones } = withDomains(
      (onFailure) =>
        new OAuthApi(staticKey(s.password), {
          name: 'IONOS',
          code: 'ionos',
          base: s.endpoint ?? IONOS_ENDPOINT,
          env,
          tokenHint: HINT,
          forbiddenScope: 'account',
          authHeaders: (key) => ({ 'x-api-key': key }),
          said: (json) => {
            const e = ApiErrors.safeParse(json);
            return e.success ? e.data.map((x) => `${x.code}: ${x.message ?? ''}`).join('; ') : undefined;
          },
          onFailure,
        }),
      {
        account: say('ionos.any_zone', 'any zone of this IONOS account'),
        hint: say('ionos.check_domain', 'check the name, or add the domain at IONOS'),
        read: (signal) => this.readZones(signal),
      },
    ));
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, async ({ hostname, family, address }) => {
      const type = recordType(family);
      const { zone, host, records } = await this.lookup(hostname, type, call.signal);
      const path = `/zones/${zone}/records`;
      const o = { subject: hostname, signal: call.signal };
      const c = await convergeRecords(records, address, {
        content: (r) => r.content,
        create: () =>
          this.api.call('POST', path, {
            ...o,
            body: [{ name: host, type, content: address, ttl: this.s.ttl, prio: 0, disabled: false }],
          }),
        edit: (r) =>
          this.api.call('PUT', `${path}/${r.id}`, {
            ...o,
            body: { content: address, ttl: r.ttl ?? this.s.ttl, prio: r.prio ?? 0, disabled: r.disabled ?? false },
          }),
        remove: (r) => this.api.call('DELETE', `${path}/${r.id}`, o),
      });
      return convergedResult('IONOS', hostname, family, address, c);
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return (await this.lookup(hostname, recordType(family), signal)).records.map((r) => r.content);
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, host, records } = await this.lookup(name, 'TXT', signal);
    if (records.some((r) => unquoteTxt(r.content) === value)) return;
    const body = [{ name: host, type: 'TXT', content: value, ttl: 60, prio: 0, disabled: false }];
    await this.api.call('POST', `/zones/${zone}/records`, { body, subject: name, signal });
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, records } = await this.lookup(name, 'TXT', signal);
    for (const r of records.filter((x) => unquoteTxt(x.content) === value))
      await this.api.call('DELETE', `/zones/${zone}/records/${r.id}`, { subject: name, signal });
  }

  /** The records of one type of a name, with its zone id. */
  private async lookup(
    name: string,
    type: string,
    signal?: AbortSignal,
  ): Promise<{ zone: string; host: string; records: IonosRecord[] }> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const { domain } = await this.zones.require(host, signal);
    const zone = this.zoneIds.get(domain)!;
    const q = new URLSearchParams({ recordName: host, recordType: type });
    const res = await this.api.call('GET', `/zones/${zone}?${q.toString()}`, { subject: host, signal });
    const records = this.api
      .parse(Zone, res)
      .records.filter((r) => r.type === type && r.name.toLowerCase().replace(/\.$/, '') === host);
    return { zone, host, records };
  }

  private async readZones(signal?: AbortSignal): Promise<string[]> {
    const res = await this.api.call('GET', '/zones', { subject: 'the zone list', signal });
    const list = this.api.parse(z.array(z.object({ id: z.string(), name: z.string() })), res);
    this.zoneIds = new Map(list.map((x) => [x.name.toLowerCase().replace(/\.$/, ''), x.id]));
    if (this.s.domain) return [...this.zoneIds.keys()].filter((d) => d === this.s.domain);
    return [...this.zoneIds.keys()];
  }
}

export const definition: ProviderDefinition<typeof ionosSettings> = {
  id: 'ionos',
  label: 'IONOS',
  settings: ionosSettings,
  fields: [
    {
      key: 'password',
      label: 'API key',
      kind: 'password',
      required: true,
      placeholder: 'prefix.secret',
      help: 'Made at developer.hosting.ionos.com › API keys: the public prefix and the secret joined by a dot.',
    },
    {
      key: 'domain',
      label: 'Domain',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: only this zone of the account is changed. Left empty, any zone of the account.',
    },
    ttlField(3600),
    addressField('endpoint', 'API address', IONOS_ENDPOINT, 'Leave empty for IONOS itself; change only for testing.'),
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://developer.hosting.ionos.com/docs/getstarted',
  create: (settings, env) => new IonosProvider(checkSettings(ionosSettings, 'IONOS', settings), env),
};
