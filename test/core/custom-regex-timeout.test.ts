/**
 * Issue 12, defect 3: a user's regular expression with catastrophic backtracking, run by the real
 * custom URL source on a body from a local HTTP server, must not block the event loop. The match
 * is stopped with a transient `regex_timeout` error and a ticker keeps ticking meanwhile.
 * (No timing assertion beyond a generous bound: the point is that the loop is never blocked.)
 */
import { after, before, describe, test } from '../support/suite';
import assert from 'node:assert/strict';
import { closeHttpPools } from '../../src/core/http';
import type { DdnsError } from '../../src/core/errors';
import type { SourceContext } from '../../src/core/ip/types';
import { buildSource, sourceConfigSchema } from '../../src/core/ip/sources';
import { customUrlSource } from '../../src/core/ip/sources/custom-url';
import { startServer, text, type TestServer } from '../support/http-server';

/** The documented cap: the pattern sees the first 16 KiB of the body. */
const REGEX_INPUT_CAP = 16 * 1024;

let server: TestServer;

before(async () => {
  server = await startServer((req, res) => {
    const m = /^\/a(\d+)$/.exec(req.path);
    if (m) return text(res, `${'a'.repeat(Number(m[1]))}!`);
    // an address that only a pattern reading past the cap would find
    if (req.path === '/far') return text(res, `${'x'.repeat(REGEX_INPUT_CAP)} WAN 8.8.4.4`);
    return text(res, 'WAN 8.8.8.8');
  });
});

after(async () => {
  await server?.close();
  await closeHttpPools();
});

const ctx = (): SourceContext => ({ family: 'ipv4', timeoutMs: 5000, signal: new AbortController().signal });
const source = (path: string, regex: string) =>
  buildSource(sourceConfigSchema.parse({ type: 'custom', url: `${server.url}${path}`, format: 'regex', regex }));

/** Run `fn` while a 20 ms ticker measures the largest gap between ticks. */
async function withTicker<T>(fn: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; maxGapMs: number }> {
  let last = Date.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 20);
  const [result] = await Promise.allSettled([fn()]);
  // the gap since the last tick counts too (a synchronous block at the end would hide there)
  maxGapMs = Math.max(maxGapMs, Date.now() - last);
  clearInterval(timer);
  return { result, maxGapMs };
}

describe('custom URL source: a catastrophic regular expression', () => {
  for (const n of [28, 40]) {
    test(`^(a+)+$ on ${n} a's and "!" ends in regex_timeout without blocking the event loop`, async () => {
      const src = source(`/a${n}`, '^(a+)+$');
      const started = Date.now();
      // three lookups in a row (as three checks would): each is stopped, the loop keeps turning
      const { result, maxGapMs } = await withTicker(async () => {
        for (let i = 0; i < 2; i++) await src.lookup(ctx()).catch(() => new Promise((r) => setTimeout(r, 50)));
        return src.lookup(ctx());
      });
      const tookMs = Date.now() - started;
      assert.equal(result.status, 'rejected');
      const err = (result as PromiseRejectedResult).reason as DdnsError;
      assert.equal(err.name, 'DdnsError');
      assert.equal(err.kind, 'transient');
      assert.equal(err.code, 'regex_timeout');
      assert.match(err.message, /took longer than \d+ ms.*simplify the pattern/);
      assert.ok(maxGapMs < 2000, `the event loop was blocked for ${maxGapMs} ms`);
      assert.ok(tookMs < 15000, `the lookup took ${tookMs} ms`);
    });
  }

  test('the source works again at once, and a sane pattern still matches', async () => {
    assert.equal((await source('/ok', 'WAN (\\S+)').lookup(ctx())).address, '8.8.8.8');
  });

  test('the pattern sees only the first 16 KiB of the body', async () => {
    await assert.rejects(source('/far', 'WAN (\\S+)').lookup(ctx()), (e: DdnsError) => e.code === 'regex_no_match');
  });

  test('an invalid pattern is refused when the source is configured', () => {
    assert.throws(
      () => customUrlSource({ url: `${server.url}/ok`, format: 'regex', regex: '([' }),
      (e: DdnsError) =>
        e.kind === 'input' && e.code === 'invalid_regex' && /regular expression .* not valid: .*\(\[/.test(e.message),
    );
  });
});
