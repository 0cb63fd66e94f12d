/**
 * A local Hetzner Cloud API (DNS zones, RRsets and zone actions), on 127.0.0.1, answering as
 * documented at https://docs.hetzner.cloud/reference/cloud#zones,
 * https://docs.hetzner.cloud/reference/cloud#zone-rrsets and
 * https://docs.hetzner.cloud/reference/cloud#zone-actions:
 * - `Authorization: Bearer <token>`; else 401 `{"error":{"code":"unauthorized","message":"unable to authenticate","details":{}}}`;
 *   a read-only token gets 403 `forbidden` on writes;
 * - `GET /v1/zones?page=&per_page=` lists `{zones:[{id, name, mode, ttl, …}], meta:{pagination:{page, per_page, next_page, …}}}`;
 * - `GET /v1/zones/{zone}/rrsets/{name}/{type}` (apex `@`) answers `{rrset:{id, name, type, ttl,
 *   records:[{value, comment}], …}}` or 404 `not_found`; `POST /v1/zones/{zone}/rrsets` creates one
 *   (201 `{rrset, action}`; 409 `uniqueness_error` when it exists);
 * - `POST …/rrsets/{name}/{type}/actions/set_records` replaces the records (TTL kept),
 *   `add_records` appends (creating the RRset), `remove_records` removes the values sent (deleting
 *   an RRset left empty); each answers 201 `{action:{id, command, status:"running", progress,
 *   started, finished, resources, error}}`;
 * - `GET /v1/zones/actions/{id}` reports the action; here it stays `running` for `actionPolls`
 *   polls, then `success` (or `error` when told so); the change shows once the action succeeded;
 * - TXT values must be quoted; 3600 requests per hour per project, then 429 `rate_limit_exceeded`
 *   with `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (epoch seconds).
 *
 *   const h = await startHetzner({ token, zones: { 'example.com': [] } });
 *   // endpoint: `${h.url}/v1`; then h.requests, h.find('example.com', 'home', 'A'), h.failAction()
 */
import type http from 'node:http';
import { isIP } from 'node:net';
import { json, type RecordedRequest } from '../http-server';
import type { ContractFailure } from './duckdns';
import { startFaultyServer } from './rest';

export interface HzRecord {
  value: string;
  comment?: string;
}

export interface HzRRset {
  name: string;
  type: string;
  ttl: number | null;
  records: HzRecord[];
}

interface HzAction {
  id: number;
  command: string;
  polls: number;
  fail: boolean;
  apply: () => void;
  status: 'running' | 'success' | 'error';
}

export interface HetznerContract {
  url: string;
  requests: RecordedRequest[];
  rrsets: Map<string, HzRRset[]>;
  find(zone: string, name: string, type: string): HzRRset | undefined;
  /** The next write's action ends in `error` (`action_failed`). */
  failAction(): void;
  failNext(f: ContractFailure, times?: number): void;
  close(): Promise<void>;
}

export async function startHetzner(opts: {
  token: string;
  readOnlyToken?: string;
  zones: Record<string, Array<Omit<HzRRset, 'ttl'> & { ttl?: number | null }>>;
  /** Polls answered `running` before an action ends (default 1). */
  actionPolls?: number;
}): Promise<HetznerContract> {
  const rrsets = new Map<string, HzRRset[]>();
  for (const [z, list] of Object.entries(opts.zones))
    rrsets.set(
      z,
      list.map((r) => ({ ttl: null, ...r })),
    );
  const actions = new Map<number, HzAction>();
  let nextAction = 1000;
  let failNextAction = false;
  const contract: HetznerContract = {
    url: '',
    requests: [],
    rrsets,
    find: (z, name, type) => rrsets.get(z)?.find((r) => r.name === name && r.type === type),
    failAction: () => {
      failNextAction = true;
    },
    failNext: () => undefined,
    close: async () => undefined,
  };
  const err = (res: http.ServerResponse, status: number, code: string, message: string) =>
    json(res, { error: { code, message, details: {} } }, status);
  const shownAction = (a: HzAction) => ({
    action: {
      id: a.id,
      command: a.command,
      status: a.status,
      progress: a.status === 'running' ? 0 : 100,
      started: '2026-01-01T00:00:00Z',
      finished: a.status === 'running' ? null : '2026-01-01T00:00:01Z',
      resources: [],
      error: a.status === 'error' ? { code: 'action_failed', message: 'Action failed' } : null,
    },
  });
  const startAction = (command: string, apply: () => void): HzAction => {
    const a: HzAction = {
      id: nextAction++,
      command,
      polls: opts.actionPolls ?? 1,
      fail: failNextAction,
      apply,
      status: 'running',
    };
    failNextAction = false;
    actions.set(a.id, a);
    return a;
  };
  const badValue = (type: string, v: string) =>
    (type === 'A' && isIP(v) !== 4) || (type === 'AAAA' && isIP(v) !== 6) || (type === 'TXT' && !/^".*"$/.test(v));

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    const auth = req.headers.authorization;
    const readOnly = opts.readOnlyToken !== undefined && auth === `Bearer ${opts.readOnlyToken}`;
    if (auth !== `Bearer ${opts.token}` && !readOnly) return err(res, 401, 'unauthorized', 'unable to authenticate');
    if (readOnly && req.method !== 'GET')
      return err(res, 403, 'forbidden', 'insufficient permissions for this request');
    const path = req.path.replace(/^\/v1/, '');
    if (path === '/zones' && req.method === 'GET') {
      const per = Number(req.query.get('per_page') ?? 25);
      const page = Number(req.query.get('page') ?? 1);
      const all = [...rrsets.keys()];
      return json(res, {
        zones: all
          .slice((page - 1) * per, page * per)
          .map((name, i) => ({ id: i + 1, name, mode: 'primary', ttl: 3600 })),
        meta: {
          pagination: {
            page,
            per_page: per,
            next_page: page * per < all.length ? page + 1 : null,
            total_entries: all.length,
          },
        },
      });
    }
    const am = /^\/zones\/actions\/(\d+)$/.exec(path);
    if (am) {
      const a = actions.get(Number(am[1]));
      if (!a) return err(res, 404, 'not_found', 'action not found');
      if (a.status === 'running' && a.polls-- <= 0) {
        a.status = a.fail ? 'error' : 'success';
        if (!a.fail) a.apply();
      }
      return json(res, shownAction(a));
    }
    const m = /^\/zones\/([^/]+)\/rrsets(?:\/([^/]+)\/([^/]+)(?:\/actions\/([a-z_]+))?)?$/.exec(path);
    const list = m ? rrsets.get(decodeURIComponent(m[1])) : undefined;
    if (!m || !list) return err(res, 404, 'not_found', 'zone not found');
    let body: { name?: string; type?: string; ttl?: number; records?: HzRecord[] } = {};
    try {
      body = req.body ? (JSON.parse(req.body) as typeof body) : {};
    } catch {
      return err(res, 400, 'json_error', 'invalid JSON');
    }
    if (!m[2]) {
      if (req.method !== 'POST') return err(res, 405, 'method_not_allowed', 'method not allowed');
      const { name = '', type = '', ttl, records = [] } = body;
      if (list.some((r) => r.name === name && r.type === type))
        return err(res, 409, 'uniqueness_error', 'rrset already exists');
      if (records.some((r) => badValue(type, r.value))) return err(res, 422, 'invalid_input', 'invalid record value');
      const rr: HzRRset = { name, type, ttl: ttl ?? null, records };
      const a = startAction('create_rrset', () => list.push(rr));
      return json(res, { rrset: { id: `${name}/${type}`, ...rr }, ...shownAction(a) }, 201);
    }
    const name = decodeURIComponent(m[2]);
    const type = m[3];
    const current = list.find((r) => r.name === name && r.type === type);
    if (!m[4]) {
      if (req.method !== 'GET') return err(res, 405, 'method_not_allowed', 'method not allowed');
      return current
        ? json(res, {
            rrset: { id: `${name}/${type}`, zone: 1, labels: {}, protection: { change: false }, ...current },
          })
        : err(res, 404, 'not_found', 'rrset not found');
    }
    const records = body.records ?? [];
    if (records.some((r) => badValue(type, r.value))) return err(res, 422, 'invalid_input', 'invalid record value');
    let apply: () => void;
    switch (m[4]) {
      case 'set_records':
        if (!current) return err(res, 404, 'not_found', 'rrset not found');
        apply = () => {
          current.records = records;
        };
        break;
      case 'add_records':
        apply = () => {
          const rr = list.find((r) => r.name === name && r.type === type);
          if (rr) rr.records.push(...records.filter((x) => !rr.records.some((y) => y.value === x.value)));
          else list.push({ name, type, ttl: body.ttl ?? null, records });
        };
        break;
      case 'remove_records':
        if (!current) return err(res, 404, 'not_found', 'rrset not found');
        apply = () => {
          current.records = current.records.filter((x) => !records.some((y) => y.value === x.value));
          if (current.records.length === 0) list.splice(list.indexOf(current), 1);
        };
        break;
      default:
        return err(res, 404, 'not_found', 'action not found');
    }
    return json(res, shownAction(startAction(`${m[4].replace(/_records$/, '')}_rrset_records`, apply)), 201);
  };
  return Object.assign(contract, await startFaultyServer(answer));
}
