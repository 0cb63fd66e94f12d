/**
 * cert-renew: certificates from Let's Encrypt (any ACME CA) through DNS-01, using a provider
 * account of this package for the TXT records. The Node-RED adapter around
 * the renewal loop (src/core/acme/renewal.ts: when to check, retries, the stop on fatal answers,
 * the failing/recovered latch): configuration (zod), messages, status, alerts.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { DdnsError } from '../core/errors';
import { LETS_ENCRYPT, LETS_ENCRYPT_STAGING, validateNames } from '../core/acme/names';
import type { CertificateJob, CertificateResult } from '../core/acme/manager';
import { RenewalLoop, type RenewalOutcome } from '../core/acme/renewal';
import { waitForPropagation, describePropagation } from '../core/dns/propagation';
import { parseServer } from '../core/dns/transport';
import { Redactor } from '../core/redact';
import type { DnsProvider } from '../core/providers/types';
import type { DdnsAccount } from '../core/update/account';
import { blank, boolField, numberField, optionalNumberField, textField } from './config-fields';
import type { Msg, Red, RedNode } from './red-types';

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
  function CertRenewNode(this: RedNode, raw: Record<string, unknown>): void {
    RED.nodes.createNode(this, raw);
    const node = this;
    const redactor = new Redactor([node.credentials?.eabHmacKey]);
    const idle = (reason: string) => {
      node.status({ fill: 'red', shape: 'ring', text: RED._('cert-renew.status.invalid-config') });
      node.error(`${RED._('cert-renew.errors.invalid-config')}: ${reason}`);
      node.on('input', (_m, _s, done) => done(new Error(`${RED._('cert-renew.errors.invalid-config')}: ${reason}`)));
    };
    const parsed = certConfigSchema.safeParse(raw);
    if (!parsed.success) return idle(describe(parsed.error));
    const cfg = parsed.data;
    const found = RED.nodes.getNode(cfg.account) as DdnsAccount | null;
    if (!found || typeof found.getProvider !== 'function') return idle(RED._('cert-renew.errors.no-account'));
    const account: DdnsAccount = found;
    if (account.configError) return idle(account.configError);
    const clean = (t: string) => account.redactor.text(redactor.text(t));
    let provider: DnsProvider;
    try {
      provider = account.getProvider();
    } catch (e) {
      return idle(clean((e as Error).message));
    }
    if (!provider.setTxt || !provider.deleteTxt) return idle(RED._('cert-renew.errors.no-txt'));

    const names = validateNames(cfg.names);
    const userDir = RED.settings.userDir ?? process.cwd();
    const eabKey = node.credentials?.eabHmacKey;
    let authServers: ReturnType<typeof parseServer>[] | undefined;
    let discovery: ReturnType<typeof parseServer>[] | undefined;
    try {
      authServers = cfg.authServers
        ? cfg.authServers
            .split(/[\s,]+/)
            .filter(Boolean)
            .map((s) => parseServer(s))
        : undefined;
      discovery = cfg.discovery
        ? cfg.discovery
            .split(/[\s,]+/)
            .filter(Boolean)
            .map((s) => parseServer(s))
        : undefined;
    } catch (e) {
      return idle((e as Error).message);
    }
    const job: CertificateJob = {
      names,
      directoryUrl:
        cfg.ca === 'letsencrypt'
          ? LETS_ENCRYPT
          : cfg.ca === 'letsencrypt-staging'
            ? LETS_ENCRYPT_STAGING
            : cfg.directoryUrl,
      email: cfg.email || undefined,
      eab: cfg.eabKid && eabKey ? { kid: cfg.eabKid, hmacKey: eabKey } : undefined,
      caPem: cfg.caCert || undefined,
      keyType: cfg.keyType,
      pinKey: cfg.pinKey,
      renewDaysBefore: cfg.renewDays,
      profile: cfg.profile || undefined,
      outDir: cfg.outDir || join(userDir, 'certificates', names[0].replace(/^\*\./, '_wildcard.')),
      accountDir: join(userDir, 'ddns-acme'),
    };

    const waitVisible = async (name: string, value: string, signal?: AbortSignal) => {
      const r = await waitForPropagation({
        name,
        type: 'TXT',
        expected: [value],
        servers: authServers,
        discovery,
        timeoutMs: cfg.propagationTimeout * 1000,
        intervalMs: 2000,
        signal,
        onRound: (per) =>
          node.status({
            fill: 'yellow',
            shape: 'ring',
            text: RED._('cert-renew.status.propagating', {
              ok: per.filter((p) => p.matchedAfterMs !== null).length,
              all: per.length,
            }),
          }),
      });
      if (!r.ok)
        throw new DdnsError(
          'transient',
          `the TXT record is not visible at the authoritative servers: ${describePropagation(r, name)}`,
          { code: 'txt_not_visible' },
        );
    };

    const statusFor = (r: CertificateResult) =>
      node.status({
        fill: r.daysLeft > 7 ? 'green' : 'yellow',
        shape: 'dot',
        text: RED._('cert-renew.status.days-left', { days: r.daysLeft, date: r.notAfter.slice(0, 10) }),
      });

    const iso = (ms: number) => new Date(ms).toISOString();
    const loop = new RenewalLoop({
      job,
      provider,
      waitVisible,
      checkEveryMs: cfg.checkHours * 3_600_000,
      checkOnStart: cfg.checkOnStart,
      log: (t) => node.log(clean(t)),
      clean,
      onChecking: () => node.status({ fill: 'blue', shape: 'ring', text: RED._('cert-renew.status.checking') }),
      onTimerOutcome: (o) => report(o, {}, null),
    });

    /** One outcome as status, messages and error (done: a run asked for by a msg). */
    function report(o: RenewalOutcome, msg: Msg, done: ((e?: Error) => void) | null): void {
      if (o.kind === 'joined' || o.kind === 'closed') return done?.();
      if (o.kind === 'ok') {
        const r = o.result;
        statusFor(r);
        const out: Msg = { ...msg, topic: cfg.topic, payload: r };
        const alert = o.recovered
          ? {
              topic: cfg.topic,
              payload: { state: 'recovered', names, since: iso(o.recovered.since), failures: o.recovered.failures },
            }
          : null;
        if (r.renewed || cfg.output === 'always' || done) node.send([out, alert]);
        else if (alert) node.send([null, alert]);
        return done?.();
      }
      const err = o.error;
      const payload = {
        ok: false,
        names,
        error: err.message,
        code: err.code,
        failures: o.failures,
        retryable: err.kind === 'transient',
      };
      if (o.failing)
        node.send([
          null,
          { topic: cfg.topic, payload: { state: 'failing', names, error: err.message, since: iso(o.failing.since) } },
        ]);
      if (o.retryInMs !== undefined) {
        node.status({
          fill: 'red',
          shape: 'ring',
          text: RED._('cert-renew.status.retry', {
            error: err.message.slice(0, 40),
            minutes: Math.ceil(o.retryInMs / 60_000),
          }),
        });
      } else {
        node.status({
          fill: 'red',
          shape: 'ring',
          text: RED._('cert-renew.status.stopped', { error: err.message.slice(0, 48) }),
        });
      }
      const errMsg: Msg = { ...msg, topic: cfg.topic, payload };
      if (done) done(err);
      else node.error(err, errMsg);
    }

    node.on('input', (msg, _send, done) => {
      const m = inputSchema.safeParse(msg);
      if (!m.success) return done(new Error(describe(m.error)));
      if (loop.stoppedBy) node.log(RED._('cert-renew.log.retry-after-fatal'));
      loop.check({ force: m.data.force === true }).then(
        (o) => report(o, msg, done),
        (e) => done(e as Error),
      );
    });
    node.on('close', (_removed, done) => {
      const finish = () => done();
      loop.stop().then(finish, finish);
    });
    node.status({ fill: 'grey', shape: 'ring', text: RED._('cert-renew.status.waiting') });
    loop.start();
  }

  RED.nodes.registerType('cert-renew', CertRenewNode, { credentials: { eabHmacKey: { type: 'password' } } });
};
