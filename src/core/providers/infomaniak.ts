/**
 * Infomaniak DNS, API v1 (https://developer.infomaniak.com/docs/api: products, `domain` › DNS
 * records). The requests below are the ones libdns/infomaniak (client.go, types.go) and lego's
 * infomaniak provider (providers/dns/infomaniak/internal/client.go, models.go) send.
 *
 * - `Authorization: Bearer <API token>` on `https://api.infomaniak.com`; the token needs the
 *   `domain` scope only (manager.infomaniak.com › API tokens).
 * - The domain of a name: `GET /1/product?service_name=domain&customer_name=<candidate>` for the
 *   name and each parent, longest first (lego's walk); the product whose `customer_name` is the
 *   candidate gives the domain's numeric id, remembered.
 * - Every answer is `{"result":"success"|"error","data":…,"error":{"code","description"}}`.
 * - Read first: `GET /1/domain/{id}/dns/record` (records with `id`, `source` relative to the
 *   domain, `source_idn` the full name, `type`, `ttl`, `target`); a record is edited with
 *   `PUT …/dns/record/{rid}` sending it back whole with its own TTL (the TTL stays the user's),
 *   further ones of that type are deleted (`DELETE`), one is created (`POST`, answering its id)
 *   with the account's TTL when there is none; the apex is `@` (libdns).
 * - 401 a wrong token, 403 a token without the domain scope, 404 `object_not_found`, 429 too many
 *   requests.
 * - TXT (ACME DNS-01): its own record (the value unquoted) is created and deleted by id; the other
 *   TXT values of the name stay.
 */
import { z } from 'zod';
import { say } from '../errors';
import {
  bearerTokenSetting,
  checkSettings,
  relativeName,
  zoneCandidates,
  zoneFields,
  zoneSettingsShape,
  type TokenApi,
  accountApi,
} from './kit';
import { createTtl, RecordsById, type RecordSet } from './kit-rest2';
import type { ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const INFOMANIAK_ENDPOINT = 'https://api.infomaniak.com';
const TTL = { min: 60, max: 86_400, def: 300 };
const TOKEN_HINT = say(
  'infomaniak.hint',
  'create an API token at manager.infomaniak.com › API tokens with the scope Domain',
);

export const infomaniakSettings = z.object({
  token: bearerTokenSetting(phrase('infomaniak.enter_infomaniak_api_token', 'Enter the Infomaniak API token.')),
  ...zoneSettingsShape('Infomaniak', TTL),
});
export type InfomaniakSettings = z.infer<typeof infomaniakSettings>;

const Id = z.union([z.number(), z.string()]);
const IkRecord = z.object({
  id: Id,
  type: z.string(),
  source: z.string(),
  source_idn: z.string().optional(),
  target: z.string(),
  ttl: z.number().optional(),
});
type IkRecord = z.infer<typeof IkRecord>;
const Ok = <T extends z.ZodType>(data: T) => z.object({ result: z.literal('success'), data });
const IkError = z.object({
  result: z.literal('error'),
  error: z.object({ code: z.string(), description: z.string().optional() }),
});

class InfomaniakProvider extends RecordsById<IkRecord> {
  readonly id = 'infomaniak';
  protected readonly label = 'Infomaniak';
  private readonly api: TokenApi;
  /** Domain name → product id, from earlier look-ups. */
  private readonly ids = new Map<string, string>();

  constructor(
    private readonly s: InfomaniakSettings,
    env: ProviderEnv,
  ) {
    super();
    this.api = accountApi(s, env, {
      name: 'Infomaniak',
      code: 'infomaniak',
      endpoint: INFOMANIAK_ENDPOINT,
      tokenHint: TOKEN_HINT,
      forbiddenScope: 'account',
      said: (json) => {
        const e = IkError.safeParse(json);
        return e.success ? [e.data.error.code, e.data.error.description].filter(Boolean).join(': ') : undefined;
      },
      onFailure: (res) => res.status === 404 && this.ids.clear(),
    });
  }

  protected content(r: IkRecord): string {
    return r.target;
  }

  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<RecordSet<IkRecord>> {
    const host = name.toLowerCase().replace(/\.$/, '');
    const { domain, id } = await this.domainOf(host, signal);
    const sub = relativeName(host, domain) || '@';
    const path = `/1/domain/${id}/dns/record`;
    const o = { subject: name, signal };
    const all = this.api.parse(Ok(z.array(IkRecord)), await this.api.call('GET', path, o)).data;
    const fqdn = (r: IkRecord) => (r.source_idn ?? (r.source === '@' ? domain : `${r.source}.${domain}`)).toLowerCase();
    return {
      records: all.filter((r) => r.type === type && fqdn(r).replace(/\.$/, '') === host),
      create: (target) =>
        this.api.call('POST', path, { ...o, body: { source: sub, type, target, ttl: createTtl(type, this.s.ttl) } }),
      edit: (r, target) =>
        this.api.call('PUT', `${path}/${r.id}`, {
          ...o,
          body: { source: r.source, type: r.type, target, ...(r.ttl ? { ttl: r.ttl } : {}) },
        }),
      remove: (r) => this.api.call('DELETE', `${path}/${r.id}`, o),
    };
  }

  /** The account's domain of `host` (the longest that ends it) and its product id; fatal (host) when none. */
  private async domainOf(host: string, signal?: AbortSignal): Promise<{ domain: string; id: string }> {
    const candidates = zoneCandidates(host).filter((c) => !this.s.domain || c === this.s.domain);
    for (const c of candidates) {
      let id = this.ids.get(c);
      if (id === undefined) {
        const q = new URLSearchParams({ service_name: 'domain', customer_name: c });
        const res = await this.api.call('GET', `/1/product?${q.toString()}`, { subject: host, signal });
        const products = this.api.parse(Ok(z.array(z.object({ id: Id, customer_name: z.string() }))), res).data;
        const found = products.find((p) => p.customer_name.toLowerCase() === c);
        if (found) this.ids.set(c, (id = String(found.id)));
      }
      if (id !== undefined) return { domain: c, id };
    }
    const where = this.s.domain
      ? say('kit.account_domain', "the account's domain __domain__", { domain: this.s.domain })
      : say('infomaniak.any_domain', 'any domain of this Infomaniak account');
    throw this.api.notOwned(
      host,
      where,
      say('infomaniak.check_domain', 'add the domain to the account in the Infomaniak Manager, or check the name'),
    );
  }
}

export const definition: ProviderDefinition<typeof infomaniakSettings> = {
  id: 'infomaniak',
  label: 'Infomaniak',
  settings: infomaniakSettings,
  fields: [
    {
      key: 'token',
      label: 'API token',
      kind: 'password',
      required: true,
      help: 'Create it at manager.infomaniak.com › API tokens with the scope Domain and nothing else.',
    },
    ...zoneFields({ provider: 'Infomaniak', foundFrom: 'the name', ttl: TTL, endpoint: INFOMANIAK_ENDPOINT }),
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://developer.infomaniak.com/getting-started',
  create: (settings, env) => new InfomaniakProvider(checkSettings(infomaniakSettings, 'Infomaniak', settings), env),
};
