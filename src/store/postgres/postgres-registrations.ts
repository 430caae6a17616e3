/** PostgreSQL: the registrar's bindings (a part of PostgresStore, see postgres-store.ts). */
import type { Registration, Store } from '../store.js';
import { fromRow, REGISTRATIONS, rowValues, upsertSql } from '../sql/records.js';
import { PH, type PostgresConnection } from './postgres-connection.js';

/** The registration methods of {@link Store} on PostgreSQL. */
export class PostgresRegistrations {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async upsertRegistration(reg: Registration): Promise<void> {
    await this.#db.query('upsertRegistration', upsertSql(REGISTRATIONS, PH), rowValues(REGISTRATIONS, reg));
  }

  async removeRegistration(username: string, contact: string): Promise<void> {
    await this.#db.query('removeRegistration', 'DELETE FROM registrations WHERE username = $1 AND contact = $2', [username, contact]);
  }

  async removeAllRegistrations(username: string): Promise<void> {
    await this.#db.query('removeAllRegistrations', 'DELETE FROM registrations WHERE username = $1', [username]);
  }

  async listRegistrations(username?: string): Promise<Registration[]> {
    const cols = REGISTRATIONS.columns.join(', ');
    const r = username === undefined
      ? await this.#db.query('listRegistrations', `SELECT ${cols} FROM registrations ORDER BY username, contact`, [])
      : await this.#db.query('listRegistrations', `SELECT ${cols} FROM registrations WHERE username = $1 ORDER BY contact`, [username]);
    return r.rows.map((row) => fromRow(REGISTRATIONS, row));
  }

  async purgeExpiredRegistrations(nowMs: number): Promise<number> {
    return (await this.#db.query('purgeExpiredRegistrations', 'DELETE FROM registrations WHERE expires_at <= $1', [nowMs])).rowCount ?? 0;
  }
}
