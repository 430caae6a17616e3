/**
 * The import graph of src/, read with the TypeScript compiler API (not a regex), so comments, strings and
 * multi-line import lists cannot fool it. Used by the module-boundary test (STYLE.md §3) and printed by
 * scripts/import-graph.ts. Type-only imports count: a type circle is still a circle for the reader.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** One import of one file: where it stands and what it names. */
export interface ImportEdge {
  /** Importing file, relative to src/ (`engine/call/call.ts`). */
  from: string;
  /** Imported file, relative to src/ (`events/index.ts`). */
  to: string;
  line: number;
  /** True for `import type` / `export type` (erased at run time). */
  typeOnly: boolean;
}

/** The whole graph: every .ts file below the root and every relative import between them. */
export interface ImportGraph {
  root: string;
  files: string[];
  edges: ImportEdge[];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Module of a file: its first folder under src/, or the file itself for top-level files (`main.ts`). */
export function moduleOf(rel: string): string {
  return rel.split('/')[0]!;
}

function resolveSpec(root: string, file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
  if (!target.startsWith(root + '/')) return undefined;
  return relative(root, target);
}

function importsOf(root: string, file: string): ImportEdge[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const from = relative(root, file);
  const out: ImportEdge[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, at: ts.Node): void => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    const to = resolveSpec(root, file, spec.text);
    if (to === undefined) return;
    out.push({ from, to, line: sf.getLineAndCharacterOfPosition(at.getStart(sf)).line + 1, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings : undefined;
      const allTypeElements = !!named && named.elements.length > 0 && !clause?.name && named.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause?.isTypeOnly || allTypeElements, node);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly, node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true, node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Reads every .ts file below `root` (src/) and its relative imports. */
export function readImportGraph(root: string): ImportGraph {
  const abs = resolve(root);
  const files = walk(abs).sort();
  return { root: abs, files: files.map((f) => relative(abs, f)), edges: files.flatMap((f) => importsOf(abs, f)) };
}

/** Strongly connected components with more than one member (or a self-loop): each is one import cycle. */
export function cycles(nodes: readonly string[], next: (n: string) => readonly string[]): string[][] {
  // Tarjan's algorithm, iterative so a deep graph cannot overflow the stack.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  for (const start of nodes) {
    if (idx.has(start)) continue;
    const work: Array<{ n: string; i: number; succ: readonly string[] }> = [];
    const push = (n: string): void => {
      idx.set(n, index); low.set(n, index); index++;
      stack.push(n); onStack.add(n);
      work.push({ n, i: 0, succ: next(n) });
    };
    push(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      if (top.i < top.succ.length) {
        const m = top.succ[top.i++]!;
        if (!idx.has(m)) push(m);
        else if (onStack.has(m)) low.set(top.n, Math.min(low.get(top.n)!, idx.get(m)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!;
        low.set(parent.n, Math.min(low.get(parent.n)!, low.get(top.n)!));
      }
      if (low.get(top.n) === idx.get(top.n)) {
        const comp: string[] = [];
        let m: string;
        do { m = stack.pop()!; onStack.delete(m); comp.push(m); } while (m !== top.n);
        if (comp.length > 1 || next(top.n).includes(top.n)) out.push(comp.sort());
      }
    }
  }
  return out.sort((a, b) => b.length - a.length || a[0]!.localeCompare(b[0]!));
}

/** Module-level cycles: modules (first folder) that reach each other through imports. */
export function moduleCycles(g: ImportGraph): string[][] {
  const adj = new Map<string, Set<string>>();
  for (const e of g.edges) {
    const a = moduleOf(e.from);
    const b = moduleOf(e.to);
    if (a === b) continue;
    if (!adj.has(a)) adj.set(a, new Set());
    adj.get(a)!.add(b);
  }
  const mods = [...new Set(g.files.map(moduleOf))].sort();
  return cycles(mods, (m) => [...(adj.get(m) ?? [])]);
}

/** File-level cycles: files that reach each other through imports (type-only imports included). */
export function fileCycles(g: ImportGraph): string[][] {
  const adj = new Map<string, string[]>();
  for (const e of g.edges) {
    if (!adj.has(e.from)) adj.set(e.from, []);
    adj.get(e.from)!.push(e.to);
  }
  return cycles(g.files, (f) => adj.get(f) ?? []);
}

/** Imports across modules that do not go through the target module's `index.ts`. */
export function deepImports(g: ImportGraph): ImportEdge[] {
  return g.edges.filter((e) => {
    const a = moduleOf(e.from);
    const b = moduleOf(e.to);
    if (a === b || !e.to.includes('/')) return false; // same module, or a top-level file (main.ts)
    return e.to !== `${b}/index.ts`;
  });
}
