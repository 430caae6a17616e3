/**
 * A failed store commit is retried, never silently dropped (issue 11): the CommitBatcher the engine uses writes to
 * a real SQLite file that a second connection keeps busy (a held write lock: SQLITE_BUSY), then to one that is full
 * (SQLITE_FULL through max_page_count, freed by deleting a filler table), and to PostgreSQL while the store's
 * connections are terminated mid-burst (pg_terminate_backend). Every call step lands with its events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CommitBatcher } from '../../../src/engine/records/commit-batcher.js';
import { createPostgresStore, createSqliteStore, isTransientStoreError, StoreError, type CallCommit, type Store } from '../../../src/store/index.js';
import { captureLog } from '../../unit/events/fixtures.js';
import { at, call, callId, event } from '../../unit/store/store-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-store-fail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PG_URL = process.env.SWITCHBOARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** One call step: the call row and two events, with a payload big enough to need new pages. */
function step(n: number): CallCommit {
  const id = callId(n);
  return { call: call(id, at(n)), events: [1, 2].map((s) => event(id, s, { payload: { pad: 'x'.repeat(2000), n, s } })) };
}

async function expectAllWritten(store: Store, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) {
    expect(await store.getCall(callId(n)), `call ${n}`).toMatchObject({ unique_call_id: callId(n) });
    expect((await store.listCallEvents(callId(n))).map((e) => e.sequence), `events of call ${n}`).toEqual([1, 2]);
  }
}

describe('store commit failures are retried, not dropped', () => {
  it('SQLITE_BUSY: a second connection holds the write lock for 1.5 s; the steps wait, then land with their events', async () => {
    const file = join(dir, 'busy.sqlite');
    const store = await createSqliteStore({ file, busyTimeoutMs: 20 });
    const { log, lines } = captureLog('warn');
    const batcher = new CommitBatcher({ store, log, baseDelayMs: 20, maxDelayMs: 200, alarmAfter: 4 });
    const other = new Database(file);
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    const writes = Array.from({ length: 20 }, (_, i) => batcher.write(step(i + 1)));
    await new Promise((r) => setTimeout(r, 1500));
    expect(batcher.queued).toBe(20);
    other.exec('COMMIT');
    other.close();
    await Promise.all(writes);
    await expectAllWritten(store, 1, 20);
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes('held in memory'))).toBe(true);
    const alarm = lines.find((l) => l.level === 50)!;
    expect(alarm.unique_call_id).toBe(callId(1));
    expect(alarm.events).toEqual(['user_inbound', 'user_inbound']);
    await store.close();
  });

  it('SQLITE_FULL: the database reaches its page limit; once space is freed the held steps are written', async () => {
    const file = join(dir, 'full.sqlite');
    const probe = await createSqliteStore({ file });
    await probe.close();
    const other = new Database(file);
    const pages = other.pragma('page_count', { simple: true }) as number;
    const store = await createSqliteStore({ file, maxPageCount: pages + 4 });
    // The filler takes the file past the store's limit: its next commit needs pages it may not add.
    other.exec('CREATE TABLE filler (b BLOB)');
    other.prepare('INSERT INTO filler VALUES (?)').run(Buffer.alloc(400_000));
    other.pragma('wal_checkpoint(TRUNCATE)');
    const err = await store.commit(step(100)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError & { cause: { code: string } }).cause.code).toBe('SQLITE_FULL');
    expect(isTransientStoreError(err)).toBe(true);
    const { log, lines } = captureLog('warn');
    const batcher = new CommitBatcher({ store, log, baseDelayMs: 20, maxDelayMs: 100, alarmAfter: 3 });
    const writes = Array.from({ length: 10 }, (_, i) => batcher.write(step(i + 1)));
    await new Promise((r) => setTimeout(r, 600));
    expect(batcher.queued).toBe(10);
    expect(lines.some((l) => l.level === 50)).toBe(true);
    // Deleting the filler puts its pages on the freelist; the store reuses them without growing the file.
    other.exec('DELETE FROM filler');
    other.close();
    await Promise.all(writes);
    await expectAllWritten(store, 1, 10);
    await store.close();
  });

  it('a permanent failure (a constraint) fails that commit alone, at once', async () => {
    const store = await createSqliteStore({ file: ':memory:' });
    const batcher = new CommitBatcher({ store, baseDelayMs: 1000 });
    const bad: CallCommit = { call: call(callId(1), at(1), { direction: 'sideways' as 'inbound' }) };
    const results = await Promise.allSettled([batcher.write(bad), batcher.write(step(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(isTransientStoreError((results[0] as PromiseRejectedResult).reason)).toBe(false);
    await store.close();
  });

  it('PostgreSQL: the store\'s connections are terminated mid-burst; every step lands once', async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const schema = `sb_fail_${process.pid}_${Date.now().toString(36)}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    const store = await createPostgresStore({ connectionString: `${PG_URL}?application_name=${schema}`, schema, maxConnections: 2 });
    try {
      const batcher = new CommitBatcher({ store, baseDelayMs: 20, maxDelayMs: 200 });
      const writes: Array<Promise<void>> = [];
      let killed = 0;
      for (let i = 1; i <= 200; i++) {
        writes.push(batcher.write(step(i)));
        if (i % 50 === 25) {
          await new Promise((r) => setImmediate(r));
          const r = await admin.query('SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t', [schema]);
          killed += r.rows[0].n as number;
        }
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(writes);
      expect(killed).toBeGreaterThan(0);
      await expectAllWritten(store, 1, 200);
    } finally {
      await store.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }, 60_000);
});
