/**
 * A user's own address service or router status page, over HTTP(S):
 * - `text`: the body is the address (whitespace around it allowed);
 * - `json`: the address is the string at a dot path such as `data.ip` or `items.0.ip`;
 * - `regex`: the first capture group of a regular expression (or the whole match).
 * `family` says which lookups the URL can answer: `any` means it answers with the family it
 * was reached over (a dual-stack service), so the same URL serves both lookups.
 */
import { z } from 'zod';
import { transient } from '../../errors';
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

/** The value at a dot path (`a.b.0.c`, `a.b[0].c`), or undefined. */
export function pick(value: unknown, path: string): unknown {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.').filter((k) => k !== '');
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
  const re = format === 'regex' ? new RegExp(opts.regex ?? '') : undefined;
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
          throw transient(`${host} did not answer with JSON: ${excerpt(res.body, ctx.redactor, 80)}`, { code: 'not_json' });
        }
        const value = z.string().safeParse(pick(doc, jsonPath));
        if (!value.success) {
          throw transient(`the JSON answer of ${host} has no text at "${jsonPath}": ${excerpt(res.body, ctx.redactor, 80)}`, {
            code: 'json_path_missing',
          });
        }
        return { address: value.data.trim(), info };
      }
      const m = re!.exec(res.body);
      if (!m) throw transient(`the answer of ${host} does not match the regular expression: ${excerpt(res.body, ctx.redactor, 80)}`, { code: 'regex_no_match' });
      return { address: (m[1] ?? m[0]).trim(), info };
    },
  };
}
