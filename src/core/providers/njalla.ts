/**
 * Njalla, JSON-RPC API 1 (https://njal.la/api/: methods `list-domains`, `list-records`,
 * `add-record`, `edit-record`, `remove-record`; tokens: https://njal.la/settings/api/).
 *
 * - Every call is a `POST https://njal.la/api/1/` of `{"jsonrpc":"2.0","id","method","params"}`
 *   with `Authorization: Njalla <token>`; the answer is HTTP 200 with `result` or `error: {code,
 *   message}` (a wrong token: code 403 "Invalid token."; lego's client reads `Error` with any case).
 *   A token may be limited to some domains and to the addresses it is used from.
 * - The domain of a name: `list-domains` (read once and remembered), the longest that ends it.
 * - Read first: `list-records {domain}` (records `{id, name, type, content, ttl}`, `name` `@` for
 *   the apex); records are kept by id: one is edited with `edit-record {domain, id, content}`
 *   (the TTL stays the user's), further ones of that type are removed, one is added with the
 *   account's TTL (Njalla accepts 60, 300, 900, 3600, 10800, 21600, 86400) when there is none.
 * - TXT (ACME DNS-01): its own record (the value unquoted) is added and removed by id; the other TXT
 *   values of the name stay.
 */
import { z } from 'zod';
import { fatal, say } from '../errors';
import {
  accountApi,
  checkSettings,
  type DomainList,
  excerpt,
  type TokenApi,
  tokenScheme,
  withDomains,
  zoneSettingsShape,
} from './kit';
import { createTtl, RecordsById, roundUpTtl, type RecordSet } from './kit-rest2';
import type { ProviderDefinition, ProviderEnv } from './types';
import { phrase } from '../said';

export const NJALLA_ENDPOINT = 'https://njal.la/api/1/';
const TTLS = [60, 300, 900, 3600, 10800, 21600, 86400];
const TOKEN = tokenScheme('Njalla');
const TOKEN_HINT = say('njalla.hint', 'create an API token at njal.la › Settings › API, limited to this domain');

export const njallaSettings = z.object({
  token: TOKEN.setting(phrase('njalla.enter_njalla_api_token', 'Enter the Njalla API token.')),
  ...zoneSettingsShape('Njalla', { min: 60, max: 86_400, def: 300 }),
});
export type NjallaSettings = z.infer<typeof njallaSettings>;

const NjallaRecord = z.object({ id: z.coerce.string(), name: z.string(), type: z.string(), content: z.string() });
type NjallaRecord = z.infer<typeof NjallaRecord>;
const RpcError = z.object({ code: z.coerce.number().optional(), message: z.string() });

class NjallaProvider extends RecordsById<NjallaRecord> {
  readonly id = 'njalla';
  protected readonly label = 'Njalla';
  private readonly api: TokenApi;
  private readonly domains: DomainList;
  private seq = 0;

  constructor(
    private readonly s: NjallaSettings,
    env: ProviderEnv,
  ) {
    super();
    // Njalla answers every call HTTP 200, its errors inside: the domains are not forgotten on a 404.
    ({ api: this.api, domains: this.domains } = withDomains(
      () =>
        accountApi(s, env, {
          name: 'Njalla',
          code: 'njalla',
          endpoint: NJALLA_ENDPOINT,
          authorization: TOKEN.authorization,
          tokenHint: TOKEN_HINT,
          forbiddenScope: 'account',
          said: (json) => rpcError(json)?.message,
        }),
      {
        fixed: s.domain,
        account: say('njalla.any_domain', 'any domain this Njalla token can manage'),
        hint: say('njalla.check_token', 'check the name, and that the token covers the domain'),
        read: async (signal) => {
          const r = await this.rpc('list-domains', {}, 'the domain list', signal);
          return this.api
            .parse(z.object({ domains: z.array(z.object({ name: z.string() })) }), r)
            .domains.map((d) => d.name);
        },
      },
    ));
  }

  protected content(r: NjallaRecord): string {
    return r.content;
  }

  protected async lookup(name: string, type: string, signal?: AbortSignal): Promise<RecordSet<NjallaRecord>> {
    const { domain, sub } = await this.domains.require(name, signal);
    const listed = await this.rpc('list-records', { domain }, name, signal);
    const all = this.api.parse(z.object({ records: z.array(NjallaRecord) }), listed).records;
    const rel = sub || '@';
    const ttl = roundUpTtl(TTLS, createTtl(type, this.s.ttl));
    return {
      records: all.filter((r) => r.type === type && r.name.toLowerCase() === rel),
      create: (content) => this.rpc('add-record', { domain, type, name: rel, content, ttl }, name, signal),
      edit: (r, content) => this.rpc('edit-record', { domain, id: r.id, content }, name, signal),
      remove: (r) => this.rpc('remove-record', { domain, id: r.id }, name, signal),
    };
  }

  /** One JSON-RPC call: its `result` (as a JsonResponse for parsing), or its `error` thrown. */
  private async rpc(method: string, params: object, subject: string, signal?: AbortSignal) {
    const body = { jsonrpc: '2.0', id: String(++this.seq), method, params };
    const res = await this.api.call('POST', '/', { body, subject, signal });
    const err = rpcError(res.json);
    if (err) {
      const words = this.api.redactor.text(err.message);
      const detail = excerpt(res.body, this.api.redactor);
      // Code 403 is both "Invalid token." and a domain the token may not manage: the words decide.
      const auth = err.code === 401 || /token|auth/i.test(err.message);
      throw this.api.redactor.error(
        auth
          ? fatal(
              say('njalla.auth', 'Njalla refused the token (__said__): __hint__', { said: words, hint: TOKEN_HINT }),
              {
                code: 'njalla_auth',
                scope: 'account',
                detail,
              },
            )
          : fatal(
              say('njalla.refused', 'Njalla refused __method__ for __subject__ (__said__)', {
                method,
                subject,
                said: words,
              }),
              {
                code: 'njalla_refused',
                scope: 'host',
                detail,
              },
            ),
      );
    }
    const result = z.object({ result: z.unknown() }).safeParse(res.json);
    return { ...res, json: result.success ? result.data.result : undefined };
  }
}

/** A JSON-RPC answer's error (`error`, or `Error` as lego's fixtures spell it), when it is one. */
function rpcError(json: unknown): z.infer<typeof RpcError> | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as Record<string, unknown>;
  const e = RpcError.safeParse(o.error ?? o.Error);
  return e.success ? e.data : undefined;
}

export const definition: ProviderDefinition<typeof njallaSettings> = {
  id: 'njalla',
  label: 'Njalla',
  settings: njallaSettings,
  fields: [
    {
      key: 'token',
      label: 'API token',
      kind: 'password',
      required: true,
      help: 'Create it at njal.la › Settings › API; limit it to this domain and, if you can, to your address.',
    },
    {
      key: 'domain',
      label: 'Domain',
      kind: 'text',
      placeholder: 'example.com',
      help: 'Optional: the domain. Left empty, it is found from the domains the token can manage.',
    },
    {
      key: 'ttl',
      label: 'TTL of new records',
      kind: 'number',
      default: 300,
      help: 'Seconds, rounded up to one Njalla accepts (60, 300, 900, 3600 …). Records that already exist keep their own TTL.',
    },
    {
      key: 'endpoint',
      label: 'API address',
      kind: 'url',
      placeholder: NJALLA_ENDPOINT,
      advanced: true,
      help: 'Leave empty for Njalla itself; change only for testing.',
    },
  ],
  txt: true,
  group: 'registrar',
  docsUrl: 'https://njal.la/api/',
  create: (settings, env) => new NjallaProvider(checkSettings(njallaSettings, 'Njalla', settings), env),
};
