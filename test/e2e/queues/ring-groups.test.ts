/**
 * Ring groups end to end (SPEC.md §1–§3, issue #4): ringall and hunt through drachtio-lite + drachtio-srf +
 * engine + SQLite with test phones; who rang in what order, the caller's final status, and the events.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestPhone } from '../../../src/sip/phone/index.js';
import { eventually, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter, ended, rejectWith, ringOnly, types } from '../../support/engine-calls.js';
import { callIdOf, compat, distributionConfig, eventsUntil, NEXT_STATUS, registerAgents, ringGroupConfig, ringOrder } from './queue-support.js';

describe('ring groups', () => {
  let h: EngineHarness;
  let did: Record<string, string>;
  let phones: Record<string, TestPhone>;
  let alice: TestPhone;
  let bob: TestPhone;
  let carol: TestPhone;
  let seq = 0;
  const callers: TestPhone[] = [];

  beforeAll(async () => {
    const built = distributionConfig([], [
      ringGroupConfig('All', { timeout_s: 2 }),
      ringGroupConfig('Hunt', { strategy: 'hunt', members: ['1001', '1004', '1002', '1003'], member_timeout_s: 1, timeout_s: 10 }),
      ringGroupConfig('ShortHunt', { strategy: 'hunt', member_timeout_s: 2, timeout_s: 3 }),
    ]);
    did = built.did;
    h = await startEngineHarness({ config: built.config });
    phones = await registerAgents(h, ['alice-desk', 'bob-desk', 'carol-desk']);
    ({ 'alice-desk': alice, 'bob-desk': bob, 'carol-desk': carol } = phones as Record<string, TestPhone>);
  }, 30_000);
  afterEach(async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = () => undefined;
    await eventually(async () => (await h.engine.status()).active_calls === 0, 'no active calls', 8000);
  }, 20_000);
  afterAll(async () => {
    for (const c of callers) await c.close().catch(() => undefined);
    await h?.close({ removeDb: true });
  });

  async function newCaller(): Promise<{ phone: TestPhone; number: string }> {
    const number = `614100000${String(++seq).padStart(2, '0')}`;
    const phone = await h.phone(number);
    callers.push(phone);
    return { phone, number };
  }

  it('ringall forks to every member at once; events carry ring_group_name; ring_group_call answered with the member', async () => {
    alice.onIncoming = ringOnly;
    bob.onIncoming = ringOnly;
    carol.onIncoming = answerAfter(200);
    const c = await newCaller();
    const t0 = Date.now();
    const out = c.phone.call(`sip:${did['All']}@${h.domain}`);
    await out.waitFor('answered');
    const order = ringOrder(phones, t0);
    expect(order.map((o) => o.device).sort()).toEqual(['alice-desk', 'bob-desk', 'carol-desk']);
    expect(order.at(-1)!.at - order[0]!.at).toBeLessThan(250);
    await out.bye();
    const id = await callIdOf(h, c.number, 'ring_group_call');
    const events = await eventsUntil(h, id, 'ring_group_call');
    for (const e of events.filter((x) => x.type.startsWith('user_inbound'))) expect(e.payload).toMatchObject({ ring_group_name: 'All', queue_name: null });
    const rg = events.at(-1)!;
    expect(events.filter((e) => e.type === 'ring_group_call')).toHaveLength(1);
    expect(compat(rg)).toEqual({
      type: 'ring_group_call', unique_call_id: id, caller_id: c.number, caller_name: null, user_name: 'Carol White', user_number: '1003',
      dest_number: did['All']!.slice(1), call_start_at: rg.payload['call_start_at'],
      connected_at: events.find((e) => e.type === 'user_inbound_answered')!.payload['connected_at'],
      call_duration: rg.payload['call_duration'], conversation_duration: rg.payload['conversation_duration'], ring_group_name: 'All', status: 'answered',
    });
    const rows = await h.store.queryRingGroupCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ group_name: 'All', status: 'answered', user_number: '1003', connected_at: rg.payload['connected_at'] });
    expect(await h.store.getCall(id)).toMatchObject({ ring_group_name: 'All', status: 'answered' });
  });

  it('ringall unanswered for timeout_s: every leg cancelled, caller to next, ring_group_call abandoned', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = ringOnly;
    const c = await newCaller();
    const t0 = Date.now();
    const out = c.phone.call(`sip:${did['All']}@${h.domain}`);
    expect((await out.waitFor<{ status: number }>('failed', 5000)).status).toBe(NEXT_STATUS.timeout);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    for (const p of [alice, bob, carol]) await eventually(() => p.events.some((e) => e.kind === 'cancelled' && e.at >= t0), 'CANCEL');
    const id = await callIdOf(h, c.number, 'ring_group_call');
    const events = await eventsUntil(h, id, 'ring_group_call');
    expect(compat(events.find((e) => e.type === 'ring_group_call')!)).toMatchObject({
      user_name: null, user_number: null, connected_at: null, call_duration: 2, conversation_duration: 0, status: 'abandoned', ring_group_name: 'All',
    });
    expect(events.filter((e) => e.type === 'ring_group_call')).toHaveLength(1);
  });

  it('hunt rings members one at a time in order, each for member_timeout_s, skipping unregistered members and busy ones at once', async () => {
    alice.onIncoming = ringOnly;
    bob.onIncoming = rejectWith(486);
    carol.onIncoming = answerAfter(100);
    const c = await newCaller();
    const t0 = Date.now();
    const out = c.phone.call(`sip:${did['Hunt']}@${h.domain}`);
    await out.waitFor('answered', 8000);
    const order = ringOrder(phones, t0);
    // 1001 (1 s) → 1004 has no device: skipped → 1002 rejects → 1003 answers.
    expect(order.map((o) => o.device)).toEqual(['alice-desk', 'bob-desk', 'carol-desk']);
    expect(order[1]!.at - order[0]!.at).toBeGreaterThanOrEqual(950);
    expect(order[2]!.at - order[1]!.at).toBeLessThan(500);
    await out.bye();
    const id = await callIdOf(h, c.number, 'ring_group_call');
    const events = await eventsUntil(h, id, 'ring_group_call');
    expect(types(events).filter((t) => t === 'user_inbound')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'user_inbound').map((e) => e.payload['user_number'])).toEqual(['1001', '1002', '1003']);
    expect(events.at(-1)!.payload).toMatchObject({ type: 'ring_group_call', status: 'answered', user_number: '1003', ring_group_name: 'Hunt' });
  });

  it('hunt skips a member already on a call', async () => {
    // alice is talking to a caller of the ringall group; the hunt starts at bob.
    alice.onIncoming = answerAfter(50);
    bob.onIncoming = ringOnly;
    carol.onIncoming = ringOnly;
    const busy = await newCaller();
    const outBusy = busy.phone.call(`sip:${did['All']}@${h.domain}`);
    await outBusy.waitFor('answered');
    bob.onIncoming = answerAfter(50);
    const c = await newCaller();
    const t0 = Date.now();
    const out = c.phone.call(`sip:${did['Hunt']}@${h.domain}`);
    await out.waitFor('answered', 5000);
    expect(ringOrder(phones, t0).map((o) => o.device)).toEqual(['bob-desk']);
    await out.bye();
    await outBusy.bye();
  });

  it('hunt: the group timeout_s cuts the member ring short and sends the caller to next', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = ringOnly;
    const c = await newCaller();
    const t0 = Date.now();
    const out = c.phone.call(`sip:${did['ShortHunt']}@${h.domain}`);
    expect((await out.waitFor<{ status: number }>('failed', 6000)).status).toBe(NEXT_STATUS.timeout);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(3900);
    // alice rang 2 s (member_timeout_s), bob the 1 s left of the group's 3 s; carol never.
    expect(ringOrder(phones, t0).map((o) => o.device)).toEqual(['alice-desk', 'bob-desk']);
    const id = await callIdOf(h, c.number, 'ring_group_call');
    expect((await eventsUntil(h, id, 'ring_group_call')).at(-1)!.payload).toMatchObject({ status: 'abandoned', user_number: null });
  });

  it('caller hang-up while members ring: ring_group_call abandoned, legs cancelled', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = ringOnly;
    const c = await newCaller();
    const t0 = Date.now();
    const out = c.phone.call(`sip:${did['All']}@${h.domain}`);
    await eventually(() => ringOrder(phones, t0).length === 3, 'three ringing');
    out.cancel();
    await ended(out);
    for (const p of [alice, bob, carol]) await eventually(() => p.events.some((e) => e.kind === 'cancelled' && e.at >= t0), 'CANCEL');
    const id = await callIdOf(h, c.number, 'ring_group_call');
    const events = await eventsUntil(h, id, 'ring_group_call');
    expect(events.at(-1)!.payload).toMatchObject({ type: 'ring_group_call', status: 'abandoned', user_number: null });
    expect(events.filter((e) => e.type === 'ring_group_call')).toHaveLength(1);
  });
});
