/**
 * A local Linode API v4 (DNS Manager domains and records), on 127.0.0.1, answering as documented:
 * - https://techdocs.akamai.com/linode-api/reference/get-domains: `GET /v4/domains` pages
 *   `{data:[{id, domain, type, status, soa_email, ttl_sec …}], page, pages, results}` (`page`,
 *   `page_size` 25–500);
 * - https://techdocs.akamai.com/linode-api/reference/get-domain-records: `GET
 *   /v4/domains/{id}/records` pages `{data:[{id, type, name, target, ttl_sec, priority, weight,
 *   port, service, protocol, tag}] …}` (`name` relative to the domain, `""` for the apex);
 *   `POST` creates (200, the record), `PUT …/{rid}` changes only the fields sent
 *   (https://techdocs.akamai.com/linode-api/reference/put-domain-record), `DELETE` answers 200 `{}`;
 * - https://techdocs.akamai.com/linode-api/reference/errors: `{"errors":[{"reason", "field"?}]}`,
 *   401 "Invalid Token", 403 "Unauthorized" (a token without the domains scope), 404 "Not found",
 *   400 for a bad field; https://techdocs.akamai.com/linode-api/reference/rate-limits: 429.
 *
 *   const lin = await startLinode({ token, domains: { 'example.com': [] } });
 *   // endpoint: `${lin.url}/v4`; then lin.requests, lin.find('home.example.com', 'A')
 */
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import { startFaultyServer } from './rest';
import { badAddress, jsonBody, recordStore, type RecordsContract } from './rest-records';

export interface LinodeRecord {
  id: number;
  type: string;
  name: string;
  target: string;
  ttl_sec: number;
  priority: number;
  weight: number;
  port: number;
  service: string | null;
  protocol: string | null;
  tag: string | null;
}

export type LinodeContract = RecordsContract<LinodeRecord>;

export async function startLinode(opts: {
  token: string;
  /** A token without the domains scope (every domain request answers 403). */
  unscopedToken?: string;
  domains: Record<string, Array<Partial<LinodeRecord> & { type: string; name: string; target: string }>>;
}): Promise<LinodeContract> {
  let nextId = 28_000_000;
  const ids = new Map<number, string>();
  const base = { ttl_sec: 0, priority: 0, weight: 0, port: 0, service: null, protocol: null, tag: null };
  const store = recordStore(opts.domains, (r): LinodeRecord => ({ ...base, id: nextId++, ...r }));
  const { records } = store;
  for (const d of records.keys()) ids.set(1_200_000 + ids.size, d);
  const err = (res: http.ServerResponse, status: number, reason: string, field?: string) =>
    json(res, { errors: [{ reason, ...(field ? { field } : {}) }] }, status);
  const page = <T>(req: RecordedRequest, all: T[]) => {
    const size = Number(req.query.get('page_size') ?? 100);
    const n = Number(req.query.get('page') ?? 1);
    return {
      data: all.slice((n - 1) * size, n * size),
      page: n,
      pages: Math.max(1, Math.ceil(all.length / size)),
      results: all.length,
    };
  };

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    const auth = req.headers.authorization;
    if (opts.unscopedToken !== undefined && auth === `Bearer ${opts.unscopedToken}`)
      return err(res, 403, 'Unauthorized');
    if (auth !== `Bearer ${opts.token}`) return err(res, 401, 'Invalid Token');
    const path = req.path.replace(/^\/v4/, '');
    if (path === '/domains' && req.method === 'GET')
      return json(
        res,
        page(
          req,
          [...ids.entries()].map(([id, domain]) => ({ id, domain, type: 'master', status: 'active', ttl_sec: 0 })),
        ),
      );
    const m = /^\/domains\/(\d+)\/records(?:\/(\d+))?$/.exec(path);
    const domain = m ? ids.get(Number(m[1])) : undefined;
    const list = domain ? records.get(domain) : undefined;
    if (!m || !list) return err(res, 404, 'Not found');
    const rec = m[2] ? list.find((r) => r.id === Number(m[2])) : undefined;
    if (m[2] && !rec) return err(res, 404, 'Not found');
    const body = jsonBody<LinodeRecord>(req);
    if (!body) return err(res, 400, 'Invalid JSON');
    switch (req.method) {
      case 'GET':
        return rec ? json(res, rec) : json(res, page(req, list));
      case 'POST': {
        if (rec) return err(res, 405, 'Method Not Allowed');
        if (!body.type || body.name === undefined || body.target === undefined || badAddress(body.type, body.target))
          return err(res, 400, 'Invalid target for record type', 'target');
        const created = { ...base, ...body, id: nextId++ } as LinodeRecord;
        list.push(created);
        return json(res, created);
      }
      case 'PUT': {
        if (!rec) return err(res, 405, 'Method Not Allowed');
        if (body.target !== undefined && badAddress(rec.type, body.target))
          return err(res, 400, 'Invalid target for record type', 'target');
        Object.assign(rec, body, { id: rec.id, type: rec.type });
        return json(res, rec);
      }
      case 'DELETE': {
        if (!rec) return err(res, 405, 'Method Not Allowed');
        list.splice(list.indexOf(rec), 1);
        return json(res, {});
      }
      default:
        return err(res, 405, 'Method Not Allowed');
    }
  };
  return { ...store, ...(await startFaultyServer(answer)) };
}
