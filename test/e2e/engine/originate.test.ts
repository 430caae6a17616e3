/**
 * Click-to-call (SPEC.md §2): the engine rings the user's devices showing the destination, and only when one
 * answers dials the destination through the trunk, bridging by 3PCC (offerless INVITE to the device, its offer
 * to the trunk, the trunk's answer in the device's ACK).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OriginateError } from '../../../src/engine/index.js';
import { createOffer, TestPhone, type IncomingCall } from '../../../src/sip/phone/index.js';
import { demoConfig, eventually, harnessLogger, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter, ended, registerDevices, ringOnly, types } from '../../support/engine-calls.js';

const DEVICE_OFFER = createOffer({ address: '127.0.0.1', port: 30000 });

describe('click-to-call (originate)', () => {
  let h: EngineHarness;
  let trunk: TestPhone;
  let desk: TestPhone;
  let mobile: TestPhone;
  let trunkSaw = 0;

  beforeAll(async () => {
    trunk = await TestPhone.create({ transport: 'udp', username: 'trunk', domain: 'carrier.example', registrar: { transport: 'udp', address: '127.0.0.1', port: 9 }, timers: { t1: 100, t2: 400, t4: 500 }, log: harnessLogger() });
    trunk.on('incoming', () => void trunkSaw++);
    const config = demoConfig();
    config.trunks[0] = { ...config.trunks[0]!, host: '127.0.0.1', port: trunk.endpoint.port };
    config.users[0]!.caller_id = '+61390000000';
    config.users[0]!.ring_timeout_s = 1;
    h = await startEngineHarness({ config });
    [desk, mobile] = await registerDevices(h, ['alice-desk', 'alice-mobile'], ringOnly);
  });
  afterAll(async () => {
    await trunk?.close();
    await h?.close({ removeDb: true });
  });

  it('refuses an unknown user, a user without devices, and reports why', async () => {
    await expect(h.engine.originate({ user_number: '9999', number_to_call: '+61299990000' })).rejects.toMatchObject({ code: 'user_not_found' });
    await expect(h.engine.originate({ user_number: '1002', number_to_call: '+61299990000' })).rejects.toBeInstanceOf(OriginateError);
    await expect(h.engine.originate({ user_number: '1002', number_to_call: '+61299990000' })).rejects.toMatchObject({ code: 'no_registered_device' });
  });

  it('rings every device showing the destination, dials the trunk on answer with the device\'s offer, and ACKs the device with the trunk\'s answer', async () => {
    trunk.onIncoming = answerAfter(50);
    const deskIn = desk.waitForIncoming();
    mobile.onIncoming = (c: IncomingCall) => {
      c.ring();
      setTimeout(() => c.answer({ sdp: DEVICE_OFFER }), 150);
    };
    const trunkIn = trunk.waitForIncoming();
    const result = await h.engine.originate({ user_number: '1001', number_to_call: '+61288887777' });
    expect(result).toMatchObject({ user_name: 'Alice Smith', user_number: '1001', caller_id: '+61390000000', dest_number: '+61288887777' });
    expect(result.unique_call_id).toMatch(/^\d{19}$/);
    const d = await deskIn;
    expect(d.from).toContain('sip:+61288887777@');
    expect(d.invite.body.length).toBe(0);
    const t = await trunkIn;
    expect(t.invite.uri).toMatch(/^sip:\+61288887777@127\.0\.0\.1/);
    expect(t.invite.get('from')).toContain('sip:+61390000000@');
    expect(t.remoteSdp).toBe(DEVICE_OFFER);
    await ended(d);
    expect(d.endInfo?.reason).toBe('cancelled');
    const m = await eventually(() => (mobile.events.some((e) => e.kind === 'ack') ? mobile.activeCalls[0] : undefined), 'ACK at the device');
    await eventually(() => m.remoteSdp !== undefined && m.remoteSdp.includes('m=audio') && m.remoteSdp !== DEVICE_OFFER, 'trunk SDP in the ACK');
    await eventually(() => t.state === 'confirmed', 'trunk confirmed');
    await t.bye();
    await ended(m);
    await eventually(async () => (await h.events(result.unique_call_id)).length === 3, 'three events');
    const events = await h.events(result.unique_call_id);
    expect(types(events)).toEqual(['user_outbound', 'user_outbound_answered', 'user_outbound_completed']);
    expect(events[0]!.payload).toMatchObject({ caller_id: '61390000000', user_number: '1001', dest_number: '61288887777' });
    expect(await h.store.getCall(result.unique_call_id)).toMatchObject({ direction: 'outbound', status: 'answered' });
  });

  it('dials nothing when no device answers in time', async () => {
    mobile.onIncoming = ringOnly;
    desk.onIncoming = ringOnly;
    const before = trunkSaw;
    const result = await h.engine.originate({ user_number: '1001', number_to_call: '+61288886666' });
    await eventually(async () => (await h.store.getCall(result.unique_call_id))?.ended_at, 'call ended', 4000);
    expect(trunkSaw).toBe(before);
    const events = await h.events(result.unique_call_id);
    expect(types(events)).toEqual(['user_outbound', 'user_outbound_completed']);
    expect((await h.store.getCall(result.unique_call_id))?.status).toBe('missed');
  });

  it('hangs up the answered device (ACK, then BYE) when the destination refuses, presenting a caller_id override', async () => {
    trunk.onIncoming = (c) => c.reject(486);
    desk.onIncoming = ringOnly;
    mobile.onIncoming = (c: IncomingCall) => c.answer({ sdp: DEVICE_OFFER });
    const trunkIn = trunk.waitForIncoming();
    const mobileIn = mobile.waitForIncoming();
    const result = await h.engine.originate({ user_number: '1001', number_to_call: '+61288885555', caller_id: '+61390000099' });
    expect(result.caller_id).toBe('+61390000099');
    const t = await trunkIn;
    expect(t.invite.get('from')).toContain('sip:+61390000099@');
    const m = await mobileIn;
    await ended(m);
    expect(m.endInfo?.by).toBe('remote');
    expect(mobile.events.some((e) => e.kind === 'ack')).toBe(true);
    const rec = await eventually(async () => ((await h.store.getCall(result.unique_call_id))?.ended_at ? h.store.getCall(result.unique_call_id) : undefined), 'ended');
    expect(rec).toMatchObject({ status: 'missed', hangup_cause: 'trunk-failed' });
  });
});
