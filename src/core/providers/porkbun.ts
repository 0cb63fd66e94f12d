/**
 * Porkbun API v3 (https://porkbun.com/api/json/v3/documentation; the same reference as Markdown:
 * https://porkbun.com/llms/dns).
 *
 * - JSON over POST to `https://api.porkbun.com/api/json/v3/…`; the API key and the secret API key
 *   travel in the JSON body of every request (`apikey`, `secretapikey`), never in the URL.
 * - API access is switched on per domain ("API ACCESS" in Domain Management); without it every
 *   call for that domain answers `Domain is not opted in to API access.`.
 * - Answers: `{"status":"SUCCESS", …}`, or HTTP 400 `{"status":"ERROR","message":"…"}`; a bad key
 *   is `Invalid API key. (002)`, a domain that is not the account's `Invalid domain.`.
 * - About 1 request per second per key (Porkbun support, nrdcg/porkbun#3); more gets an HTML 503
 *   from the load balancer, not JSON. Requests of one key are therefore spaced 1 s apart, and an
 *   HTML 503 is a transient wait for the whole account.
 * - A name's records: `dns/retrieveByNameType/{domain}/{type}/{sub}` (a cheap read, used before
 *   every write); one record is edited by id with `dns/edit/{domain}/{id}` sending its own TTL,
 *   priority and notes back (an edit without a TTL would reset it to 600); further A/AAAA records
 *   of the name are deleted (`dns/delete/{domain}/{id}`) so that the name holds one address; a
 *   name without a record gets one (`dns/create/{domain}`) with the account's TTL.
 * - The domain of a name is the account's `domain` setting, else found by trying the name's
 *   suffixes, shortest first (Porkbun hosts registered domains only), and remembered.
 * - TXT (ACME DNS-01): its own TXT record is created or deleted by id; the other TXT values of the
 *   name are left alone. Porkbun's minimum TTL is 600 s; its name servers take up to a few minutes.
 */
import { z } from 'zod';
import { fatal, say, type DdnsError, type Sentence } from '../errors';
import type { Family } from '../address';
import { Redactor } from '../redact';
import {
  checkSettings,
  convergeRecords,
  convergedResult,
  excerpt,
  eachRecord,
  httpFault,
  jsonRequest,
  notJsonFault,
  paced,
  recordType,
  relativeName,
  tokenSetting,
  zoneCandidates,
  type JsonResponse,
  zoneFields,
  zoneSettingsShape,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const PORKBUN_ENDPOINT = 'https://api.porkbun.com/api/json/v3';
/** Porkbun allows about one request per second per API key. */
export const PORKBUN_GAP_MS = 1_000;
/** After Porkbun's HTML 503 (its rate limit), the account waits this long. */
export const PORKBUN_BUSY_WAIT_MS = 30_000;
const MAX_BODY = 256 * 1024;
const KEYS_HINT = say(
  'porkbun.hint',
  'check the API key (pk1_…) and the secret API key (sk1_…) at porkbun.com/account/api',
);

export const porkbunSettings = z.object({
  token: tokenSetting(phrase('porkbun.enter_porkbun_api_key', 'Enter the Porkbun API key (pk1_…).')),
  password: tokenSetting(phrase('porkbun.enter_porkbun_secret_api', 'Enter the Porkbun secret API key (sk1_…).')),
  ...zoneSettingsShape('Porkbun', { min: 600, max: 86_400, def: 600 }),
});
export type PorkbunSettings = z.infer<typeof porkbunSettings>;

const PbRecord = z.object({
  id: z.coerce.string(),
  name: z.string(),
  type: z.string(),
  content: z.string(),
  ttl: z.coerce.string().optional(),
  prio: z.coerce.string().nullish(),
  notes: z.string().nullish(),
});
type PbRecord = z.infer<typeof PbRecord>;
const Answer = z.object({ status: z.string(), message: z.string().optional(), records: z.array(PbRecord).optional() });

/** Porkbun's ERROR messages, by what they mean. */
const isBadKey = (m: string) => /api key|apikey|secret/i.test(m);
const isNotOptedIn = (m: string) => /opted in|api access/i.test(m);
const isUnknownDomain = (m: string) => /invalid domain|domain not found|not (?:your|owned)/i.test(m);

class NotThisDomain extends Error {}

class PorkbunProvider implements DnsProvider {
  readonly id = 'porkbun';
  readonly maxHostsPerCall = 10;
  private readonly redactor: Redactor;
  private readonly base: string;
  /** Name → its Porkbun domain, as found. */
  private readonly domains = new Set<string>();

  constructor(
    private readonly s: PorkbunSettings,
    private readonly env: ProviderEnv,
  ) {
    this.redactor = new Redactor([s.token, s.password]);
    this.base = (s.endpoint ?? PORKBUN_ENDPOINT).replace(/\/+$/, '');
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return eachRecord(call, (r) => this.setOne(r.hostname, r.family, r.address, call.signal));
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return (await this.lookup(hostname, recordType(family), signal)).records.map((r) => r.content);
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { domain, sub, records: existing } = await this.lookup(name, 'TXT', signal);
    if (existing.some((r) => r.content === value)) return;
    await this.post(`dns/create/${domain}`, { name: sub, type: 'TXT', content: value, ttl: '600' }, name, signal);
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    const { domain, records: existing } = await this.lookup(name, 'TXT', signal);
    for (const r of existing) {
      if (r.content === value) await this.post(`dns/delete/${domain}/${r.id}`, {}, name, signal);
    }
  }

  private async setOne(hostname: string, family: Family, address: string, signal?: AbortSignal): Promise<RecordResult> {
    const type = recordType(family);
    const { domain, sub, records: existing } = await this.lookup(hostname, type, signal);
    const c = await convergeRecords(existing, address, {
      content: (r) => r.content,
      create: () =>
        this.post(
          `dns/create/${domain}`,
          { name: sub, type, content: address, ttl: String(this.s.ttl) },
          hostname,
          signal,
        ),
      edit: (r) => {
        const body: Record<string, string> = { name: sub, type, content: address };
        if (r.ttl) body.ttl = r.ttl;
        if (r.prio) body.prio = r.prio;
        if (r.notes) body.notes = r.notes;
        return this.post(`dns/edit/${domain}/${r.id}`, body, hostname, signal);
      },
      remove: (r) => this.post(`dns/delete/${domain}/${r.id}`, {}, hostname, signal),
    });
    return convergedResult('Porkbun', hostname, family, address, c);
  }

  /**
   * The records of one type of a name, with its Porkbun domain and the name relative to it. Without
   * a `domain` setting, the name's suffixes are tried shortest first; the one that answers is kept.
   */
  private async lookup(
    name: string,
    type: string,
    signal?: AbortSignal,
  ): Promise<{ domain: string; sub: string; records: PbRecord[] }> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const fixed = this.s.domain ?? zoneCandidates(host).find((c) => this.domains.has(c));
    if (fixed) {
      const sub = relativeName(host, fixed);
      if (sub === undefined)
        throw this.notOwned(
          host,
          say('porkbun.not_under', "it is not under the account's domain __domain__", { domain: fixed }),
        );
      return { domain: fixed, sub, records: await this.byNameType(fixed, type, sub, name, signal) };
    }
    for (const domain of zoneCandidates(host).reverse()) {
      const sub = relativeName(host, domain)!;
      try {
        const found = await this.byNameType(domain, type, sub, name, signal, true);
        this.domains.add(domain);
        return { domain, sub, records: found };
      } catch (e) {
        if (!(e instanceof NotThisDomain)) throw e;
      }
    }
    throw this.notOwned(host, say('porkbun.no_parent', 'none of its parent names is a domain of this Porkbun account'));
  }

  private async byNameType(
    domain: string,
    type: string,
    sub: string,
    name: string,
    signal?: AbortSignal,
    probing = false,
  ): Promise<PbRecord[]> {
    const path = `dns/retrieveByNameType/${domain}/${type}${sub ? `/${sub}` : ''}`;
    const a = await this.post(path, {}, name, signal, probing);
    return (a.records ?? []).filter((r) => r.type.toUpperCase() === type);
  }

  /** One paced POST with the keys in the body; a SUCCESS answer, or the DdnsError of the failure. */
  private async post(
    path: string,
    body: Record<string, string>,
    name: string,
    signal?: AbortSignal,
    probing = false,
  ): Promise<z.infer<typeof Answer>> {
    const res = await paced(
      `porkbun:${this.s.token}`,
      PORKBUN_GAP_MS,
      () =>
        jsonRequest(
          { name: 'Porkbun', redactor: this.redactor, env: this.env, maxBodyBytes: MAX_BODY },
          {
            url: `${this.base}/${path}`,
            method: 'POST',
            body: { ...body, apikey: this.s.token, secretapikey: this.s.password },
            signal,
          },
        ),
      signal,
    );
    const a = Answer.safeParse(res.json);
    if (a.success && a.data.status === 'SUCCESS' && res.status < 300) return a.data;
    const message = a.success ? (a.data.message ?? '') : '';
    if (a.success && a.data.status === 'ERROR' && res.status < 500) {
      if (probing && isUnknownDomain(message)) throw new NotThisDomain();
      throw this.refused(res, message, name);
    }
    throw this.fault(res);
  }

  private refused(res: JsonResponse, message: string, name: string): DdnsError {
    const detail = excerpt(res.body, this.redactor);
    const said = this.redactor.text(message) || `HTTP ${res.status}`;
    if (isBadKey(message) || res.status === 401 || res.status === 403) {
      return this.redactor.error(
        fatal(say('porkbun.auth', 'Porkbun refused the API keys (__said__): __hint__', { said, hint: KEYS_HINT }), {
          code: 'porkbun_auth',
          scope: 'account',
          detail,
        }),
      );
    }
    if (isNotOptedIn(message)) {
      return this.redactor.error(
        fatal(
          say(
            'porkbun.api_access',
            'Porkbun: API access is off for the domain of __name__ (__said__): switch on "API ACCESS" for it in Domain Management',
            { name, said },
          ),
          { code: 'porkbun_api_access', scope: 'host', detail },
        ),
      );
    }
    if (isUnknownDomain(message))
      return this.notOwned(name, say('porkbun.says', 'Porkbun says: __said__', { said }), detail);
    return this.redactor.error(
      fatal(say('porkbun.refused', 'Porkbun refused the change for __name__: __said__', { name, said }), {
        code: 'porkbun_error',
        scope: 'host',
        detail,
      }),
    );
  }

  private notOwned(name: string, why: Sentence, detail?: string): DdnsError {
    return this.redactor.error(
      fatal(
        say(
          'porkbun.not_owned',
          '__name__ is not a name of this Porkbun account (__why__): check the name, and that its domain is in this account',
          { name, why },
        ),
        { code: 'porkbun_not_owned', scope: 'host', detail },
      ),
    );
  }

  private fault(res: JsonResponse): DdnsError {
    const html = /<\s*(html|!doctype|body|head)\b/i.test(res.body);
    if (res.status === 503 && html) {
      return httpFault(res, {
        name: 'Porkbun',
        redactor: this.redactor,
        scope: 'account',
        serverErrorWaitMs: PORKBUN_BUSY_WAIT_MS,
        message: (f) =>
          say(
            'porkbun.busy',
            'Porkbun is busy or its rate limit (about one request per second per API key) was reached (HTTP 503, __detail__): next try in __s__ s or later',
            { detail: f.detail, s: PORKBUN_BUSY_WAIT_MS / 1000 },
          ),
      });
    }
    return notJsonFault(res, { name: 'Porkbun', redactor: this.redactor });
  }
}

export const definition: ProviderDefinition<typeof porkbunSettings> = {
  id: 'porkbun',
  label: 'Porkbun',
  settings: porkbunSettings,
  fields: [
    {
      key: 'token',
      label: 'API key',
      kind: 'password',
      required: true,
      placeholder: 'pk1_…',
      help: 'Create an API key at porkbun.com/account/api, then switch on "API ACCESS" for the domain in Domain Management.',
    },
    {
      key: 'password',
      label: 'Secret API key',
      kind: 'password',
      required: true,
      placeholder: 'sk1_…',
      help: 'The secret key shown once, next to the API key, when you create it.',
    },
    ...zoneFields({
      provider: 'Porkbun',
      foundFrom: 'each name',
      ttl: { min: 600, def: 600 },
      endpoint: PORKBUN_ENDPOINT,
    }),
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://kb.porkbun.com/article/190-getting-started-with-the-porkbun-dns-api',
  create: (settings, env) => new PorkbunProvider(checkSettings(porkbunSettings, 'Porkbun', settings), env),
};
