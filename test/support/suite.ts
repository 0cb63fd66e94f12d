/**
 * The tests' API: node:test's `test`, `describe`/`it` and hooks, run by mocha (scripts/test.mjs
 * runs one mocha process per test file). The tests keep node:test's calls:
 * - `test(name, fn)` and `test(name, { skip, timeout }, fn)`; the same for `it` and `describe`;
 *   `skip` (true or a reason) makes mocha list the test as pending, with the reason after a `#`
 *   as node:test shows it; a skipped describe lists its tests as pending and runs none of its hooks;
 * - `before(fn, { timeout })`, `after`, `beforeEach`, `afterEach` (the same options);
 * - `fn` gets a context `t`: `t.name`, `t.skip(reason)` (the test goes on, then counts as skipped),
 *   `t.diagnostic(message)` (printed), `t.after(fn)` (runs after this test, pass or fail);
 * - the order of the file: mocha runs a suite's tests before its child suites, so a test written
 *   after a describe is put in an untitled suite of its own, and runs where it is written.
 * No subtests (`t.test`): a test's parts are tests of a describe, defined up front.
 */

export interface TestOptions {
  /** Skip the test or suite: true, or the reason shown. */
  skip?: boolean | string;
  /** Milliseconds before it fails (scripts/test.mjs gives every test 180 s unless told). */
  timeout?: number;
}

export interface TestContext {
  /** The title of the test or hook. */
  readonly name: string;
  /** Count the test as skipped once it returns (`return t.skip(reason)`). */
  skip(reason?: string): void;
  /** Print a line about the test (timings, what was not exercised). */
  diagnostic(message: string): void;
  /** Run `fn` after this test, whether it passed or failed. */
  after(fn: () => unknown): void;
}

type Body = (t: TestContext) => unknown;

// The part of mocha's interface (its globals while it loads a test file) that this file uses.
interface MochaRunnable {
  title: string;
  timeout(ms: number): unknown;
  skip(): never;
}
interface MochaSuite {
  timeout(ms: number): unknown;
}
interface MochaContext {
  runnable(): MochaRunnable;
}
type MochaFn = (this: MochaContext) => Promise<void>;
interface MochaGlobals {
  describe: ((title: string, fn: () => void) => MochaSuite) & { skip(title: string, fn: () => void): MochaSuite };
  it: ((title: string, fn: MochaFn) => MochaRunnable) & { skip(title: string): MochaRunnable };
  before(fn: MochaFn): void;
  after(fn: MochaFn): void;
  beforeEach(fn: MochaFn): void;
  afterEach(fn: MochaFn): void;
}

function mocha(): MochaGlobals {
  const g = globalThis as unknown as Partial<MochaGlobals>;
  if (typeof g.describe !== 'function') throw new Error('test files run with mocha: npm test (scripts/test.mjs)');
  return g as MochaGlobals;
}

/** The title with node:test's way of showing why it is skipped. */
function titled(title: string, skip: boolean | string | undefined): string {
  return typeof skip === 'string' && skip ? `${title} # ${skip}` : title;
}

/** A mocha function that gives `fn` a node:test context, then applies t.after() and t.skip(). */
function body(fn: Body, timeout?: number): MochaFn {
  return async function (this: MochaContext) {
    const runnable = this.runnable();
    if (timeout !== undefined) runnable.timeout(timeout);
    let skipped: string | undefined;
    const afters: Array<() => unknown> = [];
    const t: TestContext = {
      name: runnable.title,
      skip: (reason) => {
        skipped = reason ?? '';
      },
      diagnostic: (message) => console.log(message.replace(/^/gm, '      ℹ ')),
      after: (f) => {
        afters.push(f);
      },
    };
    try {
      await fn(t);
    } finally {
      for (const f of afters) await f();
    }
    if (skipped !== undefined) {
      runnable.title = titled(runnable.title, skipped);
      runnable.skip();
    }
  };
}

// Per suite being defined (innermost last): whether a describe was written in it yet.
const defining: Array<{ hasSuite: boolean }> = [{ hasSuite: false }];

function split<F>(a: TestOptions | F, b: F | undefined): [TestOptions, F | undefined] {
  return typeof a === 'function' ? [{}, a] : [a as TestOptions, b];
}

export function test(name: string, fn: Body): void;
export function test(name: string, options: TestOptions, fn: Body): void;
export function test(name: string, a: TestOptions | Body, b?: Body): void {
  const [options, fn] = split(a, b);
  const m = mocha();
  const define = () => {
    if (options.skip) m.it.skip(titled(name, options.skip));
    else m.it(name, body(fn!, options.timeout));
  };
  // After a describe of the same suite, mocha would run it before that describe.
  if (defining[defining.length - 1].hasSuite) m.describe('', define);
  else define();
}

export const it = test;

export function describe(name: string, fn: () => void): void;
export function describe(name: string, options: TestOptions, fn: () => void): void;
export function describe(name: string, a: TestOptions | (() => void), b?: () => void): void {
  const [options, fn] = split(a, b);
  const m = mocha();
  defining[defining.length - 1].hasSuite = true;
  const define = () => {
    defining.push({ hasSuite: false });
    try {
      fn?.();
    } finally {
      defining.pop();
    }
  };
  const suite = options.skip ? m.describe.skip(titled(name, options.skip), define) : m.describe(name, define);
  if (options.timeout !== undefined) suite.timeout(options.timeout);
}

function hook(kind: 'before' | 'after' | 'beforeEach' | 'afterEach') {
  return (fn: Body, options: { timeout?: number } = {}): void => mocha()[kind](body(fn, options.timeout));
}
export const before = hook('before');
export const after = hook('after');
export const beforeEach = hook('beforeEach');
export const afterEach = hook('afterEach');
