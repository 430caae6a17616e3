// Summarizes a V8 .cpuprofile: self time by module (engine, sip, drachtio-lite, srf, store, GC …) and the top functions.
// Usage: node bench/tools/profile-summary.mjs <file.cpuprofile | file.heapprofile> [top=40]
// bench/cps-inbound.ts --profile imports summarizeProfile to print the same summary per step.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

function cat(n) {
  const u = n.callFrame.url || '';
  const f = n.callFrame.functionName;
  if (f === '(idle)') return 'idle';
  if (f === '(garbage collector)') return 'GC';
  if (f === '(program)') return 'program';
  if (u.includes('/src/engine/')) return 'engine';
  if (u.includes('/src/drachtio-lite/')) return 'drachtio-lite';
  if (u.includes('/src/sip/')) return 'sip';
  if (u.includes('/src/store/')) return 'store';
  if (u.includes('/src/events/')) return 'events';
  if (u.includes('/src/')) return 'src-other:' + u.split('/src/')[1].split('/')[0];
  if (u.includes('drachtio-srf')) return 'drachtio-srf';
  if (u.includes('better-sqlite3')) return 'better-sqlite3';
  if (u.includes('pino')) return 'pino';
  if (u.includes('luxon')) return 'luxon';
  if (u.includes('node_modules/')) return 'nm:' + u.split('node_modules/').pop().split('/')[0];
  if (u.startsWith('node:')) return 'node:' + u.slice(5).split('/')[0];
  if (u === '') return 'native:' + f;
  return 'other';
}

/** A profile node's function as `name path:line` (paths from node_modules/ or src/). */
function frameKey(n) {
  return `${n.callFrame.functionName || '(anon)'} ${(n.callFrame.url || '').replace(/.*\/(node_modules|src)\//, '$1/')}:${n.callFrame.lineNumber}`;
}

/** Self time by category and by function of a V8 CPU profile (microseconds); `busy` excludes idle. */
export function summarizeProfile(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas; let total = 0;
  for (let i = 0; i < p.samples.length; i++) { const id = p.samples[i]; const d = dt[i] ?? 0; self.set(id, (self.get(id) ?? 0) + d); total += d; }
  const cats = new Map(); const fns = new Map();
  for (const [id, t] of self) {
    const n = byId.get(id); const c = cat(n); cats.set(c, (cats.get(c) ?? 0) + t);
    if (c === 'idle') continue;
    const k = frameKey(n);
    fns.set(k, (fns.get(k) ?? 0) + t);
  }
  const busy = total - (cats.get('idle') ?? 0);
  cats.delete('idle');
  const sort = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, busy, modules: sort(cats), functions: sort(fns) };
}

/**
 * Bytes allocated by module and by function of a V8 sampling heap profile (`HeapProfiler.stopSampling`'s profile,
 * or a `.heapprofile` file): each node's `selfSize` is the sampled bytes its function allocated itself.
 */
export function summarizeAllocations(p) {
  const cats = new Map(); const fns = new Map(); let total = 0;
  const walk = (n) => {
    if (n.selfSize > 0) {
      total += n.selfSize;
      const c = cat(n); cats.set(c, (cats.get(c) ?? 0) + n.selfSize);
      const k = frameKey(n);
      fns.set(k, (fns.get(k) ?? 0) + n.selfSize);
    }
    for (const ch of n.children ?? []) walk(ch);
  };
  walk(p.head);
  const sort = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, modules: sort(cats), functions: sort(fns) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const top = Number(process.argv[3] ?? 40);
  const file = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  if (file.head && !file.nodes) {
    const a = summarizeAllocations(file);
    console.log(`sampled allocations ${(a.total / 1048576).toFixed(1)} MB`);
    for (const [c, b] of a.modules) console.log(`${(100 * b / a.total).toFixed(1).padStart(5)}%  ${c}`);
    console.log('--- top functions');
    for (const [k, b] of a.functions.slice(0, top)) console.log(`${(100 * b / a.total).toFixed(1).padStart(5)}%  ${k}`);
    process.exit(0);
  }
  const s = summarizeProfile(file);
  console.log(`total ${(s.total / 1e6).toFixed(1)} s, busy ${(s.busy / 1e6).toFixed(1)} s`);
  for (const [c, t] of s.modules) console.log(`${(100 * t / s.busy).toFixed(1).padStart(5)}%  ${c}`);
  console.log('--- top functions');
  for (const [k, t] of s.functions.slice(0, top)) console.log(`${(100 * t / s.busy).toFixed(1).padStart(5)}%  ${k}`);
}
