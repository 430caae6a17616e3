/**
 * A fresh PostgreSQL database per test file on the local server (SWITCHBOARD_TEST_PG_URL names a database on it;
 * we create a sibling), dropped at the end, so engines of one test share a store and nothing of other runs.
 */
import pg from 'pg';

const BASE = process.env.SWITCHBOARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  const admin = new URL(BASE);
  admin.pathname = '/postgres';
  const a = new pg.Client({ connectionString: admin.toString() });
  await a.connect();
  await a.query(`CREATE DATABASE ${name}`);
  await a.end();
  const url = new URL(BASE);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return {
    url: url.toString(),
    query: async (sql, params) => (await client.query(sql, params)).rows,
    async drop() {
      await client.end().catch(() => undefined);
      const d = new pg.Client({ connectionString: admin.toString() });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await d.end();
    },
  };
}
