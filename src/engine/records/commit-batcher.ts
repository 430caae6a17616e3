/**
 * Groups the call commits of many calls into one store transaction. Each {@link CallCommit} still carries a call's
 * record together with the events describing it (the outbox invariant holds per commit, and so per transaction);
 * what is shared is the transaction: one BEGIN/COMMIT (one WAL append on SQLite, one round trip pair on PostgreSQL)
 * for every commit submitted during one turn of the event loop, instead of one per commit.
 *
 * Order: commits reach the store in the order they were submitted (batches are written one after another), so a
 * call's steps stay in sequence. Failure: when a batch fails, its commits are retried one by one, so one bad commit
 * fails alone, as it would without batching.
 */
import type { CallCommit, Store } from '../../store/index.js';

/** A store that can write several commits in one transaction (both built-in stores can; it is not on `Store`). */
export interface BatchCapableStore extends Store {
  commitMany?(commits: readonly CallCommit[]): Promise<void>;
}

/** Writes commits; {@link CommitBatcher} or the store itself. */
export interface CommitWriter {
  /** Resolves once `c` is durable; rejects with the store's error for that commit. */
  write(c: CallCommit): Promise<void>;
}

/** Options of {@link CommitBatcher}. */
export interface CommitBatcherOptions {
  store: BatchCapableStore;
  /** Most commits per transaction; default 256. */
  maxBatch?: number;
  /** Runs the flush after the current I/O callbacks; default `setImmediate` (not a timer: no clock involved). */
  defer?: (fn: () => void) => void;
}

interface Pending {
  commit: CallCommit;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Batches commits per event-loop turn. One per engine (one per store). */
export class CommitBatcher implements CommitWriter {
  readonly #store: BatchCapableStore;
  readonly #maxBatch: number;
  readonly #defer: (fn: () => void) => void;
  #pending: Pending[] = [];
  #scheduled = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(opts: CommitBatcherOptions) {
    this.#store = opts.store;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 256);
    this.#defer = opts.defer ?? ((fn) => void setImmediate(fn));
  }

  write(commit: CallCommit): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ commit, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      this.#defer(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const all = this.#pending;
    this.#pending = [];
    for (let i = 0; i < all.length; i += this.#maxBatch) {
      const batch = all.slice(i, i + this.#maxBatch);
      this.#writing = this.#writing.then(() => this.#writeBatch(batch));
    }
  }

  async #writeBatch(batch: Pending[]): Promise<void> {
    if (batch.length > 1 && this.#store.commitMany) {
      try {
        await this.#store.commitMany(batch.map((p) => p.commit));
        for (const p of batch) p.resolve();
        return;
      } catch { /* retried one by one below: only the bad commit fails */ }
    }
    for (const p of batch) {
      try {
        await this.#store.commit(p.commit);
        p.resolve();
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
