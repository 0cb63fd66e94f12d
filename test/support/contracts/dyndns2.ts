/**
 * A local dyndns2 server for tests and benchmarks: it keeps the A/AAAA values of its hosts and
 * answers as the providers document it, per flavour.
 *
 * Documentation reproduced:
 * - Dyn:   https://help.dyn.com/remote-access-api/perform-update/ and https://help.dyn.com/return-codes/
 *          (one line per host in request order, account/system errors once, up to 20 hosts,
 *          `good`/`nochg`/`badauth`/`!donator`/`notfqdn`/`nohost`/`numhost`/`abuse`/`badagent`/
 *          `dnserr`/`911`; `/v3/update` takes `myip=<v4>,<v6>`, `/nic/update` one address; a
 *          User-Agent `Company - Device - Version Number`, else `badagent`).
 * - No-IP: https://www.noip.com/integrate/request (`myip=<v4>,<v6>`, the answer lists both;
 *          User-Agent `Company NameOfProgram/OSVersion-ReleaseVersion maintainer-contact@example.com`,
 *          else `badagent`; 401 + `badauth`).
 * - Dynu:  https://www.dynu.com/DynamicDNS/IP-Update-Protocol (GET only; Basic auth or
 *          `username`/`password` parameters, the password plain, MD5 or SHA-256; `myip`/`myipv6`,
 *          `no` leaves a family as it is; an omitted family is taken from the source address).
 * Where the documents say nothing (the address list of a dual-stack answer line, the answer to a
 * malformed `myip`), the choice made here is stated beside the code; clients should not depend on it.
 *
 * API:
 *   const srv = await startDyndns2({ flavour: 'noip', users: { alice: 'pw' }, hosts: ['a.example.net'] });
 *   srv.url                      endpoint URL (http://127.0.0.1:<port>/nic/update)
 *   srv.requests                 every request received (method, path, query, headers, basic auth…)
 *   srv.record(host)             { ipv4?, ipv6? } the server holds now
 *   srv.setAddress(host, family, address | undefined)
 *   srv.addHost(host, { owner?, ipv4?, ipv6? }) / srv.block(host)  (block: answers `abuse`)
 *   srv.answerNext(lines | canned) queue one canned answer (lines, status, headers, delayMs, reset, hang, hugeBytes)
 *   srv.updates                  number of requests that changed at least one record
 *   srv.close()
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { isIP } from 'node:net';
import { startServer, type RecordedRequest } from '../http-server';

export type Dyndns2Flavour = 'noip' | 'dynu' | 'dyn' | 'generic' | keyof typeof PRESETS;
export type Family = 'ipv4' | 'ipv6';

/**
 * How a dyndns2-style service's requests and answers differ from dyndns2's, as it documents them
 * (the pages are cited in each provider's file, src/core/providers/<id>.ts):
 * `host`/`ip`/`ipv6` the query names (`ipv6` set: IPv4 and IPv6 in their own parameters of one
 * request), `user`/`password` credentials in the query instead of Basic auth (`password` alone: a
 * key that names no user), `hostIsUser` the Basic username is the name (HE), `maxHosts` names per
 * request, `combined` `myip=<v4>,<v6>` accepted, `render` the answer in the service's own form.
 */
export interface WireShape {
  host?: string;
  ip?: string;
  ipv6?: string;
  user?: string;
  password?: string;
  hostIsUser?: boolean;
  maxHosts?: number;
  combined?: boolean;
  render?: (line: string) => { status?: number; body: string };
}

const xmlAnswer = (el: string, code: number, text: string) => ({
  body: `<${el} CODE="${code}" TEXT="${text}" ZONE="example.net">`,
});

/** The presets whose wire form differs from plain dyndns2 (the others use the `generic` flavour). */
export const PRESETS = {
  strato: { combined: true },
  allinkl: { host: 'host', ipv6: 'myip6' },
  ydns: { host: 'host', ip: 'ip' },
  dnshome: { ip: 'ip', ipv6: 'ip6' },
  dode: { user: 'username', password: 'password' },
  ipv64: { host: 'domain', ip: 'ip', ipv6: 'ip6', password: 'key' },
  he: { hostIsUser: true, maxHosts: 1 },
  // ChangeIP: success is the sentence `200 Successful Update`; refusals HTTP 401.
  changeip: {
    ip: 'ip',
    maxHosts: 1,
    render: (l) =>
      /^(good|nochg)/.test(l)
        ? { body: '200 Successful Update' }
        : l === 'badauth'
          ? { status: 401, body: 'badauth' }
          : { body: l },
  },
  // selfHost.de: 204 without a body for no change, 401 for bad credentials, 409 for an unknown zone.
  selfhost: {
    maxHosts: 1,
    render: (l) =>
      l.startsWith('nochg')
        ? { status: 204, body: '' }
        : l === 'badauth'
          ? { status: 401, body: 'badauth' }
          : l === 'nohost'
            ? { status: 409, body: '' }
            : { body: l },
  },
  // dynv6 update API: sentences, 401 for a bad token, 404 for an unknown zone.
  dynv6: {
    host: 'zone',
    ip: 'ipv4',
    ipv6: 'ipv6',
    password: 'token',
    maxHosts: 1,
    render: (l) =>
      l.startsWith('good')
        ? { body: 'addresses updated' }
        : l.startsWith('nochg')
          ? { body: 'addresses unchanged' }
          : l === 'badauth'
            ? { status: 401, body: 'invalid authentication token' }
            : l === 'nohost'
              ? { status: 404, body: 'zone not found' }
              : { body: l },
  },
  // Zoneedit: one XML element per answer; 702 when a name is updated again within 600 s.
  zoneedit: {
    maxHosts: 1,
    render: (l) =>
      l.startsWith('good')
        ? xmlAnswer('SUCCESS', 200, 'Update succeeded.')
        : l.startsWith('nochg')
          ? xmlAnswer('SUCCESS', 201, 'no update required')
          : l === 'badauth'
            ? xmlAnswer('ERROR', 708, 'Failed Login: alice')
            : l === 'nohost'
              ? xmlAnswer('ERROR', 709, 'Invalid hostname')
              : l === 'toosoon'
                ? xmlAnswer('ERROR', 702, 'Minimum 600 seconds between requests')
                : { body: l },
  },
} satisfies Record<string, WireShape>;

export interface HostState {
  /** Username owning the host; undefined: any user of the server. */
  owner?: string;
  ipv4?: string;
  ipv6?: string;
  /** Answers `abuse` (blocked for update abuse). */
  blocked?: boolean;
}

export interface Dyndns2ServerOptions {
  flavour: Dyndns2Flavour;
  /** username → password. */
  users: Record<string, string>;
  /** Host names the server knows (owned by any user), or their full state. */
  hosts: string[] | Record<string, HostState>;
  /** Listen address; default 127.0.0.1. */
  listen?: string;
  /** Update path; default `/nic/update` (Dyn also serves `/v3/update`). */
  path?: string;
  /**
   * Block a host (answer `abuse` from then on) after this many `nochg` answers in a row for it,
   * as the providers warn they do. Default: never.
   */
  nochgLimit?: number;
  /** Answer `toosoon` (rendered by the preset, e.g. Zoneedit's 702) for a name written less than this long ago. */
  minIntervalMs?: number;
}

/** One canned answer, used for exactly one request (which is still recorded). */
export interface CannedAnswer {
  /** Answer lines, joined with `\n`. */
  lines?: string[];
  /** Raw body (wins over lines). */
  body?: string;
  status?: number;
  headers?: Record<string, string>;
  /** Answer after this many ms. */
  delayMs?: number;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Never answer (until close). */
  hang?: boolean;
  /** Stream a body of this many bytes (chunked, no content-length). */
  hugeBytes?: number;
}

export interface Dyndns2Server {
  url: string;
  origin: string;
  requests: RecordedRequest[];
  /** Requests that changed at least one record. */
  readonly updates: number;
  record(host: string): { ipv4?: string; ipv6?: string } | undefined;
  setAddress(host: string, family: Family, address: string | undefined): void;
  addHost(host: string, state?: HostState): void;
  block(host: string): void;
  answerNext(answer: string | string[] | CannedAnswer): void;
  close(): Promise<void>;
}

/**
 * The User-Agent each provider documents; another one gets `badagent` (HTTP 200), as the
 * providers answer a client they do not accept:
 * - No-IP, https://www.noip.com/integrate/request ("Important: Setting the Agent", software
 *   clients): `Company NameOfProgram/OSVersion-ReleaseVersion maintainer-contact@example.com`:
 *   a company, the program with its OS and release, and a contact e-mail address last.
 * - Dyn, https://help.dyn.com/remote-access-api/perform-update/: "a well-formed user agent that
 *   includes company name, model number, and software build revision", shown as
 *   `Company - Device - Version Number` (example: `Mellenium Inc. - Router 25001 - 1.1`).
 * - Dynu (`[DEVICE-MODEL-MAKE-VERSION]`) and other servers: any non-empty agent.
 */
export const AGENT_RULES: Partial<Record<Dyndns2Flavour, RegExp>> = {
  noip: /^\S.* [^\s/]+\/[^\s/-]+-\S+ [^\s@]+@[^\s@]+\.[a-z]{2,}$/i,
  dyn: /^\S.* - \S.* - \S+$/,
};
const FQDN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$/i;

export async function startDyndns2(opts: Dyndns2ServerOptions): Promise<Dyndns2Server> {
  const path = opts.path ?? '/nic/update';
  const shape: WireShape = (PRESETS as Record<string, WireShape>)[opts.flavour] ?? {};
  const lastWrite = new Map<string, number>();
  const hosts = new Map<string, HostState & { nochgs: number }>();
  const addHost = (h: string, s: HostState = {}) => hosts.set(h.toLowerCase(), { ...s, nochgs: 0 });
  if (Array.isArray(opts.hosts)) opts.hosts.forEach((h) => addHost(h));
  else for (const [h, s] of Object.entries(opts.hosts)) addHost(h, s);
  const queue: CannedAnswer[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let updates = 0;

  const send = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  };

  function canned(c: CannedAnswer, res: http.ServerResponse): void {
    if (c.reset) return void res.socket?.destroy();
    if (c.hang) return;
    const go = () => {
      if (c.hugeBytes) {
        res.writeHead(c.status ?? 200, { 'content-type': 'text/plain', ...c.headers });
        const chunk = 'nochg 1.2.3.4\n'.repeat(1024);
        for (let n = 0; n < c.hugeBytes; n += chunk.length) res.write(chunk);
        return void res.end();
      }
      send(res, c.status ?? 200, c.body ?? (c.lines ?? []).join('\n'), c.headers);
    };
    if (c.delayMs) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) go();
      }, c.delayMs);
      timers.add(t);
    } else go();
  }

  function authenticate(req: RecordedRequest): string | undefined {
    const pairs: Array<[string, string]> = [];
    if (shape.password) {
      const pass = req.query.get(shape.password) ?? '';
      if (shape.user) pairs.push([req.query.get(shape.user) ?? '', pass]);
      else for (const u of Object.keys(opts.users)) pairs.push([u, pass]);
    } else if (req.basic && shape.hostIsUser) {
      // HE: the username is the name; the key is that record's (here: any user's password).
      if (req.basic.user !== req.query.get('hostname')) return undefined;
      for (const u of Object.keys(opts.users)) pairs.push([u, req.basic.password]);
    } else if (req.basic) pairs.push([req.basic.user, req.basic.password]);
    if (opts.flavour === 'dynu' && req.query.get('password') !== null) {
      pairs.push([req.query.get('username') ?? '', req.query.get('password') ?? '']);
    }
    for (const [user, pass] of pairs) {
      const want = opts.users[user];
      if (want === undefined) continue;
      const forms = [want];
      // Dynu accepts the password, its MD5 or its SHA-256.
      if (opts.flavour === 'dynu')
        forms.push(createHash('md5').update(want).digest('hex'), createHash('sha256').update(want).digest('hex'));
      if (forms.includes(pass)) return user;
    }
    return undefined;
  }

  /** The addresses a request sets, per family, from myip (and Dynu's myipv6); null: malformed. */
  function addressesOf(req: RecordedRequest): Partial<Record<Family, string>> | null {
    const out: Partial<Record<Family, string>> = {};
    const source = req.remoteAddress.replace(/^::ffff:/, '');
    const put = (text: string) => {
      const v = isIP(text);
      if (v === 0) return false;
      const f: Family = v === 4 ? 'ipv4' : 'ipv6';
      if (out[f]) return false;
      out[f] = text.toLowerCase();
      return true;
    };
    if (opts.flavour === 'dynu') {
      for (const [param, family] of [
        ['myip', 'ipv4'],
        ['myipv6', 'ipv6'],
      ] as const) {
        const v = req.query.get(param);
        if (v === 'no') continue;
        if (v === null || v === '') {
          // Left out: taken from the source address when it is of this family.
          if (isIP(source) === (family === 'ipv4' ? 4 : 6)) out[family] = source;
          continue;
        }
        if (isIP(v) !== (family === 'ipv4' ? 4 : 6)) return null;
        out[family] = v.toLowerCase();
      }
      return out;
    }
    if (shape.ipv6) {
      for (const [param, family] of [
        [shape.ip ?? 'myip', 'ipv4'],
        [shape.ipv6, 'ipv6'],
      ] as const) {
        const v = req.query.get(param);
        if (v === null) continue;
        if (isIP(v) !== (family === 'ipv4' ? 4 : 6)) return null;
        out[family] = v.toLowerCase();
      }
      if (!out.ipv4 && !out.ipv6) put(source);
      return out;
    }
    const myip = req.query.get(shape.ip ?? 'myip');
    if (myip === null || myip === '') {
      put(source); // the documented fallback: the request's source address
      return out;
    }
    const parts = myip.split(',');
    const commaOk =
      opts.flavour === 'noip' || opts.flavour === 'generic' || shape.combined || path.endsWith('/v3/update');
    if (parts.length > (commaOk ? 2 : 1)) return null;
    for (const p of parts) if (!put(p.trim())) return null;
    return out;
  }

  function update(req: RecordedRequest, user: string): string[] {
    const hostnames = (req.query.get(shape.host ?? 'hostname') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    if (hostnames.length === 0) return ['notfqdn']; // "If no hosts are specified, notfqdn is returned once"
    if (hostnames.length > (shape.maxHosts ?? 20)) return ['numhost'];
    const addrs = addressesOf(req)!;
    let changed = false;
    const lines = hostnames.map((h) => {
      if (!FQDN.test(h)) return 'notfqdn';
      const st = hosts.get(h);
      if (!st || (st.owner !== undefined && st.owner !== user)) return 'nohost';
      if (st.blocked) return 'abuse';
      const last = lastWrite.get(h);
      if (opts.minIntervalMs !== undefined && last !== undefined && Date.now() - last < opts.minIntervalMs)
        return 'toosoon';
      let good = false;
      for (const f of ['ipv4', 'ipv6'] as const) {
        if (addrs[f] !== undefined && st[f] !== addrs[f]) {
          st[f] = addrs[f];
          good = true;
        }
      }
      st.nochgs = good ? 0 : st.nochgs + 1;
      if (!good && opts.nochgLimit !== undefined && st.nochgs > opts.nochgLimit) {
        st.blocked = true;
        return 'abuse';
      }
      changed ||= good;
      if (good) lastWrite.set(h, Date.now());
      const list = [addrs.ipv4, addrs.ipv6].filter(Boolean);
      // The address list format of a dual-stack line is not documented: No-IP-style comma here,
      // Dynu space-separated (the client accepts both).
      return `${good ? 'good' : 'nochg'} ${list.join(opts.flavour === 'dynu' ? ' ' : ',')}`;
    });
    if (changed) updates++;
    return lines;
  }

  const srv = await startServer((req, res) => {
    const c = queue.shift();
    if (c) return canned(c, res);
    if (req.path !== path) {
      return send(
        res,
        404,
        '<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>Not Found</body></html>',
        { 'content-type': 'text/html' },
      );
    }
    if (req.method !== 'GET') return send(res, 405, 'Method Not Allowed');
    const ua = req.headers['user-agent'] ?? '';
    /** dyndns2 answer lines, in the preset's own form when it has one. */
    const answer = (lines: string[], status = 200) => {
      if (!shape.render) return send(res, status, lines.join('\n'));
      const r = shape.render(lines[0]);
      send(res, r.status ?? status, r.body);
    };
    if (!ua.trim() || AGENT_RULES[opts.flavour]?.test(ua) === false) return answer(['badagent']);
    const user = authenticate(req);
    if (!user) return answer(['badauth'], opts.flavour === 'noip' ? 401 : 200);
    // A malformed address is not covered by the documents: answered here with HTTP 400.
    if (addressesOf(req) === null) return send(res, 400, 'bad address');
    answer(update(req, user));
  }, opts.listen ?? '127.0.0.1');

  return {
    url: `${srv.url}${path}`,
    origin: srv.url,
    requests: srv.requests,
    get updates() {
      return updates;
    },
    record(h) {
      const st = hosts.get(h.toLowerCase());
      return st ? { ...(st.ipv4 ? { ipv4: st.ipv4 } : {}), ...(st.ipv6 ? { ipv6: st.ipv6 } : {}) } : undefined;
    },
    setAddress(h, family, address) {
      const st = hosts.get(h.toLowerCase());
      if (!st) throw new Error(`unknown host ${h}`);
      st[family] = address;
    },
    addHost,
    block(h) {
      const st = hosts.get(h.toLowerCase());
      if (!st) throw new Error(`unknown host ${h}`);
      st.blocked = true;
    },
    answerNext(a) {
      queue.push(typeof a === 'string' ? { lines: [a] } : Array.isArray(a) ? { lines: a } : a);
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await srv.close();
    },
  };
}

/** Same as startDyndns2 (the short name other tests use). */
export const start = startDyndns2;

/** The one request the server got, checked to be a GET of /nic/update (what every dyndns2 client sends). */
export function onlyUpdate(srv: { requests: RecordedRequest[] }): RecordedRequest {
  assert.equal(srv.requests.length, 1, 'exactly one request');
  const r = srv.requests[0];
  assert.equal(r.method, 'GET');
  assert.equal(r.path, '/nic/update');
  return r;
}
