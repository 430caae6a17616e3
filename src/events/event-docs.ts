/**
 * What each compat event type means and what each of its fields holds (SPEC.md §3), for the web console's
 * webhook screen (the dropdown of sample payloads with a description of every field) and the docs.
 */
import type { EventType } from './event-types.js';

/** When each event type is sent. */
export const EVENT_DESCRIPTIONS: Readonly<Record<EventType, string>> = {
  user_inbound: 'A call reaches a user and starts ringing.',
  user_inbound_answered: 'A user answers an inbound call.',
  user_inbound_completed: 'A call to a user ends, answered or not.',
  user_outbound: 'A user starts an outbound call (or a click-to-call).',
  user_outbound_answered: 'The called party answers a user\'s outbound call.',
  user_outbound_completed: 'A user\'s outbound call ends.',
  queue_call: 'A call delivered via a queue has ended (answered or abandoned).',
  ring_group_call: 'A call delivered via a ring group has ended.',
  voicemail: 'A caller left a voicemail.',
  recording_inbound: 'An inbound call recording is ready at its link.',
  recording_outbound: 'An outbound call recording is ready at its link.',
  webhook_component_event: 'A call passed a webhook object in a call flow (sent to that object\'s own URL).',
};

/** Every field that appears in any payload, with its meaning. */
export const FIELD_DESCRIPTIONS: Readonly<Record<string, string>> = {
  type: 'The event type (one of the 12 compat types).',
  unique_call_id: 'Decimal digits, unique and time-ordered; the same in every event and history row of one call.',
  caller_id: 'The caller\'s number, digits without +; null when withheld.',
  callerid: 'Same value as caller_id (compat alias in queue rows).',
  caller_name: 'The caller\'s display name (CNAM); null when absent.',
  user_name: 'Name of the user who rang, answered or placed the call; null when nobody answered. In webhook_component_event: the caller\'s CNAM.',
  user_number: 'Extension of that user; null when nobody answered. In webhook_component_event: the caller\'s CLI.',
  dest_number: 'The number dialled (the DID for inbound calls), digits without +.',
  call_start_at: 'When the call started, ISO 8601 UTC with milliseconds.',
  connected_at: 'When the call was answered (ISO 8601 UTC); null when it was not.',
  call_duration: 'Ringing plus talk time, integer seconds.',
  conversation_duration: 'Talk time only, integer seconds (0 when not answered).',
  queue_name: 'The queue the call came through; null when none.',
  ring_group_name: 'The ring group the call came through; null when none.',
  status: 'answered or abandoned.',
  recorded_at: 'When the recording or voicemail was made, ISO 8601 UTC.',
  emails: 'Addresses the voicemail or recording is mailed to (the user\'s voicemail emails).',
  email_subject: 'Subject of that e-mail; null when none.',
  email_message: 'Body of that e-mail; null when none.',
  audio_file: 'URLs of the voicemail WAV file(s).',
  call_recording_link: 'Signed URL of the call recording WAV file (GET, no API key; expires after recordings.link_lifetime_s).',
  recording_id: 'Ours: the recording\'s id (rec_…), as the admin API lists it.',
  recording_duration_ms: 'Ours: the recording\'s audio duration in milliseconds.',
  recording_problems: 'Ours: what went wrong while recording (disk-full, write-failed, stream-stopped, …); empty when nothing did. The file holds what was written.',
  component_name: 'The webhook object\'s component_name in the flow.',
  event_id: 'Ours: evt_ + 32 hex digits, unique per event, stable across retries.',
  occurred_at: 'Ours: when the event happened, ISO 8601 UTC with milliseconds.',
  sequence: 'Ours: the event\'s position among the events of its call (1, 2, …).',
};
