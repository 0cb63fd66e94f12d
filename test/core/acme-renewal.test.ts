/**
 * cert-renew's renewal loop (src/core/acme/renewal.ts) on a manual clock: when it checks, retries
 * and stops; a check during a run joins it and gets its outcome; after a fatal stop no order is
 * attempted but the certificate on disk is still watched, and a warning comes (at most once a
 * day) when it runs out soon. And the account stop checked before an order: the CA is not asked.
 */
import { after, before, test } from '../support/suite';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EXPIRY_WATCH_MS,
  FIRST_CHECK_MS,
  RenewalLoop,
  type CertificateOnDisk,
  type ExpiryWarning,
  type RenewalOptions,
  type RenewalOutcome,
  type RunOutcome,
} from '../../src/core/acme/renewal';
import { ensureCertificate, type CertificateJob, type CertificateResult } from '../../src/core/acme/manager';
import { fatal, transient, type DdnsError } from '../../src/core/errors';
import type { DnsProvider } from '../../src/core/providers/types';
import { AccountStoppedError } from '../../src/core/update/gate';
import { FakeClock } from '../support/fake-clock';

const noJitter = () => 0;
const DAY = 86_400_000;
const cert = (renewed: boolean): CertificateResult => ({ renewed, daysLeft: 60 }) as unknown as CertificateResult;
const badauth = () => fatal('bad credentials', { code: 'badauth', scope: 'account' });

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddns-acme-renewal-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A loop on `clock` with no job of its own: daily, no check on start, no jitter, no certificate on disk; `over` changes any of it. */
function loopOn(clock: FakeClock, over: Partial<RenewalOptions>): RenewalLoop {
  return new RenewalLoop({
    job: {} as never,
    provider: {} as never,
    waitVisible: async () => undefined,
    checkEveryMs: DAY,
    checkOnStart: false,
    clock,
    random: noJitter,
    readCertificate: async () => null,
    ...over,
  });
}

/** A daily loop that checks on start and watches `onDisk`, its expiry warnings pushed to `warnings`. */
function watchingLoop(
  clock: FakeClock,
  onDisk: CertificateOnDisk,
  warnings: ExpiryWarning[],
  over: Partial<RenewalOptions>,
): RenewalLoop {
  return loopOn(clock, {
    job: { names: onDisk.names, outDir: join(dir, 'unused') } as CertificateJob,
    checkOnStart: true,
    readCertificate: async () => onDisk,
    onExpiring: (w) => warnings.push(w),
    ...over,
  });
}

test('renewal loop: start after 2 s, interval after success, backoff after passing trouble, no order after a fatal answer', async () => {
  const clock = new FakeClock();
  const answers: Array<CertificateResult | Error> = [
    transient('TXT not visible', { code: 'txt_not_visible' }),
    transient('rate limited', { code: 'http_429', retryAfterMs: 3 * 3_600_000 }),
    cert(true),
    badauth(),
    cert(false),
  ];
  const outcomes: RunOutcome[] = [];
  let calls = 0;
  const loop = loopOn(clock, {
    checkOnStart: true,
    clean: (t) => t.replace('credentials', '***'),
    ensure: async () => {
      calls++;
      const a = answers.shift()!;
      if (a instanceof Error) throw a;
      return a;
    },
    onTimerOutcome: (o) => outcomes.push(o),
  });
  loop.start();
  assert.equal(loop.nextAt, clock.now() + FIRST_CHECK_MS);
  await clock.advance(FIRST_CHECK_MS);
  let o = outcomes.at(-1)!;
  assert.ok(o.kind === 'failed' && o.failing && o.retryInMs === 5 * 60_000 && o.failures === 1);
  await clock.advance(5 * 60_000);
  o = outcomes.at(-1)!;
  assert.ok(o.kind === 'failed' && !o.failing && o.retryInMs === 3 * 3_600_000, 'the server wait beats the backoff');
  await clock.advance(3 * 3_600_000);
  o = outcomes.at(-1)!;
  assert.ok(o.kind === 'ok' && o.recovered?.failures === 2);
  assert.equal(loop.nextAt, clock.now() + 0.95 * 24 * 3_600_000, 'the interval, ±5 % (random 0: -5 %)');
  await clock.advance(24 * 3_600_000);
  o = outcomes.at(-1)!;
  assert.ok(o.kind === 'failed' && o.retryInMs === undefined && o.failing);
  assert.equal(o.error.message, 'bad ***');
  assert.ok(loop.stoppedBy);
  // Stopped: only the expiry watch is left (no certificate here), and it orders nothing.
  await clock.advance(5 * DAY);
  assert.equal(calls, 4, 'no order while stopped');
  assert.equal(outcomes.length, 4);
  assert.ok(loop.nextAt! <= clock.now() + EXPIRY_WATCH_MS, 'the expiry watch is armed');
  // An input runs again, and a second input during it joins it and gets its outcome.
  const first = loop.check();
  const second = loop.check();
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.kind, 'ok');
  assert.ok(b.kind === 'joined' && b.outcome === a, 'the joined check answers with the outcome of the run it joined');
  assert.equal(calls, 5);
  assert.equal(loop.stoppedBy, null);
  await loop.stop();
  assert.equal(clock.pending, 0);
  assert.equal((await loop.check()).kind, 'closed');
});

test('renewal loop: a check that joins a failing run gets that failure (every caller gets an answer)', async () => {
  const clock = new FakeClock();
  let release!: () => void;
  const loop = loopOn(clock, {
    random: undefined,
    ensure: () =>
      new Promise((_, reject) => (release = () => reject(transient('the CA is unreachable', { code: 'timeout' })))),
  });
  const runs: Array<Promise<RenewalOutcome>> = [loop.check(), loop.check(), loop.check()];
  await new Promise((r) => setImmediate(r));
  release();
  const [a, b, c] = await Promise.all(runs);
  assert.ok(a.kind === 'failed' && a.error.code === 'timeout');
  for (const j of [b, c]) assert.ok(j.kind === 'joined' && j.outcome === a);
  await loop.stop();
});

test('renewal loop: stopped by a fatal answer, the certificate on disk is still watched; a warning at most once a day', async () => {
  const clock = new FakeClock();
  const t0 = clock.now();
  // A 90-day certificate with 33 days left: the lifetime rule wants it renewed from 30 days left on.
  const onDisk: CertificateOnDisk = {
    names: ['www.example.com', '*.example.com'],
    notBefore: new Date(t0 - 57 * DAY),
    notAfter: new Date(t0 + 33 * DAY),
  };
  let answer: () => CertificateResult | DdnsError = badauth;
  let calls = 0;
  const warnings: ExpiryWarning[] = [];
  const loop = watchingLoop(clock, onDisk, warnings, {
    ensure: async () => {
      calls++;
      const a = answer();
      if (a instanceof Error) throw a;
      return a;
    },
  });
  loop.start();
  await clock.advance(FIRST_CHECK_MS);
  assert.equal(calls, 1);
  assert.ok(loop.stoppedBy);
  assert.equal(warnings.length, 0, '33 days left: not due yet, no warning');
  await clock.advance(2 * DAY);
  assert.equal(warnings.length, 0, '31 days left');
  await clock.advance(DAY);
  assert.equal(warnings.length, 1, 'fewer than 30 days left and nothing renews it: a warning');
  const w = warnings[0];
  assert.equal(w.daysLeft, 29);
  assert.equal(w.expired, false);
  assert.deepEqual(w.names, onDisk.names);
  assert.equal(w.cause.code, 'badauth');
  assert.equal(
    w.message,
    `The certificate for www.example.com, *.example.com runs out in 29 days (${onDisk.notAfter.toISOString().slice(0, 10)}) ` +
      'and is not being renewed, because renewal stopped: bad credentials. ' +
      'Fix that, then send a message to the cert-renew node (or deploy again) to renew it.',
  );
  // A msg retries (and fails again): the watch looks again at once, but warns no second time that day.
  assert.equal((await loop.check()).kind, 'failed');
  await clock.advance(0);
  assert.equal(calls, 2);
  assert.equal(warnings.length, 1, 'at most one warning a day');
  await clock.advance(DAY);
  assert.equal(warnings.length, 2, 'the next day, the next warning');
  // Days go by: one warning a day, no order; past the expiry the warning says so.
  await clock.advance(30 * DAY);
  assert.equal(calls, 2, 'the timer never orders while stopped');
  assert.equal(warnings.length, 32);
  const last = warnings.at(-1)!;
  assert.equal(last.expired, true);
  assert.ok(last.daysLeft < 0);
  assert.match(
    last.message,
    /^The certificate for www\.example\.com, \*\.example\.com expired on \d{4}-\d{2}-\d{2} and/,
  );
  // Fixed: a msg renews; the regular interval takes over and the watch is gone.
  answer = () => cert(true);
  const ok = await loop.check();
  assert.ok(ok.kind === 'ok' && ok.recovered);
  assert.equal(loop.nextAt, clock.now() + 0.95 * DAY);
  answer = () => cert(false);
  await clock.advance(3 * DAY);
  assert.equal(warnings.length, 32, 'no warning while renewal works');
  assert.equal(calls, 3 + 3, 'daily checks again');
  await loop.stop();
  assert.equal(clock.pending, 0);
});

test('ensureCertificate: while the provider account is stopped, no order is created and the CA is not asked', async () => {
  const job: CertificateJob = {
    names: ['www.example.com'],
    directoryUrl: 'https://127.0.0.1:1/directory', // nothing listens: a CA contact would fail "cannot be reached"
    keyType: 'ecdsa-p256',
    outDir: join(dir, 'stopped'),
    accountDir: join(dir, 'accounts'),
  };
  const deps = { provider: {} as DnsProvider, waitVisible: async () => undefined };
  const stop = { code: 'badauth', message: 'bad credentials (badauth)', since: 0 };
  await assert.rejects(
    ensureCertificate(job, { ...deps, accountStopped: () => new AccountStoppedError(stop, 'home') }),
    (e: DdnsError) =>
      e.code === 'account_stopped' &&
      e.kind === 'fatal' &&
      /the provider account "home" is stopped .*: bad credentials \(badauth\)/.test(e.message),
  );
  assert.equal(existsSync(job.accountDir), false, 'no ACME account key made: the CA was not contacted');
  // Without the stop the same job does go to the CA (and finds nobody there).
  await assert.rejects(
    ensureCertificate(job, { ...deps, accountStopped: () => undefined }),
    (e: DdnsError) => e.kind === 'transient' && /cannot be reached/.test(e.message),
  );
});

// Issue 14: Let's Encrypt sends no expiry e-mails any more. While renewal fails by passing trouble
// (not stopped), the alert comes once the certificate is due and within the alert days.
test('renewal loop: failing but retrying, the expiry alert comes within the alert days (at most once a day)', async () => {
  const clock = new FakeClock();
  const t0 = clock.now();
  // A 47-day certificate (tlsserver-like) with 10 days left: due (fewer than a third of 47 days left).
  const onDisk: CertificateOnDisk = {
    names: ['nas.example.com'],
    notBefore: new Date(t0 - 37 * DAY),
    notAfter: new Date(t0 + 10 * DAY),
  };
  const warnings: ExpiryWarning[] = [];
  let calls = 0;
  const loop = watchingLoop(clock, onDisk, warnings, {
    ensure: async () => {
      calls++;
      throw transient('the TXT record is not visible at the authoritative servers', { code: 'txt_not_visible' });
    },
    expiryAlertDays: 7,
  });
  loop.start();
  await clock.advance(FIRST_CHECK_MS);
  await clock.advance(0);
  assert.equal(loop.stoppedBy, null, 'passing trouble: not stopped');
  assert.equal(warnings.length, 0, '10 days left: more than the 7 alert days');
  // Retries (backoff up to 6 h) go on; 3 days later fewer than 7 days are left (and a retry comes
  // at most 6 h later).
  await clock.advance(3 * DAY + 7 * 3_600_000);
  assert.ok(calls > 5, `retried ${calls} times`);
  assert.equal(warnings.length, 1, 'within 7 days and not renewed: one alert');
  const w = warnings[0];
  assert.equal(w.retrying, true);
  assert.equal(w.daysLeft, 6);
  assert.equal(w.cause.code, 'txt_not_visible');
  assert.match(
    w.message,
    /^The certificate for nas\.example\.com runs out in 6 days \(.*\) and has not been renewed: the last attempt failed: the TXT record is not visible/,
  );
  assert.match(w.message, /The node keeps trying by itself/);
  await clock.advance(DAY - 7 * 3_600_000);
  assert.equal(warnings.length, 1, 'at most one a day');
  await clock.advance(DAY);
  assert.equal(warnings.length, 2, 'the next day, the next');
  await loop.stop();
});

test('renewal loop: after a success the next check follows the ARI Retry-After, or the renewal time when sooner', async () => {
  const clock = new FakeClock();
  let result = { renewed: false, daysLeft: 40, ariRetryAfterMs: 6 * 3_600_000 } as unknown as CertificateResult;
  const loop = loopOn(clock, { ensure: async () => result });
  await loop.check();
  assert.equal(loop.nextAt, clock.now() + 6 * 3_600_000, "the CA's Retry-After, not the 24 h interval");
  result = { ...result, renewAt: new Date(clock.now() + 2 * 3_600_000).toISOString() };
  await loop.check();
  assert.equal(loop.nextAt, clock.now() + 2 * 3_600_000 + 1000, 'the planned renewal time comes first');
  result = { renewed: false, daysLeft: 40 } as unknown as CertificateResult;
  await loop.check();
  assert.equal(loop.nextAt, clock.now() + 0.95 * DAY, 'no ARI: the interval');
  await loop.stop();
});
