/**
 * `npm start` on a fresh checkout: Node-RED starts on 127.0.0.1 with this package and the
 * getting-started flow deployed (scripts/start.mjs, run here with a temporary user directory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_RED_PATH, REPO_ROOT, waitFor } from '../support/node-red';
import { freePort } from '../support/ports';

test('npm start: Node-RED with this package and the getting-started flow', async () => {
  const userDir = mkdtempSync(join(tmpdir(), 'ddns-start-'));
  const port = await freePort();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts/start.mjs')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), DDNS_USER_DIR: userDir, DDNS_SKIP_BUILD: '1', NODE_RED_PATH },
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
    const nodes = (await (await fetch(`${base}/nodes`, { headers: { accept: 'application/json' } })).json()) as Array<{ module: string; types: string[]; err?: string }>;
    const ours = nodes.filter((n) => n.module === 'node-red-contrib-ddns');
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.deepEqual(ours.flatMap((n) => n.types).sort(), Object.keys(pkg['node-red'].nodes).sort());
    for (const n of ours) assert.equal(n.err, undefined, `${n.types}: ${n.err}`);
    const flows = (await (await fetch(`${base}/flows`, { headers: { accept: 'application/json' } })).json()) as Array<{ type: string }>;
    const types = new Set(flows.map((n) => n.type));
    for (const t of ['public-ip-watch', 'dns-update', 'ddns-account']) assert.ok(types.has(t), `the getting-started flow has ${t}`);
    assert.doesNotMatch(out, /unknown type|Waiting for missing types/i);
  } finally {
    child.kill('SIGINT');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 15_000, 50, 'Node-RED to stop').catch(() => child.kill('SIGKILL'));
    rmSync(userDir, { recursive: true, force: true });
  }
});
