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
  tokenSetting,
  ttlSetting,
  blankToUndefined,
  type DomainIds,
  TokenApi,
  WholeSets,
  type WholeSet,
  withDomainIds,
} from './kit';
import { saidField } from './kit-rest2';
import type { DnsProvider, ProviderDefinition, ProviderEnv } from './types';
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

const dot = (name: string) => `${name}.`;

class PowerdnsProvider extends WholeSets implements DnsProvider {
  readonly id = 'powerdns';
  private readonly api: TokenApi;
  private readonly domains: DomainIds<string>;

  constructor(
    private readonly s: PowerdnsSettings,
    env: ProviderEnv,
  ) {
    super('PowerDNS', 'quoted');
    const root = s.endpoint.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    ({ api: this.api, domains: this.domains } = withDomainIds(
      (onFailure) =>
        new TokenApi({
          name: 'PowerDNS',
          code: 'powerdns',
          base: `${root}/api/v1/servers/${encodeURIComponent(s.serverId)}`,
          header: 'x-api-key',
          token: s.token,
          env,
          tokenHint: KEY_HINT,
          forbiddenScope: 'account',
          said: saidField('error'),
          onFailure,
        }),
      {
        only: s.domain,
        account: s.domain
          ? say('powerdns.the_zone', 'the zone __zone__', { zone: s.domain })
          : say('powerdns.any_zone', 'any zone of PowerDNS server __server__', { server: s.serverId }),
        hint: say('powerdns.check_zone', 'create the zone on the server, or check the name'),
        read: async (signal) => {
          const res = await this.api.call('GET', '/zones', { subject: 'the zone list', signal });
          return this.api.parse(z.array(z.object({ id: z.string(), name: z.string() })), res);
        },
      },
    ));
  }

  /**
   * The RRset of one type of a name, read from its zone (servers before 4.9 send the whole zone:
   * the RRset is picked out of it); a PATCH of the zone replaces or deletes it. Disabled records
   * are not its values (a write replaces them); it keeps its own TTL, a new one gets the account's.
   */
  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<WholeSet> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const { id } = await this.domains.require(host, signal);
    const path = `/zones/${encodeURIComponent(id)}`;
    const q = new URLSearchParams({ rrset_name: dot(host), rrset_type: type });
    const res = await this.api.call('GET', `${path}?${q.toString()}`, { subject: host, signal });
    const zone = this.api.parse(z.object({ rrsets: z.array(RRset) }), res);
    const set = zone.rrsets.find((r) => r.type === type && r.name.toLowerCase() === dot(host));
    const patch = (rrset: object) => this.api.call('PATCH', path, { body: { rrsets: [rrset] }, subject: name, signal });
    return {
      values: set?.records.filter((r) => !r.disabled).map((r) => r.content) ?? [],
      exists: set !== undefined,
      replace: (values) =>
        patch({
          name: dot(name),
          type,
          ttl: set?.ttl ?? this.s.ttl,
          changetype: 'REPLACE',
          records: values.map((content) => ({ content, disabled: false })),
        }),
      remove: () => patch({ name: dot(name), type, changetype: 'DELETE' }),
    };
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
