// Build: TypeScript → dist/, then put each node's editor files (.html, locales/, icons/) beside
// its compiled .js, where Node-RED's loader looks for them.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const out = join(root, 'dist', 'src', 'nodes');

try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
} catch {
  if (!process.argv.includes('--allow-type-errors')) process.exit(1);
}
mkdirSync(out, { recursive: true });
for (const f of readdirSync(join(root, 'nodes'))) {
  if (f.endsWith('.html')) cpSync(join(root, 'nodes', f), join(out, f));
}
if (existsSync(join(root, 'nodes', 'locales'))) {
  rmSync(join(out, 'locales'), { recursive: true, force: true });
  cpSync(join(root, 'nodes', 'locales'), join(out, 'locales'), { recursive: true });
}
if (existsSync(join(root, 'icons'))) {
  rmSync(join(out, 'icons'), { recursive: true, force: true });
  cpSync(join(root, 'icons'), join(out, 'icons'), { recursive: true });
}
