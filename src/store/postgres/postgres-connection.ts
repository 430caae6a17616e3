/**
 * The PostgreSQL store's connection pool, shared by its parts (postgres-store.ts): one query, or a transaction on one
 * pooled client, with every failure turned into a StoreError naming the operation.
 */
import pg from 'pg';
import type { Logger } from '../../common/index.js';
import { toStoreError } from '../errors.js';

/** A result row. */
export type Row = Record<string, unknown>;
/** What a transaction's body runs its statements on. */
export type Queryable = Pick<pg.PoolClient, 'query'>;
/** PostgreSQL's i-th (1-based) placeholder. */
export const PH = (i: number): string => `$${i}`;

/** bigint columns (epoch ms, counts) come back as JS numbers; everything else uses pg's default parsers. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** What {@link PostgresConnection} opens its pool with (the schema is already checked). */
export interface PostgresConnectionOptions {
  connectionString: string;
  schema: string | undefined;
  maxConnections: number;
  log: Logger | undefined;
}

/** A `pg` pool; built by PostgresStore, used by its parts. */
export class PostgresConnection {
  readonly #pool: pg.Pool;
  readonly #log: Logger | undefined;

  constructor(opts: PostgresConnectionOptions) {
    this.#log = opts.log;
    this.#pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.maxConnections,
      types: TYPES,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.#pool.on('error', (err) => this.#log?.warn({ err }, 'store: idle PostgreSQL connection failed'));
    // Between the pool handing a client out (it drops its idle listener first) and `tx` listening on it, node-postgres
    // can emit 'error' on that client with nobody listening: a new client's checkout completes inside the socket read
    // that may also carry the server's FATAL (pg_terminate_backend, a restart), and the `await` that resumes `tx` runs
    // only after that read. An unheard 'error' is an uncaught exception (seen once in the kill-mid-burst test). So
    // every client listens for its whole life; the failure still reaches the caller through the statement that fails.
    this.#pool.on('connect', (client) => {
      client.on('error', (err) => this.#log?.debug({ err }, 'store: PostgreSQL connection error'));
    });
  }

  /** Ends the pool. */
  async end(): Promise<void> {
    await this.#pool.end();
  }

  /** One statement on any pooled client. */
  async query(operation: string, sql: string, params: unknown[]): Promise<pg.QueryResult<Row>> {
    try {
      return await this.#pool.query<Row>(sql, params);
    } catch (err) {
      throw this.#fail(operation, err);
    }
  }

  /** Runs `fn` in BEGIN … COMMIT on one pooled client; ROLLBACK on any error. */
  async tx<T>(operation: string, fn: (c: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.#fail(operation, err);
    }
    let broken = false;
    // A checked-out client whose connection dies (pg_terminate_backend, a network cut) emits 'error': without a
    // listener that is an uncaught exception. The query in flight rejects as well, and the transaction is retried.
    const onError = (err: Error): void => { broken = true; this.#log?.warn({ err, operation }, 'store: PostgreSQL connection lost in a transaction'); };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = true;
        this.#log?.warn({ err: rollbackErr, operation }, 'store: ROLLBACK failed; dropping the connection');
      }
      throw this.#fail(operation, err);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  #fail(operation: string, err: unknown): Error {
    const wrapped = toStoreError(operation, err);
    this.#log?.debug({ err: wrapped, operation }, 'store: operation failed');
    return wrapped;
  }
}
