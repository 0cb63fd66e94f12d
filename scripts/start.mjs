// `npm start`: build, then run Node-RED (the devDependency) on 127.0.0.1:1880 with a user
// directory under the checkout (.node-red/, git-ignored), this package installed in it (a link
// to the checkout, as `npm install <path>` makes) and the getting-started flow deployed on first
// start. Environment: PORT (default 1880), DDNS_USER_DIR (default .node-red), NODE_RED_PATH,
// DDNS_SKIP_BUILD=1 (tests: dist/ is already built). `--prepare`: set up the user directory and stop
// there (to look at or edit flows.json and settings.js before the first start).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const userDir = resolve(root, process.env.DDNS_USER_DIR ?? '.node-red');
const port = Number(process.env.PORT ?? 1880);
const nodeRed = process.env.NODE_RED_PATH ?? dirname(require.resolve('node-red/package.json'));

if (process.env.DDNS_SKIP_BUILD !== '1')
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });

mkdirSync(join(userDir, 'node_modules'), { recursive: true });
const link = join(userDir, 'node_modules', 'node-red-contrib-ddns');
if (
  existsSync(link) ||
  (() => {
    try {
      return lstatSync(link).isSymbolicLink();
    } catch {
      return false;
    }
  })()
)
  rmSync(link, { recursive: true, force: true });
symlinkSync(root, link, 'dir');
const pkgFile = join(userDir, 'package.json');
if (!existsSync(pkgFile)) {
  writeFileSync(
    pkgFile,
    JSON.stringify(
      { name: 'node-red-project', private: true, dependencies: { 'node-red-contrib-ddns': `file:${root}` } },
      null,
      2,
    ),
  );
}
const settingsFile = join(userDir, 'settings.js');
if (!existsSync(settingsFile)) {
  writeFileSync(
    settingsFile,
    `// Development settings written by \`npm start\` (node-red-contrib-ddns). Edit freely; not overwritten.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: process.env.PORT || 1880,
  flowFile: 'flows.json',
  // A fixed secret so that credentials in this development directory survive restarts.
  // Use your own secret in a real installation.
  credentialSecret: 'node-red-contrib-ddns-development-only',
  // "file" keeps the last known addresses across restarts (choose it in the nodes' context store field).
  contextStorage: {
    default: { module: 'memory' },
    file: { module: 'localfilesystem' },
  },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
`,
  );
}
const flowsFile = join(userDir, 'flows.json');
if (!existsSync(flowsFile)) {
  // The example has no tab of its own (Import puts it on the current one): give it one.
  const nodes = JSON.parse(readFileSync(join(root, 'examples', '01-getting-started.json'), 'utf8'));
  const tab = { id: 'gettingstarted01', type: 'tab', label: 'Getting started', disabled: false, info: '' };
  writeFileSync(
    flowsFile,
    JSON.stringify([tab, ...nodes.map((n) => ('x' in n && !n.z ? { ...n, z: tab.id } : n))], null, 2),
  );
}

if (process.argv.includes('--prepare')) {
  console.log(`User directory ready: ${userDir}`);
  process.exit(0);
}

const version = JSON.parse(readFileSync(join(nodeRed, 'package.json'), 'utf8')).version;
console.log(
  `Starting Node-RED ${version} with node-red-contrib-ddns: http://127.0.0.1:${port}/  (user directory ${userDir})`,
);
const child = spawn(process.execPath, [join(nodeRed, 'red.js'), '-u', userDir, '-s', settingsFile], {
  stdio: 'inherit',
  env: { ...process.env, PORT: String(port) },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
