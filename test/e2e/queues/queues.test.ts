/**
 * Queues end to end (SPEC.md §1–§3, issue #4): caller test phones → DID → queue node → agents' test phones,
 * through drachtio-lite + drachtio-srf + engine + SQLite. Asserts who rang in what order (phone timestamps),
 * the caller's final status, agent states afterwards, and the exact event payloads from the outbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HoldMusic } from '../../../src/engine/index.js';
import type { IncomingCall, OutgoingCall, TestPhone } from '../../../src/sip/phone/index.js';
import { eventually, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter, ended, rejectWith, ringOnly, types } from '../../support/engine-calls.js';
import { agentsBecome, callIdOf, compat, distributionConfig, eventsUntil, NEXT_STATUS, queueConfig, registerAgents, ringOrder } from './queue-support.js';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const AGENTS = ['1001', '1002', '1003'];

describe('queues', () => {
  let h: EngineHarness;
  let did: Record<string, string>;
  let phones: Record<string, TestPhone>;
  let alice: TestPhone;
  let bob: TestPhone;
  let carol: TestPhone;
  let callerSeq = 0;
  const hold: Array<{ id: string; what: 'start' | 'stop'; file: string | null }> = [];
  const callers: TestPhone[] = [];

  beforeAll(async () => {
    const built = distributionConfig([
      queueConfig('RingAll'),
      queueConfig('RoundRobin', { strategy: 'round_robin', agent_timeout_s: 1 }),
      queueConfig('Linear', { strategy: 'linear', agent_timeout_s: 1 }),
      queueConfig('Fewest', { strategy: 'fewest_calls' }),
      queueConfig('Idle', { strategy: 'longest_idle' }),
      queueConfig('Random', { strategy: 'random' }),
      queueConfig('Short', { max_wait_s: 2, agent_timeout_s: 5 }),
      queueConfig('One', { max_callers: 1, agents: ['1001'], agent_timeout_s: 5 }),
      queueConfig('Nobody', { agents: ['1004'] }),
      queueConfig('WrapA', { agents: ['1001'], wrap_up_s: 2 }),
      queueConfig('WrapB', { agents: ['1001', '1002'] }),
    ]);
    did = built.did;
    const holdMusic: HoldMusic = {
      start(call, file) {
        hold.push({ id: call.uniqueCallId, what: 'start', file });
        call.ringing();
        return { stop: () => void hold.push({ id: call.uniqueCallId, what: 'stop', file }) };
      },
    };
    h = await startEngineHarness({ config: built.config, engine: { queue: { retryMs: 200, rng: () => 0.99, holdMusic } } });
    phones = await registerAgents(h, ['alice-desk', 'bob-desk', 'carol-desk']);
    ({ 'alice-desk': alice, 'bob-desk': bob, 'carol-desk': carol } = phones as Record<string, TestPhone>);
  }, 30_000);
  afterEach(async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = () => undefined;
    await eventually(async () => (await h.engine.status()).active_calls === 0, 'no active calls', 8000);
    await agentsBecome(h, AGENTS, 'idle', 8000);
  }, 20_000);
  afterAll(async () => {
    for (const c of callers) await c.close().catch(() => undefined);
    await h?.close({ removeDb: true });
  });

  async function newCaller(): Promise<{ phone: TestPhone; number: string }> {
    const number = `614000000${String(++callerSeq).padStart(2, '0')}`;
    const phone = await h.phone(number);
    callers.push(phone);
    return { phone, number };
  }

  function dial(phone: TestPhone, queue: string): OutgoingCall {
    return phone.call(`sip:${did[queue]}@${h.domain}`);
  }

  it('ringall rings every agent at once, bridges the first answer, CANCELs the rest; queue_call answered with the agent', async () => {
    const { phone, number } = await newCaller();
    alice.onIncoming = ringOnly;
    carol.onIncoming = ringOnly;
    bob.onIncoming = answerAfter(300);
    const t0 = Date.now();
    const out = dial(phone, 'RingAll');
    const progress = await out.waitFor<{ status: number }>('progress');
    expect(progress.status).toBe(180);
    await out.waitFor('answered');
    const order = ringOrder(phones, t0);
    expect(order.map((o) => o.device).sort()).toEqual(['alice-desk', 'bob-desk', 'carol-desk']);
    expect(order.at(-1)!.at - order[0]!.at).toBeLessThan(250);
    expect(h.engine.queues.snapshot().agents).toMatchObject({ '1001': 'idle', '1002': 'on-call', '1003': 'idle' });
    for (const p of [alice, carol]) expect(p.events.some((e) => e.kind === 'cancelled' && e.at >= t0)).toBe(true);
    await out.bye();
    const id = await callIdOf(h, number, 'queue_call');
    const events = await eventsUntil(h, id, 'queue_call');
    expect(types(events).filter((t) => t === 'user_inbound')).toHaveLength(3);
    expect(types(events).filter((t) => t === 'user_inbound_answered')).toHaveLength(1);
    expect(types(events).filter((t) => t === 'user_inbound_completed')).toHaveLength(3);
    expect(types(events).at(-1)).toBe('queue_call');
    for (const e of events.filter((x) => x.type.startsWith('user_inbound'))) expect(e.payload).toMatchObject({ queue_name: 'RingAll', ring_group_name: null });
    const qc = events.at(-1)!;
    const answered = events.find((e) => e.type === 'user_inbound_answered')!;
    expect(compat(answered)).toEqual({
      type: 'user_inbound_answered', unique_call_id: id, caller_id: number, caller_name: null, user_name: 'Bob Jones', user_number: '1002',
      dest_number: did['RingAll']!.slice(1), call_start_at: qc.payload['call_start_at'], connected_at: answered.payload['connected_at'],
      queue_name: 'RingAll', ring_group_name: null,
    });
    expect(compat(qc)).toEqual({
      type: 'queue_call', unique_call_id: id, caller_id: number, caller_name: null, user_name: 'Bob Jones', user_number: '1002',
      dest_number: did['RingAll']!.slice(1), call_start_at: qc.payload['call_start_at'], connected_at: answered.payload['connected_at'],
      call_duration: qc.payload['call_duration'], conversation_duration: qc.payload['conversation_duration'], queue_name: 'RingAll', status: 'answered',
    });
    expect(qc.payload['call_start_at']).toMatch(ISO_MS);
    expect(Number.isInteger(qc.payload['call_duration'])).toBe(true);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    const rows = await h.store.queryQueueCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(rows).toEqual([{ ...compat(qc), group_name: 'RingAll', type: undefined, queue_name: undefined }].map(({ type: _t, queue_name: _q, ...r }) => r));
    expect((await h.store.getCall(id))).toMatchObject({ status: 'answered', queue_name: 'RingAll', user_number: '1002' });
    // The hold-music hook started when the caller joined and stopped before the bridge (once each).
    expect(hold.filter((x) => x.id === id)).toEqual([{ id, what: 'start', file: null }, { id, what: 'stop', file: null }]);
    await agentsBecome(h, AGENTS, 'idle');
  });

  it('round_robin rings one agent at a time for agent_timeout_s and remembers its position for the next caller', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = ringOnly;
    bob.onIncoming = answerAfter(100);
    const c1 = await newCaller();
    const t0 = Date.now();
    const out = dial(c1.phone, 'RoundRobin');
    await out.waitFor('answered', 8000);
    const order = ringOrder(phones, t0);
    expect(order.map((o) => o.device)).toEqual(['alice-desk', 'bob-desk']);
    // alice rang agent_timeout_s (1 s), then the caller paused retryMs (200 ms) before bob.
    expect(order[1]!.at - order[0]!.at).toBeGreaterThanOrEqual(1100);
    await out.bye();
    await agentsBecome(h, AGENTS, 'idle');
    carol.onIncoming = answerAfter(100);
    const c2 = await newCaller();
    const t1 = Date.now();
    const out2 = dial(c2.phone, 'RoundRobin');
    await out2.waitFor('answered', 8000);
    expect(ringOrder(phones, t1).map((o) => o.device)).toEqual(['carol-desk']);
    await out2.bye();
    const id = await callIdOf(h, c2.number, 'queue_call');
    expect((await eventsUntil(h, id, 'queue_call')).at(-1)!.payload).toMatchObject({ user_number: '1003', status: 'answered', queue_name: 'RoundRobin' });
  });

  it('linear starts every caller at the first agent and moves down the list; a rejecting agent moves it on at once', async () => {
    alice.onIncoming = rejectWith(486);
    bob.onIncoming = ringOnly;
    carol.onIncoming = answerAfter(100);
    const c = await newCaller();
    const t0 = Date.now();
    const out = dial(c.phone, 'Linear');
    await out.waitFor('answered', 8000);
    const order = ringOrder(phones, t0);
    expect(order.map((o) => o.device)).toEqual(['alice-desk', 'bob-desk', 'carol-desk']);
    expect(order[1]!.at - order[0]!.at).toBeLessThan(900); // rejected: no agent_timeout_s wait, only retryMs
    expect(order[2]!.at - order[1]!.at).toBeGreaterThanOrEqual(1100);
    await out.bye();
    await agentsBecome(h, AGENTS, 'idle');
    alice.onIncoming = answerAfter(50);
    const c2 = await newCaller();
    const t1 = Date.now();
    const out2 = dial(c2.phone, 'Linear');
    await out2.waitFor('answered', 8000);
    expect(ringOrder(phones, t1).map((o) => o.device)).toEqual(['alice-desk']);
    await out2.bye();
  });

  it('fewest_calls and longest_idle spread calls over agents; random uses the injected rng', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = answerAfter(50);
    const who = async (queue: string): Promise<string> => {
      const c = await newCaller();
      const t = Date.now();
      const out = dial(c.phone, queue);
      await out.waitFor('answered', 8000);
      const rang = ringOrder(phones, t).map((o) => o.device);
      await out.bye();
      await agentsBecome(h, AGENTS, 'idle');
      expect(rang).toHaveLength(1);
      return rang[0]!;
    };
    expect([await who('Fewest'), await who('Fewest'), await who('Fewest'), await who('Fewest')]).toEqual(['alice-desk', 'bob-desk', 'carol-desk', 'alice-desk']);
    // longest_idle: every agent has had a call by now (above); the one whose call ended longest ago goes first.
    expect([await who('Idle'), await who('Idle'), await who('Idle')]).toEqual(['bob-desk', 'carol-desk', 'alice-desk']);
    expect(await who('Random')).toBe('carol-desk'); // rng 0.99 → the last available agent
  }, 30_000);

  it('max_wait_s: the caller leaves to next (timeout) with queue_call abandoned; ringing agents are cancelled and idle', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = ringOnly;
    const c = await newCaller();
    const t0 = Date.now();
    const out = dial(c.phone, 'Short');
    const fail = await out.waitFor<{ status: number }>('failed', 6000);
    expect(fail.status).toBe(NEXT_STATUS.timeout);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    await agentsBecome(h, AGENTS, 'idle');
    for (const p of [alice, bob, carol]) await eventually(() => p.events.some((e) => e.kind === 'cancelled' && e.at >= t0), 'agent CANCEL');
    const id = await callIdOf(h, c.number, 'queue_call');
    const events = await eventsUntil(h, id, 'queue_call');
    const qc = events.find((e) => e.type === 'queue_call')!;
    expect(compat(qc)).toEqual({
      type: 'queue_call', unique_call_id: id, caller_id: c.number, caller_name: null, user_name: null, user_number: null,
      dest_number: did['Short']!.slice(1), call_start_at: qc.payload['call_start_at'], connected_at: null,
      call_duration: 2, conversation_duration: 0, queue_name: 'Short', status: 'abandoned',
    });
    expect(events.filter((e) => e.type === 'queue_call')).toHaveLength(1);
    expect((await h.store.getCall(id))?.status).toBe('missed');
    expect(h.engine.queues.snapshot().waiting['Short']).toEqual([]);
    expect(hold.filter((x) => x.id === id).map((x) => x.what)).toEqual(['start', 'stop']);
  });

  it('max_callers: a caller beyond the limit goes to next at once (full) and the waiting one is unaffected', async () => {
    alice.onIncoming = ringOnly;
    const first = await newCaller();
    const out1 = dial(first.phone, 'One');
    await alice.waitForIncoming();
    const second = await newCaller();
    const t0 = Date.now();
    const out2 = dial(second.phone, 'One');
    const fail = await out2.waitFor<{ status: number }>('failed', 3000);
    expect(fail.status).toBe(NEXT_STATUS.full);
    expect(Date.now() - t0).toBeLessThan(1000);
    const id2 = await callIdOf(h, second.number, 'queue_call');
    const qc = (await eventsUntil(h, id2, 'queue_call')).find((e) => e.type === 'queue_call')!;
    expect(qc.payload).toMatchObject({ status: 'abandoned', user_number: null, queue_name: 'One' });
    expect(h.engine.queues.snapshot().waiting['One']).toHaveLength(1);
    out1.cancel();
    await ended(out1);
  });

  it('a queue whose agents have no registered device sends the caller to next at once (empty)', async () => {
    const c = await newCaller();
    const out = dial(c.phone, 'Nobody');
    expect((await out.waitFor<{ status: number }>('failed', 3000)).status).toBe(NEXT_STATUS.empty);
    const id = await callIdOf(h, c.number, 'queue_call');
    expect((await eventsUntil(h, id, 'queue_call')).map((e) => e.type)).toEqual(['queue_call']);
  });

  it('caller hang-up while waiting: queue_call abandoned, every ringing agent cancelled and back to idle', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = ringOnly;
    const c = await newCaller();
    const t0 = Date.now();
    const out = dial(c.phone, 'RingAll');
    await eventually(() => ringOrder(phones, t0).length === 3, 'three agents ringing');
    expect(h.engine.queues.snapshot().agents).toMatchObject({ '1001': 'ringing', '1002': 'ringing', '1003': 'ringing' });
    out.cancel();
    await ended(out);
    await agentsBecome(h, AGENTS, 'idle');
    const id = await callIdOf(h, c.number, 'queue_call');
    const events = await eventsUntil(h, id, 'queue_call');
    expect(events.at(-1)!.payload).toMatchObject({ type: 'queue_call', status: 'abandoned', user_number: null, connected_at: null, conversation_duration: 0 });
    expect(types(events).filter((t) => t === 'user_inbound_completed')).toHaveLength(3);
    const rows = await h.store.queryQueueCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(rows.map((r) => r.status)).toEqual(['abandoned']);
  });

  it('race: in ringall an agent answers and hangs up as the caller is answered; the caller is released, the other agents are not lost', async () => {
    // The agent's BYE is sent the moment the caller sees its 200, so it crosses the bridge being set up. (A BYE
    // that arrives before the bridge takes the other path of flows/queue.ts: the caller keeps its place.)
    let out: OutgoingCall | undefined;
    alice.onIncoming = ringOnly;
    carol.onIncoming = ringOnly;
    bob.onIncoming = (call: IncomingCall) => {
      call.answer();
      void eventually(() => out?.state === 'answered' || out?.state === 'confirmed', 'the caller answered', 5000).then(() => call.bye());
    };
    const c = await newCaller();
    const t0 = Date.now();
    out = dial(c.phone, 'RingAll');
    await ended(out, 8000);
    await agentsBecome(h, AGENTS, 'idle');
    for (const p of [alice, carol]) expect(p.events.some((e) => e.kind === 'cancelled' && e.at >= t0)).toBe(true);
    const id = await callIdOf(h, c.number, 'queue_call');
    const qc = (await eventsUntil(h, id, 'queue_call')).at(-1)!;
    expect(qc.payload).toMatchObject({ status: 'answered', user_number: '1002' });
    // The queue still works: the next caller is answered by another agent.
    bob.onIncoming = ringOnly;
    alice.onIncoming = answerAfter(100);
    const c2 = await newCaller();
    const out2 = dial(c2.phone, 'RingAll');
    await out2.waitFor('answered', 5000);
    await out2.bye();
  });

  it('agents on a call are skipped; wrap-up after a call in one queue keeps the agent from ringing in another', async () => {
    alice.onIncoming = answerAfter(50);
    bob.onIncoming = ringOnly;
    const a = await newCaller();
    const outA = dial(a.phone, 'WrapA');
    await outA.waitFor('answered');
    expect(h.engine.queues.snapshot().agents['1001']).toBe('on-call');
    // While alice talks, a WrapB caller rings only bob.
    const b = await newCaller();
    const t1 = Date.now();
    const outB = dial(b.phone, 'WrapB');
    await eventually(() => ringOrder(phones, t1).length > 0, 'a WrapB ring');
    expect(ringOrder(phones, t1).map((o) => o.device)).toEqual(['bob-desk']);
    await outA.bye();
    const endedAt = Date.now();
    await agentsBecome(h, ['1001'], 'wrap-up');
    // bob is rung again and again (agent_timeout_s 2 s, retry 200 ms); alice only after her 2 s wrap-up.
    await eventually(() => ringOrder({ 'alice-desk': alice }, t1).length > 0, 'alice rung after wrap-up', 6000);
    expect(ringOrder({ 'alice-desk': alice }, t1)[0]!.at - endedAt).toBeGreaterThanOrEqual(1900);
    await outB.waitFor('answered', 3000);
    await outB.bye();
  }, 20_000);

  it('an agent who unregisters while ringing goes back to idle when the ring ends and is not rung again', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = ringOnly;
    const c = await newCaller();
    const t0 = Date.now();
    const out = dial(c.phone, 'RingAll');
    await eventually(() => ringOrder(phones, t0).length === 3, 'three agents ringing');
    expect((await carol.unregister()).ok).toBe(true);
    expect(h.engine.queues.snapshot().agents['1003']).toBe('ringing');
    // agent_timeout_s (2 s) ends the ring; after the retry pause only alice and bob are offered again.
    await eventually(() => ringOrder(phones, t0).length === 5, 'the second offer', 5000);
    expect(ringOrder(phones, t0).slice(3).map((o) => o.device).sort()).toEqual(['alice-desk', 'bob-desk']);
    expect(h.engine.queues.snapshot().agents['1003']).toBe('idle');
    out.cancel();
    await ended(out);
    expect((await carol.register({ expires: 600 })).ok).toBe(true);
  });

  it('an unregistered agent is skipped; registering again brings them back', async () => {
    for (const p of [alice, bob, carol]) p.onIncoming = ringOnly;
    expect((await carol.unregister()).ok).toBe(true);
    const c = await newCaller();
    const t0 = Date.now();
    const out = dial(c.phone, 'RingAll');
    await eventually(() => ringOrder(phones, t0).length === 2, 'two agents ringing');
    expect(ringOrder(phones, t0).map((o) => o.device).sort()).toEqual(['alice-desk', 'bob-desk']);
    carol.onIncoming = answerAfter(50);
    expect((await carol.register({ expires: 600 })).ok).toBe(true);
    // alice and bob ring until agent_timeout_s; after the retry pause carol is offered too and answers.
    await out.waitFor('answered', 6000);
    await out.bye();
    const id = await callIdOf(h, c.number, 'queue_call');
    expect((await eventsUntil(h, id, 'queue_call')).at(-1)!.payload).toMatchObject({ user_number: '1003', status: 'answered' });
  });
});
