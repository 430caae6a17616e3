/** SQLite commit cost, synchronous NORMAL vs FULL: 1000 single-event commits each, twice. `npx tsx bench/tools/sqlite-sync.ts` */
import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
import { createSqliteStore } from '../../src/store/index.js';
for (const sync of ['normal', 'full', 'normal', 'full'] as const) {
  const store = await createSqliteStore({ file: join(mkdtempSync(join(tmpdir(), 'sync-')), 's.db'), synchronous: sync });
  const t = performance.now();
  for (let i = 0; i < 1000; i++) await store.commit({ events: [{ event_id: `e${i}`, unique_call_id: String(i), type: 'user_inbound', sequence: 1, occurred_at: new Date().toISOString(), endpoint: { kind: 'global' }, payload: { a: 'x'.repeat(500) } }] });
  const ms = performance.now() - t;
  console.log(sync, `${(ms / 1000).toFixed(3)} ms per commit`);
  await store.close();
}
