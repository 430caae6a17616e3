/**
 * Call-history fixtures written through the real store (`store.commit`), as the engine would write them.
 */
import type { GroupCallRecord, Store, UserCallRecord } from '../../../src/store/index.js';

/** A unique_call_id for call `i`: decimal digits, time-ordered. */
export function callId(i: number): string {
  return `1764000000${String(i).padStart(7, '0')}`;
}

/** A user row; `at` is the call start (ISO). */
export function userCall(i: number, at: string, over: Partial<UserCallRecord> = {}): UserCallRecord {
  return {
    unique_call_id: callId(i),
    type: 'user_inbound_answered',
    caller_id: '+61400000001',
    caller_name: 'Caller',
    dest_number: '+61390000000',
    user_name: 'Alice Smith',
    user_number: '1001',
    call_start_at: at,
    connected_at: at,
    call_duration: 60,
    conversation_duration: 55,
    ...over,
  };
}

/** A queue or ring group row. */
export function groupCall(i: number, at: string, group: string, over: Partial<GroupCallRecord> = {}): GroupCallRecord {
  return {
    unique_call_id: callId(i),
    group_name: group,
    caller_id: '+61400000001',
    caller_name: 'Caller',
    dest_number: '+61390000001',
    user_name: 'Bob Jones',
    user_number: '1002',
    call_start_at: at,
    connected_at: at,
    call_duration: 30,
    conversation_duration: 20,
    status: 'answered',
    ...over,
  };
}

/** Commits user rows, one commit per row (as calls end one by one). */
export async function seedUserCalls(store: Store, rows: UserCallRecord[]): Promise<void> {
  for (const r of rows) await store.commit({ userCalls: [r] });
}
