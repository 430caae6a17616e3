/**
 * Store contract, data-safety part (issue 11): crash-recovery reads (unfinished calls, a call's events, saved leg
 * dialogs, heartbeats) and the retention sweeper's batches, recordings with their real files included (issue 9).
 * Registered by storeContract for every backend.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { RetentionSweeper, StoreArgumentError, type RecordingRecord, type Store } from '../../../src/store/index.js';
import { at, call, callId, dialog, event, groupCall, leg, userCall } from './store-fixtures.js';

const DAY_MS = 86_400_000;

/** The contract cases; `get()` is the case's fresh store. */
export function dataSafetyContract(get: () => Store): void {
  describe('crash recovery reads', () => {
    it('lists unfinished calls oldest first, a call\'s events by sequence, and its saved dialogs until the call ends', async () => {
      const store = get();
      const [a, b, done] = [callId(1), callId(2), callId(3)];
      const evs = [event(a, 2), event(a, 1)];
      await store.commit({ call: call(b, at(5)), legs: [leg('leg_b', b, at(5))], dialogs: [dialog(b, 'leg_b', { role: 'uas', local_cseq: 0, route_set: [] })] });
      await store.commit({ call: call(a, at(1)), events: evs, dialogs: [dialog(a, 'leg_a1'), dialog(a, 'leg_a2')] });
      await store.commit({ call: call(done, at(0), { ended_at: at(2), status: 'answered' }) });
      expect((await store.listUnfinishedCalls(10)).map((c) => c.unique_call_id)).toEqual([a, b]);
      expect((await store.listUnfinishedCalls(1)).map((c) => c.unique_call_id)).toEqual([a]);
      // One engine's calls only (node id = the last two digits): b ends in 02, a in 01.
      expect((await store.listUnfinishedCalls(10, 2)).map((c) => c.unique_call_id)).toEqual([b]);
      expect((await store.listUnfinishedCalls(10, 1)).map((c) => c.unique_call_id)).toEqual([a]);
      expect(await store.listUnfinishedCalls(10, 7)).toEqual([]);
      await expect(store.listUnfinishedCalls(10, 100)).rejects.toBeInstanceOf(StoreArgumentError);
      expect((await store.listCallEvents(a)).map((e) => e.sequence)).toEqual([1, 2]);
      expect(await store.listLegDialogs(a)).toEqual([dialog(a, 'leg_a1'), dialog(a, 'leg_a2')]);
      expect(await store.listLegDialogs(b)).toEqual([dialog(b, 'leg_b', { role: 'uas', local_cseq: 0, route_set: [] })]);
      // A later commit of the same leg's dialog updates it (upsert by leg_id).
      await store.commit({ dialogs: [dialog(a, 'leg_a1', { local_cseq: 7 })] });
      expect((await store.listLegDialogs(a))[0]!.local_cseq).toBe(7);
      await store.commit({ call: call(a, at(1), { ended_at: at(9), status: 'missed' }), dropDialogs: true });
      expect(await store.listLegDialogs(a)).toEqual([]);
      expect((await store.listUnfinishedCalls(10)).map((c) => c.unique_call_id)).toEqual([b]);
      await expect(store.commit({ dialogs: [dialog(a, 'x', { role: 'proxy' as 'uac' })] })).rejects.toBeInstanceOf(StoreArgumentError);
      await expect(store.listUnfinishedCalls(0)).rejects.toBeInstanceOf(StoreArgumentError);
    });

    it('keeps one heartbeat per engine node', async () => {
      const store = get();
      expect(await store.getHeartbeat(0)).toBeUndefined();
      await store.recordHeartbeat(0, 1_000);
      await store.recordHeartbeat(0, 2_000);
      await store.recordHeartbeat(7, 5_000);
      expect(await store.getHeartbeat(0)).toBe(2_000);
      expect(await store.getHeartbeat(7)).toBe(5_000);
    });
  });

  describe('retention sweep', () => {
    const NOW = Date.parse(at(0)) + 100 * DAY_MS;

    it('deletes ended calls started before the cut-off with every row of theirs, in batches; open calls stay', async () => {
      const store = get();
      for (let n = 1; n <= 5; n++) {
        const id = callId(n);
        // Calls 1–4 are old (day 0); call 5 is recent; call 4 is old but still open (crash recovery closes it).
        const start = n === 5 ? at(99 * 24 * 60) : at(n);
        await store.commit({
          call: call(id, start, n === 4 ? {} : { ended_at: start, status: 'answered' }), legs: [leg(`leg_${n}`, id, start)],
          userCalls: [userCall(id, '1001', start)], queueCalls: [groupCall(id, 'Support', start)], ringGroupCalls: [groupCall(id, 'Sales', start)],
          dialogs: [dialog(id, `leg_${n}`)],
        });
      }
      const cutoff = NOW - 30 * DAY_MS;
      expect(await store.sweep('calls', cutoff, 2)).toBe(2);
      expect(await store.sweep('calls', cutoff, 2)).toBe(1);
      expect(await store.sweep('calls', cutoff, 2)).toBe(0);
      for (const n of [1, 2, 3]) {
        const id = callId(n);
        expect(await store.getCall(id)).toBeUndefined();
        expect(await store.listLegs(id)).toEqual([]);
        expect(await store.listLegDialogs(id)).toEqual([]);
      }
      const Q = { from: null, to: null, sort: 'oldest_first' as const, offset: 0, limit: 100 };
      expect((await store.queryUserCalls(Q)).map((r) => r.unique_call_id)).toEqual([callId(4), callId(5)]);
      expect((await store.queryQueueCalls(Q)).map((r) => r.unique_call_id)).toEqual([callId(4), callId(5)]);
      expect((await store.queryRingGroupCalls(Q)).map((r) => r.unique_call_id)).toEqual([callId(4), callId(5)]);
      expect(await store.getCall(callId(4))).toMatchObject({ unique_call_id: callId(4) });
    });

    it('deletes finished deliveries (with attempts) last updated before the cut-off; pending ones stay', async () => {
      const store = get();
      const evs = [1, 2, 3].map((s) => event(callId(1), s));
      await store.commit({ events: evs });
      await store.createDeliveries(evs.map((e, i) => ({ delivery_id: `dlv_${i}`, event_id: e.event_id, endpoint_url: 'http://x/a', next_attempt_at: 1_000 })));
      const done = (id: string, atMs: number) => store.recordAttempt({ delivery_id: id, attempt: 1, at: atMs, status_code: 200, error: null, duration_ms: 1 },
        { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null });
      await done('dlv_0', 1_000);
      await done('dlv_1', 50_000);
      expect(await store.sweep('deliveries', 10_000, 100)).toBe(1);
      expect(await store.getDelivery('dlv_0')).toBeUndefined();
      expect(await store.listAttempts('dlv_0')).toEqual([]);
      expect(await store.getDelivery('dlv_1')).toMatchObject({ delivery_id: 'dlv_1', status: 'succeeded' });
      // dlv_2 is pending however old it is.
      expect(await store.sweep('deliveries', 10_000_000, 100)).toBe(1);
      expect((await store.getDelivery('dlv_2'))?.status).toBe('pending');
    });

    it('deletes dispatched events before the cut-off with their finished deliveries; undispatched or pending ones stay', async () => {
      const store = get();
      const [sent, pending, fresh, undispatched] = [event(callId(1), 1), event(callId(1), 2), event(callId(2), 1, { occurred_at: at(99 * 24 * 60) }), event(callId(3), 1)];
      await store.commit({ events: [sent, pending, fresh, undispatched] });
      await store.fanOutEvents([
        { delivery_id: 'dlv_sent', event_id: sent.event_id, endpoint_url: 'http://x/a', next_attempt_at: 1 },
        { delivery_id: 'dlv_pending', event_id: pending.event_id, endpoint_url: 'http://x/a', next_attempt_at: 1 },
      ], [sent.event_id, pending.event_id, fresh.event_id]);
      await store.recordAttempt({ delivery_id: 'dlv_sent', attempt: 1, at: 2, status_code: 200, error: null, duration_ms: 1 },
        { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null });
      expect(await store.sweep('events', NOW - 30 * DAY_MS, 100)).toBe(1);
      expect(await store.getEvent(sent.event_id)).toBeUndefined();
      expect(await store.getDelivery('dlv_sent')).toBeUndefined();
      for (const e of [pending, fresh, undispatched]) expect(await store.getEvent(e.event_id)).toMatchObject({ event_id: e.event_id });
      await expect(store.sweep('bogus' as 'calls', 0, 1)).rejects.toBeInstanceOf(StoreArgumentError);
      await expect(store.sweep('calls', 0, 0)).rejects.toBeInstanceOf(StoreArgumentError);
    });

    it('sweeps recordings older than recordings.retention_days: files first, then their rows, in batches; a missing file is fine, one that cannot go keeps its row', async () => {
      const store = get();
      const dir = mkdtempSync(join(tmpdir(), 'sb-rec-sweep-'));
      try {
        const rec = (n: number, dayOffset: number): RecordingRecord => ({
          recording_id: `rec_${String(n).padStart(16, '0')}`, unique_call_id: callId(n), leg_id: `leg_${n}`, direction: 'inbound', user_number: '1002',
          path: join(dir, `rec_${n}.wav`), duration_ms: 1000, size_bytes: 48, sha256: 'cd'.repeat(32), problems: [],
          created_at: new Date(NOW - dayOffset * DAY_MS + n * 1000).toISOString(),
        });
        // 1–5 are 40 days old, 6 is 10 days old. 3's file is already gone; 4's path is a directory with a file in
        // it, which unlink refuses (EISDIR) even as root: its row must stay.
        const recs = [1, 2, 3, 4, 5].map((n) => rec(n, 40)).concat(rec(6, 10));
        for (const r of recs) if (r.recording_id !== recs[2]!.recording_id) writeFileSync(r.path, Buffer.alloc(48));
        rmSync(recs[3]!.path);
        mkdirSync(recs[3]!.path);
        writeFileSync(join(recs[3]!.path, 'keep'), 'x');
        await store.commit({ recordings: recs });

        const clock = new ManualClock(NOW);
        const settings = { days: 0 };
        const sweeper = new RetentionSweeper({
          store, clock, log: pino({ level: 'silent' }), retention: () => ({ calls_days: 0, events_days: 0, deliveries_days: 0 }),
          recordingRetentionDays: () => settings.days, batchSize: 2,
        });
        // 0 keeps them forever.
        expect((await sweeper.runOnce()).recordings).toBe(0);
        settings.days = 30;
        // Batches of 2: [1,2] → 2 gone; [3,4] → 3 (missing) gone, 4 stays; [4,5] → 5 gone; [4] short → stop.
        expect((await sweeper.runOnce()).recordings).toBe(4);
        const left = (await store.listRecordings({ offset: 0, limit: 10 })).map((r) => r.recording_id);
        expect(left).toEqual([recs[5]!.recording_id, recs[3]!.recording_id]);
        for (const n of [0, 1, 2, 4]) expect(existsSync(recs[n]!.path), recs[n]!.path).toBe(false);
        expect(existsSync(recs[5]!.path)).toBe(true);
        // Once the file can go, the next run takes the row too.
        rmSync(recs[3]!.path, { recursive: true });
        expect((await sweeper.runOnce()).recordings).toBe(1);
        expect((await store.listRecordings({ offset: 0, limit: 10 })).map((r) => r.recording_id)).toEqual([recs[5]!.recording_id]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
