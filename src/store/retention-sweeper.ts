/**
 * The retention sweeper (issue 11): deletes calls, webhook events and finished deliveries older than the
 * configured days (`retention.*_days`; 0 = keep forever). It runs every `intervalMs` and deletes in batches of
 * `batchSize` rows, each its own short transaction, yielding to the event loop between batches: on SQLite the one
 * write lock is held for one batch at a time, so call commits interleave instead of waiting behind a long delete.
 *
 * Recordings (issue 9, `recordings.retention_days`) are files with rows: per batch the files go first, then, in one
 * transaction, the rows of those whose file is gone (removed now or missing already). A file that cannot be removed
 * (permissions, I/O) keeps its row, so the link still answers and the next run tries again; it is never orphaned.
 */
import { unlink } from 'node:fs/promises';
import type { Clock, TimerHandle } from '../common/index.js';
import type { Logger } from '../common/index.js';
import type { RetentionConfig } from '../config/index.js';
import type { RetentionKind, Store } from './store.js';

const DAY_MS = 86_400_000;
const KINDS: ReadonlyArray<{ kind: RetentionKind; key: keyof RetentionConfig }> = [
  { kind: 'calls', key: 'calls_days' }, { kind: 'deliveries', key: 'deliveries_days' }, { kind: 'events', key: 'events_days' },
];

/** Options of {@link RetentionSweeper}. */
export interface RetentionSweeperOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Read at every run, so an applied configuration takes effect at the next one. */
  retention: () => RetentionConfig;
  /** `recordings.retention_days`, read at every run; absent or 0 = recordings are kept forever. */
  recordingRetentionDays?: () => number;
  /** Between runs; default 15 minutes. The first run starts `firstRunMs` (default 60 s) after `start()`. */
  intervalMs?: number;
  firstRunMs?: number;
  /** Rows per transaction; default 500. */
  batchSize?: number;
}

/** What one run deleted, per kind (`recordings`: rows, each with its file). */
export type SweepCounts = Record<RetentionKind | 'recordings', number>;

/** Periodic, batched deletion of old rows. */
export class RetentionSweeper {
  readonly #o: RetentionSweeperOptions;
  readonly #batch: number;
  #timer: TimerHandle | null = null;
  #running: Promise<SweepCounts> | null = null;
  /** Not started, or stopped: no timer is armed. */
  #idle = true;
  /** stop() was called: a run in progress ends after its current batch. */
  #stopping = false;

  constructor(opts: RetentionSweeperOptions) {
    this.#o = opts;
    this.#batch = Math.max(1, opts.batchSize ?? 500);
  }

  start(): void {
    this.#idle = false;
    this.#stopping = false;
    this.#arm(this.#o.firstRunMs ?? 60_000);
  }

  /** Stops the timer and waits for a run in progress (it stops after its current batch). */
  async stop(): Promise<void> {
    this.#idle = true;
    this.#stopping = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  /** Runs one sweep now (or joins the one in progress). A failing batch is logged; the next run tries again. */
  runOnce(): Promise<SweepCounts> {
    this.#running ??= this.#run().finally(() => { this.#running = null; });
    return this.#running;
  }

  #arm(ms: number): void {
    if (this.#idle) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      void this.runOnce().finally(() => this.#arm(this.#o.intervalMs ?? 15 * 60_000));
    }, ms);
  }

  async #run(): Promise<SweepCounts> {
    const counts: SweepCounts = { calls: 0, deliveries: 0, events: 0, recordings: 0 };
    const retention = this.#o.retention() as RetentionConfig | undefined;
    for (const { kind, key } of KINDS) {
      const days = retention?.[key] ?? 0;
      if (!(days > 0)) continue;
      const before = this.#o.clock.now() - days * DAY_MS;
      try {
        for (;;) {
          const n = await this.#o.store.sweep(kind, before, this.#batch);
          counts[kind] += n;
          if (n < this.#batch || this.#stopping) break;
          await new Promise<void>((r) => setImmediate(r));
        }
      } catch (err) {
        this.#o.log.warn({ err, kind, deleted: counts[kind] }, 'retention: sweep failed; retried at the next run');
      }
    }
    counts.recordings = await this.#sweepRecordings();
    if (counts.calls + counts.deliveries + counts.events + counts.recordings > 0) this.#o.log.info({ deleted: counts }, 'retention: old rows deleted');
    return counts;
  }

  /** Old recordings: files first, then the rows whose file is gone, one batch per transaction. */
  async #sweepRecordings(): Promise<number> {
    const days = this.#o.recordingRetentionDays?.() ?? 0;
    if (!(days > 0)) return 0;
    const before = this.#o.clock.now() - days * DAY_MS;
    let deleted = 0;
    try {
      for (;;) {
        const batch = await this.#o.store.listRecordingsBefore(before, this.#batch);
        const gone: string[] = [];
        for (const rec of batch) {
          const err = await unlink(rec.path).then(() => null, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : e));
          if (err) this.#o.log.warn({ err, recording_id: rec.recording_id, path: rec.path }, 'retention: recording file not removed; its row stays until the next run');
          else gone.push(rec.recording_id);
        }
        deleted += await this.#o.store.deleteRecordings(gone);
        // Files that stay come back in every batch: go on only while a full batch made progress.
        if (batch.length < this.#batch || gone.length === 0 || this.#stopping) break;
        await new Promise<void>((r) => setImmediate(r));
      }
    } catch (err) {
      this.#o.log.warn({ err, deleted }, 'retention: recording sweep failed; retried at the next run');
    }
    return deleted;
  }
}
