/**
 * Pure formatting of a call's history (SPEC.md §3): the compat fields of the user events and the user-call rows, from
 * what the recorder knows. No store, no clock: the recorder (call-recorder.ts) decides when, these say what.
 */
import type { UserConfig } from '../../config/index.js';
import type { EventFieldsByType } from '../../events/index.js';
import type { UserCallRecord } from '../../store/index.js';
import { durationS, isoUtc } from './time.js';

/** Queue / ring-group context of a user touch (null outside those nodes). */
export interface GroupContext {
  queue_name: string | null;
  ring_group_name: string | null;
}

/** One user's part in a call: rung (inbound) or placing it (outbound). */
export interface UserTouch {
  user: UserConfig;
  direction: 'inbound' | 'outbound';
  context: GroupContext;
  connectedMs: number | null;
  endedMs: number | null;
}

/** What every payload and row of one call repeats, formatted once. */
export interface CallIdentity {
  uniqueCallId: string;
  /** Compat form (no '+'). */
  callerId: string | null;
  callerName: string | null;
  destNumber: string | null;
  startMs: number;
  startIso: string;
}

/** `user_inbound` fields (and the base of `user_inbound_answered` / `_completed`). */
export function inboundFields(p: CallIdentity, user: UserConfig, context: GroupContext): EventFieldsByType['user_inbound'] {
  return {
    caller_id: p.callerId, caller_name: p.callerName, user_name: user.name, user_number: user.number,
    dest_number: p.destNumber, call_start_at: p.startIso, queue_name: context.queue_name, ring_group_name: context.ring_group_name,
  };
}

/** `user_outbound` fields (and the base of `user_outbound_answered` / `_completed`). */
export function outboundFields(p: CallIdentity, user: UserConfig): EventFieldsByType['user_outbound'] {
  return {
    caller_id: p.callerId, caller_name: p.callerName, user_name: user.name, user_number: user.number,
    dest_number: p.destNumber, call_start_at: p.startIso,
  };
}

/** The times a `*_completed` event adds for a touch that ended at `endMs`. */
export function completedTimes(p: CallIdentity, t: UserTouch, endMs: number): { connected_at: string | null; call_duration: number; conversation_duration: number } {
  return {
    connected_at: t.connectedMs === null ? null : isoUtc(t.connectedMs),
    call_duration: durationS(p.startMs, endMs),
    conversation_duration: t.connectedMs === null ? 0 : durationS(t.connectedMs, endMs),
  };
}

/** The history row of a touch that ended at `endMs`: answered or missed, inbound or outbound. */
export function userCallRow(p: CallIdentity, t: UserTouch, endMs: number): UserCallRecord {
  const answered = t.connectedMs !== null;
  return {
    unique_call_id: p.uniqueCallId,
    type: t.direction === 'inbound' ? (answered ? 'user_inbound_answered' : 'user_inbound_missed') : answered ? 'user_outbound_answered' : 'user_outbound_missed',
    caller_id: p.callerId, caller_name: p.callerName, dest_number: p.destNumber,
    user_name: t.user.name, user_number: t.user.number, call_start_at: p.startIso,
    connected_at: answered ? isoUtc(t.connectedMs!) : null, call_duration: durationS(p.startMs, endMs),
    conversation_duration: answered ? durationS(t.connectedMs!, endMs) : 0,
  };
}
