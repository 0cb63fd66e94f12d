/**
 * A local Njalla JSON-RPC API 1, on 127.0.0.1, answering as documented at https://njal.la/api/
 * (and as lego's Njalla client and its fixtures read it):
 * - `POST /api/1/` with `{"jsonrpc":"2.0","id","method","params"}` and `Authorization: Njalla
 *   <token>`; answers HTTP 200 `{"jsonrpc":"2.0","id","result":…}` or `{"jsonrpc":"2.0","error":
 *   {"code","message"}}` (a wrong token: 403 "Invalid token."; a domain the token does not manage:
 *   403 "Permission denied."; a missing parameter: 400 "missing domain");
 * - `list-domains` → `{domains:[{name, status, expiry}]}`; `list-records {domain}` → `{records:[{id,
 *   name, type, content, ttl}]}` (`@` for the apex); `add-record {domain, type, name, content, ttl}`
 *   → the record; `edit-record {domain, id, …}` changes only what is sent; `remove-record
 *   {domain, id}` → `{}`. TTLs: 60, 300, 900, 3600, 10800, 21600, 86400.
 *
 *   const n = await startNjalla({ token, domains: { 'example.com': [] } });
 *   // endpoint: `${n.url}/api/1/`; then n.requests, n.find('home.example.com', 'A'), n.calls()
 */
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import { startFaultyServer } from './rest';
import { badAddress, jsonBody, recordStore, type RecordsContract } from './rest-records';

export interface NjallaRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  ttl: number;
}

export interface NjallaContract extends RecordsContract<NjallaRecord> {
  /** The JSON-RPC calls received, in order. */
  calls(): Array<{ method: string; params: Record<string, unknown> }>;
}

const TTLS = [60, 300, 900, 3600, 10800, 21600, 86400];

export async function startNjalla(opts: {
  token: string;
  domains: Record<string, Array<Partial<NjallaRecord> & { type: string; name: string; content: string }>>;
}): Promise<NjallaContract> {
  let nextId = 2_000_000;
  const fill = (r: Partial<NjallaRecord> & { type: string; name: string; content: string }): NjallaRecord => ({
    id: String(nextId++),
    ttl: 10800,
    ...r,
  });
  // The store's names are relative with `""` for the apex; Njalla's apex is `@`.
  const store = recordStore(opts.domains, fill);
  const apex = (n: unknown) => (n === '@' ? '' : String(n));
  const calls: Array<{ method: string; params: Record<string, unknown> }> = [];
  const reply = (res: http.ServerResponse, id: unknown, result: unknown) => json(res, { jsonrpc: '2.0', id, result });
  const fail = (res: http.ServerResponse, code: number, message: string) =>
    json(res, { jsonrpc: '2.0', error: { code, message } });
  const shown = (r: NjallaRecord) => ({ ...r, name: r.name === '' ? '@' : r.name });

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.method !== 'POST' || req.path !== '/api/1/') return json(res, { error: 'Not Found' }, 404);
    if (req.headers.authorization !== `Njalla ${opts.token}`) return fail(res, 403, 'Invalid token.');
    const body = jsonBody<{ id: string; method: string; params: Record<string, unknown> }>(req);
    if (!body?.method) return fail(res, 400, 'Invalid request.');
    const p = body.params ?? {};
    calls.push({ method: body.method, params: p });
    if (body.method === 'list-domains')
      return reply(res, body.id, {
        domains: [...store.records.keys()].map((name) => ({ name, status: 'active', expiry: '2030-01-01T00:00:00Z' })),
      });
    if (!p.domain) return fail(res, 400, 'missing domain');
    const list = store.records.get(String(p.domain));
    if (!list) return fail(res, 403, 'Permission denied.');
    const rec = p.id !== undefined ? list.find((r) => r.id === String(p.id)) : undefined;
    switch (body.method) {
      case 'list-records':
        return reply(res, body.id, { records: list.map(shown) });
      case 'add-record': {
        const type = String(p.type ?? '');
        const content = String(p.content ?? '');
        if (!type || p.name === undefined || badAddress(type, content) || !TTLS.includes(Number(p.ttl)))
          return fail(res, 400, 'Invalid record.');
        const created = fill({ type, name: apex(p.name), content, ttl: Number(p.ttl) });
        list.push(created);
        return reply(res, body.id, shown(created));
      }
      case 'edit-record': {
        if (!rec) return fail(res, 404, 'Record not found.');
        if (p.content !== undefined && badAddress(rec.type, String(p.content)))
          return fail(res, 400, 'Invalid record.');
        if (p.content !== undefined) rec.content = String(p.content);
        if (p.ttl !== undefined) rec.ttl = Number(p.ttl);
        return reply(res, body.id, shown(rec));
      }
      case 'remove-record': {
        if (!rec) return fail(res, 404, 'Record not found.');
        list.splice(list.indexOf(rec), 1);
        return reply(res, body.id, {});
      }
      default:
        return fail(res, 400, 'Unknown method.');
    }
  };
  return { ...store, calls: () => calls, ...(await startFaultyServer(answer)) };
}
