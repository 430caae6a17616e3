/**
 * SQLite: the outbox (events waiting for fan-out) and webhook deliveries, their attempts and endpoint states (a part
 * of SqliteCore, see sqlite-core.ts). Every multi-row write is one `BEGIN IMMEDIATE` transaction, so claiming
 * dispatchers in two processes sharing the file serialize.
 */
import type { AttemptRecord, Delivery, DeliveryAttempt, DeliveryStatus, DeliveryUpdate, NewDelivery, OutboxEvent, Store } from '../store.js';
import { ATTEMPT_COLUMNS, checkInt, DELIVERY_COLUMNS, EVENT_COLUMNS, eventFromRow, pick } from '../sql/records.js';
import { parseJson, type Row, type SqliteConnection } from './sqlite-connection.js';

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

/** The outbox and delivery methods of {@link Store} on one SQLite connection. */
export class SqliteOutbox {
  readonly #db: SqliteConnection;

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  async createDeliveries(rows: NewDelivery[]): Promise<number> {
    return this.#db.op('createDeliveries', () => this.#db.immediate(() => this.#createDeliveries(rows)));
  }

  async fanOutEvents(rows: NewDelivery[], eventIds: string[]): Promise<number> {
    return this.#db.op('fanOutEvents', () => this.#db.immediate(() => {
      const created = this.#createDeliveries(rows);
      this.#markDispatched(eventIds);
      return created;
    }));
  }

  async listUndispatchedEvents(limit: number): Promise<OutboxEvent[]> {
    checkInt(limit, 1, 'limit');
    return this.#db.op('listUndispatchedEvents', () => {
      const rows = this.#db.stmt(`${EVENT_SELECT} WHERE dispatched = 0 ORDER BY seq LIMIT ?`).all(limit) as Row[];
      return rows.map((r) => eventFromRow(r, parseJson));
    });
  }

  async markEventsDispatched(eventIds: string[]): Promise<void> {
    this.#db.op('markEventsDispatched', () => this.#db.immediate(() => this.#markDispatched(eventIds)));
  }

  async getEvent(eventId: string): Promise<OutboxEvent | undefined> {
    return this.#db.op('getEvent', () => {
      const row = this.#db.stmt(`${EVENT_SELECT} WHERE event_id = ?`).get(eventId) as Row | undefined;
      return row ? eventFromRow(row, parseJson) : undefined;
    });
  }

  /** Most overdue first (next_attempt_at, then creation order); see {@link Store.claimDueDeliveries}. */
  async claimDueDeliveries(nowMs: number, limit: number, leaseUntilMs: number, excludeEndpoints: readonly string[] = []): Promise<Delivery[]> {
    checkInt(limit, 1, 'limit');
    return this.#db.op('claimDueDeliveries', () => this.#db.immediate(() => {
      const exclude = excludeEndpoints.length ? 'AND d.endpoint_url NOT IN (SELECT value FROM json_each(?))' : '';
      const params: unknown[] = [nowMs, nowMs, ...(exclude ? [JSON.stringify(excludeEndpoints)] : []), limit];
      const rows = this.#db.stmt(`${DELIVERY_SELECT} AS d
        WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?) ${exclude}
          AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.status = 'pending' AND e.endpoint_url = d.endpoint_url
            AND e.unique_call_id = d.unique_call_id AND e.sequence < d.sequence)
        ORDER BY d.next_attempt_at, d.seq LIMIT ?`).all(...params) as Row[];
      const lease = this.#db.stmt('UPDATE deliveries SET lease_until = ? WHERE delivery_id = ?');
      for (const r of rows) lease.run(leaseUntilMs, r.delivery_id);
      return rows.map((r) => pick<Delivery>(DELIVERY_COLUMNS, r));
    }));
  }

  async releaseDeliveries(deliveryIds: string[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    this.#db.op('releaseDeliveries', () => this.#db.immediate(() => {
      const release = this.#db.stmt('UPDATE deliveries SET lease_until = NULL WHERE delivery_id = ?');
      for (const id of deliveryIds) release.run(id);
    }));
  }

  async recordAttempt(a: DeliveryAttempt, update: DeliveryUpdate): Promise<void> {
    this.#db.op('recordAttempt', () => this.#db.immediate(() => this.#recordAttempt(a, update)));
  }

  async recordAttempts(records: AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.#db.op('recordAttempts', () => this.#db.immediate(() => {
      for (const r of records) this.#recordAttempt(r.attempt, r.update);
    }));
  }

  async listDeliveries(q: { endpoint_url?: string; status?: DeliveryStatus; unique_call_id?: string; offset: number; limit: number }): Promise<Delivery[]> {
    checkInt(q.offset, 0, 'offset');
    checkInt(q.limit, 1, 'limit');
    return this.#db.op('listDeliveries', () => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (q.endpoint_url !== undefined) { where.push('endpoint_url = ?'); params.push(q.endpoint_url); }
      if (q.status !== undefined) { where.push('status = ?'); params.push(q.status); }
      if (q.unique_call_id !== undefined) { where.push('unique_call_id = ?'); params.push(q.unique_call_id); }
      const sql = `${DELIVERY_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ? OFFSET ?`;
      return (this.#db.stmt(sql).all(...params, q.limit, q.offset) as Row[]).map((r) => pick<Delivery>(DELIVERY_COLUMNS, r));
    });
  }

  async listAttempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return this.#db.op('listAttempts', () => {
      const rows = this.#db.stmt(`SELECT ${ATTEMPT_COLUMNS.join(', ')} FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt`).all(deliveryId);
      return (rows as Row[]).map((r) => pick<DeliveryAttempt>(ATTEMPT_COLUMNS, r));
    });
  }

  async getDelivery(deliveryId: string): Promise<Delivery | undefined> {
    return this.#db.op('getDelivery', () => {
      const row = this.#db.stmt(`${DELIVERY_SELECT} WHERE delivery_id = ?`).get(deliveryId) as Row | undefined;
      return row ? pick<Delivery>(DELIVERY_COLUMNS, row) : undefined;
    });
  }

  async redeliver(deliveryIds: string[], nowMs: number, retarget?: { endpoint_url: string; config_version: number | null }): Promise<number> {
    return this.#db.op('redeliver', () => this.#db.immediate(() => {
      const reset = retarget
        ? this.#db.stmt(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL, updated_at = ?, endpoint_url = ?, config_version = ?
          WHERE delivery_id = ?`)
        : this.#db.stmt(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL, updated_at = ?
          WHERE delivery_id = ?`);
      let n = 0;
      for (const id of deliveryIds) {
        n += (retarget ? reset.run(nowMs, nowMs, retarget.endpoint_url, retarget.config_version, id) : reset.run(nowMs, nowMs, id)).changes;
      }
      return n;
    }));
  }

  async countPendingDeliveries(): Promise<number> {
    return this.#db.op('countPendingDeliveries', () => (this.#db.stmt("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'").get() as { n: number }).n);
  }

  async countUndispatchedEvents(): Promise<number> {
    return this.#db.op('countUndispatchedEvents', () => (this.#db.stmt('SELECT count(*) AS n FROM outbox_events WHERE dispatched = 0').get() as { n: number }).n);
  }

  async setEndpointDisabled(url: string, disabled: boolean, reason: string | null): Promise<void> {
    this.#db.op('setEndpointDisabled', () => this.#db.stmt(`INSERT INTO endpoints (url, disabled, reason) VALUES (?, ?, ?)
      ON CONFLICT (url) DO UPDATE SET disabled = excluded.disabled, reason = excluded.reason`).run(url, disabled ? 1 : 0, reason));
  }

  async isEndpointDisabled(url: string): Promise<boolean> {
    return this.#db.op('isEndpointDisabled', () => {
      const row = this.#db.stmt('SELECT disabled FROM endpoints WHERE url = ?').get(url) as { disabled: number } | undefined;
      return row?.disabled === 1;
    });
  }

  /** The event's call, type and sequence are copied so that claiming can order per call without a join. */
  #createDeliveries(rows: NewDelivery[]): number {
    const insert = this.#db.stmt(`INSERT INTO deliveries (delivery_id, event_id, endpoint_url, unique_call_id, type, sequence,
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
    const mark = this.#db.stmt('UPDATE outbox_events SET dispatched = 1 WHERE event_id = ?');
    for (const id of eventIds) mark.run(id);
  }

  /** Throws (foreign key) when the delivery is unknown. */
  #recordAttempt(a: DeliveryAttempt, update: DeliveryUpdate): void {
    this.#db.stmt(INSERT_ATTEMPT).run(a.delivery_id, a.attempt, a.at, a.status_code, a.error, a.duration_ms);
    this.#db.stmt(UPDATE_AFTER_ATTEMPT).run(update.status, update.next_attempt_at, update.last_status_code, update.last_error, a.at, a.delivery_id);
    if (update.status === 'pending' && update.next_attempt_at !== null) this.#db.stmt(PUSH_LATER).run({ at: update.next_attempt_at, id: a.delivery_id });
  }
}
