/**
 * A local GoDaddy Domains API v1 (DNS records), on 127.0.0.1, answering as documented at
 * https://developer.godaddy.com/doc/endpoint/domains (records by type and name) and as the
 * answers quoted by its users show them (acmesh-official/acme.sh#1564, srvrco/getssl#847):
 * - `Authorization: sso-key <key>:<secret>`; else 401
 *   `{"code":"UNABLE_TO_AUTHENTICATE","message":"Unauthorized : Could not authenticate API key/secret"}`;
 * - a gated account (fewer than 10 domains since May 2024) gets 403
 *   `{"code":"ACCESS_DENIED","message":"Authenticated user is not allowed access"}` for every call;
 * - `GET /v1/domains` → `[{domain, domainId, status}]`;
 * - `GET /v1/domains/{domain}/records/{type}/{name}` → `[{data, name, ttl, type}]` (`[]` when none);
 *   a domain not in the account: 404 `{"code":"NOT_FOUND","message":"The given domain is not registered, or does not have a zone file"}`;
 * - `PUT` the same path with `[{data, ttl}]` replaces the name's records of that type (200); a
 *   value that is not an address of its type, or a TTL under 600: 422 `INVALID_BODY`;
 * - `DELETE` the same path removes them (204; 404 when there is none);
 * - 60 requests per minute, then 429 `{"code":"TOO_MANY_REQUESTS", "retryAfterSec"}`.
 *
 *   const g = await startGodaddy({ key, secret, domains: { 'example.com': [] } });
 *   // endpoint: `${g.url}/v1`
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer, type FaultyServer } from './rest';

export interface GodaddyRecord {
  name: string;
  type: string;
  data: string;
  ttl: number;
}

export interface GodaddyContract extends FaultyServer<ContractFailure> {
  find(domain: string, name: string, type: string): GodaddyRecord[];
  /** Answer every call with the gated account's 403 ACCESS_DENIED. */
  gated: boolean;
}

export async function startGodaddy(opts: {
  key: string;
  secret: string;
  domains: Record<string, Array<Omit<GodaddyRecord, 'ttl'> & { ttl?: number }>>;
}): Promise<GodaddyContract> {
  const domains = new Map<string, GodaddyRecord[]>();
  for (const [d, list] of Object.entries(opts.domains))
    domains.set(
      d,
      list.map((r) => ({ ttl: 3600, ...r })),
    );
  const err = (res: http.ServerResponse, status: number, code: string, message: string) =>
    json(res, { code, message }, status);
  const contract = { gated: false } as GodaddyContract;

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.headers.authorization !== `sso-key ${opts.key}:${opts.secret}`)
      return err(res, 401, 'UNABLE_TO_AUTHENTICATE', 'Unauthorized : Could not authenticate API key/secret');
    if (contract.gated) return err(res, 403, 'ACCESS_DENIED', 'Authenticated user is not allowed access');
    if (req.path === '/v1/domains' && req.method === 'GET')
      return json(
        res,
        [...domains.keys()].map((domain, i) => ({ domain, domainId: 1000 + i, status: 'ACTIVE' })),
      );
    const m = /^\/v1\/domains\/([^/]+)\/records\/([^/]+)\/([^/]+)$/.exec(req.path);
    const list = m ? domains.get(m[1]) : undefined;
    if (!m || !list)
      return err(res, 404, 'NOT_FOUND', 'The given domain is not registered, or does not have a zone file');
    const type = m[2];
    const name = decodeURIComponent(m[3]);
    const mine = (r: GodaddyRecord) => r.name === name && r.type === type;
    switch (req.method) {
      case 'GET':
        return json(res, list.filter(mine));
      case 'PUT': {
        let body: unknown;
        try {
          body = JSON.parse(req.body);
        } catch {
          return err(res, 422, 'INVALID_BODY', 'Request body doesn\u2019t fulfill schema');
        }
        const family = type === 'A' ? 4 : type === 'AAAA' ? 6 : 0;
        const items = body as Array<{ data?: unknown; ttl?: unknown }>;
        if (
          !Array.isArray(items) ||
          items.some(
            (r) =>
              typeof r.data !== 'string' ||
              (family && isIP(r.data) !== family) ||
              (r.ttl !== undefined && (typeof r.ttl !== 'number' || r.ttl < 600)),
          )
        )
          return err(res, 422, 'INVALID_BODY', 'Request body doesn\u2019t fulfill schema');
        const kept = list.filter((r) => !mine(r));
        list.length = 0;
        list.push(
          ...kept,
          ...items.map((r) => ({ name, type, data: r.data as string, ttl: (r.ttl as number | undefined) ?? 3600 })),
        );
        res.writeHead(200);
        return res.end();
      }
      case 'DELETE': {
        if (!list.some(mine)) return err(res, 404, 'NOT_FOUND', `No ${type} record named ${name}`);
        const kept = list.filter((r) => !mine(r));
        list.length = 0;
        list.push(...kept);
        res.writeHead(204);
        return res.end();
      }
      default:
        return err(res, 405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
    }
  };
  return Object.assign(contract, await startFaultyServer(answer), {
    find: (d: string, name: string, type: string) =>
      (domains.get(d) ?? []).filter((r) => r.name === name && r.type === type),
  });
}
