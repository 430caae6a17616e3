/**
 * PostgreSQL: call steps (commit), calls, legs and the history tables, what crash recovery reads (unfinished calls,
 * their events and saved dialogs, heartbeats) and the retention sweep (a part of PostgresStore, see postgres-store.ts).
 */
import type {
  CallCommit, CallRecord, GroupCallRecord, HistoryQuery, LegDialogRecord, LegRecord, OutboxEvent, RetentionKind, UserCallRecord, Store,
} from '../store.js';
import { upsertRecordingSql } from '../sql/recordings.js';
import { planCommits } from '../sql/commit-plan.js';
import { historySql, POSTGRES_DIALECT } from '../sql/history.js';
import {
  CALLS, checkInt, nodeSuffixPattern, EVENT_COLUMNS, eventFromRow, fromRow, LEGS, QUEUE_CALLS, RING_GROUP_CALLS, upsertSql, USER_CALLS, type TableSpec,
} from '../sql/records.js';
import { cutoffParam, DIALOG_COLUMNS, dialogFromRow, numbered, sweepPlan, UPSERT_DIALOG } from '../sql/maintenance.js';
import { PH, type PostgresConnection } from './postgres-connection.js';

const EVENT_SELECT = `SELECT ${EVENT_COLUMNS.join(', ')} FROM outbox_events`;
const PG_UPSERT_DIALOG = numbered(UPSERT_DIALOG).replace('$9', '$9::jsonb');
const INSERT_EVENT = `INSERT INTO outbox_events (event_id, unique_call_id, type, sequence, occurred_at, endpoint, payload)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) ON CONFLICT (event_id) DO NOTHING`;

/** The call-record, recovery and retention methods of {@link Store} on PostgreSQL, plus `commitMany`. */
export class PostgresCalls {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

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
    await this.#db.tx('commit', async (client) => {
      for (const s of steps) await client.query(s.sql, s.params);
    });
  }

  async getCall(uniqueCallId: string): Promise<CallRecord | undefined> {
    const r = await this.#db.query('getCall', `SELECT ${CALLS.columns.join(', ')} FROM calls WHERE unique_call_id = $1`, [uniqueCallId]);
    return r.rows[0] ? fromRow(CALLS, r.rows[0]) : undefined;
  }

  async listLegs(uniqueCallId: string): Promise<LegRecord[]> {
    const r = await this.#db.query('listLegs', `SELECT ${LEGS.columns.join(', ')} FROM legs WHERE unique_call_id = $1 ORDER BY started_at, leg_id`, [uniqueCallId]);
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
    const r = await this.#db.query('listUnfinishedCalls', `SELECT ${CALLS.columns.join(', ')} FROM calls WHERE ended_at IS NULL AND unique_call_id LIKE $2 ORDER BY call_start_at LIMIT $1`,
      [limit, nodeSuffixPattern(nodeId)]);
    return r.rows.map((row) => fromRow(CALLS, row));
  }

  async listCallEvents(uniqueCallId: string): Promise<OutboxEvent[]> {
    const r = await this.#db.query('listCallEvents', `${EVENT_SELECT} WHERE unique_call_id = $1 ORDER BY sequence`, [uniqueCallId]);
    return r.rows.map((row) => eventFromRow(row, (v) => v));
  }

  async listLegDialogs(uniqueCallId: string): Promise<LegDialogRecord[]> {
    const r = await this.#db.query('listLegDialogs', `SELECT ${DIALOG_COLUMNS.join(', ')} FROM leg_dialogs WHERE unique_call_id = $1 ORDER BY leg_id`, [uniqueCallId]);
    return r.rows.map((row) => dialogFromRow(row, (v) => v));
  }

  async recordHeartbeat(nodeId: number, nowMs: number): Promise<void> {
    await this.#db.query('recordHeartbeat', `INSERT INTO engine_nodes (node_id, heartbeat_at) VALUES ($1, $2)
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, [nodeId, nowMs]);
  }

  async getHeartbeat(nodeId: number): Promise<number | undefined> {
    const r = await this.#db.query('getHeartbeat', 'SELECT heartbeat_at FROM engine_nodes WHERE node_id = $1', [nodeId]);
    return r.rows[0]?.heartbeat_at as number | undefined;
  }

  async sweep(kind: RetentionKind, beforeMs: number, limit: number): Promise<number> {
    checkInt(limit, 1, 'limit');
    const plan = sweepPlan(kind, 'dispatched');
    const cutoff = cutoffParam(plan, beforeMs);
    return this.#db.tx('sweep', async (c) => {
      const ids = (await c.query<{ id: string }>(numbered(plan.select), [cutoff, limit])).rows.map((r) => r.id);
      for (const d of ids.length ? plan.deletes : []) await c.query(`DELETE FROM ${d.table} WHERE ${d.column} = ANY($1::text[])`, [ids]);
      return ids.length;
    });
  }

  async #history<R>(operation: string, spec: TableSpec<R>, nameColumn: string, q: HistoryQuery): Promise<R[]> {
    const { sql, params } = historySql(spec, nameColumn, q, POSTGRES_DIALECT);
    return (await this.#db.query(operation, sql, params)).rows.map((row) => fromRow(spec, row));
  }
}
