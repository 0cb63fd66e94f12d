/**
 * Node-RED for tests, in the version under test: the devDependency (4.1) by default, or the one at
 * NODE_RED_PATH (the matrix run: Node-RED 5.x on Node 22).
 *
 * - `helper`: node-red-node-test-helper initialised with that Node-RED.
 * - `startNodeRed()`: a real started Node-RED process (red.js) with a fresh user directory in which
 *   this package is installed (a symlink to the checkout, as `npm install <path>` would make), its
 *   admin API on a loopback port.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before } from './suite';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort, stopProcess } from './ports';
import { linkPackageInto } from './user-dir';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper') as NodeTestHelper;

export const REPO_ROOT = resolve(__dirname, '../../..');
export const NODE_RED_PATH = process.env.NODE_RED_PATH ?? dirname(require.resolve('node-red/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const NODE_RED_VERSION: string = require(join(NODE_RED_PATH, 'package.json')).version;

helper.init(require.resolve(NODE_RED_PATH));

export interface NodeTestHelper {
  init(nodeRedRuntime: string, userSettings?: object): void;
  load(nodes: unknown, flow: object[], credentials?: object): Promise<void>;
  unload(): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  getNode(id: string): any; // eslint-disable-line @typescript-eslint/no-explicit-any
  settings(s: object): void;
  log(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
  clearFlows(): Promise<void>;
  request(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let flowLoaded = false;
/** helper.load(), remembering that a flow is loaded so that unloadFlow() unloads it once. */
export async function loadFlow(nodes: unknown, flow: object[], credentials?: object): Promise<void> {
  await helper.load(nodes, flow, credentials);
  flowLoaded = true;
}
/** Unloads the flow loadFlow() loaded; does nothing when none is loaded (safe in afterEach and in a test). */
export async function unloadFlow(): Promise<void> {
  if (!flowLoaded) return;
  flowLoaded = false;
  await helper.unload();
}

/** The compiled node module (dist/src/nodes/<name>.js) for helper.load(). */
export function nodeModule(name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(REPO_ROOT, 'dist/src/nodes', `${name}.js`));
}

export interface StartedNodeRed {
  url: string;
  userDir: string;
  process: ChildProcess;
  log(): string;
  /** GET/POST the admin API (JSON). */
  api(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  stop(): Promise<void>;
}

/** A full deployment through the admin API (POST /flows); asserts Node-RED took it. */
export async function deployFull(red: StartedNodeRed, flows: object[]): Promise<void> {
  const dep = await red.api('/flows', {
    method: 'POST',
    body: flows,
    headers: { 'Node-RED-Deployment-Type': 'full' },
  });
  assert.ok(dep.status === 204 || dep.status === 200, `deploy answered ${dep.status}: ${JSON.stringify(dep.body)}`);
}

/** Node-RED's core `http request` node posting msg.payload to `url` (as the editor saves it). */
export function httpPostNode(id: string, z: string, url: string, extra: Record<string, unknown> = {}): object {
  return {
    id,
    type: 'http request',
    z,
    name: '',
    method: 'POST',
    ret: 'txt',
    paytoqs: 'ignore',
    url,
    tls: '',
    persist: false,
    proxy: '',
    insecureHTTPParser: false,
    authType: '',
    senderr: false,
    headers: [],
    wires: [],
    ...extra,
  };
}

/**
 * A flow that updates home.example.com (IPv4) at deSEC through dns-update behind an `http in` node
 * (POST /addr with the address as JSON) and an `http response` node: each answer carries the node's
 * results. The account's endpoint is a loopback server (a contract server or a fault).
 */
export function dnsUpdateBehindHttpIn(o: {
  z: string;
  label: string;
  endpoint: string;
  token: string;
  contextStore?: string;
}): Array<Record<string, unknown>> {
  const z = o.z;
  return [
    { id: z, type: 'tab', label: o.label },
    {
      id: 'acct',
      type: 'ddns-account',
      name: 'deSEC',
      provider: 'desec',
      settings: { endpoint: o.endpoint },
      credentials: { token: o.token },
    },
    {
      id: 'in',
      type: 'http in',
      z,
      name: '',
      url: '/addr',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      x: 120,
      y: 60,
      wires: [['upd']],
    },
    {
      id: 'upd',
      type: 'dns-update',
      z,
      name: '',
      account: 'acct',
      hostnames: 'home.example.com',
      families: 'ipv4',
      minInterval: 0,
      ...(o.contextStore ? { contextStore: o.contextStore } : {}),
      alertAfter: 3,
      x: 300,
      y: 60,
      wires: [['out'], []],
    },
    { id: 'out', type: 'http response', z, name: '', statusCode: '', headers: {}, x: 480, y: 60, wires: [] },
  ];
}

export interface StartOptions {
  flows?: object[];
  /** Extra settings.js properties (JSON-serialisable). */
  settings?: Record<string, unknown>;
  /** Install the package into the user directory (default true). */
  installPackage?: boolean;
  env?: Record<string, string>;
  /**
   * Run in this existing user directory (e.g. the one of an earlier, stopped instance: a restart
   * with its flows, credentials and context files). stop() then leaves it in place.
   */
  userDir?: string;
  /**
   * Rewrite the command line that starts Node-RED (argv[0] is the node executable), e.g. to run it
   * in a network namespace of its own. Gets the admin API's port and the user directory.
   */
  launcher?: (argv: string[], ctx: { port: number; userDir: string }) => string[];
  /** Node-RED's HTTP port (uiPort); default a free one. */
  port?: number;
}

/**
 * The log lines that say Node-RED is up, in the language it logs in (settings.js `lang`, e.g. `de`):
 * Node-RED's own runtime catalog of that language, English when it has none.
 */
function startedLines(lang: unknown): string[] {
  const english = ['Server now running', 'Started flows'];
  if (typeof lang !== 'string' || !/^[a-z]{2}(-[A-Za-z]{2})?$/.test(lang)) return english;
  try {
    const runtime = dirname(require.resolve('@node-red/runtime/package.json', { paths: [NODE_RED_PATH] }));
    const file = [lang, lang.split('-')[0]!].map((l) => join(runtime, 'locales', l, 'runtime.json')).find(existsSync);
    if (!file) return english;
    const c = JSON.parse(readFileSync(file, 'utf8'));
    return [String(c.server['now-running']).split('__')[0]!.trim(), String(c.nodes.flows['started-flows'])];
  } catch {
    return english;
  }
}

export async function startNodeRed(opts: StartOptions = {}): Promise<StartedNodeRed> {
  const userDir = opts.userDir ?? mkdtempSync(join(tmpdir(), 'ddns-nr-'));
  const port = opts.port ?? (await freePort());
  if (opts.installPackage !== false && !existsSync(join(userDir, 'node_modules', 'node-red-contrib-ddns'))) {
    linkPackageInto(userDir, REPO_ROOT);
  }
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: 'test-credential-secret',
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    ...opts.settings,
  };
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  if (opts.flows) writeFileSync(join(userDir, 'flows.json'), JSON.stringify(opts.flows));
  const red = join(NODE_RED_PATH, 'red.js');
  const argv = [process.execPath, red, '-u', userDir, '-s', join(userDir, 'settings.js')];
  const [command, ...args] = opts.launcher ? opts.launcher(argv, { port, userDir }) : argv;
  const child = spawn(command!, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false', ...opts.env },
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  const started = startedLines(opts.settings?.lang);
  await new Promise<void>((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a process behind
      reject(new Error(`Node-RED did not start within 60 s:\n${out}`));
    }, 60_000);
    const check = setInterval(() => {
      if (started.some((line) => out.includes(line))) {
        clearInterval(check);
        clearTimeout(timer);
        resolveStart();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`Node-RED exited with ${code}:\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    userDir,
    process: child,
    log: () => out,
    api: async (path, init = {}) => {
      const res = await fetch(url + path, {
        method: init.method ?? 'GET',
        headers: {
          accept: 'application/json',
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const t = await res.text();
      let body: unknown = t;
      try {
        body = JSON.parse(t);
      } catch {
        /* text */
      }
      return { status: res.status, body };
    },
    stop: async () => {
      await stopProcess(child, 'SIGINT', 10_000);
      if (!opts.userDir) rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Wait until cond() is truthy, polling every `everyMs`, or throw after `timeoutMs`. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  timeoutMs = 10_000,
  everyMs = 25,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * node-red-node-test-helper's server for the enclosing describe block: a user directory of its own
 * (made before the tests and given to `onDir`, removed after), the server started before and
 * stopped after, the flows unloaded after each test. Register it before the block's own hooks.
 */
export function helperServer(prefix: string, onDir: (dir: string) => void = () => undefined): void {
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    onDir(dir);
    helper.settings({ userDir: dir });
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
