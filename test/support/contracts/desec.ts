/**
 * A local deSEC REST API (domains and RRsets), on 127.0.0.1, answering as documented:
 * - https://desec.readthedocs.io/en/latest/dns/domains.html: `GET /api/v1/domains/?owns_qname=<name>`
 *   lists the one domain responsible for the name (or none); domains carry `minimum_ttl`.
 * - https://desec.readthedocs.io/en/latest/dns/rrsets.html: `GET …/rrsets/?subname=&type=` lists
 *   RRsets `{subname, name, type, ttl, records, …}`; `GET …/rrsets/{subname|@}/{type}/`; the bulk
 *   `PATCH …/rrsets/` with an array changes only the fields sent, creates an RRset that does not
 *   exist (then `ttl` is required), deletes one given `records: []`; bulk errors come back as a
 *   list aligned with the request; a TTL below the domain's `minimum_ttl` is refused; TXT contents
 *   must be quoted.
 * - https://desec.readthedocs.io/en/latest/auth/tokens.html: `Authorization: Token <t>`, else
 *   401 `{"detail":"Invalid token."}`; a token policy that does not allow a write: 403.
 * - https://desec.readthedocs.io/en/latest/rate-limits.html: RRset writes per domain 2/s, 15/min,
 *   100/h, 300/day; beyond, 429 `{"detail":"Request was throttled. Expected available in N seconds."}`
 *   with `Retry-After: N` (enforced here when `enforceWriteLimits` is set).
 *
 *   const d = await startDesec({ token, domains: { 'example.dedyn.io': { minimumTtl: 60 } } });
 *   // endpoint: `${d.url}/api/v1`; then d.requests, d.find('example.dedyn.io', 'home', 'A'), d.writes
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface DesecRRset {
  subname: string;
  type: string;
  ttl: number;
  records: string[];
}

export interface DesecDomainSpec {
  minimumTtl?: number;
  rrsets?: Array<Omit<DesecRRset, 'ttl'> & { ttl?: number }>;
}

export interface DesecContract {
  url: string;
  requests: RecordedRequest[];
  /** Domain → its RRsets (live). */
  rrsets: Map<string, DesecRRset[]>;
  find(domain: string, subname: string, type: string): DesecRRset | undefined;
  /** Every accepted write (bulk PATCH), in order. */
  writes: Array<{ domain: string; changes: unknown[] }>;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

const WRITE_LIMITS: Array<[number, number]> = [
  [1_000, 2],
  [60_000, 15],
  [3_600_000, 100],
  [86_400_000, 300],
];

export async function startDesec(opts: {
  token: string;
  domains: Record<string, DesecDomainSpec>;
  /** Names (FQDN) a policy forbids this token to write (403). */
  readOnly?: string[];
  enforceWriteLimits?: boolean;
}): Promise<DesecContract> {
  const rrsets = new Map<string, DesecRRset[]>();
  const minTtl = new Map<string, number>();
  for (const [d, spec] of Object.entries(opts.domains)) {
    minTtl.set(d, spec.minimumTtl ?? 3600);
    rrsets.set(
      d,
      (spec.rrsets ?? []).map((r) => ({ ttl: spec.minimumTtl ?? 3600, ...r })),
    );
  }
  const writeTimes = new Map<string, number[]>();
  const contract: DesecContract = {
    url: '',
    requests: [],
    rrsets,
    find: (d, sub, type) => rrsets.get(d)?.find((r) => r.subname === sub && r.type === type),
    writes: [],
    failNext: () => undefined,
    close: async () => undefined,
  };
  const fqdn = (d: string, sub: string) => (sub ? `${sub}.${d}` : d);
  const shown = (d: string, r: DesecRRset) => ({
    domain: d,
    subname: r.subname,
    name: `${fqdn(d, r.subname)}.`,
    type: r.type,
    ttl: r.ttl,
    records: r.records,
    created: '2026-01-01T00:00:00.000000Z',
    touched: '2026-01-01T00:00:00.000000Z',
  });
  const notFound = (res: http.ServerResponse) => json(res, { detail: 'Not found.' }, 404);

  /** The reason a record content is invalid for its type, if any. */
  const badContent = (type: string, v: string): string | undefined => {
    if (type === 'A' && isIP(v) !== 4) return `Record content for type A malformed: ${v}`;
    if (type === 'AAAA' && isIP(v) !== 6) return `Record content for type AAAA malformed: ${v}`;
    if (type === 'TXT' && !/^".*"$/.test(v)) return 'Record content for type TXT malformed: must be quoted';
    return undefined;
  };

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.headers.authorization !== `Token ${opts.token}`) return json(res, { detail: 'Invalid token.' }, 401);
    const path = req.path.replace(/^\/api\/v1/, '');
    if (path === '/domains/' && req.method === 'GET') {
      const q = req.query.get('owns_qname');
      const names = [...rrsets.keys()].filter((d) => !q || q === d || q.endsWith(`.${d}`));
      names.sort((a, b) => b.length - a.length);
      return json(
        res,
        (q ? names.slice(0, 1) : names).map((name) => ({ name, minimum_ttl: minTtl.get(name) })),
      );
    }
    const m = /^\/domains\/([^/]+)\/(?:rrsets\/(?:([^/]+)\/([^/]+)\/)?)?$/.exec(path);
    if (!m) return notFound(res);
    const domain = decodeURIComponent(m[1]);
    const list = rrsets.get(domain);
    if (!list) return notFound(res);
    if (!path.includes('/rrsets/')) return json(res, { name: domain, minimum_ttl: minTtl.get(domain) });
    if (m[2] !== undefined) {
      const sub = m[2] === '@' ? '' : decodeURIComponent(m[2]);
      const r = list.find((x) => x.subname === sub && x.type === m[3]);
      return r && req.method === 'GET' ? json(res, shown(domain, r)) : notFound(res);
    }
    if (req.method === 'GET') {
      const sub = req.query.get('subname');
      const type = req.query.get('type');
      return json(
        res,
        list
          .filter((r) => (sub === null || r.subname === sub) && (!type || r.type === type))
          .map((r) => shown(domain, r)),
      );
    }
    if (req.method !== 'PATCH') return json(res, { detail: `Method "${req.method}" not allowed.` }, 405);
    let changes: Array<Partial<DesecRRset>>;
    try {
      changes = JSON.parse(req.body) as Array<Partial<DesecRRset>>;
      if (!Array.isArray(changes)) throw new Error('not a list');
    } catch {
      return json(res, { non_field_errors: ['Expected a list of items.'] }, 400);
    }
    if (changes.some((c) => opts.readOnly?.includes(fqdn(domain, c.subname ?? ''))))
      return json(res, { detail: 'You do not have permission to perform this action.' }, 403);
    if (opts.enforceWriteLimits) {
      const past = (writeTimes.get(domain) ?? []).filter((t) => t > req.at - 86_400_000);
      for (const [win, max] of WRITE_LIMITS) {
        const inWin = past.filter((t) => t > req.at - win);
        if (inWin.length >= max) {
          const wait = Math.ceil((inWin[inWin.length - max] + win - req.at) / 1000);
          return json(res, { detail: `Request was throttled. Expected available in ${wait} seconds.` }, 429, {
            'retry-after': String(wait),
          });
        }
      }
      writeTimes.set(domain, [...past, req.at]);
    }
    const errors = changes.map((c) => {
      const e: Record<string, string[]> = {};
      const exists = list.some((r) => r.subname === c.subname && r.type === c.type);
      if (typeof c.subname !== 'string') e.subname = ['This field is required.'];
      if (typeof c.type !== 'string') e.type = ['This field is required.'];
      if (!exists && c.ttl === undefined && (c.records?.length ?? 0) > 0) e.ttl = ['This field is required.'];
      if (c.ttl !== undefined && c.ttl < (minTtl.get(domain) ?? 3600))
        e.ttl = [`Ensure this value is greater than or equal to ${minTtl.get(domain)}.`];
      const bad = (c.records ?? []).map((v) => badContent(c.type ?? '', v)).find(Boolean);
      if (bad) e.records = [bad];
      return e;
    });
    if (errors.some((e) => Object.keys(e).length)) return json(res, errors, 400);
    for (const c of changes) {
      const i = list.findIndex((r) => r.subname === c.subname && r.type === c.type);
      if (c.records && c.records.length === 0) {
        if (i >= 0) list.splice(i, 1);
      } else if (i >= 0) {
        if (c.records) list[i].records = c.records;
        if (c.ttl !== undefined) list[i].ttl = c.ttl;
      } else {
        list.push({ subname: c.subname!, type: c.type!, ttl: c.ttl!, records: c.records ?? [] });
      }
    }
    contract.writes.push({ domain, changes });
    return json(
      res,
      list
        .filter((r) => changes.some((c) => c.subname === r.subname && c.type === r.type))
        .map((r) => shown(domain, r)),
    );
  };

  return Object.assign(contract, await startFaultyServer(answer));
}
