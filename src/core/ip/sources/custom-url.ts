/**
 * A user's own address service or router status page, over HTTP(S):
 * - `text`: the body is the address (whitespace around it allowed);
 * - `json`: the address is the string at a dot path such as `data.ip` or `items.0.ip`;
 * - `regex`: the first capture group of a regular expression (or the whole match).
 * `family` says which lookups the URL can answer: `any` means it answers with the family it
 * was reached over (a dual-stack service), so the same URL serves both lookups.
 *
 * The regular expression is the user's and the body comes from the network: a pattern with
 * catastrophic backtracking (`^(a+)+$` on `aaaa…!`) would block Node-RED's only thread for
 * seconds or for ever. So the pattern runs in a `node:vm` context with a time limit
 * (REGEX_TIMEOUT_MS) and sees only the first REGEX_INPUT_CAP characters of the body.
 */
import vm from 'node:vm';
import { z } from 'zod';
import { badInput, say, transient } from '../../errors';
import { excerpt } from '../../http';
import type { Family } from '../../address';
import type { IpSource, SourceAnswer, SourceContext } from '../types';
import { PLAIN_BODY_CAP, getOverFamily, hostOf, refuseHtml } from './common';

export interface CustomSourceOptions {
  url: string;
  format?: 'text' | 'json' | 'regex';
  jsonPath?: string;
  regex?: string;
  family?: Family | 'any';
}

/** JSON and regex answers may be whole status pages: a larger, still small, cap. */
const STRUCTURED_BODY_CAP = 64 * 1024;

/** How long one match may run before it is abandoned (a real pattern on 16 KiB takes well under 1 ms). */
export const REGEX_TIMEOUT_MS = 150;

/** The pattern sees only the first 16 KiB (characters) of the body. */
export const REGEX_INPUT_CAP = 16 * 1024;

/** A compiled check of a pattern, with the engine's reason when it is not valid. */
export function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The match script: the first capture group, else the whole match, else null. Only strings leave the context. */
const MATCH_SCRIPT = new vm.Script(
  '(function () { var m = re.exec(body); return m === null ? null : String(m[1] !== undefined ? m[1] : m[0]); })()',
  {
    filename: 'custom-source-regex.vm',
  },
);

/**
 * A matcher for `pattern` that cannot block the process: each call runs in its own `vm` context
 * with a `timeoutMs` limit on the first `inputCap` characters of the text. Resolves to the first
 * group (or the whole match) or null; throws a transient `regex_timeout` DdnsError when the
 * limit is hit. An invalid pattern is refused here, at configuration time.
 */
export function boundedMatcher(
  pattern: string,
  timeoutMs = REGEX_TIMEOUT_MS,
  inputCap = REGEX_INPUT_CAP,
): (text: string) => string | null {
  const problem = regexProblem(pattern);
  if (problem !== undefined)
    throw badInput(
      say('ip.regex_invalid', 'the regular expression of the custom URL source is not valid: __problem__', {
        problem,
      }),
      'invalid_regex',
    );
  const sandbox = vm.createContext(Object.assign(Object.create(null) as object, { pattern, body: '' }));
  vm.runInContext('var re = new RegExp(pattern);', sandbox);
  return (text) => {
    (sandbox as { body: string }).body = text.length > inputCap ? text.slice(0, inputCap) : text;
    try {
      return MATCH_SCRIPT.runInContext(sandbox, { timeout: timeoutMs }) as string | null;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        throw transient(
          say(
            'ip.regex_timeout',
            'the regular expression took longer than __ms__ ms on the answer and was stopped: simplify the pattern (avoid nested repetition such as (a+)+)',
            { ms: timeoutMs },
          ),
          { code: 'regex_timeout', cause: e },
        );
      }
      throw e;
    } finally {
      (sandbox as { body: string }).body = '';
    }
  };
}

/** The value at a dot path (`a.b.0.c`, `a.b[0].c`), or undefined. */
export function pick(value: unknown, path: string): unknown {
  const keys = path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((k) => k !== '');
  let cur: unknown = value;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export function customUrlSource(opts: CustomSourceOptions): IpSource {
  const format = opts.format ?? 'text';
  const family = opts.family ?? 'any';
  const host = hostOf(opts.url);
  const match = format === 'regex' ? boundedMatcher(opts.regex ?? '') : undefined;
  const jsonPath = opts.jsonPath ?? '';
  return {
    id: 'custom',
    label: `custom URL (${host})`,
    families: family === 'any' ? ['ipv4', 'ipv6'] : [family],
    kind: 'external',
    async lookup(ctx: SourceContext): Promise<SourceAnswer> {
      const res = await getOverFamily(opts.url, ctx, format === 'text' ? PLAIN_BODY_CAP : STRUCTURED_BODY_CAP);
      const info = { host };
      if (format === 'text') {
        refuseHtml(opts.url, res.body, ctx);
        return { address: res.body.trim(), info };
      }
      if (format === 'json') {
        let doc: unknown;
        try {
          doc = JSON.parse(res.body);
        } catch {
          throw transient(
            say('ip.not_json', '__host__ did not answer with JSON: __answer__', {
              host,
              answer: excerpt(res.body, ctx.redactor, 80),
            }),
            { code: 'not_json' },
          );
        }
        const value = z.string().safeParse(pick(doc, jsonPath));
        if (!value.success) {
          throw transient(
            say('ip.json_path_missing', 'the JSON answer of __host__ has no text at "__path__": __answer__', {
              host,
              path: jsonPath,
              answer: excerpt(res.body, ctx.redactor, 80),
            }),
            {
              code: 'json_path_missing',
            },
          );
        }
        return { address: value.data.trim(), info };
      }
      const found = match!(res.body);
      if (found === null)
        throw transient(
          say('ip.regex_no_match', 'the answer of __host__ does not match the regular expression: __answer__', {
            host,
            answer: excerpt(res.body, ctx.redactor, 80),
          }),
          { code: 'regex_no_match' },
        );
      return { address: found.trim(), info };
    },
  };
}
