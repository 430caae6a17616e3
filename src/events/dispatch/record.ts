/**
 * Record stage: what an attempt means for its delivery (succeeded, failed for good, endpoint gone, retry at a
 * time from the retry policy), written as an attempt row plus the delivery's new status through the batched
 * attempt writer, with the counters and the one log line each outcome gets.
 */
import type { Clock } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import type { Delivery, DeliveryAttempt, Store } from '../../store/index.js';
import type { AttemptWriter } from '../attempt-writer.js';
import { assertDeliveryEdge } from '../delivery-state.js';
import type { StatsCounters } from '../delivery-stats.js';
import { decideRetry } from '../retry-policy.js';
import type { SentAttempt, SettledUnsent, UnsentReason } from './stages.js';

/** What {@link RecordStage} needs. */
export interface RecordStageDeps {
  store: Pick<Store, 'setEndpointDisabled'>;
  attempts: AttemptWriter;
  clock: Clock;
  log: Logger;
  stats: StatsCounters;
  rng: () => number;
  jitter: number;
  /** An endpoint answered 410 Gone and is now disabled. */
  onEndpointGone: (url: string) => void;
  /** A retry is due at `at` (clock ms). */
  onRetryAt: (at: number) => void;
}

/** How each unsent reason ends the delivery, and the line it logs. */
const UNSENT: Record<UnsentReason, { status: 'disabled' | 'failed'; message: string }> = {
  'endpoint-disabled': { status: 'disabled', message: 'webhook delivery stopped: endpoint is disabled' },
  'event-missing': { status: 'failed', message: 'webhook delivery failed: its event is missing from the outbox' },
  'private-target': { status: 'failed', message: 'webhook delivery refused: private target' },
};

/** Records attempts and their deliveries' new status. */
export class RecordStage {
  readonly #d: RecordStageDeps;

  constructor(deps: RecordStageDeps) {
    this.#d = deps;
  }

  /** Records `x`; resolves once durable (batched with other completions). */
  async record(x: SentAttempt | SettledUnsent): Promise<void> {
    if (x.kind === 'unsent') return this.#unsent(x);
    const { stats, log } = this.#d;
    stats.attempts++;
    stats.attempt.add(x.durationMs);
    if (log.isLevelEnabled('debug')) log.debug({ ...x.ctx, attempt: x.row.attempt, status_code: x.row.status_code, error: x.row.error, duration_ms: x.durationMs, type: x.event.type }, 'webhook attempt');
    return this.#settle(x);
  }

  async #unsent(x: SettledUnsent): Promise<void> {
    const u = UNSENT[x.reason];
    this.#d.log.warn(x.reason === 'private-target' ? { ...x.ctx, reason: x.row.error } : x.ctx, u.message);
    await this.#finish(x.delivery, x.row, u.status, null);
    if (u.status === 'disabled') this.#d.stats.disabled++;
    else this.#d.stats.failed++;
  }

  async #settle(x: SentAttempt): Promise<void> {
    const { store, clock, log, stats } = this.#d;
    const { delivery: d, row, outcome, ctx, settings } = x;
    switch (outcome.kind) {
      case 'succeeded': {
        const deliveredAt = clock.now();
        await this.#finish(d, row, 'succeeded', null);
        stats.sent++;
        const occurred = Date.parse(x.event.occurred_at);
        if (!Number.isNaN(occurred)) stats.latency.add(deliveredAt - occurred);
        return;
      }
      case 'failed':
        log.warn({ ...ctx, attempt: row.attempt, status_code: row.status_code, error: row.error }, 'webhook delivery failed for good');
        await this.#finish(d, row, 'failed', null);
        stats.failed++;
        return;
      case 'gone':
        await store.setEndpointDisabled(d.endpoint_url, true, `${row.error} on delivery ${d.delivery_id}`);
        this.#d.onEndpointGone(d.endpoint_url);
        log.error({ ...ctx, attempt: row.attempt, status_code: row.status_code }, 'webhook endpoint answered 410 Gone: endpoint disabled, its pending deliveries stop');
        await this.#finish(d, row, 'disabled', null);
        stats.disabled++;
        return;
      case 'retryable': {
        const decision = decideRetry({
          attempt: row.attempt, createdAtMs: d.created_at, nowMs: clock.now(), scheduleS: settings.retry_schedule_s,
          horizonS: settings.horizon_s, jitter: this.#d.jitter, rng: this.#d.rng, retryAfterMs: outcome.retryAfterMs,
        });
        if (decision.kind === 'give-up') {
          log.warn({ ...ctx, attempt: row.attempt, status_code: row.status_code, error: row.error }, `webhook delivery failed for good: ${decision.reason}`);
          await this.#finish(d, { ...row, error: `${row.error}; ${decision.reason}` }, 'failed', null);
          stats.failed++;
          return;
        }
        log.warn({ ...ctx, attempt: row.attempt, status_code: row.status_code, error: row.error, retry_in_ms: decision.delayMs }, 'webhook attempt failed; will retry');
        await this.#finish(d, row, 'pending', decision.at);
        stats.retries++;
        this.#d.onRetryAt(decision.at);
        return;
      }
    }
  }

  /** Records the attempt and the delivery's new status. */
  async #finish(d: Delivery, row: DeliveryAttempt, status: Delivery['status'], nextAt: number | null): Promise<void> {
    assertDeliveryEdge(d.status, status);
    await this.#d.attempts.write({ attempt: row, update: { status, next_attempt_at: nextAt, last_status_code: row.status_code, last_error: row.error } });
  }
}
