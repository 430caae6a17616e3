import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAttemptWriter } from '../../../src/events/attempt-writer.js';
import { createSqliteStore, type AttemptRecord, type SqliteStore } from '../../../src/store/index.js';
import { callEvent } from './fixtures.js';

const T0 = Date.parse('2026-11-28T15:00:00.000Z');
let store: SqliteStore;
let calls: number[];

function ok(id: string): AttemptRecord {
  return { attempt: { delivery_id: id, attempt: 1, at: T0, status_code: 200, error: null, duration_ms: 1 },
    update: { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null } };
}

beforeEach(async () => {
  store = await createSqliteStore({ file: ':memory:' });
  const events = [1, 2, 3].map((i) => callEvent(String(i), 1));
  await store.commit({ events });
  await store.fanOutEvents(events.map((e, i) => ({ delivery_id: `dlv_${i + 1}`, event_id: e.event_id, endpoint_url: 'http://x/', next_attempt_at: T0 })), events.map((e) => e.event_id));
  calls = [];
  const inner = store.recordAttempts.bind(store);
  store.recordAttempts = async (records) => { calls.push(records.length); return inner(records); };
});

afterEach(async () => {
  await store.close();
});

describe('attempt writer', () => {
  it('writes the records of one turn in one transaction and resolves each once durable', async () => {
    const w = createAttemptWriter(store);
    const done = [w.write(ok('dlv_1')), w.write(ok('dlv_2')), w.write(ok('dlv_3'))];
    expect(w.backlog).toBe(3);
    await Promise.all(done);
    expect(calls).toEqual([3]);
    expect(w.backlog).toBe(0);
    for (const id of ['dlv_1', 'dlv_2', 'dlv_3']) expect(await store.getDelivery(id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('a bad record fails alone: the batch is retried record by record', async () => {
    const w = createAttemptWriter(store);
    const results = await Promise.allSettled([w.write(ok('dlv_1')), w.write(ok('dlv_missing')), w.write(ok('dlv_3'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).toEqual([3, 1, 1, 1]);
    expect(await store.getDelivery('dlv_1')).toMatchObject({ status: 'succeeded' });
    expect(await store.getDelivery('dlv_2')).toMatchObject({ status: 'pending' });
    expect(await store.getDelivery('dlv_3')).toMatchObject({ status: 'succeeded' });
  });

  it('records written while a batch is in progress form the next batch', async () => {
    const w = createAttemptWriter(store);
    const first = w.write(ok('dlv_1'));
    await new Promise((r) => setImmediate(r)); // the first batch starts
    const rest = [w.write(ok('dlv_2')), w.write(ok('dlv_3'))];
    await Promise.all([first, ...rest]);
    expect(calls).toEqual([1, 2]);
  });
});
