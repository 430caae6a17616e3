/**
 * The SQLite store's database side: better-sqlite3, synchronous. It runs inside the store's worker thread
 * (sqlite-worker.ts), never on the SIP event loop; {@link SqliteStore} (sqlite-store.ts) is the async face that
 * forwards each Store call to it. One connection per store; WAL mode, `synchronous=NORMAL` (why: docs/store.md), a
 * busy timeout and foreign keys on. Every write that spans rows runs in a `BEGIN IMMEDIATE` transaction, so two
 * processes sharing one file serialize instead of failing on lock upgrade.
 *
 * The Store methods live in one part per concern, each on the shared connection (sqlite-connection.ts):
 * registrations, calls (commits, history, recovery, retention), the outbox and deliveries, admin (configuration,
 * keys, audit), and voicemail and recordings. SqliteCore forwards each method to its part (forward-methods.ts).
 */
import type { Store } from '../store.js';
import { forwardToParts, type MethodsOf } from '../forward-methods.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from '../migrations/index.js';
import { SqliteAdmin } from './sqlite-admin.js';
import { SqliteCalls } from './sqlite-calls.js';
import { SqliteConnection, type SqliteCoreOptions } from './sqlite-connection.js';
import { SqliteOutbox } from './sqlite-outbox.js';
import { SqliteRecordings } from './sqlite-recordings.js';
import { SqliteRegistrations } from './sqlite-registrations.js';

export type { SqliteCoreOptions } from './sqlite-connection.js';

/** A migration applied by {@link SqliteCore.migrate} (the store logs it on the main thread). */
export interface AppliedMigration { version: number; name: string }

/** The parts, one per concern; their methods are SqliteCore's. */
const PARTS = [SqliteRegistrations, SqliteCalls, SqliteOutbox, SqliteAdmin, SqliteRecordings] as const;

/** The methods SqliteCore forwards to its parts (the Store methods but migrate and close, plus `commitMany`, `commitStats`). */
export interface SqliteCore extends MethodsOf<SqliteRegistrations>, MethodsOf<SqliteCalls>, MethodsOf<SqliteOutbox>,
  MethodsOf<SqliteAdmin>, MethodsOf<SqliteRecordings> {}

/** The Store methods on one connection; synchronous inside (each resolves at once). Built in the worker only. */
export class SqliteCore implements Omit<Store, 'migrate'> {
  readonly #db: SqliteConnection;
  readonly #parts: readonly object[];

  static {
    forwardToParts(SqliteCore, PARTS, (core) => core.#parts);
  }

  constructor(opts: SqliteCoreOptions) {
    this.#db = new SqliteConnection(opts);
    this.#parts = PARTS.map((Part) => new Part(this.#db));
  }

  /** Applies the migrations not applied yet, stamping them `nowMs`; returns those it applied. */
  async migrate(nowMs: number): Promise<AppliedMigration[]> {
    const done: AppliedMigration[] = [];
    const db = this.#db.database;
    this.#db.op('migrate', () => {
      db.exec(SCHEMA_MIGRATIONS_DDL);
      for (const m of MIGRATIONS) {
        const applied = this.#db.immediate(() => {
          if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return false;
          db.exec(m.sqlite);
          db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(m.version, m.name, new Date(nowMs).toISOString());
          return true;
        });
        if (applied) done.push({ version: m.version, name: m.name });
      }
    });
    return done;
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
