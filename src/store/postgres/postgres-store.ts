/**
 * The Store for several nodes: PostgreSQL through a `pg` pool. Multi-row writes run in one transaction on one pooled
 * client. Delivery claiming uses `FOR UPDATE SKIP LOCKED` plus a lease column, so concurrent dispatchers (in this or
 * other processes) never hold the same delivery at once. Payloads, endpoints and configs are jsonb.
 *
 * The Store methods live in one part per concern, each on the shared pool (postgres-connection.ts): registrations,
 * calls (commits, history, recovery, retention), the outbox and deliveries, admin (configuration, keys, audit), and
 * voicemail and recordings. PostgresStore forwards each method to its part (forward-methods.ts).
 */
import type { Logger } from '../../common/index.js';
import { systemClock, type Clock } from '../../common/index.js';
import type { Store } from '../store.js';
import { StoreArgumentError } from '../errors.js';
import { forwardToParts, type MethodsOf } from '../forward-methods.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from '../migrations/index.js';
import { PostgresAdmin } from './postgres-admin.js';
import { PostgresCalls } from './postgres-calls.js';
import { PostgresConnection, type Row } from './postgres-connection.js';
import { PostgresOutbox } from './postgres-outbox.js';
import { PostgresRecordings } from './postgres-recordings.js';
import { PostgresRegistrations } from './postgres-registrations.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgresql://user@host:port/db`; a unix socket works as `postgresql:///db?host=/var/run/postgresql`. */
  connectionString: string;
  /** Schema to use (created by migrate if missing); default the server's search_path (usually `public`). */
  schema?: string;
  log?: Logger;
  /** Clock for `schema_migrations.applied_at`; default the system clock. */
  clock?: Clock;
  /** Run {@link PostgresStore.migrate} before returning; default true. */
  migrate?: boolean;
  /** Pool size; default 10. */
  maxConnections?: number;
}

/** Key of the advisory lock that serializes migrations across processes ("sbmigr" in ASCII). */
const MIGRATION_LOCK_KEY = 0x73626d69677200n.toString();
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** The parts, one per concern; their methods are PostgresStore's. */
const PARTS = [PostgresRegistrations, PostgresCalls, PostgresOutbox, PostgresAdmin, PostgresRecordings] as const;

/** Connects (and by default migrates) a PostgreSQL store. */
export async function createPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(opts);
  if (opts.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

/** The methods PostgresStore forwards to its parts (the Store methods but migrate and close, plus `commitMany`). */
export interface PostgresStore extends MethodsOf<PostgresRegistrations>, MethodsOf<PostgresCalls>, MethodsOf<PostgresOutbox>,
  MethodsOf<PostgresAdmin>, MethodsOf<PostgresRecordings> {}

/**
 * {@link Store} on PostgreSQL. Build it with {@link createPostgresStore}. `commitMany` (ours, not on Store) writes
 * many commits in one transaction, each row once (sql/commit-plan.ts says how it equals writing them one by one).
 */
export class PostgresStore implements Store {
  readonly #db: PostgresConnection;
  readonly #parts: readonly object[];
  readonly #log: Logger | undefined;
  readonly #clock: Clock;
  readonly #schema: string | undefined;
  #closed = false;

  static {
    forwardToParts(PostgresStore, PARTS, (store) => store.#parts);
  }

  constructor(opts: PostgresStoreOptions) {
    if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) throw new StoreArgumentError(`schema must match ${SCHEMA_NAME}, got ${JSON.stringify(opts.schema)}`);
    this.#log = opts.log;
    this.#clock = opts.clock ?? systemClock;
    this.#schema = opts.schema;
    this.#db = new PostgresConnection({ connectionString: opts.connectionString, schema: opts.schema, maxConnections: opts.maxConnections ?? 10, log: opts.log });
    this.#parts = PARTS.map((Part) => new Part(this.#db));
  }

  async migrate(): Promise<void> {
    await this.#db.tx('migrate', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      if (this.#schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
      await c.query(SCHEMA_MIGRATIONS_DDL);
      const done = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r: Row) => r.version as number));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await c.query(m.postgres);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
          [m.version, m.name, new Date(this.#clock.now()).toISOString()]);
        this.#log?.info({ version: m.version, name: m.name, schema: this.#schema }, 'store: migration applied');
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.end();
  }
}
