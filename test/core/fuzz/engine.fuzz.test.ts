/**
 * Fuzzing the update engine (src/core/update/engine.ts) on a fake clock: arbitrary sequences of
 * updates, clock moves and resets against a provider whose every answer is generated: results of
 * any outcome (also missing, extra or renamed ones), DdnsErrors of any kind, scope and server wait
 * (`retryAfterMs` of any number: NaN, ±Infinity, negative, 1e20, tiny, huge), other thrown values,
 * and reads of any content. Checked after every step:
 * - `update()` and `reset()` resolve with well-formed results (any `nextRetryAt` a valid time) and
 *   never reject; automatic runs never fail (the engine reports those as warnings), and no
 *   rejection is left unhandled;
 * - no write starts while a provider-ordered wait runs: after an answer with a server wait (clamped
 *   into 1 s – 24 h, src/core/schedule.ts serverWait), nothing is sent for the account (scope
 *   `account`) or for that record (scope `host`) before the wait is over.
 */
import { after, test } from '../../support/suite';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Family } from '../../../src/core/address';
import { DdnsError } from '../../../src/core/errors';
import type { Hostname } from '../../../src/core/hostname';
import type { DnsProvider, ProviderCall, RecordResult } from '../../../src/core/providers/types';
import { serverWait } from '../../../src/core/schedule';
import { UpdateEngine } from '../../../src/core/update/engine';
import { MemoryStore, type AccountAlert, type UpdateResult } from '../../../src/core/update/types';
import { FakeClock, settle } from '../../support/fake-clock';
import { hostname } from '../../support/parsed';
import { addressSet, anyText, fuzz, note, printTally } from './fuzz';

after(() => printTally('engine'));

const NAMES = ['home.example.com', 'office.example.com', 'cabin.example.com'].map(hostname);
const HOUR = 3_600_000;

/** Server waits of any number. */
const wait = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      NaN,
      Infinity,
      -Infinity,
      -1,
      -0,
      0,
      0.5,
      999,
      1000,
      1e20,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      2 ** 31,
      25 * HOUR,
      1e23,
    ),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 * HOUR }) },
  { weight: 1, arbitrary: fc.double() },
);

const ddnsError = fc
  .record({
    kind: fc.constantFrom('transient' as const, 'transient' as const, 'fatal' as const, 'input' as const),
    code: fc.oneof(fc.constantFrom('http_503', 'http_429', 'wait', 'badauth', 'nohost', '911', 'timeout'), anyText(10)),
    scope: fc.constantFrom('account' as const, 'host' as const),
    retryAfterMs: wait,
    message: anyText(40),
  })
  .map((e) => new DdnsError(e.kind, e.message, { code: e.code, scope: e.scope, retryAfterMs: e.retryAfterMs }));

/** What one provider call does. */
const answer = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('results' as const),
      /** Per record of the call: an outcome, or nothing said about it. */
      per: fc.array(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom('updated' as const, 'unchanged' as const) },
          { weight: 3, arbitrary: ddnsError },
          { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'failed-bare' as const, 'renamed' as const) },
        ),
        { minLength: 6, maxLength: 6 },
      ),
      extra: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('throw' as const), error: ddnsError }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('throw-other' as const),
      value: fc.constantFrom<unknown>(new TypeError('x is undefined'), 'a string', undefined, null, { code: 42 }),
    }),
  },
);
type Answer = typeof answer extends fc.Arbitrary<infer T> ? T : never;

const read = fc.oneof(
  fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), anyText(20)), { maxLength: 3 }),
  ddnsError.map((e) => ({ error: e })),
);

const step = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      names: fc.subarray(NAMES, { minLength: 1 }),
      addresses: addressSet,
      force: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 10 * 60_000 }), fc.integer({ min: 0, max: 30 * HOUR }), fc.constant(0)),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'reset' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'next-timer' as const }) },
);

/** A provider that answers as the case says, and records when each write started. */
class ScriptedProvider implements DnsProvider {
  readonly id = 'scripted';
  calls: Array<{ at: number; call: ProviderCall }> = [];
  private n = 0;
  private r = 0;
  getAddresses?: (h: string, f: Family) => Promise<string[]>;
  /** When each provider-ordered wait ends: the account's, and per record. */
  accountUntil = 0;
  recordUntil = new Map<string, number>();
  /** Writes made inside a provider-ordered wait. */
  violations: string[] = [];

  constructor(
    readonly maxHostsPerCall: number,
    private readonly answers: Answer[],
    private readonly clock: FakeClock,
    reads?: Array<string[] | { error: DdnsError }>,
  ) {
    if (reads?.length)
      this.getAddresses = async (h, f) => {
        const x = reads[this.r++ % reads.length];
        if (Array.isArray(x)) return x;
        this.ordered(x.error, [`${h}|${f}`]);
        throw x.error;
      };
  }

  /** A fatal answer was given since the last reset (a name or the account is stopped). */
  stopped = false;

  private ordered(e: DdnsError | undefined, keys: string[]): void {
    if (e instanceof DdnsError && e.kind === 'fatal') this.stopped = true;
    if (!(e instanceof DdnsError) || e.kind !== 'transient') return;
    const until = this.clock.now() + serverWait(e.retryAfterMs);
    if (e.scope === 'account') this.accountUntil = Math.max(this.accountUntil, until);
    else for (const k of keys) this.recordUntil.set(k, Math.max(this.recordUntil.get(k) ?? 0, until));
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const now = this.clock.now();
    const keys = call.hostnames.flatMap((h) =>
      (['ipv4', 'ipv6'] as const).filter((f) => call.addresses[f]).map((f) => `${h}|${f}`),
    );
    // Recorded, not thrown: the engine would take a thrown assertion for a provider failure.
    if (now < this.accountUntil)
      this.violations.push(`a write at ${now} inside the account wait until ${this.accountUntil}`);
    for (const k of keys) {
      const until = this.recordUntil.get(k) ?? 0;
      if (now < until) this.violations.push(`a write of ${k} at ${now} inside its wait until ${until}`);
    }
    this.calls.push({ at: now, call });
    const a = this.answers[this.n++ % this.answers.length];
    if (a.kind === 'throw') {
      this.ordered(a.error, keys);
      throw a.error;
    }
    if (a.kind === 'throw-other') throw a.value;
    const out: RecordResult[] = [];
    let i = 0;
    for (const hostname of call.hostnames) {
      for (const family of ['ipv4', 'ipv6'] as const) {
        if (call.addresses[family] === undefined) continue;
        const p = a.per[i++ % a.per.length];
        const name = p === 'renamed' ? `${hostname.toUpperCase()}.` : hostname;
        if (p === 'missing') continue;
        if (p === 'updated' || p === 'unchanged' || p === 'renamed')
          out.push({
            hostname: name,
            family,
            outcome: p === 'renamed' ? 'updated' : p,
            message: `${p} ${call.addresses[family]}`,
          });
        else if (p === 'failed-bare')
          out.push({ hostname, family, outcome: 'failed', message: 'failed without an error' });
        else {
          this.ordered(p, [`${hostname}|${family}`]);
          out.push({ hostname, family, outcome: 'failed', message: p.message, error: p });
        }
      }
    }
    if (a.extra)
      out.push({ hostname: 'stranger.example.net', family: 'ipv4', outcome: 'updated', message: 'not asked' });
    return out;
  }
}

const STATUSES = new Set(['updated', 'unchanged', 'failed', 'skipped']);

function checkResults(results: UpdateResult[], label: string): void {
  assert.ok(Array.isArray(results), `${label}: results`);
  for (const r of results) {
    assert.ok(STATUSES.has(r.status), `${label}: status ${r.status}`);
    note(
      `${r.status}${r.reason ? `/${/^(http_|wait|badauth|nohost|911|timeout|unknown|stopped|min-|retry-|account-|no_answer|failed)/.test(r.reason) ? r.reason : '…'}` : ''}`,
    );
    assert.equal(typeof r.message, 'string');
    assert.ok(Number.isFinite(r.attempts) && r.attempts >= 0, `${label}: attempts ${r.attempts}`);
    if (r.nextRetryAt !== undefined)
      assert.ok(Number.isFinite(Date.parse(r.nextRetryAt)), `${label}: nextRetryAt ${r.nextRetryAt}`);
  }
}

function checkAlert(a: AccountAlert): void {
  assert.ok(a.state === 'failing' || a.state === 'recovered');
  assert.ok(Number.isFinite(Date.parse(a.since)));
  if (a.at !== undefined) assert.ok(Number.isFinite(Date.parse(a.at)));
}

test('update engine: any provider answers, any server waits, any sequence: results, never a crash', async () => {
  await fuzz(
    'engine sequences',
    fc.asyncProperty(
      fc.array(answer, { minLength: 1, maxLength: 6 }),
      fc.option(fc.array(read, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      fc.constantFrom(1, 2, 20),
      fc.array(step, { minLength: 1, maxLength: 14 }),
      fc.record({ minIntervalMs: fc.constantFrom(0, 60_000), alertAfter: fc.constantFrom(1, 3) }),
      async (answers, reads, maxHosts, steps, o) => {
        const clock = new FakeClock();
        const provider = new ScriptedProvider(maxHosts, answers, clock, reads);
        const warnings: string[] = [];
        const engine = new UpdateEngine({
          provider,
          accountKey: 'fuzz',
          clock,
          store: new MemoryStore(),
          minIntervalMs: o.minIntervalMs,
          alertAfter: o.alertAfter,
          onResults: (rs) => checkResults(rs, 'onResults'),
          onAlert: checkAlert,
          onWarning: (w) => warnings.push(w),
        });
        try {
          for (const s of steps) {
            if (s.op === 'update') {
              const rs = await engine.update({
                hostnames: s.names as Hostname[],
                addresses: s.addresses,
                force: s.force,
              });
              checkResults(rs, 'update');
            } else if (s.op === 'reset') {
              provider.stopped = false;
              checkResults(await engine.reset(), 'reset');
            } else if (s.op === 'advance') await clock.advance(s.ms);
            else if (clock.nextAt !== undefined) await clock.advance(Math.max(0, clock.nextAt - clock.now()));
            await settle();
            const failed = warnings.filter((w) => /automatic update failed/.test(w));
            assert.deepEqual(failed, [], 'an automatic run failed');
            assert.deepEqual(provider.violations, [], 'a write inside a provider-ordered wait');
          }
        } finally {
          engine.stop();
        }
      },
    ),
    { runs: 1200, timeoutMs: 20_000 },
  );
});
