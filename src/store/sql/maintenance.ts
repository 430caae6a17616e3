/**
 * SQL shared by both backends for crash recovery (saved leg dialogs) and retention (the sweeper's batches).
 * Statements are written with `?` placeholders; {@link numbered} turns them into PostgreSQL's `$n`.
 */
import type { LegDialogRecord, RetentionKind } from '../store.js';
import { StoreArgumentError } from '../errors.js';
import { checkInt } from './records.js';

/** Columns of `leg_dialogs`, in {@link dialogValues} order. */
export const DIALOG_COLUMNS = ['leg_id', 'unique_call_id', 'role', 'call_id', 'local_header', 'remote_header', 'local_cseq',
  'remote_target', 'route_set', 'destination'] as const;

/** Upsert of one dialog (same text in both dialects once numbered); `route_set` is JSON. Keyed by call and leg (migration 6). */
export const UPSERT_DIALOG = `INSERT INTO leg_dialogs (${DIALOG_COLUMNS.join(', ')}) VALUES (${DIALOG_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (unique_call_id, leg_id) DO UPDATE SET ${DIALOG_COLUMNS.filter((c) => c !== 'leg_id' && c !== 'unique_call_id').map((c) => `${c} = excluded.${c}`).join(', ')}`;

/** A dialog's values in column order. */
export function dialogValues(d: LegDialogRecord): unknown[] {
  if (d.role !== 'uac' && d.role !== 'uas') throw new StoreArgumentError(`dialog ${d.leg_id} role must be uac or uas`);
  checkInt(d.local_cseq, 0, `dialog ${d.leg_id} local_cseq`);
  return [d.leg_id, d.unique_call_id, d.role, d.call_id, d.local_header, d.remote_header, d.local_cseq, d.remote_target,
    JSON.stringify(d.route_set), d.destination];
}

/** A dialog from a row; `parse` turns stored JSON into an array (identity for jsonb). */
export function dialogFromRow(row: Record<string, unknown>, parse: (v: unknown) => unknown): LegDialogRecord {
  return {
    leg_id: row.leg_id as string, unique_call_id: row.unique_call_id as string, role: row.role as 'uac' | 'uas',
    call_id: row.call_id as string, local_header: row.local_header as string, remote_header: row.remote_header as string,
    local_cseq: Number(row.local_cseq), remote_target: row.remote_target as string, route_set: parse(row.route_set) as string[],
    destination: row.destination as string,
  };
}

/** One retention batch: pick the ids (params: cut-off, limit), then delete from each table by that column. */
export interface SweepPlan {
  /** Selects at most `limit` ids older than the cut-off (`?` = cut-off, `?` = limit). */
  select: string;
  /** Tables to delete from, children first, each matched on `column IN ids`. */
  deletes: ReadonlyArray<{ table: string; column: string }>;
  /** The cut-off is an ISO timestamp (calls, events) or epoch ms (deliveries). */
  cutoff: 'iso' | 'ms';
}

const CALL_TABLES = ['legs', 'user_calls', 'queue_calls', 'ring_group_calls', 'leg_dialogs', 'calls'];

/** The batches of the sweeper. Attempts go with their deliveries (ON DELETE CASCADE). */
export function sweepPlan(kind: RetentionKind, dispatched: string): SweepPlan {
  switch (kind) {
    case 'calls':
      return {
        select: 'SELECT unique_call_id AS id FROM calls WHERE call_start_at < ? AND ended_at IS NOT NULL ORDER BY call_start_at LIMIT ?',
        deletes: CALL_TABLES.map((table) => ({ table, column: 'unique_call_id' })),
        cutoff: 'iso',
      };
    case 'deliveries':
      return {
        select: "SELECT delivery_id AS id FROM deliveries WHERE status <> 'pending' AND updated_at < ? ORDER BY updated_at LIMIT ?",
        deletes: [{ table: 'deliveries', column: 'delivery_id' }],
        cutoff: 'ms',
      };
    case 'events':
      return {
        select: `SELECT event_id AS id FROM outbox_events e WHERE occurred_at < ? AND ${dispatched}
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.event_id AND d.status = 'pending') ORDER BY occurred_at LIMIT ?`,
        deletes: [{ table: 'deliveries', column: 'event_id' }, { table: 'outbox_events', column: 'event_id' }],
        cutoff: 'iso',
      };
    default:
      throw new StoreArgumentError(`retention kind must be calls, events or deliveries, got ${String(kind)}`);
  }
}

/** The sweep's cut-off parameter. */
export function cutoffParam(plan: SweepPlan, beforeMs: number): string | number {
  if (!Number.isFinite(beforeMs)) throw new StoreArgumentError(`beforeMs must be a finite number, got ${beforeMs}`);
  return plan.cutoff === 'ms' ? beforeMs : new Date(beforeMs).toISOString();
}

/** `?` placeholders → `$1, $2, …` (PostgreSQL). */
export function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}
