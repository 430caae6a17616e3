/**
 * Click-to-call end to end (SPEC.md §2, §4 `call-to-number`, issue 6): an HTTP POST (JSON, form-urlencoded or
 * multipart) rings Alice's registered desk phone showing the destination; the response arrives while it rings;
 * only when the phone answers does the SIPp trunk get the INVITE (with the phone's offer and the right caller
 * id); the two are bridged and a BYE from either side ends both; the history shows a user outbound call.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOffer, type IncomingCall, type PhoneCall } from '../../../src/sip/phone/index.js';
import { V2, type BodyKind } from '../../support/integration-http.js';
import {
  eventually, parseSippTrace, runTracedSipp, sippOk, startIntegrationPbx, tracedRequests, trunkPort, type IntegrationPbx, type TracedSipp,
} from '../../support/integration-pbx.js';

const DEVICE_OFFER = createOffer({ address: '127.0.0.1', port: 31000 });

interface Started { unique_call_id: string; user_name: string; user_number: string; caller_id: string | null; dest_number: string }

function ended(call: PhoneCall, timeoutMs = 8000): Promise<unknown> {
  return call.state === 'ended' ? Promise.resolve(call.endInfo) : call.waitFor('ended', timeoutMs);
}

describe('click-to-call end to end', () => {
  let pbx: IntegrationPbx;
  let trunk: number;
  const traces: TracedSipp[] = [];
  const trunkUas = async (scenario: string, pauseMs: number): Promise<TracedSipp> => {
    const t = await runTracedSipp({ scenario, port: trunk, calls: 1, timeoutS: 20, extra: ['-d', String(pauseMs)] });
    traces.push(t);
    return t;
  };
  const callToNumber = (body: Record<string, string>, kind: BodyKind = 'json') => pbx.api.post<Started>(`${V2}/call-to-number`, body, kind);
  const history = async (id: string) => {
    const r = await pbx.api.get<Array<Record<string, unknown>>>(`${V2}/get-user-calls`, { unique_call_id: id });
    return r.json.data!;
  };

  beforeAll(async () => {
    trunk = await trunkPort();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.trunks[0]!.port = trunk;
        const alice = c.users.find((u) => u.number === '1001')!;
        alice.caller_id = '+61390000000';
        alice.ring_timeout_s = 3;
      },
    });
  });
  afterEach(async () => {
    await pbx.reset();
    for (const t of traces.splice(0)) t.cleanup();
  });
  afterAll(async () => {
    await pbx?.close();
  });

  it('JSON: answers while the phone rings, dials the trunk only after the answer, bridges, and a trunk BYE ends both', async () => {
    let answeredAt = 0;
    const desk = await pbx.phone('alice-desk', {
      onIncoming: (c: IncomingCall) => {
        c.ring();
        c.once('answered', () => { answeredAt = Date.now(); });
        c.answer({ afterMs: 700, sdp: DEVICE_OFFER });
      },
    });
    const uas = await trunkUas('uas-answer-then-bye.xml', 800);
    const incoming = desk.waitForIncoming(5000);
    const r = await callToNumber({ user_number: '1001', number_to_call: '+61288887777' });
    expect(r.status, r.text).toBe(200);
    // The response comes while the device rings: nothing answered yet, nothing sent to the trunk yet.
    const dev = await incoming;
    expect(dev.state).toBe('ringing');
    expect(tracedRequests(uas.messages(), 'INVITE')).toEqual([]);
    expect(Object.keys(r.json).sort()).toEqual(['code', 'data', 'message', 'status']);
    expect(r.json).toMatchObject({ code: 200, status: 'success' });
    const data = r.json.data!;
    expect(Object.keys(data).sort()).toEqual(['caller_id', 'dest_number', 'unique_call_id', 'user_name', 'user_number']);
    expect(data).toEqual({ unique_call_id: data.unique_call_id, user_name: 'Alice Smith', user_number: '1001', caller_id: '61390000000', dest_number: '61288887777' });
    expect(data.unique_call_id).toMatch(/^\d+$/);
    // The phone sees the destination as caller ID, and gets an offerless INVITE (3PCC).
    expect(dev.from).toMatch(/sip:\+?61288887777@/);
    expect(dev.invite.body.length).toBe(0);

    sippOk(await uas.done, 'trunk UAS (answers, then hangs up)');
    await ended(dev);
    expect(dev.endInfo).toMatchObject({ by: 'remote' });
    const invites = tracedRequests(uas.messages(), 'INVITE');
    expect(invites).toHaveLength(1);
    const invite = invites[0]!;
    expect(invite).toMatch(new RegExp(`^INVITE sip:\\+61288887777@127\\.0\\.0\\.1:${trunk}[;> ]`));
    expect(invite).toMatch(/\nFrom:[^\n]*sip:\+61390000000@/i);
    expect(invite).toContain('m=audio 31000 ');
    expect(answeredAt).toBeGreaterThan(0);
    const inviteAt = parseSippTrace(uas.messages()).find((m) => m.text.startsWith('INVITE '))!.at;
    expect(inviteAt).toBeGreaterThanOrEqual(answeredAt - 5);
    // The trunk leg exists only after the device answered: the phone got its ACK with the trunk's SDP answer.
    expect(dev.remoteSdp).toMatch(/m=audio \d+ RTP\/AVP/);
    expect(desk.kinds()).toContain('ack');

    const rows = await eventually(async () => {
      const h = await history(data.unique_call_id);
      return h.length === 1 && h[0]!['call_duration'] !== null ? h : undefined;
    }, 'history row');
    expect(rows[0]).toMatchObject({ unique_call_id: data.unique_call_id, type: 'user_outbound_answered', caller_id: '61390000000', dest_number: '61288887777', user_name: 'Alice Smith', user_number: '1001' });
  });

  it('form-urlencoded with caller_id: the trunk sees that caller id, and the phone\'s BYE ends the trunk leg', async () => {
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.answer({ afterMs: 300, sdp: DEVICE_OFFER }) });
    const uas = await trunkUas('uas-answer.xml', 200);
    const incoming = desk.waitForIncoming(5000);
    const r = await callToNumber({ user_number: '1001', number_to_call: '+61288886666', caller_id: '+61390000005' }, 'form');
    expect(r.status, r.text).toBe(200);
    expect(r.json.data).toMatchObject({ user_number: '1001', caller_id: '61390000005', dest_number: '61288886666' });
    const dev = await incoming;
    await eventually(() => dev.state === 'confirmed', 'ACK from the PBX at the phone');
    await eventually(() => tracedRequests(uas.messages(), 'ACK').length > 0, 'ACK at the trunk');
    await dev.bye();
    sippOk(await uas.done, 'trunk UAS (gets the BYE)');
    expect(tracedRequests(uas.messages(), 'INVITE')[0]).toMatch(/\nFrom:[^\n]*sip:\+61390000005@/i);
    expect(tracedRequests(uas.messages(), 'BYE')).toHaveLength(1);
    const rows = await eventually(async () => {
      const h = await history(r.json.data!.unique_call_id);
      return h.length === 1 && h[0]!['call_duration'] !== null ? h : undefined;
    }, 'history row');
    expect(rows[0]).toMatchObject({ type: 'user_outbound_answered', dest_number: '61288886666', user_number: '1001' });
  });

  it('multipart: if nobody answers within the ring timeout, nothing reaches the trunk and the call is a missed outbound call', async () => {
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.ring() });
    const uas = await trunkUas('uas-answer.xml', 200);
    const incoming = desk.waitForIncoming(5000);
    const r = await callToNumber({ user_number: '1001', number_to_call: '+61288885555' }, 'multipart');
    expect(r.status, r.text).toBe(200);
    expect(r.json.data).toMatchObject({ user_name: 'Alice Smith', user_number: '1001', dest_number: '61288885555' });
    const dev = await incoming;
    await ended(dev, 6000);
    expect(dev.endInfo).toMatchObject({ reason: 'cancelled' });
    const rows = await eventually(async () => {
      const h = await history(r.json.data!.unique_call_id);
      return h.length === 1 && h[0]!['call_duration'] !== null ? h : undefined;
    }, 'history row');
    expect(rows[0]).toMatchObject({ type: 'user_outbound_missed', connected_at: null, dest_number: '61288885555' });
    await new Promise((res) => setTimeout(res, 300));
    expect(uas.messages()).not.toMatch(/INVITE sip:/);
    uas.kill();
  });

  it('rings every registered device of the user; the first to answer is bridged, the other gets CANCEL', async () => {
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.ring() });
    const mobile = await pbx.phone('alice-mobile', { onIncoming: (c: IncomingCall) => { c.ring(); c.answer({ afterMs: 400, sdp: DEVICE_OFFER }); } });
    const uas = await trunkUas('uas-answer-then-bye.xml', 500);
    const activeBefore = (await pbx.api.get<{ active_calls: number }>(`${V2}/get-system-status`)).json.data!.active_calls;
    const deskIn = desk.waitForIncoming(5000);
    const mobileIn = mobile.waitForIncoming(5000);
    const r = await callToNumber({ user_number: '1001', number_to_call: '+61288884444' });
    expect(r.status, r.text).toBe(200);
    const [d, m] = await Promise.all([deskIn, mobileIn]);
    expect(d.from).toMatch(/sip:\+?61288884444@/);
    expect(m.from).toMatch(/sip:\+?61288884444@/);
    await ended(d);
    expect(d.endInfo).toMatchObject({ reason: 'cancelled' });
    sippOk(await uas.done, 'trunk UAS');
    await ended(m);
    expect(tracedRequests(uas.messages(), 'INVITE')).toHaveLength(1);
    await eventually(async () => (await pbx.api.get<{ active_calls: number }>(`${V2}/get-system-status`)).json.data!.active_calls === activeBefore, 'the call no longer active');
  });

  it('a busy destination ends the answered device leg (ACK, then BYE) and the call is a missed outbound call', async () => {
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.answer({ afterMs: 200, sdp: DEVICE_OFFER }) });
    const uas = await trunkUas('uas-busy.xml', 0);
    const incoming = desk.waitForIncoming(5000);
    const r = await callToNumber({ user_number: '1001', number_to_call: '+61288883333' });
    expect(r.status, r.text).toBe(200);
    const dev = await incoming;
    sippOk(await uas.done, 'busy trunk');
    await ended(dev);
    expect(desk.kinds()).toContain('ack');
    expect(dev.endInfo).toMatchObject({ by: 'remote' });
    const rows = await eventually(async () => {
      const h = await history(r.json.data!.unique_call_id);
      return h.length === 1 && h[0]!['call_duration'] !== null ? h : undefined;
    }, 'history row');
    expect(rows[0]).toMatchObject({ type: 'user_outbound_missed', connected_at: null, dest_number: '61288883333' });
  });

  it('answers 404 for an unknown user, 409 for a user without a registered device, 400 naming a bad number_to_call', async () => {
    for (const kind of ['json', 'form', 'multipart'] as const) {
      const unknown = await callToNumber({ user_number: '9999', number_to_call: '+61288887777' }, kind);
      expect(unknown.status, `${kind}: ${unknown.text}`).toBe(404);
      expect(unknown.json).toMatchObject({ code: 404, status: 'error' });
      const noDevice = await callToNumber({ user_number: '1002', number_to_call: '+61288887777' }, kind);
      expect(noDevice.status, `${kind}: ${noDevice.text}`).toBe(409);
      expect(noDevice.json).toMatchObject({ code: 409, status: 'error' });
      expect(noDevice.json.message).toMatch(/device/i);
      for (const bad of ['0288887777', '61288887777', '+6128888x777', '', '+1234567', '+1234567890123456', ' +61288887777']) {
        const r = await callToNumber({ user_number: '1001', number_to_call: bad }, kind);
        expect(r.status, `${kind} '${bad}': ${r.text}`).toBe(400);
        expect(r.json).toMatchObject({ code: 400, status: 'error' });
        expect(r.json.message).toContain('number_to_call');
      }
      const missing = await callToNumber({ user_number: '1001' }, kind);
      expect(missing.status).toBe(400);
      expect(missing.json.message).toContain('number_to_call');
      const noUser = await callToNumber({ number_to_call: '+61288887777' }, kind);
      expect(noUser.status).toBe(400);
      expect(noUser.json.message).toContain('user_number');
      const badCallerId = await callToNumber({ user_number: '1001', number_to_call: '+61288887777', caller_id: 'anonymous' }, kind);
      expect(badCallerId.status).toBe(400);
      expect(badCallerId.json.message).toContain('caller_id');
    }
    // A body that is not JSON at all, under a JSON content type, is a 400 in the envelope too.
    const { request } = await import('undici');
    const broken = await request(`${pbx.sb.baseUrl}${V2}/call-to-number`, { method: 'POST', headers: { token: 'demo-api-key', 'content-type': 'application/json' }, body: '{"user_number": "1001",' });
    expect(broken.statusCode).toBe(400);
    expect(await broken.body.json()).toMatchObject({ code: 400, status: 'error' });
  });

  it('a phone that rang (180) before answering hangs up: its BYE reaches the PBX and the trunk gets a BYE', async () => {
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => { c.ring(); c.answer({ afterMs: 200, sdp: DEVICE_OFFER }); } });
    const uas = await trunkUas('uas-answer.xml', 100);
    const incoming = desk.waitForIncoming(5000);
    const r = await callToNumber({ user_number: '1001', number_to_call: '+61288882222' });
    expect(r.status, r.text).toBe(200);
    const dev = await incoming;
    await eventually(() => dev.state === 'confirmed', 'ACK from the PBX at the phone');
    await eventually(() => tracedRequests(uas.messages(), 'ACK').length > 0, 'ACK at the trunk');
    const res = await dev.bye();
    expect(res?.status).toBe(200);
    sippOk(await uas.done, 'trunk UAS (gets the BYE)');
  });
});

describe('click-to-call through a TCP trunk', () => {
  let pbx: IntegrationPbx;
  let trunk: number;
  let trace: TracedSipp | undefined;
  beforeAll(async () => {
    trunk = await trunkPort();
    pbx = await startIntegrationPbx({ mutate: (c) => { Object.assign(c.trunks[0]!, { port: trunk, transport: 'tcp' }); } });
  });
  afterAll(async () => {
    trace?.cleanup();
    await pbx?.close();
  });

  it('dials the destination over TCP once the phone answers, and the phone\'s BYE reaches the trunk', async () => {
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => { c.ring(); c.answer({ afterMs: 200, sdp: DEVICE_OFFER }); } });
    trace = await runTracedSipp({ scenario: 'uas-answer.xml', port: trunk, transport: 't1', calls: 1, timeoutS: 20, extra: ['-d', '100'] });
    const uas = trace;
    const incoming = desk.waitForIncoming(5000);
    const r = await pbx.api.post<Started>(`${V2}/call-to-number`, { user_number: '1001', number_to_call: '+61288881111' });
    expect(r.status, r.text).toBe(200);
    const dev = await incoming;
    await eventually(() => dev.state === 'confirmed', 'ACK at the phone');
    await eventually(() => tracedRequests(uas.messages(), 'ACK').length > 0, 'ACK at the trunk');
    expect((await dev.bye())?.status).toBe(200);
    sippOk(await uas.done, 'TCP trunk UAS');
    const invite = tracedRequests(uas.messages(), 'INVITE')[0]!;
    expect(invite).toMatch(new RegExp(`^INVITE sip:\\+61288881111@127\\.0\\.0\\.1:${trunk}[;> ]`));
    expect(invite).toMatch(/\nVia: SIP\/2\.0\/TCP /i);
  });
});
