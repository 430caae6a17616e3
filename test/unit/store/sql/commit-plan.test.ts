/**
 * planCommits (src/store/sql/commit-plan.ts): a batch of call commits becomes one transaction that writes each row
 * once. Pure: no database here; the store contract (store-contract-batching.ts) checks the rows on both backends.
 */
import { describe, expect, it } from 'vitest';
import { StoreArgumentError } from '../../../../src/store/index.js';
import { planCommits, planStatements } from '../../../../src/store/sql/commit-plan.js';
import { CALLS, LEGS } from '../../../../src/store/sql/records.js';
import { inboundSteps } from '../store-contract-batching.js';
import { at, call, callId, dialog, event, leg } from '../store-fixtures.js';

const col = (spec: { columns: readonly string[] }, name: string): number => spec.columns.indexOf(name);

describe('planCommits', () => {
  it('writes an inbound call\'s 4 steps in 8 statements when batched together, 16 one by one', () => {
    const steps = inboundSteps(callId(1));
    const oneByOne = steps.reduce((n, c) => n + planStatements(planCommits([c])), 0);
    const batched = planCommits(steps);
    expect(oneByOne).toBe(16);
    // 1 call row + 2 legs + 3 events + 1 user row + 1 dialog delete; the 2 dialogs are saved and dropped in the batch.
    expect(planStatements(batched)).toBe(8);
    expect(batched.coalesced).toBe(3 + 3 + 2);
    expect(batched.dialogs).toEqual([]);
    expect(batched.dropDialogs).toEqual([callId(1)]);
  });

  it('keeps the last values of a row and the fixed columns of its first commit', () => {
    const id = callId(2);
    const plan = planCommits([
      { call: call(id, at(0)), legs: [leg('leg_1', id, at(0))] },
      { call: call(id, at(7), { status: 'answered', direction: 'internal' }), legs: [leg('leg_1', id, at(7), { final_status: 200 })] },
    ]);
    const [calls, legs] = plan.upserts;
    expect(calls!.spec).toBe(CALLS);
    expect(calls!.rows).toHaveLength(1);
    const row = calls!.rows[0]!;
    expect([row[col(CALLS, 'call_start_at')], row[col(CALLS, 'direction')], row[col(CALLS, 'status')]]).toEqual([at(0), 'inbound', 'answered']);
    expect(legs!.spec).toBe(LEGS);
    expect(legs!.rows.map((r) => [r[col(LEGS, 'started_at')], r[col(LEGS, 'final_status')]])).toEqual([[at(0), 200]]);
  });

  it('keeps every event, in commit order, and the rows of other calls apart', () => {
    const [a, b] = [callId(3), callId(4)];
    const evs = [event(a, 1), event(b, 1), event(a, 2)];
    const plan = planCommits(evs.map((e) => ({ call: call(e.unique_call_id!, at(0)), events: [e] })));
    expect(plan.events.map((v) => v[0])).toEqual(evs.map((e) => e.event_id));
    expect(plan.upserts[0]!.rows.map((r) => r[0])).toEqual([a, b]);
  });

  it('forgets the dialogs a later drop deletes and keeps those saved after it', () => {
    const id = callId(5);
    const plan = planCommits([
      { call: call(id, at(0)), dialogs: [dialog(id, 'leg_1'), dialog(callId(6), 'leg_other')] },
      { call: call(id, at(0)), dropDialogs: true },
      { call: call(id, at(0)), dialogs: [dialog(id, 'leg_2')] },
    ]);
    expect(plan.dropDialogs).toEqual([id]);
    expect(plan.dialogs.map((v) => v[0])).toEqual(['leg_other', 'leg_2']);
  });

  it('validates a record a later commit replaces, as writing them one by one would', () => {
    const id = callId(7);
    expect(() => planCommits([{ call: call(id, 'yesterday') }, { call: call(id, at(0)) }])).toThrow(StoreArgumentError);
    expect(() => planCommits([{ events: [event(id, 1, { occurred_at: 'soon' })] }])).toThrow(StoreArgumentError);
  });

  it('plans nothing for empty commits', () => {
    expect(planStatements(planCommits([{}, { legs: [], events: [] }]))).toBe(0);
  });
});
