/**
 * SQLite: configuration versions and the staged configuration, admin API keys and the audit log (a part of
 * SqliteCore, see sqlite-core.ts). Configs and audit changes are JSON text.
 */
import type { AdminKeyRecord, AuditEntry, StoredConfigVersion, Store } from '../store.js';
import { ADMIN_KEY_COLUMNS, AUDIT_COLUMNS, checkInt, normalizeIso, pick } from '../sql/records.js';
import { parseJson, type Row, type SqliteConnection } from './sqlite-connection.js';

/** The configuration and access-control methods of {@link Store} on one SQLite connection. */
export class SqliteAdmin {
  readonly #db: SqliteConnection;

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  async getLatestConfigVersion(): Promise<StoredConfigVersion | undefined> {
    return this.#db.op('getLatestConfigVersion', () =>
      configRow(this.#db.stmt('SELECT version, config, created_at FROM config_versions ORDER BY version DESC LIMIT 1').get() as Row | undefined));
  }

  async getConfigVersion(version: number): Promise<StoredConfigVersion | undefined> {
    return this.#db.op('getConfigVersion', () =>
      configRow(this.#db.stmt('SELECT version, config, created_at FROM config_versions WHERE version = ?').get(version) as Row | undefined));
  }

  async insertConfigVersion(config: unknown, nowIso: string): Promise<number> {
    return this.#db.op('insertConfigVersion', () => this.#db.immediate(() => {
      const { v } = this.#db.stmt('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM config_versions').get() as { v: number };
      this.#db.stmt('INSERT INTO config_versions (version, config, created_at) VALUES (?, ?, ?)')
        .run(v, JSON.stringify(config), normalizeIso(nowIso, 'created_at'));
      return v;
    }));
  }

  async getStagedConfig(): Promise<unknown> {
    return this.#db.op('getStagedConfig', () => {
      const row = this.#db.stmt('SELECT config FROM staged_config WHERE id = 1').get() as { config: string } | undefined;
      return row ? (JSON.parse(row.config) as unknown) : undefined;
    });
  }

  async setStagedConfig(config: unknown): Promise<void> {
    this.#db.op('setStagedConfig', () => {
      if (config === null) this.#db.stmt('DELETE FROM staged_config WHERE id = 1').run();
      else this.#db.stmt(`INSERT INTO staged_config (id, config) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET config = excluded.config`)
        .run(JSON.stringify(config));
    });
  }

  // admin keys and the audit log

  async insertAdminKey(k: AdminKeyRecord): Promise<void> {
    this.#db.op('insertAdminKey', () => this.#db.stmt(`INSERT INTO admin_keys (${ADMIN_KEY_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(k.key_id, k.name, k.key_hash, k.created_at, k.last_used_at, k.revoked_at));
  }

  async listAdminKeys(): Promise<AdminKeyRecord[]> {
    return this.#db.op('listAdminKeys', () => (this.#db.stmt(`SELECT ${ADMIN_KEY_COLUMNS.join(', ')} FROM admin_keys ORDER BY created_at, key_id`).all() as Row[])
      .map((r) => pick<AdminKeyRecord>(ADMIN_KEY_COLUMNS, r)));
  }

  async findAdminKey(keyHash: string): Promise<AdminKeyRecord | undefined> {
    return this.#db.op('findAdminKey', () => {
      const row = this.#db.stmt(`SELECT ${ADMIN_KEY_COLUMNS.join(', ')} FROM admin_keys WHERE key_hash = ? AND revoked_at IS NULL`).get(keyHash) as Row | undefined;
      return row ? pick<AdminKeyRecord>(ADMIN_KEY_COLUMNS, row) : undefined;
    });
  }

  async revokeAdminKey(keyId: string, nowMs: number): Promise<boolean> {
    return this.#db.op('revokeAdminKey', () => this.#db.stmt('UPDATE admin_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL').run(nowMs, keyId).changes > 0);
  }

  async touchAdminKey(keyId: string, nowMs: number): Promise<void> {
    this.#db.op('touchAdminKey', () => this.#db.stmt('UPDATE admin_keys SET last_used_at = ? WHERE key_id = ?').run(nowMs, keyId));
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    this.#db.op('appendAudit', () => this.#db.stmt(`INSERT INTO audit_log (${AUDIT_COLUMNS.slice(1).join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(e.at, e.key_id, e.key_name, e.source_ip, e.method, e.path, e.status, JSON.stringify(e.changes ?? null)));
  }

  async listAudit(q: { offset: number; limit: number }): Promise<Array<AuditEntry & { seq: number }>> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    return this.#db.op('listAudit', () => (this.#db.stmt(`SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_log ORDER BY seq DESC LIMIT ? OFFSET ?`).all(q.limit, q.offset) as Row[])
      .map((r) => ({ ...pick<AuditEntry & { seq: number }>(AUDIT_COLUMNS, r), changes: parseJson(r.changes) })));
  }
}

function configRow(row: Row | undefined): StoredConfigVersion | undefined {
  if (!row) return undefined;
  return { version: row.version as number, config: JSON.parse(row.config as string) as unknown, created_at: row.created_at as string };
}
