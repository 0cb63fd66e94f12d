/**
 * The Cloudflare API v4 wire client: one call = one HTTP request with the Bearer token, its answer
 * checked against the envelope and the result schema (./models), and every failure turned into a
 * redacted DdnsError: authentication answers fatal for the account, 429 transient for the account
 * (Cloudflare blocks every call for five minutes), 5xx / unreadable answers / transport failures
 * transient (the kit's classifier), a 404 or "not found" code `cf_not_found` (cached ids are stale),
 * another refusal fatal for the name.
 */
import type { z } from 'zod';
import { fatal, say, transient, type Sentence } from '../../errors';
import type { HttpResponse } from '../../http';
import type { Redactor } from '../../redact';
import { serverWait } from '../../schedule';
import { excerpt, httpFault, providerRequest, transportError } from '../kit';
import type { ProviderEnv } from '../types';
import { allCodes, AUTH_CODES, describeErrors, Envelope, NOT_FOUND_CODES, type CfResultInfo } from './models';

/** Cloudflare blocks every call for five minutes once the rate limit is exceeded. */
export const RATE_LIMIT_BLOCK_MS = 5 * 60_000;
const MAX_BODY_BYTES = 256 * 1024;

export const PERMISSION_HINT = say(
  'cloudflare.permission_hint',
  'The token needs the permissions Zone · DNS · Edit and Zone · Zone · Read for this domain (the "Edit zone DNS" template in My Profile › API Tokens gives both).',
);

export interface CallOptions {
  query?: Record<string, string>;
  body?: object;
  signal?: AbortSignal;
}

export interface CallResult<T> {
  result: T;
  info?: CfResultInfo;
}

export class CloudflareClient {
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly redactor: Redactor,
    private readonly env: ProviderEnv = {},
  ) {}

  async call<S extends z.ZodType>(
    op: string | Sentence,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    schema: S,
    opts: CallOptions = {},
  ): Promise<CallResult<z.infer<S>>> {
    const qs = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
    let res: HttpResponse;
    try {
      res = await providerRequest(
        { redactor: this.redactor, env: this.env, maxBodyBytes: MAX_BODY_BYTES },
        {
          url: `${this.base}${path}${qs}`,
          method,
          headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
          body: opts.body,
          signal: opts.signal,
        },
      );
    } catch (e) {
      throw transportError(e, this.redactor, say('cloudflare.prefix', 'Cloudflare API, __op__: ', { op }));
    }
    return this.interpret(op, res, schema);
  }

  private interpret<S extends z.ZodType>(op: string | Sentence, res: HttpResponse, schema: S): CallResult<z.infer<S>> {
    const shown = () => excerpt(res.body, this.redactor);
    let env: z.infer<typeof Envelope> | undefined;
    try {
      const parsed = Envelope.safeParse(JSON.parse(res.body));
      if (parsed.success) env = parsed.data;
    } catch {
      env = undefined;
    }
    const errors = env?.errors ?? [];
    const codes = allCodes(errors);
    const said = errors.length ? describeErrors(errors) : `HTTP ${res.status}`;
    const fault = {
      name: 'Cloudflare',
      redactor: this.redactor,
      rateLimitCode: 'rate_limited',
      rateLimitWaitMs: RATE_LIMIT_BLOCK_MS,
      unreadableCode: 'cf_bad_answer',
    };

    if (res.status === 429) {
      throw httpFault(res, {
        ...fault,
        message: (f) =>
          say(
            'cloudflare.rate_limit',
            "Cloudflare's rate limit was reached (__said__) while __op__: Cloudflare blocks every call of this account for a while; next try in __s__ s",
            { said, op, s: Math.ceil(serverWait(f.retryAfterMs) / 1000) },
          ),
      });
    }
    const auth = codes.find((c) => AUTH_CODES.has(c));
    if (res.status === 401 || res.status === 403 || (auth !== undefined && res.status < 500)) {
      throw this.redactor.error(
        fatal(
          say('cloudflare.auth', '__problem__ __hint__', {
            problem: authProblem(codes, said, res.status),
            hint: PERMISSION_HINT,
          }),
          {
            code: errors[0] ? `cf_${errors[0].code}` : `http_${res.status}`,
            scope: 'account',
            detail: shown(),
          },
        ),
      );
    }
    if (res.status >= 500) {
      throw httpFault(res, {
        ...fault,
        message: (f) =>
          say('cloudflare.trouble', 'Cloudflare API is having trouble (HTTP __status__) while __op__: __said__', {
            status: f.status,
            op,
            said: env ? said : f.detail,
          }),
      });
    }
    if (!env) {
      throw httpFault(res, {
        ...fault,
        message: (f) =>
          say(
            'cloudflare.not_json',
            'Cloudflare sent an answer that is not its JSON envelope (HTTP __status__) while __op__: __detail__',
            { status: f.status, op, detail: f.detail },
          ),
      });
    }
    if (res.status === 404 || codes.some((c) => NOT_FOUND_CODES.has(c))) {
      throw transient(
        say('cloudflare.not_found', 'Cloudflare does not know the object while __op__ (__said__)', { op, said }),
        {
          code: 'cf_not_found',
          detail: shown(),
        },
      );
    }
    if (res.status >= 400) {
      throw fatal(say('cloudflare.refused', 'Cloudflare refused __op__: __said__', { op, said }), {
        code: errors[0] ? `cf_${errors[0].code}` : `http_${res.status}`,
        scope: 'host',
        detail: shown(),
      });
    }
    if (!env.success) {
      throw transient(
        say('cloudflare.failure', 'Cloudflare reported a failure (HTTP __status__) while __op__: __said__', {
          status: res.status,
          op,
          said,
        }),
        {
          code: 'cf_bad_answer',
          detail: shown(),
        },
      );
    }
    const result = schema.safeParse(env.result);
    if (!result.success) {
      throw transient(
        say('cloudflare.bad_shape', "Cloudflare's answer has an unexpected shape while __op__: __detail__", {
          op,
          detail: shown(),
        }),
        {
          code: 'cf_bad_answer',
          detail: shown(),
        },
      );
    }
    return { result: result.data, info: env.result_info ?? undefined };
  }
}

function authProblem(codes: number[], said: string, status: number): Sentence {
  if (codes.includes(9106)) return say('cloudflare.no_token', 'No API token reached Cloudflare (__said__).', { said });
  if (codes.includes(6111) || codes.includes(6003)) {
    return say(
      'cloudflare.malformed',
      'Cloudflare says the API token is malformed (__said__): paste the API token itself (not the Global API Key).',
      { said },
    );
  }
  if (codes.includes(9109))
    return say(
      'cloudflare.not_accepted',
      'Cloudflare does not accept this API token (__said__): it may have been deleted, rolled or mistyped.',
      { said },
    );
  if (status === 403)
    return say(
      'cloudflare.forbidden',
      'Cloudflare refused the API token (__said__): it lacks a permission for this domain, or it has expired.',
      { said },
    );
  return say(
    'cloudflare.token_refused',
    'Cloudflare refused the API token (__said__): it may have expired or been disabled.',
    {
      said,
    },
  );
}
