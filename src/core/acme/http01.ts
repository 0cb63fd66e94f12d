/**
 * HTTP-01 (RFC 8555 §8.3) answered by cert-renew itself: the CA asks
 * `http://<name>/.well-known/acme-challenge/<token>` on port 80 of the name's addresses and expects
 * the key authorization. Answered either by a listener of our own (port 80 forwarded to it, or a
 * port of the user's choice that the router forwards 80 to), opened only while an order is pending
 * and closed after, or by Node-RED's own HTTP server (src/nodes/acme-http.ts); in both the tokens
 * are answered only while the order is pending (404 otherwise).
 *
 * Before the order, the path is checked from here the way reachability-check does (the name's
 * addresses at its authoritative servers, a TCP connect to the port, then a GET of a probe token
 * served for the check): an address no CA can reach (private, CGNAT's 100.64.0.0/10) or a line
 * the NAT diagnosis (reach/cgnat.ts) says no port forward can open stops here with the diagnosis,
 * instead of letting the CA fail. A check that fails from inside is no proof (routers without
 * hairpin NAT), so then the order goes ahead and what was found is added to the CA's verdict.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { classify } from '../address';
import { askAuthoritative } from '../dns/authoritative';
import type { DnsServer } from '../dns/transport';
import { DdnsError, english, fatal, say, transient, type Sentence } from '../errors';
import { diagnoseNat, type NatDiagnosis, type NatEvidence } from '../reach/cgnat';
import { probeTcp } from '../reach/tcp';
import { USER_AGENT } from '../version';
import { listSaid } from '../said';
import type { ChallengeSolver, SolverContext } from './solver';

export const CHALLENGE_PATH = '/.well-known/acme-challenge/';
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/** Tokens → key authorizations of the pending order. */
export class TokenStore {
  private readonly tokens = new Map<string, string>();
  set(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }
  clear(): void {
    this.tokens.clear();
  }
  /** The body for a request path (query already removed), or null (answer 404). */
  answer(path: string): string | null {
    if (!path.startsWith(CHALLENGE_PATH)) return null;
    const token = path.slice(CHALLENGE_PATH.length);
    return TOKEN.test(token) ? (this.tokens.get(token) ?? null) : null;
  }
}

/** Where the CA's requests arrive. */
export interface Http01Listener {
  /** For messages, e.g. "port 8080 of this machine". */
  readonly where: string;
  /** Start answering from `store` (throws a DdnsError when that cannot be). */
  open(store: TokenStore): Promise<void>;
  close(): Promise<void>;
}

/** Answer a plain node:http request from the store: 200 with the key authorization, else 404. */
export function answerFrom(store: TokenStore, url: string | undefined, method: string | undefined) {
  const path = (url ?? '/').split('?')[0];
  const body = method === 'GET' || method === 'HEAD' ? store.answer(path) : null;
  return body === null
    ? { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'not found\n' }
    : { status: 200, headers: { 'content-type': 'application/octet-stream' }, body };
}

/** A listener of our own on `port` (all interfaces unless `host`), open only while an order is pending. */
export function ownPortListener(port: number, host?: string): Http01Listener {
  let server: http.Server | null = null;
  return {
    where: `port ${port} of this machine`,
    open: (store) =>
      new Promise((resolve, reject) => {
        const s = http.createServer((req, res) => {
          const a = answerFrom(store, req.url, req.method);
          res.writeHead(a.status, a.headers);
          res.end(req.method === 'HEAD' ? undefined : a.body);
        });
        s.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            fatal(
              e.code === 'EADDRINUSE'
                ? say(
                    'acme.http01.port_in_use',
                    "HTTP-01: port __port__ is in use by another program, so cert-renew cannot answer the certificate authority there. Stop that program, choose another port (and forward port 80 of the router to it), or use Node-RED's own HTTP server.",
                    { port },
                  )
                : e.code === 'EACCES'
                  ? say(
                      'acme.http01.port_denied',
                      "HTTP-01: this system does not let Node-RED listen on port __port__ (ports below 1024 need privileges). Choose a port such as 8080 and forward port 80 of the router to it, or use Node-RED's own HTTP server.",
                      { port },
                    )
                  : say('acme.http01.listen', 'HTTP-01: cannot listen on port __port__: __reason__', {
                      port,
                      reason: e.message,
                    }),
              { code: 'http01_listen' },
            ),
          ),
        );
        s.listen(port, host, () => {
          server = s;
          resolve();
        });
      }),
    close: () =>
      new Promise((resolve) => {
        const s = server;
        server = null;
        if (!s) return resolve();
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  };
}

/** GET `path` from `address`:`port` with the Host header `name`; the status and at most 4 KiB of body. */
function fetchFrom(
  address: string,
  port: number,
  name: string,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; body: string } | { error: string | Sentence }> {
  return new Promise((resolve) => {
    const req = http.request({
      host: address,
      port,
      path,
      method: 'GET',
      agent: false,
      headers: { host: port === 80 ? name : `${name}:${port}`, 'user-agent': USER_AGENT, accept: '*/*' },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ error: say('acme.http01.no_answer', 'no answer within __ms__ ms', { ms: timeoutMs }) });
    }, timeoutMs);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        if (body.length > 4096) res.destroy();
      });
      const end = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: body.slice(0, 4096) });
      };
      res.on('end', end);
      res.on('close', end);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error: e.code ?? e.message });
    });
    req.end();
  });
}

/** A CGNAT address (100.64.0.0/10) held by an interface of this machine: its WAN address, then. */
export function localCgnatAddress(): string | null {
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? [])
      if (i.family === 'IPv4' && !i.internal && classify(i.address).class === 'cgnat') return i.address;
  return null;
}

export interface Http01Options {
  listener: Http01Listener;
  /** The port the CA connects to (80; only tests use another, e.g. Pebble's httpPort). */
  checkPort?: number;
  /** Ask these servers for the names' addresses (default: the names' authoritative servers, found by the walk). */
  authServers?: DnsServer[];
  discovery?: DnsServer[];
  /** What is known about the line (the WAN address public-ip-watch reported), for the NAT diagnosis. */
  nat?: () => NatEvidence;
  /** Limit of every wait of the check, ms. Default 5000. */
  timeoutMs?: number;
}

/** What the check found for one name: `ok`, or why the CA may not reach this machine. */
interface Finding {
  name: string;
  ok: boolean;
  /** The CA cannot succeed (an address it cannot reach, CGNAT): stop before ordering. */
  certain?: DdnsError;
  detail: string | Sentence;
}

/** The NAT diagnosis says no port forward can help: the sentence that stops before the order. */
const natError = (name: string, nat: NatDiagnosis) =>
  fatal(
    say(
      'acme.http01.cgnat',
      'HTTP-01 cannot work for __name__: __summary__. __explanation__ What you can do: __advice__ Or use DNS-01 with a provider account: it needs no incoming connection.',
      { name, summary: nat.summary, explanation: nat.explanation, advice: nat.advice.join(' ') },
    ),
    { code: 'http01_cgnat' },
  );

const UNREACHABLE = new Set(['private', 'link-local', 'unique-local', 'reserved', 'unspecified', 'multicast']);

export class Http01Solver implements ChallengeSolver {
  readonly type = 'http-01';
  readonly label = 'HTTP-01';
  private readonly store = new TokenStore();
  private findings: Finding[] = [];
  private opened = false;

  constructor(private readonly o: Http01Options) {}

  async prepare(names: string[], ctx: SolverContext): Promise<void> {
    const wildcard = names.find((n) => n.startsWith('*.'));
    if (wildcard)
      throw new DdnsError(
        'input',
        say(
          'acme.http01.wildcard',
          '__name__ is a wildcard name, and certificate authorities issue wildcards only through DNS-01: use the DNS-01 challenge (with a provider account) for it',
          { name: wildcard },
        ),
        { code: 'http01_wildcard' },
      );
    this.store.clear();
    await this.o.listener.open(this.store);
    this.opened = true;
    const probe = { token: randomBytes(24).toString('base64url'), value: randomBytes(24).toString('base64url') };
    this.store.set(probe.token, probe.value);
    try {
      this.findings = await Promise.all(names.map((n) => this.check(n, probe, ctx.signal)));
    } finally {
      this.store.clear();
    }
    for (const f of this.findings) {
      if (f.certain) throw f.certain;
      ctx.log(
        f.ok
          ? `HTTP-01 check of ${f.name}: ${english(f.detail)}`
          : `HTTP-01 check of ${f.name} from here failed (${english(f.detail)}); ordering all the same, since a router without hairpin NAT fails this check while the internet gets through`,
      );
    }
  }

  async present(a: { challenge: { token?: string }; keyAuthorization: string }): Promise<void> {
    if (!a.challenge.token || !TOKEN.test(a.challenge.token))
      throw fatal(
        say('acme.http01.token', 'the certificate authority sent an HTTP-01 challenge without a valid token'),
        {
          code: 'http01_token',
        },
      );
    this.store.set(a.challenge.token, a.keyAuthorization);
  }

  async finish(): Promise<void> {
    this.store.clear();
    if (!this.opened) return;
    this.opened = false;
    await this.o.listener.close().catch(() => undefined);
  }

  hint(): Sentence | undefined {
    const bad = this.findings.filter((f) => !f.ok);
    if (!bad.length) return undefined;
    return say(
      'acme.http01.hint',
      "Checked from here before the order: __found__. The certificate authority connects to port 80 of the name's public address, which must lead to __where__.",
      {
        found: listSaid(
          bad.map((f) => say('acme.http01.found', '__name__: __detail__', { name: f.name, detail: f.detail })),
          'semicolon',
        ),
        where: this.o.listener.where,
      },
    );
  }

  /** The name's addresses, then for each a TCP connect and a GET of the probe token. */
  private async check(name: string, probe: { token: string; value: string }, signal?: AbortSignal): Promise<Finding> {
    const timeoutMs = this.o.timeoutMs ?? 5000;
    const port = this.o.checkPort ?? 80;
    const ask = (type: 'A' | 'AAAA') =>
      askAuthoritative(name, type, {
        servers: this.o.authServers,
        discovery: this.o.discovery,
        timeoutMs,
        signal,
      }).then(
        (r) => r.answers,
        () => [],
      );
    const answers = (await Promise.all([ask('A'), ask('AAAA')])).flat();
    const addresses = [...new Set(answers.flatMap((a) => a.values))];
    if (!addresses.length) {
      if (answers.length && answers.every((a) => a.error))
        return {
          name,
          ok: false,
          detail: say('acme.http01.not_asked', 'its authoritative servers could not be asked (__error__)', {
            error: answers[0].error ?? '',
          }),
        };
      return {
        name,
        ok: false,
        certain: transient(
          say(
            'acme.http01.no_address',
            'HTTP-01: __name__ has no A or AAAA record at its authoritative servers, so the certificate authority cannot find this machine. Publish your public address for it first (public-ip-watch → dns-update).',
            { name },
          ),
          { code: 'http01_no_address' },
        ),
        detail: say('acme.http01.none', 'no address'),
      };
    }
    const path = `${CHALLENGE_PATH}${probe.token}`;
    const results: Array<string | Sentence> = [];
    let reached = false;
    let unreachable: DdnsError | undefined;
    let failedV4: string | undefined;
    for (const address of addresses) {
      const c = classify(address);
      if (c.class === 'cgnat' || UNREACHABLE.has(c.class)) {
        unreachable ??= this.unreachable(name, address, c.class, c.said ?? c.reason);
        results.push(c.said ?? c.reason);
        continue;
      }
      const tcp = await probeTcp({ host: address, port, timeoutMs, signal });
      if (!tcp.ok) {
        if (c.family === 'ipv4') failedV4 ??= address;
        results.push(tcp.detail);
        continue;
      }
      const got = await fetchFrom(address, port, name, path, timeoutMs);
      if ('error' in got)
        results.push(
          say('acme.http01.fetch_failed', '__url__… via __address__: __error__', {
            url: `http://${name}${path.slice(0, 40)}`,
            address,
            error: got.error,
          }),
        );
      else if (got.status === 200 && got.body.trim() === probe.value) {
        reached = true;
        results.push(
          say('acme.http01.leads_to', 'port __port__ of __address__ leads to __where__', {
            port,
            address,
            where: this.o.listener.where,
          }),
        );
      } else
        results.push(
          say(
            'acme.http01.other_server',
            "port __port__ of __address__ answered HTTP __status__ with something else: another web server (the router's own page?) gets these requests, not __where__",
            { port, address, status: got.status, where: this.o.listener.where },
          ),
        );
    }
    if (reached) return { name, ok: true, detail: listSaid(results, 'semicolon') };
    if (unreachable) return { name, ok: false, certain: unreachable, detail: listSaid(results, 'semicolon') };
    if (failedV4) {
      const evidence = { ...this.o.nat?.(), publicIpv4: failedV4 };
      if (!evidence.wanAddress) evidence.wanAddress = localCgnatAddress();
      let nat: NatDiagnosis | null = null;
      try {
        nat = diagnoseNat(evidence);
      } catch {
        nat = null; // evidence that does not parse says nothing
      }
      if (nat && nat.portForwardingPossible === false)
        return {
          name,
          ok: false,
          detail: listSaid(results, 'semicolon'),
          certain: natError(name, nat),
        };
    }
    return { name, ok: false, detail: listSaid(results, 'semicolon') };
  }

  private unreachable(name: string, address: string, cls: string, reason: string | Sentence): DdnsError {
    if (cls === 'cgnat') {
      return natError(name, diagnoseNat({ publicIpv4: address, wanAddress: this.o.nat?.().wanAddress ?? null }));
    }
    return fatal(
      say(
        'acme.http01.unreachable',
        'HTTP-01 cannot work for __name__: it points at __address__, and __reason__, which the certificate authority on the internet cannot reach. Publish your public address for it (public-ip-watch → dns-update), or use DNS-01.',
        { name, address, reason: thatIs(reason, address) },
      ),
      { code: 'http01_unreachable' },
    );
  }
}

/**
 * "203.0.113.7 is a private address (RFC 1918)" said after the address itself was named: "that is a
 * private address (RFC 1918)".
 */
function thatIs(reason: string | Sentence, address: string): string | Sentence {
  if (typeof reason === 'string') return reason.replace(`${address} is `, 'that is ');
  if (reason.key === 'address.is' && reason.params.range !== undefined)
    return say('acme.http01.that_is', 'that is __range__', { range: reason.params.range });
  if (reason.key === 'address.not_unicast')
    return say('acme.http01.that_outside', 'that is outside the global unicast range (2000::/3)');
  return reason;
}
