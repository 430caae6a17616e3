/**
 * STYLE.md §3 as an executable rule: which module may import which, so the engine behaves the same against a real
 * drachtio-server (it never imports sip/ or drachtio-lite/), the API never sees SIP or srf, and nothing imports the
 * API or main.ts. Scans every import in src/ (static and dynamic) and fails with the offending file and line.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../../src');

/** module → modules it may import (besides itself). `config` means config's types and loaders. */
const ALLOWED: Record<string, readonly string[]> = {
  common: [],
  sip: ['common'],
  media: ['common'],
  store: ['common', 'config'],
  config: ['common'],
  'drachtio-lite': ['sip', 'common'],
  events: ['store', 'common', 'config'],
  engine: ['events', 'store', 'common', 'config', 'media'],
  api: ['engine', 'events', 'store', 'common', 'config'],
  // composition roots
  'switchboard.ts': ['*'],
  'main.ts': ['*'],
};

/**
 * The documented exceptions. The digest helpers (RFC 7616/8760) are pure, I/O-free functions: the registrar uses
 * them to check credentials, which does not tie the engine to our SIP stack.
 */
const EXCEPTIONS: ReadonlyArray<{ from: string; to: string }> = [
  { from: 'engine', to: 'sip/digest.ts' },
  // The pure SIP grammar and status map (no I/O): the engine reads srf's headers with the core's grammar.
  { from: 'engine', to: 'sip/syntax.ts' },
];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function moduleOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  return rel.length === 1 ? rel[0]! : rel[0]!;
}

interface Edge { file: string; line: number; target: string; toModule: string; toRel: string }

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const out: Edge[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m; (m = re.exec(text));) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (!target.startsWith(SRC)) continue;
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ file, line, target, toModule: moduleOf(target), toRel: relative(SRC, target) });
  }
  return out;
}

const files = walk(SRC);
const edges = files.flatMap(importsOf);

describe('module boundaries (STYLE.md §3)', () => {
  it('every module imports only what its row allows', () => {
    const bad: string[] = [];
    for (const e of edges) {
      const from = moduleOf(e.file);
      if (from === e.toModule) continue;
      const allowed = ALLOWED[from];
      if (!allowed) { bad.push(`${relative(SRC, e.file)}: module '${from}' has no row in ALLOWED`); continue; }
      if (allowed.includes('*') || allowed.includes(e.toModule)) continue;
      if (EXCEPTIONS.some((x) => x.from === from && x.to === e.toRel)) continue;
      bad.push(`${relative(SRC, e.file)}:${e.line} imports ${e.toRel} (${from} → ${e.toModule} is not allowed)`);
    }
    expect(bad).toEqual([]);
  });

  it('MUST NOT let the engine import the SIP stack or drachtio-lite (it must run against a real drachtio-server)', () => {
    const bad = edges.filter((e) => moduleOf(e.file) === 'engine' && (e.toModule === 'drachtio-lite' || (e.toModule === 'sip' && e.toRel !== 'sip/digest.ts' && e.toRel !== 'sip/syntax.ts')));
    expect(bad.map((e) => `${relative(SRC, e.file)}:${e.line} → ${e.toRel}`)).toEqual([]);
  });

  it('nothing imports the API or main.ts', () => {
    const bad = edges.filter((e) => (e.toModule === 'api' && moduleOf(e.file) !== 'api' && moduleOf(e.file) !== 'switchboard.ts') || e.toRel === 'main.ts');
    expect(bad.map((e) => `${relative(SRC, e.file)}:${e.line} → ${e.toRel}`)).toEqual([]);
  });

  it('reads process.env only in src/config', () => {
    const bad = files.filter((f) => moduleOf(f) !== 'config' && /process\.env\b/.test(readFileSync(f, 'utf8')) && !f.endsWith('main.ts'));
    expect(bad.map((f) => relative(SRC, f))).toEqual([]);
  });
});
