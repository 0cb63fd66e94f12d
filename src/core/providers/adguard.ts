/**
 * AdGuard Home DNS rewrites (split horizon: the LAN address of a name, inside the house), over its
 * HTTP API (https://github.com/AdguardTeam/AdGuardHome/tree/master/openapi: openapi.yaml and
 * CHANGELOG.md).
 *
 * - HTTP Basic authentication with the AdGuard Home user and password; a wrong one is 401 (403 once
 *   AdGuard Home blocks the address after repeated failures).
 * - `GET /control/rewrite/list` lists `[{domain, answer, enabled?}]`; `POST /control/rewrite/add`
 *   and `POST /control/rewrite/delete` take one `{domain, answer}`; `PUT /control/rewrite/update`
 *   `{target, update}` changes one in place (AdGuard Home v0.107.33, July 2023, or later). An answer
 *   is an address (A or AAAA) or a name (CNAME): only the rewrites of this name whose answer is an
 *   address of the family written are touched; wildcards (`*.example.lan`), CNAME answers and a
 *   rewrite's `enabled` flag are kept. AdGuard Home has no TTL per rewrite and no TXT records.
 * - Answers are short plain texts (`OK`, or the error); JSON only for the list.
 * - This is a DNS server inside the network: unique-local IPv6 addresses may be sent to it (localDns).
 */
import { z } from 'zod';
import { parseAddress, type Family } from '../address';
import { fatal, say } from '../errors';
import { Redactor } from '../redact';
import {
  checkSettings,
  convergeRecords,
  convergedResult,
  eachRecord,
  firstLine,
  httpFault,
  httpUrl,
  jsonRequest,
  notJsonFault,
  tokenSetting,
  type JsonResponse,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const adguardSettings = z.object({
  endpoint: httpUrl(
    phrase(
      'adguard.adguard_home_address_must',
      'The AdGuard Home address must be an http:// or https:// URL, such as http://192.168.1.2:3000.',
    ),
  ),
  username: z
    .string({ error: phrase('adguard.enter_adguard_home_user', 'Enter the AdGuard Home user name.') })
    .trim()
    .min(1, phrase('adguard.enter_adguard_home_user', 'Enter the AdGuard Home user name.')),
  password: tokenSetting(phrase('adguard.enter_adguard_home_password', 'Enter the AdGuard Home password.')),
});
export type AdguardSettings = z.infer<typeof adguardSettings>;

const Rewrite = z.object({ domain: z.string(), answer: z.string(), enabled: z.boolean().optional() });
type Rewrite = z.infer<typeof Rewrite>;

class AdguardProvider implements DnsProvider {
  readonly id = 'adguard';
  readonly maxHostsPerCall = 20;
  readonly localDns = true;
  private readonly base: string;
  private readonly redactor: Redactor;
  private readonly authorization: string;

  constructor(
    private readonly s: AdguardSettings,
    private readonly env: ProviderEnv,
  ) {
    this.base = s.endpoint.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}`;
    this.redactor = new Redactor([s.password, this.authorization.slice(6)]);
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    let list = await this.list(call.signal);
    return eachRecord(call, async ({ hostname, family, address }) => {
      const domain = hostname.toLowerCase();
      const c = await convergeRecords(this.mine(list, domain, family), address, {
        content: (r) => r.answer,
        create: () => this.call('POST', '/control/rewrite/add', { domain, answer: address }, domain, call.signal),
        edit: (r) =>
          this.call(
            'PUT',
            '/control/rewrite/update',
            { target: r, update: { ...r, answer: address } },
            domain,
            call.signal,
          ),
        remove: (r) => this.call('POST', '/control/rewrite/delete', r, domain, call.signal),
      });
      if (c.change !== 'none' || c.removed) list = await this.list(call.signal);
      return convergedResult('AdGuard Home', hostname, family, address, c);
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    return this.mine(await this.list(signal), hostname.toLowerCase(), family).map((r) => r.answer);
  }

  /** The rewrites of exactly this name whose answer is an address of this family. */
  private mine(list: Rewrite[], domain: string, family: Family): Rewrite[] {
    return list.filter((r) => r.domain.toLowerCase() === domain && parseAddress(r.answer)?.family === family);
  }

  private async list(signal?: AbortSignal): Promise<Rewrite[]> {
    const res = await this.call('GET', '/control/rewrite/list', undefined, 'the rewrite list', signal);
    const r = z.array(Rewrite).nullable().safeParse(res.json);
    if (!r.success) throw notJsonFault(res, { name: 'AdGuard Home', redactor: this.redactor });
    return r.data ?? [];
  }

  private async call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: object | undefined,
    subject: string,
    signal?: AbortSignal,
  ): Promise<JsonResponse> {
    const res = await jsonRequest(
      { name: 'AdGuard Home', redactor: this.redactor, env: this.env, maxBodyBytes: 512 * 1024 },
      { url: `${this.base}${path}`, method, headers: { authorization: this.authorization }, body, signal },
    );
    if (res.status >= 200 && res.status < 300) return res;
    const html = /<\s*(html|!doctype|body|head)\b/i.test(res.body);
    const said = firstLine(res.body, this.redactor) || `HTTP ${res.status}`;
    const opts = { code: '', scope: 'account' as const, detail: said };
    if (!html && (res.status === 401 || res.status === 403))
      throw this.redactor.error(
        fatal(
          say(
            'adguard.auth',
            'AdGuard Home refused the user name and password (__said__): check them (the login of the AdGuard Home web interface)',
            { said },
          ),
          { ...opts, code: 'adguard_auth' },
        ),
      );
    if (!html && res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
      throw this.redactor.error(
        fatal(
          res.status === 404 || res.status === 405
            ? say(
                'adguard.old_version',
                'AdGuard Home does not know __path__ (__said__): it needs version 0.107.33 or later',
                {
                  path,
                  said,
                },
              )
            : say('adguard.refused', 'AdGuard Home refused the change of __subject__ (__said__)', { subject, said }),
          { ...opts, code: 'adguard_refused', scope: res.status === 400 ? 'host' : 'account' },
        ),
      );
    throw httpFault(res, { name: 'AdGuard Home', redactor: this.redactor });
  }
}

export const definition: ProviderDefinition<typeof adguardSettings> = {
  id: 'adguard',
  label: 'AdGuard Home (local DNS)',
  settings: adguardSettings,
  fields: [
    {
      key: 'endpoint',
      label: 'AdGuard Home address',
      kind: 'url',
      required: true,
      placeholder: 'http://192.168.1.2:3000',
      help: 'The address of the AdGuard Home web interface (version 0.107.33 or later).',
    },
    { key: 'username', label: 'User name', kind: 'text', required: true },
    {
      key: 'password',
      label: 'Password',
      kind: 'password',
      required: true,
      help: 'The login of the AdGuard Home web interface.',
    },
  ],
  txt: false,
  group: 'local',
  docsUrl: 'https://github.com/AdguardTeam/AdGuardHome/wiki/Configuration#password-reset',
  create: (settings, env) => new AdguardProvider(checkSettings(adguardSettings, 'AdGuard Home', settings), env),
};
