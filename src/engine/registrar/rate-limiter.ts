/**
 * Counts authentication failures per source address in a sliding window; a source over the limit is refused
 * (403) without looking at its credentials until the window drains. Memory is bounded by `maxSources`.
 */
import type { Clock } from '../../common/index.js';

/** Options of {@link FailureRateLimiter}. */
export interface RateLimitOptions {
  clock: Clock;
  /** Failures allowed per window before the source is blocked; default 20. */
  maxFailures?: number;
  /** Window length; default 60 s. */
  windowMs?: number;
  /** Distinct sources tracked at once; the oldest is forgotten beyond this; default 10,000. */
  maxSources?: number;
}

/** Sliding-window failure counter keyed by source address. */
export class FailureRateLimiter {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxSources: number;
  readonly #failures = new Map<string, number[]>();

  constructor(opts: RateLimitOptions) {
    this.#clock = opts.clock;
    this.#max = opts.maxFailures ?? 20;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#maxSources = opts.maxSources ?? 10_000;
  }

  /** True when `source` has used up its failures in the current window. */
  isBlocked(source: string): boolean {
    return this.#recent(source).length >= this.#max;
  }

  /** Records one failure from `source`. */
  recordFailure(source: string): void {
    const list = this.#recent(source);
    list.push(this.#clock.now());
    this.#failures.delete(source);
    this.#failures.set(source, list);
    if (this.#failures.size > this.#maxSources) this.#failures.delete(this.#failures.keys().next().value!);
  }

  #recent(source: string): number[] {
    const list = this.#failures.get(source);
    if (!list) return [];
    const cutoff = this.#clock.now() - this.#windowMs;
    while (list.length > 0 && list[0]! <= cutoff) list.shift();
    if (list.length === 0) this.#failures.delete(source);
    return list;
  }
}
