import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../../src/store/index.js';
import { adminAuth, makeHarness, testConfig, type Harness } from './harness.js';

const A = '/api/admin/webhooks';
const HOOK = 'http://127.0.0.1:9/hook';
let h: Harness;
let t0: number;

async function call(method: 'GET' | 'POST', url: string, payload?: unknown) {
  const r = await h.app.inject({ method, url: `${A}${url}`, headers: adminAuth, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: r.statusCode, body: r.json() as { code: number; status: string; message: string; data: any } };
}

function event(i: number): OutboxEvent {
  return {
    event_id: `evt_${i}`, unique_call_id: `17640000000000${i}`, type: 'user_inbound', sequence: 1,
    occurred_at: new Date(t0).toISOString(), endpoint: { kind: 'global' }, payload: { type: 'user_inbound', unique_call_id: `17640000000000${i}` },
  };
}

beforeAll(async () => {
  h = await makeHarness(testConfig((c) => {
    c.webhook = { url: HOOK, secret_token: 'tok', enabled: true };
  }));
  t0 = h.clock.now();
  // Three deliveries: one succeeded, two failed (one created a minute later).
  await h.store.commit({ events: [event(1), event(2), event(3)] });
  for (const i of [1, 2, 3]) {
    // The SQLite store takes an explicit created_at (bulk loads, tests); the Store interface leaves it to the backend.
    const row = { delivery_id: `dlv_${i}`, event_id: `evt_${i}`, endpoint_url: HOOK, next_attempt_at: t0, created_at: t0 + (i - 1) * 60_000 };
    await h.store.createDeliveries([row]);
  }
  h.clock.advance(180_000);
  await h.store.markEventsDispatched(['evt_1', 'evt_2', 'evt_3']);
  await h.store.recordAttempt({ delivery_id: 'dlv_1', attempt: 1, at: t0 + 1000, status_code: 200, error: null, duration_ms: 12 },
    { status: 'succeeded', next_attempt_at: null, last_status_code: 200, last_error: null });
  for (const id of ['dlv_2', 'dlv_3']) {
    await h.store.recordAttempt({ delivery_id: id, attempt: 1, at: t0 + 2000, status_code: 500, error: 'HTTP 500', duration_ms: 30 },
      { status: 'failed', next_attempt_at: null, last_status_code: 500, last_error: 'HTTP 500' });
  }
});
afterAll(async () => h.close());

describe('webhook delivery log', () => {
  it('lists deliveries with filters', async () => {
    const all = await call('GET', '/deliveries');
    expect(all.status).toBe(200);
    expect(all.body.data.map((d: any) => d.delivery_id).sort()).toEqual(['dlv_1', 'dlv_2', 'dlv_3']);
    expect(Object.keys(all.body.data[0])).toEqual(expect.arrayContaining(['delivery_id', 'event_id', 'endpoint_url', 'status', 'attempts', 'last_status_code']));
    const failed = await call('GET', `/deliveries?status=failed&endpoint=${encodeURIComponent(HOOK)}`);
    expect(failed.body.data.map((d: any) => d.delivery_id).sort()).toEqual(['dlv_2', 'dlv_3']);
    expect((await call('GET', '/deliveries?endpoint=http://elsewhere/')).body.data).toEqual([]);
    expect((await call('GET', '/deliveries?limit=1')).body.data).toHaveLength(1);
    const since = new Date(t0 + 60_000).toISOString();
    expect((await call('GET', `/deliveries?since=${since}`)).body.data.map((d: any) => d.delivery_id).sort()).toEqual(['dlv_2', 'dlv_3']);
  });

  it.each([
    ['/deliveries?status=lost', "'status'"],
    ['/deliveries?limit=5000', "'limit'"],
    ['/deliveries?offset=-3', "'offset'"],
    ['/deliveries?since=last-tuesday', "'since'"],
  ])('answers 400 naming the parameter for %s', async (url, name) => {
    const r = await call('GET', url);
    expect(r.status).toBe(400);
    expect(r.body.message).toContain(name);
  });

  it('shows one delivery with its attempts; 404 for an unknown id', async () => {
    const r = await call('GET', '/deliveries/dlv_2');
    expect(r.body.data.delivery).toMatchObject({ delivery_id: 'dlv_2', status: 'failed', last_status_code: 500 });
    expect(r.body.data.attempts).toEqual([{ delivery_id: 'dlv_2', attempt: 1, at: t0 + 2000, status_code: 500, error: 'HTTP 500', duration_ms: 30 }]);
    expect((await call('GET', '/deliveries/dlv_nope')).status).toBe(404);
  });

  it('redelivers one delivery (pending, due now)', async () => {
    const r = await call('POST', '/deliveries/dlv_2/redeliver');
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ count: 1, delivery_ids: ['dlv_2'] });
    expect(await h.store.getDelivery('dlv_2')).toMatchObject({ status: 'pending', next_attempt_at: h.clock.now() });
    expect((await call('POST', '/deliveries/dlv_nope/redeliver')).status).toBe(404);
  });

  it('redelivers a range of failed deliveries to an endpoint', async () => {
    const r = await call('POST', '/redeliver', { endpoint: HOOK });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ count: 1, delivery_ids: ['dlv_3'] });
    expect((await h.store.getDelivery('dlv_3'))!.status).toBe('pending');
    expect((await h.store.getDelivery('dlv_1'))!.status).toBe('succeeded');
    expect(await call('POST', '/redeliver', {})).toMatchObject({ status: 400, body: { message: "Missing field 'endpoint' (or give delivery_ids)" } });
    expect((await call('POST', '/redeliver', { delivery_ids: ['dlv_1'] })).body.data.count).toBe(1);
    expect((await call('POST', '/redeliver', { endpoint: HOOK, since: '2026-12-01', until: '2026-11-01' })).status).toBe(400);
  });

  it('queues a test event to the global webhook; 400 for an unknown type', async () => {
    const r = await call('POST', '/test', { type: 'user_inbound' });
    expect(r.status).toBe(202);
    expect(r.body.data).toMatchObject({ url: HOOK });
    expect(await h.store.getDelivery(r.body.data.delivery_id)).toMatchObject({ status: 'pending', type: 'user_inbound' });
    const bad = await call('POST', '/test', { type: 'nonsense' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('nonsense');
    expect((await call('POST', '/test', {})).body.message).toBe("Missing field 'type'");
  });

  it('lists endpoints and stats', async () => {
    const e = await call('GET', '/endpoints');
    expect(e.body.data).toEqual([expect.objectContaining({ kind: 'global', url: HOOK, enabled: true, disabled_by_410: false })]);
    expect((await call('GET', '/stats')).status).toBe(200);
    expect((await call('POST', '/endpoints/enable', { url: HOOK })).body.data).toEqual({ url: HOOK });
  });
});

describe('without the webhooks admin functions', () => {
  it('answers 501 in the envelope', async () => {
    const bare = await makeHarness(testConfig(), { webhooksAdmin: undefined });
    try {
      const r = await bare.app.inject({ url: `${A}/deliveries`, headers: adminAuth });
      expect(r.statusCode).toBe(501);
      expect(r.json()).toMatchObject({ code: 501, status: 'error' });
    } finally {
      await bare.close();
    }
  });
});
