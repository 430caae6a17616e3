/**
 * The call-history queries (SPEC §4 get-user-calls / get-queue-calls / get-ringgroup-calls), built once for both
 * dialects. Rows are ordered by call_start_at, then unique_call_id, then the name column, all in the chosen
 * direction, so offset/limit pages are stable. The indexes (name, call_start_at, unique_call_id) and
 * (call_start_at, unique_call_id, name) serve the filtered and unfiltered forms (see migrations).
 */
import type { HistoryQuery } from '../store.js';
import { StoreArgumentError } from '../errors.js';
import { checkInt, normalizeIso, type TableSpec } from './records.js';

/** How a dialect renders placeholders and an "IN list" filter. */
export interface SqlDialect {
  /** The i-th (1-based) placeholder. */
  ph(i: number): string;
  /** A predicate "col is one of values", pushing its parameters onto `params`. */
  inList(col: string, values: readonly string[], params: unknown[]): string;
  /** Renders a timestamp parameter for comparison with a timestamp column. */
  timestamp(placeholder: string): string;
}

/** Limits of a history page (compat: limit 1–10000). */
export const MAX_HISTORY_LIMIT = 10_000;
/**
 * Largest `offset` (ours): the database walks and discards every skipped row, so an unbounded offset is a cheap
 * request that costs a full index scan. Deeper pages are reached by narrowing from_date/to_date.
 */
export const MAX_HISTORY_OFFSET = 100_000;

/** Builds the SELECT for one history query against `spec` (user_calls, queue_calls or ring_group_calls). */
export function historySql<R>(spec: TableSpec<R>, nameColumn: string, q: HistoryQuery, d: SqlDialect): { sql: string; params: unknown[] } {
  checkInt(q.offset, 0, 'offset');
  checkInt(q.limit, 1, 'limit');
  if (q.offset > MAX_HISTORY_OFFSET) throw new StoreArgumentError(`offset must be <= ${MAX_HISTORY_OFFSET}, got ${q.offset}`);
  if (q.limit > MAX_HISTORY_LIMIT) throw new StoreArgumentError(`limit must be <= ${MAX_HISTORY_LIMIT}, got ${q.limit}`);
  if (q.sort !== 'newest_first' && q.sort !== 'oldest_first') throw new StoreArgumentError(`sort must be newest_first or oldest_first, got ${String(q.sort)}`);
  const params: unknown[] = [];
  const where: string[] = [];
  const next = (v: unknown): string => {
    params.push(v);
    return d.ph(params.length);
  };
  if (q.from != null) where.push(`call_start_at >= ${d.timestamp(next(normalizeIso(q.from, 'from')))}`);
  if (q.to != null) where.push(`call_start_at <= ${d.timestamp(next(normalizeIso(q.to, 'to')))}`);
  if (q.unique_call_id !== undefined) where.push(`unique_call_id = ${next(q.unique_call_id)}`);
  // An empty names list means "no filter", as when the parameter is absent.
  if (q.names && q.names.length > 0) where.push(d.inList(nameColumn, q.names, params));
  const dir = q.sort === 'oldest_first' ? 'ASC' : 'DESC';
  const sql = `SELECT ${spec.columns.join(', ')} FROM ${spec.table}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY call_start_at ${dir}, unique_call_id ${dir}, ${nameColumn} ${dir}` +
    ` LIMIT ${next(q.limit)} OFFSET ${next(q.offset)}`;
  return { sql, params };
}

/** SQLite: `?` placeholders, `col IN (?, ?, …)`, timestamps as normalized ISO text. */
export const SQLITE_DIALECT: SqlDialect = {
  ph: () => '?',
  inList(col, values, params) {
    params.push(...values);
    return `${col} IN (${values.map(() => '?').join(', ')})`;
  },
  timestamp: (p) => p,
};

/** PostgreSQL: `$n` placeholders, `col = ANY($n::text[])`, timestamptz casts. */
export const POSTGRES_DIALECT: SqlDialect = {
  ph: (i) => `$${i}`,
  inList(col, values, params) {
    // One name as plain equality: the planner then walks (name, call_start_at) in order instead of filtering.
    if (values.length === 1) {
      params.push(values[0]);
      return `${col} = $${params.length}`;
    }
    params.push([...values]);
    return `${col} = ANY($${params.length}::text[])`;
  },
  timestamp: (p) => `${p}::timestamptz`,
};
