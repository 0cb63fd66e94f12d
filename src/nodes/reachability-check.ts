/**
 * reachability-check: the Node-RED adapter around runChecks (src/core/reach/checks.ts) and
 * waitForPropagation (src/core/dns/propagation.ts).
 *
 * It validates the configuration (zod), reads the expected addresses from the incoming msg
 * (public-ip-watch `{ ipv4, ipv6 }`, dns-update `{ results: [...] }`) or from the configuration,
 * runs the checks on input and/or on an interval (the loop and the debounce: core/reach/monitor.ts),
 * and turns the report into output 1 (every run), output 2 (alerts on transitions only, after
 * `alertAfter` failed runs in a row: one `down`, one `recovered`), the status, and node.error / done(err).
 */
import { z } from 'zod';
import { badInput, isDdnsError } from '../core/errors';
import { parseAddress } from '../core/address';
import { ipWatchPayloadSchema, payloadAddress } from '../core/ip/payload';
import { Redactor } from '../core/redact';
import { waitForPropagation, type PropagationResult } from '../core/dns/propagation';
import { DEFAULT_PUBLIC_RESOLVERS } from '../core/dns/resolvers';
import { parseServer, type DnsServer } from '../core/dns/transport';
import { checkName, runChecks, type Check, type ExpectedAddresses, type ReachReport } from '../core/reach/checks';
import { parseCheckUrl, parseStatusSpec } from '../core/reach/http';
import { ReachMonitor, type MonitorOutcome } from '../core/reach/monitor';
import { blank, boolField, listField, numberField, textField } from './config-fields';
import type { Msg, Red, RedNode } from './red-types';

const listOf = listField();
const text = textField();

function serverList(label: string) {
  return listOf.transform((items, ctx): DnsServer[] => {
    const out: DnsServer[] = [];
    for (const s of items) {
      const srv = parseServer(s);
      if (!parseAddress(srv.host) || !(Number.isInteger(srv.port) && srv.port! >= 1 && srv.port! <= 65535)) {
        ctx.addIssue({
          code: 'custom',
          message: `${label}: "${s}" is not an IP address with an optional port (e.g. 192.0.2.53, [2001:db8::53]:5353)`,
        });
        return z.NEVER;
      }
      out.push(srv);
    }
    return out;
  });
}
const optionalAddress = (label: string, family: 'ipv4' | 'ipv6' | 'any') =>
  text.refine(
    (s) => s === '' || (parseAddress(s) !== null && (family === 'any' || parseAddress(s)!.family === family)),
    `${label} must be ${family === 'ipv4' ? 'an IPv4' : family === 'ipv6' ? 'an IPv6' : 'an IP'} address`,
  );

/** The configuration as the editor saves it. */
const configSchema = z
  .object({
    name: z.string().optional(),
    names: listOf,
    expectedIpv4: optionalAddress('expected IPv4 address', 'ipv4'),
    expectedIpv6: optionalAddress('expected IPv6 address', 'ipv6'),
    dnsAuthoritative: boolField(true),
    dnsPublic: boolField(true),
    dnsSystem: boolField(false),
    publicResolvers: serverList('public resolvers'),
    discovery: serverList('discovery resolvers'),
    authServers: serverList('authoritative servers'),
    authPort: numberField('authoritative port', 1, 65535, 53, true),
    tcpPorts: listOf,
    tcpFamily: z
      .enum(['any', 'ipv4', 'ipv6', 'both'], { error: 'IP version must be any, ipv4, ipv6 or both' })
      .default('any'),
    httpUrls: listOf,
    httpStatus: text,
    certWarnDays: numberField('certificate warning', 0, 365, 14, true),
    natDiagnosis: boolField(true),
    wanAddress: optionalAddress('WAN address', 'ipv4'),
    propagationWait: numberField('propagation wait', 0, 3600, 0),
    interval: numberField('interval', 0, 86_400, 0),
    timeout: numberField('timeout', 0.1, 120, 5),
    concurrency: numberField('concurrency', 1, 32, 4, true),
    alertAfter: numberField('alert after', 1, 1000, 2, true),
    topic: z.preprocess((v) => (blank(v) ? 'reachability' : v), z.string()),
  })
  .superRefine((c, ctx) => {
    if (c.interval > 0 && c.interval < 30)
      ctx.addIssue({
        code: 'custom',
        path: ['interval'],
        message: 'interval must be 0 (input only) or at least 30 seconds',
      });
    for (const p of c.tcpPorts) {
      if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535)
        ctx.addIssue({ code: 'custom', path: ['tcpPorts'], message: `"${p}" is not a port number (1-65535)` });
    }
    for (const n of c.names) {
      try {
        checkName(n);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['names'], message: (e as Error).message });
      }
    }
    try {
      parseStatusSpec(c.httpStatus);
      for (const u of c.httpUrls) parseCheckUrl(u);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['httpUrls'], message: (e as Error).message });
    }
  });
type Config = z.infer<typeof configSchema>;

const addressOrNull = (label: string) =>
  payloadAddress.superRefine((v, ctx) => {
    if (typeof v === 'string' && v !== '' && !parseAddress(v))
      ctx.addIssue({ code: 'custom', message: `${label}: "${v.slice(0, 60)}" is not an IP address` });
  });
const resultSchema = z.looseObject({
  hostname: z.string({ error: 'msg.payload.results[]: hostname must be a string' }),
  family: z.enum(['ipv4', 'ipv6'], { error: 'msg.payload.results[]: family must be ipv4 or ipv6' }),
  address: addressOrNull('msg.payload.results[].address'),
  status: z.string().optional(),
});
/** What the node reads from an incoming msg; anything else in the msg is left alone. */
const inputSchema = z.looseObject({
  payload: z.unknown(),
  hostname: z
    .union([z.string(), z.array(z.string())], { error: 'msg.hostname must be a name or a list of names' })
    .optional(),
  wanAddress: addressOrNull('msg.wanAddress'),
});
/** public-ip-watch's payload (the fields read here, addresses checked), or dns-update's results. */
const payloadSchema = z.looseObject({
  ipv4: addressOrNull('msg.payload.ipv4'),
  ipv6: addressOrNull('msg.payload.ipv6'),
  wanAddress: addressOrNull('msg.payload.wanAddress'),
  results: z.array(resultSchema, { error: 'msg.payload.results must be a list of dns-update results' }).optional(),
  cgnat: ipWatchPayloadSchema.shape.cgnat,
});

function describeIssues(e: z.ZodError): string {
  return e.issues
    .map((i) =>
      i.path.length && !i.message.includes(String(i.path[0])) ? `${i.path.join('.')}: ${i.message}` : i.message,
    )
    .join('; ');
}

interface RunInput {
  names: string[];
  expected: ExpectedAddresses;
  expectedByName: Record<string, ExpectedAddresses>;
  wanAddress: string | null;
  /** The router said it has no public address (public-ip-watch's router source: NAT-PMP result 3…). */
  routerNoPublicAddress: boolean;
  /** Names and families that dns-update just changed (the propagation wait watches them). */
  updated: Array<{ name: string; family: 'ipv4' | 'ipv6'; address: string }>;
}

/** Read names and expectations from the msg (when given) and the configuration. Throws on bad input. */
function readInput(cfg: Config, msg: Msg | null): RunInput {
  const expected: ExpectedAddresses = { ipv4: cfg.expectedIpv4 || null, ipv6: cfg.expectedIpv6 || null };
  const expectedByName: Record<string, ExpectedAddresses> = {};
  const updated: RunInput['updated'] = [];
  let names = cfg.names;
  let wanAddress: string | null = cfg.wanAddress || null;
  let routerNoPublicAddress = false;
  if (msg) {
    const m = inputSchema.safeParse(msg);
    if (!m.success) throw badInput(describeIssues(m.error));
    if (m.data.wanAddress) wanAddress = m.data.wanAddress;
    const p =
      m.data.payload !== null && typeof m.data.payload === 'object' && !Array.isArray(m.data.payload)
        ? payloadSchema.safeParse(m.data.payload)
        : null;
    if (p && !p.success) throw badInput(describeIssues(p.error));
    const pl = p?.data;
    if (pl) {
      if (pl.ipv4 !== undefined || pl.ipv6 !== undefined) {
        // public-ip-watch: the current public addresses (null: family not tracked or not found)
        if (pl.ipv4) expected.ipv4 = pl.ipv4;
        if (pl.ipv6) expected.ipv6 = pl.ipv6;
      }
      if (pl.wanAddress) wanAddress = pl.wanAddress;
      else if (pl.cgnat?.localClass === 'cgnat' && pl.cgnat.localAddress) wanAddress = pl.cgnat.localAddress;
      // The router answered "no public address" without naming one (NAT-PMP result 3).
      if (pl.cgnat?.localClass === 'none') routerNoPublicAddress = true;
      for (const r of pl.results ?? []) {
        if (!r.address) continue;
        const name = checkName(r.hostname);
        expectedByName[name] = { ...expectedByName[name], [r.family]: r.address };
        if (r.status === 'updated') updated.push({ name, family: r.family, address: r.address });
      }
      if (!names.length && pl.results?.length) names = [...new Set(pl.results.map((r) => r.hostname))];
    }
    if (!names.length && m.data.hostname) names = ([] as string[]).concat(m.data.hostname);
  }
  if (wanAddress && parseAddress(wanAddress)?.family !== 'ipv4')
    throw badInput(`WAN address ${wanAddress} must be an IPv4 address`);
  return { names, expected, expectedByName, wanAddress, routerNoPublicAddress, updated };
}

const hhmm = () => new Date().toTimeString().slice(0, 5);
const short = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export = function register(RED: Red): void {
  /** A catalog text, or the English fallback when the catalog is not loaded (tests, embedding). */
  const t = (key: string, fallback: string, subs?: Record<string, unknown>) => {
    const v = RED._(`reachability-check.${key}`, subs);
    return v && v !== `reachability-check.${key}` ? v : fallback;
  };
  const INVALID_CONFIG = 'reachability-check is not configured correctly';

  function ReachabilityCheckNode(this: RedNode, raw: Record<string, unknown>): void {
    RED.nodes.createNode(this, raw);
    const node = this;
    /** A configuration that cannot work: say why, then stay idle (every input msg gets the same error). */
    const idle = (reason: string) => {
      const why = `${INVALID_CONFIG}: ${reason}`;
      const red = () =>
        node.status({ fill: 'red', shape: 'ring', text: t('status.invalid-config', 'invalid configuration') });
      red();
      node.error(why);
      node.on('input', (_m, _s, done) => {
        red();
        done(new Error(why));
      });
    };
    const parsed = configSchema.safeParse(raw);
    if (!parsed.success) return idle(describeIssues(parsed.error));
    const cfg = parsed.data;
    const externalUrl = (node.credentials?.externalUrl ?? '').trim();
    const redactor = new Redactor();
    try {
      if (externalUrl) parseCheckUrl(externalUrl, redactor);
    } catch (e) {
      return idle(`external check URL: ${(e as Error).message}`);
    }
    const wantNames = cfg.dnsAuthoritative || cfg.dnsPublic || cfg.dnsSystem || cfg.tcpPorts.length > 0;
    if (!wantNames && !cfg.httpUrls.length && !cfg.natDiagnosis && !externalUrl) {
      return idle(
        'nothing to check: enable at least one check (DNS, TCP ports, an HTTP URL, an external check URL or the NAT diagnosis)',
      );
    }
    if (cfg.interval > 0 && wantNames && !cfg.names.length) {
      return idle('runs on an interval have no message to take names from: enter the host names to check');
    }
    const publicResolvers = cfg.publicResolvers.length
      ? cfg.publicResolvers
      : DEFAULT_PUBLIC_RESOLVERS.map((s) => parseServer(s));
    const timeoutMs = Math.round(cfg.timeout * 1000);

    async function propagate(input: RunInput, signal: AbortSignal): Promise<PropagationResult[] | undefined> {
      if (!(cfg.propagationWait > 0) || !input.updated.length || !cfg.dnsAuthoritative) return undefined;
      node.status({
        fill: 'yellow',
        shape: 'ring',
        text: t('status.propagating', 'waiting for the update to reach the name servers…'),
      });
      return Promise.all(
        input.updated.map(async (u) => {
          const r = await waitForPropagation({
            name: u.name,
            type: u.family === 'ipv4' ? 'A' : 'AAAA',
            expected: [u.address],
            servers: cfg.authServers.length ? cfg.authServers : undefined,
            discovery: cfg.discovery.length ? cfg.discovery : undefined,
            authPort: cfg.authPort,
            timeoutMs: cfg.propagationWait * 1000,
            intervalMs: 2000,
            queryTimeoutMs: timeoutMs,
            signal,
          });
          return { name: u.name, family: u.family, ...r };
        }),
      );
    }

    /** One run: propagation wait (after an update), the checks. */
    async function check(
      msg: Msg | null,
      signal: AbortSignal,
    ): Promise<{ ok: boolean; report: ReachReport; propagation?: PropagationResult[] }> {
      const input = readInput(cfg, msg);
      node.status({ fill: 'yellow', shape: 'ring', text: t('status.checking', 'checking…') });
      const propagation = await propagate(input, signal);
      const report = await runChecks({
        names: input.names,
        expected: input.expected,
        expectedByName: input.expectedByName,
        dns: {
          authoritative: cfg.dnsAuthoritative,
          public: cfg.dnsPublic,
          system: cfg.dnsSystem,
          publicResolvers,
          discovery: cfg.discovery.length ? cfg.discovery : undefined,
          authServers: cfg.authServers.length ? cfg.authServers : undefined,
          authPort: cfg.authPort,
        },
        tcp: { ports: cfg.tcpPorts.map(Number), family: cfg.tcpFamily },
        http: { urls: cfg.httpUrls, expectStatus: cfg.httpStatus, certWarnDays: cfg.certWarnDays },
        externalUrl: externalUrl || undefined,
        nat: cfg.natDiagnosis
          ? { wanAddress: input.wanAddress, routerNoPublicAddress: input.routerNoPublicAddress }
          : undefined,
        timeoutMs,
        concurrency: cfg.concurrency,
        signal,
        redactor,
      });
      return { ok: report.ok, report, propagation };
    }

    // Runs one after another, the interval, and the down/recovered debounce (core/reach/monitor.ts).
    const monitor = new ReachMonitor<Msg, Awaited<ReturnType<typeof check>>>({
      check,
      alertAfter: cfg.alertAfter,
      intervalMs: cfg.interval * 1000,
      onTimerOutcome: (o) => {
        const { out, alert, downError } = present(o, null);
        node.send([out, alert]);
        if (downError) node.error(downError, out);
      },
      onTimerError: (e) => {
        if (cancelled(e)) return;
        const err = asError(e);
        showError(err);
        node.error(err);
      },
    });

    /** A run's outcome as output 1, the alert msg (transitions only), the status and the error of a transition to down. */
    function present(
      o: MonitorOutcome<Awaited<ReturnType<typeof check>>>,
      msg: Msg | null,
    ): { out: Msg; alert: Msg | null; downError: Error | null } {
      const { report, propagation } = o.report;
      const checkedAt = new Date(o.at).toISOString();
      const payload: Record<string, unknown> = { ...report, checkedAt };
      if (propagation) payload.propagation = propagation;
      const out: Msg = msg ?? {};
      out.payload = payload;
      out.topic = cfg.topic;
      let alert: Msg | null = null;
      let downError: Error | null = null;
      const since = o.alert ? new Date(o.alert.since).toISOString() : null;
      if (o.alert?.state === 'recovered') {
        alert = {
          topic: cfg.topic,
          payload: {
            state: 'recovered',
            ok: true,
            failures: o.alert.failures,
            since,
            checkedAt,
            summary: report.diagnosis.summary,
            failed: [],
            diagnosis: report.diagnosis,
          },
        };
      } else if (o.alert?.state === 'down') {
        const failed = report.checks.filter((c: Check) => !c.ok);
        alert = {
          topic: cfg.topic,
          payload: {
            state: 'down',
            ok: false,
            failures: o.alert.failures,
            since,
            checkedAt,
            summary: report.diagnosis.summary,
            failed,
            diagnosis: report.diagnosis,
          },
        };
        downError = new Error(`not reachable: ${report.diagnosis.summary}`);
      }
      showStatus(report, o.down, o.failures);
      return { out, alert, downError };
    }

    function showStatus(report: ReachReport, down: boolean, failures: number): void {
      const time = hhmm();
      const failed = report.checks.filter((c) => !c.ok);
      const warnings = report.checks.filter((c) => c.ok && c.warning).length;
      if (!failed.length) {
        const n = report.checks.length;
        const text = `${n === 1 ? t('status.ok-one', 'ok · 1 check', { n }) : t('status.ok', `ok · ${n} checks`, { n })}${warnings ? `, ${t('status.warnings', `${warnings} warning(s)`, { n: warnings })}` : ''} · ${time}`;
        node.status({ fill: warnings ? 'yellow' : 'green', shape: 'dot', text });
      } else if (down) {
        node.status({
          fill: 'red',
          shape: 'ring',
          text: `${t('status.down', 'down')}: ${short(`${failed[0].target}: ${failed[0].detail}`)} · ${time}`,
        });
      } else {
        node.status({
          fill: 'yellow',
          shape: 'dot',
          text: `${t('status.failing', `${failed.length} of ${report.checks.length} failed (${failures}/${cfg.alertAfter})`, { failed: failed.length, total: report.checks.length, n: failures, of: cfg.alertAfter })} · ${time}`,
        });
      }
    }

    const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
    const cancelled = (e: unknown) => monitor.signal.aborted || (isDdnsError(e) && e.code === 'aborted');
    const showError = (e: Error) =>
      node.status({
        fill: 'red',
        shape: 'ring',
        text: short(
          isDdnsError(e) && e.kind === 'input'
            ? `${t('status.invalid-input', 'invalid input')}: ${e.message}`
            : e.message,
        ),
      });

    node.on('input', (msg, send, done) => {
      monitor.run(msg).then(
        (o) => {
          const { out, alert, downError } = present(o, msg);
          send([out, alert]);
          done(downError ?? undefined);
        },
        (e: unknown) => {
          if (cancelled(e)) return done();
          const err = asError(e);
          showError(err);
          done(err);
        },
      );
    });

    monitor.start();

    node.on('close', (_removed, done) => {
      void monitor.stop().then(() => {
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType('reachability-check', ReachabilityCheckNode, {
    credentials: { externalUrl: { type: 'text' } },
  });
};
