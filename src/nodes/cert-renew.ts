/**
 * cert-renew: certificates from Let's Encrypt (any ACME CA) through DNS-01, using a provider
 * account of this package for the TXT records. The Node-RED adapter around
 * the renewal loop (src/core/acme/renewal.ts: when to check, retries, the stop on fatal answers,
 * the failing/recovered latch): configuration (zod; the job: core/acme/job.ts), messages
 * (core/acme/messages.ts), status, alerts.
 */
import { z } from 'zod';
import { certificateJob, serverListText, txtWaiter } from '../core/acme/job';
import { certificateMessages, renewalFailureMessages } from '../core/acme/messages';
import { validateNames } from '../core/acme/names';
import { RenewalLoop, type RenewalOutcome } from '../core/acme/renewal';
import type { DnsServer } from '../core/dns/transport';
import { Redactor } from '../core/redact';
import type { DnsProvider } from '../core/providers/types';
import type { DdnsAccount } from '../core/update/account';
import { catalog, fail, stayIdle } from './adapter';
import { blank, boolField, numberField, optionalNumberField, textField } from './config-fields';
import type { Done, Msg, Red, RedNode } from './red-types';

const text = textField;

const certConfigSchema = z
  .object({
    account: z.string({ error: 'choose a provider account' }).min(1, 'choose a provider account'),
    names: z.preprocess(
      (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v),
      z.array(z.string()).min(1, 'enter at least one name'),
    ),
    ca: z.enum(['letsencrypt', 'letsencrypt-staging', 'custom']).default('letsencrypt-staging'),
    directoryUrl: text(),
    email: text().refine((s) => s === '' || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s), 'the e-mail address is not valid'),
    eabKid: text(),
    caCert: text().refine(
      (s) => s === '' || s.includes('-----BEGIN CERTIFICATE-----'),
      'the CA certificate must be PEM (-----BEGIN CERTIFICATE-----)',
    ),
    keyType: z.enum(['ecdsa-p256', 'rsa-2048', 'rsa-4096']).default('ecdsa-p256'),
    pinKey: boolField(false),
    renewDays: optionalNumberField('renew days', 1, 365),
    profile: text(),
    outDir: text(),
    propagationTimeout: numberField('propagation timeout', 10, 3600, 300),
    authServers: text(),
    discovery: text(),
    checkHours: numberField('check interval', 1, 24 * 7, 24),
    checkOnStart: boolField(true),
    output: z.enum(['issued', 'always']).default('issued'),
    topic: z.preprocess((v) => (blank(v) ? 'certificate' : v), z.string()),
  })
  .superRefine((c, ctx) => {
    if (c.ca === 'custom') {
      try {
        const u = new URL(c.directoryUrl);
        if (u.protocol !== 'https:')
          ctx.addIssue({ code: 'custom', path: ['directoryUrl'], message: 'the ACME directory URL must use https://' });
      } catch {
        ctx.addIssue({ code: 'custom', path: ['directoryUrl'], message: 'enter the ACME directory URL of your CA' });
      }
    }
    try {
      validateNames(c.names);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['names'], message: (e as Error).message });
    }
  });

const inputSchema = z.looseObject({ force: z.boolean({ error: 'msg.force must be true or false' }).optional() });

function describe(e: z.ZodError): string {
  return e.issues.map((i) => i.message).join('; ');
}

export = function register(RED: Red): void {
  const t = catalog(RED, 'cert-renew');

  function CertRenewNode(this: RedNode, raw: Record<string, unknown>): void {
    RED.nodes.createNode(this, raw);
    const node = this;
    const redactor = new Redactor([node.credentials?.eabHmacKey]);
    const idle = (reason: string) =>
      stayIdle(node, `${t('errors.invalid-config')}: ${reason}`, t('status.invalid-config'));
    const parsed = certConfigSchema.safeParse(raw);
    if (!parsed.success) return idle(describe(parsed.error));
    const cfg = parsed.data;
    const found = RED.nodes.getNode(cfg.account) as DdnsAccount | null;
    if (!found || typeof found.getProvider !== 'function') return idle(t('errors.no-account'));
    const account: DdnsAccount = found;
    if (account.configError) return idle(account.configError);
    const clean = (s: string) => account.redactor.text(redactor.text(s));
    let provider: DnsProvider;
    try {
      provider = account.getProvider();
    } catch (e) {
      return idle(clean((e as Error).message));
    }
    if (!provider.setTxt || !provider.deleteTxt) return idle(t('errors.no-txt'));

    const names = validateNames(cfg.names);
    let authServers: DnsServer[] | undefined;
    let discovery: DnsServer[] | undefined;
    try {
      authServers = serverListText(cfg.authServers);
      discovery = serverListText(cfg.discovery);
    } catch (e) {
      return idle((e as Error).message);
    }
    const job = certificateJob(cfg, names, node.credentials?.eabHmacKey, RED.settings.userDir ?? process.cwd());
    const waitVisible = txtWaiter({
      servers: authServers,
      discovery,
      timeoutMs: cfg.propagationTimeout * 1000,
      onRound: (per) =>
        node.status({
          fill: 'yellow',
          shape: 'ring',
          text: t('status.propagating', undefined, {
            ok: per.filter((p) => p.matchedAfterMs !== null).length,
            all: per.length,
          }),
        }),
    });

    const loop = new RenewalLoop({
      job,
      provider,
      waitVisible,
      checkEveryMs: cfg.checkHours * 3_600_000,
      checkOnStart: cfg.checkOnStart,
      log: (s) => node.log(clean(s)),
      clean,
      onChecking: () => node.status({ fill: 'blue', shape: 'ring', text: t('status.checking') }),
      onTimerOutcome: (o) => report(o, {}, null),
    });

    /** One outcome as status, messages and error (done: a run asked for by a msg). */
    function report(o: RenewalOutcome, msg: Msg, done: Done | null): void {
      if (o.kind === 'joined' || o.kind === 'closed') return done?.();
      const about = { msg, topic: cfg.topic, names };
      if (o.kind === 'ok') {
        const r = o.result;
        node.status({
          fill: r.daysLeft > 7 ? 'green' : 'yellow',
          shape: 'dot',
          text: t('status.days-left', undefined, { days: r.daysLeft, date: r.notAfter.slice(0, 10) }),
        });
        const { out, alert } = certificateMessages(r, o.recovered, about);
        if (r.renewed || cfg.output === 'always' || done) node.send([out, alert]);
        else if (alert) node.send([null, alert]);
        return done?.();
      }
      const err = o.error;
      const { errMsg, alert } = renewalFailureMessages(o, about);
      if (alert) node.send([null, alert]);
      const status =
        o.retryInMs !== undefined
          ? t('status.retry', undefined, { error: err.message.slice(0, 40), minutes: Math.ceil(o.retryInMs / 60_000) })
          : t('status.stopped', undefined, { error: err.message.slice(0, 48) });
      fail(node, err, { done, msg: errMsg, status });
    }

    node.on('input', (msg, _send, done) => {
      const m = inputSchema.safeParse(msg);
      if (!m.success) return done(new Error(describe(m.error)));
      if (loop.stoppedBy) node.log(t('log.retry-after-fatal'));
      loop.check({ force: m.data.force === true }).then(
        (o) => report(o, msg, done),
        (e) => done(e as Error),
      );
    });
    node.on('close', (_removed, done) => {
      const finish = () => done();
      loop.stop().then(finish, finish);
    });
    node.status({ fill: 'grey', shape: 'ring', text: t('status.waiting') });
    // A secret over plain http:// (the account logs it once): a yellow status until the first check.
    if (account.plainHttp) node.status({ fill: 'yellow', shape: 'ring', text: account.plainHttp.status });
    loop.start();
  }

  RED.nodes.registerType('cert-renew', CertRenewNode, { credentials: { eabHmacKey: { type: 'password' } } });
};
