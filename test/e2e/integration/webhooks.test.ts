/**
 * Webhooks end to end (SPEC.md §3, issue 5): the global webhook is enabled through the admin API and applied;
 * a DID call answered by Alice's phone and hung up reaches a real node:http receiver as user_inbound,
 * user_inbound_answered, user_inbound_completed — in order, with exactly the compat fields plus event_id,
 * occurred_at and sequence, X-Pbx-Token and a Standard Webhooks signature verified here independently. A call
 * through the `New lead` webhook object reaches the object's own URL with its headers; only ticked event types
 * are sent; the delivery log lists every delivery and a redelivery re-sends with the same webhook-id.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOffer, type IncomingCall, type OutgoingCall } from '../../../src/sip/phone/index.js';
import { runSipp } from '../../support/sipp.js';
import { ADMIN, ISO_MS, V2 } from '../../support/integration-http.js';
import { eventually, sippOk, startIntegrationPbx, trunkPort, type IntegrationPbx } from '../../support/integration-pbx.js';
import { derivedSigningSecret, startHookReceiver, verifyStandardWebhook, type Hook, type HookReceiver } from '../../support/integration-receiver.js';

const GLOBAL_TOKEN = 'e2e-global-token';
const LEAD_TOKEN = 'e2e-lead-token';
const OURS = ['event_id', 'occurred_at', 'sequence'];
const INBOUND = ['type', 'unique_call_id', 'caller_id', 'caller_name', 'user_name', 'user_number', 'dest_number', 'call_start_at', 'queue_name', 'ring_group_name'];
const OUTBOUND = ['type', 'unique_call_id', 'caller_id', 'caller_name', 'user_name', 'user_number', 'dest_number', 'call_start_at'];
const FIELDS: Record<string, string[]> = {
  user_inbound: [...INBOUND, ...OURS].sort(),
  user_inbound_answered: [...INBOUND, 'connected_at', ...OURS].sort(),
  user_inbound_completed: [...INBOUND, 'connected_at', 'call_duration', 'conversation_duration', ...OURS].sort(),
  user_outbound: [...OUTBOUND, ...OURS].sort(),
  user_outbound_answered: [...OUTBOUND, 'connected_at', ...OURS].sort(),
  user_outbound_completed: [...OUTBOUND, 'connected_at', 'call_duration', 'conversation_duration', ...OURS].sort(),
  webhook_component_event: ['type', 'unique_call_id', 'user_name', 'user_number', 'dest_number', 'call_start_at', 'component_name', ...OURS].sort(),
};

interface Delivery {
  delivery_id: string; event_id: string; endpoint_url: string; unique_call_id: string | null; type: string; sequence: number;
  status: string; attempts: number; last_status_code: number | null; last_error: string | null;
}

describe('webhooks end to end', () => {
  let pbx: IntegrationPbx;
  let rx: HookReceiver;
  let callId = '';
  let trunk = 0;
  const globalHooks = (id: string): Hook[] => rx.hooks.filter((h) => h.path === '/webhook' && h.body['unique_call_id'] === id);

  /** A SIPp call to the main DID, answered by Alice's desk phone, hung up by the caller after `talkMs`. */
  async function answeredDidCall(talkMs: number): Promise<void> {
    await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => { c.ring(); c.answer({ afterMs: 200 }); } });
    const caller = await runSipp({ scenario: 'uac-invite-bye.xml', target: pbx.sb.sipTarget, calls: 1, extra: ['-s', '+61390000000', '-d', String(talkMs)] });
    sippOk(await caller.done, 'DID caller');
  }

  beforeAll(async () => {
    rx = await startHookReceiver();
    trunk = await trunkPort();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.trunks[0]!.port = trunk;
        c.users.find((u) => u.number === '1001')!.caller_id = '+61390000000';
        const lead = c.flows.find((f) => f.id === 'new-lead')!.nodes[0]!;
        Object.assign(lead, { url: rx.url('/lead'), secret_token: LEAD_TOKEN, headers: { 'X-Tenant': 'demo', 'X-Source': 'switchboard-e2e' } });
      },
    });
    // Enable the global webhook through the admin API and apply it (the demo ships it disabled).
    const patched = await pbx.api.send('PATCH', `${ADMIN}/webhook`, { url: rx.url('/webhook'), secret_token: GLOBAL_TOKEN, enabled: true });
    expect(patched.status, patched.text).toBe(200);
    const applied = await pbx.api.post(`${ADMIN}/apply`);
    expect(applied.status, applied.text).toBe(200);
  }, 30_000);
  afterEach(async () => {
    await pbx.reset();
  });
  afterAll(async () => {
    await pbx?.close();
    await rx?.close();
  });

  it('delivers user_inbound, user_inbound_answered, user_inbound_completed in order, exact fields, token and valid signature', async () => {
    const startedAt = Date.now();
    await answeredDidCall(1200);
    const first = await rx.waitFor((h) => h.path === '/webhook' && h.body['type'] === 'user_inbound', 1, 'user_inbound');
    callId = String(first[0]!.body['unique_call_id']);
    expect(callId).toMatch(/^\d+$/);
    await rx.waitFor((h) => h.path === '/webhook' && h.body['unique_call_id'] === callId, 3, 'three lifecycle events');
    await new Promise((r) => setTimeout(r, 300));
    const hooks = globalHooks(callId);
    expect(hooks.map((h) => h.body['type'])).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
    expect(hooks.map((h) => h.body['sequence'])).toEqual([1, 2, 3]);

    const secret = derivedSigningSecret(GLOBAL_TOKEN);
    for (const h of hooks) {
      const type = String(h.body['type']);
      expect(Object.keys(h.body).sort(), type).toEqual(FIELDS[type]);
      expect(h.body).toMatchObject({
        unique_call_id: callId, caller_id: '61355550100', caller_name: 'SIPp Caller', user_name: 'Alice Smith', user_number: '1001',
        dest_number: '61390000000', queue_name: null, ring_group_name: null,
      });
      expect(h.body['call_start_at']).toMatch(ISO_MS);
      expect(h.body['occurred_at']).toMatch(ISO_MS);
      expect(h.body['call_start_at']).toBe(hooks[0]!.body['call_start_at']);
      expect(h.headers['content-type']).toMatch(/^application\/json/);
      expect(h.headers['x-pbx-token']).toBe(GLOBAL_TOKEN);
      expect(h.headers['user-agent']).toMatch(/Switchboard/i);
      expect(h.headers['webhook-id']).toBeTruthy();
      const ts = Number(h.headers['webhook-timestamp']);
      expect(Number.isInteger(ts)).toBe(true);
      expect(Math.abs(ts * 1000 - Date.now())).toBeLessThan(60_000);
      expect(verifyStandardWebhook(secret, h.headers, h.raw), `${type}: signature`).toBe(true);
      expect(verifyStandardWebhook(derivedSigningSecret('another-token'), h.headers, h.raw)).toBe(false);
      expect(verifyStandardWebhook(secret, h.headers, h.raw.replace('Alice', 'Alicf'))).toBe(false);
    }
    expect(new Set(hooks.map((h) => h.body['event_id'])).size).toBe(3);
    expect(new Set(hooks.map((h) => h.headers['webhook-id'])).size).toBe(3);
    const [, answered, completed] = hooks as [Hook, Hook, Hook];
    expect(answered.body['connected_at']).toMatch(ISO_MS);
    expect(Date.parse(String(answered.body['connected_at']))).toBeGreaterThanOrEqual(Date.parse(String(hooks[0]!.body['call_start_at'])));
    expect(Date.parse(String(hooks[0]!.body['call_start_at']))).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(completed.body['connected_at']).toBe(answered.body['connected_at']);
    expect(Number.isInteger(completed.body['call_duration'])).toBe(true);
    expect(Number.isInteger(completed.body['conversation_duration'])).toBe(true);
    expect(completed.body['conversation_duration']).toBeGreaterThanOrEqual(1);
    expect(completed.body['call_duration']).toBeGreaterThanOrEqual(completed.body['conversation_duration'] as number);

    // The history API tells the same story as the events.
    const row = await eventually(async () => (await pbx.api.get<Array<Record<string, unknown>>>(`${V2}/get-user-calls`, { unique_call_id: callId })).json.data?.[0], 'history row');
    const pick = (o: Record<string, unknown>) => ({
      unique_call_id: o['unique_call_id'], caller_id: o['caller_id'], caller_name: o['caller_name'], dest_number: o['dest_number'], user_name: o['user_name'],
      user_number: o['user_number'], call_start_at: o['call_start_at'], connected_at: o['connected_at'], call_duration: o['call_duration'], conversation_duration: o['conversation_duration'],
    });
    expect(row['type']).toBe('user_inbound_answered');
    expect(pick(row)).toEqual(pick(completed.body));
  });

  it('lists the deliveries in the admin delivery log, and a redelivery re-sends with the same webhook-id', async () => {
    expect(callId).not.toBe('');
    const r = await pbx.api.get<Delivery[]>(`${ADMIN}/webhooks/deliveries`, { unique_call_id: callId });
    expect(r.status, r.text).toBe(200);
    const list = r.json.data!;
    expect(list.map((d) => d.type).sort()).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
    for (const d of list) {
      expect(d).toMatchObject({ endpoint_url: rx.url('/webhook'), unique_call_id: callId, status: 'succeeded', attempts: 1, last_status_code: 200 });
    }
    const hooks = globalHooks(callId);
    expect(list.map((d) => d.delivery_id).sort()).toEqual(hooks.map((h) => String(h.headers['webhook-id'])).sort());
    const inbound = list.find((d) => d.type === 'user_inbound')!;
    const one = await pbx.api.get<{ delivery: Delivery; attempts: Array<{ status_code: number | null }> }>(`${ADMIN}/webhooks/deliveries/${inbound.delivery_id}`);
    expect(one.status).toBe(200);
    expect(one.json.data!.attempts.map((a) => a.status_code)).toEqual([200]);

    const original = hooks.find((h) => h.body['type'] === 'user_inbound')!;
    const before = rx.hooks.length;
    const redo = await pbx.api.post(`${ADMIN}/webhooks/deliveries/${inbound.delivery_id}/redeliver`);
    expect(redo.status, redo.text).toBe(200);
    expect(redo.json.data).toMatchObject({ count: 1, delivery_ids: [inbound.delivery_id] });
    await rx.waitFor((h) => h.headers['webhook-id'] === inbound.delivery_id, 2, 'the redelivery');
    const again = rx.hooks.slice(before).find((h) => h.headers['webhook-id'] === inbound.delivery_id)!;
    expect(again.body).toEqual(original.body);
    expect(again.headers['x-pbx-token']).toBe(GLOBAL_TOKEN);
    expect(verifyStandardWebhook(derivedSigningSecret(GLOBAL_TOKEN), again.headers, again.raw)).toBe(true);
    await eventually(async () => {
      const d = await pbx.api.get<{ delivery: Delivery }>(`${ADMIN}/webhooks/deliveries/${inbound.delivery_id}`);
      return d.json.data!.delivery.attempts === 2 && d.json.data!.delivery.status === 'succeeded';
    }, 'second attempt logged');

    // A range redelivery: every succeeded delivery of this call to the endpoint, each with its own webhook-id again.
    const mark = rx.hooks.length;
    const range = await pbx.api.post<{ count: number; delivery_ids: string[] }>(`${ADMIN}/webhooks/redeliver`, { endpoint: rx.url('/webhook'), status: 'succeeded', unique_call_id: callId });
    expect(range.status, range.text).toBe(200);
    expect(range.json.data!.count).toBe(3);
    expect([...range.json.data!.delivery_ids].sort()).toEqual(list.map((d) => d.delivery_id).sort());
    await rx.waitFor((h) => rx.hooks.indexOf(h) >= mark && h.body['unique_call_id'] === callId, 3, 'range redelivery');
    const resent = rx.hooks.slice(mark).filter((h) => h.body['unique_call_id'] === callId);
    expect(resent.map((h) => String(h.headers['webhook-id'])).sort()).toEqual(list.map((d) => d.delivery_id).sort());
    for (const h of resent) expect(verifyStandardWebhook(derivedSigningSecret(GLOBAL_TOKEN), h.headers, h.raw)).toBe(true);
  });

  it('a call through the New lead webhook object sends webhook_component_event to the object\'s URL with its headers', async () => {
    const caller = await pbx.phone('61400777888', { register: false });
    const before = rx.hooks.length;
    const out: OutgoingCall = caller.call(`sip:+61390000001@${pbx.domain}`);
    const [hook] = await rx.waitFor((h) => h.path === '/lead', 1, 'component event');
    if (out.state !== 'ended') {
      if (out.state === 'confirmed' || out.state === 'answered') await out.bye();
      else out.cancel();
    }
    expect(Object.keys(hook!.body).sort()).toEqual(FIELDS['webhook_component_event']);
    expect(hook!.body).toMatchObject({
      type: 'webhook_component_event', user_name: null, user_number: '61400777888', dest_number: '61390000001', component_name: 'New lead', sequence: 1,
    });
    expect(hook!.body['unique_call_id']).toMatch(/^\d+$/);
    expect(hook!.body['call_start_at']).toMatch(ISO_MS);
    expect(hook!.headers['x-pbx-token']).toBe(LEAD_TOKEN);
    expect(hook!.headers['x-tenant']).toBe('demo');
    expect(hook!.headers['x-source']).toBe('switchboard-e2e');
    expect(verifyStandardWebhook(derivedSigningSecret(LEAD_TOKEN), hook!.headers, hook!.raw)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    // The component event goes only to the object's URL, never to the global webhook.
    expect(rx.hooks.slice(before).filter((h) => h.path !== '/lead').map((h) => h.body['type'])).not.toContain('webhook_component_event');
  });

  it('a click-to-call sends user_outbound, user_outbound_answered, user_outbound_completed with the API\'s unique_call_id', async () => {
    await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.answer({ afterMs: 200, sdp: createOffer({ address: '127.0.0.1', port: 31002 }) }) });
    const uas = await runSipp({ scenario: 'uas-answer-then-bye.xml', port: trunk, calls: 1, extra: ['-d', '1100'] });
    const r = await pbx.api.post<{ unique_call_id: string }>(`${V2}/call-to-number`, { user_number: '1001', number_to_call: '+61288887777' });
    expect(r.status, r.text).toBe(200);
    const id = r.json.data!.unique_call_id;
    sippOk(await uas.done, 'trunk');
    await rx.waitFor((h) => h.path === '/webhook' && h.body['unique_call_id'] === id, 3, 'outbound events');
    await new Promise((res) => setTimeout(res, 300));
    const hooks = globalHooks(id);
    expect(hooks.map((h) => h.body['type'])).toEqual(['user_outbound', 'user_outbound_answered', 'user_outbound_completed']);
    expect(hooks.map((h) => h.body['sequence'])).toEqual([1, 2, 3]);
    for (const h of hooks) {
      expect(Object.keys(h.body).sort(), String(h.body['type'])).toEqual(FIELDS[String(h.body['type'])]);
      expect(h.body).toMatchObject({ caller_id: '61390000000', caller_name: 'Alice Smith', user_name: 'Alice Smith', user_number: '1001', dest_number: '61288887777' });
      expect(verifyStandardWebhook(derivedSigningSecret(GLOBAL_TOKEN), h.headers, h.raw)).toBe(true);
    }
    expect(hooks[2]!.body['conversation_duration']).toBeGreaterThanOrEqual(1);
  });

  it('a DID call the caller cancels while it rings sends user_inbound then user_inbound_completed with connected_at null', async () => {
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.ring() });
    const caller = await pbx.phone('61400222333', { register: false });
    const deskIn = desk.waitForIncoming();
    const out = caller.call(`sip:+61390000000@${pbx.domain}`);
    const ringing = await deskIn;
    await new Promise((r) => setTimeout(r, 1100));
    out.cancel();
    await ringing.waitFor('cancelled', 5000);
    const [done] = await rx.waitFor((h) => h.path === '/webhook' && h.body['type'] === 'user_inbound_completed' && h.body['caller_id'] === '61400222333', 1, 'completed');
    const id = String(done!.body['unique_call_id']);
    await new Promise((r) => setTimeout(r, 300));
    const hooks = globalHooks(id);
    expect(hooks.map((h) => h.body['type'])).toEqual(['user_inbound', 'user_inbound_completed']);
    expect(hooks.map((h) => h.body['sequence'])).toEqual([1, 2]);
    expect(Object.keys(done!.body).sort()).toEqual(FIELDS['user_inbound_completed']);
    expect(done!.body).toMatchObject({ connected_at: null, user_number: '1001', dest_number: '61390000000', caller_name: null });
    expect(Number.isInteger(done!.body['call_duration'])).toBe(true);
    expect(done!.body['call_duration']).toBeGreaterThanOrEqual(1);
    expect([0, null]).toContain(done!.body['conversation_duration']);
    const row = await eventually(async () => (await pbx.api.get<Array<Record<string, unknown>>>(`${V2}/get-user-calls`, { unique_call_id: id })).json.data?.[0], 'history row');
    expect(row).toMatchObject({ type: 'user_inbound_missed', connected_at: null, call_duration: done!.body['call_duration'] });
  });

  it('retries a 500 with the same webhook-id and a fresh valid signature; the log shows both attempts', async () => {
    const tuned = await pbx.api.send('PATCH', `${ADMIN}/delivery`, { retry_schedule_s: [1] });
    expect(tuned.status, tuned.text).toBe(200);
    expect((await pbx.api.post(`${ADMIN}/apply`)).status).toBe(200);
    const failedOnce = new Set<string>();
    rx.status = (h) => {
      const id = String(h.headers['webhook-id']);
      if (h.path !== '/webhook' || h.body['type'] !== 'user_inbound' || failedOnce.has(id)) return 200;
      failedOnce.add(id);
      return 500;
    };
    try {
      const known = new Set(rx.hooks.map((h) => h.body['unique_call_id']));
      await answeredDidCall(200);
      const tries = await rx.waitFor((h) => h.path === '/webhook' && h.body['type'] === 'user_inbound' && !known.has(h.body['unique_call_id']), 2, 'the retry');
      const [first, second] = tries as [Hook, Hook];
      expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(second.raw).toBe(first.raw);
      expect(verifyStandardWebhook(derivedSigningSecret(GLOBAL_TOKEN), second.headers, second.raw)).toBe(true);
      const id = String(first.headers['webhook-id']);
      const d = await eventually(async () => {
        const r = await pbx.api.get<{ delivery: Delivery; attempts: Array<{ status_code: number | null }> }>(`${ADMIN}/webhooks/deliveries/${id}`);
        return r.json.data?.delivery.status === 'succeeded' ? r.json.data : undefined;
      }, 'delivery succeeded');
      expect(d.delivery.attempts).toBe(2);
      expect(d.attempts.map((a) => a.status_code)).toEqual([500, 200]);
      // Later events of the call were not delivered before the retried earlier one.
      const callId2 = String(first.body['unique_call_id']);
      // The answered event waits for the retried one (ordering), so it may arrive after the delivery reads succeeded.
      await rx.waitFor((h) => h.path === '/webhook' && h.body['unique_call_id'] === callId2 && h.body['type'] === 'user_inbound_answered', 1, 'user_inbound_answered after the retry');
      const order = rx.hooks.filter((h) => h.path === '/webhook' && h.body['unique_call_id'] === callId2).map((h) => h.body['type']);
      expect(order.indexOf('user_inbound_answered')).toBeGreaterThan(order.lastIndexOf('user_inbound'));
    } finally {
      rx.status = () => 200;
    }
  });

  it('sends only the ticked event types to the global webhook, signed with a configured signing secret', async () => {
    const signing = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const patched = await pbx.api.send('PATCH', `${ADMIN}/webhook`, { events: ['user_inbound_completed'], signing_secret: signing });
    expect(patched.status, patched.text).toBe(200);
    expect((await pbx.api.post(`${ADMIN}/apply`)).status).toBe(200);
    const known = new Set(rx.hooks.map((h) => h.body['unique_call_id']));
    await answeredDidCall(200);
    const [done] = await rx.waitFor((h) => h.path === '/webhook' && h.body['type'] === 'user_inbound_completed' && !known.has(h.body['unique_call_id']), 1, 'completed event');
    const id = String(done!.body['unique_call_id']);
    await new Promise((r) => setTimeout(r, 500));
    expect(globalHooks(id).map((h) => h.body['type'])).toEqual(['user_inbound_completed']);
    expect(verifyStandardWebhook(signing, done!.headers, done!.raw)).toBe(true);
    expect(verifyStandardWebhook(derivedSigningSecret(GLOBAL_TOKEN), done!.headers, done!.raw)).toBe(false);
    // Unticked types are not even queued for the endpoint.
    const log = await pbx.api.get<Delivery[]>(`${ADMIN}/webhooks/deliveries`, { unique_call_id: id });
    expect(log.json.data!.map((d) => d.type)).toEqual(['user_inbound_completed']);
  });
});
