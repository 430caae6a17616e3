/**
 * SQL of the recordings table for both backends (placeholders `ph(i)`): the upsert, the admin list with its filters
 * (newest first, on the (user_number, created_at) and (created_at) indexes), and row mapping. `problems` is JSON text
 * in SQLite and jsonb in PostgreSQL.
 */
import type { RecordingQuery, RecordingRecord } from '../store.js';
import { StoreArgumentError } from '../errors.js';
import { checkInt, normalizeIso } from './records.js';

export const RECORDING_COLUMNS = ['recording_id', 'unique_call_id', 'leg_id', 'direction', 'user_number', 'path', 'duration_ms',
  'size_bytes', 'sha256', 'problems', 'created_at'] as const;

/** Largest page of the admin list. */
export const MAX_RECORDINGS_LIMIT = 1000;

/** `INSERT … ON CONFLICT (recording_id) DO UPDATE` (a retried commit writes the same row again). */
export function upsertRecordingSql(ph: (i: number) => string, jsonCast = ''): string {
  const values = RECORDING_COLUMNS.map((c, i) => (c === 'problems' ? `${ph(i + 1)}${jsonCast}` : ph(i + 1))).join(', ');
  const updates = RECORDING_COLUMNS.filter((c) => c !== 'recording_id').map((c) => `${c} = excluded.${c}`).join(', ');
  return `INSERT INTO recordings (${RECORDING_COLUMNS.join(', ')}) VALUES (${values}) ON CONFLICT (recording_id) DO UPDATE SET ${updates}`;
}

/** The row's values in column order; throws StoreArgumentError on a bad field (the caller's bug, not SQL's). */
export function recordingValues(r: RecordingRecord): unknown[] {
  if (!Array.isArray(r.problems) || r.problems.some((p) => typeof p !== 'string')) throw new StoreArgumentError('recordings.problems must be a list of strings');
  for (const k of ['duration_ms', 'size_bytes'] as const) checkInt(r[k], 0, `recordings.${k}`);
  return RECORDING_COLUMNS.map((c) => {
    if (c === 'problems') return JSON.stringify(r.problems);
    if (c === 'created_at') return normalizeIso(r.created_at, 'recordings.created_at');
    return r[c] ?? null;
  });
}

/** A row back as a record (timestamps as ISO strings, problems parsed, bigint columns as numbers). */
export function recordingFromRow(row: Record<string, unknown>): RecordingRecord {
  const created = row['created_at'];
  const problems = row['problems'];
  return {
    recording_id: row['recording_id'] as string, unique_call_id: row['unique_call_id'] as string, leg_id: (row['leg_id'] as string | null) ?? null,
    direction: row['direction'] as RecordingRecord['direction'], user_number: (row['user_number'] as string | null) ?? null, path: row['path'] as string,
    duration_ms: Number(row['duration_ms']), size_bytes: Number(row['size_bytes']), sha256: row['sha256'] as string,
    problems: (typeof problems === 'string' ? JSON.parse(problems) : problems ?? []) as string[],
    created_at: created instanceof Date ? created.toISOString() : normalizeIso(created as string, 'recordings.created_at'),
  };
}

/** The admin list: filters, newest first, paged. */
export function listRecordingsSql(q: RecordingQuery, ph: (i: number) => string): { sql: string; params: unknown[] } {
  checkInt(q.offset, 0, 'offset');
  checkInt(q.limit, 1, 'limit');
  if (q.limit > MAX_RECORDINGS_LIMIT) throw new StoreArgumentError(`limit must be at most ${MAX_RECORDINGS_LIMIT}, got ${q.limit}`);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: (p: string) => string, v: unknown): void => { params.push(v); where.push(cond(ph(params.length))); };
  if (q.unique_call_id !== undefined) add((p) => `unique_call_id = ${p}`, q.unique_call_id);
  if (q.user_number !== undefined) add((p) => `user_number = ${p}`, q.user_number);
  if (q.from !== undefined) add((p) => `created_at >= ${p}`, normalizeIso(q.from, 'from'));
  if (q.to !== undefined) add((p) => `created_at < ${p}`, normalizeIso(q.to, 'to'));
  params.push(q.limit, q.offset);
  const sql = `SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY created_at DESC, recording_id DESC LIMIT ${ph(params.length - 1)} OFFSET ${ph(params.length)}`;
  return { sql, params };
}
