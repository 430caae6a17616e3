/**
 * Calls placed by devices (SPEC.md §2): internal calls between extensions, outbound calls through the trunk with
 * the user's caller_id, and the authentication wall (407) that keeps unauthenticated INVITEs off the trunk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPhone, type IncomingCall } from '../../../src/sip/phone/index.js';
import { SipRequest, type SipStack } from '../../../src/sip/index.js';
import { demoConfig, eventually, harnessLogger, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { answerAfter, ended, registerDevices, ringOnly, types } from '../../support/engine-calls.js';
import { rawStack, send } from '../../support/engine-sip.js';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('calls from devices', () => {
  let h: EngineHarness;
  let trunk: TestPhone;
  let alice: TestPhone;
  let bobDesk: TestPhone;
  let raw: SipStack;

  beforeAll(async () => {
    trunk = await TestPhone.create({ transport: 'udp', username: 'trunk', domain: 'carrier.example', registrar: { transport: 'udp', address: '127.0.0.1', port: 9 }, timers: { t1: 100, t2: 400, t4: 500 }, log: harnessLogger(), onIncoming: ringOnly });
    const config = demoConfig();
    config.trunks[0] = { ...config.trunks[0]!, host: '127.0.0.1', port: trunk.endpoint.port };
    config.users[0]!.caller_id = '+61390000000';
    h = await startEngineHarness({ config });
    [alice] = await registerDevices(h, ['alice-desk']);
    [bobDesk] = await registerDevices(h, ['bob-desk'], answerAfter(50));
    raw = await rawStack();
  });
  afterAll(async () => {
    await raw?.close();
    await trunk?.close();
    await h?.close({ removeDb: true });
  });

  it('an outbound call goes to the trunk with the user\'s caller_id in From and P-Asserted-Identity, SDP passed through', async () => {
    trunk.onIncoming = answerAfter(100);
    const incoming = trunk.waitForIncoming();
    const out = alice.call(`sip:+61299998888@${h.domain}`);
    const tc: IncomingCall = await incoming;
    expect(tc.invite.uri).toMatch(/^sip:\+61299998888@127\.0\.0\.1:\d+/);
    expect(tc.invite.get('from')).toContain('sip:+61390000000@');
    expect(tc.invite.get('p-asserted-identity')).toContain('sip:+61390000000@');
    expect(tc.remoteSdp).toBe(out.invite!.body.toString('utf8'));
    await out.waitFor('answered');
    await eventually(() => tc.state === 'confirmed', 'ACK at the trunk');
    await tc.bye();
    await ended(out);
    const id = (await h.allEvents()).at(-1)!.unique_call_id!;
    await eventually(async () => (await h.events(id)).length === 3, 'three events');
    const events = await h.events(id);
    expect(types(events)).toEqual(['user_outbound', 'user_outbound_answered', 'user_outbound_completed']);
    expect(Object.keys(events[0]!.payload).sort()).toEqual(['call_start_at', 'caller_id', 'caller_name', 'dest_number', 'event_id', 'occurred_at',
      'sequence', 'type', 'unique_call_id', 'user_name', 'user_number'].sort());
    expect(events[0]!.payload).toMatchObject({ caller_id: '61390000000', caller_name: 'Alice Smith', user_name: 'Alice Smith', user_number: '1001', dest_number: '61299998888' });
    expect(events[1]!.payload['connected_at']).toMatch(ISO_MS);
    expect(events[2]!.payload).toMatchObject({ connected_at: events[1]!.payload['connected_at'] });
    expect(await h.store.getCall(id)).toMatchObject({ direction: 'outbound', status: 'answered', user_number: '1001', hangup_cause: 'callee-hangup' });
    const rows = await h.store.queryUserCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(rows.map((r) => r.type)).toEqual(['user_outbound_answered']);
  });

  it('a trunk failure status reaches the caller and the call is a missed outbound call', async () => {
    trunk.onIncoming = (c) => c.reject(486);
    const out = alice.call(`sip:0299998888@${h.domain}`);
    const fail = await out.waitFor<{ status: number }>('failed');
    expect(fail.status).toBe(486);
    const id = (await h.allEvents()).at(-1)!.unique_call_id!;
    await eventually(async () => (await h.events(id)).length === 2, 'two events');
    expect(types(await h.events(id))).toEqual(['user_outbound', 'user_outbound_completed']);
    const rows = await h.store.queryUserCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(rows.map((r) => r.type)).toEqual(['user_outbound_missed']);
  });

  it('a caller CANCEL while the trunk rings reaches the trunk as a CANCEL', async () => {
    trunk.onIncoming = ringOnly;
    const incoming = trunk.waitForIncoming();
    const out = alice.call(`sip:+61299996666@${h.domain}`);
    const progress = out.waitFor('progress');
    const tc = await incoming;
    await progress;
    out.cancel();
    expect((await out.waitFor<{ status: number }>('failed')).status).toBe(487);
    await ended(tc);
    expect(tc.endInfo?.reason).toBe('cancelled');
  });

  it('an internal call rings the other extension\'s devices and records both users', async () => {
    const incoming = bobDesk.waitForIncoming();
    const out = alice.call(`sip:1002@${h.domain}`);
    const bc = await incoming;
    expect(bc.from).toContain('sip:1001@');
    expect(bc.from).toContain('Alice Smith');
    await out.waitFor('answered');
    await out.bye();
    await ended(bc);
    const id = (await h.allEvents()).at(-1)!.unique_call_id!;
    await eventually(async () => (await h.events(id)).length === 6, 'six events');
    const events = await h.events(id);
    expect(types(events)).toEqual(['user_outbound', 'user_inbound', 'user_inbound_answered', 'user_outbound_answered', 'user_outbound_completed', 'user_inbound_completed']);
    expect(events[1]!.payload).toMatchObject({ caller_id: '1001', caller_name: 'Alice Smith', user_number: '1002', dest_number: '1002' });
    expect(await h.store.getCall(id)).toMatchObject({ direction: 'internal', status: 'answered', user_number: '1002' });
    const rows = await h.store.queryUserCalls({ from: null, to: null, sort: 'newest_first', offset: 0, limit: 10, unique_call_id: id });
    expect(rows.map((r) => r.type).sort()).toEqual(['user_inbound_answered', 'user_outbound_answered']);
  });

  it('an unauthenticated INVITE to an external number gets 407 and never reaches the trunk', async () => {
    let trunkSaw = 0;
    trunk.onIncoming = () => void trunkSaw++;
    for (const target of ['+61299997777', '1002']) {
      const inv = new SipRequest('INVITE', `sip:${target}@${h.domain}`);
      inv.append('From', '<sip:intruder@evil.example>;tag=abc123');
      inv.append('To', `<sip:${target}@${h.domain}>`);
      inv.append('Call-ID', `intrude-${target}`);
      inv.append('CSeq', '1 INVITE');
      inv.append('Contact', '<sip:intruder@127.0.0.1:9>');
      const res = await send(raw, inv, h.sip);
      expect(res?.status).toBe(407);
      expect(res?.get('proxy-authenticate')).toMatch(/Digest realm=/);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(trunkSaw).toBe(0);
    expect((await h.engine.status()).active_calls).toBe(0);
  });
});
