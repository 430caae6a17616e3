/**
 * Migration 4: call recordings (issue 9). One row per WAV file: which call (and answered leg) it belongs to, whose
 * setting made it, where the file is, its duration, size and SHA-256 as closed, and what went wrong while writing it
 * (`problems`, a JSON list; empty when all went well). Indexed by call, by user and time (the admin list's filters),
 * and by creation time (the retention sweeper).
 */
import type { Migration } from './migration.js';

const SQLITE = `
CREATE TABLE recordings (
  recording_id TEXT PRIMARY KEY, unique_call_id TEXT NOT NULL, leg_id TEXT,
  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  user_number TEXT, path TEXT NOT NULL, duration_ms INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL, problems TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX recordings_call ON recordings (unique_call_id);
CREATE INDEX recordings_user_created ON recordings (user_number, created_at, recording_id);
CREATE INDEX recordings_created ON recordings (created_at, recording_id);
`;

const POSTGRES = `
CREATE TABLE recordings (
  recording_id text PRIMARY KEY, unique_call_id text NOT NULL, leg_id text,
  direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  user_number text, path text NOT NULL, duration_ms bigint NOT NULL, size_bytes bigint NOT NULL,
  sha256 text NOT NULL, problems jsonb NOT NULL, created_at timestamptz NOT NULL
);
CREATE INDEX recordings_call ON recordings (unique_call_id);
CREATE INDEX recordings_user_created ON recordings (user_number, created_at, recording_id);
CREATE INDEX recordings_created ON recordings (created_at, recording_id);
`;

/** The recordings table. */
export const recordings: Migration = { version: 4, name: 'recordings', sqlite: SQLITE, postgres: POSTGRES };
