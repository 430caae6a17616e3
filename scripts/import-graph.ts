/**
 * Prints src/'s import graph figures: module-level cycles, file-level cycles and deep imports across modules
 * (STYLE.md §3). `npx tsx scripts/import-graph.ts [--list]`; --list prints every cycle and deep import.
 */
import { resolve } from 'node:path';
import { deepImports, fileCycles, moduleCycles, moduleOf, readImportGraph } from '../test/support/import-graph.js';

const g = readImportGraph(resolve(import.meta.dirname, '../src'));
const list = process.argv.includes('--list');
const mc = moduleCycles(g);
const fc = fileCycles(g);
const deep = deepImports(g);
const pairs = new Map<string, number>();
for (const e of g.edges) {
  const k = `${moduleOf(e.from)} → ${moduleOf(e.to)}`;
  if (moduleOf(e.from) !== moduleOf(e.to)) pairs.set(k, (pairs.get(k) ?? 0) + 1);
}
console.log(`files ${g.files.length}, imports ${g.edges.length}`);
console.log(`module-level cycles: ${mc.length}${mc.length ? ' (' + mc.map((c) => c.join(' ↔ ')).join('; ') + ')' : ''}`);
console.log(`file-level cycles: ${fc.length} (${fc.reduce((n, c) => n + c.length, 0)} files in them)`);
if (list) for (const c of fc) console.log(`  cycle: ${c.join(' , ')}`);
console.log(`deep imports across modules: ${deep.length} (in ${new Set(deep.map((e) => e.from)).size} files)`);
if (list) for (const e of deep) console.log(`  ${e.from}:${e.line} → ${e.to}`);
console.log('module edges: ' + [...pairs].sort().map(([k, n]) => `${k} ×${n}`).join(', '));
