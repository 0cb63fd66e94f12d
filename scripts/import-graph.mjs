// The import graph of src/, type-only imports included (ESLint's import-x/no-cycle sees only the
// imports that survive compilation): fails on any cycle. Also fails when two files of src/ export
// one name (one StateStore, one normaliseHostname…: no two things of one name doing different
// things); a provider's `definition` is the one name every provider file exports by convention.
// Runs in `npm test` beside ESLint.
//   node scripts/import-graph.mjs [--print]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(import.meta.url)('typescript');

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const c of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(c)) return c;
  return undefined;
}

const files = walk(join(root, 'src')).sort();
const graph = new Map();
for (const f of files) {
  const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
  graph.set(f, [...new Set(info.importedFiles.map((i) => resolveImport(f, i.fileName)).filter(Boolean))]);
}

// Tarjan's strongly connected components: any component of more than one file is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const cycles = [];
function visit(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp);
  }
}
for (const f of files) if (!idx.has(f)) visit(f);

const rel = (f) => relative(root, f);

const SAME_NAME_BY_CONVENTION = new Set(['definition']);
const exporters = new Map();
for (const f of files) {
  for (const m of readFileSync(f, 'utf8').matchAll(
    /^export (?:declare )?(?:default )?(?:async )?(?:function\*?|const|let|class|interface|type|enum|abstract class) ([A-Za-z0-9_$]+)/gm,
  )) {
    if (SAME_NAME_BY_CONVENTION.has(m[1])) continue;
    exporters.set(m[1], [...(exporters.get(m[1]) ?? []), rel(f)]);
  }
}
const clashes = [...exporters].filter(([, fs]) => new Set(fs).size > 1);
if (clashes.length) {
  console.error(`exported names: ${clashes.length} name(s) exported by more than one file of src/:`);
  for (const [n, fs] of clashes) console.error(`  ${n}: ${[...new Set(fs)].join(', ')}`);
}
if (process.argv.includes('--print'))
  for (const [f, deps] of graph) console.log(`${rel(f)} -> ${deps.map(rel).join(', ')}`);
if (cycles.length) {
  console.error(`import graph: ${cycles.length} cycle(s), type-only imports included:`);
  for (const c of cycles) console.error(`  ${c.map(rel).sort().join(' <-> ')}`);
}
if (cycles.length || clashes.length) process.exit(1);
console.log(
  `import graph: ${files.length} files, ${[...graph.values()].reduce((n, d) => n + d.length, 0)} imports, no cycle`,
);
