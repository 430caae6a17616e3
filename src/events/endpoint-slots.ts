/**
 * Per-endpoint concurrency (`delivery.per_endpoint_concurrency`): deliveries in flight per endpoint URL, so one slow
 * or hanging receiver (a webhook object's CRM that never answers) holds at most its share of the dispatcher's
 * `delivery.concurrency` slots and the global webhook keeps its latency.
 *
 * A claim can return more rows for an endpoint than it has free slots (they were due together). Up to `limit` of
 * those wait here, still leased, and start as the endpoint's slots free up (so a busy single endpoint does not
 * claim, release and re-claim the same rows); beyond that they are handed back to the store.
 */
export class EndpointSlots<T> {
  readonly #busy = new Map<string, number>();
  readonly #held = new Map<string, T[]>();
  #heldCount = 0;

  /** In-flight deliveries to `url`. */
  count(url: string): number {
    return this.#busy.get(url) ?? 0;
  }

  /** Rows waiting here for a slot (they take part in the dispatcher's total). */
  get heldCount(): number {
    return this.#heldCount;
  }

  /** Endpoint URLs at or over `limit` (the claim skips them). */
  saturated(limit: number): string[] {
    return [...this.#busy].filter(([, n]) => n >= limit).map(([url]) => url);
  }

  acquire(url: string): void {
    this.#busy.set(url, this.count(url) + 1);
  }

  /** Keeps a claimed row until `url` has a free slot; false when `limit` rows already wait (hand it back). */
  hold(url: string, row: T, limit: number): boolean {
    const q = this.#held.get(url) ?? [];
    if (q.length >= limit) return false;
    q.push(row);
    this.#held.set(url, q);
    this.#heldCount++;
    return true;
  }

  /**
   * Frees a slot of `url`. Returns the row waiting for it (start it, which takes the slot again), or whether
   * the endpoint was at `limit` (its deliveries in the store may be claimed now).
   */
  release(url: string, limit: number): { next: T } | { wasFull: boolean } {
    const n = this.count(url);
    if (n <= 1) this.#busy.delete(url);
    else this.#busy.set(url, n - 1);
    const q = this.#held.get(url);
    if (q && q.length > 0) {
      const next = q.shift()!;
      this.#heldCount--;
      if (q.length === 0) this.#held.delete(url);
      return { next };
    }
    return { wasFull: n >= limit };
  }

  /** Every waiting row (at stop: handed back to the store). */
  drain(): T[] {
    const all = [...this.#held.values()].flat();
    this.#held.clear();
    this.#heldCount = 0;
    return all;
  }
}
