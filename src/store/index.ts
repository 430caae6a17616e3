/**
 * The store module: the {@link Store} interface (store.ts), its errors, and the two backends' factories.
 * Only `main.ts`/`switchboard.ts` (and tests/benchmarks) should call the factories; everything else receives a `Store`.
 *
 * Behaviour both backends share (the contract suite in test/unit/store checks it):
 * - The factories run `migrate()` unless `{ migrate: false }`; `migrate()` is idempotent and safe to run from several
 *   processes at once. Migrations live in `migrations/` and are recorded in `schema_migrations`.
 * - Timestamps are returned as ISO 8601 UTC with milliseconds, whatever offset they were written with; an unparsable
 *   timestamp, a negative offset, a limit < 1 (or > 10000 for history) is a {@link StoreArgumentError} (a TypeError).
 *   Every database failure is a {@link StoreError} (`code` `SB_ERR_STORE`, `operation` = the method, `cause` = driver error).
 * - `commit` is one transaction: call by unique_call_id, legs by leg_id, user rows by (unique_call_id, user_number),
 *   queue/ring-group rows by (unique_call_id, group_name) are upserted; events are inserted (a repeated event_id is
 *   ignored, so retrying a commit is safe). An upsert leaves a row's fixed columns as first written: a call's
 *   call_start_at and direction, a leg's unique_call_id, kind and started_at, a history row's call_start_at.
 *   Saved dialogs are upserted by (unique_call_id, leg_id). `commitMany` (both backends, not on Store) writes many
 *   commits in one transaction, each row once, leaving the rows the same commits leave one by one.
 * - History: ordered by call_start_at, then unique_call_id, then user_number/group_name, in the chosen direction;
 *   from/to inclusive; an empty `names` list means no filter.
 * - `listUndispatchedEvents`: commit order. `claimDueDeliveries`: most overdue first (next_attempt_at, then creation
 *   order), skipping rows whose lease has not ended and rows whose call has an earlier-sequence delivery to the same
 *   endpoint still pending. `recordAttempt` increments `attempts` and ends the lease; a retry (still pending,
 *   `next_attempt_at` set) raises the `next_attempt_at` of the later pending deliveries of its call to its endpoint to
 *   that time, so the claim's index walk does not pass over rows that could not be sent anyway. `listDeliveries`:
 *   newest first. `countUndispatchedEvents`: events not fanned out yet.
 * - `createDeliveries` copies unique_call_id, type and sequence from the event; `created_at` = `next_attempt_at`
 *   unless the optional `created_at` is given; rows for unknown events are ignored.
 * - `fanOutEvents` = `createDeliveries` + `markEventsDispatched` in one transaction; `recordAttempts` = many
 *   `recordAttempt`s in one transaction, all or nothing (the dispatcher batches its completions through it).
 * - `setEndpointDisabled` only records the endpoint state; the dispatcher decides what to do with its deliveries.
 * - PostgreSQL stores payloads as jsonb: objects come back equal, but key order is not preserved.
 */
export type {
  AdminKeyRecord, AuditEntry, AttemptRecord, CallCommit, CallDirection, CallRecord, Delivery, DeliveryAttempt, DeliveryStatus, DeliveryUpdate, EndpointRef,
  GroupCallRecord, HistoryQuery, LegDialogRecord, LegRecord, NewDelivery, RetentionKind, OutboxEvent, Registration, Store, UserCallRecord, VoicemailMailStatus, VoicemailMailUpdate, VoicemailRecord,
  RecordingQuery, RecordingRecord, StoredConfigVersion,
} from './store.js';
export { isTransientStoreError, StoreError, StoreArgumentError, STORE_ERROR_CODE } from './errors.js';
export { MAX_HISTORY_LIMIT, MAX_HISTORY_OFFSET } from './sql/history.js';
export { RetentionSweeper, type RetentionSweeperOptions, type SweepCounts } from './retention-sweeper.js';
export { createSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { createPostgresStore, PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
