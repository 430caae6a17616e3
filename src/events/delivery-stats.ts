/**
 * Counters and latency percentiles of the dispatcher (`stats()`), kept in a fixed-size window so memory stays flat.
 */

/** What `Dispatcher.stats()` returns. */
export interface DeliveryStats {
  /** Pending deliveries in the store at the last refresh (the outbox backlog). */
  pending: number;
  /**
   * Events in the outbox not fanned out yet, at the last refresh. The backlog is `pending + undispatched`: while this
   * process has many deliveries unsent, fan-out is paced and the rest waits here.
   */
  undispatched: number;
  /** Requests in flight now. */
  inflight: number;
  /** Deliveries that succeeded (2xx) since start. */
  sent: number;
  /** Deliveries that failed for good (final 4xx, horizon passed) since start. */
  failed: number;
  /** Deliveries stopped because their endpoint is disabled (410) since start. */
  disabled: number;
  /** Attempts that failed and were scheduled again since start. */
  retries: number;
  /** Every HTTP attempt since start. */
  attempts: number;
  /** Events fanned out of the outbox since start (with or without a delivery). */
  fannedOut: number;
  /** From the event's `occurred_at` to its successful delivery, over the last {@link WINDOW} successes (ms). */
  latencyMs: { p50: number | null; p99: number | null };
  /** Duration of one HTTP attempt over the last {@link WINDOW} attempts (ms). */
  attemptMs: { p50: number | null; p99: number | null };
}

/** Samples kept per percentile window. */
export const WINDOW = 4096;

/** A ring of the last {@link WINDOW} samples. */
export class SampleWindow {
  #buf = new Float64Array(WINDOW);
  #n = 0;

  add(v: number): void {
    this.#buf[this.#n % WINDOW] = v;
    this.#n++;
  }

  /** Nearest-rank percentile (0 < q ≤ 1) of the samples kept, or null when empty. */
  percentile(q: number): number | null {
    const count = Math.min(this.#n, WINDOW);
    if (count === 0) return null;
    const sorted = Array.from(this.#buf.subarray(0, count)).sort((a, b) => a - b);
    return sorted[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))]!;
  }

  reset(): void {
    this.#n = 0;
  }
}

/** The dispatcher's mutable counters. */
export class StatsCounters {
  pending = 0;
  undispatched = 0;
  sent = 0;
  failed = 0;
  disabled = 0;
  retries = 0;
  attempts = 0;
  fannedOut = 0;
  readonly latency = new SampleWindow();
  readonly attempt = new SampleWindow();

  snapshot(inflight: number): DeliveryStats {
    return {
      pending: this.pending, undispatched: this.undispatched, inflight, sent: this.sent, failed: this.failed, disabled: this.disabled,
      retries: this.retries, attempts: this.attempts, fannedOut: this.fannedOut,
      latencyMs: { p50: this.latency.percentile(0.5), p99: this.latency.percentile(0.99) },
      attemptMs: { p50: this.attempt.percentile(0.5), p99: this.attempt.percentile(0.99) },
    };
  }
}
