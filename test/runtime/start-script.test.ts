/**
 * `npm start` on a fresh checkout: Node-RED starts on 127.0.0.1 with this package and the
 * getting-started flow deployed (scripts/start.mjs, run here with a temporary user directory).
 */
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_RED_PATH, REPO_ROOT, waitFor } from '../support/node-red';
import { freePort } from '../support/ports';
import { offlineFlow } from '../support/examples';
import { startServer, text } from '../support/http-server';

test('npm start: Node-RED with this package and the getting-started flow', async () => {
  const userDir = mkdtempSync(join(tmpdir(), 'ddns-start-'));
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), DDNS_USER_DIR: userDir, DDNS_SKIP_BUILD: '1', NODE_RED_PATH };
  // First `--prepare`: the user directory as a fresh clone gets it, checked without starting.
  const prep = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/start.mjs'), '--prepare'], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
  });
  assert.equal(prep.status, 0, prep.stderr);
  const prepared = JSON.parse(readFileSync(join(userDir, 'flows.json'), 'utf8')) as Array<Record<string, unknown>>;
  const tab = prepared.find((n) => n.type === 'tab');
  assert.ok(tab, 'the getting-started flow is on a tab of its own');
  for (const n of prepared)
    if ('x' in n) assert.equal(n.z, tab.id, `${String(n.type)} is on the tab (otherwise it would never start)`);
  assert.match(readFileSync(join(userDir, 'settings.js'), 'utf8'), /uiHost: '127\.0\.0\.1'/);
  // Then the same flow with its what's-my-IP sources pointed at a local server (tests stay on
  // loopback); start.mjs keeps an existing flows.json, exactly as on a second start.
  const ip = await startServer((_req, res) => text(res, '8.8.8.8\n'));
  const withoutTab = prepared.filter((n) => n.type !== 'tab').map((n) => ({ ...n, z: undefined }));
  writeFileSync(
    join(userDir, 'flows.json'),
    JSON.stringify(offlineFlow(withoutTab as never, { ipUrl: ip.url, tab: String(tab.id) })),
  );
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts/start.mjs')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b));
  child.stderr!.on('data', (b: Buffer) => (out += b));
  try {
    await waitFor(() => out.includes('Started flows') || child.exitCode !== null, 60_000, 100, 'Node-RED to start');
    assert.equal(child.exitCode, null, out);
    assert.match(out, new RegExp(`http://127\\.0\\.0\\.1:${port}/`));
    const base = `http://127.0.0.1:${port}`;
    const nodes = (await (await fetch(`${base}/nodes`, { headers: { accept: 'application/json' } })).json()) as Array<{
      module: string;
      types: string[];
      err?: string;
    }>;
    const ours = nodes.filter((n) => n.module === 'node-red-contrib-ddns');
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.deepEqual(ours.flatMap((n) => n.types).sort(), Object.keys(pkg['node-red'].nodes).sort());
    for (const n of ours) assert.equal(n.err, undefined, `${n.types}: ${n.err}`);
    const flows = (await (await fetch(`${base}/flows`, { headers: { accept: 'application/json' } })).json()) as Array<{
      type: string;
    }>;
    const types = new Set(flows.map((n) => n.type));
    for (const t of ['public-ip-watch', 'dns-update', 'ddns-account'])
      assert.ok(types.has(t), `the getting-started flow has ${t}`);
    assert.doesNotMatch(out, /unknown type|Waiting for missing types/i);
    // the flow runs: the address is detected and the dry-run update reports it
    await waitFor(() => ip.requests.length > 0, 20_000, 100, 'public-ip-watch to ask the local service').catch((e) => {
      throw new Error(`${e.message}\n${out}`);
    });
  } finally {
    child.kill('SIGINT');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 15_000, 50, 'Node-RED to stop').catch(
      () => child.kill('SIGKILL'),
    );
    await ip.close();
    rmSync(userDir, { recursive: true, force: true });
  }
});
