/**
 * Claim stage: leases due deliveries from the store within the free slots, `delivery.concurrency` in all and
 * `delivery.per_endpoint_concurrency` per endpoint URL, so a receiver that hangs holds only its share and the others
 * (the global webhook) are still served. It owns the in-flight set.
 */
import type { Delivery, Store } from '../../store/index.js';

/** Claims and tracks in-flight deliveries. */
export class ClaimStage {
  readonly #store: Pick<Store, 'claimDueDeliveries' | 'releaseDeliveries'>;
  readonly #inflight = new Map<string, Promise<void>>();
  /** In-flight attempts per endpoint URL (the per-endpoint limit). */
  readonly #perEndpoint = new Map<string, number>();
  #lastClaimFull = false;

  constructor(store: Pick<Store, 'claimDueDeliveries' | 'releaseDeliveries'>) {
    this.#store = store;
  }

  /** Deliveries in flight. */
  get size(): number {
    return this.#inflight.size;
  }

  /**
   * Whether the last claim got all it asked for, first attempts only (more fanned-out work is waiting). Retries do
   * not count: during an outage the cache fills with later events of calls whose first event is retrying, and the
   * fan-out must go on (for the backlog figures and so that those events are ready when the receiver is back).
   */
  get lastClaimFull(): boolean {
    return this.#lastClaimFull;
  }

  /**
   * Claims up to `free` due deliveries leased until `leaseUntil` and starts each with `start`; the promise it
   * returns keeps the delivery in flight (its slot is freed when it settles, then `onDone` runs).
   */
  async claim(opts: { now: number; free: number; leaseUntil: number; perEndpoint: number }, start: (d: Delivery) => Promise<void>, onDone: () => void): Promise<void> {
    const { perEndpoint } = opts;
    const atLimit = [...this.#perEndpoint].filter(([, n]) => n >= perEndpoint).map(([url]) => url);
    const claimed = await this.#store.claimDueDeliveries(opts.now, opts.free, opts.leaseUntil, atLimit);
    this.#lastClaimFull = claimed.length === opts.free && claimed.every((d) => d.attempts === 0);
    const overLimit: string[] = [];
    for (const d of claimed) {
      if (this.#inflight.has(d.delivery_id)) continue; // a store without leases: never send one delivery twice at once
      const n = this.#perEndpoint.get(d.endpoint_url) ?? 0;
      if (n >= perEndpoint) {
        overLimit.push(d.delivery_id); // one claim brought more for this endpoint than its share: back to the outbox
        continue;
      }
      this.#perEndpoint.set(d.endpoint_url, n + 1);
      const p = start(d).finally(() => {
        this.#inflight.delete(d.delivery_id);
        const left = (this.#perEndpoint.get(d.endpoint_url) ?? 1) - 1;
        if (left > 0) this.#perEndpoint.set(d.endpoint_url, left);
        else this.#perEndpoint.delete(d.endpoint_url);
        onDone();
      });
      this.#inflight.set(d.delivery_id, p);
    }
    if (overLimit.length) await this.#store.releaseDeliveries(overLimit);
  }

  /** Resolves when every delivery in flight now has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inflight.values()]);
  }
}
