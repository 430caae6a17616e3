/**
 * What a batch of {@link CallCommit}s writes, for both backends (issue 15): the rows coalesced per key, so one
 * transaction writes each row once however many of the batch's commits carry it. A call's steps made close together
 * (ringing and answer, the answer and its saved dialogs, the last steps of a short call) each carry the whole call
 * record and its changed legs; written one after another they would update the same rows — and their indexes — again
 * within the same transaction.
 *
 * Equivalence with writing the commits one by one (what the contract suite checks):
 * - An upserted row ends with the last commit's values, and its {@link TableSpec.fixed} columns keep the first
 *   commit's (an upsert never updates them).
 * - Events are inserted in commit order (their `seq` order), all of them.
 * - `dropDialogs` deletes the dialogs stored for the call and forgets those of earlier commits in the batch; dialogs
 *   of later commits are written after the delete. A call answered and ended within one batch writes no dialog.
 * - Every record is validated as before (a bad timestamp is a StoreArgumentError), including those a later commit
 *   replaces; only a constraint that the database checks (a CHECK) on a replaced row no longer fails the batch.
 */
import type { CallCommit } from '../store.js';
import { dialogValues } from './maintenance.js';
import { recordingValues } from './recordings.js';
import { CALLS, checkEvent, LEGS, QUEUE_CALLS, RING_GROUP_CALLS, rowValues, USER_CALLS, VOICEMAILS, type TableSpec } from './records.js';

/** One table's coalesced upserts: the rows' values in column order, one per key, in first-seen order. */
export interface PlannedUpserts {
  spec: TableSpec<unknown>;
  rows: unknown[][];
}

/** The writes of one transaction, in the order they are to run. */
export interface CommitPlan {
  /** calls, legs, user/queue/ring-group rows, voicemails (only tables with rows). */
  upserts: PlannedUpserts[];
  /** outbox_events values: event_id, unique_call_id, type, sequence, occurred_at, endpoint JSON, payload JSON. */
  events: unknown[][];
  /** Calls whose stored dialogs are deleted, before {@link dialogs} are written. */
  dropDialogs: string[];
  /** leg_dialogs values ({@link dialogValues}), one per leg. */
  dialogs: unknown[][];
  /** recordings values ({@link recordingValues}), one per recording. */
  recordings: unknown[][];
  /** Rows (and dialogs) not written because a later commit of the batch replaced or deleted them. */
  coalesced: number;
}

const TABLES: ReadonlyArray<{ spec: TableSpec<unknown>; rows: (c: CallCommit) => readonly unknown[] | undefined }> = [
  { spec: CALLS as TableSpec<unknown>, rows: (c) => (c.call ? [c.call] : undefined) },
  { spec: LEGS as TableSpec<unknown>, rows: (c) => c.legs },
  { spec: USER_CALLS as TableSpec<unknown>, rows: (c) => c.userCalls },
  { spec: QUEUE_CALLS as TableSpec<unknown>, rows: (c) => c.queueCalls },
  { spec: RING_GROUP_CALLS as TableSpec<unknown>, rows: (c) => c.ringGroupCalls },
  { spec: VOICEMAILS as TableSpec<unknown>, rows: (c) => c.voicemails },
];

/** Plans one transaction for `commits` (see the module comment). Throws StoreArgumentError on a bad record. */
export function planCommits(commits: readonly CallCommit[]): CommitPlan {
  const plan: CommitPlan = { upserts: [], events: [], dropDialogs: [], dialogs: [], recordings: [], coalesced: 0 };
  for (const t of TABLES) {
    const rows = coalesce(t.spec, commits, t.rows, plan);
    if (rows.length > 0) plan.upserts.push({ spec: t.spec, rows });
  }
  const dialogs = new Map<string, { callId: string; values: unknown[] }>();
  const drops = new Set<string>();
  const recordings = new Map<string, unknown[]>();
  for (const c of commits) {
    for (const e of c.events ?? []) {
      const occurred = checkEvent(e);
      plan.events.push([e.event_id, e.unique_call_id, e.type, e.sequence, occurred, JSON.stringify(e.endpoint), JSON.stringify(e.payload)]);
    }
    for (const d of c.dialogs ?? []) {
      const key = `${d.unique_call_id}\u0000${d.leg_id}`;
      if (dialogs.delete(key)) plan.coalesced++;
      dialogs.set(key, { callId: d.unique_call_id, values: dialogValues(d) });
    }
    if (c.dropDialogs && c.call) {
      const id = c.call.unique_call_id;
      drops.add(id);
      for (const [key, d] of dialogs) if (d.callId === id) { dialogs.delete(key); plan.coalesced++; }
    }
    for (const r of c.recordings ?? []) {
      const values = recordingValues(r);
      if (recordings.delete(r.recording_id)) plan.coalesced++;
      recordings.set(r.recording_id, values);
    }
  }
  plan.dropDialogs = [...drops];
  for (const d of dialogs.values()) plan.dialogs.push(d.values);
  plan.recordings = [...recordings.values()];
  return plan;
}

/** Statements a plan runs on SQLite (one per row, event, dialog, drop and recording). */
export function planStatements(plan: CommitPlan): number {
  let n = plan.events.length + plan.dropDialogs.length + plan.dialogs.length + plan.recordings.length;
  for (const u of plan.upserts) n += u.rows.length;
  return n;
}

/** One table's rows of the batch, one per key: the last values, with the fixed columns of the first. */
function coalesce(spec: TableSpec<unknown>, commits: readonly CallCommit[], rowsOf: (c: CallCommit) => readonly unknown[] | undefined, plan: CommitPlan): unknown[][] {
  const byKey = new Map<string, unknown[]>();
  const keyIdx = spec.key.map((k) => spec.columns.indexOf(k));
  const fixedIdx = (spec.fixed ?? []).map((k) => spec.columns.indexOf(k));
  for (const c of commits) {
    for (const rec of rowsOf(c) ?? []) {
      const values = rowValues(spec, rec);
      const key = keyIdx.length === 1 ? String(values[keyIdx[0]!]) : keyIdx.map((i) => String(values[i])).join('\u0000');
      const first = byKey.get(key);
      if (first) {
        for (const i of fixedIdx) values[i] = first[i];
        byKey.set(key, values); // keeps the key's first position
        plan.coalesced++;
      } else {
        byKey.set(key, values);
      }
    }
  }
  return [...byKey.values()];
}
