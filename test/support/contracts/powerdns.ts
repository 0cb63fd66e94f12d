/**
 * A local PowerDNS Authoritative HTTP API v1, on 127.0.0.1, answering as documented at
 * https://doc.powerdns.com/authoritative/http-api/zone.html and as its webserver answers a client
 * that asks for JSON (pdns webserver.cc: errors as `{"error": …}`):
 * - `X-API-Key` on every request, else 401 `{"error":"Unauthorized"}`;
 * - `GET /api/v1/servers/{server}/zones` → `[{id, name, kind, url, serial …}]` (names with the final
 *   dot); an unknown server or zone: 404 `{"error":"Not Found"}`;
 * - `GET …/zones/{id}?rrset_name=&rrset_type=` → the zone with its `rrsets` (`{name, type, ttl,
 *   records:[{content, disabled}], comments}`), filtered (PowerDNS 4.9+);
 * - `PATCH …/zones/{id}` with `{"rrsets":[{name, type, ttl, changetype:"REPLACE"|"DELETE",
 *   records, comments?}]}` → 204; REPLACE keeps the comments when `comments` is absent; a name out
 *   of the zone, a missing TTL, an address that is not one or an unquoted TXT content → 422.
 *
 *   const p = await startPowerdns({ apiKey, zones: { 'example.com': [] } });
 *   // endpoint: p.url; then p.requests, p.find('home.example.com', 'A')
 */
import type http from 'node:http';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';
import { badAddress, jsonBody } from './rest-records';

export interface PdnsRRset {
  name: string;
  type: string;
  ttl: number;
  records: Array<{ content: string; disabled: boolean }>;
  comments: Array<{ content: string; account: string; modified_at: number }>;
}

export interface PowerdnsContract {
  url: string;
  requests: RecordedRequest[];
  zones: Map<string, PdnsRRset[]>;
  /** The RRset of a full name (no final dot) and type. */
  find(fqdn: string, type: string): PdnsRRset | undefined;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

interface Change extends Partial<PdnsRRset> {
  changetype?: string;
}

export async function startPowerdns(opts: {
  apiKey: string;
  serverId?: string;
  /** Zones by name (no final dot), with their RRsets (names with the final dot). */
  zones: Record<string, Array<Partial<PdnsRRset> & { name: string; type: string; records: PdnsRRset['records'] }>>;
}): Promise<PowerdnsContract> {
  const server = opts.serverId ?? 'localhost';
  const zones = new Map<string, PdnsRRset[]>();
  for (const [z, list] of Object.entries(opts.zones))
    zones.set(
      z,
      list.map((r) => ({ ttl: 3600, comments: [], ...r })),
    );
  /** The zone of a name (with the final dot): the longest that ends it. */
  const zoneOf = (name: string) =>
    [...zones.keys()].filter((z) => name === `${z}.` || name.endsWith(`.${z}.`)).sort((a, b) => b.length - a.length)[0];
  const err = (res: http.ServerResponse, status: number, error: string) => json(res, { error }, status);
  const noContent = (res: http.ServerResponse) => {
    res.writeHead(204);
    res.end();
  };
  const zoneInfo = (z: string) => ({
    id: `${z}.`,
    name: `${z}.`,
    kind: 'Native',
    url: `/api/v1/servers/${server}/zones/${z}.`,
    serial: 2024010101,
  });

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.headers['x-api-key'] !== opts.apiKey) return err(res, 401, 'Unauthorized');
    const m = /^\/api\/v1\/servers\/([^/]+)\/zones(?:\/([^/]+))?$/.exec(req.path);
    if (!m || decodeURIComponent(m[1]) !== server) return err(res, 404, 'Not Found');
    if (!m[2])
      return req.method === 'GET' ? json(res, [...zones.keys()].map(zoneInfo)) : err(res, 405, 'Method Not Allowed');
    const z = decodeURIComponent(m[2]).replace(/\.$/, '');
    const list = zones.get(z);
    if (!list) return err(res, 404, 'Not Found');
    if (req.method === 'GET') {
      const name = req.query.get('rrset_name');
      const type = req.query.get('rrset_type');
      const rrsets = list.filter((r) => (!name || r.name === name) && (!type || r.type === type));
      return json(res, { ...zoneInfo(z), rrsets });
    }
    if (req.method !== 'PATCH') return err(res, 405, 'Method Not Allowed');
    const body = jsonBody<{ rrsets: Change[] }>(req);
    if (!body?.rrsets) return err(res, 400, 'Request body is not a JSON object with rrsets');
    for (const c of body.rrsets) {
      const label = `RRset ${c.name} IN ${c.type}`;
      if (!c.name?.endsWith('.') || zoneOf(c.name) !== z) return err(res, 422, `${label}: Name is out of zone`);
      const at = list.findIndex((r) => r.name === c.name && r.type === c.type);
      if (c.changetype === 'DELETE') {
        if (at >= 0) list.splice(at, 1);
        continue;
      }
      if (c.changetype !== 'REPLACE') return err(res, 422, 'Changetype not understood');
      if (c.records === undefined) continue;
      if (c.ttl === undefined) return err(res, 422, `Key 'ttl' not present or not a Number`);
      for (const r of c.records)
        if (badAddress(c.type, r.content) || (c.type === 'TXT' && !/^".*"$/.test(r.content)))
          return err(res, 422, `${label}: Parsing record content (try 'pdnsutil check-zone'): ${r.content}`);
      if (c.records.length === 0) {
        if (at >= 0) list.splice(at, 1);
        continue;
      }
      const before = at >= 0 ? list[at] : undefined;
      const next: PdnsRRset = {
        name: c.name,
        type: c.type!,
        ttl: c.ttl,
        records: c.records.map((r) => ({ content: r.content, disabled: Boolean(r.disabled) })),
        comments: c.comments ?? before?.comments ?? [],
      };
      if (before) list[at] = next;
      else list.push(next);
    }
    return noContent(res);
  };
  const srv = await startFaultyServer(answer);
  return {
    ...srv,
    zones,
    find: (fqdn, type) => zones.get(zoneOf(`${fqdn}.`) ?? '')?.find((r) => r.name === `${fqdn}.` && r.type === type),
  };
}
