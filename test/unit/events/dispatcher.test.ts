import { createHmac } from 'node:crypto';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import type { PbxConfig } from '../../../src/config/types.js';
import { createDispatcher, type Dispatcher } from '../../../src/events/dispatcher.js';
import { deriveSigningSecret } from '../../../src/events/signature.js';
import { createSqliteStore, type SqliteStore } from '../../../src/store/index.js';
import { callEvent, captureLog, testConfig } from './fixtures.js';
import { eventually } from '../../support/eventually.js';

const ORIGIN = 'http://127.0.0.1:9';
const START = Date.parse('2026-11-28T15:00:00.000Z');

interface Seen { headers: Record<string, string>; body: string }
type Answer = { status: number; headers?: Record<string, string> } | 'error';

let clock: ManualClock;
let store: SqliteStore;
let agent: MockAgent;
let seen: Seen[];
let answers: Answer[];
let config: PbxConfig;
let dispatcher: Dispatcher;
let logs: ReturnType<typeof captureLog>;

/** Answers requests in order from `answers` (the last repeats). */
function intercept(origin = ORIGIN, path = '/hook'): void {
  agent.get(origin).intercept({ path, method: 'POST' }).reply((opts) => {
    seen.push({ headers: opts.headers as Record<string, string>, body: String(opts.body) });
    const a = answers.length > 1 ? answers.shift()! : answers[0]!;
    if (a === 'error') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return { statusCode: a.status, data: a.status >= 300 ? 'receiver says no' : '', responseOptions: { headers: a.headers ?? {} } };
  }).persist();
}

async function run(ms = 0): Promise<void> {
  if (ms) clock.advance(ms);
  await dispatcher.idle();
}

beforeEach(async () => {
  clock = new ManualClock(START);
  store = await createSqliteStore({ file: ':memory:' });
  agent = new MockAgent();
  agent.disableNetConnect();
  seen = [];
  answers = [{ status: 200 }];
  config = testConfig({ delivery: { retry_schedule_s: [5, 30], horizon_s: 3600, concurrency: 4 } });
  logs = captureLog();
  intercept();
  dispatcher = createDispatcher({
    store, getConfig: () => config, clock, log: logs.log, fetchDispatcher: agent, version: '9.9.9', rng: () => 0.5, jitter: 0, pollIntervalMs: 60_000,
  });
});

afterEach(async () => {
  await dispatcher.stop();
  await agent.close();
  await store.close();
});

describe('dispatcher', () => {
  it('POSTs the outbox payload verbatim with X-Pbx-Token, User-Agent and a valid Standard Webhooks signature', async () => {
    const ev = callEvent('100', 1);
    await store.commit({ events: [ev] });
    dispatcher.start();
    await run();
    expect(seen).toHaveLength(1);
    const { headers, body } = seen[0]!;
    expect(JSON.parse(body)).toEqual(ev.payload);
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-pbx-token']).toBe('tok');
    expect(headers['user-agent']).toBe('Switchboard/9.9.9');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(START / 1000)));
    const [d] = await store.listDeliveries({ offset: 0, limit: 10 });
    expect(headers['webhook-id']).toBe(d!.delivery_id);
    const key = Buffer.from(deriveSigningSecret('tok').slice('whsec_'.length), 'base64');
    const mac = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${mac}`);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200, next_attempt_at: null });
    expect(dispatcher.stats()).toMatchObject({ sent: 1, attempts: 1, failed: 0 });
  });

  it('retries a 5xx along the schedule on the injected clock, keeping the webhook-id', async () => {
    answers = [{ status: 500 }, { status: 503 }, { status: 200 }];
    await store.commit({ events: [callEvent('100', 1)] });
    dispatcher.start();
    await run();
    expect(seen).toHaveLength(1);
    let [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500, next_attempt_at: START + 5000 });
    await run(4999);
    expect(seen).toHaveLength(1);
    await run(1);
    expect(seen).toHaveLength(2);
    await run(29_999);
    expect(seen).toHaveLength(2);
    await run(1);
    expect(seen).toHaveLength(3);
    [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    expect(d).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(new Set(seen.map((s) => s.headers['webhook-id'])).size).toBe(1);
    const attempts = await store.listAttempts(d!.delivery_id);
    expect(attempts.map((a) => a.status_code)).toEqual([500, 503, 200]);
    expect(attempts[0]!.error).toContain('HTTP 500');
    expect(dispatcher.stats()).toMatchObject({ sent: 1, retries: 2, attempts: 3 });
    expect(logs.lines.filter((l) => l.level === 40 && String(l.msg).includes('will retry'))).toHaveLength(2);
  });

  it('retries a connection error', async () => {
    answers = ['error', { status: 200 }];
    await store.commit({ events: [callEvent('100', 1)] });
    dispatcher.start();
    await run();
    const [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    expect(d).toMatchObject({ status: 'pending', last_status_code: null });
    expect(d!.last_error).toMatch(/ECONNREFUSED/);
    await run(5000);
    expect((await store.getDelivery(d!.delivery_id))!.status).toBe('succeeded');
  });

  it('honours Retry-After on 429 instead of the schedule', async () => {
    answers = [{ status: 429, headers: { 'retry-after': '42' } }, { status: 200 }];
    await store.commit({ events: [callEvent('100', 1)] });
    dispatcher.start();
    await run();
    const [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    expect(d!.next_attempt_at).toBe(START + 42_000);
    await run(41_999);
    expect(seen).toHaveLength(1);
    await run(1);
    expect(seen).toHaveLength(2);
  });

  it('fails a delivery for good on another 4xx, with one attempt row and a warn log', async () => {
    answers = [{ status: 422 }];
    await store.commit({ events: [callEvent('100', 1)] });
    dispatcher.start();
    await run();
    await run(3_600_000);
    expect(seen).toHaveLength(1);
    const [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    expect(d).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 422, next_attempt_at: null });
    expect(d!.last_error).toBe('HTTP 422: receiver says no');
    expect(logs.lines.some((l) => l.level === 40 && String(l.msg).includes('failed for good'))).toBe(true);
  });

  it('gives up once the next retry would pass the horizon', async () => {
    config = testConfig({ delivery: { retry_schedule_s: [5, 30], horizon_s: 30 } });
    answers = [{ status: 500 }];
    await store.commit({ events: [callEvent('100', 1)] });
    dispatcher.start();
    await run();
    await run(5000);
    expect(seen).toHaveLength(2); // the third would be at 5 s + 30 s, past the 30 s horizon
    const [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    expect(d).toMatchObject({ status: 'failed', attempts: 2 });
    expect(d!.last_error).toContain('horizon');
    expect(dispatcher.stats().failed).toBe(1);
  });

  it('disables the endpoint on 410 with an error log, and stops its other pending deliveries without a request', async () => {
    answers = [{ status: 410 }];
    await store.commit({ events: [callEvent('100', 1)] });
    dispatcher.start();
    await run();
    expect(await store.isEndpointDisabled(`${ORIGIN}/hook`)).toBe(true);
    expect(logs.lines.some((l) => l.level === 50 && String(l.msg).includes('410'))).toBe(true);
    await store.commit({ events: [callEvent('200', 1)] });
    dispatcher.wake();
    await run();
    expect(seen).toHaveLength(1);
    const rows = await store.listDeliveries({ offset: 0, limit: 10 });
    expect(rows.map((r) => r.status)).toEqual(['disabled', 'disabled']);
    expect(rows[0]!.last_error).toContain('endpoint disabled');
    // Re-enabling and redelivering sends again.
    answers = [{ status: 200 }];
    await dispatcher.enableEndpoint(`${ORIGIN}/hook`);
    await store.redeliver(rows.map((r) => r.delivery_id), clock.now());
    dispatcher.wake();
    await run();
    expect(seen).toHaveLength(3);
  });

  it("never sends a call's later event while an earlier one is pending for the endpoint; other calls go on", async () => {
    answers = [{ status: 500 }, { status: 200 }];
    await store.commit({ events: [callEvent('100', 1), callEvent('100', 2, { type: 'user_inbound_answered' }), callEvent('100', 3, { type: 'user_inbound_completed' })] });
    dispatcher.start();
    await run();
    expect(seen.map((s) => JSON.parse(s.body).sequence)).toEqual([1]);
    await store.commit({ events: [callEvent('200', 1)] });
    dispatcher.wake();
    await run();
    expect(seen.map((s) => `${JSON.parse(s.body).unique_call_id}/${JSON.parse(s.body).sequence}`)).toEqual(['100/1', '200/1']);
    await run(5000);
    expect(seen.map((s) => `${JSON.parse(s.body).unique_call_id}/${JSON.parse(s.body).sequence}`)).toEqual(['100/1', '200/1', '100/1', '100/2', '100/3']);
  });

  it('keeps events without a delivery while the global webhook is disabled or the type is not ticked', async () => {
    config = testConfig({ webhook: { enabled: false } });
    await store.commit({ events: [callEvent('100', 1)] });
    dispatcher.start();
    await run();
    config = testConfig({ webhook: { events: ['voicemail'] } });
    await store.commit({ events: [callEvent('200', 1)] });
    dispatcher.wake();
    await run();
    expect(seen).toHaveLength(0);
    expect(await store.listDeliveries({ offset: 0, limit: 10 })).toHaveLength(0);
    expect(await store.listUndispatchedEvents(10)).toHaveLength(0);
    expect(dispatcher.stats().fannedOut).toBe(2);
  });

  it('sends a component event to its own URL with its token and custom headers, which cannot override ours', async () => {
    intercept('http://127.0.0.1:8', '/component');
    config = testConfig({ webhook: { enabled: false } });
    const endpoint = { kind: 'component' as const, url: 'http://127.0.0.1:8/component', secret_token: 'ctok', headers: { 'X-Crm': 'abc', 'X-Pbx-Token': 'spoof' } };
    await store.commit({ events: [callEvent('100', 1, { type: 'webhook_component_event', endpoint })] });
    dispatcher.start();
    await run();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['X-Crm']).toBe('abc');
    expect(seen[0]!.headers['x-pbx-token']).toBe('ctok');
    expect(seen[0]!.headers['X-Pbx-Token']).toBeUndefined();
  });

  it('refuses an event whose component endpoint is invalid: no delivery, one error line per batch', async () => {
    const endpoint = { kind: 'component' as const, url: 'file:///etc/passwd', secret_token: 't', headers: {} };
    await store.commit({ events: [callEvent('100', 1, { type: 'webhook_component_event', endpoint }), callEvent('101', 1, { type: 'webhook_component_event', endpoint })] });
    dispatcher.start();
    await run();
    expect(seen).toHaveLength(0);
    expect(await store.listDeliveries({ offset: 0, limit: 10 })).toHaveLength(0);
    expect(logs.lines.filter((l) => l.level === 50 && String(l.msg).includes('configuration is invalid'))).toEqual([expect.objectContaining({ events: 2 })]);
  });

  it('sends a test event of any type to the global URL even when the type is not ticked', async () => {
    config = testConfig({ webhook: { events: [] } });
    dispatcher.start();
    const r = await dispatcher.sendTest('voicemail');
    expect(r).toMatchObject({ ok: true, url: `${ORIGIN}/hook` });
    await run();
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ type: 'voicemail', audio_file: [expect.any(String)] });
    expect(await dispatcher.sendTest('nope')).toMatchObject({ ok: false, error: expect.stringContaining('nope') });
    config = testConfig({ webhook: { url: 'ftp://x/' } });
    expect(await dispatcher.sendTest('voicemail')).toMatchObject({ ok: false, error: expect.stringContaining('http or https') });
  });

  it('stops gracefully: an attempt in flight is finished and recorded before stop() resolves', async () => {
    const slow = new MockAgent();
    slow.disableNetConnect();
    slow.get(ORIGIN).intercept({ path: '/hook', method: 'POST' }).reply(200, '').delay(300);
    const d2 = createDispatcher({ store, getConfig: () => config, clock, log: logs.log, fetchDispatcher: slow, version: '1', pollIntervalMs: 60_000 });
    await store.commit({ events: [callEvent('100', 1)] });
    d2.start();
    // The claim is a store round trip (SQLite answers from its worker thread), so wait for the attempt to be in flight.
    await eventually(() => d2.stats().inflight === 1 || undefined, 'an attempt in flight');
    await d2.stop();
    const [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1 });
    d2.wake(); // ignored once stopped
    expect(d2.stats().inflight).toBe(0);
    await slow.close();
  });

  it('reports the backlog and warns once as it passes outbox_warn_at', async () => {
    config = testConfig({ delivery: { outbox_warn_at: 3, concurrency: 1 } });
    answers = [{ status: 500 }];
    await store.commit({ events: [1, 2, 3, 4].map((i) => callEvent(String(i), 1)) });
    dispatcher.start();
    await run();
    expect(dispatcher.stats().pending).toBe(4);
    expect(logs.lines.filter((l) => String(l.msg).includes('outbox is growing'))).toHaveLength(1);
  });

  it('paces the fan-out so that first attempts find their event in memory (no re-read)', async () => {
    config = testConfig({ delivery: { concurrency: 2 } });
    let reads = 0;
    const getEvent = store.getEvent.bind(store);
    store.getEvent = async (id) => { reads++; return getEvent(id); };
    const d3 = createDispatcher({ store, getConfig: () => config, clock, log: logs.log, fetchDispatcher: agent, version: '1', pollIntervalMs: 60_000, batchSize: 2, eventCacheSize: 4 });
    await store.commit({ events: Array.from({ length: 12 }, (_, i) => callEvent(String(i + 1), 1)) });
    d3.start();
    await d3.idle();
    expect(seen).toHaveLength(12);
    expect(reads).toBe(0);
    await d3.stop();
  });

  it('keeps fanning out during an outage although claims are full of retries', async () => {
    config = testConfig({ delivery: { concurrency: 2, retry_schedule_s: [5] } });
    answers = ['error'];
    const d3 = createDispatcher({ store, getConfig: () => config, clock, log: logs.log, fetchDispatcher: agent, version: '1', pollIntervalMs: 60_000, batchSize: 2, eventCacheSize: 4, rng: () => 0.5, jitter: 0 });
    // 6 calls of 3 events: the later events of each call cannot be attempted while its first one is retrying.
    await store.commit({ events: Array.from({ length: 18 }, (_, i) => callEvent(String(Math.floor(i / 3) + 1), (i % 3) + 1)) });
    d3.start();
    await d3.idle();
    for (let i = 0; i < 6 && d3.stats().fannedOut < 18; i++) {
      clock.advance(5000);
      await d3.idle();
    }
    expect(d3.stats().fannedOut).toBe(18);
    answers = [{ status: 200 }];
    for (let i = 0; i < 10 && d3.stats().sent < 18; i++) {
      clock.advance(5000);
      await d3.idle();
    }
    expect(d3.stats().sent).toBe(18);
    await d3.stop();
  });

  it('counts events not fanned out yet in the backlog (stats.undispatched) and in the warning', async () => {
    config = testConfig({ delivery: { outbox_warn_at: 5, concurrency: 1 } });
    answers = [{ status: 500 }];
    const d3 = createDispatcher({ store, getConfig: () => config, clock, log: logs.log, fetchDispatcher: agent, version: '1', pollIntervalMs: 60_000, batchSize: 2 });
    await store.commit({ events: [1, 2, 3, 4, 5].map((i) => callEvent(String(i), 1)) });
    d3.start();
    await d3.idle();
    // Refreshed once per poll interval: after the first fan-out batch of 2.
    expect(d3.stats()).toMatchObject({ pending: 2, undispatched: 3, fannedOut: 5 });
    const warn = logs.lines.find((l) => String(l.msg).includes('outbox is growing'));
    expect(warn).toMatchObject({ pending: 2, undispatched: 3, outbox_warn_at: 5 });
    await d3.stop();
  });
});
