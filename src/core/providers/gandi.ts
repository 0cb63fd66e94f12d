/**
 * Gandi LiveDNS, API v5 (https://api.gandi.net/docs/livedns/; authentication:
 * https://api.gandi.net/docs/authentication/).
 *
 * - `Authorization: Bearer <personal access token>` on `https://api.gandi.net/v5/livedns` (the
 *   older API keys are deprecated); the token needs "Manage domain name technical configurations"
 *   for the domain.
 * - The domain of a name: the account's LiveDNS domains (`GET /domains`, read once and remembered),
 *   the longest that ends the name.
 * - Records are RRsets per name and type: `GET /domains/{fqdn}/records/{name}/{type}` (404 when
 *   there is none; the apex is `@`), `PUT` the same path with `{rrset_values, rrset_ttl}` replaces
 *   it (201): the RRset's own TTL is sent back so that it stays the user's; a new RRset gets the
 *   account's TTL. `DELETE` removes it (204).
 * - Errors are `{"code", "message", "object", "cause"}`; 401 for a bad token, 403 for a token
 *   without the right on that domain. Limit: 1000 requests per minute (429).
 * - TXT (ACME DNS-01): values as quoted strings; set adds its value to the RRset, delete removes
 *   only its own value (the RRset goes with the last value). LiveDNS publishes within a few minutes.
 */
import { z } from 'zod';
import { say } from '../errors';
import {
  accountZoneApi,
  bearerTokenSetting,
  checkSettings,
  type DomainList,
  type TokenApi,
  type WholeSet,
  WholeSets,
  zoneFields,
  zoneSettingsShape,
} from './kit';
import type { DnsProvider, ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const GANDI_ENDPOINT = 'https://api.gandi.net/v5/livedns';
const TOKEN_HINT = say(
  'gandi.hint',
  'create a personal access token at admin.gandi.net › Organizations › Personal Access Token with "Manage domain name technical configurations" for this domain',
);

export const gandiSettings = z.object({
  token: bearerTokenSetting(phrase('gandi.enter_gandi_personal_access', 'Enter the Gandi personal access token.')),
  ...zoneSettingsShape('Gandi', { min: 300, max: 2_592_000, def: 300 }),
});
export type GandiSettings = z.infer<typeof gandiSettings>;

const RRset = z.object({ rrset_values: z.array(z.string()), rrset_ttl: z.number().optional() });

class GandiProvider extends WholeSets implements DnsProvider {
  readonly id = 'gandi';
  private readonly api: TokenApi;
  private readonly domains: DomainList;

  constructor(
    private readonly s: GandiSettings,
    env: ProviderEnv,
  ) {
    super('Gandi', 'quoted');
    ({ api: this.api, domains: this.domains } = accountZoneApi(s, env, {
      name: 'Gandi',
      code: 'gandi',
      endpoint: GANDI_ENDPOINT,
      tokenHint: TOKEN_HINT,
      forbiddenScope: 'host',
      said: (json) => {
        const e = z.object({ message: z.string() }).safeParse(json);
        return e.success ? e.data.message : undefined;
      },
      domains: {
        account: say('gandi.any_domain', 'any LiveDNS domain this Gandi token can see'),
        hint: say('gandi.check_domain', 'check the name, that the domain uses LiveDNS, and that the token covers it'),
        read: async (signal) => {
          const res = await this.api.call('GET', '/domains?per_page=1000', { subject: 'the domain list', signal });
          return this.api.parse(z.array(z.object({ fqdn: z.string() })), res).map((d) => d.fqdn);
        },
      },
    }));
  }

  /** The RRset of one type of a name (none when there is none): a PUT of its path replaces it, keeping its TTL. */
  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<WholeSet> {
    const { domain, sub } = await this.domains.require(name, signal);
    const path = `/domains/${domain}/records/${encodeURIComponent(sub || '@')}/${type}`;
    const res = await this.api.call('GET', path, { subject: name, signal, missingIsAnswer: true });
    const set = res.status === 404 ? undefined : this.api.parse(RRset, res);
    return {
      values: set?.rrset_values ?? [],
      exists: set !== undefined,
      replace: (values) => {
        const body = { rrset_values: values, rrset_ttl: set?.rrset_ttl ?? this.s.ttl };
        return this.api.call('PUT', path, { body, subject: name, signal });
      },
      remove: () => this.api.call('DELETE', path, { subject: name, signal }),
    };
  }
}

export const definition: ProviderDefinition<typeof gandiSettings> = {
  id: 'gandi',
  label: 'Gandi LiveDNS',
  settings: gandiSettings,
  fields: [
    {
      key: 'token',
      label: 'Personal access token',
      kind: 'password',
      required: true,
      help: 'Create it at admin.gandi.net › Organizations › Personal Access Token, restricted to your domain, with "Manage domain name technical configurations".',
    },
    ...zoneFields({
      provider: 'Gandi',
      foundFrom: 'the LiveDNS domains the token sees',
      ttl: { min: 300, def: 300 },
      endpoint: GANDI_ENDPOINT,
    }),
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://api.gandi.net/docs/authentication/',
  create: (settings, env) => new GandiProvider(checkSettings(gandiSettings, 'Gandi', settings), env),
};
