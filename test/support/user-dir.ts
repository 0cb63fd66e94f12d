// A Node-RED user directory with this package installed as a user installs it: a link to this
// checkout in node_modules and a package.json that names it. Shared by the tests and the bench.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function linkPackageInto(userDir: string, repoRoot: string): void {
  mkdirSync(join(userDir, 'node_modules'), { recursive: true });
  symlinkSync(repoRoot, join(userDir, 'node_modules', 'node-red-contrib-ddns'), 'dir');
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify({
      name: 'node-red-project',
      private: true,
      dependencies: { 'node-red-contrib-ddns': `file:${repoRoot}` },
    }),
  );
}
