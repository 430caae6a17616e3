/**
 * The ordered list of migrations. To change the schema, add `00N-name.ts` and append it here; never edit an applied
 * one. Each backend runs the missing ones, each in its own transaction together with its `schema_migrations` row.
 */
import { initial } from './001-initial.js';
import { dataSafety } from './002-data-safety.js';
import { accessControl } from './003-access-control.js';
import { recordings } from './004-recordings.js';
import { voicemail } from './005-voicemail.js';
import { callSteps } from './006-call-steps.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** All migrations, ascending by version. */
export const MIGRATIONS: readonly Migration[] = [initial, dataSafety, accessControl, recordings, voicemail, callSteps];

/** DDL of the bookkeeping table (same in both dialects). */
export const SCHEMA_MIGRATIONS_DDL =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)';
