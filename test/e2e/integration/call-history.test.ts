/**
 * Call history end to end (SPEC.md §4 get-user-calls, issue 6): real calls through the running PBX — a SIPp caller
 * to the DID answered by Alice's registered desk phone, a SIPp caller nobody answers within a shortened ring
 * timeout, and an outbound call from Bob's authenticated device through a SIPp trunk — then get-user-calls over
 * HTTP returns exactly those calls, in the compat row format, and its filters, sort orders and paging hold.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingCall } from '../../../src/sip/phone/index.js';
import { runSipp } from '../../support/sipp.js';
import { ISO_MS, V2 } from '../../support/integration-http.js';
import { eventually, sippOk, startIntegrationPbx, trunkPort, type IntegrationPbx } from '../../support/integration-pbx.js';

const ZONE = 'Australia/Melbourne';
const ROW_KEYS = ['call_duration', 'call_start_at', 'caller_id', 'caller_name', 'connected_at', 'conversation_duration',
  'dest_number', 'type', 'unique_call_id', 'user_name', 'user_number'].sort();

interface Row {
  unique_call_id: string; type: string; caller_id: string | null; caller_name: string | null; dest_number: string | null;
  user_name: string; user_number: string; call_start_at: string; connected_at: string | null;
  call_duration: number | null; conversation_duration: number | null;
}

describe('call history end to end', () => {
  let pbx: IntegrationPbx;
  let trunk: number;
  const placed: Array<{ kind: 'answered' | 'missed' | 'outbound'; before: number; after: number }> = [];
  let rows: Row[] = [];

  const userCalls = async (query: Record<string, string | number | undefined> = {}) => {
    const r = await pbx.api.get<Row[]>(`${V2}/get-user-calls`, query);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ code: 200, status: 'success' });
    return r.json.data!;
  };
  const bad = async (query: Record<string, string | number>, param: string) => {
    const r = await pbx.api.get(`${V2}/get-user-calls`, query);
    expect(r.status, `${JSON.stringify(query)} → ${r.text}`).toBe(400);
    expect(r.json).toMatchObject({ code: 400, status: 'error' });
    expect(r.json.message).toContain(param);
  };
  const ids = (rs: Row[]) => rs.map((r) => r.unique_call_id);

  beforeAll(async () => {
    trunk = await trunkPort();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.trunks[0]!.port = trunk;
        const flow = c.flows.find((f) => f.id === 'alice-direct')!;
        // A short ring and no voicemail after it: nobody answering is a 480 to the caller after 2 s.
        flow.nodes[0] = { ...flow.nodes[0]!, ring_timeout_s: 2, next: null } as (typeof flow.nodes)[number];
        flow.nodes.splice(1);
        const alice = c.users.find((u) => u.number === '1001')!;
        alice.voicemail.enabled = false;
        const bob = c.users.find((u) => u.number === '1002')!;
        bob.record = 'none';
        bob.caller_id = '+61390000002';
      },
    });

    // 1. Inbound, answered: SIPp calls the DID, Alice's desk phone rings and answers, SIPp hangs up after 1.5 s.
    const desk = await pbx.phone('alice-desk', { onIncoming: (c: IncomingCall) => { c.ring(); c.answer({ afterMs: 300 }); } });
    let before = Date.now();
    const caller = await runSipp({ scenario: 'uac-invite-bye.xml', target: pbx.sb.sipTarget, calls: 1, extra: ['-s', '+61390000000', '-d', '1500'] });
    sippOk(await caller.done, 'answered DID call');
    placed.push({ kind: 'answered', before, after: Date.now() });

    // 2. Inbound, missed: nobody answers within the 2 s ring timeout.
    desk.onIncoming = (c: IncomingCall) => c.ring();
    before = Date.now();
    const missed = await runSipp({ scenario: 'int-uac-unanswered.xml', target: pbx.sb.sipTarget, calls: 1, extra: ['-s', '+61390000000'] });
    sippOk(await missed.done, 'unanswered DID call');
    placed.push({ kind: 'missed', before, after: Date.now() });

    // 3. Outbound: Bob's desk phone (digest-authenticated) dials an external number; the SIPp trunk answers.
    const bobDesk = await pbx.phone('bob-desk');
    const uas = await runSipp({ scenario: 'uas-answer.xml', port: trunk, calls: 1, extra: ['-d', '200'] });
    before = Date.now();
    const out = bobDesk.call(`sip:+61299998888@${pbx.domain}`);
    await out.waitFor('answered', 8000);
    await new Promise((r) => setTimeout(r, 1200));
    await out.bye();
    sippOk(await uas.done, 'trunk UAS');
    placed.push({ kind: 'outbound', before, after: Date.now() });

    rows = await eventually(async () => {
      const r = await userCalls({ sort_by: 'oldest_first' });
      return r.length === 3 && r.every((x) => x.call_duration !== null) ? r : undefined;
    }, 'three finished calls in the history');
  }, 60_000);

  afterAll(async () => {
    await pbx?.close();
  });

  it('returns exactly the three calls, oldest first, with the right types and compat row fields', () => {
    expect(rows.map((r) => r.type)).toEqual(['user_inbound_answered', 'user_inbound_missed', 'user_outbound_answered']);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual(ROW_KEYS);
      expect(r.unique_call_id).toMatch(/^\d+$/);
    }
    expect(new Set(ids(rows)).size).toBe(3);
    const [answered, missed, outbound] = rows as [Row, Row, Row];
    expect(answered).toMatchObject({ caller_id: '61355550100', caller_name: 'SIPp Caller', dest_number: '61390000000', user_name: 'Alice Smith', user_number: '1001' });
    expect(missed).toMatchObject({ caller_id: '61355550100', caller_name: 'SIPp Caller', dest_number: '61390000000', user_name: 'Alice Smith', user_number: '1001', connected_at: null });
    expect(outbound).toMatchObject({ caller_id: '61390000002', caller_name: 'Bob Jones', dest_number: '61299998888', user_name: 'Bob Jones', user_number: '1002' });
  });

  it('writes numbers without +, times as ISO 8601 UTC with ms inside the call, durations as integer seconds', () => {
    for (const [i, r] of rows.entries()) {
      for (const n of [r.caller_id, r.dest_number, r.user_number]) expect(n).toMatch(/^\d+$/);
      expect(r.call_start_at).toMatch(ISO_MS);
      const start = Date.parse(r.call_start_at);
      expect(start).toBeGreaterThanOrEqual(placed[i]!.before - 1000);
      expect(start).toBeLessThanOrEqual(placed[i]!.after);
      expect(Number.isInteger(r.call_duration)).toBe(true);
      expect(r.call_duration).toBeLessThanOrEqual(Math.ceil((placed[i]!.after - placed[i]!.before) / 1000) + 1);
      if (r.connected_at !== null) {
        expect(r.connected_at).toMatch(ISO_MS);
        expect(Date.parse(r.connected_at)).toBeGreaterThanOrEqual(start);
        expect(Number.isInteger(r.conversation_duration)).toBe(true);
        expect(r.call_duration).toBeGreaterThanOrEqual(r.conversation_duration!);
      }
    }
    const [answered, missed, outbound] = rows as [Row, Row, Row];
    expect(answered.conversation_duration).toBeGreaterThanOrEqual(1);
    expect(answered.conversation_duration).toBeLessThanOrEqual(2);
    expect(outbound.conversation_duration).toBeGreaterThanOrEqual(1);
    expect(outbound.conversation_duration).toBeLessThanOrEqual(2);
    // The missed call rang for the 2 s ring timeout and was never connected.
    expect(missed.call_duration).toBeGreaterThanOrEqual(2);
    expect(missed.call_duration).toBeLessThanOrEqual(3);
    expect([0, null]).toContain(missed.conversation_duration);
  });

  it('sorts newest first by default and oldest first on request', async () => {
    expect(ids(await userCalls())).toEqual(ids(rows).reverse());
    expect(ids(await userCalls({ sort_by: 'newest_first' }))).toEqual(ids(rows).reverse());
    expect(ids(await userCalls({ sort_by: 'oldest_first' }))).toEqual(ids(rows));
  });

  it('pages with offset and limit in the chosen order', async () => {
    expect(ids(await userCalls({ offset: 1, limit: 1 }))).toEqual([rows[1]!.unique_call_id]);
    expect(ids(await userCalls({ sort_by: 'oldest_first', offset: 0, limit: 2 }))).toEqual(ids(rows).slice(0, 2));
    expect(ids(await userCalls({ sort_by: 'newest_first', offset: 2, limit: 10 }))).toEqual([rows[0]!.unique_call_id]);
    expect(await userCalls({ offset: 3 })).toEqual([]);
  });

  it('filters by users_numbers (one, several) and unique_call_id', async () => {
    expect(ids(await userCalls({ users_numbers: '1001', sort_by: 'oldest_first' }))).toEqual(ids(rows).slice(0, 2));
    expect(ids(await userCalls({ users_numbers: '1002' }))).toEqual([rows[2]!.unique_call_id]);
    expect(ids(await userCalls({ users_numbers: '1001,1002', sort_by: 'oldest_first' }))).toEqual(ids(rows));
    expect(await userCalls({ users_numbers: '1009' })).toEqual([]);
    const one = await userCalls({ unique_call_id: rows[1]!.unique_call_id });
    expect(one).toEqual([rows[1]]);
    expect(await userCalls({ unique_call_id: '1' })).toEqual([]);
  });

  it('filters by from_date/to_date as whole days in Australia/Melbourne', async () => {
    const days = rows.map((r) => DateTime.fromISO(r.call_start_at, { zone: 'utc' }).setZone(ZONE).toISODate()!);
    const first = days[0]!;
    const last = days[days.length - 1]!;
    expect(ids(await userCalls({ from_date: first, to_date: last, sort_by: 'oldest_first' }))).toEqual(ids(rows));
    const dayAfter = DateTime.fromISO(last, { zone: ZONE }).plus({ days: 1 }).toISODate()!;
    const dayBefore = DateTime.fromISO(first, { zone: ZONE }).minus({ days: 1 }).toISODate()!;
    expect(await userCalls({ from_date: dayAfter })).toEqual([]);
    expect(await userCalls({ to_date: dayBefore })).toEqual([]);
    expect(ids(await userCalls({ from_date: dayBefore, sort_by: 'oldest_first' }))).toEqual(ids(rows));
    // The UTC date of a call can differ from its Melbourne date (UTC+10/+11): the filter must use Melbourne's.
    const utcDay = rows[0]!.call_start_at.slice(0, 10);
    if (utcDay !== first) expect(await userCalls({ from_date: utcDay, to_date: utcDay, users_numbers: '1001' })).not.toContainEqual(rows[0]);
  });

  it('ignores unknown parameters and treats an empty value as absent (compat)', async () => {
    expect(ids(await userCalls({ foo: 'bar', page: 7, sort_by: 'oldest_first' }))).toEqual(ids(rows));
    expect(ids(await userCalls({ from_date: '', to_date: '', users_numbers: '', unique_call_id: '', sort_by: 'oldest_first' }))).toEqual(ids(rows));
  });

  it('answers 400 naming the parameter for bad dates, bad ranges, bad sort, offset and limit', async () => {
    await bad({ from_date: '2026-13-01' }, 'from_date');
    await bad({ to_date: 'yesterday' }, 'to_date');
    await bad({ from_date: '2026-11-20', to_date: '2026-11-10' }, 'from_date');
    await bad({ sort_by: 'random' }, 'sort_by');
    await bad({ offset: -1 }, 'offset');
    await bad({ limit: 0 }, 'limit');
    await bad({ limit: 10001 }, 'limit');
    await bad({ limit: 'abc' }, 'limit');
    await bad({ offset: '1.5' }, 'offset');
    await bad({ from_date: '2026-02-30' }, 'from_date');
    await bad({ from_date: '28/11/2026' }, 'from_date');
  });

  // Last in this file: it changes the PBX time zone.
  it('interprets from_date/to_date in the time zone of the live configuration after an apply changes it', async () => {
    const dayIn = (zone: string, iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).toISODate()!;
    const patched = await pbx.api.send('PATCH', '/api/admin/pbx', { time_zone: 'America/Los_Angeles' });
    expect(patched.status, patched.text).toBe(200);
    expect((await pbx.api.post('/api/admin/apply')).status).toBe(200);
    for (const r of rows) {
      const la = dayIn('America/Los_Angeles', r.call_start_at);
      expect(ids(await userCalls({ from_date: la, to_date: la, unique_call_id: r.unique_call_id }))).toEqual([r.unique_call_id]);
      const mel = dayIn(ZONE, r.call_start_at);
      // Melbourne is 17-19 hours ahead of Los Angeles: the days differ except in Los Angeles's early morning.
      if (mel !== la) expect(await userCalls({ from_date: mel, to_date: mel, unique_call_id: r.unique_call_id })).toEqual([]);
    }
  });
});
