/**
 * Migration 3: access control (issue 11). Admin keys are stored as SHA-256 digests only (they are random,
 * high-entropy keys, so a fast hash is enough; the key itself is shown once, at creation). The audit log keeps one row
 * per admin change. A delivery remembers the configuration version it was created under, so its URL, token and signing
 * secret stay those of that version (a token change applies only to deliveries created after it).
 */
import type { Migration } from './migration.js';

const SQLITE = `
CREATE TABLE admin_keys (
  key_id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER
);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, key_id TEXT, key_name TEXT, source_ip TEXT,
  method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL, changes TEXT NOT NULL
);
ALTER TABLE deliveries ADD COLUMN config_version INTEGER;
`;

const POSTGRES = `
CREATE TABLE admin_keys (
  key_id text PRIMARY KEY, name text NOT NULL, key_hash text NOT NULL UNIQUE,
  created_at bigint NOT NULL, last_used_at bigint, revoked_at bigint
);
CREATE TABLE audit_log (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at bigint NOT NULL, key_id text, key_name text, source_ip text,
  method text NOT NULL, path text NOT NULL, status integer NOT NULL, changes jsonb NOT NULL
);
ALTER TABLE deliveries ADD COLUMN config_version integer;
`;

/** Admin keys, the audit log, and the configuration version of each delivery. */
export const accessControl: Migration = { version: 3, name: 'access-control', sqlite: SQLITE, postgres: POSTGRES };
