/**
 * FreeDNS (freedns.afraid.org), dynamic update interface v2 (https://freedns.afraid.org/dynamic/v2/).
 *
 * - One update token identifies one record: `GET https://sync.afraid.org/u/<TOKEN>/?address=<v4>`
 *   and, for an AAAA record, `GET https://v6.sync.afraid.org/u/<TOKEN>/?address=<v6>`. The
 *   hostname is not sent; it selects the token and is checked against the answer, which names the
 *   record it changed. The address is always sent: without it FreeDNS takes the request's source.
 * - A record with both an A and an AAAA entry has two tokens. The `token` setting therefore holds
 *   one token for the common case, or a list (see parseFreeDnsTokens).
 * - Answers: `Updated …` → updated; `No IP change detected …` (or update.php's `ERROR: Address <ip>
 *   has not changed.`) → unchanged (every form: successAnswer). The record an answer names must be
 *   the one asked for: otherwise the token belongs to another record, which FreeDNS may just have
 *   changed, and that is fatal for the name asked for. Other `ERROR: …` answers (e.g. `ERROR:
 *   Unable to locate this record`) are FreeDNS refusing this token: fatal for that record, the user
 *   must act. Everything else (HTML pages, garbage, 5xx, 429, timeouts, resets) is transient: the
 *   engine retries later.
 * - maxHostsPerCall is 1 (one token, one request, one record). Each family is its own request and
 *   its own result: a failure of one does not hide the other's outcome.
 * - Tokens travel in the URL path: every text that leaves this file went through the Redactor.
 */
import { z } from 'zod';
import { badInput, DdnsError, fatal, say, toDdnsError, transient } from '../errors';
import type { HttpResponse } from '../http';
import { parseAddress, type Family } from '../address';
import { Redactor } from '../redact';
import {
  answerError,
  checkSettings,
  failed,
  recordType,
  excerpt,
  firstLine,
  httpFault,
  optionalEndpoint,
  providerRequest,
  type AnswerTable,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const FREEDNS_ENDPOINT = 'https://sync.afraid.org';
export const FREEDNS_ENDPOINT_V6 = 'https://v6.sync.afraid.org';
const V2_PAGE = 'freedns.afraid.org/dynamic/v2/';
const MAX_BODY = 16 * 1024;
const TOKEN = /^[A-Za-z0-9_-]{8,128}$/;
const HOSTNAME = /^(?:\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$/;

/** One token of the `token` setting: `name` null means "any name of this account". */
export interface FreeDnsToken {
  name: string | null;
  family: Family;
  token: string;
}

const normalName = (n: string) => n.trim().toLowerCase().replace(/\.$/, '');

/**
 * Parse the `token` setting. Entries are separated by spaces, commas or semicolons; each is
 *   `<token>` | `<update URL>` | `<key>=<token or URL>`, key = `ipv4` | `ipv6` | `<name>` | `<name>/ipv4` | `<name>/ipv6`.
 * A bare token is the A record of every name; `ipv6=` marks an AAAA record's token; a
 * `https://v6.sync.afraid.org/u/<token>/` URL is an AAAA token too. Error texts never contain a token.
 */
export function parseFreeDnsTokens(text: string): { tokens: FreeDnsToken[] } | { error: string } {
  const items = text.split(/[\s,;]+/).filter(Boolean);
  if (items.length === 0) return { error: `The FreeDNS update token is required (see ${V2_PAGE}).` };
  const tokens: FreeDnsToken[] = [];
  for (const [i, item] of items.entries()) {
    const where = items.length > 1 ? `entry ${i + 1} of the token field` : 'the token field';
    let name: string | null = null;
    let family: Family | undefined;
    let value = item;
    const kv = /^([a-z0-9.*_-]+)(?:\/(ipv4|ipv6|a|aaaa))?=(.+)$/i.exec(item);
    if (kv) {
      const key = kv[1].toLowerCase();
      const fam = kv[2]?.toLowerCase();
      value = kv[3];
      if (!fam && (key === 'ipv4' || key === 'ipv6')) family = key;
      else {
        name = normalName(key);
        if (!HOSTNAME.test(name)) return { error: `In ${where}, "${kv[1]}" is not a host name.` };
        if (fam) family = fam === 'ipv6' || fam === 'aaaa' ? 'ipv6' : 'ipv4';
      }
    }
    let token = value;
    if (/^https?:\/\//i.test(value)) {
      let u: URL;
      try {
        u = new URL(value);
      } catch {
        return { error: `In ${where}, the update URL is not a valid URL.` };
      }
      if (/update\.php$/i.test(u.pathname)) {
        return {
          error: `In ${where}, the URL is a FreeDNS version 1 update URL: open ${V2_PAGE} and copy the version 2 URL (…/u/<token>/).`,
        };
      }
      const m = /^\/u\/([^/]+)\/?$/.exec(u.pathname);
      if (!m)
        return { error: `In ${where}, the URL is not a FreeDNS update URL (https://sync.afraid.org/u/<token>/).` };
      try {
        token = decodeURIComponent(m[1]);
      } catch {
        return { error: `In ${where}, the update URL is not a valid URL.` };
      }
      const urlFamily: Family = /^v6\./i.test(u.hostname) ? 'ipv6' : 'ipv4';
      if (family && /^v6\./i.test(u.hostname) && family !== 'ipv6') {
        return { error: `In ${where}, an IPv6 (v6.sync.afraid.org) URL is given for an A record.` };
      }
      family ??= urlFamily;
    }
    if (!TOKEN.test(token)) {
      return {
        error: `In ${where}, the value does not look like a FreeDNS update token (letters and digits, the part after /u/ in the update URL).`,
      };
    }
    family ??= 'ipv4';
    if (tokens.some((t) => t.name === name && t.family === family)) {
      return {
        error: `The token field gives two tokens for the ${recordType(family)} record of ${name ?? 'every name'}.`,
      };
    }
    tokens.push({ name, family, token });
  }
  return { tokens };
}

const optionalUrl = optionalEndpoint(
  phrase('duckdns.endpoint_must_http_https', 'The endpoint must be an http:// or https:// URL.'),
);

export const freednsSettings = z.object({
  token: z
    .string({ error: phrase('freedns.freedns_update_token_required', 'The FreeDNS update token is required.') })
    .trim()
    .superRefine((v, ctx) => {
      const r = parseFreeDnsTokens(v);
      if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
    }),
  endpoint: optionalUrl,
  endpointIpv6: optionalUrl,
});
export type FreeDnsSettings = z.infer<typeof freednsSettings>;

/** FreeDNS's `ERROR: …` answers: the token is unknown, or the update is refused. */
const ANSWERS: AnswerTable<{ host: string; type: string; line: string }> = {
  unknown_token: {
    kind: 'fatal',
    scope: 'host',
    message: (c) =>
      say(
        'freedns.unknown_token',
        'FreeDNS does not know the token of the __type__ record of __host__ ("__line__"): copy the token again from __page__',
        { type: c.type, host: c.host, line: c.line, page: V2_PAGE },
      ),
  },
  refused: {
    kind: 'fatal',
    scope: 'host',
    message: (c) =>
      say('freedns.refused', 'FreeDNS refused the update of the __type__ record of __host__: "__line__"', {
        type: c.type,
        host: c.host,
        line: c.line,
      }),
  },
};

/**
 * A success answer: what it did, the record names it mentions (lower case) and the address it
 * reports, or null when `text` is not a success. FreeDNS words it in several ways (its v2 page,
 * the older update.php interface, and what update clients have recorded):
 * - `Updated <host> from <old> to <new>` and `No IP change detected for <host> with IP <ip>,
 *   skipping update` (v2);
 * - `Updated <host> to <new> in <t> seconds` and `Updated <n> host(s) <host> to <new> in <t>
 *   seconds` (update.php; several hosts when one URL updates several records);
 * - `ERROR: Address <ip> has not changed.` (update.php's "nothing to do": no name in it).
 * Names are read from every form the same way (words that are host names, not addresses), so a
 * form not listed here is still checked; the address is the last one in the first line.
 */
export function successAnswer(
  text: string,
): { outcome: 'updated' | 'unchanged'; names: string[]; address?: string } | null {
  const first = text
    .replace(/^\uFEFF/, '')
    .trim()
    .split(/\r?\n/, 1)[0];
  const outcome = /^Updated\b/i.test(first)
    ? 'updated'
    : /^No IP change detected\b/i.test(first) || /^ERROR:?\s+Address\s+\S+\s+has not changed\b/i.test(first)
      ? 'unchanged'
      : null;
  if (!outcome) return null;
  const words = first.split(/[\s,;()]+/).map((w) => w.replace(/\.+$/, '').replace(/^["']|["']$/g, ''));
  const addresses = words.map((w) => parseAddress(w)?.address).filter((a) => a !== undefined);
  const names = [
    ...new Set(
      words
        .filter(
          (w) =>
            parseAddress(w) === null && HOSTNAME.test(w.toLowerCase()) && /[a-z]/i.test(w.slice(w.lastIndexOf('.'))),
        )
        .map(normalName),
    ),
  ];
  return { outcome, names, address: addresses[addresses.length - 1] };
}

/** `<base>/u/<token>/?address=<address>` */
function updateUrl(base: string, token: string, address: string): string {
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/u/${encodeURIComponent(token)}/`;
  u.search = '';
  u.searchParams.set('address', address);
  return u.toString();
}

class FreeDnsProvider implements DnsProvider {
  readonly id = 'freedns';
  readonly maxHostsPerCall = 1;
  private readonly tokens: FreeDnsToken[];
  private readonly endpoints: Record<Family, string>;
  private readonly redactor: Redactor;

  constructor(
    settings: FreeDnsSettings,
    private readonly env: ProviderEnv,
  ) {
    const parsed = parseFreeDnsTokens(settings.token);
    if ('error' in parsed) throw badInput(parsed.error, 'invalid_settings');
    this.tokens = parsed.tokens;
    this.endpoints = {
      ipv4: settings.endpoint || FREEDNS_ENDPOINT,
      ipv6: settings.endpointIpv6 || FREEDNS_ENDPOINT_V6,
    };
    this.redactor = new Redactor(this.tokens.map((t) => t.token));
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const sent = call.addresses;
    const results: RecordResult[] = [];
    for (const hostname of call.hostnames) {
      for (const family of ['ipv4', 'ipv6'] as const) {
        const address = sent[family];
        if (address === undefined) continue;
        try {
          results.push(await this.updateOne(hostname, family, address, call.signal));
        } catch (e) {
          if (call.signal?.aborted) throw e;
          const error = this.redactor.error(toDdnsError(e));
          results.push(failed(hostname, family, error));
        }
      }
    }
    return results;
  }

  private tokenFor(host: string, family: Family): string | undefined {
    return (
      this.tokens.find((t) => t.name === host && t.family === family) ??
      this.tokens.find((t) => t.name === null && t.family === family)
    )?.token;
  }

  private async updateOne(
    hostname: string,
    family: Family,
    address: string,
    signal?: AbortSignal,
  ): Promise<RecordResult> {
    const host = normalName(hostname);
    if (!HOSTNAME.test(host))
      throw badInput(
        say('freedns.not_host', '"__name__" is not a host name', { name: this.redactor.text(hostname) }),
        'invalid_name',
      );
    const token = this.tokenFor(host, family);
    if (!token) {
      const p = { type: recordType(family), host, page: V2_PAGE };
      throw fatal(
        family === 'ipv6'
          ? say(
              'freedns.no_token_v6',
              'No FreeDNS update token for the __type__ record of __host__: add ipv6=<token> (or __host__/ipv6=<token>) to the token field, with the token of that record from __page__',
              p,
            )
          : say(
              'freedns.no_token_v4',
              'No FreeDNS update token for the __type__ record of __host__: add __host__=<token> to the token field, with the token of that record from __page__',
              p,
            ),
        { code: 'no_token', scope: 'host' },
      );
    }
    const url = updateUrl(this.endpoints[family], token, address);
    const res = await providerRequest(
      { redactor: this.redactor, env: this.env, maxBodyBytes: MAX_BODY },
      { url, signal },
    );
    return this.interpret(res, hostname, host, family, address);
  }

  private interpret(res: HttpResponse, hostname: string, host: string, family: Family, address: string): RecordResult {
    const text = res.body.replace(/^\uFEFF/, '').trim();
    const line = firstLine(text, this.redactor);
    const detail = excerpt(res.body, this.redactor);
    const type = recordType(family);
    const said = successAnswer(text);
    if (said) {
      if (said.names.length > 0 && !said.names.includes(host)) {
        const other = said.names.join(', ');
        throw fatal(
          say(
            'freedns.other_host',
            'The FreeDNS token used for the __type__ record of __host__ belongs to another record: FreeDNS answered about __other__ ("__line__"), which it may have changed. Give __host__ its own token from __page__; __host__ is not updated until the token is changed',
            { type, host, other, line, page: V2_PAGE },
          ),
          { code: 'token_other_host', scope: 'host', detail },
        );
      }
      if (said.address && said.address !== address) {
        throw transient(
          say(
            'freedns.not_taken',
            'FreeDNS set the __type__ record of __host__ to __got__ instead of __address__ (FreeDNS: "__line__")',
            { type, host, got: said.address, address, line },
          ),
          { code: 'address_not_taken', detail },
        );
      }
      return { hostname, family, outcome: said.outcome, message: `FreeDNS: ${line}` };
    }
    throw this.failure(res, text, line, detail, host, type);
  }

  private failure(
    res: HttpResponse,
    text: string,
    line: string,
    detail: string,
    host: string,
    type: string,
  ): DdnsError {
    if (/^ERROR\b/i.test(text)) {
      const unknown = /unable to locate|not found|no such|invalid update url|token|record/i.test(text);
      return answerError(
        ANSWERS,
        unknown ? 'unknown_token' : 'refused',
        { host, type, line },
        { detail, redactor: this.redactor },
      );
    }
    return httpFault(res, {
      name: 'FreeDNS',
      redactor: this.redactor,
      message: (f) =>
        say(
          'freedns.unexpected',
          'FreeDNS sent an unexpected answer for the __type__ record of __host__ (HTTP __status__): __detail__',
          { type, host, status: f.status, detail: f.detail },
        ),
    });
  }
}

export const definition: ProviderDefinition<typeof freednsSettings> = {
  id: 'freedns',
  label: 'FreeDNS (afraid.org)',
  group: 'ddns',
  settings: freednsSettings,
  fields: [
    {
      key: 'token',
      label: 'Update token',
      kind: 'password',
      required: true,
      placeholder: 'token, or https://sync.afraid.org/u/<token>/',
      help:
        `On ${V2_PAGE}, each dynamic record shows an update URL ending in /u/<token>/: paste the token or the whole URL. ` +
        'For an AAAA (IPv6) record add ipv6=<token>; for several names write name=<token> (name/ipv6=<token> for AAAA), separated by commas.',
    },
    {
      key: 'endpoint',
      label: 'IPv4 server URL',
      kind: 'url',
      placeholder: FREEDNS_ENDPOINT,
      help: 'Leave empty to use FreeDNS itself; change it only for testing.',
      advanced: true,
    },
    {
      key: 'endpointIpv6',
      label: 'IPv6 server URL',
      kind: 'url',
      placeholder: FREEDNS_ENDPOINT_V6,
      help: 'Leave empty to use FreeDNS itself; change it only for testing.',
      advanced: true,
    },
  ],
  txt: false,
  docsUrl: 'https://freedns.afraid.org/dynamic/v2/',
  create: (settings, env) => new FreeDnsProvider(checkSettings(freednsSettings, 'FreeDNS', settings), env),
};
