/**
 * A reachability run: DNS (authoritative, public, system), TCP, HTTP(S), an external check URL and
 * the NAT diagnosis, with bounded concurrency and a timeout on every wait.
 *
 * Contract of `runChecks`:
 * - Validates the plan first and throws a DdnsError of kind `input` for an invalid name, port,
 *   URL, address or status (nothing is sent then).
 * - Otherwise resolves with `{ ok, checks, diagnosis, ms }`: one entry per server/port/URL with
 *   `{ kind, target, ok, detail, ms }` (plus `warning` and kind-specific `data`); `ok` is true when
 *   every check passed. Throws only when `signal` is aborted.
 * - At most `concurrency` tasks run at once; every network wait is limited by `timeoutMs`.
 * - DNS expectation: when an expected address is known for a family, a server passes when it
 *   returns that address (other addresses beside it are a warning); without expectation a server
 *   passes when the name has at least one A or AAAA record there.
 */
import net from 'node:net';
import { badInput, english, say, transient, type Sentence } from '../errors';
import { failureSaid, type Said, sentenceOf } from '../said';
import { excerpt, httpRequest } from '../http';
import { parseAddress, type Family } from '../address';
import { Redactor } from '../redact';
import {
  askAuthoritative,
  findAuthoritativeServers,
  answerSaid,
  normName,
  unreachableIpv6,
  type AuthoritativeServer,
  type RecordKind,
  type ServerAnswer,
} from '../dns/authoritative';
import {
  askPublicResolvers,
  askSystemResolver,
  defaultPublicResolvers,
  withVerdict,
  type ResolverAnswer,
} from '../dns/resolvers';
import type { DnsServer } from '../dns/transport';
import { diagnoseNat, type NatDiagnosis, type NatEvidence } from './cgnat';
import { parseCheckUrl, parseStatusSpec, probeHttp } from './http';
import { probeTcp, validPort } from './tcp';

export type CheckKind = 'dns-authoritative' | 'dns-public' | 'dns-system' | 'tcp' | 'http' | 'external' | 'nat';

export interface Check {
  kind: CheckKind;
  target: string;
  ok: boolean;
  /** What was found, in words for a person. */
  detail: string;
  /** `detail` as a sentence, when it was written as one (for the adapter to say in the user's language; not sent). */
  said?: Sentence;
  ms: number;
  /** Worth a look although the check passed (an old address left beside the new one, a certificate expiring soon). */
  warning?: string;
  /** Kind-specific facts: DNS values/TTL/stale, HTTP status and certificate, TCP address. */
  data?: Record<string, unknown>;
}

export interface ExpectedAddresses {
  ipv4?: string | null;
  ipv6?: string | null;
}

export interface ReachPlan {
  /** Host names (or IP literals, which skip the DNS checks) to check. */
  names: string[];
  /** Expected addresses for every name. */
  expected?: ExpectedAddresses;
  /** Expected addresses per name (from dns-update results); wins over `expected`. */
  expectedByName?: Record<string, ExpectedAddresses>;
  dns?: {
    authoritative?: boolean;
    public?: boolean;
    system?: boolean;
    /** Default DEFAULT_PUBLIC_RESOLVERS. */
    publicResolvers?: DnsServer[];
    /** Resolvers for the walk to the zone's servers (default: this host's). */
    discovery?: DnsServer[];
    /** Ask these instead of the servers found by the walk. */
    authServers?: DnsServer[];
    /** Port of the authoritative servers found by the walk (tests). */
    authPort?: number;
    /** Replace this host's resolvers for the system check (tests). */
    systemServers?: DnsServer[];
  };
  tcp?: { ports: number[]; family?: 'any' | 'ipv4' | 'ipv6' | 'both' };
  http?: { urls: string[]; expectStatus?: string; ca?: string | string[]; certWarnDays?: number };
  /** A URL of the user's own that checks from outside; 2xx (and `ok` not false in a JSON body) passes. */
  externalUrl?: string;
  /** Make a NAT diagnosis from this evidence (`publicIpv4`/`publicIpv6` default to the expected addresses). */
  nat?: NatEvidence;
  /** Limit of every network wait, ms. Default 5000. */
  timeoutMs?: number;
  /** Tasks at once. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Secrets to remove from every text (tokens in URLs). */
  redactor?: Redactor;
}

export interface Diagnosis {
  /** One or two sentences for a status line or a notification. */
  summary: string;
  nat: NatDiagnosis | null;
  /** What the results suggest, in plain words (stale servers, hairpin NAT, CGNAT consequences). */
  notes: string[];
  /** `summary` as a sentence, when it was written as one (for the adapter; not sent). */
  said?: Sentence;
  /** `notes` as sentences where they were written as one, index by index (for the adapter; not sent). */
  saidNotes?: Said[];
}

export interface ReachReport {
  ok: boolean;
  checks: Check[];
  diagnosis: Diagnosis;
  ms: number;
}

/** Run `fn` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/i;

/** A host name as DNS allows it (letters, digits, hyphens, underscores; labels ≤ 63; total ≤ 253). */
export function isHostname(name: string): boolean {
  const n = name.replace(/\.$/, '');
  return n.length > 0 && n.length <= 253 && n.split('.').every((l) => LABEL.test(l));
}

/** Normalise and validate a name of the plan; throws a DdnsError (input) for a bad one. */
export function checkName(raw: string): string {
  const s = String(raw ?? '').trim();
  const ip = parseAddress(s.replace(/^\[(.*)\]$/, '$1'));
  if (ip) return ip.address;
  if (!isHostname(s))
    throw badInput(
      say(
        'reach.bad_name',
        '"__name__" is not a valid host name (letters, digits and hyphens, separated by dots, e.g. home.example.com)',
        { name: s.slice(0, 80) },
      ),
      'invalid_name',
    );
  return normName(s);
}

function checkExpected(e: ExpectedAddresses | undefined, where: Said): ExpectedAddresses {
  const out: ExpectedAddresses = {};
  for (const fam of ['ipv4', 'ipv6'] as const) {
    const v = e?.[fam];
    if (v === undefined || v === null || v === '') continue;
    const p = parseAddress(String(v));
    if (!p)
      throw badInput(
        say('reach.expected_not_ip', '__where__: "__value__" is not an IP address', {
          where,
          value: String(v).slice(0, 60),
        }),
        'invalid_address',
      );
    if (p.family !== fam)
      throw badInput(
        say('reach.expected_wrong_family', '__where__: __address__ is not an __family__ address', {
          where,
          address: p.address,
          family: fam === 'ipv4' ? 'IPv4' : 'IPv6',
        }),
        'invalid_address',
      );
    out[fam] = p.address;
  }
  return out;
}

const TYPE: Record<Family, RecordKind> = { ipv4: 'A', ipv6: 'AAAA' };
const ttlText = (a: ServerAnswer) => (a.ttl !== null ? ` (TTL ${a.ttl} s)` : '');
const where = (a: ServerAnswer) => (a.nsName ? `${a.nsName} (${a.server})` : a.server);

/** A failed check's fields: `detail` in English and the sentence it says. */
const told = (s: Sentence | string): { detail: string; said?: Sentence } => {
  const said = sentenceOf(s);
  return { detail: english(s), ...(said ? { said } : {}) };
};

/** A DNS check from one server's answer(s) to one name: one type with expectation, or A+AAAA without. */
function dnsCheck(
  kind: CheckKind,
  name: string,
  answers: ResolverAnswer[],
  expected: string | null,
  extra: Record<string, unknown> = {},
): Check {
  const a = answers[0];
  const typeText = answers.map((x) => x.type).join('/');
  const target = `${name} ${typeText} @ ${where(a)}`;
  const ms = Math.max(...answers.map((x) => x.ms));
  const values = answers.flatMap((x) => x.values);
  const data = {
    server: a.server,
    ...(a.nsName ? { nsName: a.nsName } : {}),
    role: a.role,
    type: typeText,
    values,
    ttl: a.ttl,
    stale: a.stale,
    rcode: a.rcode,
    expected,
    ...(a.cnames ? { cnames: a.cnames } : {}),
    ...extra,
  };
  const failed = answers.find((x) => x.error);
  if (failed && unreachableIpv6(failed)) {
    // An IPv4-only home cannot ask IPv6 servers: that says nothing about the name, so it is skipped.
    return {
      kind,
      target,
      ok: true,
      ...told(
        say('reach.dns_skipped_ipv6', 'skipped: this computer has no IPv6 connectivity (no route to this IPv6 server)'),
      ),
      ms,
      data: { ...data, skipped: true },
    };
  }
  if (failed) {
    const s = answerSaid(failed);
    return { kind, target, ok: false, detail: failed.error!, ...(s ? { said: s } : {}), ms, data };
  }
  if (kind === 'dns-authoritative' && answers.some((x) => x.authoritative === false)) {
    return {
      kind,
      target,
      ok: false,
      ...told(
        say(
          'reach.dns_lame',
          '__server__ answered without authority: it does not serve this zone (lame delegation), so its answer cannot be trusted',
          { server: where(a) },
        ),
      ),
      ms,
      data,
    };
  }
  const nothing =
    a.rcode === 'NXDOMAIN'
      ? say('reach.dns_nxdomain', 'the name does not exist (NXDOMAIN)')
      : say('reach.dns_no_record', 'no __type__ record', { type: typeText });
  if (expected === null) {
    if (!values.length) return { kind, target, ok: false, ...told(nothing), ms, data };
    return {
      kind,
      target,
      ok: true,
      detail: answers
        .filter((x) => x.values.length)
        .map((x) => `${x.values.join(', ')}${ttlText(x)}`)
        .join('; '),
      ms,
      data,
    };
  }
  if (!values.length) {
    const s = say('reach.dns_missing', '__nothing__; expected __expected__', { nothing, expected });
    return { kind, target, ok: false, ...told(s), ms, data };
  }
  if (a.stale) {
    const cache =
      a.role === 'authoritative'
        ? ''
        : a.ttl !== null
          ? say('reach.dns_may_keep', '; it may keep this answer for up to __ttl__ s more', { ttl: a.ttl })
          : '';
    const s = say('reach.dns_stale', 'stale: answers __values__, expected __expected____ttl____cache__', {
      values: values.join(', '),
      expected,
      ttl: ttlText(a),
      cache,
    });
    return { kind, target, ok: false, ...told(s), ms, data };
  }
  const check: Check = { kind, target, ok: true, detail: `${expected}${ttlText(a)}`, ms, data };
  if (a.extra?.length)
    check.warning = `also answers ${a.extra.join(', ')} besides ${expected}: some visitors may be sent to that address`;
  return check;
}

function isAborted(signal?: AbortSignal) {
  if (signal?.aborted) throw transient(say('reach.cancelled', 'reachability check cancelled'), { code: 'aborted' });
}

export async function runChecks(plan: ReachPlan): Promise<ReachReport> {
  const started = performance.now();
  const redactor = plan.redactor ?? new Redactor();
  const timeoutMs = plan.timeoutMs ?? 5000;
  const concurrency = plan.concurrency ?? 4;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 50)
    throw badInput(say('reach.timeout_too_short', 'the timeout must be at least 50 ms'), 'invalid_timeout');
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw badInput(
      say('reach.bad_concurrency', 'concurrency must be a whole number of at least 1'),
      'invalid_concurrency',
    );
  // ---- validate everything before sending anything
  const names = [...new Set((plan.names ?? []).map(checkName))];
  const expectedAll = checkExpected(plan.expected, say('reach.expected_address', 'expected address'));
  const expectedByName = new Map<string, ExpectedAddresses>();
  for (const [n, e] of Object.entries(plan.expectedByName ?? {}))
    expectedByName.set(
      checkName(n),
      checkExpected(e, say('reach.expected_address_of', 'expected address of __name__', { name: n })),
    );
  const ports = plan.tcp?.ports ?? [];
  for (const p of ports)
    if (!validPort(p))
      throw badInput(
        say('reach.bad_port', '"__port__" is not a port number (1-65535)', { port: String(p) }),
        'invalid_port',
      );
  const urls = (plan.http?.urls ?? []).map((u) => parseCheckUrl(u, redactor).href);
  const status = parseStatusSpec(plan.http?.expectStatus);
  const external = plan.externalUrl ? parseCheckUrl(plan.externalUrl, redactor).href : null;
  const dns = plan.dns ?? {};
  const wantDns = dns.authoritative || dns.public || dns.system;
  if ((wantDns || ports.length) && !names.length)
    throw badInput(say('reach.no_names', 'no host name to check: set at least one name'), 'no_names');
  const expectedFor = (n: string): ExpectedAddresses => expectedByName.get(n) ?? expectedAll;
  let natInput: NatEvidence | null = null;
  if (plan.nat) {
    const firstExpected = expectedByName.size ? [...expectedByName.values()][0] : expectedAll;
    natInput = {
      ...plan.nat,
      publicIpv4: plan.nat.publicIpv4 ?? firstExpected.ipv4 ?? expectedAll.ipv4,
      publicIpv6: plan.nat.publicIpv6 ?? firstExpected.ipv6 ?? expectedAll.ipv6,
    };
  }
  const nat = natInput ? diagnoseNat(natInput) : null;
  isAborted(plan.signal);

  // ---- build the tasks
  type Task = () => Promise<Check[]>;
  const tasks: Task[] = [];
  const notes: Said[] = [];
  const dnsNames = names.filter((n) => !net.isIP(n));
  if (wantDns && dnsNames.length < names.length)
    notes.push(
      say('reach.dns_skip_ip', 'DNS checks skip __addresses__: an IP address needs no lookup', {
        addresses: names.filter((n) => net.isIP(n)).join(', '),
      }),
    );
  const questions = (n: string): Array<{ types: RecordKind[]; expected: string | null }> => {
    const e = expectedFor(n);
    const qs = (['ipv4', 'ipv6'] as const).filter((f) => e[f]).map((f) => ({ types: [TYPE[f]], expected: e[f]! }));
    return qs.length ? qs : [{ types: ['A', 'AAAA'], expected: null }];
  };
  const askAll = async (types: RecordKind[], ask: (t: RecordKind) => Promise<ResolverAnswer[]>) => {
    const perType = await Promise.all(types.map(ask));
    // group by server: one check per server with the answers of every type
    return perType[0].map((a, i) => perType.map((list) => list[i] ?? a));
  };

  for (const name of dnsNames) {
    if (dns.authoritative) {
      tasks.push(async () => {
        const t0 = performance.now();
        let servers: AuthoritativeServer[] | undefined = dns.authServers;
        let zone: string | null = null;
        let unresolved: string[] = [];
        if (!servers?.length) {
          try {
            const z = await findAuthoritativeServers(name, {
              discovery: dns.discovery,
              authPort: dns.authPort,
              timeoutMs,
              signal: plan.signal,
            });
            ({ servers, zone, unresolved } = z);
          } catch (e) {
            isAborted(plan.signal);
            return [
              {
                kind: 'dns-authoritative',
                target: name,
                ok: false,
                ...told(
                  say('reach.dns_no_servers', 'could not find the name servers of __name__: __reason__', {
                    name,
                    reason: failureSaid(e, (t) => redactor.text(t)),
                  }),
                ),
                ms: Math.round(performance.now() - t0),
              },
            ];
          }
        }
        const checks: Check[] = [];
        for (const q of questions(name)) {
          let chain: string[] = [];
          const groups = await askAll(q.types, async (t) => {
            const r = await askAuthoritative(name, t, {
              servers,
              discovery: dns.discovery,
              authPort: dns.authPort,
              timeoutMs,
              signal: plan.signal,
            });
            if (r.chain.length) chain = r.chain;
            return r.answers.map((a) => withVerdict(a, q.expected ? [q.expected] : undefined));
          });
          for (const g of groups)
            checks.push(
              dnsCheck('dns-authoritative', name, g, q.expected, { zone, ...(chain.length ? { via: chain } : {}) }),
            );
        }
        for (const ns of unresolved)
          checks.push({
            kind: 'dns-authoritative',
            target: `${name} @ ${ns}`,
            ok: false,
            ...told(
              say('reach.dns_ns_no_address', 'the name server __ns__ of __zone__ has no address: it cannot answer', {
                ns,
                zone: String(zone),
              }),
            ),
            ms: 0,
          });
        return checks;
      });
    }
    if (dns.public) {
      tasks.push(async () => {
        const servers = dns.publicResolvers?.length ? dns.publicResolvers : defaultPublicResolvers();
        const checks: Check[] = [];
        for (const q of questions(name)) {
          const groups = await askAll(q.types, (t) =>
            askPublicResolvers({
              name,
              type: t,
              expected: q.expected ? [q.expected] : undefined,
              servers,
              timeoutMs,
              signal: plan.signal,
            }),
          );
          for (const g of groups) checks.push(dnsCheck('dns-public', name, g, q.expected));
        }
        return checks;
      });
    }
    if (dns.system) {
      tasks.push(async () => {
        const checks: Check[] = [];
        for (const q of questions(name)) {
          const g = await Promise.all(
            q.types.map((t) =>
              askSystemResolver({
                name,
                type: t,
                expected: q.expected ? [q.expected] : undefined,
                servers: dns.systemServers,
                timeoutMs,
                signal: plan.signal,
              }),
            ),
          );
          checks.push(dnsCheck('dns-system', name, g, q.expected));
        }
        return checks;
      });
    }
  }

  const tcpFamily = plan.tcp?.family ?? 'any';
  const configured: Array<4 | 6 | undefined> = { any: [undefined], ipv4: [4], ipv6: [6], both: [4, 6] }[
    tcpFamily
  ] as Array<4 | 6 | undefined>;
  /**
   * A name with its own published addresses (dns-update's results: `nas@mac(…)`, `printer@::1234`)
   * is probed at them, each family on its own even with `any`: the IPv6 address of a LAN host is
   * its own, and the router's firewall treats it apart from the IPv4 port forward.
   */
  const tcpPlan = (name: string): Array<{ family: 4 | 6 | undefined; host: string }> => {
    const own = expectedByName.get(name);
    const at = (f: 4 | 6 | undefined) => (f && own?.[f === 4 ? 'ipv4' : 'ipv6']) || name;
    const fams =
      tcpFamily === 'any' && own && (own.ipv4 || own.ipv6)
        ? ([own.ipv4 ? 4 : null, own.ipv6 ? 6 : null].filter((f) => f !== null) as Array<4 | 6>)
        : configured;
    return fams.map((family) => ({ family, host: at(family) }));
  };
  const tcpChecks: Array<{ name: string; port: number; family: 4 | 6 | undefined; check: Check }> = [];
  for (const name of names) {
    for (const port of ports) {
      for (const { family, host: address } of tcpPlan(name)) {
        if (family && net.isIP(name) && net.isIP(name) !== family) continue;
        tasks.push(async () => {
          const r = await probeTcp({ host: address, port, family, timeoutMs, signal: plan.signal });
          const host = name.includes(':') ? `[${name}]` : name;
          const check: Check = {
            kind: 'tcp',
            target: `${host}:${port}${family ? ` (IPv${family})` : ''}`,
            ok: r.ok,
            ...told(address !== name ? say('reach.named', '__name__: __detail__', { name, detail: r.said }) : r.said),
            ms: r.ms,
            data: {
              host: name,
              port,
              code: r.code,
              ...(r.address ? { address: r.address } : address !== name ? { address } : {}),
              ...(r.family ? { family: r.family } : {}),
            },
          };
          tcpChecks.push({ name, port, family, check });
          return [check];
        });
      }
    }
  }
  for (const url of urls) {
    tasks.push(async () => {
      const r = await probeHttp({
        url,
        expectStatus: status,
        timeoutMs,
        ca: plan.http?.ca,
        certWarnDays: plan.http?.certWarnDays,
        signal: plan.signal,
        redactor,
      });
      return [
        {
          kind: 'http',
          target: r.url,
          ok: r.ok,
          ...told(r.said),
          ms: r.ms,
          ...(r.warning ? { warning: r.warning } : {}),
          data: {
            code: r.code,
            ...(r.status !== undefined ? { status: r.status } : {}),
            ...(r.certificate ? { certificate: r.certificate } : {}),
          },
        },
      ];
    });
  }
  if (external) {
    tasks.push(async () => {
      const t0 = performance.now();
      const target = redactor.text(external);
      try {
        const res = await httpRequest({
          url: external,
          timeoutMs,
          redactor,
          signal: plan.signal,
          maxBodyBytes: 16 * 1024,
        });
        let verdict: boolean | undefined;
        let message: string | undefined;
        try {
          const j = JSON.parse(res.body) as { ok?: unknown; message?: unknown; detail?: unknown };
          if (typeof j?.ok === 'boolean') verdict = j.ok;
          const m = j?.message ?? j?.detail;
          if (typeof m === 'string') message = m;
        } catch {
          /* a plain-text answer: the status decides */
        }
        const ok = res.status >= 200 && res.status < 300 && verdict !== false;
        const said = excerpt(message ?? res.body, redactor);
        return [
          {
            kind: 'external',
            target,
            ok,
            ...told(
              say('reach.external_answered', 'outside check answered __status__: __answer__', {
                status: res.status,
                answer: said,
              }),
            ),
            ms: Math.round(res.ms),
            data: { status: res.status },
          },
        ];
      } catch (e) {
        isAborted(plan.signal);
        return [
          {
            kind: 'external',
            target,
            ok: false,
            ...told(
              say('reach.external_failed', 'outside check failed: __reason__', {
                reason: failureSaid(e, (t) => redactor.text(t)),
              }),
            ),
            ms: Math.round(performance.now() - t0),
          },
        ];
      }
    });
  }
  if (nat) {
    tasks.push(async () => [
      {
        kind: 'nat',
        target: nat.wanAddress ? `WAN ${nat.wanAddress}` : 'NAT',
        ok: nat.verdict !== 'cgnat',
        ...told(nat.said ?? nat.summary),
        ms: 0,
        ...(nat.verdict === 'double-nat' || nat.verdict === 'in-between' ? { warning: nat.explanation } : {}),
        data: { verdict: nat.verdict, portForwardingPossible: nat.portForwardingPossible },
      },
    ]);
  }
  if (!tasks.length)
    throw badInput(
      say(
        'reach.nothing_to_check',
        'nothing to check: enable at least one check (DNS, TCP ports, an HTTP URL, an external check URL or the NAT diagnosis)',
      ),
      'no_checks',
    );

  const checks = (
    await mapLimit(tasks, concurrency, async (t) => {
      isAborted(plan.signal);
      return t();
    })
  ).flat();
  isAborted(plan.signal);
  notes.push(...ipv6Blocked(tcpChecks));
  const ok = checks.every((c) => c.ok);
  return {
    ok,
    checks,
    diagnosis: diagnose(checks, nat, notes, Boolean(external)),
    ms: Math.round(performance.now() - started),
  };
}

/**
 * A port open over IPv4 and closed over IPv6 on the same name: the router's firewall (IPv6 has no
 * NAT: each LAN host's address is reachable only where the router lets it in). Says so in the IPv6
 * check's detail and returns one note per such name and port.
 */
function ipv6Blocked(tcp: Array<{ name: string; port: number; family: 4 | 6 | undefined; check: Check }>): Said[] {
  const notes: Said[] = [];
  for (const v6 of tcp) {
    if (v6.family !== 6 || v6.check.ok) continue;
    const v4 = tcp.find((t) => t.family === 4 && t.name === v6.name && t.port === v6.port && t.check.ok);
    if (!v4) continue;
    const addr = typeof v6.check.data?.address === 'string' ? ` (${v6.check.data.address})` : '';
    const sentence = say(
      'reach.ipv6_blocked',
      "__name__ port __port__ answers over IPv4 but not over IPv6__address__: the router's firewall most likely blocks incoming IPv6 connections to this host (routers let them in only per device and port). Allow port __port__ for this device in the router's IPv6 firewall (often called IPv6 port sharing or permit access), or check that the service also listens on IPv6.",
      { name: v6.name, port: v6.port, address: addr },
    );
    Object.assign(
      v6.check,
      told(
        say('reach.detail_more', '__detail__. __more__', { detail: v6.check.said ?? v6.check.detail, more: sentence }),
      ),
    );
    v6.check.data = { ...v6.check.data, ipv6Blocked: true };
    notes.push(sentence);
  }
  return notes;
}

/** Turn the results into a few sentences: what is wrong and what it probably means. */
function diagnose(checks: Check[], nat: NatDiagnosis | null, notes: Said[], hasExternal: boolean): Diagnosis {
  const failed = checks.filter((c) => !c.ok);
  const dnsKinds = new Set<CheckKind>(['dns-authoritative', 'dns-public', 'dns-system']);
  const stale = failed.filter((c) => dnsKinds.has(c.kind) && c.data?.stale === true);
  const staleAuth = stale.filter((c) => c.kind === 'dns-authoritative');
  const staleCaches = stale.filter((c) => c.kind !== 'dns-authoritative');
  if (staleAuth.length)
    notes.push(
      staleAuth.length > 1
        ? say(
            'reach.stale_auth_many',
            '__count__ authoritative servers still answer an old value: the update has not reached them yet (zone transfer pending, or the update went to another server).',
            { count: staleAuth.length },
          )
        : say(
            'reach.stale_auth_one',
            '1 authoritative server still answers an old value: the update has not reached it yet (zone transfer pending, or the update went to another server).',
          ),
    );
  if (staleCaches.length) {
    const maxTtl = Math.max(0, ...staleCaches.map((c) => Number(c.data?.ttl ?? 0)));
    notes.push(
      staleCaches.length > 1
        ? say(
            'reach.stale_caches_many',
            "__count__ resolvers still cache the old value; this clears by itself within __ttl__ s (the record's TTL).",
            { count: staleCaches.length, ttl: maxTtl },
          )
        : say(
            'reach.stale_caches_one',
            "1 resolver still caches the old value; this clears by itself within __ttl__ s (the record's TTL).",
            { ttl: maxTtl },
          ),
    );
  }
  const dnsOk =
    checks.some((c) => dnsKinds.has(c.kind)) && checks.filter((c) => dnsKinds.has(c.kind)).every((c) => c.ok);
  // (an IPv6 port closed where IPv4 answers has its own note: ipv6Blocked)
  const serviceFailed = failed.some((c) => (c.kind === 'tcp' && c.data?.ipv6Blocked !== true) || c.kind === 'http');
  if (serviceFailed && nat?.verdict === 'cgnat') {
    notes.push(
      say(
        'reach.cgnat_services',
        'The service checks fail as expected behind CGNAT: connections from the internet cannot reach your router over IPv4.',
      ),
    );
  } else if (serviceFailed && (dnsOk || !checks.some((c) => dnsKinds.has(c.kind)))) {
    const params = {
      dns: dnsOk ? say('reach.although_dns_right', ' although DNS is right') : '',
      outside: hasExternal
        ? say('reach.see_external', '; see the external check for the view from outside')
        : say('reach.use_external', '; an external check URL gives the view from outside'),
    };
    notes.push(
      say(
        'reach.hairpin',
        'A service did not answer__dns__. If this check runs inside your own network, the router may not support hairpin NAT (reaching your own public address from inside), so the result can mislead__outside__.',
        params,
      ),
    );
  }
  if (nat && nat.verdict !== 'direct' && nat.verdict !== 'unknown') notes.push(nat.explanation);
  const skipped = checks.filter((c) => c.data?.skipped === true).length;
  if (skipped)
    notes.push(
      skipped > 1
        ? say('reach.skipped_many', '__count__ checks were skipped because this computer has no IPv6 connectivity.', {
            count: skipped,
          })
        : say('reach.skipped_one', '1 check was skipped because this computer has no IPv6 connectivity.'),
    );
  const warnings = checks.filter((c) => c.ok && c.warning).length;
  let summary: Said;
  if (!failed.length) {
    const n = checks.length;
    const w = !warnings
      ? ''
      : warnings === 1
        ? say('reach.one_warning', ' (1 warning)')
        : say('reach.warnings', ' (__count__ warnings)', { count: warnings });
    summary =
      n === 1
        ? say('reach.passed_one', 'all 1 check passed__warnings__', { warnings: w })
        : say('reach.passed', 'all __count__ checks passed__warnings__', { count: n, warnings: w });
  } else {
    const params = {
      failed: failed.length,
      count: checks.length,
      target: failed[0].target,
      detail: failed[0].said ?? failed[0].detail,
    };
    summary =
      checks.length === 1
        ? say('reach.failed_one', '__failed__ of 1 check failed: __target__: __detail__', params)
        : say('reach.failed', '__failed__ of __count__ checks failed: __target__: __detail__', params);
  }
  if (nat && nat.verdict !== 'direct' && nat.verdict !== 'unknown')
    summary = say('reach.detail_more', '__detail__. __more__', { detail: summary, more: nat.said ?? nat.summary });
  const said = sentenceOf(summary);
  return {
    summary: english(summary),
    nat,
    notes: notes.map(english),
    ...(said ? { said } : {}),
    ...(notes.some((n) => typeof n !== 'string') ? { saidNotes: notes } : {}),
  };
}
