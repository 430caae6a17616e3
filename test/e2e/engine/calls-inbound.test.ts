/**
 * Inbound calls end to end (SPEC.md §2): caller test phone → DID → flow → user node → fork to every registered
 * device (test phones) through drachtio-lite + drachtio-srf + engine + SQLite; events read from the outbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingCall, TestPhone } from '../../../src/sip/phone/index.js';
import { demoConfig, eventually, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter, ended, registerDevices, rejectWith, ringOnly, types } from '../../support/engine-calls.js';

const DID = '+61390000000';
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('inbound calls to a user', () => {
  let h: EngineHarness;
  let desk: TestPhone;
  let mobile: TestPhone;
  let caller: TestPhone;

  beforeAll(async () => {
    const config = demoConfig();
    const node = config.flows.find((f) => f.id === 'alice-direct')!.nodes[0]!;
    (node as { ring_timeout_s?: number }).ring_timeout_s = 2;
    h = await startEngineHarness({ config });
    [desk, mobile] = await registerDevices(h, ['alice-desk', 'alice-mobile']);
    caller = await h.phone('61400111222');
  });
  afterEach(() => {
    desk.onIncoming = ringOnly;
    mobile.onIncoming = ringOnly;
  });
  afterAll(async () => {
    await h?.close({ removeDb: true });
  });

  async function lastCallId(): Promise<string> {
    return eventually(async () => (await h.allEvents()).at(-1)?.unique_call_id, 'an event');
  }

  it('rings every device in parallel, gives the caller 180, bridges the first answer and CANCELs the other', async () => {
    const deskIn = desk.waitForIncoming();
    desk.onIncoming = ringOnly;
    mobile.onIncoming = answerAfter(200);
    const out = caller.call(`sip:${DID}@${h.domain}`);
    const progress = out.waitFor('progress');
    const deskCall: IncomingCall = await deskIn;
    expect(deskCall.from).toContain('61400111222');
    expect((await progress as { status: number }).status).toBe(180);
    await out.waitFor('answered');
    await ended(deskCall);
    expect(deskCall.endInfo?.reason).toBe('cancelled');
    // SDP passes through: the caller sees the answering device's SDP.
    const mobileCall = mobile.activeCalls[0]!;
    expect(mobileCall.remoteSdp).toBe(out.invite!.body.toString('utf8'));
    expect(out.remoteSdp).toMatch(/m=audio/);
    expect((await h.engine.status()).active_calls).toBe(1);
    // Caller BYE ends both sides.
    await out.bye();
    await ended(mobileCall);
    expect(mobileCall.endInfo?.by).toBe('remote');
    const id = await lastCallId();
    await eventually(async () => (await h.events(id)).length === 3, 'three events');
    const events = await h.events(id);
    expect(types(events)).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    const [ring, ans, done] = events.map((e) => e.payload);
    expect(Object.keys(ring!).sort()).toEqual(['call_start_at', 'caller_id', 'caller_name', 'dest_number', 'event_id', 'occurred_at', 'queue_name',
      'ring_group_name', 'sequence', 'type', 'unique_call_id', 'user_name', 'user_number'].sort());
    expect(ring).toMatchObject({ type: 'user_inbound', unique_call_id: id, caller_id: '61400111222', user_name: 'Alice Smith', user_number: '1001', dest_number: '61390000000', queue_name: null, ring_group_name: null });
    expect(ring!['call_start_at']).toMatch(ISO_MS);
    expect(ans).toMatchObject({ type: 'user_inbound_answered', user_number: '1001' });
    expect(ans!['connected_at']).toMatch(ISO_MS);
    expect(done).toMatchObject({ type: 'user_inbound_completed', connected_at: ans!['connected_at'] });
    expect(Number.isInteger(done!['call_duration'])).toBe(true);
    expect(Number.isInteger(done!['conversation_duration'])).toBe(true);
    expect(id).toMatch(/^\d{19}$/);
    const rec = await h.store.getCall(id);
    expect(rec).toMatchObject({ direction: 'inbound', status: 'answered', user_number: '1001', dest_number: '61390000000', config_version: 1, hangup_cause: 'caller-hangup' });
    const legs = await h.store.listLegs(id);
    expect(legs.map((l) => l.kind).sort()).toEqual(['caller', 'device', 'device']);
    expect(legs.find((l) => l.device === 'alice-mobile')?.answered_at).toMatch(ISO_MS);
    expect(legs.find((l) => l.device === 'alice-desk')?.final_status).toBe(487);
    const rows = await h.store.queryUserCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(rows.map((r) => r.type)).toEqual(['user_inbound_answered']);
  });

  it('a BYE from the callee ends the caller too', async () => {
    mobile.onIncoming = answerAfter(50);
    const out = caller.call(`sip:${DID}@${h.domain}`);
    await out.waitFor('answered');
    const mobileCall = mobile.activeCalls[0]!;
    await eventually(() => mobileCall.state === 'confirmed', 'ACK at the device');
    expect((await mobileCall.bye())?.status).toBe(200);
    await ended(out);
    expect(out.endInfo?.by).toBe('remote');
    await eventually(async () => (await h.engine.status()).active_calls === 0, 'call gone');
  });

  it('ring timeout cancels every leg and continues at next (voicemail → 480 until media exists)', async () => {
    const t0 = Date.now();
    const out = caller.call(`sip:${DID}@${h.domain}`);
    const deskCall = await desk.waitForIncoming();
    const fail = await out.waitFor<{ status: number }>('failed', 6000);
    expect(fail.status).toBe(480);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    await ended(deskCall);
    expect(deskCall.endInfo?.reason).toBe('cancelled');
    const id = await lastCallId();
    await eventually(async () => (await h.events(id)).length === 2, 'two events');
    const events = await h.events(id);
    expect(types(events)).toEqual(['user_inbound', 'user_inbound_completed']);
    expect(events[1]!.payload).toMatchObject({ connected_at: null, conversation_duration: 0 });
    expect((await h.store.getCall(id))?.status).toBe('missed');
    const rows = await h.store.queryUserCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(rows.map((r) => r.type)).toEqual(['user_inbound_missed']);
  });

  it('all devices busy goes to next at once', async () => {
    desk.onIncoming = rejectWith(486);
    mobile.onIncoming = rejectWith(486);
    const t0 = Date.now();
    const out = caller.call(`sip:${DID}@${h.domain}`);
    const fail = await out.waitFor<{ status: number }>('failed');
    expect(fail.status).toBe(480);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('caller CANCEL during ringing cancels every leg', async () => {
    const deskIn = desk.waitForIncoming();
    const mobileIn = mobile.waitForIncoming();
    const out = caller.call(`sip:${DID}@${h.domain}`);
    const progress = out.waitFor('progress');
    const [d, m] = await Promise.all([deskIn, mobileIn]);
    await progress;
    out.cancel();
    const fail = await out.waitFor<{ status: number }>('failed');
    expect(fail.status).toBe(487);
    await Promise.all([ended(d), ended(m)]);
    expect(d.endInfo?.reason).toBe('cancelled');
    expect(m.endInfo?.reason).toBe('cancelled');
    const id = await lastCallId();
    await eventually(async () => (await h.store.getCall(id))?.ended_at, 'final record');
    expect((await h.store.getCall(id))?.hangup_cause).toBe('caller-cancel');
  });

  it('a late second 2xx is ACKed and then BYEd', async () => {
    desk.onIncoming = (c) => c.answer();
    mobile.onIncoming = (c) => c.answer();
    const seen = { desk: desk.events.length, mobile: mobile.events.length };
    const out = caller.call(`sip:${DID}@${h.domain}`);
    await out.waitFor('answered');
    await eventually(() => desk.activeCalls.length + mobile.activeCalls.length === 1, 'one device left in the call');
    const [loser] = [desk, mobile].filter((p) => p.activeCalls.length === 0);
    const kinds = loser!.events.slice(loser === desk ? seen.desk : seen.mobile).map((e) => e.kind);
    // Both 200s went out before any CANCEL could arrive: the loser's 200 was ACKed, then it got a BYE.
    expect(kinds).toContain('answered');
    expect(kinds).toContain('ack');
    const end = loser!.events.filter((e) => e.kind === 'ended').at(-1)!.detail as { by: string; reason: string };
    expect(end.by).toBe('remote');
    await out.bye();
  });
});

describe('inbound call to a user with no registered device', () => {
  let h: EngineHarness;
  afterAll(async () => {
    await h?.close({ removeDb: true });
  });

  it('goes straight to next (480 without ringing) and emits no user_inbound', async () => {
    h = await startEngineHarness();
    const caller = await h.phone('61400111333');
    const out = caller.call(`sip:61390000000@${h.domain}`);
    const fail = await out.waitFor<{ status: number }>('failed');
    expect(fail.status).toBe(480);
    expect(caller.events.filter((e) => e.kind === 'response').map((e) => (e.detail as { status: number }).status)).not.toContain(180);
    await new Promise((r) => setTimeout(r, 100));
    expect(types(await h.allEvents())).toEqual([]);
  });
});
