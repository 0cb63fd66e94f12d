/**
 * public-ip-watch: the Node-RED adapter around the IpWatcher (src/core/ip/watcher.ts).
 *
 * It validates the configuration, builds the sources and the detector call (detectRound: local
 * sources answer, outside services confirm), keeps the last known addresses in the node's context
 * (in the store the user names), turns watcher results into messages (output 1: address changes,
 * output 2: alerts), status, warnings and node.error / done(err).
 *
 * Push: with a router source in the list (and IPv4 watched) it also runs watchRouter (router
 * announcements and a safety poll); with a network interface source, watchInterfaces. Each of
 * their hints is a watcher hint check of the local sources only; the close handler closes them.
 */
import { z } from 'zod';
import { familyLabel, parseAddress, type Family } from '../core/address';
import { detectRound, type RoundDetection } from '../core/ip/detector';
import { watchInterfaces, watchRouter, type InterfaceSnapshot } from '../core/ip/router';
import { buildSource, DEFAULT_ROUTER_SAFETY_POLL_S, DEFAULT_SOURCES, SOURCE_CATALOG, sourceConfigSchema, type SourceConfig } from '../core/ip/sources';
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
      let local = 0;
      let outside = 0;
      for (const s of configs) {
        try {
          const src = buildSource(s);
          if (src.families.includes(f)) src.kind === 'local' ? local++ : outside++;
        } catch {
          /* reported when the sources are built */
        }
      }
      const able = local + outside;
      if (able === 0) ctx.addIssue({ code: 'custom', path: ['sources'], message: `no source in the list can find an ${familyLabel(f)} address` });
      else if (c.policy === 'quorum' && local > 0 && outside > 0 && c.quorum > outside) {
        // Local answers (router, interface) are confirmed by the outside services; they do not vote.
        ctx.addIssue({
          code: 'custom',
          path: ['quorum'],
          message: `quorum ${c.quorum} is more than the ${outside} outside services that can confirm the ${familyLabel(f)} address (the router and network interface answers are confirmed by them, they do not vote)`,
        });
      } else if (c.policy === 'quorum' && c.quorum > able) {
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

/** What the status shows about one family: the last full check, updated by hint checks that found an address. */
interface FamilyView {
  address: string | null;
  error?: string;
  /** The outside services saw another address (last full check). */
  outside?: string;
  /** The router did not answer while the outside services did. */
  routerSilent?: boolean;
  /** The router said it has no public address. */
  cgnat?: boolean;
}

const isRouterReport = (source: string) => source === 'router' || source.startsWith('router#');

/** The usable addresses of one family on the watched interface(s), to tell which family an interface event concerns. */
const interfaceKey = (s: InterfaceSnapshot, f: Family) =>
  s.addresses.filter((a) => a.family === f).map((a) => `${a.interface} ${a.address}`).join(',');

export = function register(RED: Red): void {
  // The source catalog for the edit dialog (labels, families, default endpoints).
  if (RED.httpAdmin && RED.auth) {
    RED.httpAdmin.get('/ddns/ip-sources', RED.auth.needsPermission('public-ip-watch.read'), (_req: unknown, res: { json(v: unknown): void }) => {
      res.json({ catalog: SOURCE_CATALOG, defaults: DEFAULT_SOURCES, routerSafetyPoll: DEFAULT_ROUTER_SAFETY_POLL_S });
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
    const configs: SourceConfig[] = cfg.sources.length ? cfg.sources : DEFAULT_SOURCES;
    const tracked = familiesOf(cfg.families);
    const local = cfg.localAddress ? parseAddress(cfg.localAddress) : null;
    const store = cfg.store || undefined;
    const ctx = node.context();
    // No secret values here (sources take no credentials), but URL-borne tokens are still masked.
    const redactor = new Redactor();
    /** Set by the close handler: nothing is reported or started any more. */
    let closing = false;

    const watcher = new IpWatcher({
      families: cfg.families,
      intervalMs: cfg.interval * 1000,
      emitOnStart: cfg.emitOnStart,
      alertAfter: cfg.alertAfter,
      detect: (family, signal, scope) =>
        detectRound(family, {
          scope,
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
        // Hint checks (router announcements, safety polls, interface events) run quietly.
        checking: (origin) => origin !== 'hint' && node.status({ fill: 'blue', shape: 'ring', text: RED._('public-ip-watch.status.checking') }),
        checked: (r) => {
          if (closing) return;
          if (updateView(r)) showStatus(r.checkedAt);
          review(r);
          if (r.origin === 'input') return; // the input handler sends and reports these
          // node.send takes an array per output as well (several alerts at once)
          emitOutputs(r, (m) => node.send(m as Parameters<RedNode['send']>[0]));
          const err = failure(r);
          if (err) node.error(err, contextMsg(r));
        },
        warning: (m) => node.warn(m),
      },
    });

    /** Per family, what the status shows. */
    const view = new Map<Family, FamilyView>();

    /** Take in a finished check; false when there is nothing new to show (a hint check that found nothing). */
    function updateView(r: CheckResult): boolean {
      let news = false;
      for (const f of r.families) {
        const d = r.detections[f];
        if (!d) continue;
        if (r.origin === 'hint') {
          if (!d.address) continue;
          const before = view.get(f);
          // A new local answer has not been confirmed yet: an earlier disagreement no longer applies.
          const keep = before && before.address === d.address && !before.error ? { outside: before.outside, cgnat: before.cgnat } : {};
          view.set(f, { address: d.address, ...keep });
          news = true;
          continue;
        }
        news = true;
        if (r.errors[f] !== undefined) {
          view.set(f, { address: null, error: r.errors[f] });
          continue;
        }
        view.set(f, {
          address: d.address,
          ...(d.disagreement ? { outside: d.disagreement.outside.address } : {}),
          ...(d.router?.outcome === 'no_answer' ? { routerSilent: true } : {}),
          ...(d.router?.outcome === 'no_public' ? { cgnat: true } : {}),
        });
      }
      return news;
    }

    function showStatus(checkedAt: string): void {
      const time = hhmm(checkedAt);
      const shown = tracked.filter((f) => view.has(f));
      const failed = shown.filter((f) => view.get(f)!.error !== undefined);
      if (shown.length && failed.length === shown.length && shown.length === tracked.length) {
        const reason = view.get(failed[0])!.error ?? RED._('public-ip-watch.status.no-address');
        node.status({ fill: 'red', shape: 'ring', text: `${short(reason)} · ${time}` });
        return;
      }
      let warn = failed.length > 0;
      const parts: string[] = [];
      for (const f of tracked) {
        const v = view.get(f);
        if (!v) {
          parts.push(`${tag(f)} …`);
          continue;
        }
        if (v.error !== undefined) {
          parts.push(`${tag(f)} ${RED._('public-ip-watch.status.failed')}`);
          continue;
        }
        let p = `${tag(f)} ${v.address}`;
        if (v.outside) p += ` (${RED._('public-ip-watch.status.outside-sees')} ${v.outside})`;
        parts.push(p);
        if (v.routerSilent) parts.push(RED._('public-ip-watch.status.router-silent'));
        if (v.cgnat) parts.push('CGNAT');
        if (v.outside || v.routerSilent) warn = true;
      }
      node.status(warn
        ? { fill: 'yellow', shape: 'ring', text: `${parts.join(' · ')} · ${time}` }
        : { fill: 'green', shape: 'dot', text: `${parts.join(' · ')} · ${time}` });
    }

    /** Warnings, each said once while its cause lasts (a check every few minutes must not flood the log). */
    const warned = new Map<string, string>();
    function warnOnce(key: string, text: string): void {
      if (warned.get(key) === text) return;
      warned.set(key, text);
      node.warn(text);
    }

    /** Warn about what a full check found beside the address: a disagreement, a silent router, CGNAT evidence. */
    function review(r: CheckResult): void {
      if (r.origin === 'hint') return;
      for (const f of r.families) {
        const d: RoundDetection | undefined = r.detections[f];
        if (!d) continue;
        const fam = familyLabel(f);
        if (d.disagreement) warnOnce(`disagree:${f}`, `${fam}: ${d.disagreement.note}`);
        else warned.delete(`disagree:${f}`);
        if (d.router?.outcome === 'no_answer' && d.address) {
          const reason = d.reports.find((x) => isRouterReport(x.source) && !x.ok)?.error ?? d.router.note;
          const why = `${reason[0].toUpperCase()}${reason.slice(1)}`;
          warnOnce('router-silent', `${RED._('public-ip-watch.warn.router-silent', { address: d.address })} ${why}`);
        } else if (d.router) warned.delete('router-silent');
        if (d.router?.outcome === 'no_public' && d.cgnatSuspected) warnOnce(`cgnat:${f}`, d.cgnatSuspected.note);
        else if (d.router) warned.delete(`cgnat:${f}`);
      }
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
      const payload: Record<string, unknown> = { errors: r.errors, failures: r.failures, known: r.known, checkedAt: r.checkedAt };
      // The CGNAT evidence explains many failures (a router without a public address).
      const f = r.families.find((x) => r.detections[x]?.cgnatSuspected);
      if (f) payload.cgnat = { family: f, ...r.detections[f]!.cgnatSuspected };
      const wan = r.families.map((x) => r.detections[x]?.wanAddress).find(Boolean);
      if (wan) payload.wanAddress = wan;
      return { topic, payload };
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

    // The start check first: hints that arrive early queue behind it.
    watcher.start();

    // ---- push: router announcements and interface events, as hint checks of the local sources ----
    const pushes: Array<{ close(): Promise<void> }> = [];
    const hint = (families: Family[]): Promise<void> => (closing ? Promise.resolve() : watcher.hint(families).then(() => undefined));

    if (tracked.includes('ipv4')) {
      for (const c of configs) {
        if (c.type !== 'router') continue;
        pushes.push(
          watchRouter({
            gateway: c.gateway,
            safetyPollMs: Math.round((c.safetyPoll ?? DEFAULT_ROUTER_SAFETY_POLL_S) * 1000),
            port: c.announcePort,
            group: c.announceGroup,
            onHint: () => hint(['ipv4']),
            onError: (e) => !closing && warnOnce(`router-watch:${e.code ?? ''}`, `${RED._('public-ip-watch.warn.router-watch')} ${e.message}`),
          }),
        );
      }
    }
    for (const c of configs) {
      if (c.type !== 'interface') continue;
      let last: InterfaceSnapshot | null = null;
      pushes.push(
        watchInterfaces({
          interface: c.interface,
          allowTemporary: c.allowTemporary,
          onChange: (snap) => {
            const before = last;
            last = snap;
            if (!before) return; // the state at start: the start check covers it
            const moved = tracked.filter((f) => interfaceKey(before, f) !== interfaceKey(snap, f));
            if (moved.length) void hint(moved);
          },
          onError: (e) => {
            if (closing) return;
            // BusyBox (Home Assistant add-on): polling instead of events is expected, not a problem.
            if (e.code === 'monitor_unavailable') node.log(e.message);
            else warnOnce(`interface:${e.code ?? ''}`, `${RED._('public-ip-watch.warn.interface-watch')} ${e.message}`);
          },
        }),
      );
    }

    node.on('close', (removed, done) => {
      closing = true;
      if (removed) inProcess.delete(node.id);
      // Every timer, socket and child of the watcher and of the push watchers ends here.
      void Promise.allSettled([watcher.stop(), ...pushes.map((p) => p.close())]).then(() => {
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType('public-ip-watch', PublicIpWatchNode);
};
