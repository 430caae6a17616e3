/**
 * The retention sweeper over a real SQLite store on a manual clock: it deletes in batches of `batchSize` until
 * nothing old is left, leaves a kind alone when its days are 0 (keep forever), and runs again every interval.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { createSqliteStore, RetentionSweeper } from '../../../src/store/index.js';
import { call, callId } from './store-fixtures.js';
import { eventually } from '../../support/eventually.js';

const DAY_MS = 86_400_000;

describe('RetentionSweeper', () => {
  it('deletes ended calls older than calls_days in batches; 0 keeps them; the next interval runs again', async () => {
    const store = await createSqliteStore({ file: ':memory:' });
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const old = new Date(clock.now() - 40 * DAY_MS).toISOString();
    for (let n = 1; n <= 7; n++) await store.commit({ call: call(callId(n), old, { ended_at: old, status: 'answered' }) });
    const retention = { calls_days: 0, events_days: 0, deliveries_days: 0 };
    const sweeper = new RetentionSweeper({ store, clock, log: pino({ level: 'silent' }), retention: () => retention, batchSize: 3, intervalMs: 1000, firstRunMs: 10 });
    expect(await sweeper.runOnce()).toEqual({ calls: 0, deliveries: 0, events: 0, recordings: 0 });
    retention.calls_days = 60;
    expect((await sweeper.runOnce()).calls).toBe(0);
    retention.calls_days = 30;
    expect((await sweeper.runOnce()).calls).toBe(7);
    expect(await store.getCall(callId(1))).toBeUndefined();

    await store.commit({ call: call(callId(8), old, { ended_at: old, status: 'answered' }) });
    sweeper.start();
    clock.advance(10);
    await eventually(async () => (await store.getCall(callId(8))) === undefined || undefined, 'the timed run deleting call 8');
    await sweeper.stop();
    await store.close();
  });
});
