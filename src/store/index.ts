/**
 * The store module: the {@link Store} interface (store.ts), its errors, and the two backends' factories.
 * Only `main.ts` (and tests/benchmarks) should call the factories; everything else receives a `Store`.
 */
export type {
  CallCommit, CallDirection, CallRecord, Delivery, DeliveryAttempt, DeliveryStatus, EndpointRef, GroupCallRecord,
  HistoryQuery, LegRecord, OutboxEvent, Registration, Store, UserCallRecord,
} from './store.js';
export { StoreError, StoreArgumentError, STORE_ERROR_CODE } from './errors.js';
export { MAX_HISTORY_LIMIT } from './sql/history.js';
export { createSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { createPostgresStore, PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
