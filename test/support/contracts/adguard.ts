/**
 * A local AdGuard Home HTTP API (rewrites), on 127.0.0.1, answering as documented in
 * https://github.com/AdguardTeam/AdGuardHome/blob/master/openapi/openapi.yaml (RewriteEntry
 * `{domain, answer, enabled}`, RewriteUpdate `{target, update}`) and openapi/CHANGELOG.md
 * (`PUT /control/rewrite/update` since v0.107.33):
 * - HTTP Basic authentication; none or a wrong one: 401 `Unauthorized` (text);
 * - `GET /control/rewrite/list` → JSON array of RewriteEntry;
 * - `POST /control/rewrite/add` / `POST /control/rewrite/delete` with a RewriteEntry → 200 `OK`
 *   (an answer that is neither an address nor a name: 400 with the reason, as text);
 * - `PUT /control/rewrite/update` → 200; a target that is not a rewrite: 400 `rewrite not found`.
 *
 *   const a = await startAdguard({ username, password, rewrites: [] });
 *   // endpoint: a.url; a.rewrites
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, text, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface AdguardRewrite {
  domain: string;
  answer: string;
  enabled?: boolean;
}

export interface AdguardContract {
  url: string;
  requests: RecordedRequest[];
  rewrites: AdguardRewrite[];
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

export async function startAdguard(opts: {
  username: string;
  password: string;
  rewrites?: AdguardRewrite[];
}): Promise<AdguardContract> {
  const rewrites: AdguardRewrite[] = (opts.rewrites ?? []).map((r) => ({ enabled: true, ...r }));
  const same = (a: AdguardRewrite, b: Partial<AdguardRewrite>) => a.domain === b.domain && a.answer === b.answer;
  const valid = (r: Partial<AdguardRewrite>) =>
    typeof r.domain === 'string' &&
    typeof r.answer === 'string' &&
    (isIP(r.answer) !== 0 || /^[a-z0-9.-]+$/i.test(r.answer) || r.answer === 'A' || r.answer === 'AAAA');

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.basic?.user !== opts.username || req.basic.password !== opts.password)
      return text(res, 'Unauthorized\n', 401, { 'www-authenticate': 'Basic realm="Restricted"' });
    if (req.path === '/control/rewrite/list' && req.method === 'GET') return json(res, rewrites);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return text(res, 'json.Decode: invalid character\n', 400);
    }
    if (req.path === '/control/rewrite/add' && req.method === 'POST') {
      const r = body as Partial<AdguardRewrite>;
      if (!valid(r)) return text(res, `validating rewrite: invalid answer "${String(r.answer)}"\n`, 400);
      rewrites.push({ domain: r.domain!, answer: r.answer!, enabled: r.enabled ?? true });
      return text(res, 'OK\n');
    }
    if (req.path === '/control/rewrite/delete' && req.method === 'POST') {
      const i = rewrites.findIndex((x) => same(x, body as Partial<AdguardRewrite>));
      if (i >= 0) rewrites.splice(i, 1);
      return text(res, 'OK\n');
    }
    if (req.path === '/control/rewrite/update' && req.method === 'PUT') {
      const { target, update } = body as { target?: Partial<AdguardRewrite>; update?: Partial<AdguardRewrite> };
      const i = target ? rewrites.findIndex((x) => same(x, target)) : -1;
      if (i < 0) return text(res, 'rewrite not found\n', 400);
      if (!update || !valid(update)) return text(res, 'validating rewrite: invalid answer\n', 400);
      rewrites[i] = { domain: update.domain!, answer: update.answer!, enabled: update.enabled ?? rewrites[i].enabled };
      return text(res, 'OK\n');
    }
    return text(res, '404 page not found\n', 404);
  };
  return Object.assign({ rewrites }, await startFaultyServer(answer));
}
