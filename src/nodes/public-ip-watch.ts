/**
 * public-ip-watch: the Node-RED adapter around the IpWatcher (src/core/ip/watcher.ts).
 *
 * Config (zod) → sources, detector call (detectRound) and push (core/ip/push.ts) → watcher results
 * as msgs (output 1: address changes, output 2: alerts), status (core/ip/status-view.ts), warnings
 * (core/ip/report.ts) and node.error / done(err). The last known addresses live in the node's
 * context, in the store the user names.
 *
 * A router-push source is served on Node-RED's httpNode (./push-http.ts); the push token is a
 * credential of the node.
 */
import { z } from 'zod';
import { parseAddress, type Family } from '../core/address';
import { detectRound } from '../core/ip/detector';
import { startPush } from '../core/ip/push';
import { PushEndpoint, pushTokenSchema, type PushEvent, type PushRoutes } from '../core/ip/push-endpoint';
import { checkFailure, failurePayload, reviewCheck } from '../core/ip/report';
import { sourceListIssues } from '../core/ip/source-list';
import {
  buildSource,
  DEFAULT_PUSH_PATH,
  DEFAULT_ROUTER_SAFETY_POLL_S,
  DEFAULT_SOURCES,
  SOURCE_CATALOG,
  sourceConfigSchema,
} from '../core/ip/sources';
import { AddressStatusView } from '../core/ip/status-view';
import type { IpSource } from '../core/ip/types';
import { familiesOf, IpWatcher, type CheckResult, type KnownAddresses } from '../core/ip/watcher';
import { Redactor } from '../core/redact';
import {
  asError,
  catalog,
  contextStore,
  relocalized,
  spoken,
  spokenError,
  spokenText,
  stayIdle,
  warnOnce,
} from './adapter';
import { say } from '../core/errors';
import { pushRoutes, type HttpApp } from './push-http';
import { blank, boolField, contextStoreField, numberField } from './config-fields';
import type { Msg, Red, RedNode, Send } from './red-types';
import { phrase } from '../core/said';

/** Context key of the last known addresses. */
const STATE_KEY = 'lastAddresses';

/** The node's configuration as the editor saves it (numbers may arrive as strings). */
const watchConfigSchema = z
  .object({
    name: z.string().optional(),
    families: z
      .enum(['ipv4', 'ipv6', 'both'], {
        error: phrase('node.families_must_ipv4_ipv6', 'families must be ipv4, ipv6 or both'),
      })
      .default('ipv4'),
    /** Empty: the recommended list (DEFAULT_SOURCES). */
    sources: z.preprocess((v) => (blank(v) ? [] : v), z.array(sourceConfigSchema)),
    policy: z
      .enum(['first', 'quorum'], {
        error: phrase('node.policy_must_first_quorum', 'policy must be "first" or "quorum"'),
      })
      .default('first'),
    quorum: numberField(phrase('node.field_quorum', 'quorum'), 2, 10, 2, true),
    /** Seconds between checks; the 30 s floor protects the user from being banned by the services. */
    interval: numberField(phrase('node.field_interval_seconds', 'interval (seconds)'), 30, 86_400, 300),
    /** Seconds per source attempt. */
    timeout: numberField(phrase('node.field_timeout_seconds', 'timeout (seconds)'), 1, 120, 8),
    /** Seconds before the next source is started while one is slow. */
    hedge: numberField(phrase('node.field_hedge_delay_seconds', 'hedge delay (seconds)'), 0, 60, 1.5),
    allowNonPublic: boolField(false),
    localAddress: z
      .preprocess((v) => (blank(v) ? '' : v), z.string().trim())
      .refine(
        (s) => s === '' || parseAddress(s) !== null,
        phrase('node.local_address_must_ipv4', 'local address must be an IPv4 or IPv6 address of this host'),
      ),
    emitOnStart: boolField(true),
    store: contextStoreField(),
    alertAfter: numberField(phrase('node.field_alert_after', 'alert after'), 1, 1000, 3, true),
    topic: z.preprocess((v) => (blank(v) ? 'public-ip' : v), z.string()),
  })
  .superRefine((c, ctx) => {
    const issues = sourceListIssues(
      c.sources.length ? c.sources : DEFAULT_SOURCES,
      familiesOf(c.families),
      c.policy,
      c.quorum,
    );
    for (const i of issues) ctx.addIssue({ code: 'custom', path: [i.path], message: i.message });
  });

/** An input msg: any msg triggers a check; `force` must be a boolean when present. */
const inputSchema = z.looseObject({
  force: z.boolean({ error: phrase('node.msg_force_must_true_false', 'msg.force must be true or false') }).optional(),
});

/** Zod issues in words: top-level messages name their field; a source is named by its position. */
function describeIssues(e: z.ZodError): string {
  return e.issues
    .map((i) => {
      const options = (i as { options?: unknown[] }).options;
      const message =
        i.code === 'invalid_union' && Array.isArray(options)
          ? spoken(
              say('node.unknown_source', 'is not a known source type (one of __types__)', {
                types: options.join(', '),
              }),
            )
          : spokenText(i.message);
      if (i.path[0] === 'sources' && typeof i.path[1] === 'number') {
        const field = i.path.slice(2).join('.');
        const v = { n: i.path[1] + 1, field, message };
        return spoken(
          field
            ? say('node.source_field_issue', 'source __n__ (__field__): __message__', v)
            : say('node.source_issue', 'source __n__: __message__', v),
        );
      }
      return message;
    })
    .join('; ');
}

export = function register(RED: Red): void {
  // The source catalog for the edit dialog (labels, families, default endpoints).
  if (RED.httpAdmin && RED.auth) {
    RED.httpAdmin.get(
      '/ddns/ip-sources',
      RED.auth.needsPermission('public-ip-watch.read'),
      (_req: unknown, res: { json(v: unknown): void }) => {
        res.json({
          catalog: SOURCE_CATALOG,
          defaults: DEFAULT_SOURCES,
          routerSafetyPoll: DEFAULT_ROUTER_SAFETY_POLL_S,
          pushPath: DEFAULT_PUSH_PATH,
        });
      },
    );
  }
  const t = catalog(RED, 'public-ip-watch');
  /** The last known addresses per node id, for as long as this Node-RED process runs (see contextStore). */
  const inProcess = new Map<string, unknown>();

  function PublicIpWatchNode(this: RedNode, raw: Record<string, unknown>): void {
    RED.nodes.createNode(this, raw);
    const node = this;
    /** A configuration that cannot work: say why, then stay idle. */
    const idle = (reason: string) =>
      stayIdle(node, `${t('errors.invalid-config')}: ${reason}`, t('status.invalid-config'));
    const parsed = watchConfigSchema.safeParse(raw);
    if (!parsed.success) return idle(describeIssues(parsed.error));
    const cfg = parsed.data;
    const topic = cfg.topic;
    const configs = cfg.sources.length ? cfg.sources : DEFAULT_SOURCES;
    let sources: IpSource[];
    try {
      sources = configs.map((s) => buildSource(s));
    } catch (e) {
      return idle(spokenError(e));
    }
    const tracked = familiesOf(cfg.families);
    const local = cfg.localAddress ? parseAddress(cfg.localAddress) : null;
    // The router push: its path, its token (a credential) and Node-RED's HTTP app that serves it.
    const pushCfg = configs.find((c) => c.type === 'router-push');
    let push: { path: string; token: string; routes: PushRoutes | null } | null = null;
    if (pushCfg) {
      if (!node.credentials?.pushToken) return idle(t('errors.push-token-missing'));
      const token = pushTokenSchema.safeParse(node.credentials.pushToken);
      if (!token.success) return idle(spokenText(token.error.issues[0].message));
      const app = RED.settings.httpNodeRoot === false ? undefined : (RED as { httpNode?: HttpApp }).httpNode;
      const routes = app && typeof app.use === 'function' ? pushRoutes(app) : null;
      const holder = routes?.takenBy(pushCfg.path, node.id);
      if (holder) return idle(t('errors.push-path-taken', undefined, { path: pushCfg.path, node: holder }));
      push = { path: pushCfg.path, token: token.data, routes };
    }
    // Sources take no credentials; the push token is masked all the same, and URL-borne tokens too.
    const redactor = new Redactor([push?.token]);
    const view = new AddressStatusView(tracked);
    const warnings = warnOnce(node);
    /** Set by the close handler: nothing is reported or started any more. */
    let closing = false;

    const watcher = new IpWatcher({
      families: cfg.families,
      intervalMs: cfg.interval * 1000,
      emitOnStart: cfg.emitOnStart,
      alertAfter: cfg.alertAfter,
      detect: (family, signal, scope, claim) =>
        detectRound(family, {
          scope,
          claim,
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
      store: contextStore<KnownAddresses>(node, STATE_KEY, cfg.store, inProcess),
      events: {
        // Hint checks (router announcements, safety polls, interface events) run quietly.
        checking: (origin) =>
          origin !== 'hint' && node.status({ fill: 'blue', shape: 'ring', text: t('status.checking') }),
        checked: (raw) => {
          if (closing) return;
          const r = resultSpoken(raw);
          if (view.update(r)) node.status(view.render(r.checkedAt, (w) => t(`status.${w}`)));
          reviewCheck(r, warnings, (address) => t('warn.router-silent', undefined, { address }));
          if (r.origin === 'input') return; // the input handler sends and reports these
          // node.send takes an array per output as well (several alerts at once)
          emitOutputs(r, (m) => node.send(m as Parameters<RedNode['send']>[0]));
          const err = checkFailure(r);
          if (err) node.error(err, { topic, payload: failurePayload(r) });
        },
        warning: (_m, said) => node.warn(spoken(said)),
      },
    });

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

    node.on('input', (msg, send, done) => {
      const m = inputSchema.safeParse(msg);
      if (!m.success) return done(new Error(describeIssues(m.error)));
      watcher.checkNow({ force: m.data.force === true }).then(
        (raw) => {
          if (raw.aborted) return done();
          const r = resultSpoken(raw);
          emitOutputs(r, send, msg);
          done(checkFailure(r) ?? undefined);
        },
        (e: unknown) => done(asError(e)),
      );
    });

    // The start check first: hints that arrive early queue behind it.
    watcher.start();
    if (push) {
      const endpoint = new PushEndpoint({
        token: push.token,
        families: tracked,
        allowNonPublic: cfg.allowNonPublic,
        known: () => watcher.known,
        confirm: (claims) => watcher.push(claims),
        onEvent: (e) => (closing ? undefined : pushEvent(e)),
      });
      if (push.routes) {
        push.routes.add(push.path, node.id, endpoint);
        node.log(t('log.push-ready', undefined, { url: pushUrl(push.path) }));
      } else warnings.warn('push-off', t('warn.push-unreachable'));
    }
    /** The router push in the log (the token is never part of an event). */
    function pushEvent(e: PushEvent): void {
      if (e.kind === 'badauth') node.warn(t('warn.push-badauth', undefined, { client: e.client, n: e.failures }));
      else if (e.kind === 'locked')
        node.warn(t('warn.push-locked', undefined, { client: e.client, s: Math.round(e.forMs / 1000) }));
      else if (e.kind === 'refused')
        node.warn(t('warn.push-refused', undefined, { client: e.client, reason: e.reason }));
      else if (e.kind === 'unconfirmed') warnings.warn('push-unconfirmed', `${t('warn.push-unconfirmed')} ${e.reason}`);
      else {
        warnings.clear('push-unconfirmed');
        node.debug(`router push from ${e.client}: ${e.claims} confirmed${e.changed.length ? '' : ', unchanged'}`);
      }
    }
    const pushes = startPush({
      sources: configs,
      families: tracked,
      hint: (families) => (closing ? undefined : watcher.hint(families)),
      onProblem: (p) =>
        warnings.warn(p.key, `${t(p.watch === 'router' ? 'warn.router-watch' : 'warn.interface-watch')} ${p.message}`),
      onNote: (m) => node.log(m),
    });

    node.on('close', (removed, done) => {
      closing = true;
      if (removed) inProcess.delete(node.id);
      // The path answers 404 again at once; a request already being answered gets 911.
      if (push?.routes) push.routes.remove(push.path, node.id);
      // Every timer, socket and child of the watcher and of the push watchers ends here.
      void Promise.allSettled([watcher.stop(), pushes.close()]).then(() => {
        node.status({});
        done();
      });
    });
  }

  /** The path as a router reaches it: under Node-RED's httpNodeRoot. */
  const pushUrl = (path: string) => {
    const root = typeof RED.settings.httpNodeRoot === 'string' ? RED.settings.httpNodeRoot : '/';
    return `${root.replace(/\/+$/, '')}${path}`;
  };

  /** A check's failure reasons (errors, alerts, unanswered hints) in the runtime's language. */
  function resultSpoken(r: CheckResult): CheckResult {
    const said = r.said;
    if (!said) return r;
    const say = (f: Family, text: string) => (said[f] ? relocalized(said[f], text) : text);
    const each = (m: Partial<Record<Family, string>>) =>
      Object.fromEntries(Object.entries(m).map(([f, text]) => [f, say(f as Family, text)]));
    return {
      ...r,
      errors: each(r.errors),
      unanswered: each(r.unanswered),
      alerts: r.alerts.map((a) => (a.error === null ? a : { ...a, error: say(a.family, a.error) })),
    };
  }

  RED.nodes.registerType('public-ip-watch', PublicIpWatchNode, { credentials: { pushToken: { type: 'password' } } });
};
