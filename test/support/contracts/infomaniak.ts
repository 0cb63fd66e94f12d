/**
 * A local Infomaniak API v1 (https://developer.infomaniak.com/docs/api: products and the DNS
 * records of a domain), on 127.0.0.1, answering as the API and its clients show it
 * (libdns/infomaniak client.go and types.go; lego providers/dns/infomaniak/internal/client.go,
 * models.go and fixtures/*.json):
 * - every answer is `{"result":"success","data":…}` or `{"result":"error","error":{"code","description"}}`;
 * - `GET /1/product?service_name=domain&customer_name=<name>` lists the account's domain products
 *   `{id, customer_name, service_name}` whose name contains the one asked (lego's fixture answers
 *   `two.three.example.com` and `three.example.com` for a search);
 * - `GET /1/domain/{id}/dns/record` lists `{id, source, source_idn, type, ttl, target}` (`source`
 *   relative, `@` for the apex, `source_idn` the full name); `POST` creates and answers the new id;
 *   `PUT …/{rid}` replaces the record with the one sent; `DELETE …/{rid}` answers `true`;
 * - 401 `not_authorized` for a missing or wrong token, 403 `forbidden` for a token without the
 *   domain scope, 404 `object_not_found`, 400 `validation_failed`.
 *
 *   const ik = await startInfomaniak({ token, domains: { 'example.com': [] } });
 *   // endpoint: ik.url; then ik.requests, ik.find('home.example.com', 'A')
 */
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import { startFaultyServer } from './rest';
import { badAddress, jsonBody, type RecordsContract } from './rest-records';

export interface InfomaniakRecord {
  id: number;
  source: string;
  source_idn: string;
  type: string;
  ttl: number;
  target: string;
}

export type InfomaniakContract = RecordsContract<InfomaniakRecord>;

export async function startInfomaniak(opts: {
  token: string;
  /** A token without the domain scope (every request answers 403). */
  unscopedToken?: string;
  domains: Record<string, Array<{ type: string; source: string; target: string; ttl?: number }>>;
}): Promise<InfomaniakContract> {
  let nextId = 5_000_000;
  const full = (source: string, d: string) => (source === '@' ? d : `${source}.${d}`);
  const records = new Map<string, InfomaniakRecord[]>();
  const ids = new Map<number, string>();
  for (const [d, list] of Object.entries(opts.domains)) {
    ids.set(700_000 + ids.size, d);
    records.set(
      d,
      list.map((r) => ({ ttl: 3600, ...r, id: nextId++, source_idn: full(r.source, d) })),
    );
  }
  const find = (fqdn: string, type: string) =>
    [...records.values()].flat().filter((r) => r.type === type && r.source_idn === fqdn);
  const ok = (res: http.ServerResponse, data: unknown) => json(res, { result: 'success', data });
  const err = (res: http.ServerResponse, status: number, code: string, description: string) =>
    json(res, { result: 'error', error: { code, description } }, status);

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    const auth = req.headers.authorization;
    if (opts.unscopedToken !== undefined && auth === `Bearer ${opts.unscopedToken}`)
      return err(res, 403, 'forbidden', 'Forbidden');
    if (auth !== `Bearer ${opts.token}`) return err(res, 401, 'not_authorized', 'Authorization required');
    if (req.path === '/1/product' && req.method === 'GET') {
      const name = req.query.get('customer_name') ?? '';
      const all = [...ids.entries()].map(([id, d]) => ({ id, customer_name: d, service_name: 'domain' }));
      return ok(
        res,
        all.filter((p) => req.query.get('service_name') === 'domain' && p.customer_name.includes(name)),
      );
    }
    const m = /^\/1\/domain\/(\d+)\/dns\/record(?:\/(\d+))?$/.exec(req.path);
    const domain = m ? ids.get(Number(m[1])) : undefined;
    const list = domain ? records.get(domain) : undefined;
    if (!m || !list || !domain) return err(res, 404, 'object_not_found', 'Object not found');
    const rec = m[2] ? list.find((r) => r.id === Number(m[2])) : undefined;
    if (m[2] && !rec) return err(res, 404, 'object_not_found', 'Object not found');
    const body = jsonBody<InfomaniakRecord>(req);
    if (!body) return err(res, 400, 'validation_failed', 'Invalid JSON');
    const invalid = (type?: string) =>
      !type || body.source === undefined || body.target === undefined || badAddress(type, body.target);
    switch (req.method) {
      case 'GET':
        return rec ? ok(res, rec) : ok(res, list);
      case 'POST': {
        if (rec || invalid(body.type)) return err(res, 400, 'validation_failed', 'The target is invalid');
        const source = body.source!;
        const created = { ttl: 3600, ...body, id: nextId++, source, source_idn: full(source, domain) };
        list.push(created as InfomaniakRecord);
        return ok(res, String(created.id));
      }
      case 'PUT': {
        if (!rec || invalid(rec.type)) return err(res, 400, 'validation_failed', 'The target is invalid');
        Object.assign(rec, { ttl: 3600, ...body, id: rec.id, type: rec.type, source_idn: full(body.source!, domain) });
        return ok(res, true);
      }
      case 'DELETE': {
        if (!rec) return err(res, 400, 'validation_failed', 'No record id');
        list.splice(list.indexOf(rec), 1);
        return ok(res, true);
      }
      default:
        return err(res, 405, 'method_not_allowed', 'Method not allowed');
    }
  };
  return { records, find, ...(await startFaultyServer(answer)) };
}
