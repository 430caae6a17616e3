/**
 * Batches the dispatcher's attempt records: the attempts that complete in one turn of the event loop are written
 * together in one `Store.recordAttempts` transaction instead of one transaction each (the dispatcher's largest cost
 * per event before). A record's promise resolves only once its transaction has committed, so the dispatcher counts a
 * delivery (stats) and frees its slot only when the outcome is durable; until then the delivery stays pending and
 * leased in the store, so neither a crash nor another claimer can lose or reorder it.
 *
 * One batch is written at a time; records arriving meanwhile form the next batch. When a batch fails, its records
 * are retried one by one, so one bad record (an unknown delivery) fails alone.
 */

import type { AttemptRecord, Store } from '../store/index.js';

/** Records per transaction at most; more wait for the next batch. */
export const MAX_ATTEMPT_BATCH = 512;

/** What {@link createAttemptWriter} returns. */
export interface AttemptWriter {
  /** Queues one record; resolves when it is durable, rejects (StoreError) when it could not be written. */
  write(record: AttemptRecord): Promise<void>;
  /** Records queued or being written. */
  readonly backlog: number;
}

interface Entry {
  record: AttemptRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Creates a writer on `store` (`schedule` defers a flush; default `setImmediate`, after the current I/O phase). */
export function createAttemptWriter(store: Store, schedule: (fn: () => void) => void = setImmediate): AttemptWriter {
  let queue: Entry[] = [];
  let scheduled = false;
  let writing = 0;

  function arm(): void {
    if (scheduled || writing > 0 || queue.length === 0) return;
    scheduled = true;
    schedule(() => {
      scheduled = false;
      void flush();
    });
  }

  async function flush(): Promise<void> {
    const batch = queue.length <= MAX_ATTEMPT_BATCH ? queue : queue.slice(0, MAX_ATTEMPT_BATCH);
    queue = batch === queue ? [] : queue.slice(MAX_ATTEMPT_BATCH);
    writing = batch.length;
    try {
      await store.recordAttempts(batch.map((e) => e.record));
      for (const e of batch) e.resolve();
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else {
        for (const e of batch) {
          try {
            await store.recordAttempts([e.record]);
            e.resolve();
          } catch (one) {
            e.reject(one);
          }
        }
      }
    } finally {
      writing = 0;
      arm();
    }
  }

  return {
    write(record) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, resolve, reject });
        arm();
      });
    },
    get backlog() {
      return queue.length + writing;
    },
  };
}
