/**
 * Writes call commits on one SQLite connection (inside the store's worker thread): a batch is planned once
 * ({@link planCommits}: each row once per transaction) and written in one `BEGIN IMMEDIATE` transaction with
 * statements prepared once per connection. It counts what it wrote, so a benchmark can state the cost per call.
 */
import type Database from 'better-sqlite3';
import type { CallCommit } from '../store.js';
import { planCommits, planStatements, type CommitPlan } from '../sql/commit-plan.js';
import { UPSERT_DIALOG } from '../sql/maintenance.js';
import { upsertRecordingSql } from '../sql/recordings.js';
import { SQLITE_DIALECT } from '../sql/history.js';
import { upsertSql, type TableSpec } from '../sql/records.js';

const INSERT_EVENT = `INSERT INTO outbox_events (event_id, unique_call_id, type, sequence, occurred_at, endpoint, payload)
  VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`;
const DROP_DIALOGS = 'DELETE FROM leg_dialogs WHERE unique_call_id = ?';

/** What the committer wrote since the connection opened (ours: `SqliteStore.commitStats`). */
export interface CommitStats {
  /** Transactions committed. */
  transactions: number;
  /** Call commits in them. */
  commits: number;
  /** Statements run (one per row, event, dialog, delete). */
  statements: number;
  /** Rows the statements inserted, updated or deleted (SQLite's `changes`; index entries not counted). */
  rowsChanged: number;
  /** Row writes saved by coalescing (a later commit of the same transaction replaced or deleted the row). */
  coalesced: number;
}

/** The commit path of one connection. */
export class SqliteCommitter {
  readonly #db: Database.Database;
  readonly #upserts = new Map<TableSpec<unknown>, Database.Statement>();
  readonly #tx: Database.Transaction<(plan: CommitPlan) => number>;
  #insertEvent: Database.Statement | null = null;
  #dropDialogs: Database.Statement | null = null;
  #upsertDialog: Database.Statement | null = null;
  #upsertRecording: Database.Statement | null = null;
  readonly #stats: CommitStats = { transactions: 0, commits: 0, statements: 0, rowsChanged: 0, coalesced: 0 };

  constructor(db: Database.Database) {
    this.#db = db;
    this.#tx = db.transaction((plan: CommitPlan) => this.#write(plan));
  }

  /** Writes `commits` in one transaction; all or nothing. Throws StoreArgumentError (bad record) or the driver's error. */
  write(commits: readonly CallCommit[]): void {
    const plan = planCommits(commits);
    const statements = planStatements(plan);
    if (statements === 0) return;
    const changed = this.#tx.immediate(plan);
    const s = this.#stats;
    s.transactions++;
    s.commits += commits.length;
    s.statements += statements;
    s.rowsChanged += changed;
    s.coalesced += plan.coalesced;
  }

  stats(): CommitStats {
    return { ...this.#stats };
  }

  /** Runs the plan; returns the rows changed. */
  #write(plan: CommitPlan): number {
    let changed = 0;
    for (const u of plan.upserts) {
      const stmt = this.#upsert(u.spec);
      for (const values of u.rows) changed += stmt.run(values).changes;
    }
    if (plan.events.length > 0) {
      const insert = (this.#insertEvent ??= this.#db.prepare(INSERT_EVENT));
      for (const values of plan.events) changed += insert.run(values).changes;
    }
    if (plan.dropDialogs.length > 0) {
      const drop = (this.#dropDialogs ??= this.#db.prepare(DROP_DIALOGS));
      for (const id of plan.dropDialogs) changed += drop.run(id).changes;
    }
    if (plan.dialogs.length > 0) {
      const upsert = (this.#upsertDialog ??= this.#db.prepare(UPSERT_DIALOG));
      for (const values of plan.dialogs) changed += upsert.run(values).changes;
    }
    if (plan.recordings.length > 0) {
      const upsert = (this.#upsertRecording ??= this.#db.prepare(upsertRecordingSql(SQLITE_DIALECT.ph)));
      for (const values of plan.recordings) changed += upsert.run(values).changes;
    }
    return changed;
  }

  #upsert(spec: TableSpec<unknown>): Database.Statement {
    let stmt = this.#upserts.get(spec);
    if (!stmt) {
      stmt = this.#db.prepare(upsertSql(spec, SQLITE_DIALECT.ph));
      this.#upserts.set(spec, stmt);
    }
    return stmt;
  }
}
