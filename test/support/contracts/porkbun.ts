/**
 * A local Porkbun API v3 (DNS part), on 127.0.0.1, answering as documented at
 * https://porkbun.com/api/json/v3/documentation (Markdown: https://porkbun.com/llms/dns):
 * - every call is a POST of JSON carrying `apikey` and `secretapikey` (or the `X-API-Key` /
 *   `X-Secret-API-Key` headers); paths `dns/retrieveByNameType/{domain}/{type}/[{sub}]`,
 *   `dns/retrieve/{domain}[/{id}]`, `dns/create/{domain}` (→ `{"status":"SUCCESS","id":…}`),
 *   `dns/edit/{domain}/{id}`, `dns/delete/{domain}/{id}`; the `/api/json/v3` prefix is optional here;
 * - records are `{id, name (full name), type, content, ttl, prio, notes}` with strings for numbers;
 *   the TTL defaults to 600 (also on an edit without one), 600 is the minimum;
 * - failures are HTTP 400 `{"status":"ERROR","message":…}`: `Invalid API key. (002)`,
 *   `Invalid domain.` (not the account's), `Domain is not opted in to API access.`, and
 *   `Invalid record ID.`;
 * - more than about one request per second per key gets the load balancer's HTML 503
 *   (nrdcg/porkbun#3, StackExchange/dnscontrol#3225): with `minGapMs` the server enforces it.
 *
 *   const pb = await startPorkbun({ apikey, secret, domains: { 'example.com': {} } });
 *   // endpoint: pb.url; then pb.requests, pb.find('www.example.com', 'A'); pb.failNext('busy')
 */
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface PbRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  ttl: string;
  prio: string;
  notes: string;
}

export interface PbDomain {
  /** "API ACCESS" switched on (default true). */
  apiAccess?: boolean;
  records?: Array<Partial<PbRecord> & { name: string; type: string; content: string }>;
}

/** Porkbun's own failure besides the generic ones: its HTML 503 when a key sends too fast. */
export type PorkbunFailure = ContractFailure | 'busy';

export interface PorkbunContract {
  url: string;
  requests: RecordedRequest[];
  /** Every record of every domain (live). */
  records: Map<string, PbRecord[]>;
  find(name: string, type: string): PbRecord[];
  /** Requests answered with the HTML 503 because they came too fast. */
  tooFast: number;
  failNext(f: PorkbunFailure, times?: number): void;
  close(): Promise<void>;
}

const BUSY_PAGE =
  '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>openresty</center></body></html>';

export async function startPorkbun(opts: {
  apikey: string;
  secret: string;
  domains: Record<string, PbDomain>;
  /** Answer the HTML 503 to a key's request sent sooner than this after its previous one. */
  minGapMs?: number;
}): Promise<PorkbunContract> {
  let nextId = 100_000;
  const records = new Map<string, PbRecord[]>();
  const access = new Map<string, boolean>();
  for (const [d, spec] of Object.entries(opts.domains)) {
    access.set(d, spec.apiAccess ?? true);
    records.set(
      d,
      (spec.records ?? []).map((r) => ({ id: String(nextId++), ttl: '600', prio: '0', notes: '', ...r })),
    );
  }
  const lastAt = new Map<string, number>();
  const contract: PorkbunContract = {
    url: '',
    requests: [],
    records,
    find: (name, type) => [...records.values()].flat().filter((r) => r.name === name && r.type === type),
    tooFast: 0,
    failNext: () => undefined,
    close: async () => undefined,
  };

  const error = (res: http.ServerResponse, message: string) => json(res, { status: 'ERROR', message }, 400);
  const busy = (res: http.ServerResponse) => {
    res.writeHead(503, { 'content-type': 'text/html' });
    res.end(BUSY_PAGE);
  };

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.method !== 'POST' && req.method !== 'GET')
      return json(res, { status: 'ERROR', message: 'Bad method' }, 405);
    let body: Record<string, unknown> = {};
    try {
      body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    } catch {
      return error(res, 'Invalid JSON.');
    }
    const key = String(body.apikey ?? req.headers['x-api-key'] ?? '');
    const secret = String(body.secretapikey ?? req.headers['x-secret-api-key'] ?? '');
    if (opts.minGapMs !== undefined) {
      const last = lastAt.get(key);
      lastAt.set(key, req.at);
      if (last !== undefined && req.at - last < opts.minGapMs) {
        contract.tooFast++;
        return busy(res);
      }
    }
    if (key !== opts.apikey || secret !== opts.secret) return error(res, 'Invalid API key. (002)');
    const parts = req.path
      .replace(/^\/api\/json\/v3/, '')
      .split('/')
      .filter(Boolean)
      .map(decodeURIComponent);
    const [area, verb, domain, ...rest] = parts;
    if (area === 'ping' && !verb) return json(res, { status: 'SUCCESS', yourIp: '127.0.0.1' });
    if (area !== 'dns' || !verb || !domain) return json(res, { status: 'ERROR', message: 'Not found.' }, 404);
    const list = records.get(domain);
    if (!list) return error(res, 'Invalid domain.');
    if (!access.get(domain)) return error(res, 'Domain is not opted in to API access.');
    const full = (sub: unknown) => (typeof sub === 'string' && sub !== '' ? `${sub}.${domain}` : domain);
    const byId = (id: string | undefined) => list.find((r) => r.id === id);

    switch (verb) {
      case 'retrieveByNameType': {
        const [type, sub] = rest;
        const name = full(sub);
        return json(res, {
          status: 'SUCCESS',
          records: list.filter((r) => r.type === (type ?? '').toUpperCase() && r.name === name),
        });
      }
      case 'retrieve': {
        const id = rest[0];
        return json(res, { status: 'SUCCESS', records: id ? list.filter((r) => r.id === id) : list });
      }
      case 'create': {
        const type = String(body.type ?? '').toUpperCase();
        if (!type || typeof body.content !== 'string') return error(res, 'Missing type or content.');
        const ttl = Number(body.ttl ?? 600);
        if (!(ttl >= 600)) return error(res, 'TTL must be at least 600.');
        const rec: PbRecord = {
          id: String(nextId++),
          name: full(body.name),
          type,
          content: body.content,
          ttl: String(ttl),
          prio: String(body.prio ?? '0'),
          notes: String(body.notes ?? ''),
        };
        list.push(rec);
        return json(res, { status: 'SUCCESS', id: Number(rec.id) });
      }
      case 'edit': {
        const rec = byId(rest[0]);
        if (!rec) return error(res, 'Invalid record ID.');
        if (typeof body.content !== 'string' || !body.type) return error(res, 'Missing type or content.');
        rec.name = full(body.name);
        rec.type = String(body.type).toUpperCase();
        rec.content = body.content;
        rec.ttl = String(body.ttl ?? 600);
        rec.prio = String(body.prio ?? '0');
        if (body.notes !== undefined) rec.notes = String(body.notes);
        return json(res, { status: 'SUCCESS' });
      }
      case 'delete': {
        const rec = byId(rest[0]);
        if (!rec) return error(res, 'Invalid record ID.');
        list.splice(list.indexOf(rec), 1);
        return json(res, { status: 'SUCCESS' });
      }
      default:
        return json(res, { status: 'ERROR', message: 'Not found.' }, 404);
    }
  };

  const srv = await startFaultyServer<PorkbunFailure>(answer, (f, res) => f === 'busy' && (busy(res), true));
  return Object.assign(contract, srv);
}
