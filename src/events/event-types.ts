/**
 * The compat webhook event catalogue (SPEC.md §3). Field names and formats are fixed by the hosted-PBX family:
 * timestamps ISO 8601 UTC with ms, durations integer seconds, numbers as digits without '+', absent = null.
 * Our additions (`event_id`, `occurred_at`, `sequence`) are added by `toOutboxEvent`.
 */

import { newTimeOrderedId } from '../common/index.js';
import type { EndpointRef, OutboxEvent } from '../store/index.js';

export interface UserCallFields {
  caller_id: string | null;
  caller_name: string | null;
  user_name: string | null;
  user_number: string | null;
  dest_number: string | null;
  call_start_at: string;
}

export interface UserInboundFields extends UserCallFields {
  queue_name: string | null;
  ring_group_name: string | null;
}

export interface EventFieldsByType {
  user_inbound: UserInboundFields;
  user_inbound_answered: UserInboundFields & { connected_at: string };
  user_inbound_completed: UserInboundFields & { connected_at: string | null; call_duration: number; conversation_duration: number };
  user_outbound: UserCallFields;
  user_outbound_answered: UserCallFields & { connected_at: string };
  user_outbound_completed: UserCallFields & { connected_at: string | null; call_duration: number; conversation_duration: number };
  queue_call: UserCallFields & {
    connected_at: string | null; call_duration: number; conversation_duration: number;
    queue_name: string; status: 'answered' | 'abandoned';
  };
  ring_group_call: UserCallFields & {
    connected_at: string | null; call_duration: number; conversation_duration: number;
    ring_group_name: string; status: 'answered' | 'abandoned';
  };
  voicemail: {
    caller_id: string | null; dest_number: string | null; user_name: string | null; user_number: string | null;
    recorded_at: string; emails: string[]; email_subject: string | null; email_message: string | null; audio_file: string[];
  };
  recording_inbound: RecordingFields;
  recording_outbound: RecordingFields;
  webhook_component_event: {
    user_name: string | null; user_number: string | null; dest_number: string | null; call_start_at: string; component_name: string;
  };
}

export interface RecordingFields {
  caller_id: string | null; dest_number: string | null; user_name: string | null; user_number: string | null;
  recorded_at: string; emails: string[]; email_subject: string | null; email_message: string | null; call_recording_link: string;
  /** Ours: the recording's id (admin API) and what went wrong while writing it (empty when nothing did). */
  recording_id: string; recording_duration_ms: number; recording_problems: string[];
}

export type EventType = keyof EventFieldsByType;

export const EVENT_TYPES = [
  'user_inbound', 'user_inbound_answered', 'user_inbound_completed',
  'user_outbound', 'user_outbound_answered', 'user_outbound_completed',
  'queue_call', 'ring_group_call', 'voicemail', 'recording_inbound', 'recording_outbound', 'webhook_component_event',
] as const satisfies readonly EventType[];

/**
 * A new event id (ours): `evt_` + a UUIDv7 stamped with `atMs` (the event's time) as 32 hex digits. Time-ordered, so
 * the outbox's and deliveries' indexes on event_id grow at their right edge.
 */
export function newEventId(atMs: number): string {
  return newTimeOrderedId('evt', atMs);
}

/** Numbers go out as digits without '+' (compat). */
export function compatNumber(n: string | null | undefined): string | null {
  if (n == null || n === '') return null;
  return n.startsWith('+') ? n.slice(1) : n;
}

/**
 * Builds the outbox row for one event: the compat body (`type`, `unique_call_id`, the type's fields) plus our
 * `event_id`, `occurred_at` and per-call `sequence`.
 */
export function toOutboxEvent<T extends EventType>(
  type: T,
  fields: EventFieldsByType[T],
  opts: { unique_call_id: string; sequence: number; occurred_at: string; endpoint?: EndpointRef },
): OutboxEvent {
  const event_id = newEventId(Date.parse(opts.occurred_at));
  return {
    event_id,
    unique_call_id: opts.unique_call_id,
    type,
    sequence: opts.sequence,
    occurred_at: opts.occurred_at,
    endpoint: opts.endpoint ?? { kind: 'global' },
    payload: {
      type,
      unique_call_id: opts.unique_call_id,
      ...fields,
      event_id,
      occurred_at: opts.occurred_at,
      sequence: opts.sequence,
    },
  };
}
