/** The pure history formatting (records/call-payloads.ts): compat fields and user-call rows from a touch. */
import { describe, expect, it } from 'vitest';
import { completedTimes, inboundFields, userCallRow, type CallIdentity, type UserTouch } from '../../../src/engine/records/call-payloads.js';
import { demoConfig } from '../../support/engine-harness.js';

const p: CallIdentity = { uniqueCallId: '1', callerId: '61400000000', callerName: 'Ann', destNumber: '61390000000', startMs: 0, startIso: '1970-01-01T00:00:00.000Z' };
const user = demoConfig().users[0]!;

describe('call payloads', () => {
  it('formats an answered inbound touch: row type, connected_at and both durations', () => {
    const t: UserTouch = { user, direction: 'inbound', context: { queue_name: 'sales', ring_group_name: null }, connectedMs: 4000, endedMs: 64_000 };
    expect(inboundFields(p, user, t.context)).toMatchObject({ caller_id: '61400000000', user_number: user.number, queue_name: 'sales', call_start_at: p.startIso });
    expect(completedTimes(p, t, 64_000)).toEqual({ connected_at: '1970-01-01T00:00:04.000Z', call_duration: 64, conversation_duration: 60 });
    expect(userCallRow(p, t, 64_000)).toMatchObject({ type: 'user_inbound_answered', call_duration: 64, conversation_duration: 60 });
  });

  it('formats a missed outbound touch with no conversation', () => {
    const t: UserTouch = { user, direction: 'outbound', context: { queue_name: null, ring_group_name: null }, connectedMs: null, endedMs: 9000 };
    expect(userCallRow(p, t, 9000)).toMatchObject({ type: 'user_outbound_missed', connected_at: null, call_duration: 9, conversation_duration: 0 });
  });
});
