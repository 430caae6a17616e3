/**
 * unique_call_id (SPEC.md §2, compat): decimal digits, unique, time-ordered, shared by every event and row of
 * one call. Layout: 13-digit epoch ms, 4-digit per-process counter, 2-digit node id. Ids are strictly
 * increasing within a process even when the clock stands still or steps back (the counter carries into a
 * virtual millisecond), so sorting the strings sorts calls by start.
 */
import type { Clock } from '../common/index.js';

/** Produces unique_call_ids. */
export interface UniqueCallIdGenerator {
  next(): string;
}

const COUNTER_LIMIT = 10_000;

/** Creates a generator; `nodeId` (0–99) distinguishes engine processes that share a store. */
export function createUniqueCallIdGenerator(opts: { clock: Clock; nodeId?: number }): UniqueCallIdGenerator {
  const nodeId = opts.nodeId ?? 0;
  if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 99) throw new TypeError(`nodeId must be an integer 0..99, got ${nodeId}`);
  const node = String(nodeId).padStart(2, '0');
  let lastMs = 0;
  let counter = 0;
  return {
    next(): string {
      const now = Math.floor(opts.clock.now());
      if (now > lastMs) {
        lastMs = now;
        counter = 0;
      } else if (++counter >= COUNTER_LIMIT) {
        lastMs += 1;
        counter = 0;
      }
      return `${String(lastMs).padStart(13, '0')}${String(counter).padStart(4, '0')}${node}`;
    },
  };
}
