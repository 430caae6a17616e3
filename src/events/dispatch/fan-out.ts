/**
 * Fan-out: creates one delivery per undispatched outbox event and its endpoint (in batches), and watches the
 * backlog (warned at `delivery.outbox_warn_at`). Runs before each claim, so deliveries start while a large backlog
 * is still being fanned out.
 */
import type { Clock } from '../../common/index.js';
import { newTimeOrderedId } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import type { PbxConfig } from '../../config/index.js';
import type { NewDelivery, OutboxEvent, Store } from '../../store/index.js';
import type { StatsCounters } from '../delivery-stats.js';
import { routeEvent } from '../endpoint.js';

/**
 * `dlv_` + a UUIDv7 stamped with the creation time, as 32 hex digits. Unique across processes, and time-ordered, so the
 * store's indexes on delivery_id (deliveries, attempts) grow at their right edge instead of at random pages: fan-out
 * and attempt records cost about a third less than with random ids.
 */
export function newDeliveryId(nowMs: number): string {
  return newTimeOrderedId('dlv', nowMs);
}

/** What {@link FanOutStage} needs. */
export interface FanOutDeps {
  store: Pick<Store, 'listUndispatchedEvents' | 'fanOutEvents' | 'countPendingDeliveries' | 'countUndispatchedEvents'>;
  clock: Clock;
  log: Logger;
  stats: StatsCounters;
  /** Events fanned out per pass. */
  batchSize: number;
  /** How often the backlog figures are read at most. */
  pollIntervalMs: number;
  /** The live configuration's version number, recorded on each delivery. */
  liveVersion?: () => number;
  /** Keeps a fanned-out event for its first attempt. */
  remember: (ev: OutboxEvent) => void;
}

/** Fans events out to deliveries and keeps the backlog figures. */
export class FanOutStage {
  readonly #d: FanOutDeps;
  /**
   * Whether the outbox may hold events not fanned out yet: set from outside (events committed), by each poll
   * (other processes' events) and by a full batch. Internal wake-ups (a completion, a retry timer) only claim, so
   * they skip the fan-out query.
   */
  #dirty = true;
  #backlogReadAt = -Infinity;
  #warned = false;

  constructor(deps: FanOutDeps) {
    this.#d = deps;
  }

  /** The outbox may have new events (committed here, or by another process). */
  markDirty(): void {
    this.#dirty = true;
  }

  /** Read the backlog figures at the next pass whatever their age (once per poll). */
  refreshBacklogSoon(): void {
    this.#backlogReadAt = -Infinity;
  }

  /**
   * One batch when the outbox may have undispatched events and `paced` is false; true when more may be waiting
   * (another pass should follow).
   */
  async run(cfg: PbxConfig, paced: boolean): Promise<boolean> {
    if (!this.#dirty || paced) return false;
    this.#dirty = false;
    let more: boolean;
    try {
      more = await this.#batch(cfg);
    } catch (err) {
      this.#dirty = true;
      throw err;
    }
    if (more) this.#dirty = true;
    return more;
  }

  /** Creates deliveries for a batch of undispatched events; true when there may be more. */
  async #batch(cfg: PbxConfig): Promise<boolean> {
    const { store, clock, log, batchSize } = this.#d;
    const events = await store.listUndispatchedEvents(batchSize);
    if (events.length === 0) return false;
    const now = clock.now();
    const rows: NewDelivery[] = [];
    const config_version = this.#d.liveVersion?.() ?? null;
    const invalid: string[] = [];
    for (const ev of events) {
      const r = routeEvent(ev, cfg);
      if ('url' in r) {
        rows.push({ delivery_id: newDeliveryId(now), event_id: ev.event_id, endpoint_url: r.url, next_attempt_at: now, config_version });
        this.#d.remember(ev);
      } else if (r.skip === 'webhook-invalid' || r.skip === 'component-invalid') {
        invalid.push(ev.event_id);
      } else {
        log.debug({ event_id: ev.event_id, type: ev.type, reason: r.skip }, 'webhook event kept without delivery');
      }
    }
    // One line per batch, not per event: a bad URL must not flood the log at call rate.
    if (invalid.length) log.error({ events: invalid.length, first_event_id: invalid[0] }, 'webhook events not delivered: endpoint configuration is invalid (url must be http(s), token non-empty)');
    await store.fanOutEvents(rows, events.map((e) => e.event_id));
    this.#d.stats.fannedOut += events.length;
    return events.length === batchSize;
  }

  /** Reads the pending and undispatched counts (at most once per poll interval) and warns while over `warnAt`. */
  async refreshBacklog(warnAt: number): Promise<void> {
    const { store, clock, log, stats } = this.#d;
    if (clock.now() - this.#backlogReadAt < this.#d.pollIntervalMs) return;
    this.#backlogReadAt = clock.now();
    stats.pending = await store.countPendingDeliveries();
    stats.undispatched = await store.countUndispatchedEvents();
    const backlog = stats.pending + stats.undispatched;
    if (!this.#warned && backlog >= warnAt) {
      this.#warned = true;
      log.warn({ pending: stats.pending, undispatched: stats.undispatched, outbox_warn_at: warnAt }, 'webhook outbox is growing: receivers are slow or down');
    } else if (this.#warned && backlog < warnAt * 0.9) {
      this.#warned = false;
      log.info({ pending: stats.pending, undispatched: stats.undispatched }, 'webhook outbox back under its warning level');
    }
  }
}
