/**
 * reachability-check: the Node-RED adapter around runChecks (src/core/reach/checks.ts) and
 * waitForPropagation (src/core/dns/propagation.ts).
 *
 * It validates the configuration (zod), reads the expected addresses from the incoming msg
 * (public-ip-watch `{ ipv4, ipv6 }`, dns-update `{ results: [...] }`: core/reach/input.ts) or from
 * the configuration, runs the checks (core/reach/run.ts) on input and/or on an interval (the loop and
 * the debounce: core/reach/monitor.ts), and turns the report into output 1 (every run), output 2
 * (alerts on transitions only, after `alertAfter` failed runs in a row: one `down`, one `recovered`)
 * and the status (core/reach/report.ts), and node.error / done(err).
 */
import { z } from 'zod';
import { badInput, isDdnsError, say } from '../core/errors';
import { parseAddress } from '../core/address';
import { ipWatchPayloadSchema } from '../core/ip/payload';
import { Redactor } from '../core/redact';
import { parseServer, type DnsServer } from '../core/dns/transport';
import { reachConfigIssues } from '../core/reach/config';
import { parseCheckUrl } from '../core/reach/http';
import { describeReachIssues, readInput, type ReachMsgFields } from '../core/reach/input';
import { ReachMonitor, type MonitorOutcome } from '../core/reach/monitor';
import { reachMessages, reachStatus } from '../core/reach/report';
import { runReach, type ReachRun } from '../core/reach/run';
import { clip } from '../core/text';
import { describeProperty, fixedAtDeploy, typeField, valueAtDeploy, valueFor, VALUE_TYPES } from './typed';
import { asError, catalog, fail, spoken, spokenError, spokenText, stayIdle } from './adapter';
import { blank, boolField, listField, numberField, textField } from './config-fields';
import type { Msg, Red, RedNode } from './red-types';
import { phrase } from '../core/said';

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
          message: phrase(
            'node.not_server',
            '__label__: "__text__" is not an IP address with an optional port (e.g. 192.0.2.53, [2001:db8::53]:5353)',
            { label, text: s },
          ),
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
    authPort: numberField(phrase('node.field_authoritative_port', 'authoritative port'), 1, 65535, 53, true),
    tcpPorts: listOf,
    tcpFamily: z
      .enum(['any', 'ipv4', 'ipv6', 'both'], {
        error: phrase('node.ip_version_must_any', 'IP version must be any, ipv4, ipv6 or both'),
      })
      .default('any'),
    httpUrls: listOf,
    httpStatus: text,
    certWarnDays: numberField(phrase('node.field_certificate_warning', 'certificate warning'), 0, 365, 14, true),
    natDiagnosis: boolField(true),
    wanAddress: optionalAddress('WAN address', 'ipv4'),
    propagationWait: numberField(phrase('node.field_propagation_wait', 'propagation wait'), 0, 3600, 0),
    interval: numberField(phrase('node.field_interval', 'interval'), 0, 86_400, 0),
    timeout: numberField(phrase('node.field_timeout', 'timeout'), 0.1, 120, 5),
    concurrency: numberField(phrase('node.field_concurrency', 'concurrency'), 1, 32, 4, true),
    alertAfter: numberField(phrase('node.field_alert_after', 'alert after'), 1, 1000, 2, true),
    topic: z.preprocess((v) => (blank(v) ? 'reachability' : v), z.string()),
  })
  .superRefine((c, ctx) => {
    for (const i of reachConfigIssues(c)) ctx.addIssue({ code: 'custom', path: [i.path], message: i.message });
  });

/** An address field of the msg (as in public-ip-watch's payload: text or null), checked. */
const addressOrNull = (label: string) =>
  z
    .union([z.null(), z.string()], {
      error: phrase('node.address_or_null', '__label__ must be an IP address (text) or null', { label }),
    })
    .optional()
    .superRefine((v, ctx) => {
      if (typeof v === 'string' && v !== '' && !parseAddress(v))
        ctx.addIssue({
          code: 'custom',
          message: phrase('node.not_address', '__label__: "__text__" is not an IP address', {
            label,
            text: v.slice(0, 60),
          }),
        });
    });
const resultSchema = z.looseObject({
  hostname: z.string({
    error: phrase('node.msg_payload_results_hostname_must', 'msg.payload.results[]: hostname must be a string'),
  }),
  family: z.enum(['ipv4', 'ipv6'], {
    error: phrase('node.msg_payload_results_family_must', 'msg.payload.results[]: family must be ipv4 or ipv6'),
  }),
  address: addressOrNull('msg.payload.results[].address'),
  status: z.string().optional(),
});
/**
 * What the node reads from an incoming msg; anything else in the msg is left alone. Any msg starts a
 * run: a payload that is not an object (none at all, null, '', an inject node's timestamp, text) says
 * nothing and the configuration fills in; an object payload is read (and its fields checked).
 */
const inputSchema = z.looseObject({
  payload: z.unknown().optional(),
  hostname: z
    .union([z.string(), z.array(z.string())], {
      error: phrase('node.msg_hostname_must_name_list', 'msg.hostname must be a name or a list of names'),
    })
    .optional(),
  wanAddress: addressOrNull('msg.wanAddress'),
});
/** public-ip-watch's payload (the fields read here, addresses checked), or dns-update's results. */
const payloadSchema = z.looseObject({
  ipv4: addressOrNull('msg.payload.ipv4'),
  ipv6: addressOrNull('msg.payload.ipv6'),
  wanAddress: addressOrNull('msg.payload.wanAddress'),
  results: z
    .array(resultSchema, {
      error: phrase('node.msg_payload_results_must_list', 'msg.payload.results must be a list of dns-update results'),
    })
    .optional(),
  cgnat: ipWatchPayloadSchema.shape.cgnat,
});

/** The fields of an incoming msg this node reads, checked. Throws on bad input. */
function msgFields(msg: Msg): ReachMsgFields {
  const m = inputSchema.safeParse(msg);
  if (!m.success) throw badInput(describeReachIssues(m.error, spokenText));
  const p =
    m.data.payload !== null && typeof m.data.payload === 'object' && !Array.isArray(m.data.payload)
      ? payloadSchema.safeParse(m.data.payload)
      : null;
  if (p && !p.success) throw badInput(describeReachIssues(p.error, spokenText));
  return { wanAddress: m.data.wanAddress, hostname: m.data.hostname, payload: p?.data };
}

export = function register(RED: Red): void {
  /** A catalog text, or the English fallback when the catalog is not loaded (tests, embedding). */
  const t = catalog(RED, 'reachability-check');
  const INVALID_CONFIG = 'reachability-check is not configured correctly';

  function ReachabilityCheckNode(this: RedNode, raw: Record<string, unknown>): void {
    RED.nodes.createNode(this, raw);
    const node = this;
    /** A configuration that cannot work: say why, then stay idle (every input msg gets the same error). */
    const idle = (reason: string) =>
      stayIdle(node, `${INVALID_CONFIG}: ${reason}`, t('status.invalid-config', 'invalid configuration'));
    // Host names: the list itself, an environment variable (both read now), or a msg, flow or
    // global property (read at each run).
    const namesType = typeField('host names', VALUE_TYPES, 'str').safeParse(raw.namesType);
    if (!namesType.success) return idle(describeReachIssues(namesType.error, spokenText));
    const namesFrom = { value: typeof raw.names === 'string' ? raw.names.trim() : '', type: namesType.data };
    const parsed = configSchema.safeParse(
      namesFrom.type === 'str'
        ? raw
        : {
            ...raw,
            names: namesFrom.type === 'env' ? valueAtDeploy(RED, node, namesFrom.value, 'env') : '',
          },
    );
    if (!parsed.success) return idle(describeReachIssues(parsed.error, spokenText));
    const cfg = parsed.data;
    const dynamicNames = !fixedAtDeploy(namesFrom.type);
    const externalUrl = (node.credentials?.externalUrl ?? '').trim();
    const redactor = new Redactor();
    try {
      if (externalUrl) parseCheckUrl(externalUrl, redactor);
    } catch (e) {
      return idle(
        spoken(say('reach.external_url_invalid', 'external check URL: __reason__', { reason: spokenError(e) })),
      );
    }
    const wantNames = cfg.dnsAuthoritative || cfg.dnsPublic || cfg.dnsSystem || cfg.tcpPorts.length > 0;
    if (!wantNames && !cfg.httpUrls.length && !cfg.natDiagnosis && !externalUrl) {
      return idle(
        spoken(
          say(
            'reach.nothing_to_check',
            'nothing to check: enable at least one check (DNS, TCP ports, an HTTP URL, an external check URL or the NAT diagnosis)',
          ),
        ),
      );
    }
    if (cfg.interval > 0 && wantNames && !cfg.names.length && (!dynamicNames || namesFrom.type === 'msg')) {
      return idle(
        spoken(
          say(
            'reach.interval_needs_names',
            'runs on an interval have no message to take names from: enter the host names to check',
          ),
        ),
      );
    }
    const settings = { ...cfg, externalUrl, redactor, timeoutMs: Math.round(cfg.timeout * 1000) };

    /** One run: the input read, the propagation wait (after an update), the checks. */
    async function check(msg: Msg | null, signal: AbortSignal): Promise<ReachRun> {
      const names = dynamicNames && (msg || namesFrom.type !== 'msg') ? await namesNow(msg ?? {}) : cfg.names;
      const input = readInput(names === cfg.names ? cfg : { ...cfg, names }, msg && msgFields(msg));
      node.status({ fill: 'yellow', shape: 'ring', text: t('status.checking', 'checking…') });
      return runReach(settings, input, signal, () =>
        node.status({
          fill: 'yellow',
          shape: 'ring',
          text: t('status.propagating', 'waiting for the update to reach the name servers…'),
        }),
      );
    }

    /** The names of a msg, flow or global property now (text or a list of texts). */
    async function namesNow(msg: Msg): Promise<string[]> {
      const v = await valueFor(RED, node, namesFrom.value, namesFrom.type, msg);
      if (v === undefined || v === null || v === '') return [];
      const list = typeof v === 'string' ? v.split(/[\s,;]+/) : Array.isArray(v) ? v : null;
      if (!list || !list.every((x) => typeof x === 'string'))
        throw badInput(
          say('reach.names_not_text', '__property__ must hold host names as text or a list of texts', {
            property: describeProperty(namesFrom.value, namesFrom.type),
          }),
        );
      return list.map((x) => x.trim()).filter(Boolean);
    }

    // Runs one after another, the interval, and the down/recovered debounce (core/reach/monitor.ts).
    const monitor = new ReachMonitor<Msg, ReachRun>({
      check,
      alertAfter: cfg.alertAfter,
      intervalMs: cfg.interval * 1000,
      onTimerOutcome: (o) => {
        const { out, alert, downError } = present(o, null);
        node.send([out, alert]);
        if (downError) node.error(downError, out);
      },
      onTimerError: (e) => {
        if (!cancelled(e)) fail(node, e, { status: errorStatus(asError(e)) });
      },
    });

    /** A run's outcome as output 1, the alert msg (transitions only) and the error of a transition to down; the status. */
    function present(o: MonitorOutcome<ReachRun>, msg: Msg | null) {
      const r = reachMessages(o, cfg.topic, msg, spoken);
      node.status(reachStatus(o.report.report, { down: o.down, failures: o.failures, alertAfter: cfg.alertAfter }, t));
      return r;
    }

    const cancelled = (e: unknown) => monitor.signal.aborted || (isDdnsError(e) && e.code === 'aborted');
    const errorStatus = (e: Error) =>
      clip(
        isDdnsError(e) && e.kind === 'input'
          ? `${t('status.invalid-input', 'invalid input')}: ${spokenError(e)}`
          : spokenError(e),
        60,
      );

    node.on('input', (msg, send, done) => {
      monitor.run(msg).then(
        (o) => {
          const { out, alert, downError } = present(o, msg);
          send([out, alert]);
          done(downError ?? undefined);
        },
        (e: unknown) => {
          if (cancelled(e)) return done();
          fail(node, e, { done, status: errorStatus(asError(e)) });
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
