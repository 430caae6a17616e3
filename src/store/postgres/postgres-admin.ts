/**
 * PostgreSQL: configuration versions and the staged configuration, admin API keys and the audit log (a part of
 * PostgresStore, see postgres-store.ts). Configs and audit changes are jsonb.
 */
import type { AdminKeyRecord, AuditEntry, StoredConfigVersion, Store } from '../store.js';
import { ADMIN_KEY_COLUMNS, AUDIT_COLUMNS, checkInt, pick } from '../sql/records.js';
import type { PostgresConnection, Row } from './postgres-connection.js';

/** The configuration and access-control methods of {@link Store} on PostgreSQL. */
export class PostgresAdmin {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async getLatestConfigVersion(): Promise<StoredConfigVersion | undefined> {
    const r = await this.#db.query('getLatestConfigVersion', 'SELECT version, config, created_at FROM config_versions ORDER BY version DESC LIMIT 1', []);
    return configRow(r.rows[0]);
  }

  async getConfigVersion(version: number): Promise<StoredConfigVersion | undefined> {
    const r = await this.#db.query('getConfigVersion', 'SELECT version, config, created_at FROM config_versions WHERE version = $1', [version]);
    return configRow(r.rows[0]);
  }

  async insertConfigVersion(config: unknown, nowIso: string): Promise<number> {
    return this.#db.tx('insertConfigVersion', async (c) => {
      // Serializes concurrent appliers (any process) so max+1 is never taken twice; readers are not blocked.
      await c.query('LOCK TABLE config_versions IN SHARE ROW EXCLUSIVE MODE');
      const r = await c.query(`INSERT INTO config_versions (version, config, created_at)
        SELECT COALESCE(MAX(version), 0) + 1, $1::jsonb, $2 FROM config_versions RETURNING version`, [JSON.stringify(config), nowIso]);
      return r.rows[0]!.version as number;
    });
  }

  async getStagedConfig(): Promise<unknown> {
    const r = await this.#db.query('getStagedConfig', 'SELECT config FROM staged_config WHERE id = 1', []);
    return r.rows[0] ? (r.rows[0].config as unknown) : undefined;
  }

  async setStagedConfig(config: unknown): Promise<void> {
    if (config === null) await this.#db.query('setStagedConfig', 'DELETE FROM staged_config WHERE id = 1', []);
    else await this.#db.query('setStagedConfig', `INSERT INTO staged_config (id, config) VALUES (1, $1::jsonb)
      ON CONFLICT (id) DO UPDATE SET config = excluded.config`, [JSON.stringify(config)]);
  }

  // admin keys and the audit log

  async insertAdminKey(k: AdminKeyRecord): Promise<void> {
    await this.#db.query('insertAdminKey', `INSERT INTO admin_keys (${ADMIN_KEY_COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5, $6)`,
      [k.key_id, k.name, k.key_hash, k.created_at, k.last_used_at, k.revoked_at]);
  }

  async listAdminKeys(): Promise<AdminKeyRecord[]> {
    const r = await this.#db.query('listAdminKeys', `SELECT ${ADMIN_KEY_COLUMNS.join(', ')} FROM admin_keys ORDER BY created_at, key_id`, []);
    return r.rows.map((row) => pick<AdminKeyRecord>(ADMIN_KEY_COLUMNS, row));
  }

  async findAdminKey(keyHash: string): Promise<AdminKeyRecord | undefined> {
    const r = await this.#db.query('findAdminKey', `SELECT ${ADMIN_KEY_COLUMNS.join(', ')} FROM admin_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash]);
    return r.rows[0] ? pick<AdminKeyRecord>(ADMIN_KEY_COLUMNS, r.rows[0]) : undefined;
  }

  async revokeAdminKey(keyId: string, nowMs: number): Promise<boolean> {
    const r = await this.#db.query('revokeAdminKey', 'UPDATE admin_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL', [nowMs, keyId]);
    return (r.rowCount ?? 0) > 0;
  }

  async touchAdminKey(keyId: string, nowMs: number): Promise<void> {
    await this.#db.query('touchAdminKey', 'UPDATE admin_keys SET last_used_at = $1 WHERE key_id = $2', [nowMs, keyId]);
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this.#db.query('appendAudit', `INSERT INTO audit_log (${AUDIT_COLUMNS.slice(1).join(', ')}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
      [e.at, e.key_id, e.key_name, e.source_ip, e.method, e.path, e.status, JSON.stringify(e.changes ?? null)]);
  }

  async listAudit(q: { offset: number; limit: number }): Promise<Array<AuditEntry & { seq: number }>> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    const r = await this.#db.query('listAudit', `SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_log ORDER BY seq DESC LIMIT $1 OFFSET $2`, [q.limit, q.offset]);
    return r.rows.map((row) => pick<AuditEntry & { seq: number }>(AUDIT_COLUMNS, row));
  }
}

function configRow(row: Row | undefined): StoredConfigVersion | undefined {
  if (!row) return undefined;
  const created = row.created_at;
  return { version: row.version as number, config: row.config as unknown, created_at: created instanceof Date ? created.toISOString() : String(created) };
}
