/**
 * public-ip-watch: the Node-RED adapter around the IpWatcher (src/core/ip/watcher.ts).
 *
 * It validates the configuration, builds the sources and the detector call, keeps the last known
 * addresses in the node's context (in the store the user names), turns watcher results into
 * messages (output 1: address changes, output 2: alerts), status and node.error / done(err).
 */
import { z } from 'zod';
import { familyLabel, parseAddress, type Family } from '../core/ip/classify';
import { detect } from '../core/ip/detector';
import { buildSource, DEFAULT_SOURCES, SOURCE_CATALOG, sourceConfigSchema } from '../core/ip/sources';
import type { IpSource } from '../core/ip/types';
import { Redactor } from '../core/redact';
import { familiesOf, IpWatcher, type CheckResult, type KnownAddresses } from '../core/ip/watcher';
import { blank, boolField, contextStoreField, numberField } from './config-fields';
import type { Msg, Red, RedNode, Send } from './red-types';

/** Context key of the last known addresses. */
const STATE_KEY = 'lastAddresses';

/** The node's configuration as the editor saves it (numbers may arrive as strings). */
const watchConfigSchema = z
  .object({
    name: z.string().optional(),
    families: z.enum(['ipv4', 'ipv6', 'both'], { error: 'families must be ipv4, ipv6 or both' }).default('ipv4'),
    /** Empty: the recommended list (DEFAULT_SOURCES). */
    sources: z.preprocess((v) => (blank(v) ? [] : v), z.array(sourceConfigSchema)),
    policy: z.enum(['first', 'quorum'], { error: 'policy must be "first" or "quorum"' }).default('first'),
    quorum: numberField('quorum', 2, 10, 2, true),
    /** Seconds between checks; the 30 s floor protects the user from being banned by the services. */
    interval: numberField('interval (seconds)', 30, 86_400, 300),
    /** Seconds per source attempt. */
    timeout: numberField('timeout (seconds)', 1, 120, 8),
    /** Seconds before the next source is started while one is slow. */
    hedge: numberField('hedge delay (seconds)', 0, 60, 1.5),
    allowNonPublic: boolField(false),
    localAddress: z
      .preprocess((v) => (blank(v) ? '' : v), z.string().trim())
      .refine((s) => s === '' || parseAddress(s) !== null, 'local address must be an IPv4 or IPv6 address of this host'),
    emitOnStart: boolField(true),
    store: contextStoreField(),
    alertAfter: numberField('alert after', 1, 1000, 3, true),
    topic: z.preprocess((v) => (blank(v) ? 'public-ip' : v), z.string()),
  })
  .superRefine((c, ctx) => {
    const configs = c.sources.length ? c.sources : DEFAULT_SOURCES;
    for (const f of familiesOf(c.families)) {
      let able = 0;
      for (const s of configs) {
        try {
          if (buildSource(s).families.includes(f)) able++;
        } catch {
          /* reported when the sources are built */
        }
      }
      if (able === 0) ctx.addIssue({ code: 'custom', path: ['sources'], message: `no source in the list can find an ${familyLabel(f)} address` });
      else if (c.policy === 'quorum' && c.quorum > able) {
        ctx.addIssue({ code: 'custom', path: ['quorum'], message: `quorum ${c.quorum} is more than the ${able} sources that can find an ${familyLabel(f)} address` });
      }
    }
  });



/** An input msg: any msg triggers a check; `force` must be a boolean when present. */
const inputSchema = z.looseObject({ force: z.boolean({ error: 'msg.force must be true or false' }).optional() });

/** Zod issues in words: top-level messages name their field; a source is named by its position. */
function describeIssues(e: z.ZodError): string {
  return e.issues
    .map((i) => {
      const options = (i as { options?: unknown[] }).options;
      const message = i.code === 'invalid_union' && Array.isArray(options)
        ? `is not a known source type (one of ${options.join(', ')})`
        : i.message;
      if (i.path[0] === 'sources' && typeof i.path[1] === 'number') {
        const field = i.path.slice(2).join('.');
        return `source ${i.path[1] + 1}${field ? ` (${field})` : ''}: ${message}`;
      }
      return message;
    })
    .join('; ');
}

const hhmm = (iso: string) => new Date(iso).toTimeString().slice(0, 5);
const short = (s: string, n = 48) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const tag = (f: Family) => (f === 'ipv4' ? 'v4' : 'v6');

export = function register(RED: Red): void {
  // The source catalog for the edit dialog (labels, families, default endpoints).
  if (RED.httpAdmin && RED.auth) {
    RED.httpAdmin.get('/ddns/ip-sources', RED.auth.needsPermission('public-ip-watch.read'), (_req: unknown, res: { json(v: unknown): void }) => {
      res.json({ catalog: SOURCE_CATALOG, defaults: DEFAULT_SOURCES });
    });
  }

  /**
   * The last known addresses per node id, for as long as this Node-RED process runs. Node-RED drops
   * a node's context at every deploy unless a context store is configured in settings.js; this
   * keeps a redeploy from looking like a change. Across restarts only a persistent store helps.
   */
  const inProcess = new Map<string, KnownAddresses>();

  function PublicIpWatchNode(this: RedNode, raw: Record<string, unknown>): void {
    RED.nodes.createNode(this, raw);
    const node = this;
    /** A configuration that cannot work: say why, then stay idle (every input msg gets the same error). */
    const idle = (reason: string) => {
      const text = `${RED._('public-ip-watch.errors.invalid-config')}: ${reason}`;
      node.status({ fill: 'red', shape: 'ring', text: RED._('public-ip-watch.status.invalid-config') });
      node.error(text);
      node.on('input', (_msg, _send, done) => done(new Error(text)));
    };
    const parsed = watchConfigSchema.safeParse(raw);
    if (!parsed.success) {
      const reason = describeIssues(parsed.error);
      return idle(reason);
    }
    const cfg = parsed.data;
    const topic = cfg.topic;
    let sources: IpSource[];
    try {
      sources = (cfg.sources.length ? cfg.sources : DEFAULT_SOURCES).map((s) => buildSource(s));
    } catch (e) {
      return idle(e instanceof Error ? e.message : String(e));
    }
    const local = cfg.localAddress ? parseAddress(cfg.localAddress) : null;
    const store = cfg.store || undefined;
    const ctx = node.context();
    // No secret values here (sources take no credentials), but URL-borne tokens are still masked.
    const redactor = new Redactor();

    const watcher = new IpWatcher({
      families: cfg.families,
      intervalMs: cfg.interval * 1000,
      emitOnStart: cfg.emitOnStart,
      alertAfter: cfg.alertAfter,
      detect: (family, signal) =>
        detect(family, {
          sources,
          policy: cfg.policy,
          quorum: cfg.quorum,
          hedgeMs: cfg.hedge * 1000,
          timeoutMs: cfg.timeout * 1000,
          allowNonPublic: cfg.allowNonPublic,
          // The local address applies to lookups of its own family (an IPv4 address cannot send IPv6).
          localAddress: local && local.family === family ? local.address : undefined,
          redactor,
          signal,
        }),
      store: {
        load: () =>
          new Promise((resolve, reject) =>
            ctx.get(STATE_KEY, store, (err, v) => (err ? reject(err) : resolve(v ?? inProcess.get(node.id)))),
          ),
        save: (v: KnownAddresses) => {
          inProcess.set(node.id, v);
          return new Promise((resolve, reject) => ctx.set(STATE_KEY, v, store, (err) => (err ? reject(err) : resolve())));
        },
      },
      events: {
        checking: () => node.status({ fill: 'blue', shape: 'ring', text: RED._('public-ip-watch.status.checking') }),
        checked: (r) => {
          showStatus(r);
          if (r.origin === 'input') return; // the input handler sends and reports these
          // node.send takes an array per output as well (several alerts at once)
          emitOutputs(r, (m) => node.send(m as Parameters<RedNode['send']>[0]));
          const err = failure(r);
          if (err) node.error(err, contextMsg(r));
        },
        warning: (m) => node.warn(m),
      },
    });

    function showStatus(r: CheckResult): void {
      const time = hhmm(r.checkedAt);
      const failed = r.families.filter((f) => r.errors[f] !== undefined);
      if (failed.length === r.families.length) {
        const reason = r.errors[failed[0]] ?? RED._('public-ip-watch.status.no-address');
        node.status({ fill: 'red', shape: 'ring', text: `${short(reason)} · ${time}` });
        return;
      }
      const parts = r.families.map((f) => `${tag(f)} ${r.errors[f] !== undefined ? RED._('public-ip-watch.status.failed') : r.detections[f]?.address}`);
      node.status(failed.length
        ? { fill: 'yellow', shape: 'ring', text: `${parts.join(' · ')} · ${time}` }
        : { fill: 'green', shape: 'dot', text: `${parts.join(' · ')} · ${time}` });
    }

    /** Output 1 (change, built on `base` when a msg triggered the check) and output 2 (alerts). */
    function emitOutputs(r: CheckResult, send: Send, base?: Msg): void {
      let change: Msg | null = null;
      if (r.change) {
        change = base ?? {};
        change.payload = r.change;
        change.topic = topic;
      }
      const alerts = r.alerts.map((a) => ({ topic, payload: a }));
      if (change || alerts.length) send([change, alerts.length ? alerts : null]);
    }

    /** One error naming every family that failed, or null. */
    function failure(r: CheckResult): Error | null {
      const parts = r.families.filter((f) => r.errors[f] !== undefined).map((f) => `${familyLabel(f)}: ${r.errors[f]}`);
      return parts.length ? new Error(parts.join('; ')) : null;
    }

    function contextMsg(r: CheckResult): Msg {
      return { topic, payload: { errors: r.errors, failures: r.failures, known: r.known, checkedAt: r.checkedAt } };
    }

    node.on('input', (msg, send, done) => {
      const m = inputSchema.safeParse(msg);
      if (!m.success) {
        done(new Error(describeIssues(m.error)));
        return;
      }
      watcher.checkNow({ force: m.data.force === true }).then(
        (r) => {
          if (r.aborted) return done();
          emitOutputs(r, send, msg);
          const err = failure(r);
          done(err ?? undefined);
        },
        (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
      );
    });

    node.on('close', (removed, done) => {
      if (removed) inProcess.delete(node.id);
      watcher.stop().then(
        () => {
          node.status({});
          done();
        },
        () => done(),
      );
    });

    watcher.start();
  }

  RED.nodes.registerType('public-ip-watch', PublicIpWatchNode);
};
