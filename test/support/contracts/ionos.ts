/**
 * A local IONOS DNS API v1, on 127.0.0.1, answering as documented at
 * https://developer.hosting.ionos.com/docs/dns (the answers' shapes also as lego's ionos provider
 * reads them: providers/dns/ionos/internal/types.go and its fixtures):
 * - `X-API-Key: <prefix>.<secret>`; else 401 `[{"code":"UNAUTHORIZED","message":"The customer is not authorized to do this operation."}]`;
 * - `GET /dns/v1/zones` → `[{id, name, type: "NATIVE"}]`;
 * - `GET /dns/v1/zones/{id}[?recordName&recordType]` → `{id, name, type, records: [{id, name, rootName, type, content, changeDate, ttl, prio, disabled}]}`;
 *   an unknown zone 404 `[{"code":"NOT_FOUND","message":"Zone not found"}]`;
 * - `POST /dns/v1/zones/{id}/records` with a list of records → 201 with the records made; a
 *   content that is not an address of its type: 400 `INVALID_RECORD`;
 * - `PUT /dns/v1/zones/{id}/records/{recordId}` `{content, ttl, prio, disabled}` → 200 the record;
 *   `DELETE` → 200; an unknown record 404.
 * - TXT contents are kept and answered quoted (`"value"`), as IONOS does.
 *
 *   const i = await startIonos({ key: 'prefix.secret', zones: { 'example.com': [] } });
 *   // endpoint: `${i.url}/dns/v1`
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface IonosRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  ttl: number;
  prio: number;
  disabled: boolean;
}

export interface IonosContract {
  url: string;
  requests: RecordedRequest[];
  find(name: string, type: string): IonosRecord[];
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

export async function startIonos(opts: {
  key: string;
  zones: Record<string, Array<Partial<IonosRecord> & { name: string; type: string; content: string }>>;
}): Promise<IonosContract> {
  const zones = new Map<string, { id: string; name: string; records: IonosRecord[] }>();
  for (const [name, records] of Object.entries(opts.zones)) {
    const id = randomUUID();
    zones.set(id, {
      id,
      name,
      records: records.map((r) => ({ id: randomUUID(), ttl: 3600, prio: 0, disabled: false, ...r })),
    });
  }
  const err = (res: http.ServerResponse, status: number, code: string, message: string) =>
    json(res, [{ code, message }], status);
  const quoted = (type: string, content: string) =>
    type === 'TXT' && !/^".*"$/.test(content) ? `"${content}"` : content;
  const valid = (type: string, content: unknown) =>
    typeof content === 'string' &&
    content !== '' &&
    (type === 'A' ? isIP(content) === 4 : type === 'AAAA' ? isIP(content) === 6 : true);
  const view = (zone: { name: string }, r: IonosRecord) => ({
    ...r,
    rootName: zone.name,
    changeDate: '2026-01-01T00:00:00.000Z',
  });

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.headers['x-api-key'] !== opts.key)
      return err(res, 401, 'UNAUTHORIZED', 'The customer is not authorized to do this operation.');
    const m = /^\/dns\/v1\/zones(?:\/([^/]+)(?:\/records(?:\/([^/]+))?)?)?$/.exec(req.path);
    if (!m) return err(res, 404, 'NOT_FOUND', 'Not found');
    if (!m[1])
      return json(
        res,
        [...zones.values()].map((z) => ({ id: z.id, name: z.name, type: 'NATIVE' })),
      );
    const zone = zones.get(m[1]);
    if (!zone) return err(res, 404, 'NOT_FOUND', 'Zone not found');
    const isRecords = req.path.includes('/records');
    if (!isRecords && req.method === 'GET') {
      const name = req.query.get('recordName');
      const types = req.query.get('recordType')?.split(',');
      const records = zone.records.filter((r) => (!name || r.name === name) && (!types || types.includes(r.type)));
      return json(res, { id: zone.id, name: zone.name, type: 'NATIVE', records: records.map((r) => view(zone, r)) });
    }
    let body: unknown;
    try {
      body = req.body ? JSON.parse(req.body) : undefined;
    } catch {
      return err(res, 400, 'INVALID_REQUEST', 'Malformed JSON');
    }
    if (isRecords && !m[2] && req.method === 'POST') {
      const list = body as Array<Partial<IonosRecord>>;
      if (!Array.isArray(list)) return err(res, 400, 'INVALID_REQUEST', 'A list of records is expected');
      const made: IonosRecord[] = [];
      for (const r of list) {
        const name = String(r.name ?? '').toLowerCase();
        if (!r.type || !valid(r.type, r.content) || (name !== zone.name && !name.endsWith(`.${zone.name}`)))
          return err(res, 400, 'INVALID_RECORD', 'Record is invalid.');
        made.push({
          id: randomUUID(),
          name,
          type: r.type,
          content: quoted(r.type, r.content!),
          ttl: r.ttl ?? 3600,
          prio: r.prio ?? 0,
          disabled: r.disabled ?? false,
        });
      }
      zone.records.push(...made);
      return json(
        res,
        made.map((r) => view(zone, r)),
        201,
      );
    }
    const i = zone.records.findIndex((r) => r.id === m[2]);
    if (i < 0) return err(res, 404, 'NOT_FOUND', 'Record not found');
    if (req.method === 'PUT') {
      const u = body as Partial<IonosRecord>;
      if (!valid(zone.records[i].type, u.content)) return err(res, 400, 'INVALID_RECORD', 'Record is invalid.');
      const r = zone.records[i];
      zone.records[i] = {
        ...r,
        content: quoted(r.type, u.content!),
        ttl: u.ttl ?? 3600,
        prio: u.prio ?? 0,
        disabled: u.disabled ?? false,
      };
      return json(res, view(zone, zone.records[i]));
    }
    if (req.method === 'DELETE') {
      zone.records.splice(i, 1);
      return json(res, {});
    }
    return err(res, 405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
  };
  const srv = await startFaultyServer(answer);
  return {
    ...srv,
    find: (name, type) =>
      [...zones.values()].flatMap((z) => z.records.filter((r) => r.name === name && r.type === type)),
  };
}
