/**
 * SQLite: call steps (commit, through the connection's SqliteCommitter), calls, legs and the history tables, what
 * crash recovery reads (unfinished calls, their events and saved dialogs, heartbeats) and the retention sweep (a part
 * of SqliteCore, see sqlite-core.ts).
 */
import type {
  CallCommit, CallRecord, GroupCallRecord, HistoryQuery, LegDialogRecord, LegRecord, OutboxEvent, RetentionKind, UserCallRecord, Store,
} from '../store.js';
import { historySql, SQLITE_DIALECT } from '../sql/history.js';
import {
  CALLS, checkInt, nodeSuffixPattern, EVENT_COLUMNS, eventFromRow, fromRow, LEGS, QUEUE_CALLS, RING_GROUP_CALLS, USER_CALLS, type TableSpec,
} from '../sql/records.js';
import { cutoffParam, DIALOG_COLUMNS, dialogFromRow, sweepPlan } from '../sql/maintenance.js';
import { SqliteCommitter, type CommitStats } from './sqlite-committer.js';
import { parseJson, type Row, type SqliteConnection } from './sqlite-connection.js';

const EVENT_SELECT = `SELECT ${EVENT_COLUMNS.join(', ')} FROM outbox_events`;

/** The call-record, recovery and retention methods of {@link Store} on one SQLite connection, plus `commitMany`/`commitStats`. */
export class SqliteCalls {
  readonly #db: SqliteConnection;
  readonly #committer: SqliteCommitter;

  constructor(db: SqliteConnection) {
    this.#db = db;
    this.#committer = new SqliteCommitter(db.database);
  }

  async commit(c: CallCommit): Promise<void> {
    this.#db.op('commit', () => this.#committer.write([c]));
  }

  /**
   * Writes many commits in one transaction, each row once (ours, not on {@link Store}): the CommitBatcher, bulk loads
   * (`bench/api-data.ts`). See sql/commit-plan.ts for how it equals writing them one by one.
   */
  async commitMany(commits: readonly CallCommit[]): Promise<void> {
    this.#db.op('commitMany', () => this.#committer.write(commits));
  }

  /** What the commit path wrote on this connection (ours: benchmarks state statements and rows per call with it). */
  async commitStats(): Promise<CommitStats> {
    return this.#committer.stats();
  }

  async getCall(uniqueCallId: string): Promise<CallRecord | undefined> {
    return this.#db.op('getCall', () => {
      const row = this.#db.stmt(`SELECT ${CALLS.columns.join(', ')} FROM calls WHERE unique_call_id = ?`).get(uniqueCallId) as Row | undefined;
      return row ? fromRow(CALLS, row) : undefined;
    });
  }

  async listLegs(uniqueCallId: string): Promise<LegRecord[]> {
    return this.#db.op('listLegs', () => {
      const rows = this.#db.stmt(`SELECT ${LEGS.columns.join(', ')} FROM legs WHERE unique_call_id = ? ORDER BY started_at, leg_id`).all(uniqueCallId);
      return (rows as Row[]).map((r) => fromRow(LEGS, r));
    });
  }

  async queryUserCalls(q: HistoryQuery): Promise<UserCallRecord[]> {
    return this.#db.op('queryUserCalls', () => this.#history(USER_CALLS, 'user_number', q));
  }

  async queryQueueCalls(q: HistoryQuery): Promise<GroupCallRecord[]> {
    return this.#db.op('queryQueueCalls', () => this.#history(QUEUE_CALLS, 'group_name', q));
  }

  async queryRingGroupCalls(q: HistoryQuery): Promise<GroupCallRecord[]> {
    return this.#db.op('queryRingGroupCalls', () => this.#history(RING_GROUP_CALLS, 'group_name', q));
  }

  // crash recovery and retention

  async listUnfinishedCalls(limit: number, nodeId?: number): Promise<CallRecord[]> {
    checkInt(limit, 1, 'limit');
    return this.#db.op('listUnfinishedCalls', () => {
      const rows = this.#db.stmt(`SELECT ${CALLS.columns.join(', ')} FROM calls WHERE ended_at IS NULL AND unique_call_id LIKE ? ORDER BY call_start_at LIMIT ?`).all(nodeSuffixPattern(nodeId), limit);
      return (rows as Row[]).map((r) => fromRow(CALLS, r));
    });
  }

  async listCallEvents(uniqueCallId: string): Promise<OutboxEvent[]> {
    return this.#db.op('listCallEvents', () =>
      (this.#db.stmt(`${EVENT_SELECT} WHERE unique_call_id = ? ORDER BY sequence`).all(uniqueCallId) as Row[]).map((r) => eventFromRow(r, parseJson)));
  }

  async listLegDialogs(uniqueCallId: string): Promise<LegDialogRecord[]> {
    return this.#db.op('listLegDialogs', () =>
      (this.#db.stmt(`SELECT ${DIALOG_COLUMNS.join(', ')} FROM leg_dialogs WHERE unique_call_id = ? ORDER BY leg_id`).all(uniqueCallId) as Row[])
        .map((r) => dialogFromRow(r, parseJson)));
  }

  async recordHeartbeat(nodeId: number, nowMs: number): Promise<void> {
    this.#db.op('recordHeartbeat', () => this.#db.stmt(`INSERT INTO engine_nodes (node_id, heartbeat_at) VALUES (?, ?)
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`).run(nodeId, nowMs));
  }

  async getHeartbeat(nodeId: number): Promise<number | undefined> {
    return this.#db.op('getHeartbeat', () => (this.#db.stmt('SELECT heartbeat_at FROM engine_nodes WHERE node_id = ?').get(nodeId) as { heartbeat_at: number } | undefined)?.heartbeat_at);
  }

  async sweep(kind: RetentionKind, beforeMs: number, limit: number): Promise<number> {
    checkInt(limit, 1, 'limit');
    const plan = sweepPlan(kind, 'dispatched = 1');
    const cutoff = cutoffParam(plan, beforeMs);
    return this.#db.op('sweep', () => this.#db.immediate(() => {
      const ids = (this.#db.stmt(plan.select).all(cutoff, limit) as Array<{ id: string }>).map((r) => r.id);
      if (ids.length === 0) return 0;
      const list = JSON.stringify(ids);
      for (const d of plan.deletes) this.#db.stmt(`DELETE FROM ${d.table} WHERE ${d.column} IN (SELECT value FROM json_each(?))`).run(list);
      return ids.length;
    }));
  }

  #history<R>(spec: TableSpec<R>, nameColumn: string, q: HistoryQuery): R[] {
    const { sql, params } = historySql(spec, nameColumn, q, SQLITE_DIALECT);
    return (this.#db.stmt(sql).all(...params) as Row[]).map((r) => fromRow(spec, r));
  }
}
