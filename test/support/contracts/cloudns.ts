/**
 * A local ClouDNS HTTP API, on 127.0.0.1, answering as documented (https://www.cloudns.net/wiki/article/42/
 * and the pages of each action) and as lego's ClouDNS client reads it:
 * - parameters as query or POST form fields; `auth-id` (or `sub-auth-id`, `sub-auth-user`) with
 *   `auth-password`, else HTTP 200 `{"status":"Failed","statusDescription":"Invalid authentication,
 *   incorrect auth-id or auth-password."}`;
 * - `/dns/list-zones.json?page=&rows-per-page=` → `[{name, type, zone, status}]` (`[]` past the last);
 * - `/dns/records.json?domain-name=&host=&type=` → `{"<id>": {id, type, host, record, failover,
 *   ttl, status}}` (ids and TTLs as strings), `[]` when there is none;
 * - `/dns/add-record.json` (`record-type`, `host`, `record`, `ttl` among the accepted values),
 *   `/dns/mod-record.json` (`record-id`, `host`, `record`, `ttl` all required),
 *   `/dns/delete-record.json` (`record-id`) → `{"status":"Success","statusDescription":…}`;
 * - a zone the user does not have, a record id it does not know, a bad value or TTL:
 *   `{"status":"Failed","statusDescription":…}`, all with HTTP 200.
 *
 *   const c = await startCloudns({ authId: '1234', password, zones: { 'example.com': [] } });
 *   // endpoint: c.url; then c.requests, c.find('home.example.com', 'A'), c.params(request)
 */
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import { startFaultyServer } from './rest';
import { badAddress, recordStore, type RecordsContract } from './rest-records';

export interface CloudnsRecord {
  id: string;
  type: string;
  /** `name` is the contract store's key; ClouDNS calls it `host`. */
  name: string;
  host: string;
  record: string;
  failover: string;
  ttl: string;
  status: number;
}

export interface CloudnsContract extends RecordsContract<CloudnsRecord> {
  /** The parameters of a request (query and form fields). */
  params(req: RecordedRequest): URLSearchParams;
}

const TTLS = [
  '60',
  '300',
  '900',
  '1800',
  '3600',
  '21600',
  '43200',
  '86400',
  '172800',
  '259200',
  '604800',
  '1209600',
  '2592000',
];

export async function startCloudns(opts: {
  authId: string;
  password: string;
  zones: Record<string, Array<{ type: string; host: string; record: string; ttl?: string }>>;
}): Promise<CloudnsContract> {
  let nextId = 170_000_000;
  const fill = (r: { type: string; host: string; record: string; ttl?: string }): CloudnsRecord => ({
    id: String(nextId++),
    failover: '0',
    status: 1,
    ttl: '3600',
    ...r,
    name: r.host,
  });
  const store = recordStore(opts.zones, fill);
  const params = (req: RecordedRequest) => {
    const p = new URLSearchParams(req.query);
    if (/x-www-form-urlencoded/.test(String(req.headers['content-type'])))
      for (const [k, v] of new URLSearchParams(req.body)) p.append(k, v);
    return p;
  };
  const failed = (res: http.ServerResponse, statusDescription: string) =>
    json(res, { status: 'Failed', statusDescription });
  const success = (res: http.ServerResponse, statusDescription: string, data?: object) =>
    json(res, { status: 'Success', statusDescription, ...(data ? { data } : {}) });

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    const p = params(req);
    const user = p.get('auth-id') ?? p.get('sub-auth-id') ?? p.get('sub-auth-user');
    if (user !== opts.authId || p.get('auth-password') !== opts.password)
      return failed(res, 'Invalid authentication, incorrect auth-id or auth-password.');
    const action = /^\/dns\/([a-z-]+)\.json$/.exec(req.path)?.[1];
    if (action === 'list-zones') {
      const per = Number(p.get('rows-per-page') ?? 10);
      const page = Number(p.get('page') ?? 1);
      return json(
        res,
        [...store.records.keys()]
          .slice((page - 1) * per, page * per)
          .map((name) => ({ name, type: 'master', zone: 'domain', status: '1' })),
      );
    }
    const list = store.records.get(p.get('domain-name') ?? '');
    if (!list) return failed(res, 'Missing domain-name');
    const rec = p.has('record-id') ? list.find((r) => r.id === p.get('record-id')) : undefined;
    if (p.has('record-id') && !rec) return failed(res, 'Invalid record-id param.');
    switch (action) {
      case 'records': {
        const found = list.filter(
          (r) => (!p.has('host') || r.host === p.get('host')) && (!p.get('type') || r.type === p.get('type')),
        );
        if (found.length === 0) return json(res, []);
        return json(res, Object.fromEntries(found.map(({ name: _, ...r }) => [r.id, r])));
      }
      case 'add-record': {
        const [type, host, record, ttl] = ['record-type', 'host', 'record', 'ttl'].map((k) => p.get(k));
        if (!type || host === null || record === null || !TTLS.includes(ttl ?? '') || badAddress(type, record))
          return failed(res, 'Invalid record or TTL.');
        const created = fill({ type, host, record, ttl: ttl! });
        list.push(created);
        return success(res, 'The record was added successfully.', { id: Number(created.id) });
      }
      case 'mod-record': {
        const [host, record, ttl] = ['host', 'record', 'ttl'].map((k) => p.get(k));
        if (!rec || host === null || record === null || !TTLS.includes(ttl ?? '') || badAddress(rec.type, record))
          return failed(res, 'Invalid record or TTL.');
        Object.assign(rec, { host, name: host, record, ttl });
        return success(res, 'The record was modified successfully.');
      }
      case 'delete-record': {
        if (!rec) return failed(res, 'Missing record-id');
        list.splice(list.indexOf(rec), 1);
        return success(res, 'The record was deleted successfully.');
      }
      default:
        return failed(res, 'Unknown API function.');
    }
  };
  return { ...store, params, ...(await startFaultyServer(answer)) };
}
