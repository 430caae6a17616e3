/**
 * Column lists and row mapping shared by both backends. One list per table keeps the INSERT, the upsert and the
 * SELECT of a record in step; timestamps are normalized to ISO 8601 UTC with milliseconds on the way in (so that
 * SQLite's text comparison orders them) and on the way out (PostgreSQL returns `Date`s for timestamptz).
 */
import type { CallRecord, EndpointRef, GroupCallRecord, LegRecord, OutboxEvent, Registration, UserCallRecord, VoicemailRecord } from '../store.js';
import { StoreArgumentError } from '../errors.js';

/** A table's columns, its conflict key and which columns hold ISO timestamps. */
export interface TableSpec<R> {
  table: string;
  columns: ReadonlyArray<keyof R & string>;
  key: ReadonlyArray<keyof R & string>;
  isoColumns: ReadonlyArray<keyof R & string>;
  /**
   * Columns set when the row is inserted and left alone by later upserts (issue 15): a row's identity that indexes
   * are built on (a call's start time, a leg's call). Not in the upsert's SET list, so an update of the row rewrites
   * no entry of those indexes (SQLite rewrites every index holding a SET column, even when its value is unchanged).
   */
  fixed?: ReadonlyArray<keyof R & string>;
}

export const REGISTRATIONS: TableSpec<Registration> = {
  table: 'registrations',
  columns: ['username', 'contact', 'transport', 'source_address', 'source_port', 'call_id', 'cseq', 'expires_at',
    'user_agent', 'instance_id', 'updated_at'],
  key: ['username', 'contact'],
  isoColumns: [],
};

export const CALLS: TableSpec<CallRecord> = {
  table: 'calls',
  columns: ['unique_call_id', 'direction', 'caller_id', 'caller_name', 'dest_number', 'user_name', 'user_number',
    'call_start_at', 'connected_at', 'ended_at', 'call_duration', 'conversation_duration', 'status', 'hangup_cause',
    'queue_name', 'ring_group_name', 'config_version'],
  key: ['unique_call_id'],
  isoColumns: ['call_start_at', 'connected_at', 'ended_at'],
  fixed: ['call_start_at', 'direction'],
};

export const LEGS: TableSpec<LegRecord> = {
  table: 'legs',
  columns: ['leg_id', 'unique_call_id', 'kind', 'user_number', 'device', 'remote', 'started_at', 'answered_at',
    'ended_at', 'final_status', 'ended_by'],
  key: ['leg_id'],
  isoColumns: ['started_at', 'answered_at', 'ended_at'],
  fixed: ['unique_call_id', 'kind', 'started_at'],
};

export const USER_CALLS: TableSpec<UserCallRecord> = {
  table: 'user_calls',
  columns: ['unique_call_id', 'user_number', 'type', 'caller_id', 'caller_name', 'dest_number', 'user_name',
    'call_start_at', 'connected_at', 'call_duration', 'conversation_duration'],
  key: ['unique_call_id', 'user_number'],
  isoColumns: ['call_start_at', 'connected_at'],
  fixed: ['call_start_at'],
};

const GROUP_COLUMNS: ReadonlyArray<keyof GroupCallRecord & string> = ['unique_call_id', 'group_name', 'caller_id',
  'caller_name', 'dest_number', 'user_name', 'user_number', 'call_start_at', 'connected_at', 'call_duration',
  'conversation_duration', 'status'];

export const QUEUE_CALLS: TableSpec<GroupCallRecord> = {
  table: 'queue_calls', columns: GROUP_COLUMNS, key: ['unique_call_id', 'group_name'], isoColumns: ['call_start_at', 'connected_at'], fixed: ['call_start_at'],
};

export const RING_GROUP_CALLS: TableSpec<GroupCallRecord> = {
  table: 'ring_group_calls', columns: GROUP_COLUMNS, key: ['unique_call_id', 'group_name'], isoColumns: ['call_start_at', 'connected_at'], fixed: ['call_start_at'],
};

export const VOICEMAILS: TableSpec<VoicemailRecord> = {
  table: 'voicemails',
  columns: ['message_id', 'user_number', 'unique_call_id', 'caller_id', 'caller_name', 'dest_number', 'recorded_at', 'path',
    'duration_ms', 'size_bytes', 'sha256', 'heard_at', 'mail_status', 'mail_to', 'mail_attempts', 'mail_next_at',
    'mail_last_error', 'mail_sent_at'],
  key: ['message_id'],
  isoColumns: ['recorded_at', 'heard_at', 'mail_sent_at'],
};

/** Normalizes an ISO timestamp to `YYYY-MM-DDTHH:mm:ss.sssZ`; throws {@link StoreArgumentError} when unparsable. */
export function normalizeIso(value: string, what: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new StoreArgumentError(`${what} is not an ISO 8601 timestamp: ${JSON.stringify(value)}`);
  // Already canonical (the engine's format): keep the string, skip re-formatting.
  return CANONICAL_ISO.test(value) ? value : new Date(ms).toISOString();
}

const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The record's values in column order, timestamps normalized; `undefined` becomes null. */
export function rowValues<R>(spec: TableSpec<R>, rec: R): unknown[] {
  const iso = isoFlags(spec);
  const cols = spec.columns;
  const out = new Array<unknown>(cols.length);
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]!;
    const v = rec[c] as unknown;
    out[i] = v === undefined || v === null ? null : iso[i] ? normalizeIso(v as string, `${spec.table}.${c}`) : v;
  }
  return out;
}

/** Per column of `spec`, whether it holds an ISO timestamp (computed once per spec). */
function isoFlags<R>(spec: TableSpec<R>): readonly boolean[] {
  let flags = isoCache.get(spec);
  if (!flags) {
    flags = spec.columns.map((c) => spec.isoColumns.includes(c));
    isoCache.set(spec, flags);
  }
  return flags;
}

const isoCache = new WeakMap<object, readonly boolean[]>();

/** Builds a record from a database row: only the spec's columns, timestamps as ISO strings. */
export function fromRow<R>(spec: TableSpec<R>, row: Record<string, unknown>): R {
  const out: Record<string, unknown> = {};
  for (const c of spec.columns) {
    const v = row[c];
    out[c] = v instanceof Date ? v.toISOString() : (v ?? null);
  }
  return out as R;
}

/**
 * `INSERT … ON CONFLICT (key) DO UPDATE SET every other column but the fixed ones` for one row; `ph(i)` renders the i-th (1-based)
 * placeholder (`?` for SQLite, `$i` for PostgreSQL). Both dialects accept this syntax.
 */
export function upsertSql<R>(spec: TableSpec<R>, ph: (i: number) => string): string {
  const byDialect = upsertCache.get(spec) ?? new Map<(i: number) => string, string>();
  upsertCache.set(spec, byDialect);
  let sql = byDialect.get(ph);
  if (sql === undefined) {
    sql = buildUpsertSql(spec, ph);
    byDialect.set(ph, sql);
  }
  return sql;
}

const upsertCache = new WeakMap<object, Map<(i: number) => string, string>>();

function buildUpsertSql<R>(spec: TableSpec<R>, ph: (i: number) => string): string {
  const cols = spec.columns.join(', ');
  const values = spec.columns.map((_, i) => ph(i + 1)).join(', ');
  const updates = spec.columns.filter((c) => !spec.key.includes(c) && !spec.fixed?.includes(c)).map((c) => `${c} = excluded.${c}`).join(', ');
  return `INSERT INTO ${spec.table} (${cols}) VALUES (${values}) ON CONFLICT (${spec.key.join(', ')}) DO UPDATE SET ${updates}`;
}

/** Throws {@link StoreArgumentError} unless `n` is an integer ≥ `min`. */
export function checkInt(n: number, min: number, what: string): void {
  if (!Number.isInteger(n) || n < min) throw new StoreArgumentError(`${what} must be an integer >= ${min}, got ${n}`);
}

/** The LIKE pattern of one engine's unique_call_ids (they end with its node id as two digits); `%` for every engine. */
export function nodeSuffixPattern(nodeId: number | undefined): string {
  if (nodeId === undefined) return '%';
  if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 99) throw new StoreArgumentError(`nodeId must be an integer 0-99, got ${nodeId}`);
  return `%${String(nodeId).padStart(2, '0')}`;
}

/** Columns of `deliveries` returned as a {@link Delivery}. */
export const DELIVERY_COLUMNS = ['delivery_id', 'event_id', 'endpoint_url', 'unique_call_id', 'type', 'sequence', 'status',
  'attempts', 'next_attempt_at', 'last_status_code', 'last_error', 'created_at', 'updated_at', 'config_version'] as const;

/** Columns of `admin_keys` returned as an {@link AdminKeyRecord}. */
export const ADMIN_KEY_COLUMNS = ['key_id', 'name', 'key_hash', 'created_at', 'last_used_at', 'revoked_at'] as const;

/** Columns of `audit_log` returned as an {@link AuditEntry} (plus `seq`). */
export const AUDIT_COLUMNS = ['seq', 'at', 'key_id', 'key_name', 'source_ip', 'method', 'path', 'status', 'changes'] as const;

/** Columns of `delivery_attempts` returned as a {@link DeliveryAttempt}. */
export const ATTEMPT_COLUMNS = ['delivery_id', 'attempt', 'at', 'status_code', 'error', 'duration_ms'] as const;

/** Columns of `outbox_events` returned as an {@link OutboxEvent}. */
export const EVENT_COLUMNS = ['event_id', 'unique_call_id', 'type', 'sequence', 'occurred_at', 'endpoint', 'payload'] as const;

/** Picks `columns` from a row into a plain object (null for missing values). */
export function pick<T>(columns: readonly string[], row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out as T;
}

/** Builds an {@link OutboxEvent} from a row; `parse` turns stored JSON into objects (identity for jsonb). */
export function eventFromRow(row: Record<string, unknown>, parse: (v: unknown) => unknown): OutboxEvent {
  const occurred = row.occurred_at;
  return {
    event_id: row.event_id as string,
    unique_call_id: (row.unique_call_id as string | null) ?? null,
    type: row.type as string,
    sequence: row.sequence as number,
    occurred_at: occurred instanceof Date ? occurred.toISOString() : (occurred as string),
    endpoint: parse(row.endpoint) as EndpointRef,
    payload: parse(row.payload) as Record<string, unknown>,
  };
}

/** Checks an event before it is written; returns its normalized occurred_at. */
export function checkEvent(e: OutboxEvent): string {
  if (typeof e.event_id !== 'string' || e.event_id === '') throw new StoreArgumentError('event.event_id must be a non-empty string');
  checkInt(e.sequence, 0, `event ${e.event_id} sequence`);
  if (e.endpoint == null || typeof e.endpoint !== 'object') throw new StoreArgumentError(`event ${e.event_id} endpoint must be an object`);
  if (e.payload == null || typeof e.payload !== 'object') throw new StoreArgumentError(`event ${e.event_id} payload must be an object`);
  return normalizeIso(e.occurred_at, `event ${e.event_id} occurred_at`);
}
