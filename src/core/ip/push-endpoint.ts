/**
 * The HTTP side of public-ip-watch's router-push source, free of Node-RED and of any HTTP server:
 * a request (method, query, Authorization header, client address) in, an answer (status, headers,
 * body) out. The adapter serves it on Node-RED's httpNode (src/nodes/public-ip-watch.ts).
 *
 * What a router sends (both forms on the same path, `<path>` or `<path>/nic/update`, GET only):
 * - dyndns2 (Dyn's Remote Access API, which most routers' "custom" DDNS speaks):
 *   `?hostname=<names>&myip=<v4 | v6 | v4,v6>`, the token as the Basic auth password (any user
 *   name) or as `token=`.
 * - the Fritz!Box custom update URL, with its placeholders filled by the box (it escapes nothing):
 *   `?token=<pass>&ipv4=<ipaddr>&ipv6=<ip6addr>&prefix=<ip6lanprefix>`. An empty value is "not
 *   given" (a box without IPv4 or IPv6 leaves its placeholder empty).
 *
 * Contract:
 * - The token is compared in constant time and never appears in an answer, an event or an error.
 *   No token: `badauth` (401 with a Basic challenge), not counted. A wrong token: `badauth`,
 *   counted per client address; after `after` wrong tokens in a row the client is locked out for
 *   `baseMs` (doubling at each further lockout, at most `capMs`): every request of it is answered
 *   `badauth` (429, Retry-After) without looking at the token, so guessing is pointless. A right
 *   token ends the count. At most `maxClients` addresses are tracked; beyond them all unknown
 *   clients share one count.
 * - A malformed, non-public (unless lab use) or contradictory address, or no address at all: 400,
 *   `dnserr <why>`; nothing is checked, nothing moves.
 * - Families the node does not watch are ignored. A claim that matches what is known is answered
 *   `nochg <ip>` at once (no check). Otherwise the claims go to `confirm` (the watcher's push check:
 *   another source must agree, see ./push-claim.ts); per claimed family its confirmed address is
 *   `good <ip>` (changed) or `nochg <ip>`. Not confirmed, not finished within `answerWithinMs`, or
 *   the node closing: `911` (the router tries again later); the check itself carries on.
 * - Answers are plain text, one line per host name of the request (dyndns2), e.g. `good 8.8.4.4`
 *   or `nochg 8.8.4.4,2001:4860::1` for both families.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { acceptAddress, familyLabel, parseAddress, type Family } from '../address';
import { systemClock, type Clock } from '../schedule';
import { claimMatches, describeClaim, type PushClaim, type PushClaims } from './push-claim';
import type { CheckResult, KnownAddresses } from './watcher';
import { phrase } from '../said';

export interface PushRequest {
  method: string;
  /** The raw query string (after `?`), decoded here. */
  query: string;
  /** The Authorization header, when sent. */
  authorization?: string;
  /** The client's address (for the lockout count and the log). */
  client?: string;
}

export interface PushReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What happened, for the node's log and status; never carries the token. */
export type PushEvent =
  | { kind: 'badauth'; client: string; failures: number }
  /** A client is locked out from now on (said once per lockout). */
  | { kind: 'locked'; client: string; forMs: number }
  | { kind: 'refused'; client: string; reason: string }
  | { kind: 'unconfirmed'; reason: string }
  | { kind: 'confirmed'; client: string; claims: string; changed: Family[] };

export interface LockoutOptions {
  /** Wrong tokens in a row before a lockout. Default 5. */
  after: number;
  /** The first lockout, ms (doubling for each further one). Default 60 s. */
  baseMs: number;
  /** The longest lockout, ms. Default 1 hour. */
  capMs: number;
  /** Client addresses tracked one by one. Default 1000. */
  maxClients: number;
}

export const DEFAULT_LOCKOUT: LockoutOptions = { after: 5, baseMs: 60_000, capMs: 3_600_000, maxClients: 1000 };
/** How long a router is kept waiting for the confirming check before it is told `911`. */
export const DEFAULT_ANSWER_WITHIN_MS = 20_000;

/** The token: what routers can send unescaped in a URL (the Fritz!Box escapes nothing). */
export const pushTokenSchema = z
  .string({ error: phrase('ip.push_token_must_text', 'the push token must be text') })
  .regex(/^[A-Za-z0-9._~-]*$/, {
    message: phrase(
      'ip.push_token_may_hold',
      'the push token may hold only letters, digits and . _ ~ - (routers such as the Fritz!Box put it into the URL without escaping it)',
    ),
  })
  .min(12, { message: phrase('ip.push_token_min', 'the push token must have at least 12 characters') })
  .max(200, { message: phrase('ip.push_token_max', 'the push token must have at most 200 characters') });

export interface PushEndpointOptions {
  token: string;
  /** The families the node watches. */
  families: readonly Family[];
  /** Lab use: accept non-public addresses. */
  allowNonPublic?: boolean;
  /** What the node knows now (a claim equal to it needs no check). */
  known(): KnownAddresses;
  /** Run the confirming check (the watcher's `push`). */
  confirm(claims: PushClaims): Promise<CheckResult>;
  onEvent?(e: PushEvent): void;
  lockout?: Partial<LockoutOptions>;
  answerWithinMs?: number;
  clock?: Clock;
}

interface ClientState {
  failures: number;
  lockedUntil: number;
  lockouts: number;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const reply = (status: number, body: string, headers: Record<string, string> = {}): PushReply => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers },
  body: `${body}\n`,
});

/** The request's claims and host names; or why it cannot be used. */
export function parsePushQuery(
  query: string,
  opts: { allowNonPublic?: boolean } = {},
): { ok: true; claims: PushClaims; hostnames: string[] } | { ok: false; reason: string } {
  const q = new URLSearchParams(query);
  const one = (k: string) => {
    const v = q.get(k)?.trim();
    return v ? v : undefined;
  };
  const claims: PushClaims = {};
  const add = (family: Family | null, text: string, from: string): string | null => {
    const parsed = parseAddress(text);
    const f = family ?? parsed?.family;
    if (!f || !parsed) return `${from}: "${text.slice(0, 60)}" is not an IP address`;
    const acc = acceptAddress(text, f, { allowNonPublic: opts.allowNonPublic });
    if (!acc.ok) return `${from}: ${acc.reason}`;
    const had = claims[f]?.address;
    if (had && had !== acc.address) return `two different ${familyLabel(f)} addresses (${had} and ${acc.address})`;
    claims[f] = { ...claims[f], address: acc.address };
    return null;
  };
  const myip = one('myip');
  const parts = myip ? myip.split(',').map((s) => s.trim()) : [];
  if (parts.length > 2) return { ok: false, reason: 'myip holds more than two addresses' };
  const errors = [
    ...parts.map((p) => (p ? add(null, p, 'myip') : null)),
    one('ipv4') ? add('ipv4', one('ipv4')!, 'ipv4') : null,
    one('ipv6') ? add('ipv6', one('ipv6')!, 'ipv6') : null,
  ].filter((e): e is string => e !== null);
  if (errors.length) return { ok: false, reason: errors[0] };
  const prefix = one('prefix');
  if (prefix) {
    const p = parsePrefix(prefix, opts);
    if (typeof p === 'string') return { ok: false, reason: `prefix: ${p}` };
    claims.ipv6 = { ...claims.ipv6, prefix: p };
  }
  if (!claims.ipv4 && !claims.ipv6)
    return { ok: false, reason: 'no address in the request (myip=, or ipv4= / ipv6= / prefix=)' };
  const hostnames = (one('hostname') ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return { ok: true, claims, hostnames };
}

/** An IPv6 prefix such as `2001:db8:1:2::/64` (no length: /64), its network address public unless lab use. */
function parsePrefix(text: string, opts: { allowNonPublic?: boolean }): PushClaim['prefix'] | string {
  const [addr, len, ...rest] = text.split('/');
  const length = len === undefined ? 64 : Number(len);
  if (rest.length || !Number.isInteger(length) || length < 1 || length > 128 || !/^\d*$/.test(len ?? ''))
    return `"${text.slice(0, 60)}" is not an IPv6 prefix such as 2001:db8:1:2::/64`;
  const parsed = parseAddress(addr);
  if (!parsed || parsed.family !== 'ipv6')
    return `"${text.slice(0, 60)}" is not an IPv6 prefix such as 2001:db8:1:2::/64`;
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${parsed.address}/${length}`).toString();
  const acc = acceptAddress(network, 'ipv6', { allowNonPublic: opts.allowNonPublic });
  if (!acc.ok) return acc.reason;
  return { address: acc.address, length };
}

/** The Basic auth password, when the header carries one. */
function basicPassword(header: string | undefined): string | undefined {
  const m = /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const dec = Buffer.from(m[1], 'base64').toString('utf8');
  const i = dec.indexOf(':');
  return i < 0 ? undefined : dec.slice(i + 1);
}

export class PushEndpoint {
  private readonly want: Buffer;
  private readonly lock: LockoutOptions;
  private readonly clients = new Map<string, ClientState>();
  private readonly clock: Clock;

  constructor(private readonly o: PushEndpointOptions) {
    this.want = digest(o.token);
    this.lock = { ...DEFAULT_LOCKOUT, ...o.lockout };
    this.clock = o.clock ?? systemClock;
  }

  async handle(req: PushRequest): Promise<PushReply> {
    const client = req.client || 'unknown';
    if (req.method !== 'GET') return reply(405, 'dnserr only GET requests are answered here', { allow: 'GET' });
    const key = this.keyOf(client);
    const state = this.clients.get(key);
    const now = this.clock.now();
    if (state && state.lockedUntil > now)
      return reply(429, 'badauth', { 'retry-after': String(Math.ceil((state.lockedUntil - now) / 1000)) });
    // `token=` first: with httpNodeAuth in settings.js the Basic credentials are Node-RED's own.
    const given = new URLSearchParams(req.query).get('token')?.trim() || basicPassword(req.authorization);
    if (given === undefined) return reply(401, 'badauth', { 'www-authenticate': 'Basic realm="public-ip-watch"' });
    if (!timingSafeEqual(digest(given), this.want)) return this.wrongToken(key, client, now);
    this.clients.delete(key);
    const parsed = parsePushQuery(req.query, { allowNonPublic: this.o.allowNonPublic });
    if (!parsed.ok) {
      this.event({ kind: 'refused', client, reason: parsed.reason });
      return reply(400, `dnserr ${parsed.reason}`);
    }
    return this.answer(client, parsed.claims, Math.max(1, parsed.hostnames.length));
  }

  private keyOf(client: string): string {
    if (this.clients.has(client) || this.clients.size < this.lock.maxClients) return client;
    // Forget clients that are neither counting nor locked before sharing one count among new ones.
    const now = this.clock.now();
    for (const [k, s] of this.clients) if (s.lockedUntil <= now && s.failures === 0) this.clients.delete(k);
    return this.clients.size < this.lock.maxClients ? client : '*';
  }

  private wrongToken(key: string, client: string, now: number): PushReply {
    const s = this.clients.get(key) ?? { failures: 0, lockedUntil: 0, lockouts: 0 };
    s.failures++;
    this.clients.set(key, s);
    this.event({ kind: 'badauth', client, failures: s.failures });
    if (s.failures >= this.lock.after) {
      const forMs = Math.min(this.lock.capMs, this.lock.baseMs * 2 ** s.lockouts);
      s.lockouts++;
      s.failures = 0;
      s.lockedUntil = now + forMs;
      this.event({ kind: 'locked', client, forMs });
    }
    return reply(401, 'badauth', { 'www-authenticate': 'Basic realm="public-ip-watch"' });
  }

  private async answer(client: string, all: PushClaims, lines: number): Promise<PushReply> {
    const families = this.o.families.filter((f) => all[f]);
    const say = (code: string, addresses: string[]) =>
      reply(200, Array.from({ length: lines }, () => `${code} ${addresses.join(',')}`.trim()).join('\n'));
    const known = this.o.known();
    if (families.length === 0) {
      const watched = this.o.families.map(familyLabel).join(' and ');
      this.event({ kind: 'refused', client, reason: `the push holds no ${watched} address, which this node watches` });
      return reply(400, `dnserr this node watches ${watched} only, and the request holds no ${watched} address`);
    }
    const claims: PushClaims = Object.fromEntries(families.map((f) => [f, all[f]]));
    const words = families.map((f) => `${familyLabel(f)} ${describeClaim(claims[f]!)}`).join(', ');
    if (families.every((f) => claimMatches(f, claims[f]!, known[f]))) {
      this.event({ kind: 'confirmed', client, claims: words, changed: [] });
      return say(
        'nochg',
        families.map((f) => known[f]!),
      );
    }
    let timer: unknown;
    const late = new Promise<null>(
      (r) => (timer = this.clock.setTimer(() => r(null), this.o.answerWithinMs ?? DEFAULT_ANSWER_WITHIN_MS)),
    );
    let r: CheckResult | null;
    try {
      r = await Promise.race([this.o.confirm(claims), late]);
    } finally {
      this.clock.clearTimer(timer);
    }
    if (!r) {
      this.event({ kind: 'unconfirmed', reason: `the check of the push (${words}) did not finish in time` });
      return say('911', []);
    }
    if (r.aborted) return say('911', []);
    const unconfirmed = families.filter((f) => !r.detections[f]?.address);
    if (unconfirmed.length) {
      const reason = unconfirmed
        .map((f) => `${familyLabel(f)}: ${r.unanswered[f] ?? r.errors[f] ?? 'not confirmed'}`)
        .join(' ');
      this.event({ kind: 'unconfirmed', reason });
      return say('911', []);
    }
    const changed = families.filter((f) => r.change?.changed.includes(f));
    this.event({ kind: 'confirmed', client, claims: words, changed });
    return say(
      changed.length ? 'good' : 'nochg',
      families.map((f) => r.detections[f]!.address!),
    );
  }

  private event(e: PushEvent): void {
    try {
      this.o.onEvent?.(e);
    } catch {
      /* a listener must not break the answer */
    }
  }
}

/**
 * Which endpoint answers which path (one Node-RED HTTP app): one endpoint per path, owned by one
 * node. A request path matches `<path>` and `<path>/nic/update` (where dyndns2 clients add it).
 */
export class PushRoutes {
  private readonly byPath = new Map<string, { owner: string; endpoint: PushEndpoint }>();

  /** Who holds `path`, when someone else than `owner` does. */
  takenBy(path: string, owner: string): string | undefined {
    const held = this.byPath.get(path);
    return held && held.owner !== owner ? held.owner : undefined;
  }

  add(path: string, owner: string, endpoint: PushEndpoint): void {
    this.byPath.set(path, { owner, endpoint });
  }

  /** Remove `path` if `owner` still holds it (a newer node may have taken it over). */
  remove(path: string, owner: string): void {
    if (this.byPath.get(path)?.owner === owner) this.byPath.delete(path);
  }

  find(requestPath: string): PushEndpoint | undefined {
    const p = requestPath.replace(/\/+$/, '');
    return (this.byPath.get(p) ?? (p.endsWith('/nic/update') ? this.byPath.get(p.slice(0, -11)) : undefined))?.endpoint;
  }

  get size(): number {
    return this.byPath.size;
  }
}
