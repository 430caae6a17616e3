/**
 * Migration 6 (issue 15, the store's cost per call): saved leg dialogs are keyed by (unique_call_id, leg_id).
 * Every answered call inserts its dialogs and deletes them when it ends; keyed by leg_id with a second index on
 * unique_call_id, each row cost three b-tree writes in SQLite (the rowid table, the leg_id key, the call index) and
 * two in PostgreSQL (the key, the call index), going in and again going out. One primary key serves the upsert, the
 * call's delete and its listing (ordered by leg_id), so SQLite keeps the rows in that key (WITHOUT ROWID): one
 * b-tree write per row. The table only holds the dialogs of calls in progress, so the copy is small.
 */
import type { Migration } from './migration.js';

const COLUMNS = 'unique_call_id, leg_id, role, call_id, local_header, remote_header, local_cseq, remote_target, route_set, destination';

const SQLITE = `
CREATE TABLE leg_dialogs_keyed (
  unique_call_id TEXT NOT NULL, leg_id TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('uac', 'uas')),
  call_id TEXT NOT NULL, local_header TEXT NOT NULL, remote_header TEXT NOT NULL, local_cseq INTEGER NOT NULL,
  remote_target TEXT NOT NULL, route_set TEXT NOT NULL, destination TEXT NOT NULL,
  PRIMARY KEY (unique_call_id, leg_id)
) WITHOUT ROWID;
INSERT INTO leg_dialogs_keyed (${COLUMNS}) SELECT ${COLUMNS} FROM leg_dialogs;
DROP TABLE leg_dialogs;
ALTER TABLE leg_dialogs_keyed RENAME TO leg_dialogs;
`;

const POSTGRES = `
ALTER TABLE leg_dialogs DROP CONSTRAINT leg_dialogs_pkey;
ALTER TABLE leg_dialogs ADD PRIMARY KEY (unique_call_id, leg_id);
DROP INDEX leg_dialogs_call;
`;

/** Saved leg dialogs keyed by call and leg. */
export const callSteps: Migration = { version: 6, name: 'call-steps', sqlite: SQLITE, postgres: POSTGRES };
