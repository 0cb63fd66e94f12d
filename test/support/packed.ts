/**
 * This package as a user gets it: `npm pack` of the built checkout, installed like the Home
 * Assistant add-on's `npm_packages` option does (`npm install --omit=dev --ignore-scripts`, no
 * compiler, no dev dependencies) into a Node-RED user directory. Shared by the add-on test and the
 * fault matrix.
 *
 * No internet for npm: the install is `--offline`, from npm's cache, with the dependency versions
 * of this repository's package-lock.json (written into the user directory as its lock): the
 * versions `npm ci` put into the cache and the tests ran against.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './node-red';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Json;
export const MODULE: string = PACKAGE.name;

/** Why the package cannot be packed and installed here (npm missing), or null. */
export function npmUnavailable(): string | null {
  return spawnSync('npm', ['--version']).error ? 'npm not found' : null;
}

/**
 * The tarball npm would publish, in `dest` (the build output must be there already: nothing is
 * built and no script runs). Returns its path and the files it holds.
 */
export function packPackage(dest: string): { tgz: string; files: string[] } {
  for (const [type, file] of Object.entries<string>(PACKAGE['node-red'].nodes)) {
    assert.ok(existsSync(join(REPO_ROOT, file)), `${type}: ${file} is missing: build first (npm test builds)`);
  }
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  const info = JSON.parse(out)[0];
  return { tgz: join(dest, info.filename), files: info.files.map((f: Json) => f.path) };
}

/**
 * Install the tarball into a fresh user directory as the add-on does: production dependencies
 * only, no install scripts. Offline: the user directory's lock pins this repository's versions
 * (npm's cache holds them since `npm ci`).
 */
export function installPacked(tgz: string, userDir: string): void {
  mkdirSync(userDir, { recursive: true });
  const file = `file:${tgz}`;
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify(
      {
        name: 'node-red-project',
        description: 'A Node-RED Project',
        version: '0.0.1',
        private: true,
        dependencies: { [MODULE]: file },
      },
      null,
      2,
    ),
  );
  writeFileSync(join(userDir, 'package-lock.json'), JSON.stringify(lockFor(file), null, 2));
  const r = spawnSync('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], {
    cwd: userDir,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    const hint = /ENOTCACHED/.test(r.stderr)
      ? " (a dependency is not in npm's cache: run `npm ci` in the repository first)"
      : '';
    throw new Error(`npm install of the tarball failed${hint}:\n${r.stderr}`);
  }
  assert.ok(existsSync(join(userDir, 'node_modules', MODULE, 'package.json')), 'the package is installed');
}

/** A lockfile for the user directory: the tarball plus this repository's production dependencies. */
function lockFor(file: string): Json {
  const repoLock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
  const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim().replace(/\/?$/, '/');
  const packages: Json = {
    '': { name: 'node-red-project', version: '0.0.1', dependencies: { [MODULE]: file } },
    [`node_modules/${MODULE}`]: {
      version: PACKAGE.version,
      resolved: file,
      license: PACKAGE.license,
      dependencies: PACKAGE.dependencies,
      engines: PACKAGE.engines,
    },
  };
  for (const [path, entry] of Object.entries<Json>(repoLock.packages)) {
    if (!path.startsWith('node_modules/') || entry.dev || entry.devOptional || entry.link) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    // Without a tarball address npm would ask the registry for the package's metadata.
    packages[path] = { resolved: `${registry}${name}/-/${name.split('/').pop()}-${entry.version}.tgz`, ...entry };
  }
  return { name: 'node-red-project', version: '0.0.1', lockfileVersion: 3, requires: true, packages };
}
