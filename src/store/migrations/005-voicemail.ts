/**
 * Migration 5: voicemail messages (issue 10). One row per message left; the WAV lives under the data directory and the
 * row keeps what the mailbox API lists and what the mailer needs to resume after a restart (mail_* columns: the
 * voicemail-to-email state, retried on a schedule, failures kept visible). Numbered 5 because migration 4 is the
 * recordings table; the runner applies each missing version, so either may land first.
 */
import type { Migration } from './migration.js';

const COLUMNS = (t: { text: string; int: string }): string => `
CREATE TABLE voicemails (
  message_id ${t.text} PRIMARY KEY, user_number ${t.text} NOT NULL, unique_call_id ${t.text} NOT NULL,
  caller_id ${t.text}, caller_name ${t.text}, dest_number ${t.text}, recorded_at ${t.text} NOT NULL,
  path ${t.text} NOT NULL, duration_ms ${t.int} NOT NULL, size_bytes ${t.int} NOT NULL, sha256 ${t.text} NOT NULL,
  heard_at ${t.text},
  mail_status ${t.text} NOT NULL, mail_to ${t.text} NOT NULL, mail_attempts ${t.int} NOT NULL,
  mail_next_at ${t.int}, mail_last_error ${t.text}, mail_sent_at ${t.text}
);
CREATE INDEX voicemails_user ON voicemails (user_number, recorded_at);
CREATE INDEX voicemails_mail_due ON voicemails (mail_status, mail_next_at);
`;

/** The voicemails table. */
export const voicemail: Migration = {
  version: 5, name: 'voicemail',
  sqlite: COLUMNS({ text: 'TEXT', int: 'INTEGER' }),
  postgres: COLUMNS({ text: 'text', int: 'bigint' }),
};
