/**
 * The SQLite store's database side: better-sqlite3, synchronous. It runs inside the store's worker thread
 * (sqlite-worker.ts), never on the SIP event loop; {@link SqliteStore} (sqlite-store.ts) is the async face that
 * forwards each Store call to it. One connection per store; WAL mode, `synchronous=NORMAL` (why: docs/store.md), a
 * busy timeout and foreign keys on. Every write that spans rows runs in a `BEGIN IMMEDIATE` transaction, so two
 * processes sharing one file serialize instead of failing on lock upgrade.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type {
  AdminKeyRecord, AuditEntry, AttemptRecord, CallCommit, CallRecord, Delivery, DeliveryAttempt, DeliveryStatus, DeliveryUpdate, GroupCallRecord, HistoryQuery,
  LegDialogRecord, LegRecord, NewDelivery, OutboxEvent, Registration, RetentionKind, Store, UserCallRecord, VoicemailMailUpdate, VoicemailRecord,
  RecordingQuery, RecordingRecord, StoredConfigVersion,
} from '../store.js';
import { listRecordingsSql, RECORDING_COLUMNS, recordingFromRow } from '../sql/recordings.js';
import { toStoreError } from '../errors.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from '../migrations/index.js';
import { historySql, SQLITE_DIALECT } from '../sql/history.js';
import {
  ADMIN_KEY_COLUMNS, ATTEMPT_COLUMNS, AUDIT_COLUMNS, CALLS, checkInt, nodeSuffixPattern, DELIVERY_COLUMNS, EVENT_COLUMNS, eventFromRow, fromRow, LEGS, normalizeIso, pick,
  QUEUE_CALLS, REGISTRATIONS, RING_GROUP_CALLS, rowValues, upsertSql, USER_CALLS, VOICEMAILS, type TableSpec,
} from '../sql/records.js';
import { SqliteCommitter, type CommitStats } from './sqlite-committer.js';
import { cutoffParam, DIALOG_COLUMNS, dialogFromRow, sweepPlan } from '../sql/maintenance.js';

/** What the worker opens a connection with (the cloneable part of SqliteStoreOptions). */
export interface SqliteCoreOptions {
  /** Database file (its directory is created if missing) or `':memory:'`. */
  file: string;
  /** How long a writer waits for another process's lock; default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * `PRAGMA synchronous`; default `normal`: in WAL mode a commit survives a process crash (kill -9) but the last
   * ones can be lost on power loss or an OS crash. `full` fsyncs every commit, which better-sqlite3 does on the
   * event loop: 5–6 ms more per transaction here (docs/store.md, bench/README.md).
   */
  synchronous?: 'normal' | 'full';
  /** Caps the database at this many pages (a full database is SQLITE_FULL, as a full disk); default no cap. */
  maxPageCount?: number;
}

type Row = Record<string, unknown>;
const STATEMENT_CACHE_MAX = 256;
const DELIVERY_SELECT = `SELECT ${DELIVERY_COLUMNS.join(', ')} FROM deliveries`;
const EVENT_SELECT = `SELECT ${EVENT_COLUMNS.join(', ')} FROM outbox_events`;
const INSERT_ATTEMPT = `INSERT INTO delivery_attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?)`;
const UPDATE_AFTER_ATTEMPT = `UPDATE deliveries SET status = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?,
    attempts = attempts + 1, updated_at = ?, lease_until = NULL WHERE delivery_id = ?`;
/** See {@link Store.recordAttempts}: a retried delivery's later pending deliveries (same call and endpoint) wait for it. */
const PUSH_LATER = `UPDATE deliveries SET next_attempt_at = @at
  WHERE status = 'pending' AND next_attempt_at < @at
    AND (endpoint_url, unique_call_id) = (SELECT endpoint_url, unique_call_id FROM deliveries WHERE delivery_id = @id)
    AND sequence > (SELECT sequence FROM deliveries WHERE delivery_id = @id)`;

/** A migration applied by {@link SqliteCore.migrate} (the store logs it on the main thread). */
export interface AppliedMigration { version: number; name: string }

/** The Store methods on one connection; synchronous inside (each resolves at once). Built in the worker only. */
export class SqliteCore implements Omit<Store, 'migrate'> {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #committer: SqliteCommitter;

  constructor(opts: SqliteCoreOptions) {
    try {
      if (opts.file !== ':memory:' && opts.file !== '') mkdirSync(dirname(resolve(opts.file)), { recursive: true });
      this.#db = new Database(opts.file);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
      this.#db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.#db.pragma('foreign_keys = ON');
      if (opts.maxPageCount !== undefined) this.#db.pragma(`max_page_count = ${Math.max(1, Math.trunc(opts.maxPageCount))}`);
    } catch (err) {
      throw toStoreError('open', err);
    }
    this.#committer = new SqliteCommitter(this.#db);
  }

  /** Applies the migrations not applied yet, stamping them `nowMs`; returns those it applied. */
  async migrate(nowMs: number): Promise<AppliedMigration[]> {
    const done: AppliedMigration[] = [];
    this.#op('migrate', () => {
      this.#db.exec(SCHEMA_MIGRATIONS_DDL);
      for (const m of MIGRATIONS) {
        const applied = this.#db.transaction(() => {
          if (this.#db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return false;
          this.#db.exec(m.sqlite);
          this.#db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(m.version, m.name, new Date(nowMs).toISOString());
          return true;
        }).immediate();
        if (applied) done.push({ version: m.version, name: m.name });
      }
    });
    return done;
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    this.#statements.clear();
    this.#op('close', () => this.#db.close());
  }

  // registrations

  async upsertRegistration(reg: Registration): Promise<void> {
    this.#op('upsertRegistration', () => this.#upsert(REGISTRATIONS, reg));
  }

  async removeRegistration(username: string, contact: string): Promise<void> {
    this.#op('removeRegistration', () => this.#stmt('DELETE FROM registrations WHERE username = ? AND contact = ?').run(username, contact));
  }

  async removeAllRegistrations(username: string): Promise<void> {
    this.#op('removeAllRegistrations', () => this.#stmt('DELETE FROM registrations WHERE username = ?').run(username));
  }

  async listRegistrations(username?: string): Promise<Registration[]> {
    return this.#op('listRegistrations', () => {
      const cols = REGISTRATIONS.columns.join(', ');
      const rows = username === undefined
        ? this.#stmt(`SELECT ${cols} FROM registrations ORDER BY username, contact`).all()
        : this.#stmt(`SELECT ${cols} FROM registrations WHERE username = ? ORDER BY contact`).all(username);
      return (rows as Row[]).map((r) => fromRow(REGISTRATIONS, r));
    });
  }

  async purgeExpiredRegistrations(nowMs: number): Promise<number> {
    return this.#op('purgeExpiredRegistrations', () => this.#stmt('DELETE FROM registrations WHERE expires_at <= ?').run(nowMs).changes);
  }

  // calls and events

  async commit(c: CallCommit): Promise<void> {
    this.#op('commit', () => this.#committer.write([c]));
  }

  /**
   * Writes many commits in one transaction, each row once (ours, not on {@link Store}): the CommitBatcher, bulk loads
   * (`bench/api-data.ts`). See sql/commit-plan.ts for how it equals writing them one by one.
   */
  async commitMany(commits: readonly CallCommit[]): Promise<void> {
    this.#op('commitMany', () => this.#committer.write(commits));
  }

  /** What the commit path wrote on this connection (ours: benchmarks state statements and rows per call with it). */
  async commitStats(): Promise<CommitStats> {
    return this.#committer.stats();
  }

  async getCall(uniqueCallId: string): Promise<CallRecord | undefined> {
    return this.#op('getCall', () => {
      const row = this.#stmt(`SELECT ${CALLS.columns.join(', ')} FROM calls WHERE unique_call_id = ?`).get(uniqueCallId) as Row | undefined;
      return row ? fromRow(CALLS, row) : undefined;
    });
  }

  async listLegs(uniqueCallId: string): Promise<LegRecord[]> {
    return this.#op('listLegs', () => {
      const rows = this.#stmt(`SELECT ${LEGS.columns.join(', ')} FROM legs WHERE unique_call_id = ? ORDER BY started_at, leg_id`).all(uniqueCallId);
      return (rows as Row[]).map((r) => fromRow(LEGS, r));
    });
  }

  async queryUserCalls(q: HistoryQuery): Promise<UserCallRecord[]> {
    return this.#op('queryUserCalls', () => this.#history(USER_CALLS, 'user_number', q));
  }

  async queryQueueCalls(q: HistoryQuery): Promise<GroupCallRecord[]> {
    return this.#op('queryQueueCalls', () => this.#history(QUEUE_CALLS, 'group_name', q));
  }

  async queryRingGroupCalls(q: HistoryQuery): Promise<GroupCallRecord[]> {
    return this.#op('queryRingGroupCalls', () => this.#history(RING_GROUP_CALLS, 'group_name', q));
  }

  // crash recovery and retention

  async listUnfinishedCalls(limit: number, nodeId?: number): Promise<CallRecord[]> {
    checkInt(limit, 1, 'limit');
    return this.#op('listUnfinishedCalls', () => {
      const rows = this.#stmt(`SELECT ${CALLS.columns.join(', ')} FROM calls WHERE ended_at IS NULL AND unique_call_id LIKE ? ORDER BY call_start_at LIMIT ?`).all(nodeSuffixPattern(nodeId), limit);
      return (rows as Row[]).map((r) => fromRow(CALLS, r));
    });
  }

  async listCallEvents(uniqueCallId: string): Promise<OutboxEvent[]> {
    return this.#op('listCallEvents', () =>
      (this.#stmt(`${EVENT_SELECT} WHERE unique_call_id = ? ORDER BY sequence`).all(uniqueCallId) as Row[]).map((r) => eventFromRow(r, parseJson)));
  }

  async listLegDialogs(uniqueCallId: string): Promise<LegDialogRecord[]> {
    return this.#op('listLegDialogs', () =>
      (this.#stmt(`SELECT ${DIALOG_COLUMNS.join(', ')} FROM leg_dialogs WHERE unique_call_id = ? ORDER BY leg_id`).all(uniqueCallId) as Row[])
        .map((r) => dialogFromRow(r, parseJson)));
  }

  async recordHeartbeat(nodeId: number, nowMs: number): Promise<void> {
    this.#op('recordHeartbeat', () => this.#stmt(`INSERT INTO engine_nodes (node_id, heartbeat_at) VALUES (?, ?)
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`).run(nodeId, nowMs));
  }

  async getHeartbeat(nodeId: number): Promise<number | undefined> {
    return this.#op('getHeartbeat', () => (this.#stmt('SELECT heartbeat_at FROM engine_nodes WHERE node_id = ?').get(nodeId) as { heartbeat_at: number } | undefined)?.heartbeat_at);
  }

  async sweep(kind: RetentionKind, beforeMs: number, limit: number): Promise<number> {
    checkInt(limit, 1, 'limit');
    const plan = sweepPlan(kind, 'dispatched = 1');
    const cutoff = cutoffParam(plan, beforeMs);
    return this.#op('sweep', () => this.#db.transaction(() => {
      const ids = (this.#stmt(plan.select).all(cutoff, limit) as Array<{ id: string }>).map((r) => r.id);
      if (ids.length === 0) return 0;
      const list = JSON.stringify(ids);
      for (const d of plan.deletes) this.#stmt(`DELETE FROM ${d.table} WHERE ${d.column} IN (SELECT value FROM json_each(?))`).run(list);
      return ids.length;
    }).immediate());
  }

  // outbox and deliveries

  async createDeliveries(rows: NewDelivery[]): Promise<number> {
    return this.#op('createDeliveries', () => this.#db.transaction(() => this.#createDeliveries(rows)).immediate());
  }

  async fanOutEvents(rows: NewDelivery[], eventIds: string[]): Promise<number> {
    return this.#op('fanOutEvents', () => this.#db.transaction(() => {
      const created = this.#createDeliveries(rows);
      this.#markDispatched(eventIds);
      return created;
    }).immediate());
  }

  async listUndispatchedEvents(limit: number): Promise<OutboxEvent[]> {
    checkInt(limit, 1, 'limit');
    return this.#op('listUndispatchedEvents', () => {
      const rows = this.#stmt(`${EVENT_SELECT} WHERE dispatched = 0 ORDER BY seq LIMIT ?`).all(limit) as Row[];
      return rows.map((r) => eventFromRow(r, parseJson));
    });
  }

  async markEventsDispatched(eventIds: string[]): Promise<void> {
    this.#op('markEventsDispatched', () => this.#db.transaction(() => this.#markDispatched(eventIds)).immediate());
  }

  async getEvent(eventId: string): Promise<OutboxEvent | undefined> {
    return this.#op('getEvent', () => {
      const row = this.#stmt(`${EVENT_SELECT} WHERE event_id = ?`).get(eventId) as Row | undefined;
      return row ? eventFromRow(row, parseJson) : undefined;
    });
  }

  /** Most overdue first (next_attempt_at, then creation order); see {@link Store.claimDueDeliveries}. */
  async claimDueDeliveries(nowMs: number, limit: number, leaseUntilMs: number, excludeEndpoints: readonly string[] = []): Promise<Delivery[]> {
    checkInt(limit, 1, 'limit');
    return this.#op('claimDueDeliveries', () => this.#db.transaction(() => {
      const exclude = excludeEndpoints.length ? 'AND d.endpoint_url NOT IN (SELECT value FROM json_each(?))' : '';
      const params: unknown[] = [nowMs, nowMs, ...(exclude ? [JSON.stringify(excludeEndpoints)] : []), limit];
      const rows = this.#stmt(`${DELIVERY_SELECT} AS d
        WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?) ${exclude}
          AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.status = 'pending' AND e.endpoint_url = d.endpoint_url
            AND e.unique_call_id = d.unique_call_id AND e.sequence < d.sequence)
        ORDER BY d.next_attempt_at, d.seq LIMIT ?`).all(...params) as Row[];
      const lease = this.#stmt('UPDATE deliveries SET lease_until = ? WHERE delivery_id = ?');
      for (const r of rows) lease.run(leaseUntilMs, r.delivery_id);
      return rows.map((r) => pick<Delivery>(DELIVERY_COLUMNS, r));
    }).immediate());
  }

  async releaseDeliveries(deliveryIds: string[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    this.#op('releaseDeliveries', () => this.#db.transaction(() => {
      const release = this.#stmt('UPDATE deliveries SET lease_until = NULL WHERE delivery_id = ?');
      for (const id of deliveryIds) release.run(id);
    }).immediate());
  }

  async recordAttempt(a: DeliveryAttempt, update: DeliveryUpdate): Promise<void> {
    this.#op('recordAttempt', () => this.#db.transaction(() => this.#recordAttempt(a, update)).immediate());
  }

  async recordAttempts(records: AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.#op('recordAttempts', () => this.#db.transaction(() => {
      for (const r of records) this.#recordAttempt(r.attempt, r.update);
    }).immediate());
  }

  async listDeliveries(q: { endpoint_url?: string; status?: DeliveryStatus; unique_call_id?: string; offset: number; limit: number }): Promise<Delivery[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    return this.#op('listDeliveries', () => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.endpoint_url !== undefined) { where.push('endpoint_url = ?'); params.push(q.endpoint_url); }
      if (q.status !== undefined) { where.push('status = ?'); params.push(q.status); }
      if (q.unique_call_id !== undefined) { where.push('unique_call_id = ?'); params.push(q.unique_call_id); }
      const sql = `${DELIVERY_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ? OFFSET ?`;
      return (this.#stmt(sql).all(...params, q.limit, q.offset) as Row[]).map((r) => pick<Delivery>(DELIVERY_COLUMNS, r));
    });
  }

  async listAttempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return this.#op('listAttempts', () => {
      const rows = this.#stmt(`SELECT ${ATTEMPT_COLUMNS.join(', ')} FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt`).all(deliveryId);
      return (rows as Row[]).map((r) => pick<DeliveryAttempt>(ATTEMPT_COLUMNS, r));
    });
  }

  async getDelivery(deliveryId: string): Promise<Delivery | undefined> {
    return this.#op('getDelivery', () => {
      const row = this.#stmt(`${DELIVERY_SELECT} WHERE delivery_id = ?`).get(deliveryId) as Row | undefined;
      return row ? pick<Delivery>(DELIVERY_COLUMNS, row) : undefined;
    });
  }

  async redeliver(deliveryIds: string[], nowMs: number, retarget?: { endpoint_url: string; config_version: number | null }): Promise<number> {
    return this.#op('redeliver', () => this.#db.transaction(() => {
      const reset = retarget
        ? this.#stmt(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL, updated_at = ?, endpoint_url = ?, config_version = ?
          WHERE delivery_id = ?`)
        : this.#stmt(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL, updated_at = ?
          WHERE delivery_id = ?`);
      let n = 0;
      for (const id of deliveryIds) {
        n += (retarget ? reset.run(nowMs, nowMs, retarget.endpoint_url, retarget.config_version, id) : reset.run(nowMs, nowMs, id)).changes;
      }
      return n;
    }).immediate());
  }

  async countPendingDeliveries(): Promise<number> {
    return this.#op('countPendingDeliveries', () => (this.#stmt("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'").get() as { n: number }).n);
  }

  async countUndispatchedEvents(): Promise<number> {
    return this.#op('countUndispatchedEvents', () => (this.#stmt('SELECT count(*) AS n FROM outbox_events WHERE dispatched = 0').get() as { n: number }).n);
  }

  async setEndpointDisabled(url: string, disabled: boolean, reason: string | null): Promise<void> {
    this.#op('setEndpointDisabled', () => this.#stmt(`INSERT INTO endpoints (url, disabled, reason) VALUES (?, ?, ?)
      ON CONFLICT (url) DO UPDATE SET disabled = excluded.disabled, reason = excluded.reason`).run(url, disabled ? 1 : 0, reason));
  }

  async isEndpointDisabled(url: string): Promise<boolean> {
    return this.#op('isEndpointDisabled', () => {
      const row = this.#stmt('SELECT disabled FROM endpoints WHERE url = ?').get(url) as { disabled: number } | undefined;
      return row?.disabled === 1;
    });
  }

  // configuration versions

  async getLatestConfigVersion(): Promise<StoredConfigVersion | undefined> {
    return this.#op('getLatestConfigVersion', () =>
      configRow(this.#stmt('SELECT version, config, created_at FROM config_versions ORDER BY version DESC LIMIT 1').get() as Row | undefined));
  }

  async getConfigVersion(version: number): Promise<StoredConfigVersion | undefined> {
    return this.#op('getConfigVersion', () =>
      configRow(this.#stmt('SELECT version, config, created_at FROM config_versions WHERE version = ?').get(version) as Row | undefined));
  }

  async insertConfigVersion(config: unknown, nowIso: string): Promise<number> {
    return this.#op('insertConfigVersion', () => this.#db.transaction(() => {
      const { v } = this.#stmt('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM config_versions').get() as { v: number };
      this.#stmt('INSERT INTO config_versions (version, config, created_at) VALUES (?, ?, ?)')
        .run(v, JSON.stringify(config), normalizeIso(nowIso, 'created_at'));
      return v;
    }).immediate());
  }

  async getStagedConfig(): Promise<unknown> {
    return this.#op('getStagedConfig', () => {
      const row = this.#stmt('SELECT config FROM staged_config WHERE id = 1').get() as { config: string } | undefined;
      return row ? (JSON.parse(row.config) as unknown) : undefined;
    });
  }

  async setStagedConfig(config: unknown): Promise<void> {
    this.#op('setStagedConfig', () => {
      if (config === null) this.#stmt('DELETE FROM staged_config WHERE id = 1').run();
      else this.#stmt(`INSERT INTO staged_config (id, config) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET config = excluded.config`)
        .run(JSON.stringify(config));
    });
  }

  // admin keys and the audit log

  async insertAdminKey(k: AdminKeyRecord): Promise<void> {
    this.#op('insertAdminKey', () => this.#stmt(`INSERT INTO admin_keys (${ADMIN_KEY_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(k.key_id, k.name, k.key_hash, k.created_at, k.last_used_at, k.revoked_at));
  }

  async listAdminKeys(): Promise<AdminKeyRecord[]> {
    return this.#op('listAdminKeys', () => (this.#stmt(`SELECT ${ADMIN_KEY_COLUMNS.join(', ')} FROM admin_keys ORDER BY created_at, key_id`).all() as Row[])
      .map((r) => pick<AdminKeyRecord>(ADMIN_KEY_COLUMNS, r)));
  }

  async findAdminKey(keyHash: string): Promise<AdminKeyRecord | undefined> {
    return this.#op('findAdminKey', () => {
      const row = this.#stmt(`SELECT ${ADMIN_KEY_COLUMNS.join(', ')} FROM admin_keys WHERE key_hash = ? AND revoked_at IS NULL`).get(keyHash) as Row | undefined;
      return row ? pick<AdminKeyRecord>(ADMIN_KEY_COLUMNS, row) : undefined;
    });
  }

  async revokeAdminKey(keyId: string, nowMs: number): Promise<boolean> {
    return this.#op('revokeAdminKey', () => this.#stmt('UPDATE admin_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL').run(nowMs, keyId).changes > 0);
  }

  async touchAdminKey(keyId: string, nowMs: number): Promise<void> {
    this.#op('touchAdminKey', () => this.#stmt('UPDATE admin_keys SET last_used_at = ? WHERE key_id = ?').run(nowMs, keyId));
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    this.#op('appendAudit', () => this.#stmt(`INSERT INTO audit_log (${AUDIT_COLUMNS.slice(1).join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(e.at, e.key_id, e.key_name, e.source_ip, e.method, e.path, e.status, JSON.stringify(e.changes ?? null)));
  }

  async listAudit(q: { offset: number; limit: number }): Promise<Array<AuditEntry & { seq: number }>> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    return this.#op('listAudit', () => (this.#stmt(`SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_log ORDER BY seq DESC LIMIT ? OFFSET ?`).all(q.limit, q.offset) as Row[])
      .map((r) => ({ ...pick<AuditEntry & { seq: number }>(AUDIT_COLUMNS, r), changes: parseJson(r.changes) })));
  }

  // voicemail

  async listVoicemails(q: { user_number: string; unheard?: boolean; offset: number; limit: number }): Promise<VoicemailRecord[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    const unheard = q.unheard ? ' AND heard_at IS NULL' : '';
    return this.#op('listVoicemails', () => (this.#stmt(`SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails WHERE user_number = ?${unheard}
      ORDER BY recorded_at DESC, message_id DESC LIMIT ? OFFSET ?`).all(q.user_number, q.limit, q.offset) as Row[]).map((r) => fromRow(VOICEMAILS, r)));
  }

  async getVoicemail(messageId: string): Promise<VoicemailRecord | undefined> {
    return this.#op('getVoicemail', () => {
      const row = this.#stmt(`SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails WHERE message_id = ?`).get(messageId) as Row | undefined;
      return row ? fromRow(VOICEMAILS, row) : undefined;
    });
  }

  async setVoicemailHeard(messageId: string, heardAt: string | null): Promise<boolean> {
    const at = heardAt === null ? null : normalizeIso(heardAt, 'heard_at');
    return this.#op('setVoicemailHeard', () => this.#stmt('UPDATE voicemails SET heard_at = ? WHERE message_id = ?').run(at, messageId).changes > 0);
  }

  async deleteVoicemail(messageId: string): Promise<boolean> {
    return this.#op('deleteVoicemail', () => this.#stmt('DELETE FROM voicemails WHERE message_id = ?').run(messageId).changes > 0);
  }

  async listVoicemailMailDue(nowMs: number, limit: number): Promise<VoicemailRecord[]> {
    checkInt(limit, 1, 'limit');
    return this.#op('listVoicemailMailDue', () => (this.#stmt(`SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails
      WHERE mail_status = 'pending' AND mail_next_at <= ? ORDER BY mail_next_at, message_id LIMIT ?`).all(nowMs, limit) as Row[]).map((r) => fromRow(VOICEMAILS, r)));
  }

  async listVoicemailMailFailures(q: { offset: number; limit: number }): Promise<VoicemailRecord[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    return this.#op('listVoicemailMailFailures', () => (this.#stmt(`SELECT ${VOICEMAILS.columns.join(', ')} FROM voicemails
      WHERE mail_status = 'failed' ORDER BY recorded_at DESC, message_id DESC LIMIT ? OFFSET ?`).all(q.limit, q.offset) as Row[]).map((r) => fromRow(VOICEMAILS, r)));
  }

  async updateVoicemailMail(messageId: string, u: VoicemailMailUpdate): Promise<void> {
    const sent = u.mail_sent_at === null ? null : normalizeIso(u.mail_sent_at, 'mail_sent_at');
    this.#op('updateVoicemailMail', () => this.#stmt(`UPDATE voicemails SET mail_status = ?, mail_attempts = ?, mail_next_at = ?,
      mail_last_error = ?, mail_sent_at = ? WHERE message_id = ?`).run(u.mail_status, u.mail_attempts, u.mail_next_at, u.mail_last_error, sent, messageId));
  }

  // call recordings

  async listRecordings(q: RecordingQuery): Promise<RecordingRecord[]> {
    const { sql, params } = listRecordingsSql(q, () => '?');
    return this.#op('listRecordings', () => (this.#stmt(sql).all(...params) as Row[]).map(recordingFromRow));
  }

  async getRecording(recordingId: string): Promise<RecordingRecord | undefined> {
    return this.#op('getRecording', () => {
      const row = this.#stmt(`SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings WHERE recording_id = ?`).get(recordingId) as Row | undefined;
      return row ? recordingFromRow(row) : undefined;
    });
  }

  async deleteRecording(recordingId: string): Promise<boolean> {
    return this.#op('deleteRecording', () => this.#stmt('DELETE FROM recordings WHERE recording_id = ?').run(recordingId).changes > 0);
  }

  async deleteRecordings(recordingIds: readonly string[]): Promise<number> {
    if (recordingIds.length === 0) return 0;
    return this.#op('deleteRecordings', () => this.#db.transaction(() =>
      this.#stmt('DELETE FROM recordings WHERE recording_id IN (SELECT value FROM json_each(?))').run(JSON.stringify(recordingIds)).changes).immediate());
  }

  async listRecordingsBefore(beforeMs: number, limit: number): Promise<RecordingRecord[]> {
    checkInt(limit, 1, 'limit');
    const before = new Date(beforeMs).toISOString();
    return this.#op('listRecordingsBefore', () => (this.#stmt(`SELECT ${RECORDING_COLUMNS.join(', ')} FROM recordings WHERE created_at < ? ORDER BY created_at, recording_id LIMIT ?`)
      .all(before, limit) as Row[]).map(recordingFromRow));
  }

  // internals

  /** Runs `fn`, turning anything it throws into a StoreError naming `operation`. */
  #op<T>(operation: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStoreError(operation, err);
    }
  }

  /** A prepared statement, cached by its SQL text. */
  #stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) {
      if (this.#statements.size >= STATEMENT_CACHE_MAX) this.#statements.clear();
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** The event's call, type and sequence are copied so that claiming can order per call without a join. */
  #createDeliveries(rows: NewDelivery[]): number {
    const insert = this.#stmt(`INSERT INTO deliveries (delivery_id, event_id, endpoint_url, unique_call_id, type, sequence,
        status, attempts, next_attempt_at, created_at, updated_at, config_version)
      SELECT ?, event_id, ?, unique_call_id, type, sequence, 'pending', 0, ?, ?, ?, ? FROM outbox_events WHERE event_id = ?
      ON CONFLICT (event_id, endpoint_url) DO NOTHING`);
    let created = 0;
    for (const r of rows) {
      const at = r.created_at ?? r.next_attempt_at;
      created += insert.run(r.delivery_id, r.endpoint_url, r.next_attempt_at, at, at, r.config_version ?? null, r.event_id).changes;
    }
    return created;
  }

  #markDispatched(eventIds: string[]): void {
    const mark = this.#stmt('UPDATE outbox_events SET dispatched = 1 WHERE event_id = ?');
    for (const id of eventIds) mark.run(id);
  }

  /** Throws (foreign key) when the delivery is unknown. */
  #recordAttempt(a: DeliveryAttempt, update: DeliveryUpdate): void {
    this.#stmt(INSERT_ATTEMPT).run(a.delivery_id, a.attempt, a.at, a.status_code, a.error, a.duration_ms);
    this.#stmt(UPDATE_AFTER_ATTEMPT).run(update.status, update.next_attempt_at, update.last_status_code, update.last_error, a.at, a.delivery_id);
    if (update.status === 'pending' && update.next_attempt_at !== null) this.#stmt(PUSH_LATER).run({ at: update.next_attempt_at, id: a.delivery_id });
  }

  #upsert<R>(spec: TableSpec<R>, rec: R): void {
    this.#stmt(upsertSql(spec, SQLITE_DIALECT.ph)).run(...rowValues(spec, rec));
  }

  #history<R>(spec: TableSpec<R>, nameColumn: string, q: HistoryQuery): R[] {
    const { sql, params } = historySql(spec, nameColumn, q, SQLITE_DIALECT);
    return (this.#stmt(sql).all(...params) as Row[]).map((r) => fromRow(spec, r));
  }
}

function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

function configRow(row: Row | undefined): StoredConfigVersion | undefined {
  if (!row) return undefined;
  return { version: row.version as number, config: JSON.parse(row.config as string) as unknown, created_at: row.created_at as string };
}
