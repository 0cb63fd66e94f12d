/**
 * A local DuckDNS: follows https://www.duckdns.org/spec.jsp (the update URL, its parameters and
 * its OK/KO answers), keeps the A/AAAA/TXT state of each domain, records every request, and can be
 * told to misbehave for the next requests. For provider tests, runtime tests and benchmarks.
 *
 *   const duck = await startDuckDns({ token: 'T', domains: ['myhome'] });
 *   // point the provider's endpoint at duck.url; then look at duck.requests and duck.records
 *   duck.failNext('ko'); duck.failNext('hang', 2);
 *   await duck.close();
 *
 * Behaviour reproduced (spec.jsp):
 * - `GET /update?domains=<a,b>&token=<t>[&ip=][&ipv6=][&verbose=true][&clear=true][&txt=]`; the
 *   domains may be sub-names or `<sub>.duckdns.org`.
 * - `KO` for a wrong or missing token, or any domain the account does not own (the whole call).
 * - `ip` takes an IPv4 or an IPv6 address; `ipv6` an IPv6 address. Without `ip` and `ipv6`, the
 *   IPv4 source address of the request is used (auto-detection); giving `ipv6` turns it off.
 * - `clear=true` empties both address records; with `txt`, it removes the TXT value instead.
 * - `verbose=true`: `OK\n<ipv4 of this update>\n<ipv6 of this update>\nUPDATED|NOCHANGE`.
 * - The HTTP status is 200 for OK and KO alike.
 * Not documented, chosen here: a TXT call does not touch the addresses, and its verbose answer is
 * `OK\n<txt>\n\nUPDATED|NOCHANGE`.
 */
import http from 'node:http';
import net from 'node:net';
import { startServer, text, type RecordedRequest } from '../http-server';
import { bindUpdate, type BindServer } from '../bind';

export interface DuckDnsRecord {
  ipv4?: string;
  ipv6?: string;
  txt?: string;
}

/**
 * Ways a provider (or what stands between) misbehaves, shared by the contract servers:
 * - `html`: HTTP 502 with an HTML error page (a proxy or load balancer);
 * - `garbage`: HTTP 200 with text that is no protocol answer; `empty`: HTTP 200, empty body;
 * - `huge`: HTTP 200 with a 1 MB body, sent without a length (streamed);
 * - `hang`: never answers (the client's timeout must fire); `reset`: connection reset, no answer;
 * - `server-error`: HTTP 500 plain text; `rate-limit`: HTTP 429 with `Retry-After: 120`;
 * - `{ status, body, headers }`: exactly this answer; `{ delayMs }`: the normal answer, late.
 * A failed request changes no state.
 */
export type ContractFailure =
  | 'html'
  | 'garbage'
  | 'empty'
  | 'huge'
  | 'hang'
  | 'reset'
  | 'server-error'
  | 'rate-limit'
  | { status?: number; body: string; headers?: Record<string, string> }
  | { delayMs: number };

/** DuckDNS's own failure besides the generic ones: `KO` although the request was right. */
export type DuckDnsFailure = ContractFailure | 'ko';

export interface DuckDnsContractOptions {
  /** The account token (or `tokens`: several accepted tokens, each owning every domain). */
  token?: string;
  tokens?: string[];
  /** The account's domains (sub-names), with their initial records when given as an object. */
  domains: string[] | Record<string, DuckDnsRecord>;
  /** Listen address, default 127.0.0.1. */
  host?: string;
  /**
   * DuckDNS's DNS side, played by a real BIND serving a `duckdns.org` zone on loopback: every TXT
   * change is published there with nsupdate (challenge delegation tests, where Pebble reads it).
   */
  publish?: BindServer;
}

export interface DuckDnsContract {
  /** Base URL: give it as the provider's endpoint (the provider appends /update). */
  url: string;
  /** Every request received, in order (including failed ones). */
  requests: RecordedRequest[];
  /** Current state per sub-name. Tests may read and change it. */
  records: Map<string, DuckDnsRecord>;
  /** Every change of an address record, in order (a request that changed nothing adds nothing). */
  history: Array<{ domain: string; family: 'ipv4' | 'ipv6'; address: string }>;
  /** Make the next `times` requests (default 1) fail this way, after the ones already queued. */
  failNext(failure: DuckDnsFailure, times?: number): void;
  close(): Promise<void>;
}

/** Shared failure queue and answers; also used by the FreeDNS contract. */
export class FailureQueue<F> {
  private readonly queue: F[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  push(f: F, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push(f);
  }

  take(): F | undefined {
    return this.queue.shift();
  }

  /**
   * Answer with a generic failure. `normal` produces the regular answer (used by `delayMs`).
   * Returns false when `f` is not a generic failure (the caller handles it).
   */
  apply(f: ContractFailure | F, res: http.ServerResponse, normal: () => void): boolean {
    if (typeof f === 'object' && f !== null && 'delayMs' in f) {
      const t = setTimeout(
        () => {
          this.timers.delete(t);
          if (!res.destroyed) normal();
        },
        (f as { delayMs: number }).delayMs,
      );
      this.timers.add(t);
      return true;
    }
    if (typeof f === 'object' && f !== null && 'body' in f) {
      const c = f as { status?: number; body: string; headers?: Record<string, string> };
      text(res, c.body, c.status ?? 200, c.headers);
      return true;
    }
    switch (f) {
      case 'html':
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end(
          '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
        );
        return true;
      case 'garbage':
        text(res, 'Welcome! <<< %%% \u0000 unexpected >>>');
        return true;
      case 'empty':
        text(res, '');
        return true;
      case 'huge':
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 16; i++) res.write('OK\n'.padEnd(65_536, 'x'));
        res.end();
        return true;
      case 'hang':
        return true; // the socket stays open until the client gives up or close() runs
      case 'reset': {
        const s = res.socket as net.Socket | null;
        if (s && typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
        else s?.destroy();
        return true;
      }
      case 'server-error':
        text(res, 'Internal Server Error', 500);
        return true;
      case 'rate-limit':
        text(res, 'Too Many Requests', 429, { 'retry-after': '120' });
        return true;
      default:
        return false;
    }
  }

  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
  }
}

const sub = (d: string) =>
  d
    .trim()
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/\.duckdns\.org$/, '');

export async function startDuckDns(opts: DuckDnsContractOptions): Promise<DuckDnsContract> {
  const tokens = new Set([...(opts.token ? [opts.token] : []), ...(opts.tokens ?? [])]);
  const records = new Map<string, DuckDnsRecord>();
  if (Array.isArray(opts.domains)) for (const d of opts.domains) records.set(sub(d), {});
  else for (const [d, r] of Object.entries(opts.domains)) records.set(sub(d), { ...r });
  const failures = new FailureQueue<DuckDnsFailure>();
  const history: DuckDnsContract['history'] = [];

  const answer = (req: RecordedRequest, res: http.ServerResponse) => {
    const q = req.query;
    const ko = () => text(res, 'KO');
    const token = q.get('token');
    const domains = (q.get('domains') ?? '').split(',').map(sub).filter(Boolean);
    if (req.path !== '/update' || !token || !tokens.has(token) || domains.length === 0) return ko();
    if (domains.some((d) => !records.has(d))) return ko();
    const verbose = q.get('verbose') === 'true';
    const clear = q.get('clear') === 'true';
    let changed = false;

    if (q.has('txt')) {
      const value = clear ? undefined : (q.get('txt') ?? '');
      for (const d of domains) {
        const r = records.get(d)!;
        if (r.txt !== value) changed = true;
        if (value === undefined) delete r.txt;
        else r.txt = value;
        if (opts.publish)
          bindUpdate(opts.publish, [
            `update delete ${d}.duckdns.org. TXT`,
            ...(value === undefined ? [] : [`update add ${d}.duckdns.org. 60 TXT "${value}"`]),
          ]);
      }
      return text(res, verbose ? `OK\n${value ?? ''}\n\n${changed ? 'UPDATED' : 'NOCHANGE'}` : 'OK');
    }

    let v4: string | undefined;
    let v6: string | undefined;
    if (!clear) {
      const ip = q.get('ip') ?? '';
      const ipv6 = q.get('ipv6') ?? '';
      if (ip) {
        if (net.isIPv4(ip)) v4 = ip;
        else if (net.isIPv6(ip)) v6 = ip.toLowerCase();
        else return ko();
      }
      if (ipv6) {
        if (!net.isIPv6(ipv6)) return ko();
        v6 = ipv6.toLowerCase();
      }
      if (!ip && !ipv6) {
        // auto-detection: IPv4 source address only
        const src = req.remoteAddress.replace(/^::ffff:/, '');
        if (net.isIPv4(src)) v4 = src;
      }
    }
    for (const d of domains) {
      const r = records.get(d)!;
      if (clear) {
        if (r.ipv4 !== undefined || r.ipv6 !== undefined) changed = true;
        delete r.ipv4;
        delete r.ipv6;
        continue;
      }
      if (v4 !== undefined && r.ipv4 !== v4) {
        r.ipv4 = v4;
        history.push({ domain: d, family: 'ipv4', address: v4 });
        changed = true;
      }
      if (v6 !== undefined && r.ipv6 !== v6) {
        r.ipv6 = v6;
        history.push({ domain: d, family: 'ipv6', address: v6 });
        changed = true;
      }
    }
    text(res, verbose ? `OK\n${v4 ?? ''}\n${v6 ?? ''}\n${changed ? 'UPDATED' : 'NOCHANGE'}` : 'OK');
  };

  const srv = await startServer((req, res) => {
    const f = failures.take();
    if (f === undefined) return answer(req, res);
    if (f === 'ko') return text(res, 'KO');
    if (!failures.apply(f, res, () => answer(req, res))) answer(req, res);
  }, opts.host ?? '127.0.0.1');

  return {
    url: srv.url,
    requests: srv.requests,
    records,
    history,
    failNext: (f, times = 1) => failures.push(f, times),
    close: async () => {
      failures.clear();
      await srv.close();
    },
  };
}
