/**
 * STYLE.md §9's size rule as an executable one (issue 17): a source file is usually under 300 lines and never over
 * 500. Every `.ts` file under src/ is read from disk (not only those the import graph reaches), and a file over the
 * limit fails the test with its path and line count. A file that grows past it is split by concern, not excused here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../../src');
const MAX_LINES = 500;

/** Lines as an editor numbers them: a final newline ends the last line rather than starting another. */
function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** Every `.ts` file under `dir`, relative to src/ with `/` separators, sorted. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => relative(SRC, join(dir, f)).split(sep).join('/'))
    .sort();
}

describe('file size (STYLE.md §9)', () => {
  it(`keeps every src/**/*.ts file at ${MAX_LINES} lines or fewer`, () => {
    const files = sourceFiles(SRC);
    expect(files.length, 'no source files found: is SRC right?').toBeGreaterThan(100);
    const over = files
      .map((f) => ({ f, n: lineCount(readFileSync(join(SRC, f), 'utf8')) }))
      .filter((x) => x.n > MAX_LINES)
      .map((x) => `src/${x.f}: ${x.n} lines (limit ${MAX_LINES})`);
    expect(over).toEqual([]);
  });

  it('counts lines as an editor does', () => {
    expect([lineCount(''), lineCount('a'), lineCount('a\n'), lineCount('a\nb'), lineCount('a\nb\n'), lineCount('\n')]).toEqual([0, 1, 1, 2, 2, 1]);
  });
});
