/**
 * cert-renew: certificates from Let's Encrypt (any ACME CA) through DNS-01, using a provider
 * account of this package for the TXT records, or through HTTP-01 / DNS-PERSIST-01 without one
 * (./cert-challenge.ts). The Node-RED adapter around
 * the renewal loop (src/core/acme/renewal.ts: when to check, retries, the stop on fatal answers,
 * the expiry watch after a stop, the failing/recovered latch): configuration (zod; the job:
 * core/acme/job.ts), messages (core/acme/messages.ts), status, alerts. Every input msg gets its
 * own answer (output 1, or done(err) with the failure's topic and payload).
 */
import { z } from 'zod';
import { delegatedDns } from '../core/acme/delegation';
import { certificateJob, serverListText, txtWait, txtWaiter } from '../core/acme/job';
import { certificateMessages, expiryMessage, renewalFailureMessages } from '../core/acme/messages';
import { CA_CHOICES, CA_PRESETS, validateNames } from '../core/acme/names';
import { checkWritableFolder } from '../core/acme/storage';
import { RenewalLoop, type ExpiryWarning, type RunOutcome } from '../core/acme/renewal';
import type { DnsServer } from '../core/dns/transport';
import { Redactor } from '../core/redact';
import type { DnsProvider } from '../core/providers/types';
import { clip, duration } from '../core/text';
import type { DdnsAccount } from '../core/update/account';
import { AccountStoppedError } from '../core/update/gate';
import { catalog, fail, relocalized, spokenError, spokenText, stayIdle } from './adapter';
import { typeField, valueAtDeploy } from './typed';
import { challengeSolver, CHALLENGES, NatFromMsgs, wildcardRefusal } from './cert-challenge';
import type { ChallengeSolver } from '../core/acme/solver';
import { blank, boolField, numberField, optionalNumberField, textField } from './config-fields';
import type { Done, Msg, Red, RedNode, Send } from './red-types';
import { phrase } from '../core/said';

const text = textField;

const certConfigSchema = z
  .object({
    account: text(),
    /** Challenge delegation: the account that writes the TXT records where _acme-challenge points by CNAME. */
    challengeAccount: text(),
    challenge: z.enum(CHALLENGES).default('dns-01'),
    http01Port: numberField(phrase('node.field_http_01_port', 'HTTP-01 port'), 1, 65535, 80, true),
    names: z.preprocess(
      (v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v),
      z.array(z.string()).min(1, phrase('node.enter_least_name', 'enter at least one name')),
    ),
    ca: z.enum(CA_CHOICES).default('letsencrypt-staging'),
    directoryUrl: text(),
    email: text().refine(
      (s) => s === '' || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s),
      phrase('node.mail_address_not_valid', 'the e-mail address is not valid'),
    ),
    eabKid: text(),
    caCert: text().refine(
      (s) => s === '' || s.includes('-----BEGIN CERTIFICATE-----'),
      phrase('node.ca_certificate_must_pem', 'the CA certificate must be PEM (-----BEGIN CERTIFICATE-----)'),
    ),
    keyType: z.enum(['ecdsa-p256', 'rsa-2048', 'rsa-4096']).default('ecdsa-p256'),
    pinKey: boolField(false),
    renewDays: optionalNumberField(phrase('node.field_renew_days', 'renew days'), 1, 365),
    profile: text(),
    outDir: text(),
    propagationTimeout: numberField(phrase('node.field_propagation_timeout', 'propagation timeout'), 10, 3600, 300),
    authServers: text(),
    discovery: text(),
    checkHours: numberField(phrase('node.field_check_interval', 'check interval'), 1, 24 * 7, 24),
    checkOnStart: boolField(true),
    output: z.enum(['issued', 'always']).default('issued'),
    topic: z.preprocess((v) => (blank(v) ? 'certificate' : v), z.string()),
    pkcs12: boolField(false),
    combinedPem: boolField(false),
    expiryDays: numberField(phrase('node.field_expiry_alert_days', 'expiry alert days'), 1, 60, 7),
  })
  .superRefine((c, ctx) => {
    if (c.ca === 'custom') {
      try {
        const u = new URL(c.directoryUrl);
        if (u.protocol !== 'https:')
          ctx.addIssue({
            code: 'custom',
            path: ['directoryUrl'],
            message: phrase('node.acme_directory_url_must', 'the ACME directory URL must use https://'),
          });
      } catch {
        ctx.addIssue({
          code: 'custom',
          path: ['directoryUrl'],
          message: phrase('node.enter_acme_directory_url', 'enter the ACME directory URL of your CA'),
        });
      }
    }
    try {
      validateNames(c.names);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['names'], message: spokenError(e) });
    }
    if (c.challenge === 'dns-01' && !c.account)
      ctx.addIssue({
        code: 'custom',
        path: ['account'],
        message: phrase('node.choose_provider_account', 'choose a provider account'),
      });
    const wildcard = wildcardRefusal(c.challenge, c.names);
    if (wildcard) ctx.addIssue({ code: 'custom', path: ['names'], message: wildcard });
  });

const inputSchema = z.looseObject({
  force: z.boolean({ error: phrase('node.msg_force_must_true_false', 'msg.force must be true or false') }).optional(),
});

function describe(e: z.ZodError): string {
  return e.issues.map((i) => spokenText(i.message)).join('; ');
}

export = function register(RED: Red): void {
  const t = catalog(RED, 'cert-renew');

  function CertRenewNode(this: RedNode, raw: Record<string, unknown>): void {
    RED.nodes.createNode(this, raw);
    const node = this;
    const redactor = new Redactor([node.credentials?.eabHmacKey, node.credentials?.p12Password]);
    const idle = (reason: string) =>
      stayIdle(node, `${t('errors.invalid-config')}: ${reason}`, t('status.invalid-config'));
    // The names: the list itself, or an environment variable read now (a certificate's names are fixed).
    const namesType = typeField('names', ['str', 'env'], 'str').safeParse(raw.namesType);
    if (!namesType.success) return idle(describe(namesType.error));
    const parsed = certConfigSchema.safeParse(
      namesType.data === 'env'
        ? { ...raw, names: valueAtDeploy(RED, node, String(raw.names ?? '').trim(), 'env') }
        : raw,
    );
    if (!parsed.success) return idle(describe(parsed.error));
    const cfg = parsed.data;
    if (cfg.ca !== 'custom' && CA_PRESETS[cfg.ca].eab && !(cfg.eabKid && node.credentials?.eabHmacKey))
      return idle(t(`errors.eab-${cfg.ca.replace(/-.*/, '')}`));
    if (cfg.pkcs12 && !node.credentials?.p12Password) return idle(t('errors.no-p12-password'));
    // DNS-01 writes TXT records through the provider account, or through a challenge account it
    // delegates to by CNAME (acme-dns: the account itself); the other challenges need no account.
    let account: DdnsAccount | null = null;
    let challenge: DdnsAccount | undefined;
    let provider: DnsProvider | undefined;
    let txtProvider: DnsProvider | undefined;
    if (cfg.challenge === 'dns-01') {
      const found = RED.nodes.getNode(cfg.account) as DdnsAccount | null;
      if (!found || typeof found.getProvider !== 'function') return idle(t('errors.no-account'));
      account = found;
      if (account.configError) return idle(account.configError);
      challenge = account.definition?.txtOnly ? account : undefined;
      if (cfg.challengeAccount) {
        const c = RED.nodes.getNode(cfg.challengeAccount) as DdnsAccount | null;
        if (!c || typeof c.getProvider !== 'function') return idle(t('errors.no-challenge-account'));
        if (c.configError) return idle(c.configError);
        challenge = c;
      }
    }
    const clean = (s: string) => {
      let text = redactor.text(s);
      if (challenge) text = challenge.redactor.text(text);
      return account ? account.redactor.text(text) : text;
    };
    if (account) {
      try {
        provider = account.getProvider();
        txtProvider = challenge ? challenge.getProvider() : provider;
      } catch (e) {
        return idle(clean(spokenError(e)));
      }
      if (!txtProvider.setTxt || !txtProvider.deleteTxt)
        return idle(t(challenge ? 'errors.challenge-no-txt' : 'errors.no-txt'));
    }
    /** The account that writes the TXT records (DNS-01). */
    const txtAccount = challenge ?? account ?? undefined;

    const names = validateNames(cfg.names);
    let authServers: DnsServer[] | undefined;
    let discovery: DnsServer[] | undefined;
    try {
      authServers = serverListText(cfg.authServers);
      discovery = serverListText(cfg.discovery);
    } catch (e) {
      return idle(spokenError(e));
    }
    const nat = new NatFromMsgs();
    let solver: ChallengeSolver | undefined;
    if (cfg.challenge !== 'dns-01') {
      const s = challengeSolver(RED, cfg.challenge, { port: cfg.http01Port, authServers, discovery, nat });
      if ('error' in s) return idle(s.error);
      solver = s;
    }
    const job = certificateJob(
      cfg,
      names,
      node.credentials?.eabHmacKey,
      RED.settings.userDir ?? process.cwd(),
      node.credentials?.p12Password,
    );
    // A provider that publishes its zone in batches (netcup, NameSilo) raises the wait to its own
    // (the one that writes the TXT record: the challenge account when there is one).
    const wait = txtWait(cfg.propagationTimeout, txtAccount?.definition?.txtPropagation);
    if (wait.raisedBy)
      node.log(
        `${wait.raisedBy} The TXT record is awaited for up to ${duration(wait.timeoutMs)} (DNS wait: ${cfg.propagationTimeout} s).`,
      );
    const waitVisible = txtWaiter({
      servers: authServers,
      discovery,
      timeoutMs: wait.timeoutMs,
      intervalMs: wait.intervalMs,
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

    const dns =
      challenge && txtProvider
        ? delegatedDns({
            provider: txtProvider,
            accountLabel: challenge.label,
            waitVisible,
            lookup: { servers: authServers, discovery },
            log: (s) => node.log(clean(s)),
          })
        : { provider, waitVisible };

    /** A core error as the user reads it: in the runtime's language, secrets removed. */
    const said = (e: unknown) => clean(spokenError(e));

    /** The status while the folder cannot be written (found at deploy), or null. */
    let unwritable: { fill: 'red'; shape: 'dot'; text: string } | null = null;
    const loop = new RenewalLoop({
      job,
      provider: dns.provider,
      solver,
      waitVisible: dns.waitVisible,
      checkEveryMs: cfg.checkHours * 3_600_000,
      checkOnStart: cfg.checkOnStart,
      log: (s) => node.log(clean(s)),
      clean,
      onChecking: () => node.status({ fill: 'blue', shape: 'ring', text: t('status.checking') }),
      onTimerOutcome: (o) => report(o, null),
      accountStopped: () =>
        txtAccount?.gate.stop ? new AccountStoppedError(txtAccount.gate.stop, txtAccount.label) : undefined,
      onExpiring: (w) => warnExpiring(w),
      expiryAlertDays: cfg.expiryDays,
    });

    /**
     * One outcome as status, messages and error. `input`: the msg that asked for the run (it gets
     * its own output msg, or its own error through done); null for a timed run. `alerts`: false for
     * a msg that joined a run whose alerts went out already.
     */
    function report(o: RunOutcome, input: { msg: Msg; send: Send; done: Done } | null, alerts = true): void {
      if (o.kind === 'closed') return input?.done();
      const send: Send = input?.send ?? ((m) => node.send(m));
      const about = { msg: input?.msg ?? {}, topic: cfg.topic, names };
      if (o.kind === 'ok') {
        const r = o.result;
        // Yellow only when less is left than the alert days and than a third of the lifetime (a
        // 6-day certificate is not a warning in itself).
        const lifetimeDays = (Date.parse(r.notAfter) - Date.parse(r.notBefore)) / 86_400_000;
        if (unwritable) node.status(unwritable);
        else
          node.status({
            fill: r.daysLeft >= Math.min(cfg.expiryDays, lifetimeDays / 3) ? 'green' : 'yellow',
            shape: 'dot',
            text: t('status.days-left', undefined, { days: r.daysLeft, date: r.notAfter.slice(0, 10) }),
          });
        const { out, alert } = certificateMessages(r, alerts ? o.recovered : undefined, about);
        if (r.renewed || cfg.output === 'always' || input) send([out, alert]);
        else if (alert) send([null, alert]);
        return input?.done();
      }
      const err = o.error;
      const { errMsg, alert } = renewalFailureMessages(alerts ? o : { ...o, failing: undefined }, {
        ...about,
        said: said(err),
      });
      if (alert) send([null, alert]);
      // The msg Catch nodes get has the same shape for a run a msg asked for (done(err) reports the
      // input msg itself, so it is given the failure's topic and payload) and for a timed run.
      if (input) Object.assign(input.msg, { topic: errMsg.topic, payload: errMsg.payload });
      fail(node, err, { done: input?.done, msg: errMsg, status: failureStatus(o) });
    }

    function failureStatus(o: Extract<RunOutcome, { kind: 'failed' }>): string {
      const err = o.error;
      if (err.code === 'account_stopped')
        return t('status.account-stopped', undefined, { account: txtAccount?.label ?? '' });
      if (o.retryInMs !== undefined)
        return t('status.retry', undefined, { error: clip(said(err), 36), wait: duration(o.retryInMs) });
      return t('status.stopped', undefined, { error: clip(said(err), 48) });
    }

    /** Renewal is stopped and the certificate runs out soon: an alert, a warning in the log, the status. */
    function warnExpiring(w: ExpiryWarning): void {
      const message = clean(w.sentence ? relocalized(w.sentence, w.message) : w.message);
      node.send([null, expiryMessage(w, { topic: cfg.topic, said: { error: said(w.cause), message } })]);
      node.warn(message);
      node.status({
        fill: 'red',
        shape: 'dot',
        text: w.expired
          ? t('status.expired', undefined, { date: w.notAfter.slice(0, 10) })
          : t('status.expiring', undefined, { days: w.daysLeft, date: w.notAfter.slice(0, 10) }),
      });
    }

    node.on('input', (msg, send, done) => {
      const m = inputSchema.safeParse(msg);
      if (!m.success) return done(new Error(describe(m.error)));
      try {
        nat.update(msg); // HTTP-01's check: what public-ip-watch said about the line
      } catch (e) {
        return done(e as Error);
      }
      if (loop.stoppedBy) node.log(t('log.retry-after-fatal'));
      loop.check({ force: m.data.force === true }).then(
        (o) => (o.kind === 'joined' ? report(o.outcome, { msg, send, done }, false) : report(o, { msg, send, done })),
        (e) => done(e as Error),
      );
    });
    node.on('close', (_removed, done) => {
      const finish = () => done();
      loop.stop().then(finish, finish);
    });
    node.status({ fill: 'grey', shape: 'ring', text: t('status.waiting') });
    // A secret over plain http:// (the account logs it once): a yellow status until the first check.
    const plainHttp = account?.plainHttp ?? challenge?.plainHttp;
    if (plainHttp) node.status({ fill: 'yellow', shape: 'ring', text: plainHttp.status });
    // A folder that cannot be written (e.g. /ssl in the Home Assistant add-on, mapped read-only) is
    // said at deploy, with where to write instead, not only when a certificate is due.
    // The red status stays (also over a certificate that is not due yet) until the next deploy.
    checkWritableFolder(job.outDir).catch((e: Error) => {
      node.error(said(e));
      unwritable = {
        fill: 'red',
        shape: 'dot',
        text: t('status.not-writable', undefined, { dir: clip(job.outDir, 40) }),
      };
      node.status(unwritable);
    });
    loop.start();
  }

  RED.nodes.registerType('cert-renew', CertRenewNode, {
    credentials: { eabHmacKey: { type: 'password' }, p12Password: { type: 'password' } },
  });
};
