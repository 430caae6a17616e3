/**
 * CallRecorder on fake time with a real (in-memory) SQLite store: exact compat fields, durations in whole seconds,
 * per-call sequence, and the rows written with each step.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { Leg } from '../../../src/engine/call/leg.js';
import { CallRecorder } from '../../../src/engine/records/call-recorder.js';
import { createSqliteStore } from '../../../src/store/index.js';
import type { CallCommit, Store } from '../../../src/store/store.js';
import { demoConfig, harnessLogger } from '../../support/engine-harness.js';

const T0 = Date.UTC(2026, 10, 28, 15, 31, 15, 0);

describe('CallRecorder', () => {
  let store: Store;
  let clock: ManualClock;
  let commits: number;
  const legs: Leg[] = [];
  const alice = demoConfig().users[0]!;

  beforeEach(async () => {
    store = await createSqliteStore({ file: ':memory:' });
    clock = new ManualClock(T0);
    commits = 0;
    legs.length = 0;
  });
  afterEach(async () => {
    await store.close();
  });

  function recorder(direction: 'inbound' | 'outbound', callerId: string, dest: string): CallRecorder {
    return new CallRecorder({
      store, clock, log: harnessLogger(), onCommitted: () => void commits++, uniqueCallId: '1764343875000000100', direction,
      callerId, callerName: 'Carol Caller', destNumber: dest, configVersion: 3, startMs: clock.now(), legs: () => legs,
    });
  }

  it('writes user_inbound → _answered → _completed with SPEC §3 fields and durations, one commit per step', async () => {
    const r = recorder('inbound', '+61400111222', '+61390000000');
    legs.push(new Leg({ kind: 'caller', startedAtMs: clock.now() }));
    clock.advance(250);
    r.userRinging(alice, { queue_name: null, ring_group_name: null });
    clock.advance(4_750);
    r.userAnswered(alice);
    clock.advance(12_400);
    await r.finish('caller-hangup');
    expect(commits).toBe(3);
    const events = (await store.listUndispatchedEvents(100)).sort((a, b) => a.sequence - b.sequence);
    const base = {
      unique_call_id: '1764343875000000100', caller_id: '61400111222', caller_name: 'Carol Caller', user_name: 'Alice Smith',
      user_number: '1001', dest_number: '61390000000', call_start_at: '2026-11-28T15:31:15.000Z', queue_name: null, ring_group_name: null,
    };
    expect(events.map((e) => e.payload)).toEqual([
      { type: 'user_inbound', ...base, event_id: events[0]!.event_id, occurred_at: '2026-11-28T15:31:15.250Z', sequence: 1 },
      { type: 'user_inbound_answered', ...base, connected_at: '2026-11-28T15:31:20.000Z', event_id: events[1]!.event_id, occurred_at: '2026-11-28T15:31:20.000Z', sequence: 2 },
      {
        type: 'user_inbound_completed', ...base, connected_at: '2026-11-28T15:31:20.000Z', call_duration: 17, conversation_duration: 12,
        event_id: events[2]!.event_id, occurred_at: '2026-11-28T15:31:32.400Z', sequence: 3,
      },
    ]);
    expect(events.every((e) => e.endpoint.kind === 'global')).toBe(true);
    expect(await store.getCall('1764343875000000100')).toMatchObject({
      direction: 'inbound', status: 'answered', user_number: '1001', connected_at: '2026-11-28T15:31:20.000Z',
      ended_at: '2026-11-28T15:31:32.400Z', call_duration: 17, conversation_duration: 12, hangup_cause: 'caller-hangup', config_version: 3,
    });
    const rows = await store.queryUserCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10 });
    expect(rows).toEqual([expect.objectContaining({ type: 'user_inbound_answered', user_number: '1001', call_duration: 17, conversation_duration: 12 })]);
    expect(await store.listLegs('1764343875000000100')).toHaveLength(1);
  });

  it('a user who stops ringing without answering gets _completed and a missed row at once; the call is missed', async () => {
    const r = recorder('inbound', '0299990000', '+61390000000');
    r.userRinging(alice, { queue_name: 'Support', ring_group_name: null });
    clock.advance(20_000);
    r.userMissed(alice);
    await r.flushed();
    expect(commits).toBe(2);
    await r.finish('flow-end');
    const events = (await store.listUndispatchedEvents(100)).sort((a, b) => a.sequence - b.sequence);
    expect(events.map((e) => e.type)).toEqual(['user_inbound', 'user_inbound_completed']);
    expect(events[1]!.payload).toMatchObject({ connected_at: null, call_duration: 20, conversation_duration: 0, queue_name: 'Support' });
    expect(await store.getCall('1764343875000000100')).toMatchObject({ status: 'missed', queue_name: 'Support', user_name: null });
    const rows = await store.queryUserCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10 });
    expect(rows.map((x) => x.type)).toEqual(['user_inbound_missed']);
  });

  it('an outbound call writes user_outbound events without queue fields and an outbound row', async () => {
    const r = recorder('outbound', '+61390000000', '+61299998888');
    r.outboundStarted(alice);
    clock.advance(3_000);
    r.outboundAnswered(alice);
    clock.advance(60_000);
    await r.finish('callee-hangup');
    const events = (await store.listUndispatchedEvents(100)).sort((a, b) => a.sequence - b.sequence);
    expect(events.map((e) => e.type)).toEqual(['user_outbound', 'user_outbound_answered', 'user_outbound_completed']);
    expect(Object.keys(events[2]!.payload).sort()).toEqual(['call_duration', 'call_start_at', 'caller_id', 'caller_name', 'connected_at',
      'conversation_duration', 'dest_number', 'event_id', 'occurred_at', 'sequence', 'type', 'unique_call_id', 'user_name', 'user_number']);
    expect(events[2]!.payload).toMatchObject({ caller_id: '61390000000', dest_number: '61299998888', call_duration: 63, conversation_duration: 60 });
    expect(await store.getCall('1764343875000000100')).toMatchObject({ direction: 'outbound', user_number: '1001', status: 'answered' });
  });
  it('carries the call record only in steps that change it: saving the answered dialogs rewrites no call row', async () => {
    const written: CallCommit[] = [];
    const writer = { write: (c: CallCommit) => { written.push(c); return store.commit(c); } };
    const r = new CallRecorder({
      store, clock, log: harnessLogger(), writer, uniqueCallId: '1764343875000000101', direction: 'inbound',
      callerId: '+61400111222', callerName: null, destNumber: '+61390000000', configVersion: 3, startMs: clock.now(), legs: () => legs,
    });
    legs.push(new Leg({ kind: 'caller', startedAtMs: clock.now() }));
    r.userRinging(alice, { queue_name: null, ring_group_name: null });
    clock.advance(1_000);
    r.userAnswered(alice);
    const d = { leg_id: legs[0]!.id, unique_call_id: '1764343875000000101', role: 'uas' as const, call_id: 'c@1', local_header: '<sip:a@b>;tag=1',
      remote_header: '<sip:c@d>;tag=2', local_cseq: 1, remote_target: 'sip:c@127.0.0.1', route_set: [], destination: 'sip:127.0.0.1:5090' };
    r.dialogsAnswered([d]);
    clock.advance(1_000);
    await r.finish('caller-hangup');
    expect(written.map((c) => c.call?.status ?? null)).toEqual(['ringing', 'answered', null, 'answered']);
    expect(written[3]!.dropDialogs).toBe(true);
    expect((await store.getCall('1764343875000000101'))?.ended_at).toBe('2026-11-28T15:31:17.000Z');
    expect(await store.listLegDialogs('1764343875000000101')).toEqual([]);
  });
});
