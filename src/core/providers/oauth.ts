/**
 * OAuth 2.0 access tokens for the cloud providers (Google Cloud DNS, Azure DNS): one POST of a form
 * to the token endpoint (RFC 6749 §4.4 client credentials; RFC 7523 JWT bearer assertion), the
 * answer `{access_token, expires_in, token_type}` kept until a minute before it expires. An error
 * answer `{error, error_description}` (RFC 6749 §5.2) is the credentials' fault: fatal for the
 * account, with the provider's hint; 429, 5xx and answers that are not JSON are transient.
 * `oauthApi` builds such a provider's API with its token, `oauthAccount` its TTL and address settings.
 */
import { z } from 'zod';
import { fatal, say, type DdnsError, type Sentence } from '../errors';
import { Redactor } from '../redact';
import {
  apiEndpoint,
  jsonRequest,
  type JsonResponse,
  notJsonFault,
  notOwnedError,
  optionalEndpoint,
  restFailure,
  ttlSetting,
} from './kit';
import { addressField, ttlField } from './rrset';
import type { ProviderEnv, ProviderField } from './types';

const TokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().optional() });
const TokenError = z.object({ error: z.string(), error_description: z.string().optional() });

export interface OAuthTokenOptions {
  /** The provider's name in messages. */
  name: string;
  /** Prefix of error codes, e.g. `gcloud`. */
  code: string;
  url: string;
  /** The form of one token request (built anew each time: a JWT assertion is short-lived). */
  form(): Record<string, string>;
  /** What the user does about refused credentials. */
  hint: string | Sentence;
  env: ProviderEnv;
  /** The account's secrets (the token and the form's values are added). */
  secrets: string[];
}

export class OAuthToken implements TokenSource {
  private token?: { value: string; until: number };
  /** Redacts the account's secrets and the current token. */
  redactor: Redactor;

  constructor(private readonly o: OAuthTokenOptions) {
    this.redactor = new Redactor(o.secrets);
  }

  /** A valid access token: the one held, or a new one. */
  async get(signal?: AbortSignal): Promise<string> {
    if (this.token && Date.now() < this.token.until) return this.token.value;
    const form = this.o.form();
    const redactor = new Redactor([...this.o.secrets, ...Object.values(form).filter((v) => v.length >= 16)]);
    const res = await jsonRequest(
      { name: this.o.name, redactor, env: this.o.env, maxBodyBytes: 64 * 1024 },
      {
        url: this.o.url,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
        signal,
      },
    );
    if (res.status >= 200 && res.status < 300) {
      const ok = TokenAnswer.safeParse(res.json);
      if (!ok.success) throw notJsonFault(res, { name: this.o.name, redactor, scope: 'account' });
      const life = (ok.data.expires_in ?? 3600) * 1000;
      this.token = { value: ok.data.access_token, until: Date.now() + Math.max(life - 60_000, life / 2) };
      this.redactor = new Redactor([...this.o.secrets, ok.data.access_token]);
      return ok.data.access_token;
    }
    const e = TokenError.safeParse(res.json);
    if (e.success && res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) {
      const said = redactor.text(`${e.data.error}${e.data.error_description ? `: ${e.data.error_description}` : ''}`);
      throw redactor.error(
        fatal(
          say('oauth.refused', '__name__ refused the credentials (__said__): __hint__', {
            name: this.o.name,
            said: said.slice(0, 300),
            hint: this.o.hint,
          }),
          {
            code: `${this.o.code}_auth`,
            scope: 'account',
            detail: redactor.text(res.body).slice(0, 300),
          },
        ),
      );
    }
    throw notJsonFault(res, { name: this.o.name, redactor, scope: 'account' });
  }

  /** Drop the token held (the API refused it): the next call gets a new one. */
  forget(): void {
    this.token = undefined;
  }
}

/** Where an API's credential comes from: an OAuth token (renewed), or a static API key. */
export interface TokenSource {
  get(signal?: AbortSignal): Promise<string>;
  /** Drop the credential held (the API refused it); absent for a static key (nothing to renew). */
  forget?(): void;
  /** Redacts the account's secrets and the credential. */
  readonly redactor: Redactor;
}

/** A static API key as a TokenSource. */
export function staticKey(key: string): TokenSource {
  return { get: () => Promise.resolve(key), redactor: new Redactor([key]) };
}

export interface OAuthApiOptions {
  /** The provider's name in messages. */
  name: string;
  /** Prefix of error codes, e.g. `azure`. */
  code: string;
  /** The API base URL. */
  base: string;
  /** What the user does about refused credentials or rights (in 401/403 messages). */
  tokenHint: string | Sentence;
  /** Whose problem a 403 is. */
  forbiddenScope: 'account' | 'host';
  /** The API's own words in an error answer; undefined when it is not its error JSON. */
  said(json: unknown): string | undefined;
  /** Called with every failed answer before it is classified (e.g. to forget cached zones on 404). */
  onFailure?(res: JsonResponse): void;
  env: ProviderEnv;
  /** The request headers that carry the credential (default `Authorization: Bearer <token>`). */
  authHeaders?(token: string): Record<string, string>;
}

/**
 * A JSON API called with a credential of a TokenSource (default `Authorization: Bearer`): an OAuth
 * token is renewed once when the API answers 401 (it may have been revoked or expired early);
 * failures in the kit's words (`restFailure`), redacted of the account's secrets and the credential.
 */
export class OAuthApi {
  private readonly base: string;

  constructor(
    private readonly token: TokenSource,
    private readonly o: OAuthApiOptions,
  ) {
    this.base = o.base.replace(/\/+$/, '');
  }

  /** One request about `subject`; a 2xx answer (or a JSON 404 with `missingIsAnswer`) is returned, anything else thrown. */
  async call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    o: {
      body?: object;
      headers?: Record<string, string>;
      subject: string;
      signal?: AbortSignal;
      missingIsAnswer?: boolean;
    },
  ): Promise<JsonResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token.get(o.signal);
      const redactor = this.token.redactor;
      const res = await jsonRequest(
        { name: this.o.name, redactor, env: this.o.env, maxBodyBytes: 512 * 1024 },
        {
          url: `${this.base}${path}`,
          method,
          headers: { ...o.headers, ...(this.o.authHeaders?.(token) ?? { authorization: `Bearer ${token}` }) },
          body: o.body,
          signal: o.signal,
        },
      );
      if (res.status >= 200 && res.status < 300) return res;
      if (o.missingIsAnswer && res.status === 404 && res.json !== undefined) return res;
      if (res.status === 401 && attempt === 0 && this.token.forget) {
        this.token.forget();
        continue;
      }
      this.o.onFailure?.(res);
      const said = this.o.said(res.json);
      throw restFailure(res, {
        name: this.o.name,
        code: this.o.code,
        said: said === undefined ? undefined : redactor.text(said).slice(0, 300),
        tokenHint: this.o.tokenHint,
        subject: o.subject,
        forbiddenScope: this.o.forbiddenScope,
        redactor,
      });
    }
  }

  /** The answer read with `schema`, or the transient error of an answer that is not the API's. */
  parse<S extends z.ZodType>(schema: S, res: JsonResponse): z.infer<S> {
    const r = schema.safeParse(res.json);
    if (!r.success) throw notJsonFault(res, { name: this.o.name, redactor: this.token.redactor });
    return r.data;
  }

  /** The fatal error of a name in none of the account's zones. */
  notOwned(host: string, where: string | Sentence, hint: string | Sentence): DdnsError {
    return notOwnedError(this.token.redactor, `${this.o.code}_not_owned`, host, where, hint);
  }
}

/**
 * The API of a provider that signs in with OAuth and the token it is called with, alike in code,
 * environment and hint (what the user does about refused credentials or rights): `token` says how
 * the token is asked for (its `name` in messages, default the API's).
 */
export function oauthApi(
  o: Omit<OAuthApiOptions, 'tokenHint'> & {
    hint: string | Sentence;
    token: Pick<OAuthTokenOptions, 'url' | 'form' | 'secrets'> & { name?: string };
  },
): OAuthApi {
  const { hint, token, ...api } = o;
  const source = new OAuthToken({ name: api.name, code: api.code, env: api.env, hint, ...token });
  return new OAuthApi(source, { ...api, tokenHint: hint });
}

/**
 * What the account of an OAuth zone provider (Azure DNS, Google Cloud DNS) has besides its
 * credentials and zone, from one description: the TTL of the records it creates (1 s to `maxTtl`,
 * 300 by default), the API address and the sign-in address (setting `signIn.key`: a login host or a
 * token URL), each empty for the provider's own. `shape` is their settings, `fields` their dialog
 * fields, `urls` an account's addresses with the provider's own for those left empty.
 */
export function oauthAccount<K extends string>(o: {
  provider: string;
  maxTtl: number;
  api: { url: string; help: string };
  signIn: { key: K; label: string; url: string; help: string; error: string };
}) {
  const signIn = { [o.signIn.key]: optionalEndpoint(o.signIn.error) } as Record<K, ReturnType<typeof optionalEndpoint>>;
  const fields: ProviderField[] = [
    ttlField(300),
    addressField('endpoint', 'API address', o.api.url, o.api.help),
    addressField(o.signIn.key, o.signIn.label, o.signIn.url, o.signIn.help),
  ];
  return {
    shape: { ttl: ttlSetting(o.provider, 1, o.maxTtl, 300), endpoint: apiEndpoint(), ...signIn },
    fields,
    urls: (s: { endpoint?: string } & Partial<Record<K, string>>) => ({
      api: s.endpoint ?? o.api.url,
      signIn: s[o.signIn.key] ?? o.signIn.url,
    }),
  };
}
