/**
 * A local DigitalOcean API v2 (domains and domain records), on 127.0.0.1, answering as documented:
 * - https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains: `GET /v2/domains` lists
 *   `{domains:[{name, ttl, zone_file}], links:{pages:{next?}}, meta:{total}}` (pages of `per_page`);
 * - https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records: `GET
 *   /v2/domains/{d}/records?type=&name=<fqdn>` (the name filter is the full name; records carry
 *   `name` relative to the domain, `@` for the apex), `POST` creates (201 `{domain_record}`),
 *   `PATCH …/{id}` changes only the attributes sent, `DELETE …/{id}` answers 204;
 * - errors `{"id":…, "message":…}`: 401 `unauthorized` "Unable to authenticate you", 403
 *   `forbidden` (a token without the domain scopes), 404 `not_found`, 422 `unprocessable_entity`;
 * - https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Rate-Limit: 429
 *   `too_many_requests` with `ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset` (epoch s).
 *
 *   const dig = await startDigitalocean({ token, domains: { 'example.com': [] } });
 *   // endpoint: `${dig.url}/v2`; then dig.requests, dig.find('home.example.com', 'A')
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface DoRecord {
  id: number;
  type: string;
  name: string;
  data: string;
  ttl: number;
  priority: number | null;
  port: number | null;
  weight: number | null;
  flags: number | null;
  tag: string | null;
}

export interface DigitaloceanContract {
  url: string;
  requests: RecordedRequest[];
  records: Map<string, DoRecord[]>;
  /** Records by full name and type. */
  find(fqdn: string, type: string): DoRecord[];
  /** Answer the next requests with 429 and `ratelimit-reset` this many seconds ahead. */
  rateLimit(seconds: number | false): void;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

export async function startDigitalocean(opts: {
  token: string;
  /** A token with read scope only (writes answer 403). */
  readOnlyToken?: string;
  domains: Record<string, Array<Partial<DoRecord> & { type: string; name: string; data: string }>>;
}): Promise<DigitaloceanContract> {
  let nextId = 3_352_000;
  let limited: number | false = false;
  const records = new Map<string, DoRecord[]>();
  const base = { ttl: 1800, priority: null, port: null, weight: null, flags: null, tag: null };
  for (const [d, list] of Object.entries(opts.domains))
    records.set(
      d,
      list.map((r) => ({ ...base, id: nextId++, ...r })),
    );
  const fq = (d: string, name: string) => (name === '@' ? d : `${name}.${d}`);
  const contract: DigitaloceanContract = {
    url: '',
    requests: [],
    records,
    find: (fqdn, type) =>
      [...records.entries()].flatMap(([d, list]) => list.filter((r) => r.type === type && fq(d, r.name) === fqdn)),
    rateLimit: (s) => {
      limited = s;
    },
    failNext: () => undefined,
    close: async () => undefined,
  };
  const err = (res: http.ServerResponse, status: number, id: string, message: string) =>
    json(res, { id, message, request_id: 'b6d9a3b0-0000-4000-8000-000000000000' }, status);

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (limited !== false) {
      const reset = Math.floor(Date.now() / 1000) + limited;
      return json(res, { id: 'too_many_requests', message: 'API Rate limit exceeded.' }, 429, {
        'ratelimit-limit': '5000',
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(reset),
      });
    }
    const auth = req.headers.authorization;
    const readOnly = opts.readOnlyToken !== undefined && auth === `Bearer ${opts.readOnlyToken}`;
    if (auth !== `Bearer ${opts.token}` && !readOnly)
      return err(res, 401, 'unauthorized', 'Unable to authenticate you');
    if (readOnly && req.method !== 'GET')
      return err(res, 403, 'forbidden', 'You do not have access for the attempted action.');
    const path = req.path.replace(/^\/v2/, '');
    if (path === '/domains' && req.method === 'GET') {
      const per = Number(req.query.get('per_page') ?? 20);
      const page = Number(req.query.get('page') ?? 1);
      const all = [...records.keys()];
      const slice = all.slice((page - 1) * per, page * per);
      const next = page * per < all.length ? { next: `/v2/domains?page=${page + 1}&per_page=${per}` } : {};
      return json(res, {
        domains: slice.map((name) => ({ name, ttl: 1800, zone_file: '' })),
        links: { pages: next },
        meta: { total: all.length },
      });
    }
    const m = /^\/domains\/([^/]+)\/records(?:\/(\d+))?$/.exec(path);
    const list = m ? records.get(m[1]) : undefined;
    if (!m || !list) return err(res, 404, 'not_found', 'The resource you were accessing could not be found.');
    const domain = m[1];
    const rec = m[2] ? list.find((r) => r.id === Number(m[2])) : undefined;
    if (m[2] && !rec) return err(res, 404, 'not_found', 'The resource you were accessing could not be found.');
    let body: Partial<DoRecord> = {};
    if (req.body) {
      try {
        body = JSON.parse(req.body) as Partial<DoRecord>;
      } catch {
        return err(res, 400, 'bad_request', 'unexpected end of JSON input');
      }
    }
    const invalid = (type: string | undefined, data: string | undefined) =>
      (type === 'A' && isIP(data ?? '') !== 4) || (type === 'AAAA' && isIP(data ?? '') !== 6);
    switch (req.method) {
      case 'GET': {
        if (rec) return json(res, { domain_record: rec });
        const type = req.query.get('type');
        const name = req.query.get('name');
        const found = list.filter((r) => (!type || r.type === type) && (!name || fq(domain, r.name) === name));
        return json(res, { domain_records: found, links: {}, meta: { total: found.length } });
      }
      case 'POST': {
        if (rec || !body.type || !body.name || body.data === undefined || invalid(body.type, body.data))
          return err(res, 422, 'unprocessable_entity', 'Data needs to end with a dot (.)');
        const created: DoRecord = { ...base, ...body, id: nextId++ } as DoRecord;
        if (created.ttl < 30) return err(res, 422, 'unprocessable_entity', 'TTL must be at least 30');
        list.push(created);
        return json(res, { domain_record: created }, 201);
      }
      case 'PATCH': {
        if (!rec) return err(res, 405, 'method_not_allowed', 'Method Not Allowed');
        if (body.data !== undefined && invalid(rec.type, body.data))
          return err(res, 422, 'unprocessable_entity', 'IP address did not match IPv4 or IPv6 format');
        Object.assign(rec, body, { id: rec.id });
        return json(res, { domain_record: rec });
      }
      case 'DELETE': {
        if (!rec) return err(res, 405, 'method_not_allowed', 'Method Not Allowed');
        list.splice(list.indexOf(rec), 1);
        res.writeHead(204);
        return res.end();
      }
      default:
        return err(res, 405, 'method_not_allowed', 'Method Not Allowed');
    }
  };
  return Object.assign(contract, await startFaultyServer(answer));
}
