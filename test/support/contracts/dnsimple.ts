/**
 * A local DNSimple API v2, on 127.0.0.1, answering as documented:
 * - https://developer.dnsimple.com/v2/identity/#whoami: `GET /v2/whoami` →
 *   `{data:{user, account}}` (an account token: `account` set, `user` null; a user token: the
 *   reverse); https://developer.dnsimple.com/v2/accounts/: `GET /v2/accounts` → `{data:[{id, email,
 *   plan_identifier …}]}`;
 * - https://developer.dnsimple.com/v2/zones/#listZones: `GET /v2/{account}/zones` →
 *   `{data:[{id, account_id, name, reverse …}], pagination:{current_page, per_page, total_entries,
 *   total_pages}}`;
 * - https://developer.dnsimple.com/v2/zones/records/: `GET /v2/{account}/zones/{zone}/records`
 *   (filters `name` exact, `""` for the apex, and `type`) → `{data:[{id, zone_id, parent_id, name,
 *   content, ttl, priority, type, regions, system_record}], pagination}`; `POST` creates (201
 *   `{data}`), `PATCH …/{id}` changes only the attributes sent (200 `{data}`), `DELETE` 204;
 * - https://developer.dnsimple.com/v2/#errors: `{"message": …}`, 401 "Authentication failed", 404
 *   "Zone `x` not found" / "Record `n` not found", 400 "Validation failed" with `errors`;
 *   https://developer.dnsimple.com/v2/#rate-limiting: 429 with `X-RateLimit-Limit`,
 *   `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds).
 *
 *   const d = await startDnsimple({ token, account: 1010, domains: { 'example.com': [] } });
 *   // endpoint: `${d.url}/v2`; then d.requests, d.find('home.example.com', 'A')
 */
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import { startFaultyServer } from './rest';
import { badAddress, jsonBody, recordStore, type RecordsContract } from './rest-records';

export interface DnsimpleRecord {
  id: number;
  zone_id: string;
  parent_id: number | null;
  type: string;
  name: string;
  content: string;
  ttl: number;
  priority: number | null;
  regions: string[];
  system_record: boolean;
}

export interface DnsimpleContract extends RecordsContract<DnsimpleRecord> {
  /** Answer the next requests with 429 and `X-RateLimit-Reset` this many seconds ahead. */
  rateLimit(seconds: number | false): void;
}

export async function startDnsimple(opts: {
  /** An account token of `account`. */
  token: string;
  account: number;
  /** A user token that sees these accounts (whoami answers `account: null`). */
  userToken?: { token: string; accounts: number[] };
  domains: Record<string, Array<Partial<DnsimpleRecord> & { type: string; name: string; content: string }>>;
}): Promise<DnsimpleContract> {
  let nextId = 5_000_000;
  let limited: number | false = false;
  const fill = (r: Partial<DnsimpleRecord> & { type: string; name: string; content: string }): DnsimpleRecord => ({
    id: nextId++,
    zone_id: '',
    parent_id: null,
    ttl: 3600,
    priority: null,
    regions: ['global'],
    system_record: false,
    ...r,
  });
  const store = recordStore(opts.domains, fill);
  const { records } = store;
  const err = (res: http.ServerResponse, status: number, message: string, errors?: object) =>
    json(res, { message, ...(errors ? { errors } : {}) }, status);
  const pagination = (n: number, per: number, total: number) => ({
    current_page: n,
    per_page: per,
    total_entries: total,
    total_pages: Math.max(1, Math.ceil(total / per)),
  });
  const account = (id: number) => ({ id, email: `owner${id}@example.com`, plan_identifier: 'solo-v2-monthly' });

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (limited !== false)
      return json(res, { message: 'Too Many Requests' }, 429, {
        'x-ratelimit-limit': '2400',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + limited),
      });
    const auth = req.headers.authorization;
    const user = opts.userToken && auth === `Bearer ${opts.userToken.token}` ? opts.userToken : undefined;
    if (auth !== `Bearer ${opts.token}` && !user) return err(res, 401, 'Authentication failed');
    const path = req.path.replace(/^\/v2/, '');
    if (path === '/whoami' && req.method === 'GET')
      return json(res, {
        data: user
          ? { user: { id: 1, email: 'user@example.com' }, account: null }
          : { user: null, account: account(opts.account) },
      });
    if (path === '/accounts' && req.method === 'GET')
      return json(res, { data: (user ? user.accounts : [opts.account]).map(account) });
    const m = /^\/(\d+)\/zones(?:\/([^/]+)\/records(?:\/(\d+))?)?$/.exec(path);
    const mine = m && (Number(m[1]) === opts.account || user?.accounts.includes(Number(m[1])));
    if (!m || !mine) return err(res, 404, 'Account not found');
    if (!m[2]) {
      const per = Number(req.query.get('per_page') ?? 30);
      const n = Number(req.query.get('page') ?? 1);
      const all = [...records.keys()];
      return json(res, {
        data: all.slice((n - 1) * per, n * per).map((name, i) => ({ id: i + 1, account_id: opts.account, name })),
        pagination: pagination(n, per, all.length),
      });
    }
    const list = records.get(m[2]);
    if (!list) return err(res, 404, `Zone \`${m[2]}\` not found`);
    const rec = m[3] ? list.find((r) => r.id === Number(m[3])) : undefined;
    if (m[3] && !rec) return err(res, 404, `Record \`${m[3]}\` not found`);
    const body = jsonBody<DnsimpleRecord>(req);
    if (!body) return err(res, 400, 'Invalid JSON');
    switch (req.method) {
      case 'GET': {
        if (rec) return json(res, { data: rec });
        const name = req.query.get('name');
        const type = req.query.get('type');
        const found = list.filter((r) => (name === null || r.name === name) && (!type || r.type === type));
        return json(res, { data: found, pagination: pagination(1, 100, found.length) });
      }
      case 'POST': {
        if (rec) return err(res, 405, 'Method Not Allowed');
        if (!body.type || body.name === undefined || body.content === undefined || badAddress(body.type, body.content))
          return err(res, 400, 'Validation failed', { content: ['is invalid'] });
        const created = fill({ ...body, type: body.type, name: body.name, content: body.content, zone_id: m[2] });
        list.push(created);
        return json(res, { data: created }, 201);
      }
      case 'PATCH': {
        if (!rec) return err(res, 405, 'Method Not Allowed');
        if (body.content !== undefined && badAddress(rec.type, body.content))
          return err(res, 400, 'Validation failed', { content: ['is invalid'] });
        Object.assign(rec, body, { id: rec.id, type: rec.type });
        return json(res, { data: rec });
      }
      case 'DELETE': {
        if (!rec) return err(res, 405, 'Method Not Allowed');
        list.splice(list.indexOf(rec), 1);
        res.writeHead(204);
        return res.end();
      }
      default:
        return err(res, 405, 'Method Not Allowed');
    }
  };
  const srv = await startFaultyServer(answer);
  return {
    ...store,
    ...srv,
    rateLimit: (s) => {
      limited = s;
    },
  };
}
