/**
 * One SQLite connection inside the store's worker thread, shared by SqliteCore's parts (sqlite-core.ts): WAL mode,
 * `synchronous=NORMAL` (why: docs/store.md), a busy timeout and foreign keys on; prepared statements cached by their
 * text; every failure turned into a StoreError naming the operation.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { toStoreError } from '../errors.js';

/** What the worker opens a connection with (the cloneable part of SqliteStoreOptions). */
export interface SqliteCoreOptions {
  /** Database file (its directory is created if missing) or `':memory:'`. */
  file: string;
  /** How long a writer waits for another process's lock; default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * `PRAGMA synchronous`; default `normal`: in WAL mode a commit survives a process crash (kill -9) but the last
   * ones can be lost on power loss or an OS crash. `full` fsyncs every commit, which better-sqlite3 does on the
   * event loop: 5–6 ms more per transaction here (docs/store.md, bench/README.md).
   */
  synchronous?: 'normal' | 'full';
  /** Caps the database at this many pages (a full database is SQLITE_FULL, as a full disk); default no cap. */
  maxPageCount?: number;
}

/** A result row. */
export type Row = Record<string, unknown>;
const STATEMENT_CACHE_MAX = 256;

/** The connection; built by SqliteCore, used by its parts. */
export class SqliteConnection {
  /** The better-sqlite3 handle (migrations, and the committer's own prepared statements). */
  readonly database: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(opts: SqliteCoreOptions) {
    try {
      if (opts.file !== ':memory:' && opts.file !== '') mkdirSync(dirname(resolve(opts.file)), { recursive: true });
      this.database = new Database(opts.file);
      this.database.pragma('journal_mode = WAL');
      this.database.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
      this.database.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.database.pragma('foreign_keys = ON');
      if (opts.maxPageCount !== undefined) this.database.pragma(`max_page_count = ${Math.max(1, Math.trunc(opts.maxPageCount))}`);
    } catch (err) {
      throw toStoreError('open', err);
    }
  }

  /** Closes the connection (once). */
  close(): void {
    if (!this.database.open) return;
    this.#statements.clear();
    this.op('close', () => this.database.close());
  }

  /** Runs `fn`, turning anything it throws into a StoreError naming `operation`. */
  op<T>(operation: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStoreError(operation, err);
    }
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction: it takes the write lock up front, so two processes sharing one
   * file serialize instead of failing on lock upgrade.
   */
  immediate<T>(fn: () => T): T {
    return this.database.transaction(fn).immediate();
  }

  /** A prepared statement, cached by its SQL text. */
  stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) {
      if (this.#statements.size >= STATEMENT_CACHE_MAX) this.#statements.clear();
      s = this.database.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }
}

/** A JSON text column's value (payloads, route sets, audit changes) parsed. */
export function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}
