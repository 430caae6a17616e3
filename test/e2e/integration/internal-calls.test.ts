/**
 * An internal call (SPEC.md §2: a device may call another extension directly) over the integration surface: Alice's
 * desk phone dials 1002, Bob's desk phone answers. The history shows the call for both users under one
 * unique_call_id (outbound for Alice, inbound for Bob) and the webhook gets both sides' lifecycle events with one
 * per-call sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingCall } from '../../../src/sip/phone/index.js';
import { V2 } from '../../support/integration-http.js';
import { eventually, startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';

type Row = Record<string, unknown>;

describe('internal calls', () => {
  let pbx: IntegrationPbx;
  let rx: HookReceiver;

  beforeAll(async () => {
    rx = await startHookReceiver();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.webhook = { ...c.webhook, url: rx.url('/webhook'), enabled: true };
        c.users.find((u) => u.number === '1002')!.record = 'none';
      },
    });
  });
  afterAll(async () => {
    await pbx?.close();
    await rx?.close();
  });

  it('Alice calls 1002 and Bob answers: one unique_call_id in both users\' history and in every event', async () => {
    const alice = await pbx.phone('alice-desk');
    await pbx.phone('bob-desk', { onIncoming: (c: IncomingCall) => c.answer({ afterMs: 200 }) });
    const out = alice.call(`sip:1002@${pbx.domain}`);
    await out.waitFor('answered', 8000);
    await new Promise((r) => setTimeout(r, 1100));
    await out.bye();

    const rows = await eventually(async () => {
      const r = await pbx.api.get<Row[]>(`${V2}/get-user-calls`, { sort_by: 'oldest_first' });
      const data = r.json.data ?? [];
      return data.length >= 2 && data.every((x) => x['call_duration'] !== null) ? data : undefined;
    }, 'history rows of both users');
    expect(rows).toHaveLength(2);
    const id = rows[0]!['unique_call_id'];
    expect(rows.every((r) => r['unique_call_id'] === id)).toBe(true);
    const aliceRow = (await pbx.api.get<Row[]>(`${V2}/get-user-calls`, { users_numbers: '1001' })).json.data!;
    const bobRow = (await pbx.api.get<Row[]>(`${V2}/get-user-calls`, { users_numbers: '1002' })).json.data!;
    expect(aliceRow).toEqual([expect.objectContaining({ type: 'user_outbound_answered', user_number: '1001', user_name: 'Alice Smith', dest_number: '1002' })]);
    expect(bobRow).toEqual([expect.objectContaining({ type: 'user_inbound_answered', user_number: '1002', user_name: 'Bob Jones', caller_id: '1001' })]);

    const hooks = await rx.waitFor((h) => h.body['unique_call_id'] === id, 6, 'both sides\' events');
    await new Promise((r) => setTimeout(r, 300));
    const all = rx.hooks.filter((h) => h.body['unique_call_id'] === id);
    expect(all.map((h) => h.body['type']).sort()).toEqual(['user_inbound', 'user_inbound_answered', 'user_inbound_completed',
      'user_outbound', 'user_outbound_answered', 'user_outbound_completed'].sort());
    const seqs = all.map((h) => h.body['sequence'] as number);
    expect([...seqs].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    // Per call, deliveries arrive in sequence order.
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(hooks.length).toBeGreaterThanOrEqual(6);
  });
});
