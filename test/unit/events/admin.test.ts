import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import type { PbxConfig } from '../../../src/config/types.js';
import { createWebhookAdmin, type WebhookAdmin } from '../../../src/events/admin.js';
import { createDispatcher, type Dispatcher } from '../../../src/events/dispatcher.js';
import { deriveSigningSecret } from '../../../src/events/signature.js';
import { createSqliteStore, type SqliteStore } from '../../../src/store/index.js';
import { callEvent, captureLog, testConfig } from './fixtures.js';

const START = Date.parse('2026-11-28T15:00:00.000Z');
let clock: ManualClock;
let store: SqliteStore;
let agent: MockAgent;
let config: PbxConfig;
let dispatcher: Dispatcher;
let admin: WebhookAdmin;
let status: number;
let sent: number;

beforeEach(async () => {
  clock = new ManualClock(START);
  store = await createSqliteStore({ file: ':memory:' });
  agent = new MockAgent();
  agent.disableNetConnect();
  status = 500;
  sent = 0;
  agent.get('http://127.0.0.1:9').intercept({ path: '/hook', method: 'POST' }).reply(() => { sent++; return { statusCode: status, data: '' }; }).persist();
  config = testConfig({
    delivery: { retry_schedule_s: [5], horizon_s: 10 },
    flows: [{ id: 'f', nodes: [{ id: 'w', type: 'webhook', component_name: 'New lead', url: 'http://127.0.0.1:8/c', secret_token: 'ctok', headers: {} }] }],
  });
  dispatcher = createDispatcher({ store, getConfig: () => config, clock, log: captureLog().log, fetchDispatcher: agent, version: '1', jitter: 0, pollIntervalMs: 60_000 });
  admin = createWebhookAdmin({ store, dispatcher, getConfig: () => config, clock });
  // Two calls, one event each at START, one more 20 s later; each fails for good after 2 attempts (horizon 10 s, step 5 s).
  await store.commit({ events: [callEvent('1', 1), callEvent('2', 1)] });
  dispatcher.start();
  await dispatcher.idle();
  clock.advance(20_000);
  await store.commit({ events: [callEvent('3', 1)] });
  dispatcher.wake();
  await dispatcher.idle();
  clock.advance(10_000);
  await dispatcher.idle();
});

afterEach(async () => {
  await dispatcher.stop();
  await agent.close();
  await store.close();
});

describe('webhook admin', () => {
  it('lists deliveries per endpoint with status, attempts, last code and error', async () => {
    const r = await admin.listDeliveries({ endpoint_url: 'http://127.0.0.1:9/hook', status: 'failed' });
    if (!r.ok) throw new Error(r.error);
    expect(r.value.deliveries).toHaveLength(3);
    expect(r.value.deliveries[0]).toMatchObject({ status: 'failed', attempts: 2, last_status_code: 500, next_attempt_at: null });
  });

  it('filters by time range on created_at and pages', async () => {
    const r = await admin.listDeliveries({ endpoint_url: 'http://127.0.0.1:9/hook', from_ms: START, to_ms: START + 1000, limit: 1, offset: 1 });
    if (!r.ok) throw new Error(r.error);
    expect(r.value.deliveries).toHaveLength(1);
    expect(r.value.deliveries[0]!.created_at).toBe(START);
  });

  it('refuses bad parameters with a message naming them', async () => {
    expect(await admin.listDeliveries({ limit: 0 })).toMatchObject({ ok: false, code: 'bad_request', error: expect.stringContaining('limit') });
    expect(await admin.listDeliveries({ status: 'weird' })).toMatchObject({ ok: false, error: expect.stringContaining('status') });
    expect(await admin.redeliver({ delivery_ids: [] })).toMatchObject({ ok: false, error: expect.stringContaining('delivery_ids') });
    expect(await admin.redeliver({ delivery_ids: ['dlv_missing'] })).toMatchObject({ ok: false, code: 'not_found' });
    expect(await admin.getDelivery('dlv_missing')).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('shows a delivery with its attempts', async () => {
    const list = await admin.listDeliveries({});
    if (!list.ok) throw new Error(list.error);
    const r = await admin.getDelivery(list.value.deliveries[0]!.delivery_id);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.attempts.map((a) => [a.attempt, a.status_code])).toEqual([[1, 500], [2, 500]]);
  });

  it('redelivers one delivery by id, keeping its webhook-id', async () => {
    status = 200;
    const list = await admin.listDeliveries({});
    if (!list.ok) throw new Error(list.error);
    const id = list.value.deliveries[0]!.delivery_id;
    const before = sent;
    expect(await admin.redeliver({ delivery_ids: [id] })).toMatchObject({ ok: true, value: { count: 1 } });
    await dispatcher.idle();
    expect(sent).toBe(before + 1);
    expect((await store.getDelivery(id))!.status).toBe('succeeded');
  });

  it('redelivers a range by endpoint, status and time range', async () => {
    status = 200;
    const r = await admin.redeliver({ endpoint_url: 'http://127.0.0.1:9/hook', status: 'failed', from_ms: START, to_ms: START + 1000 });
    expect(r).toMatchObject({ ok: true, value: { count: 2 } });
    await dispatcher.idle();
    const ok = await admin.listDeliveries({ status: 'succeeded' });
    expect(ok.ok && ok.value.deliveries.map((d) => d.unique_call_id).sort()).toEqual(['1', '2']);
  });

  it('lists the global and component endpoints with their signing secrets', async () => {
    const eps = await admin.listEndpoints();
    expect(eps).toEqual([
      expect.objectContaining({ kind: 'global', url: 'http://127.0.0.1:9/hook', signing_secret: deriveSigningSecret('tok'), disabled_by_410: false }),
      expect.objectContaining({ kind: 'component', name: 'New lead', url: 'http://127.0.0.1:8/c', signing_secret: deriveSigningSecret('ctok') }),
    ]);
  });

  it('sends a test component event to the named webhook object', async () => {
    agent.get('http://127.0.0.1:8').intercept({ path: '/c', method: 'POST' }).reply(200, '');
    const r = await admin.sendTest('webhook_component_event', { componentName: 'New lead' });
    expect(r).toMatchObject({ ok: true, url: 'http://127.0.0.1:8/c' });
    await dispatcher.idle();
    if (!r.ok) throw new Error(r.error);
    expect((await store.getDelivery(r.delivery_id))!.status).toBe('succeeded');
    expect(await admin.sendTest('webhook_component_event', { componentName: 'Nope' })).toMatchObject({ ok: false });
  });
});
