/**
 * netcup DNS through the CCP API, JSON flavour (https://www.netcup-wiki.de/wiki/DNS_API; the
 * reference of the actions: https://ccp.netcup.net/run/webservice/servers/endpoint.php).
 *
 * - One URL, `https://ccp.netcup.net/run/webservice/servers/endpoint.php?JSON`, POST
 *   `{action, param}`; every answer is HTTP 200 `{status: "success"|"error", statuscode,
 *   shortmessage, longmessage, responsedata}` (2000 success; 4013 "Validation Error." and the like).
 * - `login` with `customernumber`, `apikey`, `apipassword` answers `responsedata.apisessionid`;
 *   the session goes with every other action and ends with `logout` (sent after each update).
 *   The API key and the API password are made in the CCP (Stammdaten › API); netcup has one API
 *   password per customer, for all its keys. Both are secrets here (`token`, `password`).
 * - `infoDnsRecords` `{domainname}` answers `responsedata.dnsrecords` `[{id, hostname (relative, @
 *   the apex), type, priority, destination, deleterecord, state}]`; `updateDnsRecords`
 *   `{domainname, dnsrecordset: {dnsrecords}}` changes the records sent with their id, creates
 *   those without, deletes those with `deleterecord: true`. Records have no TTL of their own
 *   (the zone's). A domain not at netcup: status error 5029 "Domain not found".
 * - Limit: 180 requests per minute ("More than 180 requests per minute. Please wait and retry later.").
 * - TXT (ACME DNS-01): its own TXT record is created and deleted; the others stay. **Slow
 *   propagation**: netcup publishes zone changes about every 10 minutes; a TXT value can take
 *   15–30 minutes to reach its name servers (lego's NETCUP_PROPAGATION_TIMEOUT default is 900 s):
 *   cert-renew must wait at the authoritative servers that long.
 *
 * Cross-checked with lego's netcup provider (providers/dns/netcup/internal) and qdm12/ddns-updater.
 */
import { z } from 'zod';
import type { Family } from '../address';
import { fatal, say, transient, type DdnsError } from '../errors';
import { Redactor } from '../redact';
import {
  apiEndpoint,
  blankToUndefined,
  checkSettings,
  convergeRecords,
  convergedResult,
  eachRecord,
  jsonRequest,
  notJsonFault,
  optionalDomain,
  recordType,
  relativeName,
  tokenSetting,
} from './kit';
import { addressField } from './rrset';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const NETCUP_ENDPOINT = 'https://ccp.netcup.net/run/webservice/servers/endpoint.php?JSON';
const HINT = say(
  'netcup.hint',
  'check the customer number, the API key and the API password (CCP › Master Data › API); the API password is not the account password',
);

export const netcupSettings = z.object({
  customerNumber: z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : blankToUndefined(v)),
    z
      .string({ error: phrase('netcup.enter_netcup_customer_number', 'Enter the netcup customer number.') })
      .trim()
      .regex(/^\d+$/, phrase('netcup.customer_number_digits_only', 'The customer number is digits only.')),
  ),
  token: tokenSetting(phrase('netcup.enter_netcup_api_key', 'Enter the netcup API key.')),
  password: tokenSetting(phrase('netcup.enter_netcup_api_password', 'Enter the netcup API password.')),
  domain: optionalDomain().pipe(
    z.string({
      error: phrase('netcup.enter_domain_netcup_lists', 'Enter the domain as netcup lists it, e.g. example.com.'),
    }),
  ),
  endpoint: apiEndpoint(),
});
export type NetcupSettings = z.infer<typeof netcupSettings>;

const Answer = z.object({
  status: z.string(),
  statuscode: z.number(),
  shortmessage: z.string().optional(),
  longmessage: z.string().optional(),
  responsedata: z.unknown(),
});
const NcRecord = z.object({
  id: z.string().optional(),
  hostname: z.string(),
  type: z.string(),
  priority: z.string().optional(),
  destination: z.string(),
  deleterecord: z.boolean().optional(),
  state: z.string().optional(),
});
type NcRecord = z.infer<typeof NcRecord>;

class NetcupProvider implements DnsProvider {
  readonly id = 'netcup';
  readonly maxHostsPerCall = 10;
  private redactor: Redactor;

  constructor(
    private readonly s: NetcupSettings,
    private readonly env: ProviderEnv,
  ) {
    this.redactor = new Redactor([s.password, s.token]);
  }

  setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    return this.session(call.signal, (act) =>
      eachRecord(call, async ({ hostname, family, address }) => {
        const type = recordType(family);
        const { host, records } = await this.lookup(act, hostname, type);
        const change = (list: NcRecord[]) => this.update(act, hostname, list);
        const c = await convergeRecords(records, address, {
          content: (r) => r.destination,
          create: () => change([{ hostname: host, type, destination: address, priority: '0', deleterecord: false }]),
          edit: (r) => change([{ ...r, destination: address }]),
          remove: (r) => change([{ ...r, deleterecord: true }]),
        });
        return convergedResult('netcup', hostname, family, address, c);
      }),
    );
  }

  getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return this.session(signal, async (act) =>
      (await this.lookup(act, hostname, recordType(family))).records.map((r) => r.destination),
    );
  }

  setTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.session(signal, async (act) => {
      const { host, records } = await this.lookup(act, name, 'TXT');
      if (records.some((r) => r.destination === value)) return;
      await this.update(act, name, [{ hostname: host, type: 'TXT', destination: value, deleterecord: false }]);
    });
  }

  deleteTxt(name: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.session(signal, async (act) => {
      const mine = (await this.lookup(act, name, 'TXT')).records.filter((r) => r.destination === value);
      if (mine.length)
        await this.update(
          act,
          name,
          mine.map((r) => ({ ...r, deleterecord: true })),
        );
    });
  }

  private async update(act: Act, subject: string, dnsrecords: NcRecord[]): Promise<void> {
    await act('updateDnsRecords', { domainname: this.s.domain, dnsrecordset: { dnsrecords } }, subject);
  }

  /** The records of one type of a name, and the name relative to the domain. */
  private async lookup(act: Act, name: string, type: string): Promise<{ host: string; records: NcRecord[] }> {
    const fqdn = name.toLowerCase().replace(/\.$/, '');
    const sub = relativeName(fqdn, this.s.domain);
    if (sub === undefined)
      throw this.redactor.error(
        fatal(
          say(
            'netcup.not_owned',
            "__host__ is not in the account's domain __domain__: check the name or the domain setting",
            {
              host: fqdn,
              domain: this.s.domain,
            },
          ),
          {
            code: 'netcup_not_owned',
            scope: 'host',
          },
        ),
      );
    const host = sub || '@';
    const data = await act('infoDnsRecords', { domainname: this.s.domain }, fqdn);
    const list = z.object({ dnsrecords: z.array(NcRecord).default([]) }).safeParse(data ?? {});
    if (!list.success)
      throw transient(say('netcup.unreadable_records', 'netcup sent records it could not read'), {
        code: 'netcup_unexpected_answer',
      });
    return { host, records: list.data.dnsrecords.filter((r) => r.type === type && r.hostname.toLowerCase() === host) };
  }

  /** Log in, run `fn` with the session's actions, log out (also after a failure). */
  private async session<T>(signal: AbortSignal | undefined, fn: (act: Act) => Promise<T>): Promise<T> {
    const auth = { customernumber: this.s.customerNumber, apikey: this.s.token };
    const login = await this.action('login', { ...auth, apipassword: this.s.password }, 'the login', signal);
    const id = z.object({ apisessionid: z.string().min(1) }).safeParse(login);
    if (!id.success)
      throw transient(say('netcup.no_session', 'netcup answered the login without a session'), {
        code: 'netcup_unexpected_answer',
      });
    this.redactor = new Redactor([this.s.password, this.s.token, id.data.apisessionid]);
    const param = { ...auth, apisessionid: id.data.apisessionid };
    try {
      return await fn((action, p, subject) => this.action(action, { ...param, ...p }, subject, signal));
    } finally {
      await this.action('logout', param, 'the logout', signal).catch(() => undefined);
    }
  }

  /** One action; its `responsedata` on success, else its error in the kit's words. */
  private async action(action: string, param: object, subject: string, signal?: AbortSignal): Promise<unknown> {
    const res = await jsonRequest(
      { name: 'netcup', redactor: this.redactor, env: this.env, maxBodyBytes: 512 * 1024 },
      { url: this.s.endpoint ?? NETCUP_ENDPOINT, method: 'POST', body: { action, param }, signal },
    );
    const a = Answer.safeParse(res.json);
    if (res.status !== 200 || !a.success) throw notJsonFault(res, { name: 'netcup', redactor: this.redactor });
    if (a.data.status === 'success') return a.data.responsedata;
    throw this.failure(action, subject, a.data.statuscode, `${a.data.shortmessage ?? ''} ${a.data.longmessage ?? ''}`);
  }

  private failure(action: string, subject: string, code: number, words: string): DdnsError {
    const said = this.redactor.text(words.trim()).slice(0, 300);
    const o = { detail: said };
    if (/180 requests per minute|retry later/i.test(said))
      return transient(say('netcup.rate_limit', "netcup's rate limit was reached (__said__)", { said }), {
        ...o,
        code: 'netcup_rate_limit',
        scope: 'account',
        retryAfterMs: 60_000,
      });
    if (action === 'login')
      return fatal(
        say('netcup.auth', 'netcup refused the login (__code__: __said__): __hint__', { code, said, hint: HINT }),
        {
          ...o,
          code: 'netcup_auth',
          scope: 'account',
        },
      );
    if (code === 5029 || /domain not found/i.test(said))
      return fatal(
        say(
          'netcup.no_domain',
          'netcup does not host the domain __domain__ of __subject__ (__said__): check the domain setting',
          { domain: this.s.domain, subject, said },
        ),
        {
          ...o,
          code: 'netcup_not_owned',
          scope: 'host',
        },
      );
    return fatal(
      say('netcup.refused', 'netcup refused __action__ for __subject__ (__code__: __said__)', {
        action,
        subject,
        code,
        said,
      }),
      {
        ...o,
        code: 'netcup_refused',
        scope: 'host',
      },
    );
  }
}

type Act = (action: string, param: object, subject: string) => Promise<unknown>;

export const definition: ProviderDefinition<typeof netcupSettings> = {
  id: 'netcup',
  label: 'netcup',
  settings: netcupSettings,
  fields: [
    { key: 'customerNumber', label: 'Customer number', kind: 'text', required: true, placeholder: '12345' },
    {
      key: 'token',
      label: 'API key',
      kind: 'password',
      required: true,
      help: 'Made in the CCP under Master Data › API (accept the API terms first).',
    },
    {
      key: 'password',
      label: 'API password',
      kind: 'password',
      required: true,
      help: 'The API password of the CCP (one for all keys), not the account password.',
    },
    {
      key: 'domain',
      label: 'Domain',
      kind: 'text',
      required: true,
      placeholder: 'example.com',
      help: 'The domain as netcup lists it. netcup publishes DNS changes about every 10 minutes: a TXT record for a certificate can take 15\u201330 minutes to be seen.',
    },
    addressField('endpoint', 'API address', NETCUP_ENDPOINT, 'Leave empty for netcup itself; change only for testing.'),
  ],
  txt: true,
  // netcup's zone publishing: 15–30 minutes (above); caddy-dns/netcup and lego's users set 900 s or more.
  txtPropagation: {
    maxMs: 30 * 60_000,
    note: 'netcup publishes DNS changes about every 10 minutes; a TXT record can take 15 to 30 minutes to reach its name servers.',
  },
  group: 'registrar',
  docsUrl: 'https://www.netcup-wiki.de/wiki/DNS_API',
  create: (settings, env) => new NetcupProvider(checkSettings(netcupSettings, 'netcup', settings), env),
};
