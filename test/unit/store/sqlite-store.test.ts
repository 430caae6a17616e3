/** SQLite-specific behaviour of the store: file setup, pragmas, migrations bookkeeping, two connections on one file. */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { createSqliteStore, StoreError } from '../../../src/store/index.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from '../../../src/store/migrations/index.js';
import { DIALOG_COLUMNS, dialogValues } from '../../../src/store/sql/maintenance.js';
import { callId, dialog, event } from './store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SqliteStore', () => {
  it('creates the data directory, uses WAL, foreign keys and records each migration once', async () => {
    const file = join(dir, 'nested', 'deeper', 'store.sqlite');
    const clock = new ManualClock(Date.UTC(2026, 10, 28));
    const store = await createSqliteStore({ file, clock });
    await store.migrate();
    await store.close();
    expect(existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all())
        .toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: '2026-11-28T00:00:00.000Z' })));
    } finally {
      db.close();
    }
    // Reopening an existing file applies nothing new.
    const again = await createSqliteStore({ file });
    await again.close();
  });

  it('migration 6 keeps the saved dialogs of a database written before it, now keyed by call and leg', async () => {
    const file = join(dir, 'before-6.sqlite');
    const db = new Database(file);
    db.exec(SCHEMA_MIGRATIONS_DDL);
    for (const m of MIGRATIONS.filter((x) => x.version < 6)) {
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, '2026-11-28T00:00:00.000Z');
    }
    const saved = dialog(callId(1), 'leg_1');
    db.prepare(`INSERT INTO leg_dialogs (${DIALOG_COLUMNS.join(', ')}) VALUES (${DIALOG_COLUMNS.map(() => '?').join(', ')})`).run(...dialogValues(saved));
    db.close();
    const store = await createSqliteStore({ file });
    expect(await store.listLegDialogs(callId(1))).toEqual([saved]);
    await store.commit({ dialogs: [{ ...saved, local_cseq: 2 }] });
    expect(await store.listLegDialogs(callId(1))).toEqual([{ ...saved, local_cseq: 2 }]);
    await store.close();
  });

  it('enforces foreign keys: a delivery attempt for an unknown delivery is a StoreError', async () => {
    const store = await createSqliteStore({ file: ':memory:' });
    await expect(store.recordAttempt({ delivery_id: 'dlv_none', attempt: 1, at: 1, status_code: null, error: 'x', duration_ms: 0 },
      { status: 'failed', next_attempt_at: null, last_status_code: null, last_error: 'x' })).rejects.toMatchObject({ code: 'SB_ERR_STORE', operation: 'recordAttempt' });
    await store.close();
  });

  it('two connections on one file never claim the same delivery while its lease runs', async () => {
    const file = join(dir, 'two', 'store.sqlite');
    const a = await createSqliteStore({ file });
    const b = await createSqliteStore({ file });
    const events = Array.from({ length: 20 }, (_, i) => event(callId(i + 1), 1));
    await a.commit({ events });
    await a.createDeliveries(events.map((e) => ({ delivery_id: `dlv_${e.event_id}`, event_id: e.event_id, endpoint_url: 'http://x/', next_attempt_at: 0 })));
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      for (const s of [a, b]) ids.push(...(await s.claimDueDeliveries(10, 3, 1000)).map((d) => d.delivery_id));
    }
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    await a.close();
    await b.close();
  });

  it('a closed store rejects with a StoreError; close is idempotent', async () => {
    const store = await createSqliteStore({ file: ':memory:' });
    await store.close();
    await store.close();
    await expect(store.countPendingDeliveries()).rejects.toBeInstanceOf(StoreError);
  });
});
