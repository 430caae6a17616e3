/**
 * Runs the Store contract (store-contract.ts) against SQLite (a temp file per case) and PostgreSQL (a unique
 * schema per case, dropped after). PostgreSQL is skipped locally only when unreachable (the reason is printed);
 * with CI=true an unreachable PostgreSQL fails the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSqliteStore } from '../../../src/store/index.js';
import { storeContract } from './store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('SQLite', {
  async open() {
    const file = join(dir, `case-${++n}`, 'store.sqlite');
    const store = await createSqliteStore({ file });
    const others: Array<{ close(): Promise<void> }> = [];
    return {
      store,
      async another() {
        const s = await createSqliteStore({ file });
        others.push(s);
        return s;
      },
      async cleanup() {
        for (const o of others) await o.close();
        await store.close();
      },
    };
  },
});
