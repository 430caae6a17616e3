/**
 * Queue and ring group calls over the integration surface (SPEC.md §3 queue_call / ring_group_call, §4
 * get-queue-calls / get-ringgroup-calls): real calls to the demo DIDs +61390000002 (ring group Sales) and
 * +61390000001 (New lead → queue Support), answered by Alice's test phone or abandoned, then the history rows and
 * the webhook events say the same thing, in the compat format.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingCall } from '../../../src/sip/phone/index.js';
import { runSipp } from '../../support/sipp.js';
import { ISO_MS, V2 } from '../../support/integration-http.js';
import { eventually, sippOk, startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type Hook, type HookReceiver } from '../../support/integration-receiver.js';

const GROUP_ROW = ['unique_call_id', 'caller_id', 'callerid', 'caller_name', 'dest_number', 'user_name', 'user_number', 'call_start_at',
  'connected_at', 'call_duration', 'conversation_duration', 'status'];
const GROUP_EVENT = ['type', 'unique_call_id', 'caller_id', 'caller_name', 'user_name', 'user_number', 'dest_number', 'call_start_at',
  'connected_at', 'call_duration', 'conversation_duration', 'status', 'event_id', 'occurred_at', 'sequence'];

type Row = Record<string, unknown>;

describe('queue and ring group calls', () => {
  let pbx: IntegrationPbx;
  let rx: HookReceiver;
  const rowsOf = async (path: string, q: Record<string, string>) => {
    const r = await pbx.api.get<Row[]>(`${V2}/${path}`, q);
    expect(r.status, r.text).toBe(200);
    return r.json.data!;
  };
  const eventOf = async (type: string, id: string): Promise<Hook> =>
    (await rx.waitFor((h) => h.path === '/webhook' && h.body['type'] === type && h.body['unique_call_id'] === id, 1, `${type} of ${id}`))[0]!;

  beforeAll(async () => {
    rx = await startHookReceiver();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.webhook = { ...c.webhook, url: rx.url('/webhook'), enabled: true };
        Object.assign(c.flows.find((f) => f.id === 'new-lead')!.nodes[0]!, { url: rx.url('/lead') });
        const support = c.queues.find((q) => q.name === 'Support')!;
        support.max_wait_s = 2;
        support.agent_timeout_s = 5;
        support.next = null;
      },
    });
  });
  afterEach(async () => {
    await pbx.reset();
  });
  afterAll(async () => {
    await pbx?.close();
    await rx?.close();
  });

  it('a ring group call answered by Alice: get-ringgroup-calls row and ring_group_call event agree, compat fields', async () => {
    await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => { c.ring(); c.answer({ afterMs: 300 }); } });
    await pbx.phone('bob-desk', { onIncoming: (c: IncomingCall) => c.ring() });
    const caller = await runSipp({ scenario: 'uac-invite-bye.xml', target: pbx.sb.sipTarget, calls: 1, extra: ['-s', '+61390000002', '-d', '1200'] });
    sippOk(await caller.done, 'caller to the Sales ring group');
    const rows = await eventually(async () => {
      const r = await rowsOf('get-ringgroup-calls', {});
      return r.length === 1 && r[0]!['call_duration'] !== null ? r : undefined;
    }, 'ring group row');
    const row = rows[0]!;
    expect(Object.keys(row).sort()).toEqual([...GROUP_ROW, 'ring_group_name'].sort());
    expect(row).toMatchObject({
      ring_group_name: 'Sales', caller_id: '61355550100', callerid: '61355550100', caller_name: 'SIPp Caller', dest_number: '61390000002',
      user_name: 'Alice Smith', user_number: '1001', status: 'answered',
    });
    expect(row['call_start_at']).toMatch(ISO_MS);
    expect(row['connected_at']).toMatch(ISO_MS);
    expect(Number.isInteger(row['conversation_duration'])).toBe(true);
    expect(row['conversation_duration']).toBeGreaterThanOrEqual(1);
    const id = String(row['unique_call_id']);
    expect(await rowsOf('get-ringgroup-calls', { ringgroups_names: 'Sales' })).toHaveLength(1);
    expect(await rowsOf('get-ringgroup-calls', { ringgroups_names: 'Nope' })).toEqual([]);
    // The same unique_call_id in the user history of the member who answered.
    expect(await rowsOf('get-user-calls', { unique_call_id: id })).toContainEqual(expect.objectContaining({ unique_call_id: id, type: 'user_inbound_answered', user_number: '1001' }));

    const ev = await eventOf('ring_group_call', id);
    expect(Object.keys(ev.body).sort()).toEqual([...GROUP_EVENT, 'ring_group_name'].sort());
    for (const k of ['caller_id', 'caller_name', 'user_name', 'user_number', 'dest_number', 'call_start_at', 'connected_at', 'call_duration', 'conversation_duration', 'status', 'ring_group_name']) {
      expect(ev.body[k], k).toEqual(row[k]);
    }
    // Every member rang: each gets its user events, naming the ring group (SPEC §3 user_inbound: ring_group_name).
    await rx.waitFor((h) => h.body['unique_call_id'] === id && String(h.body['type']).startsWith('user_inbound'), 5, 'user events of both members');
    await new Promise((r) => setTimeout(r, 300));
    const userEvents = rx.hooks.filter((h) => h.body['unique_call_id'] === id && String(h.body['type']).startsWith('user_inbound'));
    const byUser = (n: string) => userEvents.filter((h) => h.body['user_number'] === n).map((h) => h.body['type']);
    expect(byUser('1001')).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed']);
    expect(byUser('1002')).toEqual(['user_inbound', 'user_inbound_completed']);
    for (const h of userEvents) expect(h.body, String(h.body['type'])).toMatchObject({ ring_group_name: 'Sales', queue_name: null });
    const bobDone = userEvents.find((h) => h.body['user_number'] === '1002' && h.body['type'] === 'user_inbound_completed')!;
    expect(bobDone.body).toMatchObject({ connected_at: null, user_name: 'Bob Jones' });
    // Bob's history shows the call as missed, Alice's as answered, under the same unique_call_id.
    const users = await rowsOf('get-user-calls', { unique_call_id: id, sort_by: 'oldest_first' });
    expect(users.map((r) => [r['user_number'], r['type']]).sort()).toEqual([['1001', 'user_inbound_answered'], ['1002', 'user_inbound_missed']]);
    const seqs = rx.hooks.filter((h) => h.body['unique_call_id'] === id).map((h) => h.body['sequence'] as number);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('a queue call answered by Alice, then one abandoned after max wait: get-queue-calls rows and queue_call events', async () => {
    await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.answer({ afterMs: 300 }) });
    const caller = await pbx.phone('61400333444', { register: false });
    const out = caller.call(`sip:+61390000001@${pbx.domain}`);
    await out.waitFor('answered', 10_000);
    await new Promise((r) => setTimeout(r, 1100));
    await out.bye();
    const answered = await eventually(async () => {
      const r = await rowsOf('get-queue-calls', { queues_names: 'Support' });
      return r.length === 1 && r[0]!['call_duration'] !== null ? r[0] : undefined;
    }, 'answered queue row');
    expect(Object.keys(answered).sort()).toEqual([...GROUP_ROW, 'queue_name'].sort());
    expect(answered).toMatchObject({
      queue_name: 'Support', caller_id: '61400333444', callerid: '61400333444', dest_number: '61390000001',
      user_name: 'Alice Smith', user_number: '1001', status: 'answered',
    });
    const ev = await eventOf('queue_call', String(answered['unique_call_id']));
    expect(Object.keys(ev.body).sort()).toEqual([...GROUP_EVENT, 'queue_name'].sort());
    expect(ev.body).toMatchObject({ queue_name: 'Support', status: 'answered', user_number: '1001', connected_at: answered['connected_at'] });
    const qid = String(answered['unique_call_id']);
    for (const type of ['user_inbound', 'user_inbound_answered', 'user_inbound_completed']) {
      const userEv = (await rx.waitFor((h) => h.body['type'] === type && h.body['unique_call_id'] === qid && h.body['user_number'] === '1001', 1, `${type} for 1001`))[0]!;
      expect(userEv.body, type).toMatchObject({ queue_name: 'Support', ring_group_name: null });
    }
    // The webhook object's event is the call's first; every event of the call has its own sequence number.
    const all = rx.hooks.filter((h) => h.body['unique_call_id'] === qid);
    expect(all.find((h) => h.path === '/lead')?.body['sequence']).toBe(1);
    const seqs = all.map((h) => h.body['sequence'] as number);
    expect(new Set(seqs).size).toBe(seqs.length);

    // Now nobody answers: after max_wait_s (2 s) the caller leaves and the queue call is abandoned.
    await pbx.reset();
    await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => c.ring() });
    const caller2 = await pbx.phone('61400333555', { register: false });
    const out2 = caller2.call(`sip:+61390000001@${pbx.domain}`);
    // The caller leaves the queue after max_wait_s and the flow hangs up on it: the PBX ends the call.
    expect(await out2.waitFor('ended', 10_000)).toMatchObject({ by: 'remote' });
    const abandoned = await eventually(async () => {
      const r = await rowsOf('get-queue-calls', { queues_names: 'Support', sort_by: 'newest_first' });
      return r.length === 2 && r[0]!['call_duration'] !== null ? r[0] : undefined;
    }, 'abandoned queue row');
    expect(abandoned).toMatchObject({ queue_name: 'Support', caller_id: '61400333555', status: 'abandoned', user_name: null, user_number: null, connected_at: null });
    expect(abandoned['call_duration']).toBeGreaterThanOrEqual(2);
    const ev2 = await eventOf('queue_call', String(abandoned['unique_call_id']));
    expect(ev2.body).toMatchObject({ status: 'abandoned', user_name: null, user_number: null, connected_at: null });
  });
});
