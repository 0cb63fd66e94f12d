/**
 * A local Pi-hole v6 API (FTL's embedded web server), on 127.0.0.1, answering as documented at
 * https://docs.pi-hole.net/api/ and https://docs.pi-hole.net/api/auth/:
 * - `POST /api/auth {"password"}` → `{"session": {"valid": true, "totp": false, "sid", "csrf", "validity": 1800, "message": "app-password correct"}, "took"}`;
 *   a wrong password 401 `{"session": {"valid": false, "totp": false, "sid": null, "validity": -1, "message": "password incorrect"}}`;
 *   more sessions than `seats` 429 `{"error": {"key": "api_seats_exceeded", …}}`; `DELETE /api/auth` ends the session (204);
 * - every other request needs `X-FTL-SID: <sid>`, else 401 `{"error": {"key": "unauthorized", "message": "Unauthorized", "hint": null}}`;
 * - `GET /api/config/dns/hosts` → `{"config": {"dns": {"hosts": ["IP name …"]}}, "took"}`;
 *   `PUT /api/config/dns/hosts/<IP name>` adds the line (201; 400 `bad_request` "Item already
 *   present" when it is there, or "Invalid IP address" when the IP is not one);
 *   `DELETE` the same removes it (204; 404 `not_found` when it is not there).
 *
 *   const p = await startPihole({ password, hosts: ['192.168.1.2 nas.lan'] });
 *   // endpoint: p.url; p.hosts
 */
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface PiholeContract {
  url: string;
  requests: RecordedRequest[];
  /** The local DNS records, as Pi-hole keeps them. */
  hosts: string[];
  /** Sessions open now. */
  sessions: Set<string>;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

export async function startPihole(opts: {
  password: string;
  hosts?: string[];
  seats?: number;
}): Promise<PiholeContract> {
  const hosts = [...(opts.hosts ?? [])];
  const sessions = new Set<string>();
  const took = () => ({ took: 0.0003 });
  const err = (res: http.ServerResponse, status: number, key: string, message: string, hint: string | null = null) =>
    json(res, { error: { key, message, hint }, ...took() }, status);

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.path === '/api/auth' && req.method === 'POST') {
      let password: unknown;
      try {
        password = (JSON.parse(req.body) as { password?: unknown }).password;
      } catch {
        return err(res, 400, 'bad_request', 'Invalid JSON payload');
      }
      if (password !== opts.password)
        return json(
          res,
          { session: { valid: false, totp: false, sid: null, validity: -1, message: 'password incorrect' }, ...took() },
          401,
        );
      if (sessions.size >= (opts.seats ?? 16))
        return err(res, 429, 'api_seats_exceeded', 'API seats exceeded', 'increase webserver.api.max_sessions');
      const sid = randomBytes(16).toString('base64');
      sessions.add(sid);
      return json(res, {
        session: {
          valid: true,
          totp: false,
          sid,
          csrf: randomBytes(16).toString('base64'),
          validity: 1800,
          message: 'app-password correct',
        },
        ...took(),
      });
    }
    const sid = String(req.headers['x-ftl-sid'] ?? '');
    if (!sessions.has(sid)) return err(res, 401, 'unauthorized', 'Unauthorized');
    if (req.path === '/api/auth' && req.method === 'DELETE') {
      sessions.delete(sid);
      res.writeHead(204);
      return res.end();
    }
    if (req.path === '/api/config/dns/hosts' && req.method === 'GET')
      return json(res, { config: { dns: { hosts } }, ...took() });
    const m = /^\/api\/config\/dns\/hosts\/(.+)$/.exec(req.path);
    if (!m) return err(res, 404, 'not_found', 'Not found');
    const line = decodeURIComponent(m[1]);
    const i = hosts.indexOf(line);
    if (req.method === 'PUT') {
      const [ip, ...names] = line.split(' ');
      if (!isIP(ip) || names.length === 0) return err(res, 400, 'bad_request', 'Invalid IP address', line);
      if (i >= 0) return err(res, 400, 'bad_request', 'Item already present', 'Uniqueness of items is enforced');
      hosts.push(line);
      return json(res, took(), 201);
    }
    if (req.method === 'DELETE') {
      if (i < 0) return err(res, 404, 'not_found', 'Item not found', null);
      hosts.splice(i, 1);
      res.writeHead(204);
      return res.end();
    }
    return err(res, 405, 'method_not_allowed', 'Method not allowed');
  };
  return Object.assign({ hosts, sessions }, await startFaultyServer(answer));
}
