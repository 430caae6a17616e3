/** A numbered schema change, in both dialects. Applied once, in a transaction, and recorded in `schema_migrations`. */
export interface Migration {
  /** 1, 2, 3, … in order; never reused. */
  version: number;
  name: string;
  /** SQL script for SQLite (several statements). */
  sqlite: string;
  /** SQL script for PostgreSQL (several statements, run with the schema on the search_path). */
  postgres: string;
}
