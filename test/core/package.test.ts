/**
 * The flow library's package rules (what `node-red-dev validate` checks, which needs the internet)
 * and what the Home Assistant add-on needs: checked locally on the built package.
 */
import { allProviders } from '../../src/core/providers/registry';
import { test } from '../support/suite';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Every provider of the registry (each module loaded). */
const PROVIDERS = allProviders();

const root = resolve(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

test('package.json follows the Node-RED flow library rules', () => {
  assert.match(pkg.name, /^node-red-contrib-/);
  assert.ok(pkg.keywords.includes('node-red'), 'keyword node-red');
  assert.equal(pkg.license, 'MIT');
  assert.ok(existsSync(join(root, 'LICENSE')), 'LICENSE file');
  assert.match(pkg.repository.url, /^git\+https:\/\//);
  assert.match(pkg['node-red'].version, /^>=4\./);
  assert.match(pkg.engines.node, /^>=20/);
  assert.ok(!pkg.dependencies['node-red'], 'node-red is not a runtime dependency');
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.ok(!pkg.scripts?.[s], `no ${s} script`);
  const deps = Object.keys(pkg.dependencies);
  assert.ok(deps.length <= 6, `at most 6 runtime dependencies (has ${deps.join(', ')})`);
  assert.match(pkg.dependencies.undici, /^\^?7\./, 'undici stays on 7 (8 needs Node >= 22.19)');
});

test('every registered node has its runtime file, editor file, help and catalog beside it', () => {
  for (const [type, file] of Object.entries<string>(pkg['node-red'].nodes)) {
    const js = join(root, file);
    assert.ok(existsSync(js), `${type}: ${file} built`);
    assert.ok(existsSync(js.replace(/\.js$/, '.html')), `${type}: editor html beside the js`);
    const base = file.split('/').pop()!.replace(/\.js$/, '');
    assert.ok(existsSync(join(root, 'dist/src/nodes/locales/en-US', `${base}.json`)), `${type}: message catalog`);
    assert.ok(existsSync(join(root, 'dist/src/nodes/locales/en-US', `${base}.html`)), `${type}: help`);
  }
});

test('every node type appears in an example flow, and every example is a valid flow', () => {
  const dir = join(root, 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length > 0);
  const used = new Set<string>();
  for (const f of files) {
    const flow = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    assert.ok(Array.isArray(flow), `${f} is an array of nodes`);
    const ids = new Set<string>();
    for (const n of flow) {
      assert.equal(typeof n.id, 'string', `${f}: every node has an id`);
      assert.ok(!ids.has(n.id), `${f}: duplicate id ${n.id}`);
      ids.add(n.id);
      used.add(n.type);
    }
    for (const n of flow) {
      for (const port of n.wires ?? [])
        for (const target of port) assert.ok(ids.has(target), `${f}: ${n.id} wired to missing ${target}`);
    }
    const text = JSON.stringify(flow);
    assert.doesNotMatch(
      text,
      /"credentials"\s*:\s*\{[^}]*"(token|password|tsigSecret)"\s*:\s*"[^"]+"/,
      `${f}: no credentials in examples`,
    );
  }
  for (const type of Object.keys(pkg['node-red'].nodes))
    assert.ok(used.has(type), `node type ${type} appears in an example`);
});

test('examples are numbered so that getting started comes first in Import › Examples (issue 15)', () => {
  const files = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.json'));
  for (const f of files) assert.match(f, /^\d\d-[a-z0-9-]+\.json$/, f);
  assert.equal([...files].sort()[0], '01-getting-started.json');
  const flow = JSON.parse(readFileSync(join(root, 'examples', '01-getting-started.json'), 'utf8'));
  // The account is named after its provider (no name of its own that would outlive a provider change).
  assert.equal(flow.find((n: { type: string }) => n.type === 'ddns-account').name, '');
  // "check now" asks public-ip-watch to send the current address even when it has not changed.
  const inject = flow.find((n: { type: string }) => n.type === 'inject');
  assert.deepEqual(
    inject.props.find((p: { p: string }) => p.p === 'force'),
    { p: 'force', v: 'true', vt: 'bool' },
  );
  // A comment node is drawn centred on x: its label must not start left of the workspace.
  for (const n of flow.filter((x: { type: string }) => x.type === 'comment'))
    assert.ok(n.x - (String(n.name).length * 7) / 2 - 30 >= 0, `comment "${n.name}" drawn off the left edge`);
});

test('the published tarball holds what runs and nothing else; no native code, no install scripts', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
  assert.ok(files.includes('package.json') && files.includes('README.md') && files.includes('LICENSE'));
  for (const file of Object.values<string>(pkg['node-red'].nodes)) {
    assert.ok(files.includes(file), `${file} packed`);
    assert.ok(files.includes(file.replace(/\.js$/, '.html')), `${file} editor packed`);
  }
  assert.ok(
    files.some((f) => f.startsWith('examples/')),
    'examples packed',
  );
  assert.ok(
    files.some((f) => f.startsWith('dist/src/nodes/icons/')),
    'icons packed',
  );
  for (const f of files) {
    assert.doesNotMatch(f, /^(test|src|bench|scripts|\.ci)\//, `${f} should not be packed`);
    assert.doesNotMatch(f, /^dist\/(test|bench)\//, `${f} should not be packed`);
    assert.doesNotMatch(f, /\.map$/, `${f}: source maps stay out of the package (issue 15)`);
  }
  // package.json points at nothing that is not packed (a `main` would name a missing index.js).
  if (pkg.main) assert.ok(files.includes(pkg.main.replace(/^\.\//, '')), `main ${pkg.main} packed`);
  // Runtime dependency tree: pure JavaScript, no install scripts (the add-on has no compiler).
  const paths = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((p) => p && p !== root);
  for (const p of paths) {
    const dep = JSON.parse(readFileSync(join(p, 'package.json'), 'utf8'));
    for (const s of ['preinstall', 'install', 'postinstall'])
      assert.ok(!dep.scripts?.[s], `${dep.name} has a ${s} script`);
    assert.ok(!existsSync(join(p, 'binding.gyp')), `${dep.name} is a native module`);
    assert.ok(!dep.gypfile, `${dep.name} is a native module`);
  }
});

test("README's provider table has one row per provider of the registry, with its TXT support", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const def of PROVIDERS) {
    if (def.id === 'dryrun') continue;
    const row = readme.split('\n').find((l) => l.startsWith(`| ${def.label} |`));
    assert.ok(row, `README lists ${def.label}`);
    assert.match(row, new RegExp(`\\| ${def.txt ? 'yes' : 'no'} \\|`), `${def.label}: TXT ${def.txt}`);
  }
});
