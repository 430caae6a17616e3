/**
 * Migration 4: call recordings (issue 9). One row per WAV file: which call (and answered leg) it belongs to, whose
 * setting made it, where the file is, its duration, size and SHA-256 as closed, and what went wrong while writing it
 * (`problems`, a JSON list; empty when all went well). Indexed by call, by user and time (the admin list's filters),
 * and by creation time (the retention sweeper).
 */
import type { Migration } from './migration.js';

/** The DDL of both dialects from one template (their column types differ, nothing else). */
const DDL = (t: { text: string; int: string; json: string; time: string }): string => `
CREATE TABLE recordings (
  recording_id ${t.text} PRIMARY KEY, unique_call_id ${t.text} NOT NULL, leg_id ${t.text},
  direction ${t.text} NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  user_number ${t.text}, path ${t.text} NOT NULL, duration_ms ${t.int} NOT NULL, size_bytes ${t.int} NOT NULL,
  sha256 ${t.text} NOT NULL, problems ${t.json} NOT NULL, created_at ${t.time} NOT NULL
);
CREATE INDEX recordings_call ON recordings (unique_call_id);
CREATE INDEX recordings_user_created ON recordings (user_number, created_at, recording_id);
CREATE INDEX recordings_created ON recordings (created_at, recording_id);
`;

/** The recordings table. */
export const recordings: Migration = {
  version: 4, name: 'recordings',
  sqlite: DDL({ text: 'TEXT', int: 'INTEGER', json: 'TEXT', time: 'TEXT' }),
  postgres: DDL({ text: 'text', int: 'bigint', json: 'jsonb', time: 'timestamptz' }),
};
