/**
 * Soak: 1,000 address changes of three DuckDNS names through the update engine, on a fake clock,
 * with random transient faults from the provider's side: 5xx (with and without Retry-After), 429
 * with Retry-After, a hang (the client's timeout), a reset connection, garbage, an HTML page and an
 * empty body. The real DuckDNS provider talks to the local DuckDNS contract server
 * (test/support/contracts/duckdns.ts, https://www.duckdns.org/spec.jsp), which is told to fail
 * the next requests before each change.
 *
 * Checked:
 * - exactly one confirmed write per change and per name: the engine confirms each address once per
 *   name, and the server's record history holds each address once per name, in order (no
 *   duplicate, none missing);
 * - no request starts while a provider-ordered wait runs (a 429's Retry-After for the account, a
 *   503's Retry-After for the name; clamped into 1 s – 24 h like the engine does);
 * - every fault injected was met by exactly the failure it should cause, and the final records hold
 *   the last address.
 * Replay a run: DDNS_SOAK_SEED=<seed> (printed); DDNS_SOAK_CHANGES=<n> changes the number of changes.
 */
import { seededRandom } from '../../bench/util';
import { after, test } from '../support/suite';
import assert from 'node:assert/strict';
import { DdnsError } from '../../src/core/errors';
import { closeHttpPools } from '../../src/core/http';
import { definition as duckdns } from '../../src/core/providers/duckdns';
import type { DnsProvider, ProviderCall, RecordResult } from '../../src/core/providers/types';
import { serverWait } from '../../src/core/schedule';
import { UpdateEngine } from '../../src/core/update/engine';
import { MemoryStore, type UpdateResult } from '../../src/core/update/types';
import { startDuckDns, type DuckDnsFailure } from '../support/contracts/duckdns';
import { FakeClock } from '../support/fake-clock';
import { updateRequest } from '../support/parsed';

after(closeHttpPools);

const SEED = Number(process.env.DDNS_SOAK_SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
const CHANGES = Number(process.env.DDNS_SOAK_CHANGES ?? 1000);
const TOKEN = 'a7c4d2e0-5b1f-4c3a-9e8d-0f1e2d3c4b5a';
const SUBS = ['home', 'office', 'cabin'];
const NAMES = SUBS.map((s) => `${s}.duckdns.org`);
/** The provider's request timeout (real time): a `hang` fault costs this much. */
const TIMEOUT_MS = 500;

type Fault =
  { kind: '500' | 'reset' | 'hang' | 'garbage' | 'html' | 'empty' } | { kind: '503' | '429'; retryAfterS?: number };

/** The failure a fault must cause (the DdnsError code, or several when the transport may say it either way). */
function expectedCodes(f: Fault): string[] {
  switch (f.kind) {
    case '500':
      return ['http_500'];
    case '503':
      return ['http_503'];
    case '429':
      return ['http_429'];
    case 'html':
      return ['http_502'];
    case 'garbage':
    case 'empty':
      return ['unexpected_answer'];
    case 'hang':
      return ['timeout'];
    case 'reset':
      return ['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'];
  }
}

function contractFailure(f: Fault): DuckDnsFailure {
  switch (f.kind) {
    case '500':
      return 'server-error';
    case '503':
    case '429':
      return {
        status: Number(f.kind),
        body: f.kind === '429' ? 'Too Many Requests' : 'Service Unavailable',
        headers: f.retryAfterS === undefined ? {} : { 'retry-after': String(f.retryAfterS) },
      };
    default:
      return f.kind;
  }
}

/**
 * The DuckDNS provider, watched: when each request starts (fake time), whether it starts inside a
 * wait the provider ordered, and which failure each one met.
 */
class Watched implements DnsProvider {
  readonly id: string;
  readonly maxHostsPerCall: number;
  inflight = 0;
  calls = 0;
  accountUntil = 0;
  hostUntil = new Map<string, number>();
  violations: string[] = [];
  failures: Array<{ code: string; retryAfterMs?: number; at: number }> = [];

  constructor(
    private readonly inner: DnsProvider,
    private readonly clock: FakeClock,
  ) {
    this.id = inner.id;
    this.maxHostsPerCall = inner.maxHostsPerCall;
  }

  async setAddresses(call: ProviderCall): Promise<RecordResult[]> {
    const now = this.clock.now();
    if (now < this.accountUntil)
      this.violations.push(`request at ${now} inside the account wait until ${this.accountUntil}`);
    for (const h of call.hostnames) {
      const until = this.hostUntil.get(h) ?? 0;
      if (now < until) this.violations.push(`request for ${h} at ${now} inside its wait until ${until}`);
    }
    this.calls++;
    this.inflight++;
    try {
      return await this.inner.setAddresses(call);
    } catch (e) {
      assert.ok(e instanceof DdnsError, `the provider threw ${String(e)}`);
      const at = this.clock.now();
      this.failures.push({ code: e.code, retryAfterMs: e.retryAfterMs, at });
      const wait = serverWait(e.retryAfterMs);
      if (wait && e.scope === 'account') this.accountUntil = Math.max(this.accountUntil, at + wait);
      else if (wait)
        for (const h of call.hostnames) this.hostUntil.set(h, Math.max(this.hostUntil.get(h) ?? 0, at + wait));
      throw e;
    } finally {
      this.inflight--;
    }
  }
}

test(`soak: ${CHANGES} address changes, 3 names, random transient faults: one write per change and name`, async () => {
  const random = seededRandom(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const duck = await startDuckDns({ token: TOKEN, domains: SUBS });
  const clock = new FakeClock();
  const provider = new Watched(duckdns.create({ token: TOKEN, endpoint: duck.url }, { timeoutMs: TIMEOUT_MS }), clock);
  const confirmed = new Map<string, number>(); // `${name} ${address}` → confirmations
  const later: UpdateResult[] = [];
  const warnings: string[] = [];
  const engine = new UpdateEngine({
    provider,
    accountKey: 'soak',
    clock,
    store: new MemoryStore(),
    backoff: { baseMs: 30_000, capMs: 30 * 60_000, jitter: 0.2, random },
    onResults: (rs) => later.push(...rs),
    onWarning: (w) => warnings.push(w),
  });
  const take = (rs: UpdateResult[]) => {
    for (const r of rs) {
      assert.notEqual(r.stopped, true, `a transient fault stopped ${r.hostname}: ${r.message}`);
      if (r.status === 'updated' || r.status === 'unchanged') {
        const k = `${r.hostname} ${r.address}`;
        confirmed.set(k, (confirmed.get(k) ?? 0) + 1);
      }
    }
  };
  /** Waits until the engine's queued work (a timer run started by the clock) has settled. */
  const idle = () => engine.update({ hostnames: [], addresses: {} });

  const faultKinds: Array<Fault['kind']> = ['500', '503', '503', '429', '429', 'reset', 'garbage', 'html', 'empty'];
  const injected: Fault[] = [];
  const counts: Record<string, number> = {};
  let spontaneousTimeouts = 0;
  let matched = 0;
  let steps = 0;
  const addresses: string[] = [];

  try {
    for (let i = 0; i < CHANGES; i++) {
      const address = `198.51.${i >> 8}.${i & 255}`;
      addresses.push(address);
      // Faults for the next requests: none most of the time, else one to three.
      if (random() < 0.4) {
        for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
          const kind = random() < 0.02 ? 'hang' : pick(faultKinds);
          const f: Fault =
            kind === '429' || kind === '503'
              ? { kind, retryAfterS: random() < 0.8 ? 1 + Math.floor(random() * 900) : undefined }
              : { kind };
          injected.push(f);
          counts[kind] = (counts[kind] ?? 0) + 1;
          duck.failNext(contractFailure(f));
        }
      }
      // Some time passes; a change that comes soon after the last write is delayed by the engine.
      await clock.advance(Math.floor(random() * 10 * 60_000));
      take(await engine.update(updateRequest({ hostnames: NAMES, addresses: { ipv4: address } })));
      // Run the engine's timers until every name confirmed this address.
      for (;;) {
        await idle();
        take(later.splice(0));
        if (NAMES.every((n) => confirmed.has(`${n} ${address}`))) break;
        const next = clock.nextAt;
        assert.ok(next !== undefined, `change ${i}: nothing pending, but not every name holds ${address}`);
        assert.ok(++steps < CHANGES * 60, 'the soak does not converge');
        await clock.advance(Math.max(0, next - clock.now()));
      }
    }
  } finally {
    engine.stop();
    await duck.close();
  }

  // Every failure the provider met is the one injected (in order), a timeout without one is spontaneous.
  const queue = [...injected];
  for (const f of provider.failures) {
    const want = queue[0];
    if (want && expectedCodes(want).includes(f.code)) {
      queue.shift();
      matched++;
      if ((want.kind === '429' || want.kind === '503') && want.retryAfterS !== undefined)
        assert.equal(f.retryAfterMs, want.retryAfterS * 1000, `the Retry-After of a ${want.kind} is honoured as sent`);
    } else if (f.code === 'timeout') spontaneousTimeouts++;
    else assert.fail(`failure ${f.code} where ${want ? want.kind : 'no fault'} was injected`);
  }
  assert.equal(queue.length, 0, 'every injected fault was met');
  assert.deepEqual(provider.violations, [], 'no request inside a provider-ordered wait');
  assert.deepEqual(warnings, []);

  // One confirmation per change and name; the server's history: each address once per name, in order.
  let duplicates = 0;
  for (const n of confirmed.values()) if (n !== 1) duplicates += n - 1;
  assert.equal(confirmed.size, CHANGES * NAMES.length, 'every change confirmed for every name');
  for (const sub of SUBS) {
    const seen = duck.history.filter((h) => h.domain === sub && h.family === 'ipv4').map((h) => h.address);
    duplicates += seen.length - new Set(seen).size;
    assert.deepEqual(seen, addresses, `${sub}: each address once, in order`);
    assert.equal(duck.records.get(sub)?.ipv4, addresses.at(-1), `${sub} holds the last address`);
  }
  assert.equal(duplicates, 0);

  console.log(
    `soak: seed ${SEED}, ${CHANGES} changes × ${NAMES.length} names, ${injected.length} faults injected ` +
      `(${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}), ${matched} met, ${spontaneousTimeouts} spontaneous timeouts, ` +
      `${provider.calls} requests, ${duck.history.length} writes, duplicates=${duplicates}`,
  );
});
