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
import { fatal, type DdnsError } from '../errors';
import type { Family } from '../address';
import { Redactor } from '../redact';
import {
  checkSettings,
  convergeRecords,
  convergedResult,
  eachRecord,
  jsonRequest,
  notJsonFault,
  optionalDomain,
  optionalEndpoint,
  recordType,
  relativeName,
  restFailure,
  tokenSetting,
  ttlSetting,
  zoneCandidates,
  type JsonResponse,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';

export const DIGITALOCEAN_ENDPOINT = 'https://api.digitalocean.com/v2';
const MAX_BODY = 512 * 1024;
const TOKEN_HINT =
  'create a personal access token at cloud.digitalocean.com › API with the domain scopes (read, create, update, delete)';

export const digitaloceanSettings = z.object({
  token: tokenSetting('Enter the DigitalOcean API token.').transform((t) => t.replace(/^bearer\s+/i, '')),
  ttl: ttlSetting('DigitalOcean', 30, 86400, 1800),
  domain: optionalDomain(),
  endpoint: optionalEndpoint('The API address must be an http:// or https:// URL.'),
});
export type DigitaloceanSettings = z.infer<typeof digitaloceanSettings>;

const DoRecord = z.object({ id: z.number(), type: z.string(), name: z.string(), data: z.string() });
type DoRecord = z.infer<typeof DoRecord>;
const Records = z.object({ domain_records: z.array(DoRecord) });
const Domains = z.object({
  domains: z.array(z.object({ name: z.string() })),
  links: z.object({ pages: z.object({ next: z.string().optional() }).optional() }).optional(),
});

class DigitaloceanProvider implements DnsProvider {
  readonly id = 'digitalocean';
  readonly maxHostsPerCall = 10;
  private readonly redactor: Redactor;
  private readonly base: string;
  private domains?: string[];

  constructor(
    private readonly s: DigitaloceanSettings,
    private readonly env: ProviderEnv,
  ) {
    this.redactor = new Redactor([s.token]);
    this.base = (s.endpoint ?? DIGITALOCEAN_ENDPOINT).replace(/\/+$/, '');
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, async ({ hostname, family, address }) => {
      const type = recordType(family);
      const { domain, sub, records } = await this.lookup(hostname, type, call.signal);
      const path = `/domains/${domain}/records`;
      const c = await convergeRecords(records, address, {
        content: (r) => r.data,
        create: () =>
          this.call('POST', path, { type, name: sub || '@', data: address, ttl: this.s.ttl }, hostname, call.signal),
        edit: (r) => this.call('PATCH', `${path}/${r.id}`, { type, data: address }, hostname, call.signal),
        remove: (r) => this.call('DELETE', `${path}/${r.id}`, undefined, hostname, call.signal),
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
    await this.call(
      'POST',
      `/domains/${domain}/records`,
      { type: 'TXT', name: sub || '@', data: value, ttl: 30 },
      name,
      signal,
    );
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { domain, records } = await this.lookup(name, 'TXT', signal);
    for (const r of records.filter((x) => x.data === value))
      await this.call('DELETE', `/domains/${domain}/records/${r.id}`, undefined, name, signal);
  }

  /** The records of one type of a name, with its domain and the name relative to it. */
  private async lookup(
    name: string,
    type: string,
    signal?: AbortSignal,
  ): Promise<{ domain: string; sub: string; records: DoRecord[] }> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const domains = this.s.domain ? [this.s.domain] : await this.accountDomains(host, signal);
    const domain = zoneCandidates(host).find((c) => domains.includes(c));
    if (!domain) {
      throw this.redactor.error(
        fatal(
          `${host} is not in ${this.s.domain ? `the account's domain ${this.s.domain}` : 'any domain of this DigitalOcean account'}: ` +
            'add the domain under Networking › Domains, or check the name',
          { code: 'do_not_owned', scope: 'host' },
        ),
      );
    }
    const q = new URLSearchParams({ type, name: host, per_page: '200' });
    const res = await this.call('GET', `/domains/${domain}/records?${q.toString()}`, undefined, host, signal);
    const parsed = Records.safeParse(res.json);
    if (!parsed.success) throw notJsonFault(res, { name: 'DigitalOcean', redactor: this.redactor });
    const sub = relativeName(host, domain)!;
    const records = parsed.data.domain_records.filter(
      (r) => r.type === type && (r.name === (sub || '@') || r.name === host),
    );
    return { domain, sub, records };
  }

  /** The account's domains (every page), read once. */
  private async accountDomains(host: string, signal?: AbortSignal): Promise<string[]> {
    if (this.domains && zoneCandidates(host).some((c) => this.domains!.includes(c))) return this.domains;
    const found: string[] = [];
    for (let page = 1; page <= 20; page++) {
      const res = await this.call('GET', `/domains?per_page=200&page=${page}`, undefined, host, signal);
      const parsed = Domains.safeParse(res.json);
      if (!parsed.success) throw notJsonFault(res, { name: 'DigitalOcean', redactor: this.redactor });
      found.push(...parsed.data.domains.map((d) => d.name.toLowerCase()));
      if (!parsed.data.links?.pages?.next) break;
    }
    this.domains = found;
    return found;
  }

  private async call(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body: object | undefined,
    name: string,
    signal?: AbortSignal,
  ): Promise<JsonResponse> {
    const res = await jsonRequest(
      { name: 'DigitalOcean', redactor: this.redactor, env: this.env, maxBodyBytes: MAX_BODY },
      { url: `${this.base}${path}`, method, headers: { authorization: `Bearer ${this.s.token}` }, body, signal },
    );
    if (res.status >= 200 && res.status < 300) return res;
    throw this.failure(res, name);
  }

  private failure(res: JsonResponse, name: string): DdnsError {
    if (res.status === 404) this.domains = undefined;
    const err = z.object({ id: z.string(), message: z.string().optional() }).safeParse(res.json);
    const reset = Number(res.headers['ratelimit-reset']);
    return restFailure(res, {
      name: 'DigitalOcean',
      code: 'do',
      said: err.success ? this.redactor.text(`${err.data.id}: ${err.data.message ?? ''}`) : undefined,
      tokenHint: TOKEN_HINT,
      subject: name,
      forbiddenScope: 'account',
      redactor: this.redactor,
      rateLimitWaitMs: Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : 60_000,
    });
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
    {
      key: 'domain',
      label: 'Domain',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the domain as DigitalOcean lists it. Left empty, it is found from the account\u2019s domains.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 1800,
      help: 'Seconds, 30 or more. Records that already exist keep their own TTL.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: DIGITALOCEAN_ENDPOINT,
      advanced: true,
      help: 'Leave empty for DigitalOcean itself; change only for testing.',
    },
  ],
  txt: true,
  docsUrl: 'https://docs.digitalocean.com/reference/api/create-personal-access-token/',
  create: (settings, env) =>
    new DigitaloceanProvider(checkSettings(digitaloceanSettings, 'DigitalOcean', settings), env),
};
