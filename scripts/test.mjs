// The whole test suite: build, then every test under dist/test with mocha on the machine's Node and
// the devDependency Node-RED (4.1), then the Node-RED runtime tests again with Node-RED 5.x on
// Node 22 (both installed on demand into .cache/, never as project dependencies).
//   node scripts/test.mjs [--no-matrix] [--only <substring>]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const matrix = !args.includes('--no-matrix') && process.env.DDNS_TEST_MATRIX !== '0';

execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });

function find(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.js') ? [p] : [];
    })
    .sort();
}
// --only matches the path below dist/test (not the checkout's own folder name)
const all = find(join(root, 'dist/test')).filter((f) => !only || relative(join(root, 'dist/test'), f).includes(only));
// Runtime tests load Node-RED: they run once per Node-RED version of the matrix.
// Tests that load Node-RED run once per Node-RED version of the matrix: the runtime and browser
// tests, and the router test that runs public-ip-watch inside a test-made namespace.
const runtime = all.filter((f) => /[/\\](runtime|e2e)[/\\]|public-ip-watch-router/.test(f));

// Every Node process of the run (test files, the Node-RED processes they start, npm) loads the
// network guard: traffic beyond loopback is blocked and recorded, and the run fails if any was tried.
const guardDir = mkdtempSync(join(tmpdir(), 'ddns-net-guard-'));
const guardLog = join(guardDir, 'blocked.log');
const guardEnv = {
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require "${join(root, 'dist/test/support/net-guard.js')}"`.trim(),
  DDNS_NET_GUARD_LOG: guardLog,
  DDNS_NET_GUARD_HOST_NETNS: (() => {
    try {
      return readlinkSync('/proc/self/ns/net');
    } catch {
      return '';
    }
  })(),
};

// One mocha process per test file, one file after the other: whatever a file starts (servers,
// Node-RED, timers) ends with its process, and --exit ends it even if a handle stays open (after
// the after hooks). The reporter (spec) writes each file's counts to DDNS_MOCHA_STATS to add up.
const mocha = join(root, 'node_modules/mocha/bin/mocha.js');
const reporter = join(root, 'scripts/mocha-reporter.mjs');
const stats = join(guardDir, 'stats.json');
const total = { tests: 0, passes: 0, failures: 0, pending: 0 };
const failedFiles = [];

function run(label, node, files, env = {}) {
  if (files.length === 0) return 0;
  console.log(`\n=== ${label}: ${files.length} test files ===`);
  const counts = { tests: 0, passes: 0, failures: 0, pending: 0 };
  let failed = 0;
  for (const f of files) {
    const file = relative(root, f);
    console.log(`\n--- ${file}`);
    rmSync(stats, { force: true });
    const r = spawnSync(node, [mocha, '--timeout', '180000', '--reporter', reporter, '--exit', file], {
      stdio: 'inherit',
      cwd: root,
      env: { ...process.env, ...guardEnv, ...env, DDNS_MOCHA_STATS: stats },
    });
    // No counts: the file did not run to its end (it could not load, or its process died).
    const got = existsSync(stats) ? JSON.parse(readFileSync(stats, 'utf8')) : { failures: 1 };
    for (const k of Object.keys(counts)) counts[k] += got[k] ?? 0;
    if (r.status !== 0 || got.failures) {
      failed = 1;
      failedFiles.push(`${file} (${label})`);
    }
  }
  for (const k of Object.keys(total)) total[k] += counts[k];
  console.log(
    `\n=== ${label}: tests ${counts.tests}, passing ${counts.passes}, failing ${counts.failures}, pending ${counts.pending} ===`,
  );
  return failed;
}

// Lint first: ESLint (typescript-eslint; the architecture map as import rules, no cycle), the import
// graph with type-only imports (no cycle, one exporter per name), and Prettier's formatting.
function lint() {
  const steps = [
    ['ESLint', [join(root, 'node_modules/eslint/bin/eslint.js'), '.']],
    ['import graph', [join(root, 'scripts/import-graph.mjs')]],
    ['Prettier', [join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', '--log-level', 'warn', '.']],
  ];
  let bad = 0;
  for (const [label, argv] of steps) {
    console.log(`\n=== lint: ${label} ===`);
    const r = spawnSync(process.execPath, argv, { stdio: 'inherit', cwd: root });
    if (r.status !== 0) bad = 1;
  }
  return bad;
}
const lintFailed = only ? 0 : lint();

// The Home Assistant websocket nodes for the add-on test, installed on demand in a folder of their
// own (test/fixtures/home-assistant): Node-RED loads every node package in the node_modules folders
// above its own, so they must not sit in the repository's node_modules.
const haFixture = join(root, 'test/fixtures/home-assistant');
if (
  all.some((f) => f.includes('ha-addon')) &&
  !existsSync(join(haFixture, 'node_modules/node-red-contrib-home-assistant-websocket/package.json'))
) {
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: haFixture });
}

let failed = run(
  `Node ${process.version}, Node-RED ${require_('node-red/package.json').version}`,
  process.execPath,
  all,
);

if (matrix && runtime.length) {
  const cache = join(root, '.cache');
  const node22 = join(cache, 'node22/node_modules/node/bin/node');
  const nr5 = join(cache, 'nr5/node_modules/node-red');
  if (!existsSync(node22)) {
    execFileSync(
      'npm',
      ['install', '--prefix', join(cache, 'node22'), '--no-save', '--no-audit', '--no-fund', 'node@22'],
      { stdio: 'inherit' },
    );
  }
  if (!existsSync(join(nr5, 'package.json'))) {
    execFileSync(
      'npm',
      ['install', '--prefix', join(cache, 'nr5'), '--no-save', '--no-audit', '--no-fund', 'node-red@5'],
      { stdio: 'inherit' },
    );
  }
  const v = JSON.parse(readFileSync(join(nr5, 'package.json'), 'utf8')).version;
  const nv = execFileSync(node22, ['--version']).toString().trim();
  failed = run(`Node ${nv}, Node-RED ${v}`, node22, runtime, { NODE_RED_PATH: nr5 }) || failed;
}

function require_(m) {
  return JSON.parse(readFileSync(join(root, 'node_modules', m), 'utf8'));
}
const blocked = existsSync(guardLog) ? readFileSync(guardLog, 'utf8').trim() : '';
rmSync(guardDir, { recursive: true, force: true });
if (blocked) {
  console.error(
    `\nThe network guard blocked traffic beyond loopback (a test must only use local servers):\n${blocked}`,
  );
  failed = 1;
}
if (failedFiles.length) console.error(`\nFailed test files:\n${failedFiles.map((f) => `  ${f}`).join('\n')}`);
if (lintFailed) console.error('\nLint failed (see above): npm run lint, npm run format.');
console.log(`\ntotal: ${total.passes} passed, ${total.failures} failed, ${total.pending} skipped`);
process.exit(failed || lintFailed ? 1 : 0);
