/**
 * The Store for several nodes: PostgreSQL through a `pg` pool. Multi-row writes run in one transaction on one pooled
 * client. Delivery claiming uses `FOR UPDATE SKIP LOCKED` plus a lease column, so concurrent dispatchers (in this or
 * other processes) never hold the same delivery at once. Payloads, endpoints and configs are jsonb.
 */
import pg from 'pg';
import type { Logger } from '../../common/index.js';
import { systemClock, type Clock } from '../../common/index.js';
import type {
  AdminKeyRecord, AuditEntry, AttemptRecord, CallCommit, CallRecord, Delivery, DeliveryAttempt, DeliveryStatus, DeliveryUpdate, GroupCallRecord, HistoryQuery,
  LegDialogRecord, LegRecord, NewDelivery, OutboxEvent, Registration, RetentionKind, Store, UserCallRecord, VoicemailMailUpdate, VoicemailRecord,
  RecordingQuery, RecordingRecord, StoredConfigVersion,
} from '../store.js';
import { listRecordingsSql, RECORDING_COLUMNS, recordingFromRow, upsertRecordingSql } from '../sql/recordings.js';
import { StoreArgumentError, toStoreError } from '../errors.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from '../migrations/index.js';
import { planCommits } from '../sql/commit-plan.js';
import { historySql, POSTGRES_DIALECT } from '../sql/history.js';
import {
  ADMIN_KEY_COLUMNS, ATTEMPT_COLUMNS, AUDIT_COLUMNS, CALLS, checkInt, nodeSuffixPattern, DELIVERY_COLUMNS, EVENT_COLUMNS, eventFromRow, fromRow, LEGS, normalizeIso, pick,
  QUEUE_CALLS, REGISTRATIONS, RING_GROUP_CALLS, rowValues, upsertSql, USER_CALLS, VOICEMAILS, type TableSpec,
} from '../sql/records.js';
import { cutoffParam, DIALOG_COLUMNS, dialogFromRow, numbered, sweepPlan, UPSERT_DIALOG } from '../sql/maintenance.js';

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

type Row = Record<string, unknown>;
type Queryable = Pick<pg.PoolClient, 'query'>;
const PH = (i: number): string => `$${i}`;
/** Key of the advisory lock that serializes migrations across processes ("sbmigr" in ASCII). */
const MIGRATION_LOCK_KEY = 0x73626d69677200n.toString();
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const DELIVERY_SELECT = `SELECT ${DELIVERY_COLUMNS.join(', ')} FROM deliveries`;
const EVENT_SELECT = `SELECT ${EVENT_COLUMNS.join(', ')} FROM outbox_events`;
/** Inserts deliveries from the arrays of {@link deliveryArrays} ($1–$5), copying call, type and sequence from the event. */
const CREATE_DELIVERIES = `INSERT INTO deliveries (delivery_id, event_id, endpoint_url, unique_call_id, type,
    sequence, status, attempts, next_attempt_at, created_at, updated_at, config_version)
  SELECT r.delivery_id, e.event_id, r.endpoint_url, e.unique_call_id, e.type, e.sequence, 'pending', 0, r.next_attempt_at, r.created_at, r.created_at,
    r.config_version
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[]) WITH ORDINALITY
    AS r(delivery_id, event_id, endpoint_url, next_attempt_at, created_at, config_version, ord)
  JOIN outbox_events e ON e.event_id = r.event_id
  ORDER BY r.ord
  ON CONFLICT (event_id, endpoint_url) DO NOTHING`;

const PG_UPSERT_DIALOG = numbered(UPSERT_DIALOG).replace('$9', '$9::jsonb');
const INSERT_EVENT = `INSERT INTO outbox_events (event_id, unique_call_id, type, sequence, occurred_at, endpoint, payload)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) ON CONFLICT (event_id) DO NOTHING`;

/** bigint columns (epoch ms, counts) come back as JS numbers; everything else uses pg's default parsers. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

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

/** {@link Store} on PostgreSQL. Build it with {@link createPostgresStore}. */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #log: Logger | undefined;
  readonly #clock: Clock;
  readonly #schema: string | undefined;
  #closed = false;

  constructor(opts: PostgresStoreOptions) {
    if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) throw new StoreArgumentError(`schema must match ${SCHEMA_NAME}, got ${JSON.stringify(opts.schema)}`);
    this.#log = opts.log;
    this.#clock = opts.clock ?? systemClock;
    this.#schema = opts.schema;
    this.#pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.maxConnections ?? 10,
      types: TYPES,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.#pool.on('error', (err) => this.#log?.warn({ err }, 'store: idle PostgreSQL connection failed'));
  }

  async migrate(): Promise<void> {
    await this.#tx('migrate', async (c) => {
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
    await this.#pool.end();
  }

  // registrations

  async upsertRegistration(reg: Registration): Promise<void> {
    await this.#query('upsertRegistration', upsertSql(REGISTRATIONS, PH), rowValues(REGISTRATIONS, reg));
  }

  async removeRegistration(username: string, contact: string): Promise<void> {
    await this.#query('removeRegistration', 'DELETE FROM registrations WHERE username = $1 AND contact = $2', [username, contact]);
  }

  async removeAllRegistrations(username: string): Promise<void> {
    await this.#query('removeAllRegistrations', 'DELETE FROM registrations WHERE username = $1', [username]);
  }

  async listRegistrations(username?: string): Promise<Registration[]> {
    const cols = REGISTRATIONS.columns.join(', ');
    const r = username === undefined
      ? await this.#query('listRegistrations', `SELECT ${cols} FROM registrations ORDER BY username, contact`, [])
      : await this.#query('listRegistrations', `SELECT ${cols} FROM registrations WHERE username = $1 ORDER BY contact`, [username]);
    return r.rows.map((row) => fromRow(REGISTRATIONS, row));
  }

  async purgeExpiredRegistrations(nowMs: number): Promise<number> {
    return (await this.#query('purgeExpiredRegistrations', 'DELETE FROM registrations WHERE expires_at <= $1', [nowMs])).rowCount ?? 0;
  }

  // calls and events

  async commit(c: CallCommit): Promise<void> {
    await this.commitMany([c]);
  }

  /**
   * Writes many commits in one transaction, each row once (ours, not on {@link Store}; sql/commit-plan.ts says how it
   * equals writing them one by one).
   */
  async commitMany(commits: readonly CallCommit[]): Promise<void> {
    // Validate and serialize before taking a connection: a bad timestamp is the caller's bug, not a SQL error.
    const plan = planCommits(commits);
    const steps: Array<{ sql: string; params: unknown[] }> = [];
    for (const u of plan.upserts) for (const params of u.rows) steps.push({ sql: upsertSql(u.spec, PH), params });
    for (const params of plan.events) steps.push({ sql: INSERT_EVENT, params });
    for (const id of plan.dropDialogs) steps.push({ sql: 'DELETE FROM leg_dialogs WHERE unique_call_id = $1', params: [id] });
    for (const params of plan.dialogs) steps.push({ sql: PG_UPSERT_DIALOG, params });
    for (const params of plan.recordings) steps.push({ sql: upsertRecordingSql(PH, '::jsonb'), params });
    if (steps.length === 0) return;
    await this.#tx('commit', async (client) => {
      for (const s of steps) await client.query(s.sql, s.params);
    });
  }

  async getCall(uniqueCallId: string): Promise<CallRecord | undefined> {
    const r = await this.#query('getCall', `SELECT ${CALLS.columns.join(', ')} FROM calls WHERE unique_call_id = $1`, [uniqueCallId]);
    return r.rows[0] ? fromRow(CALLS, r.rows[0]) : undefined;
  }

  async listLegs(uniqueCallId: string): Promise<LegRecord[]> {
    const r = await this.#query('listLegs', `SELECT ${LEGS.columns.join(', ')} FROM legs WHERE unique_call_id = $1 ORDER BY started_at, leg_id`, [uniqueCallId]);
    return r.rows.map((row) => fromRow(LEGS, row));
  }

  async queryUserCalls(q: HistoryQuery): Promise<UserCallRecord[]> {
    return this.#history('queryUserCalls', USER_CALLS, 'user_number', q);
  }

  async queryQueueCalls(q: HistoryQuery): Promise<GroupCallRecord[]> {
    return this.#history('queryQueueCalls', QUEUE_CALLS, 'group_name', q);
  }

  async queryRingGroupCalls(q: HistoryQuery): Promise<GroupCallRecord[]> {
    return this.#history('queryRingGroupCalls', RING_GROUP_CALLS, 'group_name', q);
  }

  // crash recovery and retention

  async listUnfinishedCalls(limit: number, nodeId?: number): Promise<CallRecord[]> {
    checkInt(limit, 1, 'limit');
    const r = await this.#query('listUnfinishedCalls', `SELECT ${CALLS.columns.join(', ')} FROM calls WHERE ended_at IS NULL AND unique_call_id LIKE $2 ORDER BY call_start_at LIMIT $1`,
      [limit, nodeSuffixPattern(nodeId)]);
    return r.rows.map((row) => fromRow(CALLS, row));
  }

  async listCallEvents(uniqueCallId: string): Promise<OutboxEvent[]> {
    const r = await this.#query('listCallEvents', `${EVENT_SELECT} WHERE unique_call_id = $1 ORDER BY sequence`, [uniqueCallId]);
    return r.rows.map((row) => eventFromRow(row, (v) => v));
  }

  async listLegDialogs(uniqueCallId: string): Promise<LegDialogRecord[]> {
    const r = await this.#query('listLegDialogs', `SELECT ${DIALOG_COLUMNS.join(', ')} FROM leg_dialogs WHERE unique_call_id = $1 ORDER BY leg_id`, [uniqueCallId]);
    return r.rows.map((row) => dialogFromRow(row, (v) => v));
  }

  async recordHeartbeat(nodeId: number, nowMs: number): Promise<void> {
    await this.#query('recordHeartbeat', `INSERT INTO engine_nodes (node_id, heartbeat_at) VALUES ($1, $2)
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, [nodeId, nowMs]);
  }

  async getHeartbeat(nodeId: number): Promise<number | undefined> {
    const r = await this.#query('getHeartbeat', 'SELECT heartbeat_at FROM engine_nodes WHERE node_id = $1', [nodeId]);
    return r.rows[0]?.heartbeat_at as number | undefined;
  }

  async sweep(kind: RetentionKind, beforeMs: number, limit: number): Promise<number> {
    checkInt(limit, 1, 'limit');
    const plan = sweepPlan(kind, 'dispatched');
    const cutoff = cutoffParam(plan, beforeMs);
    return this.#tx('sweep', async (c) => {
      const ids = (await c.query<{ id: string }>(numbered(plan.select), [cutoff, limit])).rows.map((r) => r.id);
      for (const d of ids.length ? plan.deletes : []) await c.query(`DELETE FROM ${d.table} WHERE ${d.column} = ANY($1::text[])`, [ids]);
      return ids.length;
    });
  }

  // outbox and deliveries

  async createDeliveries(rows: NewDelivery[]): Promise<number> {
    if (rows.length === 0) return 0;
    // One statement; ON CONFLICT makes a second fan-out of the same (event, url), from any process, a no-op.
    const r = await this.#query('createDeliveries', CREATE_DELIVERIES, deliveryArrays(rows));
    return r.rowCount ?? 0;
  }

  async fanOutEvents(rows: NewDelivery[], eventIds: string[]): Promise<number> {
    if (rows.length === 0 && eventIds.length === 0) return 0;
    // One statement (atomic on its own): the insert and the mark share its snapshot.
    const r = await this.#query('fanOutEvents', `WITH ins AS (${CREATE_DELIVERIES} RETURNING 1),
        marked AS (UPDATE outbox_events SET dispatched = true WHERE event_id = ANY($7::text[]))
      SELECT count(*)::int AS n FROM ins`, [...deliveryArrays(rows), eventIds]);
    return r.rows[0]!.n as number;
  }

  async listUndispatchedEvents(limit: number): Promise<OutboxEvent[]> {
    checkInt(limit, 1, 'limit');
    const r = await this.#query('listUndispatchedEvents', `${EVENT_SELECT} WHERE NOT dispatched ORDER BY seq LIMIT $1`, [limit]);
    return r.rows.map((row) => eventFromRow(row, (v) => v));
  }

  async markEventsDispatched(eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.#query('markEventsDispatched', 'UPDATE outbox_events SET dispatched = true WHERE event_id = ANY($1::text[])', [eventIds]);
  }

  async getEvent(eventId: string): Promise<OutboxEvent | undefined> {
    const r = await this.#query('getEvent', `${EVENT_SELECT} WHERE event_id = $1`, [eventId]);
    return r.rows[0] ? eventFromRow(r.rows[0], (v) => v) : undefined;
  }

  /** Most overdue first (next_attempt_at, then creation order); see {@link Store.claimDueDeliveries}. */
  async claimDueDeliveries(nowMs: number, limit: number, leaseUntilMs: number, excludeEndpoints: readonly string[] = []): Promise<Delivery[]> {
    checkInt(limit, 1, 'limit');
    // SKIP LOCKED: a row another claimer is leasing right now is passed over, never waited on. If that claimer
    // commits first, PostgreSQL re-checks the WHERE on the new row version, so the fresh lease excludes it.
    // Per-call ordering: a row is skipped while an earlier-sequence delivery of its call to its endpoint is
    // pending, including one leased by another claimer.
    // The claim must walk deliveries_status_due in order and stop at the limit. Right after a burst (statistics that
    // say pending rows are rare, or none yet on a fresh table) the planner prefers a bitmap scan of every due row,
    // an anti-join on each and a sort: 120 ms instead of 4 ms per claim with 30,000 pending. SET LOCAL rules it out
    // for this transaction only.
    const r = await this.#tx('claimDueDeliveries', async (tx) => {
      await tx.query('SET LOCAL enable_bitmapscan = off');
      return tx.query<Row>(`WITH due AS (
        SELECT d.delivery_id FROM deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
          AND d.endpoint_url <> ALL($4::text[])
          AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.status = 'pending' AND e.endpoint_url = d.endpoint_url
            AND e.unique_call_id = d.unique_call_id AND e.sequence < d.sequence)
        ORDER BY d.next_attempt_at, d.seq LIMIT $2
        FOR UPDATE OF d SKIP LOCKED)
      UPDATE deliveries u SET lease_until = $3 FROM due WHERE u.delivery_id = due.delivery_id
      RETURNING u.seq, ${DELIVERY_COLUMNS.map((c) => `u.${c}`).join(', ')}`, [nowMs, limit, leaseUntilMs, [...excludeEndpoints]]);
    });
    return r.rows.sort((a, b) => (a.next_attempt_at as number) - (b.next_attempt_at as number) || (a.seq as number) - (b.seq as number)).map((row) => pick<Delivery>(DELIVERY_COLUMNS, row));
  }

  async releaseDeliveries(deliveryIds: string[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.#query('releaseDeliveries', 'UPDATE deliveries SET lease_until = NULL WHERE delivery_id = ANY($1::text[])', [deliveryIds]);
  }

  async recordAttempt(a: DeliveryAttempt, update: DeliveryUpdate): Promise<void> {
    await this.#recordAttempts('recordAttempt', [{ attempt: a, update }]);
  }

  async recordAttempts(records: AttemptRecord[]): Promise<void> {
    await this.#recordAttempts('recordAttempts', records);
  }

  async #recordAttempts(operation: string, records: AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One statement (atomic on its own; an unknown delivery fails the attempts' foreign key and writes nothing).
    const a = records.map((r) => r.attempt);
    const u = records.map((r) => r.update);
    await this.#query(operation, `WITH ins AS (
        INSERT INTO delivery_attempts (${ATTEMPT_COLUMNS.join(', ')})
        SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $5::text[], $6::int[])),
      -- A delivery kept pending for a retry holds back its call's later deliveries to its endpoint (see Store).
      pushed AS (
        UPDATE deliveries l SET next_attempt_at = r.next_attempt_at
        FROM unnest($1::text[], $7::text[], $8::bigint[]) AS r(delivery_id, status, next_attempt_at)
        JOIN deliveries p ON p.delivery_id = r.delivery_id
        WHERE r.status = 'pending' AND r.next_attempt_at IS NOT NULL
          AND l.status = 'pending' AND l.endpoint_url = p.endpoint_url AND l.unique_call_id = p.unique_call_id
          AND l.sequence > p.sequence AND l.next_attempt_at < r.next_attempt_at AND l.delivery_id <> ALL($1::text[]))
      UPDATE deliveries d SET status = r.status, next_attempt_at = r.next_attempt_at, last_status_code = r.last_status_code,
        last_error = r.last_error, attempts = d.attempts + 1, updated_at = r.at, lease_until = NULL
      FROM unnest($1::text[], $7::text[], $8::bigint[], $9::int[], $10::text[], $3::bigint[])
        AS r(delivery_id, status, next_attempt_at, last_status_code, last_error, at)
      WHERE d.delivery_id = r.delivery_id`,
    [a.map((x) => x.delivery_id), a.map((x) => x.attempt), a.map((x) => x.at), a.map((x) => x.status_code), a.map((x) => x.error),
      a.map((x) => x.duration_ms), u.map((x) => x.status), u.map((x) => x.next_attempt_at), u.map((x) => x.last_status_code),
      u.map((x) => x.last_error)]);
  }

  async listDeliveries(q: { endpoint_url?: string; status?: DeliveryStatus; unique_call_id?: string; offset: number; limit: number }): Promise<Delivery[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    const where: string[] = [];
    const params: unknown[] = [];
    const eq = (col: string, v: unknown): void => { params.push(v); where.push(`${col} = $${params.length}`); };
    if (q.endpoint_url !== undefined) eq('endpoint_url', q.endpoint_url);
    if (q.status !== undefined) eq('status', q.status);
    if (q.unique_call_id !== undefined) eq('unique_call_id', q.unique_call_id);
    params.push(q.limit, q.offset);
    const sql = `${DELIVERY_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length - 1} OFFSET $${params.length}`;
    return (await this.#query('listDeliveries', sql, params)).rows.map((row) => pick<Delivery>(DELIVERY_COLUMNS, row));
  }

  async listAttempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    const r = await this.#query('listAttempts', `SELECT ${ATTEMPT_COLUMNS.join(', ')} FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt`, [deliveryId]);
    return r.rows.map((row) => pick<DeliveryAttempt>(ATTEMPT_COLUMNS, row));
  }

  async getDelivery(deliveryId: string): Promise<Delivery | undefined> {
    const r = await this.#query('getDelivery', `${DELIVERY_SELECT} WHERE delivery_id = $1`, [deliveryId]);
    return r.rows[0] ? pick<Delivery>(DELIVERY_COLUMNS, r.rows[0]) : undefined;
  }

  async redeliver(deliveryIds: string[], nowMs: number, retarget?: { endpoint_url: string; config_version: number | null }): Promise<number> {
    if (deliveryIds.length === 0) return 0;
    const r = retarget
      ? await this.#query('redeliver', `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL, updated_at = $1,
          endpoint_url = $3, config_version = $4 WHERE delivery_id = ANY($2::text[])`, [nowMs, deliveryIds, retarget.endpoint_url, retarget.config_version])
      : await this.#query('redeliver', `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL, updated_at = $1
          WHERE delivery_id = ANY($2::text[])`, [nowMs, deliveryIds]);
    return r.rowCount ?? 0;
  }

  async countPendingDeliveries(): Promise<number> {
    const r = await this.#query('countPendingDeliveries', "SELECT count(*) AS n FROM deliveries WHERE status = 'pending'", []);
    return r.rows[0]!.n as number;
  }

  async countUndispatchedEvents(): Promise<number> {
    const r = await this.#query('countUndispatchedEvents', 'SELECT count(*)::int AS n FROM outbox_events WHERE NOT dispatched', []);
    return r.rows[0]!.n as number;
  }

  async setEndpointDisabled(url: string, disabled: boolean, reason: string | null): Promise<void> {
    await this.#query('setEndpointDisabled', `INSERT INTO endpoints (url, disabled, reason) VALUES ($1, $2, $3)
      ON CONFLICT (url) DO UPDATE SET disabled = excluded.disabled, reason = excluded.reason`, [url, disabled, reason]);
  }

  async isEndpointDisabled(url: string): Promise<boolean> {
    const r = await this.#query('isEndpointDisabled', 'SELECT disabled FROM endpoints WHERE url = $1', [url]);
    return r.rows[0]?.disabled === true;
  }

  // configuration versions

  async getLatestConfigVersion(): Promise<StoredConfigVersion | undefined> {
    const r = await this.#query('getLatestConfigVersion', 'SELECT version, config, created_at FROM config_versions ORDER BY version DESC LIMIT 1', []);
    return configRow(r.rows[0]);
  }

  async getConfigVersion(version: number): Promise<StoredConfigVersion | undefined> {
    const r = await this.#query('getConfigVersion', 'SELECT version, config, created_at FROM config_versions WHERE version = $1', [version]);
    return configRow(r.rows[0]);
  }

  async insertConfigVersion(config: unknown, nowIso: string): Promise<number> {
    return this.#tx('insertConfigVersion', async (c) => {
      // Serializes concurrent appliers (any process) so max+1 is never taken twice; readers are not blocked.
      await c.query('LOCK TABLE config_versions IN SHARE ROW EXCLUSIVE MODE');
      const r = await c.query(`INSERT INTO config_versions (version, config, created_at)
        SELECT COALESCE(MAX(version), 0) + 1, $1::jsonb, $2 FROM config_versions RETURNING version`, [JSON.stringify(config), nowIso]);
      return r.rows[0]!.version as number;
    });
  }

  async getStagedConfig(): Promise<unknown> {
    const r = await this.#query('getStagedConfig', 'SELECT config FROM staged_config WHERE id = 1', []);
    return r.rows[0] ? (r.rows[0].config as unknown) : undefined;
  }

  async setStagedConfig(config: unknown): Promise<void> {
    if (config === null) await this.#query('setStagedConfig', 'DELETE FROM staged_config WHERE id = 1', []);
    else await this.#query('setStagedConfig', `INSERT INTO staged_config (id, config) VALUES (1, $1::jsonb)
      ON CONFLICT (id) DO UPDATE SET config = excluded.config`, [JSON.stringify(config)]);
  }

  // admin keys and the audit log

  async insertAdminKey(k: AdminKeyRecord): Promise<void> {
    await this.#query('insertAdminKey', `INSERT INTO admin_keys (${ADMIN_KEY_COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5, $6)`,
      [k.key_id, k.name, k.key_hash, k.created_at, k.last_used_at, k.revoked_at]);
  }

  async listAdminKeys(): Promise<AdminKeyRecord[]> {
    const r = await this.#query('listAdminKeys', `SELECT ${ADMIN_KEY_COLUMNS.join(', ')} FROM admin_keys ORDER BY created_at, key_id`, []);
    return r.rows.map((row) => pick<AdminKeyRecord>(ADMIN_KEY_COLUMNS, row));
  }

  async findAdminKey(keyHash: string): Promise<AdminKeyRecord | undefined> {
    const r = await this.#query('findAdminKey', `SELECT ${ADMIN_KEY_COLUMNS.join(', ')} FROM admin_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash]);
    return r.rows[0] ? pick<AdminKeyRecord>(ADMIN_KEY_COLUMNS, r.rows[0]) : undefined;
  }

  async revokeAdminKey(keyId: string, nowMs: number): Promise<boolean> {
    const r = await this.#query('revokeAdminKey', 'UPDATE admin_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL', [nowMs, keyId]);
    return (r.rowCount ?? 0) > 0;
  }

  async touchAdminKey(keyId: string, nowMs: number): Promise<void> {
    await this.#query('touchAdminKey', 'UPDATE admin_keys SET last_used_at = $1 WHERE key_id = $2', [nowMs, keyId]);
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this.#query('appendAudit', `INSERT INTO audit_log (${AUDIT_COLUMNS.slice(1).join(', ')}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
      [e.at, e.key_id, e.key_name, e.source_ip, e.method, e.path, e.status, JSON.stringify(e.changes ?? null)]);
  }

  async listAudit(q: { offset: number; limit: number }): Promise<Array<AuditEntry & { seq: number }>> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    const r = await this.#query('listAudit', `SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_log ORDER BY seq DESC LIMIT $1 OFFSET $2`, [q.limit, q.offset]);
    return r.rows.map((row) => pick<AuditEntry & { seq: number }>(AUDIT_COLUMNS, row));
  }

  // voicemail

  async listVoicemails(q: { user_number: string; unheard?: boolean; offset: number; limit: number }): Promise<VoicemailRecord[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    const unheard = q.unheard ? ' AND heard_at IS NULL' : '';
    const r = await this.#query('listVoicemails', `SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails WHERE user_number = $1${unheard}
      ORDER BY recorded_at DESC, message_id DESC LIMIT $2 OFFSET $3`, [q.user_number, q.limit, q.offset]);
    return r.rows.map((row) => fromRow(VOICEMAILS, row));
  }

  async getVoicemail(messageId: string): Promise<VoicemailRecord | undefined> {
    const r = await this.#query('getVoicemail', `SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails WHERE message_id = $1`, [messageId]);
    return r.rows[0] ? fromRow(VOICEMAILS, r.rows[0]) : undefined;
  }

  async setVoicemailHeard(messageId: string, heardAt: string | null): Promise<boolean> {
    const at = heardAt === null ? null : normalizeIso(heardAt, 'heard_at');
    return ((await this.#query('setVoicemailHeard', 'UPDATE voicemails SET heard_at = $1 WHERE message_id = $2', [at, messageId])).rowCount ?? 0) > 0;
  }

  async deleteVoicemail(messageId: string): Promise<boolean> {
    return ((await this.#query('deleteVoicemail', 'DELETE FROM voicemails WHERE message_id = $1', [messageId])).rowCount ?? 0) > 0;
  }

  async listVoicemailMailDue(nowMs: number, limit: number): Promise<VoicemailRecord[]> {
    checkInt(limit, 1, 'limit');
    const r = await this.#query('listVoicemailMailDue', `SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails
      WHERE mail_status = 'pending' AND mail_next_at <= $1 ORDER BY mail_next_at, message_id LIMIT $2`, [nowMs, limit]);
    return r.rows.map((row) => fromRow(VOICEMAILS, row));
  }

  async listVoicemailMailFailures(q: { offset: number; limit: number }): Promise<VoicemailRecord[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    const r = await this.#query('listVoicemailMailFailures', `SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails
      WHERE mail_status = 'failed' ORDER BY recorded_at DESC, message_id DESC LIMIT $1 OFFSET $2`, [q.limit, q.offset]);
    return r.rows.map((row) => fromRow(VOICEMAILS, row));
  }

  async updateVoicemailMail(messageId: string, u: VoicemailMailUpdate): Promise<void> {
    const sent = u.mail_sent_at === null ? null : normalizeIso(u.mail_sent_at, 'mail_sent_at');
    await this.#query('updateVoicemailMail', `UPDATE voicemails SET mail_status = $1, mail_attempts = $2, mail_next_at = $3,
      mail_last_error = $4, mail_sent_at = $5 WHERE message_id = $6`, [u.mail_status, u.mail_attempts, u.mail_next_at, u.mail_last_error, sent, messageId]);
  }

  // call recordings

  async listRecordings(q: RecordingQuery): Promise<RecordingRecord[]> {
    const { sql, params } = listRecordingsSql(q, PH);
    const r = await this.#query('listRecordings', sql, params);
    return r.rows.map(recordingFromRow);
  }

  async getRecording(recordingId: string): Promise<RecordingRecord | undefined> {
    const r = await this.#query('getRecording', `SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings WHERE recording_id = $1`, [recordingId]);
    return r.rows[0] ? recordingFromRow(r.rows[0]) : undefined;
  }

  async deleteRecording(recordingId: string): Promise<boolean> {
    const r = await this.#query('deleteRecording', 'DELETE FROM recordings WHERE recording_id = $1', [recordingId]);
    return (r.rowCount ?? 0) > 0;
  }

  async deleteRecordings(recordingIds: readonly string[]): Promise<number> {
    if (recordingIds.length === 0) return 0;
    const r = await this.#query('deleteRecordings', 'DELETE FROM recordings WHERE recording_id = ANY($1::text[])', [[...recordingIds]]);
    return r.rowCount ?? 0;
  }

  async listRecordingsBefore(beforeMs: number, limit: number): Promise<RecordingRecord[]> {
    checkInt(limit, 1, 'limit');
    const r = await this.#query('listRecordingsBefore', `SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings WHERE created_at < $1 ORDER BY created_at, recording_id LIMIT $2`,
      [new Date(beforeMs).toISOString(), limit]);
    return r.rows.map(recordingFromRow);
  }

  // internals

  async #query(operation: string, sql: string, params: unknown[]): Promise<pg.QueryResult<Row>> {
    try {
      return await this.#pool.query<Row>(sql, params);
    } catch (err) {
      throw this.#fail(operation, err);
    }
  }

  /** Runs `fn` in BEGIN … COMMIT on one pooled client; ROLLBACK on any error. */
  async #tx<T>(operation: string, fn: (c: Queryable) => Promise<T>): Promise<T> {
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

  async #history<R>(operation: string, spec: TableSpec<R>, nameColumn: string, q: HistoryQuery): Promise<R[]> {
    const { sql, params } = historySql(spec, nameColumn, q, POSTGRES_DIALECT);
    return (await this.#query(operation, sql, params)).rows.map((row) => fromRow(spec, row));
  }
}

/** The column arrays of CREATE_DELIVERIES. */
function deliveryArrays(rows: NewDelivery[]): unknown[] {
  return [rows.map((x) => x.delivery_id), rows.map((x) => x.event_id), rows.map((x) => x.endpoint_url),
    rows.map((x) => x.next_attempt_at), rows.map((x) => x.created_at ?? x.next_attempt_at), rows.map((x) => x.config_version ?? null)];
}

function configRow(row: Row | undefined): StoredConfigVersion | undefined {
  if (!row) return undefined;
  const created = row.created_at;
  return { version: row.version as number, config: row.config as unknown, created_at: created instanceof Date ? created.toISOString() : String(created) };
}
