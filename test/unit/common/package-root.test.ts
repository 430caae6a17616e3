import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/common/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'sb-pkgroot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('packageRoot', () => {
  it('finds the repository root from src/ (tsx) and from a directory two levels down (dist/src/ when built)', () => {
    const root = resolve(import.meta.dirname, '../../..');
    expect(packageRoot(join(root, 'src'))).toBe(root);
    writeFileSync(join(tmp, 'package.json'), '{}');
    mkdirSync(join(tmp, 'dist/src/api/console'), { recursive: true });
    expect(packageRoot(join(tmp, 'dist/src'))).toBe(tmp);
    expect(packageRoot(join(tmp, 'dist/src/api/console'))).toBe(tmp);
  });

  it('throws naming the directory when no package.json is above it', () => {
    expect(() => packageRoot('/')).toThrow('no package.json in / or any directory above it');
  });
});
