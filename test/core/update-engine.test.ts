/**
 * The update engine's own logic, exactly, on a manual clock: a small in-test provider that records
 * every call and answers as each test says (the provider contract of src/core/providers/types.ts),
 * and the real dry-run provider.
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { providerCall, updateRequest } from '../support/parsed';
import { DdnsError, fatal, transient } from '../../src/core/errors';
import type { Family } from '../../src/core/address';
import { definition as dryrun } from '../../src/core/providers/dryrun';
import type { DnsProvider, ProviderCall, RecordResult } from '../../src/core/providers/types';
import { Redactor } from '../../src/core/redact';
import { UpdateEngine, type UpdateEngineOptions } from '../../src/core/update/engine';
import { AccountGate, AccountStoppedError, gateOf, guardProvider } from '../../src/core/update/gate';
import { parseAddressSet as checkAddresses } from '../../src/core/address';
import { normaliseHostname, parseHostnames } from '../../src/core/hostname';
import { resultsOk, statusLine } from '../../src/core/update/summary';
import { MemoryStore, type AccountAlert, type UpdateResult } from '../../src/core/update/types';
import { FakeClock, settle } from '../support/fake-clock';
import { definition as duckdns } from '../../src/core/providers/duckdns';
import { definition as cloudflare } from '../../src/core/providers/cloudflare';
import { closeHttpPools } from '../../src/core/http';
import { startDuckDns } from '../support/contracts/duckdns';
import { startCloudflare } from '../support/contracts/cloudflare';

type Answer = (call: ProviderCall) => RecordResult[] | Promise<RecordResult[]>;

/** Answers every name and family of a call with `outcome` (default: updated). */
const answerAll =
  (outcome: 'updated' | 'unchanged' = 'updated'): Answer =>
  (call) =>
    call.hostnames.flatMap((hostname) =>
      (['ipv4', 'ipv6'] as Family[])
        .filter((f) => call.addresses[f] !== undefined)
        .map((family) => ({
          hostname,
          family,
          outcome,
          message: `${outcome === 'updated' ? 'good' : 'nochg'} ${call.addresses[family]}`,
        })),
    );

class TestProvider implements DnsProvider {
  readonly id = 'test';
  calls: ProviderCall[] = [];
  reads: Array<{ hostname: string; family: Family }> = [];
  /** Answers in turn; the last one repeats. A thrown error is thrown by setAddresses. */
  answers: Array<Answer | Error> = [answerAll()];
  getAddresses?: (hostname: string, family: Family) => Promise<string[]>;

  constructor(
    readonly maxHostsPerCall = 20,
    held?: Record<string, string[]>,
  ) {
    if (held) {
      this.getAddresses = async (hostname, family) => {
        this.reads.push({ hostname, family });
        return held[`${hostname}|${family}`] ?? [];
      };
    }
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    this.calls.push({ hostnames: [...call.hostnames], addresses: { ...call.addresses } });
    const a = this.answers.length > 1 ? this.answers.shift()! : this.answers[0];
    if (a instanceof Error) throw a;
    return a(call);
  }
}

interface Setup {
  engine: UpdateEngine;
  provider: TestProvider;
  clock: FakeClock;
  store: MemoryStore;
  alerts: AccountAlert[];
  later: UpdateResult[][];
  warnings: string[];
}

function setup(o: Partial<UpdateEngineOptions> & { provider?: TestProvider } = {}): Setup {
  const clock = (o.clock as FakeClock | undefined) ?? new FakeClock();
  const provider = o.provider ?? new TestProvider();
  const store = (o.store as MemoryStore | undefined) ?? new MemoryStore();
  const alerts: AccountAlert[] = [];
  const later: UpdateResult[][] = [];
  const warnings: string[] = [];
  const engine = new UpdateEngine({
    accountKey: 'acct-1',
    accountLabel: 'Test account',
    minIntervalMs: 0,
    backoff: { baseMs: 30_000, capMs: 600_000, jitter: 0.2, random: () => 0 },
    ...o,
    provider: o.provider ?? provider,
    clock,
    store,
    onAlert: (a) => alerts.push(a),
    onResults: (r) => later.push(r),
    onWarning: (w) => warnings.push(w),
  });
  return { engine, provider: (o.provider as TestProvider) ?? provider, clock, store, alerts, later, warnings };
}

const V4 = { ipv4: '203.0.113.7' };
const H = ['home.example.com'];
const statuses = (rs: UpdateResult[]) => rs.map((r) => `${r.hostname}/${r.family}:${r.status}`);

test('engine: idempotent — a confirmed address is not sent again; force sends it; a new address is sent', async () => {
  const s = setup();
  const r1 = await s.engine.update(updateRequest({ hostnames: H, addresses: { ...V4, ipv6: '2001:db8::7' } }));
  assert.deepEqual(statuses(r1), ['home.example.com/ipv4:updated', 'home.example.com/ipv6:updated']);
  assert.equal(s.provider.calls.length, 1, 'both families in one call');
  assert.deepEqual(s.provider.calls[0].addresses, { ipv4: '203.0.113.7', ipv6: '2001:db8::7' });
  assert.equal(r1[0].attempts, 1);
  assert.equal(r1[0].message, 'good 203.0.113.7');

  const r2 = await s.engine.update(updateRequest({ hostnames: H, addresses: { ...V4, ipv6: '2001:db8::7' } }));
  assert.deepEqual(statuses(r2), ['home.example.com/ipv4:unchanged', 'home.example.com/ipv6:unchanged']);
  assert.equal(s.provider.calls.length, 1, 'steady state: nothing sent');
  assert.equal(r2[0].attempts, 0);
  assert.match(r2[0].message, /already points to 203\.0\.113\.7: nothing sent/);

  // only the family that changed is sent
  const r3 = await s.engine.update(
    updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8', ipv6: '2001:db8::7' } }),
  );
  assert.deepEqual(statuses(r3), ['home.example.com/ipv4:updated', 'home.example.com/ipv6:unchanged']);
  assert.deepEqual(s.provider.calls[1].addresses, { ipv4: '203.0.113.8' });

  s.provider.answers = [answerAll('unchanged')];
  const r4 = await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8' }, force: true }));
  assert.deepEqual(statuses(r4), ['home.example.com/ipv4:unchanged']);
  assert.equal(s.provider.calls.length, 3, 'force sends a known address');
  assert.equal(r4[0].message, 'nochg 203.0.113.8');
  s.engine.stop();
  assert.equal(s.clock.pending, 0);
});

test('engine: restart with the saved state sends nothing; other account settings start afresh', async () => {
  const store = new MemoryStore();
  const a = setup({ store });
  await a.engine.update(updateRequest({ hostnames: ['a.example.com', 'b.example.com'], addresses: V4 }));
  assert.equal(a.provider.calls.length, 1);
  a.engine.stop();

  const b = setup({ store });
  const r = await b.engine.update(updateRequest({ hostnames: ['a.example.com', 'b.example.com'], addresses: V4 }));
  assert.deepEqual(
    r.map((x) => x.status),
    ['unchanged', 'unchanged'],
  );
  assert.equal(b.provider.calls.length, 0, 'no request after a restart');
  b.engine.stop();

  const c = setup({ store, accountKey: 'acct-2' });
  const rc = await c.engine.update(updateRequest({ hostnames: ['a.example.com'], addresses: V4 }));
  assert.equal(rc[0].status, 'updated');
  assert.equal(c.provider.calls.length, 1, 'changed account settings: written once');
  c.engine.stop();
});

test('engine: first run reads before writing where the provider can read; without a read, one write', async () => {
  // record already right: read, nothing written
  const p1 = new TestProvider(20, { 'home.example.com|ipv4': ['203.0.113.7'] });
  const s1 = setup({ provider: p1 });
  const r1 = await s1.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(r1[0].status, 'unchanged');
  assert.match(r1[0].message, /read from the provider/);
  assert.equal(p1.reads.length, 1);
  assert.equal(p1.calls.length, 0);
  await s1.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(p1.reads.length, 1, 'read once');
  s1.engine.stop();

  // record differs (or holds two addresses): read, then written; a later change is not read again
  const p2 = new TestProvider(20, { 'home.example.com|ipv4': ['203.0.113.7', '203.0.113.9'] });
  const s2 = setup({ provider: p2 });
  const r2 = await s2.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(r2[0].status, 'updated');
  assert.equal(p2.reads.length, 1);
  assert.equal(p2.calls.length, 1);
  await s2.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.10' } }));
  assert.equal(p2.reads.length, 1);
  assert.equal(p2.calls.length, 2);
  // force does not read
  await s2.engine.update(updateRequest({ hostnames: ['other.example.com'], addresses: V4, force: true }));
  assert.equal(p2.reads.length, 1);
  s2.engine.stop();

  // no read: one write, whose "nochg" answer is reported as unchanged and remembered
  const p3 = new TestProvider();
  p3.answers = [answerAll('unchanged')];
  const s3 = setup({ provider: p3 });
  assert.equal((await s3.engine.update(updateRequest({ hostnames: H, addresses: V4 })))[0].status, 'unchanged');
  assert.equal((await s3.engine.update(updateRequest({ hostnames: H, addresses: V4 })))[0].status, 'unchanged');
  assert.equal(p3.calls.length, 1);
  s3.engine.stop();
});

test('engine: transient failures retry on the engine timer with exponential backoff, never before Retry-After', async () => {
  const s = setup();
  const t0 = s.clock.now();
  s.provider.answers = [
    transient('The server did not answer within 10 s.', { code: 'timeout' }),
    transient('The server answered 503.', { code: 'http_503' }),
    answerAll(),
  ];
  const r = await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(r[0].status, 'failed');
  assert.equal(r[0].reason, 'timeout');
  assert.equal(r[0].nextRetryAt, new Date(t0 + 30_000).toISOString(), 'first retry after the base delay');
  assert.equal(s.later.length, 0);

  // a msg in between does not send: the retry is already scheduled
  const mid = await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(mid[0].status, 'skipped');
  assert.equal(mid[0].reason, 'retry-pending');
  assert.equal(s.provider.calls.length, 1);

  await s.clock.advance(29_999);
  assert.equal(s.provider.calls.length, 1);
  await s.clock.advance(1);
  assert.equal(s.provider.calls.length, 2);
  assert.equal(s.later[0][0].status, 'failed');
  assert.equal(s.later[0][0].attempts, 2);
  assert.equal(s.later[0][0].nextRetryAt, new Date(t0 + 30_000 + 60_000).toISOString(), 'doubled');
  await s.clock.advance(60_000);
  assert.equal(s.provider.calls.length, 3);
  assert.equal(s.later[1][0].status, 'updated');
  assert.equal(s.later[1][0].attempts, 3);
  assert.equal(s.clock.pending, 0, 'no timer left once done');

  // Retry-After (No-IP: 30 minutes after 911) beats the backoff
  s.provider.answers = [
    transient('911: server trouble; retry in 30 minutes.', { code: '911', retryAfterMs: 30 * 60_000 }),
    answerAll(),
  ];
  const t1 = s.clock.now();
  const r2 = await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8' } }));
  assert.equal(r2[0].nextRetryAt, new Date(t1 + 30 * 60_000).toISOString());
  await s.clock.advance(30 * 60_000 - 1);
  assert.equal(s.provider.calls.length, 4);
  await s.clock.advance(1);
  assert.equal(s.provider.calls.length, 5);
  assert.equal(s.later[2][0].status, 'updated');
  s.engine.stop();
});

test('engine: a failed write is never remembered; an account-wide wait delays every name', async () => {
  const s = setup();
  await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  s.provider.answers = [transient('timeout', { code: 'timeout' }), answerAll()];
  await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8' } }));
  // the address flaps back to the old one: its state is unknown after the failure, so it is written
  const back = await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(back[0].status, 'skipped');
  await s.clock.advance(30_000);
  assert.deepEqual(s.provider.calls.at(-1)!.addresses, V4);
  assert.equal(s.later[0][0].status, 'updated');
  s.engine.stop();

  // 429 for the whole account: other names wait too
  const a = setup();
  a.provider.answers = [
    transient('Too many requests.', { code: 'http_429', retryAfterMs: 300_000, scope: 'account' }),
    answerAll(),
  ];
  await a.engine.update(updateRequest({ hostnames: ['a.example.com'], addresses: V4 }));
  const other = await a.engine.update(updateRequest({ hostnames: ['b.example.com'], addresses: V4 }));
  assert.equal(other[0].status, 'skipped');
  assert.equal(other[0].reason, 'account-wait');
  assert.equal(a.provider.calls.length, 1);
  await a.clock.advance(300_000);
  assert.equal(a.provider.calls.length, 2, 'both names in one call after the wait');
  assert.deepEqual(a.provider.calls[1].hostnames, ['a.example.com', 'b.example.com']);
  a.engine.stop();
});

test('engine: an account-wide wait also holds the later calls of the same run (one name per call)', async () => {
  // Found by the fuzz tests (test/core/fuzz/engine.fuzz.test.ts): with one name per call (DuckDNS,
  // Cloudflare), a 429 for the first name did not stop the engine from calling again for the next
  // names of the same update, inside the wait the provider had just ordered.
  const s = setup({ provider: new TestProvider(1) });
  s.provider.answers = [
    transient('Too many requests.', { code: 'http_429', retryAfterMs: 300_000, scope: 'account' }),
    answerAll(),
  ];
  const names = ['a.example.com', 'b.example.com', 'c.example.com'];
  const first = await s.engine.update(updateRequest({ hostnames: names, addresses: V4 }));
  assert.equal(s.provider.calls.length, 1, 'one request, then the wait');
  assert.deepEqual(
    first.map((r) => `${r.status}/${r.reason}`),
    ['failed/http_429', 'skipped/account-wait', 'skipped/account-wait'],
  );
  await s.clock.advance(299_999);
  assert.equal(s.provider.calls.length, 1, 'nothing inside the wait');
  await s.clock.advance(1);
  assert.deepEqual(
    s.provider.calls.map((c) => c.hostnames.join()),
    ['a.example.com', 'a.example.com', 'b.example.com', 'c.example.com'],
  );
  s.engine.stop();

  // The same for the reads made before a first write (Cloudflare blocks reads as well).
  const r = setup({ provider: new TestProvider(1, {}) });
  let reads = 0;
  r.provider.getAddresses = async () => {
    reads++;
    throw transient('Too many requests.', { code: 'http_429', retryAfterMs: 300_000, scope: 'account' });
  };
  const held = await r.engine.update(updateRequest({ hostnames: names, addresses: V4 }));
  assert.equal(reads, 1, 'one read, then the wait');
  assert.equal(r.provider.calls.length, 0);
  assert.deepEqual(
    held.map((x) => x.reason),
    ['http_429', 'account-wait', 'account-wait'],
  );
  r.engine.stop();
});

test('engine: a newer address replaces a pending retry (sent once, at the scheduled time)', async () => {
  const s = setup();
  s.provider.answers = [transient('timeout', { code: 'timeout' }), answerAll()];
  await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  const r = await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.99' } }));
  assert.equal(r[0].status, 'skipped');
  assert.equal(r[0].address, '203.0.113.99');
  assert.equal(r[0].reason, 'retry-pending');
  assert.equal(s.provider.calls.length, 1);
  await s.clock.advance(30_000);
  assert.equal(s.provider.calls.length, 2);
  assert.deepEqual(s.provider.calls[1].addresses, { ipv4: '203.0.113.99' });
  assert.equal(s.later[0][0].address, '203.0.113.99');
  assert.equal(s.later[0][0].attempts, 1, 'attempts count for the new address');
  await s.clock.advance(3_600_000);
  assert.equal(s.provider.calls.length, 2);
  s.engine.stop();
});

test('engine: a fatal answer stops the account — exactly one request — until reset', async () => {
  const s = setup({ provider: new TestProvider(1) });
  // a pending retry for another name exists before the fatal answer
  s.provider.answers = [
    transient('timeout', { code: 'timeout' }),
    fatal('badauth: the user name or password is wrong.', { code: 'badauth', scope: 'account' }),
    answerAll(),
  ];
  await s.engine.update(updateRequest({ hostnames: ['z.example.com'], addresses: V4 }));
  assert.equal(s.clock.pending, 1);

  const r = await s.engine.update(
    updateRequest({ hostnames: ['a.example.com', 'b.example.com', 'c.example.com'], addresses: V4 }),
  );
  assert.equal(s.provider.calls.length, 2, 'the later batches are not sent');
  assert.deepEqual(
    r.map((x) => x.status),
    ['failed', 'skipped', 'skipped'],
  );
  assert.equal(r[0].stopped, true);
  assert.equal(r[0].reason, 'badauth');
  assert.equal(r[1].reason, 'stopped');
  assert.match(r[1].message, /stopped since the provider answered "badauth/);
  assert.equal(s.clock.pending, 0, 'pending retries are cancelled');
  assert.equal(s.alerts.length, 1);
  assert.equal(s.alerts[0].state, 'failing');

  // nothing more, whatever comes: new addresses, force, time
  const again = await s.engine.update(
    updateRequest({ hostnames: ['a.example.com', 'd.example.com'], addresses: { ipv4: '203.0.113.8' }, force: true }),
  );
  assert.deepEqual(
    again.map((x) => x.status),
    ['skipped', 'skipped'],
  );
  await s.clock.advance(24 * 3_600_000);
  assert.equal(s.provider.calls.length, 2);
  assert.equal(s.alerts.length, 1, 'one alert, not one per msg');

  // reset: the held addresses go out (the newest ones), in batches
  const rr = await s.engine.reset();
  assert.equal(rr.length, 5);
  assert.ok(
    rr.every((x) => x.status === 'updated'),
    JSON.stringify(rr),
  );
  const sent = s.provider.calls
    .slice(2)
    .map((c) => `${c.hostnames[0]}=${c.addresses.ipv4}`)
    .sort();
  assert.deepEqual(sent, [
    'a.example.com=203.0.113.8',
    'b.example.com=203.0.113.7',
    'c.example.com=203.0.113.7',
    'd.example.com=203.0.113.8',
    'z.example.com=203.0.113.7',
  ]);
  assert.equal(s.alerts.length, 2);
  assert.equal(s.alerts[1].state, 'recovered');
  assert.equal(s.alerts[1].code, 'badauth');
  s.engine.stop();
});

test('engine: a host-scoped fatal answer stops that name only; the stop survives a restart but not a config change', async () => {
  const store = new MemoryStore();
  const p = new TestProvider();
  p.answers = [
    (call) =>
      call.hostnames.map((hostname) =>
        hostname === 'gone.example.com'
          ? {
              hostname,
              family: 'ipv4' as Family,
              outcome: 'failed' as const,
              message: 'nohost',
              error: fatal('nohost: this name does not exist in the account.', { code: 'nohost' }),
            }
          : { hostname, family: 'ipv4' as Family, outcome: 'updated' as const, message: 'good' },
      ),
  ];
  const s = setup({ provider: p, store, configKey: 'names-1' });
  const r = await s.engine.update(updateRequest({ hostnames: ['gone.example.com', 'ok.example.com'], addresses: V4 }));
  assert.deepEqual(
    r.map((x) => x.status),
    ['failed', 'updated'],
  );
  assert.equal(r[0].stopped, true);
  const r2 = await s.engine.update(
    updateRequest({ hostnames: ['gone.example.com', 'ok.example.com'], addresses: { ipv4: '203.0.113.8' } }),
  );
  assert.deepEqual(
    r2.map((x) => x.status),
    ['skipped', 'updated'],
  );
  assert.deepEqual(p.calls[1].hostnames, ['ok.example.com']);
  s.engine.stop();

  // restart, same configuration: still stopped, no request for it
  const p2 = new TestProvider();
  const s2 = setup({ provider: p2, store, configKey: 'names-1' });
  const r3 = await s2.engine.update(updateRequest({ hostnames: ['gone.example.com'], addresses: V4 }));
  assert.equal(r3[0].status, 'skipped');
  assert.equal(p2.calls.length, 0);
  s2.engine.stop();

  // the caller's configuration changed: the stop is gone
  const p3 = new TestProvider();
  const s3 = setup({ provider: p3, store, configKey: 'names-2' });
  const r4 = await s3.engine.update(updateRequest({ hostnames: ['gone.example.com'], addresses: V4 }));
  assert.equal(r4[0].status, 'updated');
  assert.equal(p3.calls.length, 1);
  s3.engine.stop();
});

test('engine: the account stop is shared through the gate, persisted, and cleared by new account settings', async () => {
  const store = new MemoryStore();
  const gate = new AccountGate();
  const p = new TestProvider();
  p.answers = [fatal('badauth', { code: 'badauth', scope: 'account' })];
  const a = setup({ provider: p, store, gate });
  await a.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.ok(gate.stop);

  // another user of the same account sends nothing; when the first one resets, its held name goes out
  const p2 = new TestProvider();
  const b = setup({ provider: p2, gate, clock: a.clock });
  const rb = await b.engine.update(updateRequest({ hostnames: ['other.example.com'], addresses: V4 }));
  assert.equal(rb[0].status, 'skipped');
  assert.equal(p2.calls.length, 0);
  a.engine.stop();

  // restart of the first (new gate, as after a redeploy of the same settings): still stopped
  const gate2 = new AccountGate();
  const p3 = new TestProvider();
  const c = setup({ provider: p3, store, gate: gate2 });
  assert.equal((await c.engine.update(updateRequest({ hostnames: H, addresses: V4 })))[0].status, 'skipped');
  assert.equal(p3.calls.length, 0);
  c.engine.stop();

  // new account settings (another accountKey): works again
  const p4 = new TestProvider();
  const d = setup({ provider: p4, store, gate: new AccountGate(), accountKey: 'acct-fixed' });
  assert.equal((await d.engine.update(updateRequest({ hostnames: H, addresses: V4 })))[0].status, 'updated');
  d.engine.stop();

  // the shared gate cleared elsewhere: b sends what it held
  gate.clear();
  await b.clock.advance(0);
  assert.equal(p2.calls.length, 1);
  assert.equal(b.later[0][0].status, 'updated');
  b.engine.stop();
});

/**
 * Two engines on one guarded provider (what ddns-account's getProvider() gives every user of the
 * account): a's request is on its way and ends in `first`; b's update comes while it waits.
 */
async function queuedBehind(first: DdnsError) {
  const clock = new FakeClock();
  const gate = new AccountGate();
  const inner = new TestProvider();
  let answerFirst!: () => void;
  const firstAnswered = new Promise<void>((r) => (answerFirst = r));
  inner.answers = [
    async () => {
      await firstAnswered;
      throw first;
    },
    answerAll(),
  ];
  const provider = guardProvider(inner, gate, { label: 'Shared account', now: clock.now });
  const a = setup({ provider: provider as TestProvider, clock });
  const b = setup({ provider: provider as TestProvider, clock });
  const ra = a.engine.update(updateRequest({ hostnames: ['a.example.com'], addresses: V4 }));
  await settle();
  assert.equal(inner.calls.length, 1, 'the first request is on its way');
  const rb = b.engine.update(updateRequest({ hostnames: ['b.example.com'], addresses: V4 }));
  await settle();
  assert.equal(inner.calls.length, 1, 'the second waits its turn');
  answerFirst();
  const [resA, resB] = await Promise.all([ra, rb]);
  return { gate, inner, provider, clock, a, b, resA, resB };
}

test('account stop: two engines on one guarded provider; a call queued behind a fatal account answer is never sent', async () => {
  const { gate, inner, provider, a, b, resA, resB } = await queuedBehind(
    fatal('badauth: the credentials are wrong.', { code: 'badauth', scope: 'account' }),
  );
  assert.equal(gateOf(provider), gate);
  assert.equal(guardProvider(provider, gate), provider, 'guarding twice changes nothing');
  assert.equal(resA[0].status, 'failed');
  assert.equal(resA[0].stopped, true);
  assert.equal(gate.stop?.code, 'badauth', 'the provider stopped the account itself');
  assert.equal(inner.calls.length, 1, 'no second request after the fatal account answer');
  assert.equal(resB[0].status, 'skipped');
  assert.equal(resB[0].reason, 'stopped');
  assert.equal(resB[0].stopped, true);
  assert.equal(resB[0].cause, 'badauth');
  assert.equal(resB[0].attempts, 0, 'nothing was sent for it');
  assert.equal(b.clock.pending, 0, 'held, not retried');
  // the stopped provider refuses any call without a request, for any user (cert-renew's TXT calls too)
  await assert.rejects(
    provider.setAddresses(providerCall({ hostnames: ['c.example.com'], addresses: V4 })),
    (e: unknown) => e instanceof AccountStoppedError && e.kind === 'fatal' && /Shared account/.test(e.message),
  );
  assert.equal(inner.calls.length, 1);
  // lifting the stop (msg.reset on one node) lets the other send what it held
  await a.engine.reset();
  await settle();
  assert.ok(inner.calls.some((c) => c.hostnames[0] === 'b.example.com'));
  a.engine.stop();
  b.engine.stop();
});

test('engine: the minimum interval delays (never drops) a write of the same record', async () => {
  const s = setup({ minIntervalMs: 60_000 });
  const t0 = s.clock.now();
  await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  await s.clock.advance(10_000);
  const r = await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8' } }));
  assert.equal(r[0].status, 'skipped');
  assert.equal(r[0].reason, 'min-interval');
  assert.equal(r[0].nextRetryAt, new Date(t0 + 60_000).toISOString());
  await s.clock.advance(10_000);
  await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.9' } }));
  assert.equal(s.provider.calls.length, 1);
  await s.clock.advance(40_000);
  assert.equal(s.provider.calls.length, 2, 'sent when the interval ends');
  assert.deepEqual(s.provider.calls[1].addresses, { ipv4: '203.0.113.9' }, 'the newest address');
  assert.equal(s.later[0][0].status, 'updated');

  // flapping back to the record's address inside the interval: nothing to send at all
  await s.clock.advance(5_000);
  await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.10' } }));
  const back = await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.9' } }));
  assert.equal(back[0].status, 'unchanged');
  await s.clock.advance(120_000);
  assert.equal(s.provider.calls.length, 2);
  assert.equal(s.clock.pending, 0);
  s.engine.stop();
});

test('engine: names are batched per maxHostsPerCall and grouped by the addresses they need', async () => {
  const p = new TestProvider(2);
  const s = setup({ provider: p });
  const names = ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com', 'e.example.com'];
  const r = await s.engine.update(updateRequest({ hostnames: names, addresses: V4 }));
  assert.equal(r.length, 5);
  assert.deepEqual(
    p.calls.map((c) => c.hostnames),
    [['a.example.com', 'b.example.com'], ['c.example.com', 'd.example.com'], ['e.example.com']],
  );

  // a and b now need IPv4 and IPv6, the others only IPv6 (their IPv4 is known)
  await s.engine.update(
    updateRequest({
      hostnames: ['c.example.com', 'd.example.com', 'e.example.com'],
      addresses: { ipv6: '2001:db8::1' },
    }),
  );
  p.calls = [];
  await s.engine.update(updateRequest({ hostnames: names, addresses: { ipv4: '203.0.113.8', ipv6: '2001:db8::1' } }));
  assert.deepEqual(
    p.calls.map((c) => [c.hostnames, c.addresses]),
    [
      [['a.example.com', 'b.example.com'], { ipv4: '203.0.113.8', ipv6: '2001:db8::1' }],
      [['c.example.com', 'd.example.com'], { ipv4: '203.0.113.8' }],
      [['e.example.com'], { ipv4: '203.0.113.8' }],
    ],
  );
  s.engine.stop();
});

test('engine: alerts on transitions only (N consecutive failures → failing; success → recovered)', async () => {
  const s = setup({ alertAfter: 2 });
  s.provider.answers = [
    transient('timeout', { code: 'timeout' }),
    transient('timeout', { code: 'timeout' }),
    transient('timeout', { code: 'timeout' }),
    answerAll(),
  ];
  await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(s.alerts.length, 0, 'one failure is no alert');
  await s.clock.advance(30_000);
  assert.equal(s.alerts.length, 1);
  assert.deepEqual(
    { ...s.alerts[0], since: '' },
    { state: 'failing', account: 'Test account', error: 'timeout', code: 'timeout', since: '' },
  );
  assert.equal(s.alerts[0].since, new Date(s.clock.now()).toISOString());
  await s.clock.advance(60_000);
  assert.equal(s.alerts.length, 1, 'no repeat while failing');
  await s.clock.advance(120_000);
  assert.equal(s.alerts.length, 2);
  assert.equal(s.alerts[1].state, 'recovered');
  await s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8' } }));
  assert.equal(s.alerts.length, 2, 'no alert while working');
  s.engine.stop();
});

test('engine: the failing state survives a restart (no second failing alert; recovered is still sent)', async () => {
  const store = new MemoryStore();
  const a = setup({ store, alertAfter: 1 });
  a.provider.answers = [transient('timeout', { code: 'timeout' })];
  await a.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(a.alerts.length, 1);
  a.engine.stop();
  const b = setup({ store, alertAfter: 1 });
  b.provider.answers = [transient('timeout', { code: 'timeout' }), answerAll()];
  // the saved retry still waits: nothing is sent before it is due
  const held = await b.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(held[0].reason, 'retry-pending');
  assert.equal(b.provider.calls.length, 0);
  await b.clock.advance(30_000);
  assert.equal(b.provider.calls.length, 1);
  assert.equal(b.alerts.length, 0, 'no second failing alert');
  await b.clock.advance(60_000);
  assert.deepEqual(
    b.alerts.map((x) => x.state),
    ['recovered'],
  );
  b.engine.stop();
});

test('engine: invalid input throws an input error and sends nothing', async () => {
  // refused where the request is parsed (dns-update's input, the boundary), before the engine
  const s = setup();
  await assert.rejects(
    async () => s.engine.update(updateRequest({ hostnames: ['bad_name!.example.com'], addresses: V4 })),
    (e: DdnsError) =>
      e.kind === 'input' && /Invalid host name: "bad_name!.example.com" is not a valid host name/.test(e.message),
  );
  await assert.rejects(
    async () => s.engine.update(updateRequest({ hostnames: ['single'], addresses: V4 })),
    /not a full host name/,
  );
  await assert.rejects(
    async () => s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '2001:db8::1' } })),
    /IPv6 address where an IPv4 address was expected/,
  );
  await assert.rejects(
    async () => s.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.300' } })),
    /not an IP address/,
  );
  assert.equal(s.provider.calls.length, 0);
  // names are normalised
  const r = await s.engine.update(
    updateRequest({ hostnames: ['Home.Example.COM.', 'home.example.com'], addresses: V4 }),
  );
  assert.deepEqual(
    r.map((x) => x.hostname),
    ['home.example.com'],
  );
  s.engine.stop();
});

test('engine: input errors of a name are not retried; secrets never reach a result', async () => {
  const p = new TestProvider();
  p.answers = [
    (call) => [
      {
        hostname: call.hostnames[0],
        family: 'ipv4',
        outcome: 'failed',
        message: 'notfqdn',
        error: new DdnsError('input', 'notfqdn', { code: 'notfqdn' }),
      },
    ],
    new Error('request to https://x/u/s3cr3t-token/?token=s3cr3t-token failed'),
  ];
  const s = setup({ provider: p, redactor: new Redactor(['s3cr3t-token']) });
  const r = await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(r[0].status, 'failed');
  assert.equal(r[0].nextRetryAt, undefined);
  assert.equal(s.clock.pending, 0);
  const r2 = await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(r2[0].status, 'failed');
  assert.doesNotMatch(JSON.stringify(r2), /s3cr3t/);
  assert.match(r2[0].message, /\*\*\*/);
  s.engine.stop();
});

test('engine: stop() clears every timer and drops the result of a running request', async () => {
  const s = setup();
  s.provider.answers = [transient('timeout', { code: 'timeout' })];
  await s.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(s.clock.pending, 1);
  s.engine.stop();
  assert.equal(s.clock.pending, 0);
  await assert.rejects(async () => s.engine.update(updateRequest({ hostnames: H, addresses: V4 })), /stopped/);

  // a request in flight is aborted through its signal
  let signal: AbortSignal | undefined;
  const p = new TestProvider();
  p.answers = [
    (call) =>
      new Promise((_, reject) => {
        signal = call.signal;
        if (!signal) return reject(new Error('no signal'));
        signal.addEventListener('abort', () => reject(signal!.reason));
      }),
  ];
  const b = setup({ provider: p });
  const running = b.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  await new Promise((r) => setImmediate(r));
  b.engine.stop();
  const out = await running;
  assert.deepEqual(out, []);
  assert.equal(signal?.aborted, true);
  assert.equal(b.clock.pending, 0);
  assert.equal(b.later.length, 0);
});

test('engine with the dry-run provider: reports what it would send, remembers it, sends nothing', async () => {
  const provider = dryrun.create(dryrun.settings.parse({}), {});
  assert.equal(dryrun.txt, false);
  const clock = new FakeClock();
  const engine = new UpdateEngine({ provider, accountKey: 'dry', clock, minIntervalMs: 0 });
  const r1 = await engine.update(updateRequest({ hostnames: H, addresses: { ...V4, ipv6: '2001:db8::7' } }));
  assert.deepEqual(
    r1.map((x) => x.status),
    ['updated', 'updated'],
  );
  assert.equal(r1[0].message, 'dry run: would set the A record of home.example.com to 203.0.113.7 (nothing sent)');
  assert.equal(r1[1].message, 'dry run: would set the AAAA record of home.example.com to 2001:db8::7 (nothing sent)');
  const r2 = await engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(r2[0].status, 'unchanged');
  const r3 = await engine.update(updateRequest({ hostnames: H, addresses: V4, force: true }));
  assert.equal(r3[0].status, 'unchanged');
  assert.match(r3[0].message, /dry run: the A record of home\.example\.com already holds 203\.0\.113\.7/);
  // a new engine on the same provider instance (no saved state) reads it first
  const engine2 = new UpdateEngine({ provider, accountKey: 'dry', clock, minIntervalMs: 0 });
  const r4 = await engine2.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(r4[0].status, 'unchanged');
  assert.match(r4[0].message, /read from the provider/);
  engine.stop();
  engine2.stop();
  assert.equal(clock.pending, 0);
});

test('names: full host names, normalised; addresses checked per family', () => {
  assert.deepEqual(parseHostnames('Home.Example.com., *.example.com\nwww.example.com;www.example.com'), [
    'home.example.com',
    '*.example.com',
    'www.example.com',
  ]);
  assert.deepEqual(parseHostnames(['bücher.example.de']), ['xn--bcher-kva.example.de']);
  assert.equal(normaliseHostname('-bad.example.com').ok, false);
  assert.equal(normaliseHostname(`${'a'.repeat(64)}.example.com`).ok, false);
  assert.equal(normaliseHostname('1.2.3.4').ok, false);
  assert.equal(normaliseHostname('a..example.com').ok, false);
  assert.throws(
    () => parseHostnames('ok.example.com, x y'),
    /"x" is not a full host name.*"y" is not a full host name/,
  );
  assert.deepEqual(checkAddresses({ ipv4: ' 203.0.113.7 ', ipv6: '2001:DB8::0:7' }), {
    ipv4: '203.0.113.7',
    ipv6: '2001:db8::7',
  });
  assert.deepEqual(checkAddresses({ ipv4: null }), {});
  assert.throws(() => checkAddresses({ ipv4: '0.0.0.0' }), /Invalid IPv4 address/);
  assert.throws(() => checkAddresses({ ipv6: 42 }), /must be text/);
});

test('summary: ok and the status line (last result per name)', () => {
  const r = (hostname: string, status: UpdateResult['status'], extra: Partial<UpdateResult> = {}): UpdateResult => ({
    hostname,
    family: 'ipv4',
    status,
    address: '203.0.113.7',
    message: '',
    attempts: 1,
    ms: 1,
    ...extra,
  });
  assert.equal(
    resultsOk([
      r('a.example.com', 'updated'),
      r('b.example.com', 'skipped', { reason: 'min-interval', nextRetryAt: '2025-01-01T12:01:00Z' }),
    ]),
    true,
  );
  assert.equal(resultsOk([r('a.example.com', 'skipped', { reason: 'stopped', stopped: true })]), false);
  assert.equal(resultsOk([r('a.example.com', 'failed', { nextRetryAt: '2025-01-01T12:01:00Z' })]), false);
  const one = new Map([
    [
      'home.example.com',
      [
        r('home.example.com', 'updated'),
        { ...r('home.example.com', 'unchanged'), family: 'ipv6' as Family, address: '2001:db8::7' },
      ],
    ],
  ]);
  assert.deepEqual(statusLine(one), {
    fill: 'green',
    shape: 'dot',
    text: 'home.example.com ✓ 203.0.113.7 2001:db8::7',
  });
  const retry = new Map([
    [
      'home.example.com',
      [r('home.example.com', 'failed', { reason: 'timeout', nextRetryAt: new Date(2025, 0, 1, 12, 30).toISOString() })],
    ],
  ]);
  assert.deepEqual(statusLine(retry), {
    fill: 'yellow',
    shape: 'ring',
    text: 'home.example.com ✗ timeout, retry 12:30',
  });
  const many = new Map([
    ['a.example.com', [r('a.example.com', 'updated')]],
    ['b.example.com', [r('b.example.com', 'failed', { reason: 'badauth', stopped: true, cause: 'badauth' })]],
    ['c.example.com', [r('c.example.com', 'unchanged')]],
  ]);
  assert.deepEqual(statusLine(many), {
    fill: 'red',
    shape: 'ring',
    text: 'b.example.com stopped: wrong login · 2/3 ✓',
  });
  many.delete('b.example.com');
  assert.equal(statusLine(many)?.text, '2 names ✓ 203.0.113.7');
});

// ------------------------------------------------------------------ state across restarts

/** The saved state document, as a test reads it. */
const savedDoc = (store: MemoryStore) =>
  store.doc as {
    v: number;
    notBefore?: number;
    pending: Record<string, { address: string; dueAt?: number; wait?: string; failures: number }>;
    stops: { account?: { code: string }; accountOwn?: boolean; hosts: Record<string, unknown> };
  };

test('engine: a pending retry and the account wait survive a restart — nothing before the wait ends, one request after', async () => {
  const store = new MemoryStore();
  const a = setup({ store });
  const t0 = a.clock.now();
  // No-IP 911 / a 429: the whole account must wait 30 minutes
  a.provider.answers = [
    transient('911: server trouble; retry in 30 minutes.', {
      code: '911',
      retryAfterMs: 30 * 60_000,
      scope: 'account',
    }),
  ];
  const r = await a.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(r[0].status, 'failed');
  assert.equal(r[0].nextRetryAt, new Date(t0 + 30 * 60_000).toISOString());
  assert.equal(a.provider.calls.length, 1);
  const doc = savedDoc(store);
  assert.equal(doc.v, 2);
  assert.equal(doc.notBefore, t0 + 30 * 60_000);
  assert.deepEqual(
    { ...doc.pending['home.example.com|ipv4'], error: undefined },
    {
      address: '203.0.113.7',
      dueAt: t0 + 30 * 60_000,
      wait: 'retry',
      failures: 1,
      attempts: 1,
      force: undefined,
      error: undefined,
    },
  );
  a.engine.stop();

  // restart: a new engine (new gate, new provider) on the same store
  const b = setup({ store, clock: a.clock, gate: new AccountGate() });
  await a.clock.advance(60_000);
  const restored = await b.engine.start();
  assert.deepEqual(
    restored.map((x) => [x.hostname, x.status, x.reason, x.nextRetryAt]),
    [['home.example.com', 'skipped', 'retry-pending', new Date(t0 + 30 * 60_000).toISOString()]],
  );
  assert.match(restored[0].message, /911: server trouble/, 'the last error is remembered');
  assert.equal(b.clock.pending, 1, 'the timer is armed again');
  const same = await b.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8' } }));
  assert.equal(same[0].status, 'skipped');
  assert.equal(same[0].reason, 'retry-pending');
  const other = await b.engine.update(
    updateRequest({ hostnames: ['b.example.com'], addresses: { ipv4: '203.0.113.8' } }),
  );
  assert.equal(other[0].reason, 'account-wait', 'the account wait holds for every name');
  assert.equal(other[0].nextRetryAt, new Date(t0 + 30 * 60_000).toISOString());
  await b.clock.advance(t0 + 30 * 60_000 - 1 - b.clock.now());
  assert.equal(b.provider.calls.length, 0, 'nothing before the wait ends');
  await b.clock.advance(1);
  assert.equal(b.provider.calls.length, 1, 'exactly one request when it ends');
  assert.deepEqual(b.provider.calls[0], {
    hostnames: ['home.example.com', 'b.example.com'],
    addresses: { ipv4: '203.0.113.8' },
  });
  assert.deepEqual(
    b.later[0].map((x) => `${x.hostname}:${x.status}`),
    ['home.example.com:updated', 'b.example.com:updated'],
  );
  assert.deepEqual(savedDoc(store).pending, {});
  assert.equal(savedDoc(store).notBefore, undefined);
  await b.clock.advance(24 * 3_600_000);
  assert.equal(b.provider.calls.length, 1);
  b.engine.stop();
});

test('engine: a restored wait whose time passed during the restart is sent at start; a held address waits for reset', async () => {
  const store = new MemoryStore();
  const a = setup({ store, minIntervalMs: 60_000 });
  await a.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  const delayed = await a.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8' } }));
  assert.equal(delayed[0].reason, 'min-interval');
  a.provider.answers = [fatal('nohost', { code: 'nohost' })];
  await a.engine.update(updateRequest({ hostnames: ['gone.example.com'], addresses: V4 }));
  a.engine.stop();
  await a.clock.advance(120_000); // Node-RED was down longer than the delay

  const b = setup({ store, clock: a.clock, minIntervalMs: 60_000 });
  const restored = await b.engine.start();
  assert.deepEqual(
    restored.map((x) => `${x.hostname}:${x.reason}`),
    ['home.example.com:min-interval', 'gone.example.com:stopped'],
  );
  await b.clock.advance(0);
  assert.deepEqual(b.provider.calls, [{ hostnames: ['home.example.com'], addresses: { ipv4: '203.0.113.8' } }]);
  assert.equal(b.later[0][0].status, 'updated');
  // the stopped name's address was kept across the restart and goes out on reset
  const rr = await b.engine.reset();
  assert.deepEqual(
    rr.map((x) => `${x.hostname}:${x.status}:${x.address}`),
    ['gone.example.com:updated:203.0.113.7'],
  );
  assert.equal(b.provider.calls.length, 2);
  b.engine.stop();
});

test('engine: a version 1 document is still read (records and stops)', async () => {
  const store = new MemoryStore();
  store.doc = {
    v: 1,
    accountKey: 'acct-1',
    configKey: 'names-1',
    records: { 'home.example.com|ipv4': { address: '203.0.113.7', at: Date.UTC(2024, 0, 1) } },
    stops: { hosts: { 'gone.example.com': { code: 'nohost', message: 'nohost', since: 1 } } },
  };
  const s = setup({ store, configKey: 'names-1' });
  assert.deepEqual(await s.engine.start(), []);
  const r = await s.engine.update(updateRequest({ hostnames: [...H, 'gone.example.com'], addresses: V4 }));
  assert.deepEqual(
    r.map((x) => `${x.status}:${x.reason ?? ''}`),
    ['unchanged:', 'skipped:stopped'],
  );
  assert.equal(s.provider.calls.length, 0);
  assert.equal(savedDoc(store).v, 2);
  assert.deepEqual(Object.keys(savedDoc(store).pending), ['gone.example.com|ipv4']);
  s.engine.stop();
});

test('engine: a changed configuration starts afresh, whatever the scope of the stop; another caller keeps its own stop', async () => {
  // DuckDNS answers KO (an account-scope stop) for a name of another account
  const store = new MemoryStore();
  const ko = () => fatal('DuckDNS refused the request (KO)', { code: 'ko', scope: 'account' });
  const a = setup({ store, configKey: 'wrong-name', gate: new AccountGate() });
  a.provider.answers = [ko()];
  await a.engine.update(updateRequest({ hostnames: ['wrong.example.com'], addresses: V4 }));
  assert.equal(a.engine.gate.stop?.code, 'ko');
  assert.equal(savedDoc(store).stops.accountOwn, true);
  a.engine.stop();

  // redeploy with the same configuration: still stopped, nothing sent
  const same = setup({ store, configKey: 'wrong-name', gate: new AccountGate() });
  const rs = await same.engine.update(updateRequest({ hostnames: ['wrong.example.com'], addresses: V4 }));
  assert.equal(rs[0].reason, 'stopped');
  assert.equal(same.provider.calls.length, 0);
  same.engine.stop();

  // the name corrected (the account node not redeployed: its gate still holds the stop)
  const liveGate = same.engine.gate;
  const fixed = setup({ store, configKey: 'right-name', gate: liveGate });
  const rf = await fixed.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  assert.equal(rf[0].status, 'updated');
  assert.equal(fixed.provider.calls.length, 1);
  assert.equal(liveGate.stop, undefined, 'its own stop is lifted from the shared gate');
  fixed.engine.stop();

  // Two callers on one account: B's request got the KO; A's configuration change does not lift it.
  const storeA = new MemoryStore();
  const storeB = new MemoryStore();
  const gate = new AccountGate();
  const clock = new FakeClock();
  const A = setup({ store: storeA, configKey: 'a-1', gate, clock });
  const B = setup({ store: storeB, configKey: 'b-1', gate, clock });
  await A.engine.update(updateRequest({ hostnames: ['a.example.com'], addresses: V4 }));
  B.provider.answers = [ko()];
  await B.engine.update(updateRequest({ hostnames: ['b.example.com'], addresses: V4 }));
  await A.engine.update(updateRequest({ hostnames: ['a.example.com'], addresses: { ipv4: '203.0.113.8' } }));
  assert.equal(savedDoc(storeA).stops.account?.code, 'ko');
  assert.equal(savedDoc(storeA).stops.accountOwn, undefined, "A saved B's stop, not as its own");
  A.engine.stop();
  B.engine.stop();
  /** A full deploy: a new gate, A then B started with these configurations. */
  const deploy = async (configA: string, configB: string) => {
    const gate = new AccountGate();
    const A = setup({ store: storeA, configKey: configA, gate, clock });
    const B = setup({ store: storeB, configKey: configB, gate, clock });
    await A.engine.start();
    const afterA = gate.stop?.code;
    await B.engine.start();
    return { gate, A, B, afterA };
  };
  // only A's configuration changed: B's stop holds for both
  const d2 = await deploy('a-2', 'b-1');
  assert.equal(d2.gate.stop?.code, 'ko');
  const ra = await d2.A.engine.update(
    updateRequest({ hostnames: ['a.example.com'], addresses: { ipv4: '203.0.113.9' } }),
  );
  assert.equal(ra[0].reason, 'stopped');
  assert.equal(d2.A.provider.calls.length + d2.B.provider.calls.length, 0);
  d2.A.engine.stop();
  d2.B.engine.stop();
  // B's configuration changed (B starts after A restored B's stop): lifted for both
  const { gate: gate3, A: A3, B: B3, afterA } = await deploy('a-2', 'b-2');
  assert.equal(afterA, 'ko');
  assert.equal(gate3.stop, undefined);
  await clock.advance(0);
  // A sends the address it held, once
  assert.deepEqual(A3.provider.calls, [{ hostnames: ['a.example.com'], addresses: { ipv4: '203.0.113.9' } }]);
  assert.equal(A3.later[0][0].status, 'updated');
  A3.engine.stop();
  B3.engine.stop();
  // a later restart does not bring the lifted stop back from A's saved copy
  const gate4 = new AccountGate();
  const A4 = setup({ store: storeA, configKey: 'a-2', gate: gate4, clock });
  await A4.engine.start();
  assert.equal(gate4.stop, undefined);
  A4.engine.stop();
});

test('engine: after a start, a record is read before its first write even when the saved state names it confirmed', async () => {
  // The store lost the last save (a crash before the flush): it names the old address, the
  // provider already holds the new one.
  const store = new MemoryStore();
  const a = setup({ store });
  await a.engine.update(updateRequest({ hostnames: H, addresses: V4 }));
  a.engine.stop();
  const p = new TestProvider(20, { 'home.example.com|ipv4': ['203.0.113.8'] });
  const b = setup({ store, provider: p });
  const r = await b.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.8' } }));
  assert.equal(r[0].status, 'unchanged');
  assert.match(r[0].message, /read from the provider/);
  assert.equal(p.reads.length, 1);
  assert.equal(p.calls.length, 0, 'no write');
  // read once per start: the next change is written without a read
  await b.engine.update(updateRequest({ hostnames: H, addresses: { ipv4: '203.0.113.9' } }));
  assert.equal(p.reads.length, 1);
  assert.equal(p.calls.length, 1);
  b.engine.stop();
});

test('engine: the account wait is shared — a call queued behind another caller’s 429 is not sent', async () => {
  const { inner, clock, a, b, resA, resB } = await queuedBehind(
    transient('Too many requests.', { code: 'http_429', retryAfterMs: 300_000, scope: 'account' }),
  );
  assert.equal(resA[0].status, 'failed');
  assert.equal(resB[0].status, 'skipped');
  assert.equal(resB[0].reason, 'account-wait');
  assert.equal(resB[0].attempts, 0);
  assert.equal(resB[0].nextRetryAt, new Date(clock.now() + 300_000).toISOString());
  assert.equal(inner.calls.length, 1, 'one request for the whole account');
  await clock.advance(300_000);
  assert.equal(inner.calls.length, 3, 'each sends once when the wait ends');
  a.engine.stop();
  b.engine.stop();
});

test('engine: an absurd Retry-After from a provider is clamped to 24 h and said so; the name is written when it ends', async () => {
  const duck = await startDuckDns({ token: 'duck-token-0123456789', domains: ['myhome'] });
  const cf = await startCloudflare({ token: 'T'.repeat(40), zones: ['example.com'] });
  try {
    const absurd = ['99999999999999999999', '9'.repeat(400), 'Fri, 31 Dec 9999 23:59:59 GMT'];
    for (const [i, value] of absurd.entries()) {
      const next = `203.0.113.${20 + i}`;
      const cases = [
        {
          provider: duckdns.create(duckdns.settings.parse({ token: 'duck-token-0123456789', endpoint: duck.url }), {}),
          name: 'myhome.duckdns.org',
          fail: () => duck.failNext({ status: 503, body: 'Service Unavailable', headers: { 'retry-after': value } }),
          requests: () => duck.requests.length,
        },
        {
          provider: cloudflare.create(cloudflare.settings.parse({ token: 'T'.repeat(40), endpoint: cf.url }), {}),
          name: 'home.example.com',
          fail: () =>
            cf.failNext({
              status: 429,
              body: { success: false, errors: [{ code: 971, message: 'Please wait' }], messages: [], result: null },
              headers: { 'retry-after': value },
            }),
          requests: () => cf.requests.length,
        },
      ];
      for (const c of cases) {
        const s = setup({ provider: c.provider as TestProvider });
        const t0 = s.clock.now();
        c.fail();
        const r = await s.engine.update(updateRequest({ hostnames: [c.name], addresses: V4 }));
        const text = JSON.stringify(r);
        assert.doesNotMatch(text, /Infinity|NaN|Invalid|e\+\d/, text);
        assert.equal(r[0].status, 'failed');
        assert.equal(r[0].nextRetryAt, new Date(t0 + 24 * 3_600_000).toISOString(), text);
        assert.match(r[0].message, /asked to wait 24 h or longer, so the next attempt is in 24 h/);
        if (c.provider.id === 'cloudflare') assert.match(r[0].message, /next try in 86400 s/);
        assert.equal(statusLine(new Map([[c.name, r]]))?.fill, 'yellow');
        // later updates of the name answer sanely, and it is written when the wait ends
        const later = await s.engine.update(updateRequest({ hostnames: [c.name], addresses: { ipv4: next } }));
        assert.equal(later[0].status, 'skipped');
        assert.equal(later[0].nextRetryAt, r[0].nextRetryAt);
        const before = c.requests();
        await s.clock.advance(24 * 3_600_000 - 1);
        assert.equal(c.requests(), before);
        await s.clock.advance(1);
        for (let i = 0; i < 500 && s.later.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
        assert.equal(s.later[0][0].status, 'updated', JSON.stringify(s.later));
        assert.equal(s.later[0][0].address, next);
        s.engine.stop();
      }
    }
  } finally {
    await duck.close();
    await cf.close();
    await closeHttpPools();
  }
});

test('engine: a retry time interrupted by a stop is kept — reset() lifts the stop, not the wait (found by the engine fuzz)', async () => {
  const s = setup({ provider: new TestProvider(1) });
  s.provider.answers = [
    transient('911: server trouble; retry in 30 minutes.', { code: '911', retryAfterMs: 30 * 60_000 }),
    fatal('badauth: wrong password.', { code: 'badauth', scope: 'account' }),
    answerAll(),
  ];
  const t0 = s.clock.now();
  const r = await s.engine.update(updateRequest({ hostnames: ['a.example.com', 'b.example.com'], addresses: V4 }));
  assert.deepEqual(statuses(r), ['a.example.com/ipv4:failed', 'b.example.com/ipv4:failed']);
  assert.equal(r[1].stopped, true);
  assert.equal(s.provider.calls.length, 2);

  await s.clock.advance(60_000);
  const rr = await s.engine.reset();
  assert.equal(s.provider.calls.length, 3, 'b is sent at once; a still waits for the 30 minutes 911 asked for');
  const a = rr.find((x) => x.hostname === 'a.example.com')!;
  assert.equal(a.status, 'skipped');
  assert.equal(a.reason, 'retry-pending');
  assert.equal(a.nextRetryAt, new Date(t0 + 30 * 60_000).toISOString());
  assert.equal(rr.find((x) => x.hostname === 'b.example.com')!.status, 'updated');

  await s.clock.advance(30 * 60_000 - 60_000 - 1);
  assert.equal(s.provider.calls.length, 3);
  await s.clock.advance(1);
  assert.equal(s.provider.calls.length, 4);
  assert.equal(s.later.at(-1)![0].status, 'updated');
  s.engine.stop();
});

test('engine: after reset(), a held retry time later than the account wait is kept (found by the engine fuzz, seed 991478025)', async () => {
  const s = setup({ provider: new TestProvider(3) });
  const fail = (e: DdnsError) => ({ outcome: 'failed' as const, message: e.message, error: e });
  // One call, three names: a 24 h wait for a, a 1 s account wait from b, a fatal account answer for c.
  s.provider.answers = [
    (call) => [
      {
        hostname: call.hostnames[0],
        family: 'ipv4',
        ...fail(transient('503', { code: 'http_503', scope: 'host', retryAfterMs: Infinity })),
      },
      {
        hostname: call.hostnames[1],
        family: 'ipv4',
        ...fail(transient('429', { code: 'http_429', scope: 'account', retryAfterMs: 1 })),
      },
      { hostname: call.hostnames[2], family: 'ipv4', ...fail(fatal('badauth', { code: 'badauth', scope: 'account' })) },
    ],
    answerAll(),
  ];
  const t0 = s.clock.now();
  await s.engine.update(
    updateRequest({ hostnames: ['a.example.com', 'b.example.com', 'c.example.com'], addresses: V4 }),
  );
  const rr = await s.engine.reset();
  const a = rr.find((x) => x.hostname === 'a.example.com')!;
  assert.equal(a.nextRetryAt, new Date(t0 + 24 * 3_600_000).toISOString(), 'the 24 h wait, not the 1 s one');
  await s.clock.advance(60_000);
  const sent: string[] = s.provider.calls.slice(1).flatMap((c) => c.hostnames);
  assert.ok(sent.includes('b.example.com') && sent.includes('c.example.com'), sent.join());
  assert.equal(sent.includes('a.example.com'), false, 'a waits for the 24 h its answer asked for');
  s.engine.stop();
});
