/**
 * Migration 1: the whole first schema, in both dialects. Times the API filters on are ISO text in SQLite
 * (normalized, so text order is time order) and timestamptz in PostgreSQL; scheduler times are epoch ms integers.
 *
 * Index rationale:
 * - history: (name, call_start_at, unique_call_id) serves "one user / queue over a date range" as a range scan in
 *   the requested order; (call_start_at, unique_call_id, name) serves the unfiltered date range.
 * - outbox: a partial index on undispatched events keeps the fan-out scan proportional to the backlog.
 * - deliveries: (status, next_attempt_at, seq) serves claiming (due pending rows, most overdue first, no sort),
 *   counting pending rows (an index-only range) and the admin status filter; a partial index on
 *   (endpoint_url, unique_call_id, sequence) of pending rows serves the per-call ordering check.
 */
import type { Migration } from './migration.js';

const SQLITE = `
CREATE TABLE registrations (
  username TEXT NOT NULL, contact TEXT NOT NULL,
  transport TEXT NOT NULL CHECK (transport IN ('udp', 'tcp')),
  source_address TEXT NOT NULL, source_port INTEGER NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, user_agent TEXT, instance_id TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (username, contact)
) WITHOUT ROWID;
CREATE INDEX registrations_expires_at ON registrations (expires_at);

CREATE TABLE calls (
  unique_call_id TEXT PRIMARY KEY,
  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
  caller_id TEXT, caller_name TEXT, dest_number TEXT, user_name TEXT, user_number TEXT,
  call_start_at TEXT NOT NULL, connected_at TEXT, ended_at TEXT,
  call_duration INTEGER, conversation_duration INTEGER,
  status TEXT NOT NULL, hangup_cause TEXT, queue_name TEXT, ring_group_name TEXT, config_version INTEGER NOT NULL
);
CREATE INDEX calls_start ON calls (call_start_at, unique_call_id);

CREATE TABLE legs (
  leg_id TEXT PRIMARY KEY, unique_call_id TEXT NOT NULL, kind TEXT NOT NULL,
  user_number TEXT, device TEXT, remote TEXT,
  started_at TEXT NOT NULL, answered_at TEXT, ended_at TEXT, final_status INTEGER, ended_by TEXT
);
CREATE INDEX legs_call ON legs (unique_call_id, started_at);

CREATE TABLE user_calls (
  unique_call_id TEXT NOT NULL, user_number TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('user_inbound_answered', 'user_inbound_missed', 'user_outbound_answered', 'user_outbound_missed')),
  caller_id TEXT, caller_name TEXT, dest_number TEXT, user_name TEXT NOT NULL,
  call_start_at TEXT NOT NULL, connected_at TEXT, call_duration INTEGER, conversation_duration INTEGER,
  PRIMARY KEY (unique_call_id, user_number)
);
CREATE INDEX user_calls_user_start ON user_calls (user_number, call_start_at, unique_call_id);
CREATE INDEX user_calls_start ON user_calls (call_start_at, unique_call_id, user_number);

CREATE TABLE queue_calls (
  unique_call_id TEXT NOT NULL, group_name TEXT NOT NULL,
  caller_id TEXT, caller_name TEXT, dest_number TEXT, user_name TEXT, user_number TEXT,
  call_start_at TEXT NOT NULL, connected_at TEXT, call_duration INTEGER, conversation_duration INTEGER,
  status TEXT NOT NULL CHECK (status IN ('answered', 'abandoned')),
  PRIMARY KEY (unique_call_id, group_name)
);
CREATE INDEX queue_calls_group_start ON queue_calls (group_name, call_start_at, unique_call_id);
CREATE INDEX queue_calls_start ON queue_calls (call_start_at, unique_call_id, group_name);

CREATE TABLE ring_group_calls (
  unique_call_id TEXT NOT NULL, group_name TEXT NOT NULL,
  caller_id TEXT, caller_name TEXT, dest_number TEXT, user_name TEXT, user_number TEXT,
  call_start_at TEXT NOT NULL, connected_at TEXT, call_duration INTEGER, conversation_duration INTEGER,
  status TEXT NOT NULL CHECK (status IN ('answered', 'abandoned')),
  PRIMARY KEY (unique_call_id, group_name)
);
CREATE INDEX ring_group_calls_group_start ON ring_group_calls (group_name, call_start_at, unique_call_id);
CREATE INDEX ring_group_calls_start ON ring_group_calls (call_start_at, unique_call_id, group_name);

CREATE TABLE outbox_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE, unique_call_id TEXT, type TEXT NOT NULL, sequence INTEGER NOT NULL,
  occurred_at TEXT NOT NULL, endpoint TEXT NOT NULL, payload TEXT NOT NULL,
  dispatched INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_events_undispatched ON outbox_events (seq) WHERE dispatched = 0;
CREATE INDEX outbox_events_call ON outbox_events (unique_call_id, sequence);

CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL REFERENCES outbox_events (event_id),
  endpoint_url TEXT NOT NULL, unique_call_id TEXT, type TEXT NOT NULL, sequence INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'disabled')),
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, last_status_code INTEGER, last_error TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, lease_until INTEGER,
  UNIQUE (event_id, endpoint_url)
);
CREATE INDEX deliveries_status_due ON deliveries (status, next_attempt_at, seq);
CREATE INDEX deliveries_call_order ON deliveries (endpoint_url, unique_call_id, sequence) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_url, seq);
CREATE INDEX deliveries_call ON deliveries (unique_call_id, seq);

CREATE TABLE delivery_attempts (
  delivery_id TEXT NOT NULL REFERENCES deliveries (delivery_id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL, at INTEGER NOT NULL, status_code INTEGER, error TEXT, duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE endpoints (url TEXT PRIMARY KEY, disabled INTEGER NOT NULL, reason TEXT);

CREATE TABLE config_versions (version INTEGER PRIMARY KEY, config TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE staged_config (id INTEGER PRIMARY KEY CHECK (id = 1), config TEXT NOT NULL);
`;

const POSTGRES = `
CREATE TABLE registrations (
  username text NOT NULL, contact text NOT NULL,
  transport text NOT NULL CHECK (transport IN ('udp', 'tcp')),
  source_address text NOT NULL, source_port integer NOT NULL, call_id text NOT NULL, cseq bigint NOT NULL,
  expires_at bigint NOT NULL, user_agent text, instance_id text, updated_at bigint NOT NULL,
  PRIMARY KEY (username, contact)
);
CREATE INDEX registrations_expires_at ON registrations (expires_at);

CREATE TABLE calls (
  unique_call_id text PRIMARY KEY,
  direction text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
  caller_id text, caller_name text, dest_number text, user_name text, user_number text,
  call_start_at timestamptz NOT NULL, connected_at timestamptz, ended_at timestamptz,
  call_duration integer, conversation_duration integer,
  status text NOT NULL, hangup_cause text, queue_name text, ring_group_name text, config_version integer NOT NULL
);
CREATE INDEX calls_start ON calls (call_start_at, unique_call_id);

CREATE TABLE legs (
  leg_id text PRIMARY KEY, unique_call_id text NOT NULL, kind text NOT NULL,
  user_number text, device text, remote text,
  started_at timestamptz NOT NULL, answered_at timestamptz, ended_at timestamptz, final_status integer, ended_by text
);
CREATE INDEX legs_call ON legs (unique_call_id, started_at);

CREATE TABLE user_calls (
  unique_call_id text NOT NULL, user_number text NOT NULL,
  type text NOT NULL CHECK (type IN ('user_inbound_answered', 'user_inbound_missed', 'user_outbound_answered', 'user_outbound_missed')),
  caller_id text, caller_name text, dest_number text, user_name text NOT NULL,
  call_start_at timestamptz NOT NULL, connected_at timestamptz, call_duration integer, conversation_duration integer,
  PRIMARY KEY (unique_call_id, user_number)
);
CREATE INDEX user_calls_user_start ON user_calls (user_number, call_start_at, unique_call_id);
CREATE INDEX user_calls_start ON user_calls (call_start_at, unique_call_id, user_number);

CREATE TABLE queue_calls (
  unique_call_id text NOT NULL, group_name text NOT NULL,
  caller_id text, caller_name text, dest_number text, user_name text, user_number text,
  call_start_at timestamptz NOT NULL, connected_at timestamptz, call_duration integer, conversation_duration integer,
  status text NOT NULL CHECK (status IN ('answered', 'abandoned')),
  PRIMARY KEY (unique_call_id, group_name)
);
CREATE INDEX queue_calls_group_start ON queue_calls (group_name, call_start_at, unique_call_id);
CREATE INDEX queue_calls_start ON queue_calls (call_start_at, unique_call_id, group_name);

CREATE TABLE ring_group_calls (
  unique_call_id text NOT NULL, group_name text NOT NULL,
  caller_id text, caller_name text, dest_number text, user_name text, user_number text,
  call_start_at timestamptz NOT NULL, connected_at timestamptz, call_duration integer, conversation_duration integer,
  status text NOT NULL CHECK (status IN ('answered', 'abandoned')),
  PRIMARY KEY (unique_call_id, group_name)
);
CREATE INDEX ring_group_calls_group_start ON ring_group_calls (group_name, call_start_at, unique_call_id);
CREATE INDEX ring_group_calls_start ON ring_group_calls (call_start_at, unique_call_id, group_name);

CREATE TABLE outbox_events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id text NOT NULL UNIQUE, unique_call_id text, type text NOT NULL, sequence integer NOT NULL,
  occurred_at timestamptz NOT NULL, endpoint jsonb NOT NULL, payload jsonb NOT NULL,
  dispatched boolean NOT NULL DEFAULT false
);
CREATE INDEX outbox_events_undispatched ON outbox_events (seq) WHERE NOT dispatched;
CREATE INDEX outbox_events_call ON outbox_events (unique_call_id, sequence);

CREATE TABLE deliveries (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id text NOT NULL UNIQUE,
  event_id text NOT NULL REFERENCES outbox_events (event_id),
  endpoint_url text NOT NULL, unique_call_id text, type text NOT NULL, sequence integer NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'disabled')),
  attempts integer NOT NULL DEFAULT 0, next_attempt_at bigint, last_status_code integer, last_error text,
  created_at bigint NOT NULL, updated_at bigint NOT NULL, lease_until bigint,
  UNIQUE (event_id, endpoint_url)
);
CREATE INDEX deliveries_status_due ON deliveries (status, next_attempt_at, seq);
CREATE INDEX deliveries_call_order ON deliveries (endpoint_url, unique_call_id, sequence) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_url, seq);
CREATE INDEX deliveries_call ON deliveries (unique_call_id, seq);

CREATE TABLE delivery_attempts (
  delivery_id text NOT NULL REFERENCES deliveries (delivery_id) ON DELETE CASCADE,
  attempt integer NOT NULL, at bigint NOT NULL, status_code integer, error text, duration_ms integer NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE endpoints (url text PRIMARY KEY, disabled boolean NOT NULL, reason text);

CREATE TABLE config_versions (version integer PRIMARY KEY, config jsonb NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE staged_config (id integer PRIMARY KEY CHECK (id = 1), config jsonb NOT NULL);
`;

/** The first schema. */
export const initial: Migration = { version: 1, name: 'initial', sqlite: SQLITE, postgres: POSTGRES };
