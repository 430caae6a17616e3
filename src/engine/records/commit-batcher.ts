/**
 * Groups the call commits of many calls into one store transaction. Each {@link CallCommit} still carries a call's
 * record together with the events describing it (the outbox invariant holds per commit, and so per transaction);
 * what is shared is the transaction: one BEGIN/COMMIT (one WAL append on SQLite, one round trip pair on PostgreSQL)
 * for every commit submitted during one turn of the event loop, instead of one per commit.
 *
 * Order: commits reach the store in the order they were submitted (batches are written one after another), so a
 * call's steps stay in sequence. While a batch is being written (on SQLite: in the store's worker thread), later
 * commits gather and go as the next batch when it is done, so batches grow with the load instead of the number of
 * transactions. `gatherMs` (issue 15; default 0, off) sends a batch no sooner than that after the previous one, so
 * transactions are at most 1000 / gatherMs per second and carry more steps (a transaction's round trip to the SQLite
 * worker, BEGIN and COMMIT cost ≈ 0.2 ms of CPU whatever it holds); an idle store still writes a lone commit at once.
 * Off by default: with 5 ms the store path cost less CPU per call (bench/store-steps.ts) but the SIP bench passed
 * 500 calls/s in 1 run of 9 against 4 of 9 for the tree before it (bench/README.md). A step is acknowledged (its promise
 * resolves, its events are in the outbox) only once its transaction committed; the call path never waits for it.
 * Failure: when a batch fails, its commits are retried one by one, so one bad commit fails alone, as it would without
 * batching.
 *
 * A transient failure (SQLITE_BUSY, a full disk, an I/O error, a lost PostgreSQL connection: see
 * {@link isTransientStoreError}) is never dropped: the commit — its call step and its outbox events together — is
 * retried with exponential backoff, and the commits behind it wait in memory in order. After `alarmAfter` failed
 * attempts it is logged at `error` with what is at risk (calls, event types, how many commits are queued) and keeps
 * being retried every `maxDelayMs` until the store takes it or `abandonHeld()` gives up (shutdown), which logs every
 * commit still held. A permanent failure (a constraint, a bad value: a bug) fails that commit alone.
 */
import type { Logger } from '../../common/index.js';
import { isTransientStoreError, type CallCommit, type Store } from '../../store/index.js';

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
  log?: Logger;
  /** Most commits per transaction; default 256. */
  maxBatch?: number;
  /** Runs the flush after the current I/O callbacks; default `setImmediate` (not a timer: no clock involved). */
  defer?: (fn: () => void) => void;
  /** Waits between retries of a transient failure; default a real timer (`setTimeout`). */
  sleep?: (ms: number) => Promise<void>;
  /** First retry delay (doubling); default 50 ms. */
  baseDelayMs?: number;
  /** Longest delay between retries; default 2000 ms. */
  maxDelayMs?: number;
  /** Failed attempts after which the commit is logged at error (and still retried); default 8 (≈ 6 s). */
  alarmAfter?: number;
  /** Least time between two batches sent (group commit); default 0: each turn's commits go at once (see above). */
  gatherMs?: number;
  /** The time in ms for `gatherMs`; default `performance.now`. */
  now?: () => number;
}

interface Pending {
  commit: CallCommit;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Batches commits per event-loop turn. One per engine (one per store). */
export class CommitBatcher implements CommitWriter {
  readonly #store: BatchCapableStore;
  readonly #log: Logger | undefined;
  readonly #maxBatch: number;
  readonly #defer: (fn: () => void) => void;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #alarmAfter: number;
  readonly #gatherMs: number;
  readonly #now: () => number;
  /** When the last batch was sent (`#now()`), or -Infinity. */
  #sentAt = Number.NEGATIVE_INFINITY;
  #pending: Pending[] = [];
  #queued = 0;
  #scheduled = false;
  #closed = false;
  /** The batches being written now; null when none is. */
  #writing: Promise<void> | null = null;

  constructor(opts: CommitBatcherOptions) {
    this.#store = opts.store;
    this.#log = opts.log;
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 256);
    this.#defer = opts.defer ?? ((fn) => void setImmediate(fn));
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#baseMs = opts.baseDelayMs ?? 50;
    this.#maxMs = opts.maxDelayMs ?? 2000;
    this.#alarmAfter = opts.alarmAfter ?? 8;
    this.#gatherMs = Math.max(0, opts.gatherMs ?? 0);
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Commits submitted and not yet durable (waiting, being written or being retried). */
  get queued(): number {
    return this.#queued;
  }

  write(commit: CallCommit): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queued++;
      const settle = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => { this.#queued--; fn(...a); };
      this.#pending.push({ commit, resolve: settle(resolve), reject: settle(reject) });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    const waitMs = this.#sentAt + this.#gatherMs - this.#now();
    if (waitMs > 0) void this.#sleep(waitMs).then(() => this.#flush());
    else this.#defer(() => this.#flush());
  }

  /**
   * Gives up on what the store does not take now (shutdown with the store down): one more attempt per held commit,
   * then each one still failing is rejected and logged as lost. Later writes are retried again as usual.
   */
  async abandonHeld(): Promise<void> {
    this.#closed = true;
    try {
      while (this.#writing || this.#pending.length > 0) {
        this.#flush();
        await this.#writing;
      }
    } finally {
      this.#closed = false;
    }
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#writing || this.#pending.length === 0) return;
    const all = this.#pending;
    this.#pending = [];
    this.#sentAt = this.#now();
    const writing = (async () => {
      for (let i = 0; i < all.length; i += this.#maxBatch) await this.#writeBatch(all.slice(i, i + this.#maxBatch));
    })();
    this.#writing = writing;
    void writing.finally(() => {
      this.#writing = null;
      if (this.#pending.length > 0) this.#schedule();
    });
  }

  async #writeBatch(batch: Pending[]): Promise<void> {
    if (batch.length > 1 && this.#store.commitMany) {
      try {
        await this.#store.commitMany(batch.map((p) => p.commit));
        for (const p of batch) p.resolve();
        return;
      } catch { /* retried one by one below: only the bad commit fails */ }
    }
    for (const p of batch) await this.#writeOne(p);
  }

  /** Writes one commit, retrying transient failures (see the module comment). */
  async #writeOne(p: Pending): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#store.commit(p.commit);
        if (attempt > this.#alarmAfter) this.#log?.warn({ ...atRisk(p.commit), attempts: attempt }, 'store: held call commit written after retries');
        p.resolve();
        return;
      } catch (err) {
        if (!isTransientStoreError(err) || this.#closed) {
          if (this.#closed && isTransientStoreError(err)) this.#log?.error({ err, ...atRisk(p.commit), queued: this.#queued }, 'store: shutting down with a call commit not written: its history step and events are lost');
          p.reject(err);
          return;
        }
        if (attempt === this.#alarmAfter) {
          this.#log?.error({ err, ...atRisk(p.commit), attempts: attempt, queued: this.#queued },
            'store: call commit keeps failing; held in memory (with every later commit) and retried until the store recovers');
        } else if (attempt < this.#alarmAfter) {
          this.#log?.warn({ err: String(err), ...atRisk(p.commit), attempt }, 'store: call commit failed; retrying');
        }
        await this.#sleep(Math.min(this.#maxMs, this.#baseMs * 2 ** (attempt - 1)));
      }
    }
  }
}

/** What a held commit would lose: its call and the events it carries. */
function atRisk(c: CallCommit): { unique_call_id: string | null; events: string[] } {
  return { unique_call_id: c.call?.unique_call_id ?? c.events?.[0]?.unique_call_id ?? c.dialogs?.[0]?.unique_call_id ?? null, events: (c.events ?? []).map((e) => e.type) };
}
