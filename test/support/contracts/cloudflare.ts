/**
 * A local contract server for Cloudflare API v4 (zones and DNS records), on 127.0.0.1.
 *
 * It follows the documented requests and answers:
 * - https://developers.cloudflare.com/api/resources/dns/subresources/records/ (list/create/edit/
 *   overwrite/delete records; names in punycode; PATCH changes only the fields sent, PUT overwrites)
 * - https://developers.cloudflare.com/api/resources/zones/methods/list/ (GET /zones?name=, pages)
 * - https://developers.cloudflare.com/fundamentals/api/reference/limits/ (1200 calls / 5 min, then
 *   429 for every call with `retry-after`)
 * - the error envelope `{success:false, errors:[{code, message, error_chain?}], messages, result:null}`
 *   with the answers seen in the field for bad tokens: 400 9106 (no credentials), 400 6003 + 6111
 *   (malformed Authorization header), 403 9109 (unknown token), 401 10000 (expired token),
 *   403 10000 (token without the permission), 404 81044 (record does not exist).
 *
 * Use: `const cf = await startCloudflare({ token, zones: ['example.com'] })`; point the provider at
 * `cf.url`; inspect `cf.requests` (every request, in order) and `cf.records` (the live store).
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, startServer, type RecordedRequest } from '../http-server';

export const API_PREFIX = '/client/v4';

export interface CfZone {
  id: string;
  name: string;
  status: string;
}

export interface CfRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  ttl: number;
  proxied: boolean;
  proxiable: boolean;
  comment: string | null;
  tags: string[];
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  created_on: string;
  modified_on: string;
}

export interface SeedRecord {
  type: string;
  name: string;
  content: string;
  ttl?: number;
  proxied?: boolean;
  comment?: string | null;
  id?: string;
}

export interface SeedZone {
  name: string;
  id?: string;
  status?: string;
  records?: SeedRecord[];
}

/** A token other than the main one, to reproduce permission and expiry answers. */
export interface TokenRights {
  /** DNS permission: edit (default), read (writes answer 403 10000) or none. */
  dns?: 'edit' | 'read' | 'none';
  /** Zones the token may see (names); default all. */
  zones?: string[];
  /** An expired token answers 401 10000. */
  expired?: boolean;
}

export interface CloudflareOptions {
  /** The valid API token (full rights). 40 characters of [A-Za-z0-9_-] like real tokens. */
  token: string;
  zones: Array<string | SeedZone>;
  tokens?: Record<string, TokenRights>;
}

/** Ways the next matching request(s) fail instead of being answered. */
export type Failure =
  | 'server-error' // 500 with a JSON envelope
  | 'html' // 502 with Cloudflare's HTML error page
  | 'garbage' // 200 with a body that is not JSON
  | 'bad-shape' // 200 envelope, success true, result of the wrong shape
  | 'huge' // 200 with a 1 MB body
  | 'slow' // never answers (until close)
  | 'reset' // the connection is destroyed
  | { status: number; body: string | object; headers?: Record<string, string> };

export interface FailOptions {
  /** Number of requests that fail (default 1). */
  count?: number;
  /** Only requests of this method fail. */
  method?: string;
}

export interface RateLimitOptions {
  /** Requests still answered normally before the limit applies (default 0). */
  after?: number;
  /** Seconds sent in `retry-after`; null sends no header (default 300). */
  retryAfter?: number | null;
}

export interface CloudflareContract {
  /** Base URL of the API, e.g. http://127.0.0.1:1234/client/v4 (the provider's `endpoint`). */
  url: string;
  requests: RecordedRequest[];
  /** The live records (tests may read and change them). */
  records: CfRecord[];
  zones: CfZone[];
  /** Add a record directly (not counted as a request). */
  addRecord(zoneName: string, r: SeedRecord): CfRecord;
  /** Records of a name (case-insensitive), optionally of one type. */
  find(name: string, type?: string): CfRecord[];
  /** Turn the rate limit on (429 for every request) or off (`false`). */
  rateLimit(opts: RateLimitOptions | false): void;
  /** Make the next matching request(s) fail. */
  failNext(f: Failure, opts?: FailOptions): void;
  /** Requests summarised as `METHOD /path?query` without the API prefix, in order. */
  calls(): string[];
  close(): Promise<void>;
}

const id32 = () => randomBytes(16).toString('hex');
const now = () => new Date().toISOString();

function envelope(result: unknown, extra: Record<string, unknown> = {}) {
  return { success: true, errors: [], messages: [], result, ...extra };
}

function failure(code: number, message: string, chain?: Array<{ code: number; message: string }>) {
  const e: Record<string, unknown> = { code, message };
  if (chain) e.error_chain = chain;
  return { success: false, errors: [e], messages: [], result: null };
}

function paginate<T>(items: T[], q: URLSearchParams, defPer: number, maxPer: number) {
  const per = Math.min(maxPer, Math.max(1, Number(q.get('per_page')) || defPer));
  const page = Math.max(1, Number(q.get('page')) || 1);
  const slice = items.slice((page - 1) * per, page * per);
  const total_pages = Math.max(1, Math.ceil(items.length / per));
  return { slice, info: { page, per_page: per, count: slice.length, total_count: items.length, total_pages } };
}

const lc = (s: string) => s.toLowerCase().replace(/\.$/, '');

export async function startCloudflare(opts: CloudflareOptions): Promise<CloudflareContract> {
  const zones: CfZone[] = [];
  const records: CfRecord[] = [];
  const pending: http.ServerResponse[] = [];
  let limit: { after: number; retryAfter: number | null } | null = null;
  const failures: Array<{ f: Failure; left: number; method?: string }> = [];

  const addRecord = (zoneName: string, r: SeedRecord): CfRecord => {
    const zone = zones.find((z) => z.name === lc(zoneName));
    if (!zone) throw new Error(`no zone ${zoneName}`);
    const rec: CfRecord = {
      id: r.id ?? id32(),
      zone_id: zone.id,
      zone_name: zone.name,
      name: lc(r.name),
      type: r.type,
      content: r.content,
      ttl: r.ttl ?? 1,
      proxied: r.proxied ?? false,
      proxiable: r.type === 'A' || r.type === 'AAAA',
      comment: r.comment ?? null,
      tags: [],
      settings: {},
      meta: {},
      created_on: now(),
      modified_on: now(),
    };
    records.push(rec);
    return rec;
  };

  for (const z of opts.zones) {
    const seed = typeof z === 'string' ? { name: z } : z;
    zones.push({ id: seed.id ?? id32(), name: lc(seed.name), status: seed.status ?? 'active' });
    for (const r of seed.records ?? []) addRecord(seed.name, r);
  }

  /** Authentication, as Cloudflare answers it. Returns the rights, or null after answering. */
  function authenticate(req: RecordedRequest, res: http.ServerResponse): TokenRights | null {
    const header = req.headers.authorization;
    if (!header && !req.headers['x-auth-key']) {
      json(res, failure(9106, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers'), 400);
      return null;
    }
    const m = /^Bearer ([A-Za-z0-9_-]{40})$/.exec(header ?? '');
    if (!m) {
      json(
        res,
        failure(6003, 'Invalid request headers', [{ code: 6111, message: 'Invalid format for Authorization header' }]),
        400,
      );
      return null;
    }
    const rights: TokenRights | undefined = m[1] === opts.token ? {} : opts.tokens?.[m[1]];
    if (!rights) {
      json(res, failure(9109, 'Invalid access token'), 403);
      return null;
    }
    if (rights.expired) {
      json(res, failure(10000, 'Authentication error'), 401);
      return null;
    }
    return rights;
  }

  const visible = (rights: TokenRights) => zones.filter((z) => !rights.zones || rights.zones.map(lc).includes(z.name));

  function applyFailure(f: Failure, res: http.ServerResponse): void {
    if (f === 'server-error') return json(res, failure(10002, 'An unknown error has occurred'), 500);
    if (f === 'html') {
      const page =
        '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>';
      res.writeHead(502, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
      return void res.end(page);
    }
    if (f === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"success": tru');
    }
    if (f === 'bad-shape') return json(res, envelope([{ identifier: 42 }]));
    if (f === 'huge') {
      const body = JSON.stringify(envelope([], { padding: 'x'.repeat(1024 * 1024) }));
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(body);
    }
    if (f === 'slow') return void pending.push(res);
    if (f === 'reset') return void res.socket?.destroy();
    const body = typeof f.body === 'string' ? f.body : JSON.stringify(f.body);
    res.writeHead(f.status, {
      'content-type': typeof f.body === 'string' ? 'text/plain' : 'application/json',
      ...f.headers,
    });
    res.end(body);
  }

  function validate(type: string, content: string): [number, string] | null {
    if (type === 'A' && isIP(content) !== 4) return [9005, 'Content for A record must be a valid IPv4 address.'];
    if (type === 'AAAA' && isIP(content) !== 6) return [9006, 'Content for AAAA record must be a valid IPv6 address.'];
    if (type === 'TXT' && (content.length === 0 || content.length > 2048))
      return [9009, 'Content for TXT record is invalid.'];
    if (!['A', 'AAAA', 'TXT'].includes(type)) return [9000, 'DNS record type is invalid.'];
    return null;
  }

  const validTtl = (t: unknown) =>
    t === undefined || t === 1 || (typeof t === 'number' && Number.isInteger(t) && t >= 60 && t <= 86400);
  const identical = (r: { type: string; name: string; content: string }, except?: string) =>
    records.some((x) => x.id !== except && x.type === r.type && x.name === r.name && x.content === r.content);

  function handle(req: RecordedRequest, res: http.ServerResponse): void {
    if (limit) {
      if (limit.after > 0) limit.after--;
      else {
        const headers: Record<string, string> =
          limit.retryAfter === null ? {} : { 'retry-after': String(limit.retryAfter) };
        return json(res, failure(971, 'Please wait and consider throttling your request speed'), 429, headers);
      }
    }
    const fi = failures.findIndex((x) => !x.method || x.method === req.method);
    if (fi >= 0) {
      const f = failures[fi];
      if (--f.left <= 0) failures.splice(fi, 1);
      return applyFailure(f.f, res);
    }
    const rights = authenticate(req, res);
    if (!rights) return;
    if (!req.path.startsWith(`${API_PREFIX}/`)) return json(res, failure(7000, 'No route for that URI'), 404);
    const parts = req.path.slice(API_PREFIX.length + 1).split('/');
    const q = req.query;

    // GET /zones?name=
    if (parts[0] !== 'zones') return json(res, failure(7000, 'No route for that URI'), 404);
    if (parts.length === 1) {
      if (req.method !== 'GET') return json(res, failure(10405, 'Method not allowed'), 405);
      const name = q.get('name');
      const list = visible(rights).filter((z) => !name || z.name === lc(name));
      const { slice, info } = paginate(list, q, 20, 50);
      return json(res, envelope(slice, { result_info: info }));
    }
    const zone = visible(rights).find((z) => z.id === parts[1]);
    if (!zone) {
      return json(
        res,
        failure(7003, `Could not route to /zones/${parts[1]}, perhaps your object identifier is invalid?`),
        404,
      );
    }
    if (parts.length === 2) {
      if (req.method !== 'GET') return json(res, failure(10405, 'Method not allowed'), 405);
      return json(res, envelope(zone));
    }
    if (parts[2] !== 'dns_records' || parts.length > 4) return json(res, failure(7000, 'No route for that URI'), 404);
    if (rights.dns === 'none' || (rights.dns === 'read' && req.method !== 'GET')) {
      return json(res, failure(10000, 'Authentication error'), 403);
    }

    let body: Record<string, unknown> = {};
    if (req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT') {
      try {
        body = JSON.parse(req.body) as Record<string, unknown>;
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
      } catch {
        return json(res, failure(6007, 'Malformed JSON in request body'), 400);
      }
    }
    const inZone = records.filter((r) => r.zone_id === zone.id);

    if (parts.length === 3) {
      if (req.method === 'GET') {
        const type = q.get('type');
        const name = q.get('name') ?? q.get('name.exact');
        const content = q.get('content');
        const list = inZone.filter(
          (r) => (!type || r.type === type) && (!name || r.name === lc(name)) && (!content || r.content === content),
        );
        const { slice, info } = paginate(list, q, 100, 5_000_000);
        return json(res, envelope(slice, { result_info: info }));
      }
      if (req.method === 'POST') {
        const type = String(body.type ?? '');
        let name = lc(String(body.name ?? ''));
        const content = String(body.content ?? '');
        if (!name) return json(res, failure(9007, 'DNS record name is required.'), 400);
        // Cloudflare reads a name outside the zone as relative to it.
        if (name === '@') name = zone.name;
        else if (name !== zone.name && !name.endsWith(`.${zone.name}`)) name = `${name}.${zone.name}`;
        const bad = validate(type, content);
        if (bad) return json(res, failure(bad[0], bad[1]), 400);
        if (!validTtl(body.ttl))
          return json(
            res,
            failure(9021, 'Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.'),
            400,
          );
        if (identical({ type, name, content }))
          return json(res, failure(81058, 'An identical record already exists.'), 400);
        const rec = addRecord(zone.name, {
          type,
          name,
          content,
          ttl: body.ttl as number | undefined,
          proxied: body.proxied === true,
          comment: typeof body.comment === 'string' ? body.comment : null,
        });
        return json(res, envelope(rec));
      }
      return json(res, failure(10405, 'Method not allowed'), 405);
    }

    const rec = inZone.find((r) => r.id === parts[3]);
    if (!rec) return json(res, failure(81044, 'Record does not exist.'), 404);
    if (req.method === 'GET') return json(res, envelope(rec));
    if (req.method === 'DELETE') {
      records.splice(records.indexOf(rec), 1);
      return json(res, envelope({ id: rec.id }));
    }
    if (req.method === 'PATCH' || req.method === 'PUT') {
      // PATCH changes only the fields sent; PUT overwrites the record (omitted fields take defaults).
      const base =
        req.method === 'PUT'
          ? { ttl: 1, proxied: false, comment: null }
          : { ttl: rec.ttl, proxied: rec.proxied, comment: rec.comment };
      const next = {
        type: typeof body.type === 'string' ? body.type : rec.type,
        name: typeof body.name === 'string' ? lc(body.name) : rec.name,
        content: typeof body.content === 'string' ? body.content : rec.content,
        ttl: typeof body.ttl === 'number' ? body.ttl : base.ttl,
        proxied: typeof body.proxied === 'boolean' ? body.proxied : base.proxied,
        comment: typeof body.comment === 'string' ? body.comment : base.comment,
      };
      const bad = validate(next.type, next.content);
      if (bad) return json(res, failure(bad[0], bad[1]), 400);
      if (!validTtl(next.ttl))
        return json(res, failure(9021, 'Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.'), 400);
      if (identical(next, rec.id)) return json(res, failure(81058, 'An identical record already exists.'), 400);
      Object.assign(rec, next, { modified_on: now() });
      return json(res, envelope(rec));
    }
    return json(res, failure(10405, 'Method not allowed'), 405);
  }

  const srv = await startServer(handle);
  return {
    url: `${srv.url}${API_PREFIX}`,
    requests: srv.requests,
    records,
    zones,
    addRecord,
    find: (name, type) => records.filter((r) => r.name === lc(name) && (!type || r.type === type)),
    rateLimit: (o) => {
      limit = o === false ? null : { after: o.after ?? 0, retryAfter: o.retryAfter === undefined ? 300 : o.retryAfter };
    },
    failNext: (f, o = {}) => {
      failures.push({ f, left: o.count ?? 1, method: o.method });
    },
    calls: () =>
      srv.requests.map((r) => {
        const qs = r.query.toString();
        return `${r.method} ${r.path.slice(API_PREFIX.length)}${qs ? `?${qs}` : ''}`;
      }),
    close: async () => {
      for (const r of pending.splice(0)) r.socket?.destroy();
      await srv.close();
    },
  };
}
