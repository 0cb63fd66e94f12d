/**
 * The local servers every client of the bench talks to, all on 127.0.0.1, each logging what it
 * saw with a timestamp so that the bench measures at the servers, never inside a client:
 *
 * - IpService: a what's-my-IP service. One path per client (`/ip/<client>`); the bench sets what
 *   each path answers (plain text with Content-Length: ddclient misreads chunked answers).
 * - Dyndns2Bridge: a dyndns2 server ("Remote Access API",
 *   https://help.dyn.com/remote-access-api/perform-update/ and
 *   https://help.dyn.com/remote-access-api/return-codes/) that applies each update to the real
 *   named with one RFC 2136 UPDATE, then answers `good <ip>` / `nochg <ip>` per name. Like Dyn it
 *   accepts at most 20 names per request (`numhost` otherwise) and checks Basic auth (`badauth`).
 * The DNS relay and the checks of named are in dns-relay.ts.
 */
import http from 'node:http';
import net from 'node:net';
import type { DnsServer } from '../src/core/dns/transport';
import { sendUpdate } from '../src/core/dns/update';
import type { TsigKey } from '../src/core/dns/tsig';
import { listenLoopback, now, onCleanup, type Listening } from './util';

// ------------------------------------------------------------------------------ what's-my-IP

export interface Lookup {
  /** When the request arrived (bench clock, ms). */
  t: number;
  /** What it was answered. */
  address: string;
}

export interface IpPath {
  path: string;
  address: string;
  lookups: Lookup[];
}

export class IpService {
  private readonly paths = new Map<string, IpPath>();
  private server!: http.Server;
  private listening?: Listening;
  port = 0;

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const t = now();
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const p = this.paths.get(path);
      req.resume();
      if (!p) {
        res.writeHead(404, { 'content-length': 0 });
        res.end();
        return;
      }
      p.lookups.push({ t, address: p.address });
      const body = `${p.address}\n`;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    this.listening = await listenLoopback(this.server);
    this.port = this.listening.port;
    onCleanup("what's-my-IP service", () => this.close());
    return this;
  }

  /** A path for one client, answering `address` until set otherwise. */
  add(client: string, address: string): IpPath {
    const p: IpPath = { path: `/ip/${client}`, address, lookups: [] };
    this.paths.set(p.path, p);
    return p;
  }

  url(p: IpPath): string {
    return `http://127.0.0.1:${this.port}${p.path}`;
  }

  close(): Promise<void> {
    return this.listening?.close() ?? Promise.resolve();
  }
}

// ------------------------------------------------------------------------- provider-side logs

/** One request to a provider, as the provider saw it. */
export interface ProviderEntry {
  /** Arrival (bench clock, ms). */
  t: number;
  /** When the answer left (the record is in named when `kind` is update and ok). */
  tDone?: number;
  kind: 'update' | 'query' | 'other';
  /** Names the request is about (updated names for an UPDATE or dyndns2 request; qname for a query). */
  names: string[];
  /** Address written (updates). */
  address?: string;
  ok?: boolean;
  /** dyndns2 answer word, or DNS rcode. */
  answer?: string;
}

export interface ProviderLog {
  entries: ProviderEntry[];
  /** Where the client sends its requests (host:port or URL). */
  endpoint: string;
}

// ------------------------------------------------------------------------------ dyndns2 bridge

/** Names per request the dyndns2 protocol allows (Dyn: `numhost` above 20). */
export const DYNDNS2_MAX_HOSTS = 20;

export interface BridgeOptions {
  named: DnsServer;
  key: TsigKey;
  zone: string;
  username: string;
  password: string;
}

export class Dyndns2Bridge implements ProviderLog {
  readonly entries: ProviderEntry[] = [];
  private server!: http.Server;
  private listening?: Listening;
  /** What each name holds (so that a repeated address answers `nochg` without a DNS write). */
  private readonly held = new Map<string, string>();
  port = 0;

  constructor(private readonly o: BridgeOptions) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/nic/update`;
  }

  async start(): Promise<this> {
    // ddclient puts every name of a group into one URL: accept long request lines, answer numhost.
    this.server = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
      const t = now();
      req.resume();
      void this.handle(req, t).then((body) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    this.listening = await listenLoopback(this.server);
    this.port = this.listening.port;
    onCleanup('dyndns2 bridge', () => this.close());
    return this;
  }

  /** Records that already hold an address (pre-created by the bench). */
  assume(name: string, address: string): void {
    this.held.set(name.toLowerCase(), address);
  }

  private async handle(req: http.IncomingMessage, t: number): Promise<string> {
    const u = new URL(req.url ?? '/', 'http://x');
    const hosts = (u.searchParams.get('hostname') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase().replace(/\.$/, ''))
      .filter(Boolean);
    const address = (u.searchParams.get('myip') ?? '').split(',')[0].trim();
    const entry: ProviderEntry = { t, kind: 'update', names: hosts, address };
    this.entries.push(entry);
    const finish = (answer: string, ok: boolean, body: string) => {
      entry.tDone = now();
      entry.ok = ok;
      entry.answer = answer;
      return body;
    };
    const auth = req.headers.authorization ?? '';
    const expected = `Basic ${Buffer.from(`${this.o.username}:${this.o.password}`).toString('base64')}`;
    if (u.pathname !== '/nic/update') return finish('404', false, 'badagent\n');
    if (auth !== expected) return finish('badauth', false, 'badauth\n');
    if (hosts.length === 0) return finish('notfqdn', false, 'notfqdn\n');
    if (hosts.length > DYNDNS2_MAX_HOSTS) return finish('numhost', false, 'numhost\n');
    if (net.isIPv4(address) === false) return finish('badip', false, 'dnserr\n');
    const outside = hosts.filter((h) => !h.endsWith(`.${this.o.zone}`));
    if (outside.length) return finish('nohost', false, hosts.map(() => 'nohost').join('\n') + '\n');
    const change = hosts.filter((h) => this.held.get(h) !== address);
    if (change.length) {
      try {
        await sendUpdate(
          this.o.named,
          {
            zone: this.o.zone,
            deletes: change.map((name) => ({ name, type: 'A' as const })),
            adds: change.map((name) => ({ name, type: 'A' as const, data: address, ttl: 60 })),
          },
          this.o.key,
          { timeoutMs: 10_000 },
        );
      } catch {
        return finish('dnserr', false, hosts.map(() => 'dnserr').join('\n') + '\n');
      }
      for (const h of change) this.held.set(h, address);
    }
    return finish(
      change.length ? 'good' : 'nochg',
      true,
      hosts.map((h) => `${change.includes(h) ? 'good' : 'nochg'} ${address}`).join('\n') + '\n',
    );
  }

  close(): Promise<void> {
    return this.listening?.close() ?? Promise.resolve();
  }
}
