/**
 * The core's one scheduling primitive and one alert latch, exactly, on a manual clock; and the
 * loops built on them that live in core (the reachability monitor; the renewal loop:
 * acme-renewal.test.ts).
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { AlertLatch, DEFAULT_ALERT_AFTER } from '../../src/core/alert-latch';
import { FIRST_RUN_MS, ReachMonitor, type MonitorOutcome } from '../../src/core/reach/monitor';
import { MAX_SERVER_WAIT_MS, MAX_TIMER_MS, Scheduler, retryDelay, serverWait } from '../../src/core/schedule';
import { FakeClock, settle } from '../support/fake-clock';
import { parseRetryAfter } from '../../src/core/http';

const noJitter = () => 0;

test('schedule: the server wait is clamped into 1 s .. 24 h; absurd values never make Infinity', () => {
  assert.equal(serverWait(undefined), 0);
  assert.equal(serverWait(0), 0);
  assert.equal(serverWait(-5), 0);
  assert.equal(serverWait(Number.NaN), 0);
  assert.equal(serverWait(10), 1000);
  assert.equal(serverWait(90_000), 90_000);
  assert.equal(serverWait(Number.POSITIVE_INFINITY), MAX_SERVER_WAIT_MS);
  assert.equal(serverWait(1e300), MAX_SERVER_WAIT_MS);
  const backoff = { baseMs: 1000, capMs: 60_000, random: noJitter };
  assert.equal(retryDelay(1, backoff), 1000);
  assert.equal(retryDelay(3, backoff), 4000);
  assert.equal(retryDelay(1, backoff, 1e300), MAX_SERVER_WAIT_MS);
  assert.ok(Number.isFinite(new Date(Date.now() + retryDelay(1, backoff, Number.POSITIVE_INFINITY)).getTime()));
});

test('schedule: a Retry-After header is clamped where it is parsed (RFC 9110 §10.2.3: seconds or an HTTP date)', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('0', now), 0);
  assert.equal(parseRetryAfter('99999999999999999999', now), MAX_SERVER_WAIT_MS);
  assert.equal(parseRetryAfter('1234567890123', now), MAX_SERVER_WAIT_MS);
  assert.equal(parseRetryAfter('9'.repeat(400), now), MAX_SERVER_WAIT_MS);
  assert.equal(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now), MAX_SERVER_WAIT_MS);
  assert.equal(parseRetryAfter(new Date(now + 90_000).toUTCString(), now), 90_000);
  assert.equal(parseRetryAfter(new Date(now - 90_000).toUTCString(), now), 0, 'a past date: no wait');
  assert.equal(parseRetryAfter('soon', now), undefined);
});

test('schedule: one timer; runs are serialised; a due timer queues a run or is skipped while busy', async () => {
  const clock = new FakeClock();
  const log: string[] = [];
  let release!: () => void;
  const s = new Scheduler({ clock, run: () => void log.push(`timer@${clock.now()}`) });
  s.in(1000);
  s.in(500); // replaces
  assert.equal(clock.pending, 1);
  assert.equal(s.dueAt, clock.now() + 500);
  // an operation in progress: the timer run waits for it
  const op = s.exclusive(
    () =>
      new Promise<void>(
        (r) =>
          (release = () => {
            log.push('op');
            r();
          }),
      ),
  );
  assert.equal(s.busy, true);
  await clock.advance(500);
  assert.deepEqual(log, [], 'never two at once');
  release();
  await op;
  await settle();
  assert.equal(log.length, 2);
  assert.equal(log[0], 'op');
  assert.match(log[1], /^timer@/);
  assert.equal(s.busy, false);
  assert.equal(clock.pending, 0);

  const skipLog: string[] = [];
  const k = new Scheduler({ clock, whenBusy: 'skip', run: () => void skipLog.push('timer') });
  let free!: () => void;
  const busy = k.exclusive(() => new Promise<void>((r) => (free = r)));
  k.in(10);
  await clock.advance(10);
  free();
  await busy;
  await settle();
  assert.deepEqual(skipLog, [], 'coalesced into the run in progress');
  k.in(10);
  await clock.advance(10);
  assert.deepEqual(skipLog, ['timer']);
});

test("schedule: waits beyond setTimeout's limit re-arm until due; repeat keeps a fixed cadence", async () => {
  const clock = new FakeClock();
  const ran: number[] = [];
  const s = new Scheduler({ clock, run: () => void ran.push(clock.now()) });
  const t0 = clock.now();
  const far = 40 * 86_400_000; // 40 days
  s.in(far);
  assert.ok(clock.nextAt! - t0 <= MAX_TIMER_MS);
  await clock.advance(MAX_TIMER_MS);
  assert.deepEqual(ran, [], 'not due yet: re-armed');
  assert.equal(clock.pending, 1);
  await clock.advance(far - MAX_TIMER_MS);
  assert.deepEqual(ran, [t0 + far]);
  assert.equal(clock.pending, 0);

  const ticks: number[] = [];
  const r = new Scheduler({ clock, repeatMs: 1000, run: () => void ticks.push(clock.now()) });
  const t1 = clock.now();
  r.in(10);
  await clock.advance(3010);
  assert.deepEqual(ticks, [t1 + 10, t1 + 1010, t1 + 2010, t1 + 3010]);
  await r.stop();
  assert.equal(clock.pending, 0);
  await assert.rejects(r.exclusive(() => 1));
});

test('schedule: interval with jitter, backoff after failures that honours the server, state as JSON', async () => {
  const clock = new FakeClock();
  const s = new Scheduler({
    clock,
    run: () => undefined,
    intervalMs: 60_000,
    jitter: 0.1,
    random: () => 1,
    minDelayMs: 5000,
    backoff: { baseMs: 10_000, capMs: 60_000, random: noJitter },
  });
  assert.equal(s.succeeded(), 66_000, 'interval + 10 % at random = 1');
  assert.equal(s.failed(), 10_000);
  assert.equal(s.failed(), 20_000);
  assert.equal(s.failed(120_000), 120_000, 'never sooner than the server asked');
  assert.equal(s.failed(1e12), MAX_SERVER_WAIT_MS, 'an absurd Retry-After is clamped');
  assert.equal(s.failures, 4);
  const saved = JSON.parse(JSON.stringify(s.state()));
  assert.deepEqual(saved, { dueAt: clock.now() + MAX_SERVER_WAIT_MS, failures: 4 });
  await s.stop();

  let ran = 0;
  const t = new Scheduler({
    clock,
    run: () => void ran++,
    backoff: { baseMs: 10_000, capMs: 60_000, random: noJitter },
  });
  t.restore(saved);
  assert.equal(t.failures, 4);
  assert.equal(t.dueAt, saved.dueAt);
  await clock.advance(MAX_SERVER_WAIT_MS);
  assert.equal(ran, 1, 'the restored timer runs when due');
  assert.equal(t.failed(), 60_000, 'the backoff goes on from the restored step (capped)');
  assert.equal(t.succeeded() >= 0 && t.failures, 0);
});

test('alert latch: N failures → one failing (with since); one recovered; fatal at once; quiet counts; JSON state', () => {
  assert.equal(DEFAULT_ALERT_AFTER, 3);
  const l = new AlertLatch();
  assert.equal(l.failure(100), undefined);
  assert.equal(l.failure(200), undefined);
  assert.deepEqual(l.failure(300), { state: 'failing', since: 100, at: 300, failures: 3, detail: undefined });
  assert.equal(l.failure(400), undefined, 'no storm');
  assert.equal(l.alerted, true);
  assert.deepEqual(l.success(500), { state: 'recovered', since: 100, at: 500, failures: 4, detail: undefined });
  assert.equal(l.success(600), undefined);
  assert.equal(l.alerted, false);

  const d = new AlertLatch<'down', 'recovered', string>({ after: 2, failing: 'down', since: 'trip' });
  assert.equal(d.failure(10, { quiet: true }), undefined);
  assert.equal(d.failure(20, { quiet: true }), undefined, 'quiet failures count but never trip');
  assert.deepEqual(d.failure(30, { detail: 'x' }), { state: 'down', since: 30, at: 30, failures: 3, detail: 'x' });
  assert.equal(d.success(40, { recover: false }), undefined, 'held while something still stops it');
  assert.equal(d.failures, 0);
  const saved = JSON.parse(JSON.stringify(d.state()));
  const e = new AlertLatch<'down', 'recovered', string>({ after: 2, failing: 'down', since: 'trip' });
  e.restore(saved);
  assert.equal(e.failure(50, { fatal: true }), undefined, 'restored: already failing, no second alert');
  assert.deepEqual(e.success(60), { state: 'recovered', since: 30, at: 60, failures: 1, detail: 'x' });

  const f = new AlertLatch({ after: 5 });
  assert.equal(f.failure(1, { fatal: true })?.state, 'failing', 'a fatal failure alerts at once');
  assert.equal(f.trip(2), undefined);
});

test('reach monitor: interval runs 1 s after start then every interval; down after N failed runs, one recovered', async () => {
  const clock = new FakeClock();
  const oks = [false, false, false, true, true];
  const outcomes: Array<MonitorOutcome<{ ok: boolean }>> = [];
  const m = new ReachMonitor<string, { ok: boolean }>({
    check: async () => ({ ok: oks.shift() ?? true }),
    alertAfter: 2,
    intervalMs: 60_000,
    clock,
    onTimerOutcome: (o) => outcomes.push(o),
  });
  const t0 = clock.now();
  m.start();
  await clock.advance(FIRST_RUN_MS);
  assert.equal(outcomes.length, 1);
  assert.equal(outcomes[0].alert, undefined);
  await clock.advance(60_000);
  assert.deepEqual(outcomes[1].alert, {
    state: 'down',
    since: t0 + FIRST_RUN_MS,
    at: t0 + FIRST_RUN_MS + 60_000,
    failures: 2,
    detail: undefined,
  });
  const byInput = await m.run('msg');
  assert.equal(byInput.alert, undefined, 'no storm');
  assert.equal(byInput.down, true);
  assert.equal(byInput.failures, 3);
  await clock.advance(60_000);
  assert.equal(outcomes[2].alert?.state, 'recovered');
  assert.equal(outcomes[2].alert?.failures, 3);
  assert.equal(outcomes[2].alert?.since, t0 + FIRST_RUN_MS);
  await m.stop();
  assert.equal(clock.pending, 0);
  assert.ok(m.signal.aborted);
});
