/**
 * Namesilo, API v1 (https://www.namesilo.com/api-reference: `listDomains`, `dnsListRecords`,
 * `dnsAddRecord`, `dnsUpdateRecord`, `dnsDeleteRecord`, and the reply codes).
 *
 * - Every call is a `GET https://www.namesilo.com/api/<operation>?version=1&type=xml&key=<key>&…`:
 *   the key is in the URL (Namesilo has no other way), so every text that leaves the provider is
 *   redacted (the key, its URL-encoded form and any `key=` in a URL). Answers are HTTP 200 XML:
 *   `<namesilo><request>…</request><reply><code>300</code><detail>success</detail>…</reply>`.
 *   300 is success; 110 a bad key, 112 a sub-account (no API), 113 an address the key may not be
 *   used from: fatal for the account; 200 (domain not active or not the account's), 280 (the DNS
 *   change refused) and other codes: this name's; 201 Namesilo's own trouble: try later.
 * - The domain of a name: `listDomains` (read once and remembered), the longest that ends it.
 * - Read first: `dnsListRecords` (`resource_record`s with `record_id`, `type`, `host` — the full
 *   name — `value`, `ttl`); `dnsUpdateRecord` needs `rrhost` (relative, `""` for the apex),
 *   `rrvalue` and `rrttl` (left out, it falls back to 7207): the record's own TTL is sent back. A
 *   new record gets the account's TTL (3600 or more).
 * - TXT (ACME DNS-01): its own record is added and deleted by id; the other TXT values of the name
 *   stay. Namesilo's name servers are slow to publish (15 minutes or more is common).
 */
import { z } from 'zod';
import { fatal, say, transient } from '../errors';
import { Redactor } from '../redact';
import {
  checkSettings,
  DomainList,
  excerpt,
  jsonRequest,
  notOwnedError,
  notProtocolFault,
  optionalDomain,
  tokenSetting,
  ttlSetting,
  apiEndpoint,
} from './kit';
import { createTtl, RecordsById, type RecordSet } from './kit-rest2';
import type { ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const NAMESILO_ENDPOINT = 'https://www.namesilo.com/api';
const KEY_HINT = say(
  'namesilo.hint',
  'check the API key at namesilo.com › Account › API Manager (and its allowed IP addresses)',
);

export const namesiloSettings = z.object({
  token: tokenSetting(phrase('namesilo.enter_namesilo_api_key', 'Enter the Namesilo API key.')),
  domain: optionalDomain(),
  ttl: ttlSetting('Namesilo', 3600, 2_592_000, 7207),
  endpoint: apiEndpoint(),
});
export type NamesiloSettings = z.infer<typeof namesiloSettings>;

interface NamesiloRecord {
  id: string;
  type: string;
  host: string;
  value: string;
  ttl: string;
}

const ACCOUNT_CODES = new Set(['110', '112', '113']);
/** The text of the first `<tag>` of `xml` (entities decoded). */
const element = (xml: string, tag: string): string | undefined => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`, 'i').exec(xml);
  return m?.[1]
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
};
const elements = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'gi'))].map((m) => m[1]);

class NamesiloProvider extends RecordsById<NamesiloRecord> {
  readonly id = 'namesilo';
  protected readonly label = 'Namesilo';
  private readonly redactor: Redactor;
  private readonly domains: DomainList;
  private readonly base: string;

  constructor(
    private readonly s: NamesiloSettings,
    private readonly env: ProviderEnv,
  ) {
    super();
    this.redactor = new Redactor([s.token]);
    this.base = (s.endpoint ?? NAMESILO_ENDPOINT).replace(/\/+$/, '');
    this.domains = new DomainList({
      fixed: s.domain,
      account: say('namesilo.any_domain', 'any domain of this Namesilo account'),
      notOwned: (host, where) =>
        notOwnedError(this.redactor, 'namesilo_not_owned', host, where, say('namesilo.check_name', 'check the name')),
      read: async (signal) => elements(await this.call('listDomains', {}, 'the domain list', signal), 'domain'),
    });
  }

  protected content(r: NamesiloRecord): string {
    return r.value;
  }

  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<RecordSet<NamesiloRecord>> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const { domain, sub } = await this.domains.require(host, signal);
    const reply = await this.call('dnsListRecords', { domain }, host, signal);
    const all = elements(reply, 'resource_record').map((x) => ({
      id: element(x, 'record_id') ?? '',
      type: element(x, 'type') ?? '',
      host: (element(x, 'host') ?? '').toLowerCase(),
      value: element(x, 'value') ?? '',
      ttl: element(x, 'ttl') ?? '',
    }));
    const ttl = String(createTtl(type, this.s.ttl, 3600));
    return {
      records: all.filter((r) => r.type === type && r.host === host),
      create: (value) =>
        this.call('dnsAddRecord', { domain, rrtype: type, rrhost: sub, rrvalue: value, rrttl: ttl }, host, signal),
      edit: (r, value) =>
        this.call(
          'dnsUpdateRecord',
          { domain, rrid: r.id, rrhost: sub, rrvalue: value, rrttl: r.ttl || ttl },
          host,
          signal,
        ),
      remove: (r) => this.call('dnsDeleteRecord', { domain, rrid: r.id }, host, signal),
    };
  }

  /** One operation: its `<reply>` when the code is 300, else its failure thrown (redacted). */
  private async call(
    operation: string,
    params: Record<string, string>,
    subject: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const q = new URLSearchParams({ version: '1', type: 'xml', key: this.s.token, ...params });
    const res = await jsonRequest(
      { name: 'Namesilo', redactor: this.redactor, env: this.env, maxBodyBytes: 512 * 1024 },
      {
        url: `${this.base}/${operation}?${q.toString()}`,
        method: 'GET',
        headers: { accept: 'application/xml' },
        signal,
      },
    );
    const reply = elements(res.body, 'reply')[0];
    const code = reply === undefined ? undefined : element(reply, 'code');
    if (res.status < 200 || res.status >= 300 || code === undefined)
      throw notProtocolFault(res, {
        name: 'Namesilo',
        redactor: this.redactor,
        other: (f) =>
          say('namesilo.not_xml', 'Namesilo sent an answer that is not its XML (HTTP __status__): __detail__', {
            status: f.status,
            detail: f.detail,
          }),
      });
    if (code === '300') return reply!;
    const words = this.redactor.text(element(reply!, 'detail') ?? code);
    const o = { code: `namesilo_${code}`, detail: excerpt(res.body, this.redactor) };
    if (ACCOUNT_CODES.has(code))
      throw this.redactor.error(
        fatal(
          say('namesilo.auth', 'Namesilo refused the key (__code__: __said__): __hint__', {
            code,
            said: words,
            hint: KEY_HINT,
          }),
          { ...o, scope: 'account' },
        ),
      );
    if (code === '201')
      throw this.redactor.error(
        transient(
          say('namesilo.trouble', 'Namesilo had trouble (__code__: __said__): trying later', { code, said: words }),
          {
            ...o,
            scope: 'account',
          },
        ),
      );
    throw this.redactor.error(
      fatal(
        say('namesilo.refused', 'Namesilo refused __operation__ for __subject__ (__code__: __said__)', {
          operation,
          subject,
          code,
          said: words,
        }),
        { ...o, scope: 'host' },
      ),
    );
  }
}

export const definition: ProviderDefinition<typeof namesiloSettings> = {
  id: 'namesilo',
  label: 'Namesilo',
  settings: namesiloSettings,
  fields: [
    {
      key: 'token',
      label: 'API key',
      kind: 'password',
      required: true,
      help: 'Generate it at namesilo.com › Account › API Manager; restrict it to the address Node-RED sends from.',
    },
    {
      key: 'domain',
      label: 'Domain',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the domain. Left empty, it is found from the account\u2019s domains.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 7207,
      help: 'Seconds, 3600 or more. Records that already exist keep their own TTL.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: NAMESILO_ENDPOINT,
      advanced: true,
      help: 'Leave empty for Namesilo itself; change only for testing.',
    },
  ],
  txt: true,
  // lego's NameSilo documentation: "it is better to set [the propagation timeout] larger than 15m".
  txtPropagation: {
    maxMs: 30 * 60_000,
    note: "Namesilo's name servers are slow to publish changes: a TXT record often takes 15 minutes or more.",
  },
  group: 'registrar',
  docsUrl: 'https://www.namesilo.com/account/api-manager',
  create: (settings, env) => new NamesiloProvider(checkSettings(namesiloSettings, 'Namesilo', settings), env),
};
