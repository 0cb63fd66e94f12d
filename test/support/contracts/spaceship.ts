/**
 * A local Spaceship API v1 (DNS records), on 127.0.0.1, answering as documented at
 * https://docs.spaceship.dev/ (DNS records: list, save, delete; domains list) and as
 * qdm12/ddns-updater's spaceship provider reads it (error body and codes):
 * - `X-API-Key` and `X-API-Secret`; else 401 `{"detail":"Unauthorized."}`;
 * - `GET /api/v1/domains?take&skip` → `{items: [{name, …}], total}`;
 * - `GET /api/v1/dns/records/{domain}?take&skip` (both required: else 400) → `{items: [{type,
 *   name, address | value, ttl}], total}`, names relative (`@` the apex); a domain not on
 *   Spaceship DNS: 404 `{"detail":"SOA record for domain {domain} not found."}`;
 * - `PUT /api/v1/dns/records/{domain}` `{force, items}` adds the records (a record of the same
 *   type, name and value is overwritten: its TTL) → 204; an A/AAAA address that is not one, a
 *   TTL outside 60–3600: 422 `{"detail":"…","data":[{"field","details"}]}` with `spaceship-error-code`;
 * - `DELETE /api/v1/dns/records/{domain}` with `[{type, name, address | value}]` removes those → 204;
 * - 300 requests per 300 s per domain, then 429.
 *
 *   const s = await startSpaceship({ key, secret, domains: { 'example.com': [] } });
 *   // endpoint: `${s.url}/api/v1`
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer, type FaultyServer } from './rest';

export interface SpaceshipItem {
  type: string;
  name: string;
  address?: string;
  value?: string;
  ttl: number;
}

export interface SpaceshipContract extends FaultyServer<ContractFailure> {
  find(domain: string, name: string, type: string): SpaceshipItem[];
}

const content = (r: Partial<SpaceshipItem>) => r.address ?? r.value;

export async function startSpaceship(opts: {
  key: string;
  secret: string;
  domains: Record<string, Array<Omit<SpaceshipItem, 'ttl'> & { ttl?: number }>>;
}): Promise<SpaceshipContract> {
  const domains = new Map<string, SpaceshipItem[]>();
  for (const [d, list] of Object.entries(opts.domains))
    domains.set(
      d,
      list.map((r) => ({ ttl: 3600, ...r })),
    );
  const err = (res: http.ServerResponse, status: number, detail: string, data?: unknown[]) => {
    res.setHeader('spaceship-error-code', String(status));
    return json(res, data ? { detail, data } : { detail }, status);
  };
  const same = (a: Partial<SpaceshipItem>, b: Partial<SpaceshipItem>) =>
    a.type === b.type && a.name === b.name && content(a) === content(b);

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.headers['x-api-key'] !== opts.key || req.headers['x-api-secret'] !== opts.secret)
      return err(res, 401, 'Unauthorized.');
    const paged = (items: unknown[]) => {
      const take = Number(req.query.get('take'));
      const skip = Number(req.query.get('skip'));
      if (!(take >= 1 && take <= 500) || !(skip >= 0))
        return err(res, 400, 'Invalid request.', [{ field: 'take', details: 'take and skip are required' }]);
      return json(res, { items: items.slice(skip, skip + take), total: items.length });
    };
    if (req.path === '/api/v1/domains' && req.method === 'GET')
      return paged([...domains.keys()].map((name) => ({ name, unicodeName: name })));
    const m = /^\/api\/v1\/dns\/records\/([^/]+)$/.exec(req.path);
    if (!m) return err(res, 404, 'Not found.');
    const list = domains.get(m[1]);
    if (!list) return err(res, 404, `SOA record for domain ${m[1]} not found.`);
    if (req.method === 'GET') return paged(list);
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return err(res, 400, 'Invalid JSON.');
    }
    if (req.method === 'PUT') {
      const items = (body as { items?: Array<Partial<SpaceshipItem>> }).items;
      if (!Array.isArray(items)) return err(res, 422, 'Validation failed.', [{ field: 'items', details: 'required' }]);
      for (const r of items) {
        const family = r.type === 'A' ? 4 : r.type === 'AAAA' ? 6 : 0;
        if (
          typeof r.name !== 'string' ||
          typeof content(r) !== 'string' ||
          (family && isIP(r.address ?? '') !== family)
        )
          return err(res, 422, 'Validation failed.', [{ field: 'items[0].address', details: 'invalid address' }]);
        if (typeof r.ttl !== 'number' || r.ttl < 60 || r.ttl > 3600)
          return err(res, 422, 'Validation failed.', [{ field: 'items[0].ttl', details: 'must be 60-3600' }]);
      }
      for (const r of items) {
        const i = list.findIndex((x) => same(x, r));
        const item = { ...r, ttl: r.ttl! } as SpaceshipItem;
        if (i >= 0) list[i] = item;
        else list.push(item);
      }
      res.writeHead(204);
      return res.end();
    }
    if (req.method === 'DELETE') {
      if (!Array.isArray(body)) return err(res, 422, 'Validation failed.', [{ details: 'a list is expected' }]);
      const gone = body as Array<Partial<SpaceshipItem>>;
      const kept = list.filter((x) => !gone.some((g) => same(x, g)));
      list.length = 0;
      list.push(...kept);
      res.writeHead(204);
      return res.end();
    }
    return err(res, 405, 'Method not allowed.');
  };
  return Object.assign(await startFaultyServer(answer), {
    find: (d: string, name: string, type: string) =>
      (domains.get(d) ?? []).filter((r) => r.name === name && r.type === type),
  });
}
