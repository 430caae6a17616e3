/**
 * STYLE.md §3 as an executable rule, on the import graph the TypeScript compiler reads (test/support/import-graph.ts:
 * static, dynamic and type-only imports; comments and strings cannot fool it). Which module may import which, so the
 * engine behaves the same against a real drachtio-server (it never imports sip/ or drachtio-lite/) and the API never
 * sees SIP or srf; nothing imports the API or main.ts; only the composition root loads configuration; other modules
 * are imported through their index.ts; and there are no import cycles, between modules or between files.
 * `npx tsx scripts/import-graph.ts --list` prints the same graph.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deepImports, fileCycles, moduleCycles, moduleOf, readImportGraph, type ImportEdge } from '../../support/import-graph.js';

const SRC = resolve(import.meta.dirname, '../../../src');
const graph = readImportGraph(SRC);

/** The composition roots: they build every module, so they may import anything (but nothing imports them). */
// Composition roots; edge.ts is `npm run edge`'s main (drachtio-lite on its own).
const ROOTS = new Set(['main.ts', 'switchboard.ts', 'edge.ts']);

/**
 * module → modules it may import (besides itself), STYLE §3 as written. `common` ← anyone and `config` types ←
 * anyone. The engine's row names `events` for the bus and the event catalogue (its records build the outbox
 * events that commit with each call record) and `media` for media-layer.ts's interface.
 */
const ALLOWED: Record<string, readonly string[]> = {
  common: [],
  config: ['common'],
  sip: ['common'],
  media: ['common', 'config'],
  store: ['common', 'config'],
  // Like the store backends: shared state in Redis, wired into the engine's interfaces by the composition root.
  redis: ['common', 'config'],
  'drachtio-lite': ['sip', 'common', 'config'],
  events: ['store', 'common', 'config'],
  engine: ['events', 'store', 'common', 'config', 'media'],
  api: ['engine', 'events', 'store', 'common', 'config'],
};

/**
 * The documented exceptions to "through index.ts only", each with its reason. Nothing else may import a file
 * inside another module.
 */
const DEEP_EXCEPTIONS: ReadonlyArray<{ from: string; to: string; why: string }> = [
  { from: 'engine', to: 'sip/syntax.ts', why: 'pure SIP grammar and the status map (no I/O); sip/index.ts would bring the transport layer' },
  { from: 'engine', to: 'sip/digest.ts', why: 'pure RFC 7616/8760 digest functions the registrar and trunk auth check credentials with' },
  { from: 'engine', to: 'sip/headers.ts', why: 'pure header grammar (From/To tags): the engine reads srf messages with our parser, not a regex of its own' },
  { from: 'engine', to: 'sip/uri.ts', why: 'the pure URI parser, for the same reason' },
  { from: 'engine', to: 'sip/session-expires.ts', why: 'pure RFC 4028 values (Session-Expires, Min-SE, option tags), shared with drachtio-lite' },
  { from: 'switchboard.ts', to: 'media/embedded/index.ts', why: 'the composition root picks the media driver (STYLE §3: only main imports drivers)' },
  { from: 'switchboard.ts', to: 'media/rtpengine/index.ts', why: 'the composition root picks the media driver (STYLE §3: only main imports drivers)' },
];

/**
 * Import cycles that stand today, each with its reason; the test fails when a new one appears or a listed one
 * grows, and asks for the entry to go when it is gone. Type-only imports count (a type circle still couples files).
 */
const KNOWN_CYCLES: ReadonlyArray<{ files: readonly string[]; why: string }> = [];

/** Functions that load configuration (files, environment, stored versions): only the composition root calls them. */
const CONFIG_LOADERS = ['loadSettings', 'loadConfigFile', 'loadConfigText', 'parseYaml', 'createConfigVersions'];

const where = (e: ImportEdge): string => `${e.from}:${e.line} → ${e.to}`;

describe('module boundaries (STYLE.md §3)', () => {
  it('every module imports only what its row allows', () => {
    const bad: string[] = [];
    for (const e of graph.edges) {
      const from = moduleOf(e.from);
      const to = moduleOf(e.to);
      if (from === to || ROOTS.has(from)) continue;
      const allowed = ALLOWED[from];
      if (!allowed) bad.push(`${e.from}: module '${from}' has no row in ALLOWED`);
      else if (!allowed.includes(to) && !DEEP_EXCEPTIONS.some((x) => x.from === from && x.to === e.to)) bad.push(`${where(e)} (${from} → ${to} is not allowed)`);
    }
    expect(bad).toEqual([]);
  });

  it('MUST NOT let the engine import the SIP stack or drachtio-lite (it must run against a real drachtio-server)', () => {
    const pure = new Set(DEEP_EXCEPTIONS.filter((x) => x.from === 'engine').map((x) => x.to));
    const bad = graph.edges.filter((e) => moduleOf(e.from) === 'engine' && (moduleOf(e.to) === 'drachtio-lite' || (moduleOf(e.to) === 'sip' && !pure.has(e.to))));
    expect(bad.map(where)).toEqual([]);
  });

  it('keeps the pure SIP pieces the engine uses free of I/O: they import only each other and common', () => {
    const pure = new Set(['sip/syntax.ts', 'sip/digest.ts', 'sip/headers.ts', 'sip/uri.ts', 'sip/session-expires.ts']);
    const bad = graph.edges.filter((e) => pure.has(e.from) && !pure.has(e.to) && moduleOf(e.to) !== 'common');
    expect(bad.map(where)).toEqual([]);
    for (const f of pure) expect(readFileSync(join(SRC, f), 'utf8'), f).not.toMatch(/from 'node:(net|dgram|fs|http|https|tls|child_process)'/);
  });

  it('nothing imports the API or main.ts; only the composition roots import switchboard.ts', () => {
    const bad = graph.edges.filter((e) => {
      const from = moduleOf(e.from);
      const to = moduleOf(e.to);
      if (from === to) return false;
      return (to === 'api' && !ROOTS.has(from)) || to === 'main.ts' || (to === 'switchboard.ts' && from !== 'main.ts');
    });
    expect(bad.map(where)).toEqual([]);
  });

  it('imports other modules through their index.ts only (documented exceptions aside)', () => {
    const bad = deepImports(graph).filter((e) => !DEEP_EXCEPTIONS.some((x) => x.from === moduleOf(e.from) && x.to === e.to));
    expect(bad.map(where)).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    expect(moduleCycles(graph)).toEqual([]);
  });

  it('has no import cycle between files but the documented ones, and those do not grow', () => {
    const known = KNOWN_CYCLES.map((k) => [...k.files].sort().join(', '));
    const found = fileCycles(graph).map((c) => c.join(', '));
    expect(found.filter((c) => !known.includes(c)), 'new or grown file cycles').toEqual([]);
    expect(known.filter((k) => !found.includes(k)), 'cycles that are gone: remove their KNOWN_CYCLES entry').toEqual([]);
  });

  it('loads configuration only in the composition roots (config types are free for all)', () => {
    const bad: string[] = [];
    for (const f of graph.files) {
      if (ROOTS.has(moduleOf(f)) || moduleOf(f) === 'config') continue;
      const text = readFileSync(join(SRC, f), 'utf8');
      for (const name of CONFIG_LOADERS) if (new RegExp(`\\b${name}\\b`).test(text) && /config\/index\.js'/.test(text)) bad.push(`${f} uses ${name}`);
    }
    expect(bad).toEqual([]);
  });

  it('reads process.env only in src/config', () => {
    const bad = graph.files.filter((f) => moduleOf(f) !== 'config' && !ROOTS.has(f) && /process\.env\b/.test(readFileSync(join(SRC, f), 'utf8')));
    expect(bad).toEqual([]);
  });
});
