/**
 * Namecheap dynamic DNS (https://www.namecheap.com/support/knowledgebase/article.aspx/29/11/how-to-dynamically-update-the-hosts-ip-with-an-http-request/,
 * https://www.namecheap.com/support/knowledgebase/article.aspx/36/11/how-do-i-start-using-dynamic-dns/).
 *
 * - Not dyndns2: `GET https://dynamicdns.park-your-domain.com/update?host=<sub>&domain=<zone>&password=<p>&ip=<v4>`,
 *   the domain's Dynamic DNS password (Advanced DNS → Dynamic DNS) in the query (redacted from every
 *   text). `host` is the part of the name before the domain, `@` for the domain itself, `*` for
 *   its wildcard; the record must exist as an "A + Dynamic DNS" record. One name per request.
 * - IPv4 only (A records): an IPv6 address is refused without a request.
 * - The answer is XML, HTTP 200 either way: `<ErrCount>0</ErrCount>` is success (Namecheap never
 *   says whether the address changed), otherwise `<Err1>` says what: the words are matched here.
 */
import { z } from 'zod';
import { badInput, say, type DdnsError } from '../errors';
import { Redactor } from '../redact';
import { ipv6Refused } from './dyndns2';
import {
  answerError,
  excerpt,
  failed,
  httpFault,
  optionalEndpoint,
  providerRequest,
  said,
  tokenSetting,
  type AnswerTable,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const NAMECHEAP_ENDPOINT = 'https://dynamicdns.park-your-domain.com/update';
const NAME = 'Namecheap';
/** The XML answer is some 500 bytes. */
const MAX_BODY = 16 * 1024;

const settings = z.object({
  domain: z
    .string({ error: phrase('namecheap.enter_domain_example_com', 'Enter the domain, e.g. example.com.') })
    .trim()
    .toLowerCase()
    .regex(
      /^(?:[a-z0-9-]+\.)+[a-z0-9-]+$/,
      phrase('namecheap.enter_domain_example_com', 'Enter the domain, e.g. example.com.'),
    ),
  password: tokenSetting(
    phrase('namecheap.enter_dynamic_dns_password', 'Enter the Dynamic DNS password of the domain.'),
  ),
  endpoint: optionalEndpoint(
    phrase('duckdns.endpoint_must_http_https', 'The endpoint must be an http:// or https:// URL.'),
  ),
});
type Settings = z.infer<typeof settings>;

/** `host` of a name in `domain`: `@` for the domain, `*` for its wildcard; undefined when outside it. */
export function namecheapHost(name: string, domain: string): string | undefined {
  if (name === domain) return '@';
  return name.endsWith(`.${domain}`) ? name.slice(0, -domain.length - 1) : undefined;
}

/** The `<Err1>` words Namecheap documents (matched case-insensitively), with what the user does. */
const ERRORS: AnswerTable<{ host: string; domain: string }> & Record<string, { match: RegExp }> = {
  bad_password: {
    match: /passwords? do not match|invalid password/i,
    kind: 'fatal',
    scope: 'account',
    message: (c) =>
      say(
        'namecheap.bad_password',
        'Namecheap refused the Dynamic DNS password of __domain__ (Passwords do not match). Copy it again from Domain List → __domain__ → Advanced DNS → Dynamic DNS; no update is sent until it is changed.',
        { domain: c.domain },
      ),
  },
  no_domain: {
    match: /domain name not found|no domain/i,
    kind: 'fatal',
    scope: 'account',
    message: (c) =>
      say(
        'namecheap.no_domain',
        'Namecheap does not know the domain __domain__, or Dynamic DNS is off for it. Check the domain and switch on Dynamic DNS under Advanced DNS; no update is sent until then.',
        { domain: c.domain },
      ),
  },
  no_record: {
    match: /record not found|no records updated/i,
    kind: 'fatal',
    scope: 'host',
    message: (c) =>
      say(
        'namecheap.no_record',
        'Namecheap has no "A + Dynamic DNS" record "__host__" in __domain__. Add it under Advanced DNS → Host records; this name is not updated until then.',
        { host: c.host, domain: c.domain },
      ),
  },
};

/** The text of element `tag` of a small XML answer (no nesting, no attributes needed). */
const element = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]{0,500})</${tag}>`, 'i').exec(xml)?.[1]?.trim();

class NamecheapProvider implements DnsProvider {
  readonly id = 'namecheap';
  readonly maxHostsPerCall = 1;
  private readonly redactor: Redactor;

  constructor(
    private readonly s: Settings,
    private readonly env: ProviderEnv,
  ) {
    this.redactor = new Redactor([s.password]);
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const out: RecordResult[] = [];
    for (const hostname of call.hostnames) {
      if (call.addresses.ipv6) out.push(failed(hostname, 'ipv6', ipv6Refused(NAME)));
      const ip = call.addresses.ipv4;
      if (!ip) continue;
      const host = namecheapHost(hostname, this.s.domain);
      if (host === undefined) {
        out.push(
          failed(
            hostname,
            'ipv4',
            badInput(
              say('namecheap.not_in_domain', '__host__ is not in the domain __domain__ of this account.', {
                host: hostname,
                domain: this.s.domain,
              }),
              'invalid_name',
            ),
          ),
        );
        continue;
      }
      const error = await this.send(host, ip, call.signal);
      out.push(
        error
          ? failed(hostname, 'ipv4', error)
          : said(
              hostname,
              'ipv4',
              'updated',
              say('namecheap.set', '__name__: __host__ set to __address__', {
                name: NAME,
                host: hostname,
                address: ip,
              }),
            ),
      );
    }
    return out;
  }

  /** One update; a host-scoped refusal is returned, anything about the account or the server thrown. */
  private async send(host: string, ip: string, signal?: AbortSignal): Promise<DdnsError | undefined> {
    const url = new URL(this.s.endpoint ?? NAMECHEAP_ENDPOINT);
    for (const [k, v] of Object.entries({ host, domain: this.s.domain, password: this.s.password, ip }))
      url.searchParams.set(k, v);
    const http = { redactor: this.redactor, env: this.env, maxBodyBytes: MAX_BODY };
    const res = await providerRequest(http, { url: url.toString(), method: 'GET', signal });
    const count = element(res.body, 'ErrCount');
    if (res.status !== 200 || count === undefined || !/^\d+$/.test(count))
      throw httpFault(res, { name: NAME, redactor: this.redactor, scope: 'account' });
    if (count === '0') return undefined;
    const said = element(res.body, 'Err1') ?? '';
    const detail = excerpt(said || res.body, this.redactor);
    const code = Object.keys(ERRORS).find((k) => ERRORS[k].match.test(said));
    const ctx = { host, domain: this.s.domain };
    if (!code)
      throw httpFault(res, {
        name: NAME,
        redactor: this.redactor,
        scope: 'account',
        unreadableCode: 'bad_answer',
        message: () => say('namecheap.refused', '__name__ refused the update: __detail__', { name: NAME, detail }),
      });
    const error = answerError(ERRORS, code, ctx, { detail, redactor: this.redactor });
    if (error.scope === 'account') throw error;
    return error;
  }
}

export const definition: ProviderDefinition<typeof settings> = {
  id: 'namecheap',
  label: 'Namecheap (dynamic DNS)',
  group: 'registrar',
  settings,
  fields: [
    {
      key: 'domain',
      label: 'Domain',
      kind: 'text',
      required: true,
      placeholder: 'example.com',
      help: 'The domain at Namecheap; the names to update are in it (example.com itself, or home.example.com).',
    },
    {
      key: 'password',
      label: 'Dynamic DNS password',
      kind: 'password',
      required: true,
      help: 'Domain List → the domain → Advanced DNS → Dynamic DNS: the password shown there (not the account password).',
    },
    {
      key: 'endpoint',
      label: 'Update server',
      kind: 'url',
      advanced: true,
      placeholder: NAMECHEAP_ENDPOINT,
      help: `Leave empty to use ${NAMECHEAP_ENDPOINT}.`,
    },
  ],
  txt: false,
  docsUrl: 'https://www.namecheap.com/support/knowledgebase/article.aspx/36/11/how-do-i-start-using-dynamic-dns/',
  create: (s, env) => new NamecheapProvider(s, env),
};
