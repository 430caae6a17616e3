/**
 * Webhook delivery end to end: the real dispatcher and SQLite store (a temp file) against a real HTTP receiver on
 * 127.0.0.1, with a shortened retry schedule (ms). Signatures are checked with an independent implementation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PbxConfig } from '../../../src/config/types.js';
import { createDispatcher, type Dispatcher } from '../../../src/events/index.js';
import { createSqliteStore, type SqliteStore } from '../../../src/store/index.js';
import { callEvent, captureLog, testConfig } from '../../unit/events/fixtures.js';
import { Receiver, type Received } from './receiver.js';

/** Standard Webhooks verification written from the scheme's text, not from src/events/signature.ts. */
function verify(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const id = String(r.headers['webhook-id']);
  const ts = String(r.headers['webhook-timestamp']);
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${r.body}`).digest();
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  return String(r.headers['webhook-signature']).split(' ').some((part) => {
    const [v, sig] = part.split(',');
    const got = Buffer.from(sig ?? '', 'base64');
    return v === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
let dir: string;
let store: SqliteStore;
let receiver: Receiver;
let config: PbxConfig;
let dispatcher: Dispatcher;
let logs: ReturnType<typeof captureLog>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-webhooks-'));
  store = await createSqliteStore({ file: join(dir, 'switchboard.db') });
  receiver = new Receiver();
  await receiver.up();
  config = testConfig({
    webhook: { url: receiver.url(), secret_token: 'demo-token', signing_secret: SECRET },
    delivery: { timeout_ms: 2000, retry_schedule_s: [0.1, 0.2], horizon_s: 30, concurrency: 8 },
  });
  logs = captureLog();
  dispatcher = createDispatcher({ store, getConfig: () => config, log: logs.log, version: '0.1.0', jitter: 0, pollIntervalMs: 50 });
  dispatcher.start();
});

afterEach(async () => {
  await dispatcher.stop();
  await receiver.down();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function statusOf(eventId: string): Promise<string | undefined> {
  const rows = await store.listDeliveries({ offset: 0, limit: 1000 });
  return rows.find((d) => d.event_id === eventId)?.status;
}

async function until(pred: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('webhook delivery over HTTP', () => {
  it('POSTs the compat payload with X-Pbx-Token, User-Agent and a signature an independent verifier accepts', async () => {
    const ev = callEvent('1732800000000001', 1, { at: Date.now() });
    await store.commit({ events: [ev] });
    dispatcher.wake();
    await receiver.waitFor(() => receiver.received.length === 1);
    const r = receiver.received[0]!;
    expect(r.path).toBe('/hook');
    expect(JSON.parse(r.body)).toEqual(ev.payload);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-pbx-token']).toBe('demo-token');
    expect(r.headers['user-agent']).toBe('Switchboard/0.1.0');
    expect(r.headers['webhook-id']).toMatch(/^dlv_/);
    expect(verify(SECRET, r)).toBe(true);
    expect(verify('whsec_' + Buffer.from('another key 0123456789').toString('base64'), r)).toBe(false);
    await until(async () => (await statusOf(ev.event_id)) === 'succeeded');
  });

  it('retries 500s after the schedule\'s delays and then succeeds, with the same webhook-id', async () => {
    receiver.script = (_r, i) => ({ status: i < 2 ? 500 : 200 });
    await store.commit({ events: [callEvent('2', 1)] });
    dispatcher.wake();
    await receiver.waitFor(() => receiver.received.length === 3);
    const [a, b, c] = receiver.received as [Received, Received, Received];
    expect(b.at - a.answeredAt!).toBeGreaterThanOrEqual(95);
    expect(c.at - b.answeredAt!).toBeGreaterThanOrEqual(195);
    expect(c.at - a.at).toBeLessThan(5000);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    await until(async () => (await store.getDelivery(d!.delivery_id))!.status === 'succeeded');
    expect((await store.listAttempts(d!.delivery_id)).map((x) => x.status_code)).toEqual([500, 500, 200]);
  });

  it('waits for 429 Retry-After rather than the schedule', async () => {
    receiver.script = (_r, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    await store.commit({ events: [callEvent('3', 1)] });
    dispatcher.wake();
    await receiver.waitFor(() => receiver.received.length === 2, 10_000);
    const [a, b] = receiver.received as [Received, Received];
    expect(b.at - a.answeredAt!).toBeGreaterThanOrEqual(990);
  });

  it('times out a hanging receiver after delivery.timeout_ms, records it, and retries', async () => {
    config = { ...config, delivery: { ...config.delivery, timeout_ms: 300 } };
    receiver.script = (_r, i) => (i === 0 ? 'hang' : { status: 200 });
    await store.commit({ events: [callEvent('4', 1)] });
    dispatcher.wake();
    await receiver.waitFor(() => receiver.received.length === 2);
    const [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    await until(async () => (await store.getDelivery(d!.delivery_id))!.status === 'succeeded');
    const attempts = await store.listAttempts(d!.delivery_id);
    expect(attempts[0]).toMatchObject({ status_code: null, error: 'timeout after 300 ms' });
    expect(attempts[0]!.duration_ms).toBeGreaterThanOrEqual(290);
  });

  it('keeps retrying while the receiver is down and delivers when it is back', async () => {
    await receiver.down();
    await store.commit({ events: [callEvent('5', 1)] });
    dispatcher.wake();
    await until(async () => ((await store.listDeliveries({ offset: 0, limit: 1 }))[0]?.attempts ?? 0) >= 2);
    const [d] = await store.listDeliveries({ offset: 0, limit: 1 });
    expect(d!.last_error).toMatch(/ECONNREFUSED/);
    await receiver.up();
    await until(async () => (await store.getDelivery(d!.delivery_id))!.status === 'succeeded', 15_000);
    expect(receiver.received).toHaveLength(1);
  });

  it('disables the endpoint on 410 and stops its pending deliveries', async () => {
    receiver.script = () => ({ status: 410 });
    await store.commit({ events: [callEvent('6', 1)] });
    dispatcher.wake();
    await until(async () => store.isEndpointDisabled(receiver.url()));
    await store.commit({ events: [callEvent('7', 1), callEvent('8', 1)] });
    dispatcher.wake();
    await until(async () => (await store.listDeliveries({ offset: 0, limit: 10, status: 'disabled' })).length === 3);
    expect(receiver.received).toHaveLength(1);
    expect(logs.lines.some((l) => l.level === 50 && String(l.msg).includes('410'))).toBe(true);
  });

  it('sends component events to their own URL with their token and custom headers', async () => {
    const endpoint = { kind: 'component' as const, url: receiver.url('/crm/lead?src=pbx'), secret_token: 'comp-token', headers: { 'X-Crm-Key': 'k-123' } };
    await store.commit({ events: [callEvent('9', 1, { type: 'webhook_component_event', endpoint })] });
    dispatcher.wake();
    await receiver.waitFor(() => receiver.received.length === 1);
    const r = receiver.received[0]!;
    expect(r.path).toBe('/crm/lead?src=pbx');
    expect(r.headers['x-crm-key']).toBe('k-123');
    expect(r.headers['x-pbx-token']).toBe('comp-token');
    const derived = 'whsec_' + createHmac('sha256', 'switchboard/webhook-signing/v1').update('comp-token').digest('base64');
    expect(verify(derived, r)).toBe(true);
  });

  it('delivers each call\'s events in sequence order, never a later one before an earlier one succeeded', async () => {
    const calls = ['101', '102', '103', '104', '105'];
    // Every call's first attempt of sequence 1 fails, so its later events must wait.
    const failedOnce = new Set<string>();
    receiver.script = (r) => {
      const p = JSON.parse(r.body) as { unique_call_id: string; sequence: number };
      if (p.sequence === 1 && !failedOnce.has(p.unique_call_id)) { failedOnce.add(p.unique_call_id); return { status: 503 }; }
      return { status: 200, delayMs: Math.floor(Math.random() * 5) };
    };
    const events = calls.flatMap((c) => [1, 2, 3, 4].map((s) => callEvent(c, s)));
    await store.commit({ events });
    dispatcher.wake();
    await receiver.waitFor(() => receiver.received.filter((r) => r.status === 200).length === events.length, 15_000);
    for (const c of calls) {
      const mine = receiver.received.filter((r) => (JSON.parse(r.body) as { unique_call_id: string }).unique_call_id === c);
      const seqs = mine.map((r) => (JSON.parse(r.body) as { sequence: number }).sequence);
      expect(seqs).toEqual([1, 1, 2, 3, 4]);
      // Each request arrived only after the previous one of the call was answered.
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.at).toBeGreaterThanOrEqual(mine[i - 1]!.answeredAt!);
    }
  });
});
