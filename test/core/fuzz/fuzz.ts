/**
 * The shared part of the property-based fuzz tests (fast-check): one seed per run, printed and
 * replayable, a scale for the number of cases, and the one definition of a crash.
 *
 *   DDNS_FUZZ_SEED=<n>    replay a run (the seed is printed by every property and in a failure)
 *   DDNS_FUZZ_PROPERTY=<name>  run only this property (the name printed with its cases)
 *   DDNS_FUZZ_PATH=<p>    with the seed and the property: replay only the failing (shrunk) case
 *                         (a failure prints the whole command line)
 *   DDNS_FUZZ_RUNS=<f>    scale the number of cases of every property (e.g. 0.1 for a quick pass,
 *                         10 for a long hunt); default 1
 *   DDNS_FUZZ_STATS=1     print what the cases ended in (ok, or the DdnsError's kind/code)
 *   DDNS_FUZZ_DEBUG=<c>   print the message of every DdnsError with code <c> (to see what a code covers)
 *
 * A crash is anything other than a result or a DdnsError (src/core/errors.ts): a TypeError or
 * RangeError thrown, an unhandled rejection or uncaught exception while a property runs, a case
 * that does not finish in time (a hang), and also a DdnsError that merely wraps such an error
 * (`toDdnsError` turns any throw into a transient `unknown` DdnsError: a parser bug in disguise).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAddressSet, type AddressSet } from '../../../src/core/address';
import { DdnsError } from '../../../src/core/errors';

const envSeed = process.env.DDNS_FUZZ_SEED;
/** The seed of every property of this run. */
export const SEED: number =
  envSeed !== undefined && envSeed.trim() !== '' ? Number(envSeed) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const PATH = process.env.DDNS_FUZZ_PATH?.trim() || undefined;
const ONLY = process.env.DDNS_FUZZ_PROPERTY?.trim() || undefined;
const SCALE = (() => {
  const f = Number(process.env.DDNS_FUZZ_RUNS ?? 1);
  return Number.isFinite(f) && f > 0 ? f : 1;
})();
if (!Number.isInteger(SEED)) throw new Error(`DDNS_FUZZ_SEED must be an integer, not "${envSeed}"`);

/** The number of cases for a property whose default is `n` (scaled by DDNS_FUZZ_RUNS). */
export const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

/** Engine errors: thrown (or wrapped without a classification) they mean a bug, not an answer. */
const ENGINE_NAMES = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError']);

function innermost(e: unknown): unknown {
  let c = e;
  for (let i = 0; i < 8 && (c as { cause?: unknown })?.cause !== undefined; i++) c = (c as { cause: unknown }).cause;
  return c;
}

/**
 * Why `e` (thrown, or carried by a result) is a crash, or undefined when it is a proper failure: a
 * DdnsError with a code of its own. A DdnsError made by `toDdnsError` (code `unknown`) or by a
 * generic catch that names an engine error or a Node.js misuse (`TypeError`, `ERR_OUT_OF_RANGE` …)
 * as its code is a crash in disguise. (A DdnsError that deliberately classifies a decoding error,
 * e.g. `dns_malformed` with a RangeError as its cause, is a proper failure.)
 */
export function crashOf(e: unknown): string | undefined {
  if (!(e instanceof DdnsError)) return `threw ${describe(e)} instead of a DdnsError`;
  if (e.code === 'unknown' || ENGINE_NAMES.has(e.code) || /^ERR_/.test(e.code))
    return `an unclassified error escaped as a DdnsError (${e.code}): ${describe(innermost(e))}`;
  return undefined;
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 6).join('\n') ?? ''}`;
  return String(e);
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: DdnsError };

/** Outcomes seen by the running property (printed with DDNS_FUZZ_STATS=1): `ok` or the error's kind/code. */
const seen = new Map<string, number>();
export function note(what: string): void {
  const key = what.replace(/\bhttp_(\d)\d\d$/, (m, c: string) =>
    /^http_(200|30[12]|40[0134]|429|50[0234])$/.test(m) ? m : `http_${c}xx`,
  );
  seen.set(key, (seen.get(key) ?? 0) + 1);
}

/** A thrown value that must be a proper DdnsError (else the case fails as a crash). */
export function failure(e: unknown): DdnsError {
  const crash = crashOf(e);
  if (crash) assert.fail(crash);
  note(`${(e as DdnsError).kind}/${(e as DdnsError).code}`);
  if (process.env.DDNS_FUZZ_DEBUG === (e as DdnsError).code)
    console.log(`${(e as DdnsError).message.slice(0, 300)} ${String((e as DdnsError).cause)}`);
  return e as DdnsError;
}

/** Run `fn`; a crash fails the case (assertion), a DdnsError or a result is returned. */
export async function outcome<T>(fn: () => Promise<T> | T): Promise<Outcome<T>> {
  try {
    const value = await fn();
    note('ok');
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: failure(e) };
  }
}

/** The same for synchronous code. */
export function outcomeSync<T>(fn: () => T): Outcome<T> {
  try {
    const value = fn();
    note('ok');
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: failure(e) };
  }
}

/** Every `error` carried by results (RecordResult.error) must be a proper DdnsError too. */
export function checkResultErrors(results: ReadonlyArray<{ error?: unknown; outcome?: string }>): void {
  for (const r of results) {
    if (r.error === undefined) {
      note(`result ${r.outcome}`);
      continue;
    }
    const crash = crashOf(r.error);
    if (crash) assert.fail(`a result carries ${crash}`);
    note(`result ${(r.error as DdnsError).kind}/${(r.error as DdnsError).code}`);
  }
}

/** Process-level failures (unhandled rejections, uncaught exceptions) seen while a property ran. */
const strays: unknown[] = [];
process.on('unhandledRejection', (e) => strays.push(e));
process.on('uncaughtException', (e) => strays.push(e));

/** Cases run per property name, for the summary line. */
export const tally = new Map<string, number>();

export interface FuzzOptions {
  /** Default number of cases (scaled by DDNS_FUZZ_RUNS). */
  runs: number;
  /** Longest time one case may take before it counts as a hang, ms. Default 5000. */
  timeoutMs?: number;
}

/**
 * Check `property` with the run's seed; print the seed and the number of cases; on failure, throw
 * fast-check's report (counterexample, shrunk) with the command line that replays it.
 */
export async function fuzz(
  name: string,
  property: fc.IAsyncPropertyWithHooks<unknown> | fc.IPropertyWithHooks<unknown> | fc.IRawProperty<unknown, boolean>,
  o: FuzzOptions,
): Promise<void> {
  if (ONLY !== undefined && ONLY !== name) return void console.log(`fuzz ${name}: skipped (DDNS_FUZZ_PROPERTY)`);
  const numRuns = runs(o.runs);
  // A path belongs to one property: replayed only when that property is chosen.
  const path = ONLY !== undefined ? PATH : undefined;
  strays.length = 0;
  seen.clear();
  const details = await fc.check(property as fc.IRawProperty<unknown, boolean>, {
    seed: SEED,
    numRuns: path ? 1 : numRuns,
    ...(path ? { path } : {}),
    timeout: o.timeoutMs ?? 5000,
    endOnFailure: false,
    includeErrorInReport: true,
  });
  // Let late rejections of the last case surface before judging.
  await new Promise((r) => setImmediate(r));
  tally.set(name, details.numRuns);
  console.log(`fuzz ${name}: ${details.numRuns} cases, seed ${SEED}`);
  if (process.env.DDNS_FUZZ_STATS === '1')
    console.log(
      `  outcomes: ${[...seen]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  if (details.failed) {
    const replay =
      `Replay: DDNS_FUZZ_SEED=${SEED} DDNS_FUZZ_PROPERTY='${name}'` +
      (details.counterexamplePath ? ` DDNS_FUZZ_PATH=${details.counterexamplePath}` : '');
    throw new Error(`${fc.defaultReportMessage(details) ?? 'property failed'}\n${replay}`);
  }
  if (strays.length) {
    throw new Error(
      `fuzz ${name}: ${strays.length} unhandled rejection(s) or uncaught exception(s), first: ${describe(strays[0])}\n` +
        `Replay: DDNS_FUZZ_SEED=${SEED}`,
    );
  }
}

/** Print the cases of this file (called from an `after` hook). */
export function printTally(file: string): void {
  const total = [...tally.values()].reduce((a, b) => a + b, 0);
  console.log(`fuzz ${file}: ${total} cases in ${tally.size} properties, seed ${SEED}`);
}

// ---------------------------------------------------------------------------------------------
// Shared arbitraries

/** Any text: printable, control characters, any Unicode, lone surrogates. */
export const anyText = (maxLength = 200) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: fc.constantFrom('\n', '\r', '\t', ' ', ',', '\uFEFF', '\u0000', 'a', '1', '.', ':'), maxLength }),
  );

/** Address-like tokens: valid, near-valid and absurd. */
export const addressLike = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  fc.constantFrom(
    '127.0.0.1',
    '0.0.0.0',
    '::',
    '::ffff:1.2.3.4',
    'fe80::1%eth0',
    '999.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '2001:db8::7/64',
    '',
  ),
  fc.stringMatching(/^[0-9a-f:.]{1,45}$/),
);

/** Text made of `words` (protocol vocabulary) mixed with odd tokens, joined by odd separators. */
export function wordy(words: readonly string[], maxTokens = 12): fc.Arbitrary<string> {
  const token = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...words) },
    { weight: 3, arbitrary: addressLike },
    { weight: 1, arbitrary: fc.constantFrom(...words).map((w) => w.toUpperCase()) },
    { weight: 1, arbitrary: anyText(20) },
  );
  const sep = fc.constantFrom(' ', '\n', '\r\n', ',', '\t', '  ', '\n\n', '');
  return fc.array(fc.tuple(token, sep), { maxLength: maxTokens }).map((parts) => parts.map(([t, s]) => t + s).join(''));
}

/** Retry-After values: seconds, huge, negative, dates (past, far future, invalid), garbage. */
export const retryAfter = fc.oneof(
  fc.nat({ max: 100_000 }).map(String),
  fc.constantFrom('0', '-1', '1e3', '99999999999999999999', '9'.repeat(400), ' 120 ', 'Infinity', 'NaN', ''),
  fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
  fc.constantFrom('Wed, 21 Oct 2015 07:28:00 GMT', 'Fri, 31 Dec 275759 23:59:59 GMT', 'tomorrow'),
  fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
);

/** HTTP status codes a server (or what stands between) may send. */
export const httpStatus = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(200, 201, 204, 301, 302, 400, 401, 403, 404, 429, 500, 502, 503, 504) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 999 }) },
);

/** Header values as a server may send them (printable ASCII only: anything else is refused by Node's server). */
export const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,80}$/).map((s) => s.trim());

/** Addresses as the boundary hands them on (parsed: any address but the unspecified ones). */
export const addressSet: fc.Arbitrary<AddressSet> = fc
  .record({ ipv4: fc.option(fc.ipV4(), { nil: undefined }), ipv6: fc.option(fc.ipV6(), { nil: undefined }) })
  .filter((a) => a.ipv4 !== undefined || a.ipv6 !== undefined)
  .filter((a) => {
    try {
      parseAddressSet(a);
      return true;
    } catch {
      return false;
    }
  })
  .map((a) => parseAddressSet(a));
