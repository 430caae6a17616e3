/**
 * Contract cases for writing call steps (issue 15): `commitMany` (one transaction for many commits, each row written
 * once) leaves exactly the rows the same commits leave written one by one, and an upsert never changes a row's fixed
 * columns (a call's start time and direction, a leg's call, kind and start).
 */
import { describe, expect, it } from 'vitest';
import type { CallCommit, Store } from '../../../src/store/index.js';
import { at, call, callId, dialog, event, leg, userCall } from './store-fixtures.js';

/** The store's batch form (both backends have it; it is not on `Store`). */
type BatchStore = Store & { commitMany(commits: readonly CallCommit[]): Promise<void> };

/**
 * An inbound call's steps as the recorder makes them: ringing, answered, its dialogs saved, ended (dialogs
 * dropped); the answered step carries a different start time and direction, which must not be written.
 */
export function inboundSteps(id: string): CallCommit[] {
  const caller = leg(`leg_${id}_1`, id, at(0));
  const device = leg(`leg_${id}_2`, id, at(0), { kind: 'device', device: 'alice-desk', user_number: '1001' });
  const answered = call(id, at(9), { direction: 'outbound', status: 'answered', connected_at: at(1), user_number: '1001', user_name: 'Alice' });
  const ended = { ...answered, ended_at: at(3), call_duration: 180, conversation_duration: 120 };
  return [
    { call: call(id, at(0)), legs: [caller, device], events: [event(id, 1)] },
    { call: answered, legs: [{ ...device, answered_at: at(1), final_status: 200, started_at: at(8) }], events: [event(id, 2, { type: 'user_inbound_answered' })] },
    { call: answered, legs: [], events: [], dialogs: [dialog(id, caller.leg_id, { role: 'uas' }), dialog(id, device.leg_id)] },
    {
      call: ended, legs: [{ ...caller, answered_at: at(1), ended_at: at(3), ended_by: 'caller' }, { ...device, answered_at: at(1), ended_at: at(3), final_status: 200, ended_by: 'caller' }],
      events: [event(id, 3, { type: 'user_inbound_completed' })], userCalls: [userCall(id, '1001', at(0), { connected_at: at(1) })], dropDialogs: true,
    },
  ];
}

/** What the store holds for a call, with its id replaced by `X` (to compare two calls written differently). */
async function snapshot(store: Store, id: string): Promise<unknown> {
  const rows = {
    call: await store.getCall(id),
    legs: await store.listLegs(id),
    dialogs: await store.listLegDialogs(id),
    events: (await store.listCallEvents(id)).map((e) => [e.type, e.sequence, e.occurred_at]),
    users: await store.queryUserCalls({ from: null, to: null, sort: 'oldest_first', offset: 0, limit: 10, unique_call_id: id }),
  };
  return JSON.parse(JSON.stringify(rows).replaceAll(id, 'X'));
}

/** The contract cases; `get()` is the case's fresh store. */
export function batchingContract(get: () => Store): void {
  describe('call steps in one transaction (commitMany)', () => {
    it('leaves the rows the same commits leave one by one: last values, fixed columns from the first, dialogs gone with the call', async () => {
      const store = get() as BatchStore;
      const [one, many] = [callId(1), callId(2)];
      for (const c of inboundSteps(one)) await store.commit(c);
      await store.commitMany(inboundSteps(many));
      const written = await snapshot(store, many);
      expect(written).toEqual(await snapshot(store, one));
      expect((await store.getCall(many))?.call_start_at).toBe(at(0));
      expect((await store.getCall(many))?.direction).toBe('inbound');
      expect((await store.listLegs(many)).map((l) => [l.started_at, l.final_status, l.ended_at])).toEqual([[at(0), null, at(3)], [at(0), 200, at(3)]]);
      expect(await store.listLegDialogs(many)).toEqual([]);
      expect((await store.listCallEvents(many)).map((e) => e.sequence)).toEqual([1, 2, 3]);
    });

    it('keeps the dialogs saved after a drop in the same batch, and those of other calls', async () => {
      const store = get() as BatchStore;
      const [a, b] = [callId(3), callId(4)];
      await store.commit({ call: call(a, at(0)), dialogs: [dialog(a, 'leg_a1')] });
      await store.commitMany([
        { call: call(b, at(0)), dialogs: [dialog(b, 'leg_b1')] },
        { call: call(a, at(0)), dialogs: [dialog(a, 'leg_a2')], dropDialogs: true },
        { call: call(a, at(0)), dialogs: [dialog(a, 'leg_a3')] },
      ]);
      expect((await store.listLegDialogs(a)).map((d) => d.leg_id)).toEqual(['leg_a3']);
      expect((await store.listLegDialogs(b)).map((d) => d.leg_id)).toEqual(['leg_b1']);
    });

    it('writes the events of every commit in commit order, across calls', async () => {
      const store = get() as BatchStore;
      const [a, b] = [callId(5), callId(6)];
      const evs = [event(a, 1), event(b, 1), event(a, 2), event(b, 2)];
      await store.commitMany(evs.map((e) => ({ call: call(e.unique_call_id!, at(0)), events: [e] })));
      expect((await store.listUndispatchedEvents(10)).map((e) => e.event_id)).toEqual(evs.map((e) => e.event_id));
    });

    it('never updates fixed columns: a later commit keeps the call\'s start and direction, the leg\'s call, kind and start', async () => {
      const store = get();
      const id = callId(7);
      await store.commit({ call: call(id, at(0)), legs: [leg('leg_f', id, at(0))], userCalls: [userCall(id, '1001', at(0))] });
      await store.commit({
        call: call(id, at(5), { direction: 'internal', status: 'answered' }), legs: [leg('leg_f', callId(8), at(5), { kind: 'device', final_status: 486 })],
        userCalls: [userCall(id, '1001', at(5), { call_duration: 99 })],
      });
      expect(await store.getCall(id)).toEqual(call(id, at(0), { status: 'answered' }));
      expect(await store.listLegs(id)).toEqual([leg('leg_f', id, at(0), { final_status: 486 })]);
      expect((await store.queryUserCalls({ from: null, to: null, sort: 'oldest_first', offset: 0, limit: 10 })).map((r) => [r.call_start_at, r.call_duration])).toEqual([[at(0), 99]]);
    });
  });
}
