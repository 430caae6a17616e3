import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, makeHarness, type Harness } from './harness.js';
import { callId, groupCall, seedUserCalls, userCall } from './seed.js';

const BASE = '/api/integration/v2';
let h: Harness;

async function get(path: string) {
  const r = await h.app.inject({ url: `${BASE}/${path}`, headers: auth });
  return { status: r.statusCode, body: r.json() as { code: number; status: string; message: string; data: any } };
}

beforeAll(async () => {
  h = await makeHarness();
  // User 1001: 100 calls, one per hour from 2026-09-01T00:00Z (call k starts at hour k-1).
  const start = Date.parse('2026-09-01T00:00:00.000Z');
  await seedUserCalls(h.store, Array.from({ length: 100 }, (_, i) => userCall(i + 1, new Date(start + i * 3_600_000).toISOString())));
  // User 1002: calls around the Melbourne day boundaries of 2026-11-15 (AEDT, UTC+11) and the DST change day 2026-10-04.
  const edges: Array<[number, string]> = [
    [201, '2026-11-14T12:59:59.999Z'], // 23:59:59.999 on the 14th, Melbourne
    [202, '2026-11-14T13:00:00.000Z'], // 00:00 on the 15th
    [203, '2026-11-15T12:59:59.999Z'], // 23:59:59.999 on the 15th
    [204, '2026-11-15T13:00:00.000Z'], // 00:00 on the 16th
    [211, '2026-10-03T13:59:59.999Z'], // 23:59:59.999 on Oct 3 (AEST, UTC+10)
    [212, '2026-10-03T14:00:00.000Z'], // 00:00 on Oct 4 (DST starts at 02:00 that day)
    [213, '2026-10-04T12:59:59.999Z'], // 23:59:59.999 on Oct 4 (AEDT, UTC+11)
    [214, '2026-10-04T13:00:00.000Z'], // 00:00 on Oct 5
  ];
  await seedUserCalls(h.store, edges.map(([i, at]) => userCall(i, at, {
    user_number: '1002', user_name: 'Bob Jones', type: 'user_outbound_missed', connected_at: null, conversation_duration: 0,
    caller_id: '+61390000000', dest_number: '+61400000999',
  })));
  await h.store.commit({
    queueCalls: [groupCall(301, '2026-11-20T01:00:00.000Z', 'Support'), groupCall(302, '2026-11-20T02:00:00.000Z', 'Support', { status: 'abandoned', user_name: null, user_number: null, connected_at: null, conversation_duration: 0 }), groupCall(303, '2026-11-20T03:00:00.000Z', 'Billing')],
    ringGroupCalls: [groupCall(401, '2026-11-21T01:00:00.000Z', 'Sales'), groupCall(402, '2026-11-21T02:00:00.000Z', 'Sales Team')],
  });
});
afterAll(async () => h.close());

describe('get-user-calls', () => {
  it('answers the compat envelope with rows in exactly the SPEC §4 fields and order, numbers without +', async () => {
    const { status, body } = await get('get-user-calls?users_numbers=1002&limit=1');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['code', 'status', 'message', 'data']);
    expect(body.code).toBe(200);
    expect(body.status).toBe('success');
    expect(body.data).toHaveLength(1);
    expect(Object.keys(body.data[0])).toEqual(['unique_call_id', 'type', 'caller_id', 'caller_name', 'dest_number', 'user_name',
      'user_number', 'call_start_at', 'connected_at', 'call_duration', 'conversation_duration']);
    expect(body.data[0]).toEqual({
      unique_call_id: callId(204), type: 'user_outbound_missed', caller_id: '61390000000', caller_name: 'Caller', dest_number: '61400000999',
      user_name: 'Bob Jones', user_number: '1002', call_start_at: '2026-11-15T13:00:00.000Z', connected_at: null, call_duration: 60, conversation_duration: 0,
    });
  });

  it('MUST return calls 51–80 for offset=50&limit=30 of a user with 100 calls, newest first (SPEC §4 example)', async () => {
    const { body } = await get('get-user-calls?users_numbers=1001&offset=50&limit=30');
    expect(body.data).toHaveLength(30);
    // Newest first: rank r is call 101-r, so ranks 51..80 are calls 50 down to 21.
    expect(body.data.map((r: any) => r.unique_call_id)).toEqual(Array.from({ length: 30 }, (_, k) => callId(50 - k)));
  });

  it('MUST return calls 51–80 for offset=50&limit=30 in oldest_first order', async () => {
    const { body } = await get('get-user-calls?users_numbers=1001&offset=50&limit=30&sort_by=oldest_first');
    expect(body.data.map((r: any) => r.unique_call_id)).toEqual(Array.from({ length: 30 }, (_, k) => callId(51 + k)));
  });

  it('defaults to newest_first, offset 0, limit 100', async () => {
    const { body } = await get('get-user-calls');
    expect(body.data).toHaveLength(100);
    expect(body.data[0].unique_call_id).toBe(callId(204));
    const times = body.data.map((r: any) => r.call_start_at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('treats from_date/to_date as whole days in the PBX time zone (Australia/Melbourne, AEDT)', async () => {
    const { body } = await get('get-user-calls?users_numbers=1002&from_date=2026-11-15&to_date=2026-11-15&sort_by=oldest_first');
    expect(body.data.map((r: any) => r.unique_call_id)).toEqual([callId(202), callId(203)]);
  });

  it('handles the 23-hour day when daylight saving starts (2026-10-04 in Melbourne)', async () => {
    const { body } = await get('get-user-calls?users_numbers=1002&from_date=2026-10-04&to_date=2026-10-04&sort_by=oldest_first');
    expect(body.data.map((r: any) => r.unique_call_id)).toEqual([callId(212), callId(213)]);
  });

  it('accepts a range of several days and an open-ended range', async () => {
    expect((await get('get-user-calls?users_numbers=1002&from_date=2026-11-14&to_date=2026-11-16')).body.data).toHaveLength(4);
    expect((await get('get-user-calls?users_numbers=1002&from_date=2026-11-15')).body.data.map((r: any) => r.unique_call_id)).toEqual([callId(204), callId(203), callId(202)]);
    expect((await get('get-user-calls?users_numbers=1002&to_date=2026-10-03')).body.data.map((r: any) => r.unique_call_id)).toEqual([callId(211)]);
  });

  it('filters by a comma list of users and by unique_call_id', async () => {
    expect((await get('get-user-calls?users_numbers=1001,%201002&limit=10000')).body.data).toHaveLength(108);
    expect((await get('get-user-calls?users_numbers=1003')).body.data).toEqual([]);
    const one = await get(`get-user-calls?unique_call_id=${callId(42)}`);
    expect(one.body.data.map((r: any) => r.unique_call_id)).toEqual([callId(42)]);
  });

  it('ignores unknown parameters and empty values (compat)', async () => {
    const { status, body } = await get('get-user-calls?users_numbers=1002&foo=bar&page=3&from_date=&unique_call_id=');
    expect(status).toBe(200);
    expect(body.data).toHaveLength(8);
  });

  it.each([
    ['from_date=2026-13-01', 'from_date'],
    ['from_date=2026-02-30', 'from_date'],
    ['to_date=yesterday', 'to_date'],
    ['from_date=2026-11-16&to_date=2026-11-15', 'from_date'],
    ['offset=-1', 'offset'],
    ['offset=abc', 'offset'],
    ['offset=100001', 'offset'],
    ['offset=99999999999999999999', 'offset'],
    ['limit=0', 'limit'],
    ['limit=10001', 'limit'],
    ['limit=1.5', 'limit'],
    ['sort_by=random', 'sort_by'],
  ])('answers 400 naming the parameter for %s', async (query, name) => {
    const { status, body } = await get(`get-user-calls?${query}`);
    expect(status).toBe(400);
    expect(body.code).toBe(400);
    expect(body.status).toBe('error');
    expect(body.message).toContain(`'${name}'`);
    expect(body.data).toBeUndefined();
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('accepts offset up to 100000 (a bounded scan)', async () => {
    const { status, body } = await get('get-user-calls?offset=100000');
    expect(status).toBe(200);
    expect(body.data).toEqual([]);
  });

  it('accepts the limit bounds 1 and 10000', async () => {
    expect((await get('get-user-calls?limit=1')).body.data).toHaveLength(1);
    expect((await get('get-user-calls?limit=10000')).body.data).toHaveLength(108);
  });
});

describe('get-queue-calls and get-ringgroup-calls', () => {
  it('returns queue rows with callerid = caller_id, queue_name and status, in compat field order', async () => {
    const { status, body } = await get('get-queue-calls?queues_names=Support');
    expect(status).toBe(200);
    expect(body.data.map((r: any) => r.unique_call_id)).toEqual([callId(302), callId(301)]);
    expect(Object.keys(body.data[1])).toEqual(['unique_call_id', 'queue_name', 'caller_id', 'callerid', 'caller_name', 'dest_number',
      'user_name', 'user_number', 'call_start_at', 'connected_at', 'call_duration', 'conversation_duration', 'status']);
    expect(body.data[1]).toMatchObject({ queue_name: 'Support', caller_id: '61400000001', callerid: '61400000001', dest_number: '61390000001', status: 'answered', user_number: '1002' });
    expect(body.data[0]).toMatchObject({ status: 'abandoned', user_name: null, user_number: null, connected_at: null });
  });

  it('lists every queue without a filter and several with a comma list', async () => {
    expect((await get('get-queue-calls')).body.data).toHaveLength(3);
    expect((await get('get-queue-calls?queues_names=Support,Billing&sort_by=oldest_first')).body.data.map((r: any) => r.unique_call_id)).toEqual([callId(301), callId(302), callId(303)]);
  });

  it('returns ring group rows with ring_group_name; names may contain spaces', async () => {
    const { body } = await get('get-ringgroup-calls?ringgroups_names=Sales%20Team');
    expect(body.data).toHaveLength(1);
    expect(Object.keys(body.data[0])).toEqual(['unique_call_id', 'ring_group_name', 'caller_id', 'callerid', 'caller_name', 'dest_number',
      'user_name', 'user_number', 'call_start_at', 'connected_at', 'call_duration', 'conversation_duration', 'status']);
    expect(body.data[0].ring_group_name).toBe('Sales Team');
  });

  it('validates the same parameters (400 naming them)', async () => {
    const a = await get('get-queue-calls?limit=99999');
    expect(a.status).toBe(400);
    expect(a.body.message).toContain("'limit'");
    const b = await get('get-ringgroup-calls?from_date=2026-01-02&to_date=2026-01-01');
    expect(b.status).toBe(400);
    expect(b.body.message).toContain("'from_date'");
  });
});
