/**
 * A local OVHcloud API v1 (DNS zones), on 127.0.0.1, answering as documented at
 * https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784
 * (signed requests) and https://eu.api.ovh.com/console/?section=%2Fdomain&branch=v1 (zone records),
 * with the error bodies OVH sends (as qdm12/ddns-updater's and lego's ovh providers read them):
 * - `GET /1.0/auth/time` → the server's unix time (a number), unsigned; this server's clock is
 *   `skewSeconds` ahead of the machine's, so a client that does not use it is refused;
 * - every other call must carry `X-Ovh-Application` (the application key: else 403
 *   `{"errorCode":"INVALID_KEY","httpCode":"403 Forbidden","message":"Invalid application key"}`),
 *   `X-Ovh-Consumer` (else 403 `INVALID_CREDENTIAL` "This credential is not valid"), `X-Ovh-Timestamp`
 *   within 3 minutes of the server's time and `X-Ovh-Signature` = "$1$" + SHA-1 hex of
 *   secret+consumer+method+full URL+body+timestamp (else 400 `INVALID_SIGNATURE` "Invalid signature");
 * - `GET /1.0/domain/zone` → the zone names;
 * - `GET /1.0/domain/zone/{zone}/record?fieldType&subDomain` → record ids; `GET …/record/{id}` →
 *   `{id, zone, subDomain, fieldType, target, ttl}`; an unknown zone or record: 404
 *   `{"class":"Client::NotFound","message":"This service does not exist"}`;
 * - `POST …/record` `{fieldType, subDomain, target, ttl}` → the record; `PUT …/record/{id}` changes
 *   only the fields sent (null answer); `DELETE …/record/{id}` (null answer); a target that is not
 *   an address of its type: 400 `{"class":"Client::BadRequest","message":"Invalid target"}`;
 * - `POST …/refresh` publishes the zone: `published(zone)` is what its name servers would serve.
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer, type FaultyServer } from './rest';
import { ovhSignature } from '../../../src/core/providers/ovhapi';

export interface OvhRecord {
  id: number;
  zone: string;
  subDomain: string;
  fieldType: string;
  target: string;
  ttl: number;
}

export interface OvhContract extends FaultyServer<ContractFailure> {
  find(zone: string, subDomain: string, type: string): OvhRecord[];
  /** The records as last refreshed (what the zone's name servers serve). */
  published(zone: string, subDomain: string, type: string): OvhRecord[];
}

export async function startOvhApi(opts: {
  applicationKey: string;
  secret: string;
  consumerKey: string;
  zones: Record<string, Array<Omit<OvhRecord, 'id' | 'zone' | 'ttl'> & { ttl?: number }>>;
  skewSeconds?: number;
}): Promise<OvhContract> {
  let nextId = 5000;
  const zones = new Map<string, OvhRecord[]>();
  const published = new Map<string, OvhRecord[]>();
  for (const [zone, list] of Object.entries(opts.zones)) {
    zones.set(
      zone,
      list.map((r) => ({ id: nextId++, zone, ttl: 0, ...r })),
    );
    published.set(zone, structuredClone(zones.get(zone)!));
  }
  const now = () => Math.floor(Date.now() / 1000) + (opts.skewSeconds ?? 0);
  const fail = (res: http.ServerResponse, status: number, errorCode: string, message: string) =>
    json(res, { errorCode, httpCode: `${status} ${status === 400 ? 'Bad Request' : 'Forbidden'}`, message }, status);
  const notFound = (res: http.ServerResponse) =>
    json(res, { class: 'Client::NotFound', message: 'This service does not exist' }, 404);
  let base = '';

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.path === '/1.0/auth/time') return json(res, now());
    if (req.headers['x-ovh-application'] !== opts.applicationKey)
      return fail(res, 403, 'INVALID_KEY', 'Invalid application key');
    if (req.headers['x-ovh-consumer'] !== opts.consumerKey)
      return fail(res, 403, 'INVALID_CREDENTIAL', 'This credential is not valid');
    const ts = Number(req.headers['x-ovh-timestamp']);
    const url = `${base}${req.url}`;
    if (
      !(Math.abs(ts - now()) <= 180) ||
      req.headers['x-ovh-signature'] !== ovhSignature(opts.secret, opts.consumerKey, req.method, url, req.body, ts)
    )
      return fail(res, 400, 'INVALID_SIGNATURE', 'Invalid signature');
    if (req.path === '/1.0/domain/zone' && req.method === 'GET') return json(res, [...zones.keys()]);
    const m = /^\/1\.0\/domain\/zone\/([^/]+)\/(record|refresh)(?:\/(\d+))?$/.exec(req.path);
    const list = m ? zones.get(m[1]) : undefined;
    if (!m || !list) return notFound(res);
    if (m[2] === 'refresh' && req.method === 'POST') {
      published.set(m[1], structuredClone(list));
      return json(res, null);
    }
    let body: Partial<OvhRecord> = {};
    try {
      body = req.body ? (JSON.parse(req.body) as Partial<OvhRecord>) : {};
    } catch {
      return json(res, { class: 'Client::BadRequest', message: 'Invalid JSON' }, 400);
    }
    const valid = (type: string | undefined, target: unknown) =>
      typeof target === 'string' &&
      target !== '' &&
      (type === 'A' ? isIP(target) === 4 : type === 'AAAA' ? isIP(target) === 6 : true);
    if (!m[3]) {
      if (req.method === 'GET') {
        const type = req.query.get('fieldType');
        const sub = req.query.get('subDomain');
        return json(
          res,
          list.filter((r) => (!type || r.fieldType === type) && (sub === null || r.subDomain === sub)).map((r) => r.id),
        );
      }
      if (req.method === 'POST') {
        if (!valid(body.fieldType, body.target))
          return json(res, { class: 'Client::BadRequest', message: 'Invalid target' }, 400);
        const r: OvhRecord = {
          id: nextId++,
          zone: m[1],
          subDomain: body.subDomain ?? '',
          fieldType: body.fieldType!,
          target: body.target!,
          ttl: body.ttl ?? 0,
        };
        list.push(r);
        return json(res, r);
      }
      return notFound(res);
    }
    const i = list.findIndex((r) => r.id === Number(m[3]));
    if (i < 0) return notFound(res);
    if (req.method === 'GET') return json(res, list[i]);
    if (req.method === 'PUT') {
      if (body.target !== undefined && !valid(list[i].fieldType, body.target))
        return json(res, { class: 'Client::BadRequest', message: 'Invalid target' }, 400);
      list[i] = { ...list[i], ...body, id: list[i].id, zone: m[1] };
      return json(res, null);
    }
    if (req.method === 'DELETE') {
      list.splice(i, 1);
      return json(res, null);
    }
    return notFound(res);
  };
  const srv = await startFaultyServer(answer);
  base = srv.url;
  const pick = (map: Map<string, OvhRecord[]>, zone: string, sub: string, type: string) =>
    (map.get(zone) ?? []).filter((r) => r.subDomain === sub && r.fieldType === type);
  return Object.assign(srv, {
    find: (zone: string, sub: string, type: string) => pick(zones, zone, sub, type),
    published: (zone: string, sub: string, type: string) => pick(published, zone, sub, type),
  });
}
