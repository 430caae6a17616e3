/**
 * Sample payloads for the "send a test event" button: one realistic body per compat type (SPEC.md §3), built with
 * {@link toOutboxEvent} so a test event has exactly the shape of a real one.
 */

import type { EndpointRef, OutboxEvent } from '../store/index.js';
import { EVENT_TYPES, toOutboxEvent, type EventFieldsByType, type EventType } from './event-types.js';

/** True when `t` is one of the 12 compat event types. */
export function isEventType(t: string): t is EventType {
  return (EVENT_TYPES as readonly string[]).includes(t);
}

/** Sample fields for each type, with times derived from `nowMs`. */
export function sampleFields(nowMs: number): EventFieldsByType {
  const start = new Date(nowMs - 65_000).toISOString();
  const connected = new Date(nowMs - 60_000).toISOString();
  const now = new Date(nowMs).toISOString();
  const call = { caller_id: '61390000099', caller_name: 'Test Caller', user_name: 'Alice Smith', user_number: '1001', dest_number: '61390000000', call_start_at: start };
  const inbound = { ...call, queue_name: null, ring_group_name: null };
  const ended = { connected_at: connected, call_duration: 65, conversation_duration: 60 };
  const mail = { caller_id: '61390000099', dest_number: '61390000000', user_name: 'Alice Smith', user_number: '1001', recorded_at: now, emails: ['alice@example.com'], email_subject: 'Test', email_message: 'Test message' };
  const recording = {
    call_recording_link: 'https://pbx.example.com/api/recordings/rec_0123456789abcdef.wav?expires=1893456000&sig=test',
    recording_id: 'rec_0123456789abcdef', recording_duration_ms: 60000, recording_problems: [] as string[],
  };
  return {
    user_inbound: inbound,
    user_inbound_answered: { ...inbound, connected_at: connected },
    user_inbound_completed: { ...inbound, ...ended },
    user_outbound: call,
    user_outbound_answered: { ...call, connected_at: connected },
    user_outbound_completed: { ...call, ...ended },
    queue_call: { ...call, ...ended, queue_name: 'Support', status: 'answered' },
    ring_group_call: { ...call, ...ended, ring_group_name: 'Sales', status: 'answered' },
    voicemail: { ...mail, audio_file: ['https://pbx.example.com/api/admin/voicemail/test.wav'] },
    recording_inbound: { ...mail, ...recording },
    recording_outbound: { ...mail, ...recording },
    webhook_component_event: { user_name: 'Test Caller', user_number: '61390000099', dest_number: '61390000001', call_start_at: start, component_name: 'Test component' },
  };
}

/** A test event of `type`: a fresh digits-only unique_call_id (compat format), sequence 1. */
export function sampleEvent(type: EventType, nowMs: number, opts: { endpoint?: EndpointRef; componentName?: string } = {}): OutboxEvent {
  const fields = sampleFields(nowMs);
  if (opts.componentName) fields.webhook_component_event.component_name = opts.componentName;
  const unique_call_id = `${nowMs}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  return toOutboxEvent(type, fields[type] as never, {
    unique_call_id, sequence: 1, occurred_at: new Date(nowMs).toISOString(), ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  });
}
