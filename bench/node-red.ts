/**
 * A started Node-RED (red.js of the devDependency, or NODE_RED_PATH) for the bench, in a fresh user
 * directory, admin API on a loopback port. Like test/support/node-red.ts's startNodeRed, but
 * without loading the test helper (sinon, should) into the bench process, and registered with the
 * bench's cleanup so that it is stopped by its pid on Ctrl-C and errors.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { installPacked } from '../test/support/packed';
import { freePort } from '../test/support/ports';
import { linkPackageInto } from '../test/support/user-dir';
import { launch, pollUntil, tempDir, type Managed } from './util';

export const REPO_ROOT = resolve(__dirname, '../..');
export const NODE_RED_PATH = process.env.NODE_RED_PATH ?? dirname(require.resolve('node-red/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const NODE_RED_VERSION: string = require(join(NODE_RED_PATH, 'package.json')).version;

export interface BenchNodeRed {
  url: string;
  proc: Managed;
  /** POST /flows (full deployment), credentials inline in the nodes. */
  deploy(flows: object[]): Promise<void>;
  /**
   * Only when started with `fullGc` and with `fullGcFlow()` deployed: a full garbage collection
   * (twice), then the size of V8's heap spaces.
   */
  fullGc(): Promise<HeapSpaces>;
  /** Only as `fullGc`: the size of V8's heap spaces now, without a collection. */
  heap(): Promise<HeapSpaces>;
  stop(): Promise<void>;
}

/** V8's heap, MB committed (`v8.getHeapSpaceStatistics()` space_size): the young generation and the rest. */
export interface HeapSpaces {
  young: number;
  old: number;
}

const BENCH_PATH = '/bench';

/**
 * The bench's own endpoints, deployed in every process the memory bench compares so that each
 * carries the same three core nodes: http in (`GET /bench/full-gc`: a full garbage collection, then
 * the heap's spaces; `GET /bench/heap`: the spaces only) → a function that calls what the settings
 * hand in → http response.
 */
export function fullGcFlow(z: string): object[] {
  return [
    {
      id: `${z}-gc-in`,
      type: 'http in',
      z,
      url: `${BENCH_PATH}/:what`,
      method: 'get',
      x: 100,
      y: 300,
      wires: [[`${z}-gc-fn`]],
    },
    {
      id: `${z}-gc-fn`,
      type: 'function',
      z,
      func: "if (msg.req.params.what === 'full-gc') global.get('benchFullGc')();\nmsg.payload = global.get('benchHeap')();\nreturn msg;",
      outputs: 1,
      x: 300,
      y: 300,
      wires: [[`${z}-gc-out`]],
    },
    { id: `${z}-gc-out`, type: 'http response', z, x: 500, y: 300, wires: [] },
  ];
}

/**
 * withPackage: the checkout linked into the user directory; packed: this npm tarball installed as
 * a user gets it (test/support/packed.ts) instead.
 */
export async function startNodeRed(
  name: string,
  opts: { withPackage: boolean; packed?: string; fullGc?: boolean },
): Promise<BenchNodeRed> {
  const userDir = tempDir('nr');
  const port = await freePort();
  if (opts.packed) installPacked(opts.packed, userDir);
  else if (opts.withPackage) {
    linkPackageInto(userDir, REPO_ROOT);
  }
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: 'bench-credential-secret',
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'warn', metrics: false, audit: false } },
  };
  // fullGc: the process runs with --expose-gc and hands gc to fullGcFlow()'s function node
  const gcContext = opts.fullGc
    ? `module.exports.functionGlobalContext = {
  benchFullGc: () => { global.gc(); global.gc(); },
  benchHeap: () => {
    const mb = (names) => require('v8').getHeapSpaceStatistics()
      .filter((s) => names.includes(s.space_name)).reduce((n, s) => n + s.space_size / 1e6, 0);
    return { young: mb(['new_space', 'new_large_object_space']), old: mb(['old_space', 'large_object_space', 'code_space', 'code_large_object_space']) };
  },
};\n`
    : '';
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n${gcContext}`);
  const proc = launch(
    name,
    process.execPath,
    [
      ...(opts.fullGc ? ['--expose-gc'] : []),
      join(NODE_RED_PATH, 'red.js'),
      '-u',
      userDir,
      '-s',
      join(userDir, 'settings.js'),
    ],
    {
      env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const up = await pollUntil(
    async () => {
      if (!proc.running()) throw new Error(`${name} exited while starting:\n${proc.output()}`);
      try {
        return (await fetch(`${url}/settings`, { headers: { accept: 'application/json' } })).ok;
      } catch {
        return false;
      }
    },
    90_000,
    200,
  );
  const benchGet = async (what: string): Promise<HeapSpaces> => {
    const res = await fetch(`${url}${BENCH_PATH}/${what}`);
    if (res.status !== 200)
      throw new Error(`${name}: ${BENCH_PATH}/${what} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as HeapSpaces;
  };
  if (!up) {
    await proc.stop();
    throw new Error(`${name} did not start within 90 s:\n${proc.output()}`);
  }
  return {
    url,
    proc,
    deploy: async (flows) => {
      const res = await fetch(`${url}/flows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(flows),
      });
      if (res.status !== 204 && res.status !== 200)
        throw new Error(`${name}: deploy answered ${res.status}: ${await res.text()}`);
    },
    fullGc: () => benchGet('full-gc'),
    heap: () => benchGet('heap'),
    stop: () => proc.stop(10_000),
  };
}
