/**
 * A local Vultr API v2 (DNS domains and records), on 127.0.0.1, answering as documented at
 * https://www.vultr.com/api/#tag/dns:
 * - `GET /v2/domains` lists `{domains:[{domain, date_created, dns_sec}], meta:{total, links:{next,
 *   prev}}}`: cursor pagination (`per_page` ≤ 500, `cursor` = the `next` of the previous page,
 *   `""` on the last);
 * - `GET /v2/domains/{d}/records` lists `{records:[{id, type, name, data, priority, ttl}], meta}`
 *   (`name` relative to the domain, `""` for the apex; ids are UUIDs); `POST` creates (201
 *   `{record}`), `PATCH …/{id}` changes only the attributes sent (204), `DELETE` answers 204;
 * - errors `{"error": "…", "status": n}`: 401 for a bad key (or an address its Access Control
 *   refuses), 404 for an unknown domain or record, 400 for a bad value;
 * - https://docs.vultr.com/support/platform/api/what-rate-limits-apply-to-the-vultr-api: 429 above
 *   30 requests per second.
 *
 *   const v = await startVultr({ token, domains: { 'example.com': [] } });
 *   // endpoint: `${v.url}/v2`; then v.requests, v.find('home.example.com', 'A')
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import { startFaultyServer } from './rest';
import { badAddress, jsonBody, recordStore, type RecordsContract } from './rest-records';

export interface VultrRecord {
  id: string;
  type: string;
  name: string;
  data: string;
  priority: number;
  ttl: number;
}

export type VultrContract = RecordsContract<VultrRecord>;

export async function startVultr(opts: {
  token: string;
  domains: Record<string, Array<Partial<VultrRecord> & { type: string; name: string; data: string }>>;
}): Promise<VultrContract> {
  const store = recordStore(opts.domains, (r): VultrRecord => ({ id: randomUUID(), priority: -1, ttl: 300, ...r }));
  const { records } = store;
  const err = (res: http.ServerResponse, status: number, error: string) => json(res, { error, status }, status);
  const noContent = (res: http.ServerResponse) => {
    res.writeHead(204);
    res.end();
  };
  /** One cursor page of `all` (the cursor is the index of the next item, base64 as Vultr's are opaque). */
  const page = <T>(req: RecordedRequest, key: string, all: T[]) => {
    const per = Math.min(500, Number(req.query.get('per_page') ?? 100));
    const from = Number(Buffer.from(req.query.get('cursor') ?? '', 'base64').toString() || 0);
    const next = from + per < all.length ? Buffer.from(String(from + per)).toString('base64') : '';
    return { [key]: all.slice(from, from + per), meta: { total: all.length, links: { next, prev: '' } } };
  };

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.headers.authorization !== `Bearer ${opts.token}`) return err(res, 401, 'Invalid API token.');
    const path = req.path.replace(/^\/v2/, '');
    if (path === '/domains' && req.method === 'GET')
      return json(
        res,
        page(
          req,
          'domains',
          [...records.keys()].map((domain) => ({
            domain,
            date_created: '2024-01-01T00:00:00+00:00',
            dns_sec: 'disabled',
          })),
        ),
      );
    const m = /^\/domains\/([^/]+)\/records(?:\/([^/]+))?$/.exec(path);
    const list = m ? records.get(m[1]) : undefined;
    if (!m || !list) return err(res, 404, 'Domain not found.');
    const rec = m[2] ? list.find((r) => r.id === m[2]) : undefined;
    if (m[2] && !rec) return err(res, 404, 'Record not found.');
    const body = jsonBody<VultrRecord>(req);
    if (!body) return err(res, 400, 'Invalid JSON.');
    const invalid = (type: string | undefined, data: string | undefined) =>
      badAddress(type, data) || (type === 'TXT' && !/^".*"$/.test(data ?? ''));
    switch (req.method) {
      case 'GET':
        return rec ? json(res, { record: rec }) : json(res, page(req, 'records', list));
      case 'POST': {
        if (rec) return err(res, 405, 'Method not allowed.');
        if (!body.type || body.name === undefined || invalid(body.type, body.data))
          return err(res, 400, 'Unable to create record: Invalid record data.');
        const created: VultrRecord = { id: randomUUID(), priority: -1, ttl: 300, ...body } as VultrRecord;
        list.push(created);
        return json(res, { record: created }, 201);
      }
      case 'PATCH': {
        if (!rec) return err(res, 405, 'Method not allowed.');
        if (body.data !== undefined && invalid(rec.type, body.data))
          return err(res, 400, 'Unable to update record: Invalid record data.');
        Object.assign(rec, body, { id: rec.id, type: rec.type });
        return noContent(res);
      }
      case 'DELETE': {
        if (!rec) return err(res, 405, 'Method not allowed.');
        list.splice(list.indexOf(rec), 1);
        return noContent(res);
      }
      default:
        return err(res, 405, 'Method not allowed.');
    }
  };
  return { ...store, ...(await startFaultyServer(answer)) };
}
