/**
 * DuckDNS (https://www.duckdns.org/spec.jsp).
 *
 * One GET per name: `/update?domains=<sub>&token=<token>[&ip=<v4>][&ipv6=<v6>]&verbose=true`.
 * - The address of every family asked is always sent explicitly: DuckDNS would otherwise take the
 *   request's IPv4 source. An IPv6-only update sends only `ipv6=`, which turns that detection off
 *   and leaves the A record as it is; a dual-stack update sends `ip=<v4>&ipv6=<v6>` together.
 * - The body says everything, the HTTP status nothing: `KO` (bad token, or a name the account does
 *   not own) or `OK`; with verbose `OK\n<ipv4>\n<ipv6>\nUPDATED|NOCHANGE`.
 * - maxHostsPerCall is 1: DuckDNS accepts several names per call, but both its answers are about
 *   the whole call: `KO` does not say which name is not owned, `UPDATED` does not say which name
 *   changed. One name per call keeps every result true (a home has one or two names).
 * - TXT (ACME DNS-01): `txt=<value>` sets, `txt=<value>&clear=true` removes. One TXT value per name
 *   and every name under `<sub>.duckdns.org` answers with it: `txtSerialised`.
 * - The token travels in the URL: every text that leaves this file went through the Redactor.
 * - No read API exists (a request without an address would update the record), so no getAddresses.
 */
import { z } from 'zod';
import { badInput, DdnsError, english, say, transient, type Sentence } from '../errors';
import type { HttpResponse } from '../http';
import { familyLabel, parseAddress, type Family } from '../address';
import { Redactor } from '../redact';
import { clip } from '../text';
import {
  answerError,
  type AnswerTable,
  checkSettings,
  excerpt,
  failed,
  firstLine,
  hasAnswer,
  httpFault,
  optionalEndpoint,
  providerRequest,
  said,
  tokenSetting,
} from './kit';
import type { AddressSet, DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const DUCKDNS_ENDPOINT = 'https://www.duckdns.org';
const SUFFIX = '.duckdns.org';
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Answers are a few lines; anything bigger is not DuckDNS. */
const MAX_BODY = 16 * 1024;

export const duckdnsSettings = z.object({
  token: tokenSetting(phrase('duckdns.duckdns_token_required', 'The DuckDNS token is required.')).regex(
    /^\S+$/,
    phrase('duckdns.duckdns_token_cannot_contain', 'The DuckDNS token cannot contain spaces.'),
  ),
  endpoint: optionalEndpoint(
    phrase('duckdns.endpoint_must_http_https', 'The endpoint must be an http:// or https:// URL.'),
  ),
});
export type DuckDnsSettings = z.infer<typeof duckdnsSettings>;

/**
 * The DuckDNS sub-name of a name: `myhome` and `myhome.duckdns.org` give `myhome`. With
 * `underneath`, names below it (`_acme-challenge.myhome.duckdns.org`) give it too: DuckDNS answers
 * every name under `myhome.duckdns.org` from myhome's records. Returns a reason when not usable.
 */
export function duckdnsSubName(name: string, underneath = false): { sub: string } | { reason: string; said: Sentence } {
  const why = (said: Sentence) => ({ reason: english(said), said });
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  let labels: string[];
  if (n.endsWith(SUFFIX)) labels = n.slice(0, -SUFFIX.length).split('.');
  else if (!n.includes('.')) labels = [n];
  else
    return why(
      say('duckdns.not_duckdns', '"__name__" is not a DuckDNS name: use "myname" or "myname.duckdns.org"', { name }),
    );
  const sub = labels[labels.length - 1];
  if (!LABEL.test(sub)) {
    return why(
      say(
        'duckdns.bad_label',
        '"__name__" is not a DuckDNS name: the name before .duckdns.org may only hold letters, digits and hyphens',
        { name },
      ),
    );
  }
  if (labels.length > 1 && !underneath) {
    return why(
      say(
        'duckdns.underneath',
        '"__name__" cannot have an address of its own at DuckDNS: every name under __domain__ follows __domain__; use "__sub__"',
        { name, domain: `${sub}${SUFFIX}`, sub },
      ),
    );
  }
  return { sub };
}

/** DuckDNS's answers that are not OK (the HTTP status says nothing). */
const ANSWERS: AnswerTable<{ fqdn: string }> = {
  KO: {
    kind: 'fatal',
    code: 'ko',
    scope: 'account',
    message: ({ fqdn }) =>
      say(
        'duckdns.ko',
        "DuckDNS refused the request for __fqdn__ (KO): check that the token is the one shown at the top of duckdns.org after signing in, and that __fqdn__ is one of that account's domains",
        { fqdn },
      ),
  },
};

/** `base` + `/update`, whether or not the base already ends with it. */
function updateUrl(base: string): URL {
  const u = new URL(base);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path.endsWith('/update') ? path : `${path}/update`;
  u.search = '';
  return u;
}

class DuckDnsProvider implements DnsProvider {
  readonly id = 'duckdns';
  readonly maxHostsPerCall = 1;
  readonly txtSerialised = true;
  private readonly redactor: Redactor;

  constructor(
    /** As parsed by `duckdnsSettings`: the token is trimmed and checked there, once. */
    private readonly s: DuckDnsSettings,
    private readonly env: ProviderEnv,
  ) {
    this.redactor = new Redactor([s.token]);
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const addresses = call.addresses;
    const families = (['ipv4', 'ipv6'] as const).filter((f) => addresses[f] !== undefined);
    if (families.length === 0) return []; // never send a request without an address: DuckDNS would guess one
    const results: RecordResult[] = [];
    for (const hostname of call.hostnames) {
      const name = duckdnsSubName(hostname);
      if ('reason' in name) {
        const error = this.redactor.error(badInput(name.said, 'invalid_name'));
        for (const family of families) results.push(failed(hostname, family, error));
        continue;
      }
      const params: Record<string, string> = { domains: name.sub, token: this.s.token };
      if (addresses.ipv4) params.ip = addresses.ipv4;
      if (addresses.ipv6) params.ipv6 = addresses.ipv6;
      params.verbose = 'true';
      const res = await this.get(params, call.signal);
      results.push(...this.interpretUpdate(res, hostname, name.sub, addresses, families));
    }
    return results;
  }

  async setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.txt(name, value, false, signal);
  }

  async deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.txt(name, value, true, signal);
  }

  private async txt(name: string, value: string, clear: boolean, signal?: AbortSignal): Promise<void> {
    const n = duckdnsSubName(name, true);
    if ('reason' in n) throw this.redactor.error(badInput(n.said, 'invalid_name'));
    if (!/^[\x21-\x7e]{1,255}$/.test(value)) {
      throw badInput(
        say('duckdns.invalid_txt', 'A DuckDNS TXT value must be 1 to 255 visible ASCII characters without spaces'),
        'invalid_txt',
      );
    }
    const params: Record<string, string> = { domains: n.sub, token: this.s.token, txt: value };
    if (clear) params.clear = 'true';
    const res = await this.get(params, signal);
    const first = firstLine(res.body, this.redactor);
    if (first === 'OK') return;
    throw this.failure(res, first, `${n.sub}${SUFFIX}`);
  }

  private async get(params: Record<string, string>, signal?: AbortSignal): Promise<HttpResponse> {
    const u = updateUrl(this.s.endpoint || DUCKDNS_ENDPOINT);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return providerRequest(
      { redactor: this.redactor, env: this.env, maxBodyBytes: MAX_BODY },
      { url: u.toString(), signal },
    );
  }

  private interpretUpdate(
    res: HttpResponse,
    hostname: string,
    sub: string,
    sent: AddressSet,
    families: Family[],
  ): RecordResult[] {
    const fqdn = `${sub}${SUFFIX}`;
    const lines = res.body
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .map((l) => l.trim());
    if (lines[0] !== 'OK') throw this.failure(res, lines[0], fqdn);
    // verbose: OK / current IPv4 / current IPv6 / UPDATED|NOCHANGE (a plain OK says less)
    const echoed: Record<Family, string | undefined> = { ipv4: lines[1], ipv6: lines[2] };
    const state = lines[3]?.toUpperCase();
    const together =
      families.length === 2 ? ' (both addresses went in one request; DuckDNS reports them together)' : '';
    return families.map((family): RecordResult => {
      const want = sent[family]!;
      const echo = echoed[family];
      if (state === 'UPDATED' || state === 'NOCHANGE') {
        const got = echo ? parseAddress(echo)?.address : undefined;
        if (got !== want) {
          const error = this.redactor.error(
            transient(
              echo
                ? say(
                    'duckdns.not_taken',
                    'DuckDNS answered OK for __fqdn__ but reports __family__ "__echo__" instead of __want__: the address was not taken',
                    { fqdn, family: familyLabel(family), echo: clip(this.redactor.text(echo), 60), want },
                  )
                : say(
                    'duckdns.not_taken_empty',
                    'DuckDNS answered OK for __fqdn__ but reports __family__ as empty instead of __want__: the address was not taken',
                    { fqdn, family: familyLabel(family), want },
                  ),
              { code: 'address_not_taken', detail: excerpt(res.body, this.redactor) },
            ),
          );
          return failed(hostname, family, error);
        }
        return state === 'UPDATED'
          ? said(
              hostname,
              family,
              'updated',
              together
                ? say(
                    'duckdns.updated_both',
                    'DuckDNS updated __fqdn__ to __want__ (both addresses went in one request; DuckDNS reports them together)',
                    { fqdn, want },
                  )
                : say('duckdns.updated', 'DuckDNS updated __fqdn__ to __want__', { fqdn, want }),
            )
          : said(
              hostname,
              family,
              'unchanged',
              say('duckdns.unchanged', 'DuckDNS already had __want__ for __fqdn__ (no change)', { fqdn, want }),
            );
      }
      // A plain OK (a compatible server that ignores verbose): accepted, change unknown.
      return said(
        hostname,
        family,
        'updated',
        say('duckdns.accepted', 'DuckDNS accepted __want__ for __fqdn__', { fqdn, want }),
      );
    });
  }

  /** The error for an answer that is not OK. */
  private failure(res: HttpResponse, first: string | undefined, fqdn: string): DdnsError {
    if (first && hasAnswer(ANSWERS, first))
      return answerError(
        ANSWERS,
        first,
        { fqdn },
        { detail: excerpt(res.body, this.redactor), redactor: this.redactor },
      );
    return httpFault(res, {
      name: 'DuckDNS',
      redactor: this.redactor,
      message: (f) =>
        say('duckdns.unexpected', 'DuckDNS sent an answer that is neither OK nor KO (HTTP __status__): __detail__', {
          status: f.status,
          detail: f.detail,
        }),
    });
  }
}

export const definition: ProviderDefinition<typeof duckdnsSettings> = {
  id: 'duckdns',
  label: 'DuckDNS',
  group: 'ddns',
  settings: duckdnsSettings,
  fields: [
    {
      key: 'token',
      label: 'Token',
      kind: 'password',
      required: true,
      placeholder: 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx',
      help: 'Your DuckDNS token, shown at the top of duckdns.org once you are signed in.',
    },
    {
      key: 'endpoint',
      label: 'Server URL',
      kind: 'url',
      placeholder: DUCKDNS_ENDPOINT,
      help: 'Leave empty to use DuckDNS itself; change it only for testing or a DuckDNS-compatible server.',
      advanced: true,
    },
  ],
  txt: true,
  docsUrl: 'https://www.duckdns.org/spec.jsp',
  create: (settings, env) => new DuckDnsProvider(checkSettings(duckdnsSettings, 'DuckDNS', settings), env),
};
