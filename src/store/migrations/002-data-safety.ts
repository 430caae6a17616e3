/**
 * Migration 2 (issue 11, data safety): what crash recovery and retention need.
 * - `leg_dialogs`: per answered leg, what an out-of-dialog-built BYE needs after a restart (RFC 3261 §12.2.1.1:
 *   Call-ID, local and remote tags in From/To, a CSeq above the last one used, the remote target and route set),
 *   plus the address the dialog's requests go to.
 * - `engine_nodes`: each engine's heartbeat; recovery ends a crashed run's calls at its last heartbeat.
 * - Indexes for the retention sweeper: ended calls by start, finished deliveries by last update, events by time.
 */
import type { Migration } from './migration.js';

const SQLITE = `
CREATE TABLE leg_dialogs (
  leg_id TEXT PRIMARY KEY, unique_call_id TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('uac', 'uas')),
  call_id TEXT NOT NULL, local_header TEXT NOT NULL, remote_header TEXT NOT NULL, local_cseq INTEGER NOT NULL,
  remote_target TEXT NOT NULL, route_set TEXT NOT NULL, destination TEXT NOT NULL
);
CREATE INDEX leg_dialogs_call ON leg_dialogs (unique_call_id);
CREATE TABLE engine_nodes (node_id INTEGER PRIMARY KEY, heartbeat_at INTEGER NOT NULL);
CREATE INDEX calls_unfinished ON calls (call_start_at) WHERE ended_at IS NULL;
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX outbox_events_occurred ON outbox_events (occurred_at);
`;

const POSTGRES = `
CREATE TABLE leg_dialogs (
  leg_id text PRIMARY KEY, unique_call_id text NOT NULL, role text NOT NULL CHECK (role IN ('uac', 'uas')),
  call_id text NOT NULL, local_header text NOT NULL, remote_header text NOT NULL, local_cseq bigint NOT NULL,
  remote_target text NOT NULL, route_set jsonb NOT NULL, destination text NOT NULL
);
CREATE INDEX leg_dialogs_call ON leg_dialogs (unique_call_id);
CREATE TABLE engine_nodes (node_id integer PRIMARY KEY, heartbeat_at bigint NOT NULL);
CREATE INDEX calls_unfinished ON calls (call_start_at) WHERE ended_at IS NULL;
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX outbox_events_occurred ON outbox_events (occurred_at);
`;

/** Crash recovery and retention. */
export const dataSafety: Migration = { version: 2, name: 'data-safety', sqlite: SQLITE, postgres: POSTGRES };
