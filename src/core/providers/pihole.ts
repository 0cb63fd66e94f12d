/**
 * Pi-hole v6 local DNS records (split horizon: the LAN address of a name, inside the house), over
 * Pi-hole's REST API (https://docs.pi-hole.net/api/ and the API reference each Pi-hole serves at
 * /api/docs; authentication: https://docs.pi-hole.net/api/auth/).
 *
 * - Session: `POST /api/auth {"password"}` (the web password, or better an app password, which
 *   also works with two-factor authentication) answers `{"session": {"valid", "sid", "validity"}}`;
 *   a wrong password 401 with `valid: false`. The `sid` is sent as `X-FTL-SID` and stays valid while
 *   used (validity prolonged on every request); a 401 later means it expired: log in again once.
 *   `close()` ends the session (`DELETE /api/auth`): Pi-hole has a limited number of API seats
 *   (429 `api_seats_exceeded`).
 * - Records: `GET /api/config/dns/hosts` lists `"IP name [name…]"` lines (Pi-hole's "Local DNS
 *   records"); `PUT /api/config/dns/hosts/<IP name>` adds one (201), `DELETE` the same removes it
 *   (204). There is no edit: a changed address is added, then the old line removed; a line that
 *   holds other names too is written back without this one. Lines of other names and of the other
 *   family are left as they are. Pi-hole has no TTL per record and no TXT records.
 * - Errors are `{"error": {"key", "message", "hint"}}` (`unauthorized`, `bad_request`, …).
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
  httpUrl,
  jsonRequest,
  notJsonFault,
  restFailure,
  tokenSetting,
  type JsonResponse,
} from './kit';
import type { DnsProvider, ProviderCall, ProviderDefinition, ProviderEnv, RecordResult } from './types';
import { phrase } from '../said';

export const piholeSettings = z.object({
  endpoint: httpUrl(
    phrase(
      'pihole.pi_hole_address_must',
      'The Pi-hole address must be an http:// or https:// URL, such as http://pi.hole.',
    ),
  ),
  password: tokenSetting(phrase('pihole.enter_pi_hole_app', 'Enter the Pi-hole app password.')),
});
export type PiholeSettings = z.infer<typeof piholeSettings>;

const HINT = say(
  'pihole.hint',
  'create an app password at Settings › Web interface / API › Configure app password, and paste it here',
);
const Session = z.object({
  session: z.object({ valid: z.boolean(), sid: z.string().nullish(), message: z.string().nullish() }),
});
const Hosts = z.object({ config: z.object({ dns: z.object({ hosts: z.array(z.string()) }) }) });
const ApiError = z.object({ error: z.object({ key: z.string(), message: z.string().nullish() }) });

/** One line of Pi-hole's local DNS records. */
interface HostLine {
  line: string;
  ip: string;
  names: string[];
}

const parseLine = (line: string): HostLine => {
  const [ip = '', ...names] = line.trim().split(/\s+/);
  return { line, ip, names: names.map((n) => n.toLowerCase()) };
};

class PiholeProvider implements DnsProvider {
  readonly id = 'pihole';
  readonly maxHostsPerCall = 20;
  readonly localDns = true;
  private readonly base: string;
  private readonly redactor: Redactor;
  private sid?: string | null;

  constructor(
    private readonly s: PiholeSettings,
    private readonly env: ProviderEnv,
  ) {
    this.base = s.endpoint.replace(/\/+$/, '').replace(/\/admin$/, '');
    this.redactor = new Redactor([s.password]);
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    let lines = await this.lines(call.signal);
    return eachRecord(call, async ({ hostname, family, address }) => {
      const host = hostname.toLowerCase();
      const mine = lines.filter((l) => l.names.includes(host) && parseAddress(l.ip)?.family === family);
      const c = await convergeRecords(mine, address, {
        content: (l) => l.ip,
        create: () => this.put(`${address} ${host}`, host, call.signal),
        edit: async (l) => {
          await this.put(`${address} ${host}`, host, call.signal);
          await this.remove(l, host, call.signal);
        },
        remove: (l) => this.remove(l, host, call.signal),
      });
      if (c.change !== 'none' || c.removed) lines = await this.lines(call.signal);
      return convergedResult('Pi-hole', hostname, family, address, c);
    });
  }

  async getAddresses(hostname: string, family: Family, signal?: AbortSignal): Promise<string[]> {
    const host = hostname.toLowerCase();
    return (await this.lines(signal))
      .filter((l) => l.names.includes(host) && parseAddress(l.ip)?.family === family)
      .map((l) => l.ip);
  }

  async close(): Promise<void> {
    if (!this.sid) return;
    const sid = this.sid;
    this.sid = undefined;
    await this.request('DELETE', '/api/auth', sid).catch(() => undefined);
  }

  /** Drop `host` from a line: the whole line when it is its only name, else the line without it. */
  private async remove(l: HostLine, host: string, signal?: AbortSignal): Promise<void> {
    await this.call('DELETE', `/api/config/dns/hosts/${encodeURIComponent(l.line)}`, host, signal);
    const rest = l.names.filter((n) => n !== host);
    if (rest.length) await this.put(`${l.ip} ${rest.join(' ')}`, host, signal);
  }

  private put(line: string, host: string, signal?: AbortSignal) {
    return this.call('PUT', `/api/config/dns/hosts/${encodeURIComponent(line)}`, host, signal);
  }

  private async lines(signal?: AbortSignal): Promise<HostLine[]> {
    const res = await this.call('GET', '/api/config/dns/hosts', 'the local DNS records', signal);
    const r = Hosts.safeParse(res.json);
    if (!r.success) throw notJsonFault(res, { name: 'Pi-hole', redactor: this.redactor });
    return r.data.config.dns.hosts.map(parseLine);
  }

  /** One request in the session (logging in first, and once more when the session has expired). */
  private async call(method: 'GET' | 'PUT' | 'DELETE', path: string, subject: string, signal?: AbortSignal) {
    for (let attempt = 0; ; attempt++) {
      if (this.sid === undefined) this.sid = await this.login(signal);
      const res = await this.request(method, path, this.sid, signal);
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 401 && attempt === 0) {
        this.sid = undefined;
        continue;
      }
      throw this.failure(res, subject);
    }
  }

  private async login(signal?: AbortSignal): Promise<string | null> {
    const res = await this.request('POST', '/api/auth', null, signal, { password: this.s.password });
    const r = Session.safeParse(res.json);
    if (r.success && r.data.session.valid) return r.data.session.sid ?? null;
    if (r.success || res.status === 401)
      throw this.redactor.error(
        fatal(
          say('pihole.auth', 'Pi-hole refused the password (__said__): __hint__', {
            said: this.redactor.text(r.data?.session.message ?? `HTTP ${res.status}`),
            hint: HINT,
          }),
          { code: 'pihole_auth', scope: 'account' },
        ),
      );
    throw this.failure(res, 'the login');
  }

  private request(method: string, path: string, sid: string | null, signal?: AbortSignal, body?: object) {
    return jsonRequest(
      { name: 'Pi-hole', redactor: this.redactor, env: this.env, maxBodyBytes: 512 * 1024 },
      {
        url: `${this.base}${path}`,
        method: method as 'GET',
        headers: sid ? { 'x-ftl-sid': sid } : {},
        body,
        signal,
      },
    );
  }

  private failure(res: JsonResponse, subject: string) {
    const e = ApiError.safeParse(res.json);
    return restFailure(res, {
      name: 'Pi-hole',
      code: 'pihole',
      said: e.success ? this.redactor.text(`${e.data.error.key}: ${e.data.error.message ?? ''}`) : undefined,
      tokenHint: HINT,
      subject,
      forbiddenScope: 'account',
      redactor: this.redactor,
    });
  }
}

export const definition: ProviderDefinition<typeof piholeSettings> = {
  id: 'pihole',
  label: 'Pi-hole v6 (local DNS)',
  settings: piholeSettings,
  fields: [
    {
      key: 'endpoint',
      label: 'Pi-hole address',
      kind: 'url',
      required: true,
      placeholder: 'http://pi.hole',
      help: 'The address of the Pi-hole web interface, without /admin.',
    },
    {
      key: 'password',
      label: 'App password',
      kind: 'password',
      required: true,
      help: 'Settings › Web interface / API › Configure app password (works with two-factor authentication); the web password works too.',
    },
  ],
  txt: false,
  group: 'local',
  docsUrl: 'https://docs.pi-hole.net/api/auth/',
  create: (settings, env) => new PiholeProvider(checkSettings(piholeSettings, 'Pi-hole', settings), env),
};
