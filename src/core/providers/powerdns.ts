/**
 * PowerDNS Authoritative Server, HTTP API v1 (https://doc.powerdns.com/authoritative/http-api/zone.html,
 * authentication: https://doc.powerdns.com/authoritative/http-api/index.html#authentication,
 * settings: https://doc.powerdns.com/authoritative/settings.html#api).
 *
 * - Self-hosted: the endpoint is the server's webserver (`webserver-address`/`webserver-port`,
 *   e.g. `http://192.168.1.2:8081`) and required; `X-API-Key: <api-key>` on every request
 *   (`api=yes`, `api-key=…` in pdns.conf). The server id is `localhost` unless told otherwise.
 * - The zone of a name: the server's zones (`GET /api/v1/servers/{id}/zones`, names with the final
 *   dot, read once and remembered), the longest that ends the name; its opaque `id` is used in paths.
 * - Records are RRsets (name and type): read first with `GET …/zones/{zone}?rrset_name=<fqdn.>&
 *   rrset_type=A` (servers before 4.9 ignore the filters and send the zone: the RRset is picked out
 *   of it), then `PATCH …/zones/{zone}` with `{"rrsets":[{name, type, ttl, changetype:"REPLACE",
 *   records:[{content, disabled:false}]}]}` (204): the RRset's own TTL is sent back; `comments` is
 *   left out, so the RRset's comments stay. A new RRset gets the account's TTL. Disabled records
 *   are not read as values (a write replaces them with the enabled address).
 * - Errors (JSON when asked for JSON): `{"error": "…"}`: 401 "Unauthorized" (wrong key), 404 "Not
 *   Found" (no such server or zone), 422 for a refused change. There is no rate limit.
 * - TXT (ACME DNS-01): contents are zone-file character strings (quoted); set adds its value to the
 *   RRset, delete removes only its own value (`changetype: "DELETE"` with the last one). The change
 *   is live on this server at once; secondaries follow by NOTIFY/AXFR.
 */
import { z } from 'zod';
import { say } from '../errors';
import {
  checkSettings,
  httpUrl,
  optionalDomain,
  quoteTxt,
  tokenSetting,
  ttlSetting,
  unquoteTxt,
  blankToUndefined,
  DomainList,
  TokenApi,
} from './kit';
import { RRsetProvider, saidField, type RRsetState } from './kit-rest2';
import type { ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

const KEY_HINT = say('powerdns.hint', 'check api-key in pdns.conf (and that api=yes)');

export const powerdnsSettings = z.object({
  endpoint: z.preprocess(
    blankToUndefined,
    httpUrl(
      phrase(
        'powerdns.enter_address_powerdns_webserver',
        'Enter the address of the PowerDNS webserver, e.g. http://192.168.1.2:8081.',
      ),
    ),
  ),
  token: tokenSetting(phrase('powerdns.enter_powerdns_api_key', 'Enter the PowerDNS API key.')),
  serverId: z.preprocess(blankToUndefined, z.string().trim().min(1).default('localhost')),
  domain: optionalDomain(),
  ttl: ttlSetting('PowerDNS', 1, 604_800, 300),
});
export type PowerdnsSettings = z.infer<typeof powerdnsSettings>;

const RRset = z.object({
  name: z.string(),
  type: z.string(),
  ttl: z.number(),
  records: z.array(z.object({ content: z.string(), disabled: z.boolean().optional() })),
});
type RRset = z.infer<typeof RRset>;

const dot = (name: string) => `${name}.`;

class PowerdnsProvider extends RRsetProvider {
  readonly id = 'powerdns';
  protected readonly label = 'PowerDNS';
  private readonly api: TokenApi;
  private readonly domains: DomainList;
  /** Zone name (no final dot) → the zone's id in paths. */
  private readonly ids = new Map<string, string>();

  constructor(
    private readonly s: PowerdnsSettings,
    env: ProviderEnv,
  ) {
    super();
    const root = s.endpoint.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.api = new TokenApi({
      name: 'PowerDNS',
      code: 'powerdns',
      base: `${root}/api/v1/servers/${encodeURIComponent(s.serverId)}`,
      header: 'x-api-key',
      token: s.token,
      env,
      tokenHint: KEY_HINT,
      forbiddenScope: 'account',
      said: saidField('error'),
      onFailure: (res) => res.status === 404 && this.domains.forget(),
    });
    this.domains = new DomainList({
      account: s.domain
        ? say('powerdns.the_zone', 'the zone __zone__', { zone: s.domain })
        : say('powerdns.any_zone', 'any zone of PowerDNS server __server__', { server: s.serverId }),
      notOwned: (host, where) =>
        this.api.notOwned(host, where, say('powerdns.check_zone', 'create the zone on the server, or check the name')),
      read: async (signal) => {
        const res = await this.api.call('GET', '/zones', { subject: 'the zone list', signal });
        const zones = this.api.parse(z.array(z.object({ id: z.string(), name: z.string() })), res);
        this.ids.clear();
        for (const zone of zones) this.ids.set(zone.name.toLowerCase().replace(/\.$/, ''), zone.id);
        return [...this.ids.keys()].filter((d) => !s.domain || d === s.domain);
      },
    });
  }

  protected async read(name: string, type: string, signal?: AbortSignal): Promise<RRsetState | undefined> {
    const set = (await this.rrset(name, type, signal)).set;
    if (!set) return undefined;
    const live = set.records.filter((r) => !r.disabled).map((r) => r.content);
    return { values: type === 'TXT' ? live.map(unquoteTxt) : live, ttl: set.ttl };
  }

  /** The RRset becomes exactly `values` (enabled), with its own TTL (or the account's when new). */
  protected async write(name: string, type: string, values: string[], ttl: number | undefined, signal?: AbortSignal) {
    const { path } = await this.rrset(name, type, signal, false);
    const rrset = {
      name: dot(name),
      type,
      ttl: ttl ?? this.s.ttl,
      changetype: 'REPLACE',
      records: values.map((v) => ({ content: type === 'TXT' ? quoteTxt(v) : v, disabled: false })),
    };
    await this.api.call('PATCH', path, { body: { rrsets: [rrset] }, subject: name, signal });
  }

  protected async remove(name: string, type: string, signal?: AbortSignal): Promise<void> {
    const { path } = await this.rrset(name, type, signal, false);
    const body = { rrsets: [{ name: dot(name), type, changetype: 'DELETE' }] };
    await this.api.call('PATCH', path, { body, subject: name, signal });
  }

  /** The RRset of one type of a name (undefined when there is none), and its zone's path. */
  private async rrset(
    name: string,
    type: string,
    signal?: AbortSignal,
    fetch = true,
  ): Promise<{ path: string; set?: RRset }> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const { domain } = await this.domains.require(host, signal);
    const path = `/zones/${encodeURIComponent(this.ids.get(domain)!)}`;
    if (!fetch) return { path };
    const q = new URLSearchParams({ rrset_name: dot(host), rrset_type: type });
    const res = await this.api.call('GET', `${path}?${q.toString()}`, { subject: host, signal });
    const zone = this.api.parse(z.object({ rrsets: z.array(RRset) }), res);
    return { path, set: zone.rrsets.find((r) => r.type === type && r.name.toLowerCase() === dot(host)) };
  }
}

export const definition: ProviderDefinition<typeof powerdnsSettings> = {
  id: 'powerdns',
  label: 'PowerDNS Authoritative',
  settings: powerdnsSettings,
  fields: [
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      required: true,
      placeholder: 'http://192.168.1.2:8081',
      help: 'The PowerDNS webserver (webserver-address and webserver-port in pdns.conf); use https through a proxy when it is not on the LAN.',
    },
    {
      key: 'token',
      label: 'API key',
      kind: 'password',
      required: true,
      help: 'api-key in pdns.conf (with api=yes). It can change every zone of the server: keep the webserver on the LAN (webserver-allow-from).',
    },
    {
      key: 'serverId',
      label: 'Server id',
      kind: 'text',
      default: 'localhost',
      advanced: true,
      help: 'Always localhost for a PowerDNS server itself; other values only behind an API proxy.',
    },
    {
      key: 'domain',
      label: 'Zone',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the zone to use. Left empty, it is found from the server\u2019s zones.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 300,
      help: 'Seconds. Records that already exist keep their own TTL.',
    },
  ],
  txt: true,
  group: 'self-hosted',
  docsUrl: 'https://doc.powerdns.com/authoritative/http-api/index.html',
  create: (settings, env) => new PowerdnsProvider(checkSettings(powerdnsSettings, 'PowerDNS', settings), env),
};
