/**
 * One shared timer for every session of a layer (one timer per stream would cost a timer wake-up per packet):
 * it fires every `periodMs` on a monotonic clock, each deadline computed from the start (start + n × period), so a
 * late wake-up does not push the following ones back (drift is corrected, not accumulated). Tasks get the
 * monotonic time and do their own catch-up (a playback sends every packet that has fallen due). The timer runs only
 * while a task is registered.
 */
import type { Clock, TimerHandle } from '../../common/index.js';

/** Called on every tick with the monotonic time in ms. */
export type TickTask = (nowMs: number) => void;

export class Ticker {
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #periodMs: number;
  readonly #onError: (err: unknown) => void;
  readonly #tasks = new Set<TickTask>();
  #timer: TimerHandle | undefined;
  #startMs = 0;
  #n = 0;

  constructor(opts: { clock: Clock; now: () => number; periodMs: number; onError: (err: unknown) => void }) {
    this.#clock = opts.clock;
    this.#now = opts.now;
    this.#periodMs = opts.periodMs;
    this.#onError = opts.onError;
  }

  /** Registers a task; returns its removal. */
  add(task: TickTask): () => void {
    this.#tasks.add(task);
    if (this.#timer === undefined) {
      this.#startMs = this.#now();
      this.#n = 0;
      this.#arm();
    }
    return () => this.remove(task);
  }

  remove(task: TickTask): void {
    this.#tasks.delete(task);
    if (this.#tasks.size === 0 && this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  get tasks(): number { return this.#tasks.size; }

  #arm(): void {
    const now = this.#now();
    this.#n++;
    let due = this.#startMs + this.#n * this.#periodMs;
    // Asleep for several periods (a stalled event loop): resume from now instead of firing a burst of ticks.
    if (due < now - this.#periodMs) { this.#n = Math.floor((now - this.#startMs) / this.#periodMs) + 1; due = this.#startMs + this.#n * this.#periodMs; }
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, due - now));
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#now();
    for (const t of [...this.#tasks]) {
      try { t(now); } catch (err) { this.#onError(err); }
    }
    if (this.#tasks.size > 0 && this.#timer === undefined) this.#arm();
  }
}
