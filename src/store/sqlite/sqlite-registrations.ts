/** SQLite: the registrar's bindings (a part of SqliteCore, see sqlite-core.ts). */
import type { Registration, Store } from '../store.js';
import { SQLITE_DIALECT } from '../sql/history.js';
import { fromRow, REGISTRATIONS, rowValues, upsertSql, type TableSpec } from '../sql/records.js';
import type { Row, SqliteConnection } from './sqlite-connection.js';

/** The registration methods of {@link Store} on one SQLite connection. */
export class SqliteRegistrations {
  readonly #db: SqliteConnection;

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  async upsertRegistration(reg: Registration): Promise<void> {
    this.#db.op('upsertRegistration', () => this.#upsert(REGISTRATIONS, reg));
  }

  async removeRegistration(username: string, contact: string): Promise<void> {
    this.#db.op('removeRegistration', () => this.#db.stmt('DELETE FROM registrations WHERE username = ? AND contact = ?').run(username, contact));
  }

  async removeAllRegistrations(username: string): Promise<void> {
    this.#db.op('removeAllRegistrations', () => this.#db.stmt('DELETE FROM registrations WHERE username = ?').run(username));
  }

  async listRegistrations(username?: string): Promise<Registration[]> {
    return this.#db.op('listRegistrations', () => {
      const cols = REGISTRATIONS.columns.join(', ');
      const rows = username === undefined
        ? this.#db.stmt(`SELECT ${cols} FROM registrations ORDER BY username, contact`).all()
        : this.#db.stmt(`SELECT ${cols} FROM registrations WHERE username = ? ORDER BY contact`).all(username);
      return (rows as Row[]).map((r) => fromRow(REGISTRATIONS, r));
    });
  }

  async purgeExpiredRegistrations(nowMs: number): Promise<number> {
    return this.#db.op('purgeExpiredRegistrations', () => this.#db.stmt('DELETE FROM registrations WHERE expires_at <= ?').run(nowMs).changes);
  }

  #upsert<R>(spec: TableSpec<R>, rec: R): void {
    this.#db.stmt(upsertSql(spec, SQLITE_DIALECT.ph)).run(...rowValues(spec, rec));
  }
}
