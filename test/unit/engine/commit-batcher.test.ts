/** CommitBatcher: one transaction per flush, submission order, and a bad commit failing alone. */
import { describe, expect, it } from 'vitest';
import { CommitBatcher, type BatchCapableStore } from '../../../src/engine/records/commit-batcher.js';
import type { CallCommit } from '../../../src/store/index.js';

function fakeStore(bad: Set<string>): { store: BatchCapableStore; log: string[] } {
  const log: string[] = [];
  const id = (c: CallCommit) => c.call!.unique_call_id;
  const store = {
    async commit(c: CallCommit) {
      if (bad.has(id(c))) throw new Error(`bad ${id(c)}`);
      log.push(`one:${id(c)}`);
    },
    async commitMany(cs: readonly CallCommit[]) {
      if (cs.some((c) => bad.has(id(c)))) throw new Error('batch has a bad commit');
      log.push(`many:${cs.map(id).join(',')}`);
    },
  } as unknown as BatchCapableStore;
  return { store, log };
}

const commit = (id: string): CallCommit => ({ call: { unique_call_id: id } as CallCommit['call'] });

describe('CommitBatcher', () => {
  it('writes the commits of one turn in one commitMany, in submission order, and later ones after', async () => {
    const { store, log } = fakeStore(new Set());
    const flushes: Array<() => void> = [];
    const b = new CommitBatcher({ store, gatherMs: 0, defer: (fn) => flushes.push(fn) });
    const done = [b.write(commit('1')), b.write(commit('2')), b.write(commit('3'))];
    expect(flushes).toHaveLength(1);
    flushes.shift()!();
    await Promise.all(done);
    await new Promise((r) => setImmediate(r)); // the batch's write has finished: the next commit starts a new turn
    const late = b.write(commit('4'));
    flushes.shift()!();
    await late;
    expect(log).toEqual(['many:1,2,3', 'one:4']);
  });

  it('gathers the commits submitted while a batch is being written into the next batch', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const store = {
      async commit(c: CallCommit) { log.push(`one:${c.call!.unique_call_id}`); },
      async commitMany(cs: readonly CallCommit[]) {
        if (log.length === 0) await gate;
        log.push(`many:${cs.map((c) => c.call!.unique_call_id).join(',')}`);
      },
    } as unknown as BatchCapableStore;
    const flushes: Array<() => void> = [];
    const b = new CommitBatcher({ store, gatherMs: 0, defer: (fn) => flushes.push(fn) });
    const first = [b.write(commit('1')), b.write(commit('2'))];
    flushes.shift()!();
    const second = [b.write(commit('3')), b.write(commit('4')), b.write(commit('5'))];
    expect(flushes).toHaveLength(0); // in flight: no flush of its own per turn
    expect(b.queued).toBe(5);
    release();
    await Promise.all(first);
    await new Promise((r) => setImmediate(r));
    expect(flushes).toHaveLength(1);
    flushes.shift()!();
    await Promise.all(second);
    expect(log).toEqual(['many:1,2', 'many:3,4,5']);
    expect(b.queued).toBe(0);
  });

  it('splits at maxBatch and retries a failed batch one by one, so only the bad commit rejects', async () => {
    const { store, log } = fakeStore(new Set(['2']));
    const flushes: Array<() => void> = [];
    const b = new CommitBatcher({ store, gatherMs: 0, maxBatch: 2, defer: (fn) => flushes.push(fn) });
    const pending = Promise.allSettled(['1', '2', '3', '4', '5'].map((id) => b.write(commit(id))));
    flushes.shift()!();
    const results = await pending;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(log).toEqual(['one:1', 'many:3,4', 'one:5']);
  });
  it('sends a batch no sooner than gatherMs after the previous one: later commits wait and go together (group commit)', async () => {
    const { store, log } = fakeStore(new Set());
    let nowMs = 1000;
    const flushes: Array<() => void> = [];
    const sleeps: Array<{ ms: number; wake: () => void }> = [];
    const b = new CommitBatcher({
      store, gatherMs: 5, now: () => nowMs, defer: (fn) => flushes.push(fn),
      sleep: (ms) => new Promise<void>((wake) => sleeps.push({ ms, wake })),
    });
    const first = b.write(commit('1'));
    expect(flushes).toHaveLength(1); // idle: at once (next turn), no wait
    flushes.shift()!();
    await first;
    await new Promise((r) => setImmediate(r));
    nowMs += 2;
    const later = [b.write(commit('2')), b.write(commit('3'))];
    nowMs += 1;
    later.push(b.write(commit('4')));
    expect(flushes).toHaveLength(0);
    expect(sleeps.map((s) => s.ms)).toEqual([3]); // 5 ms after the first batch was sent
    sleeps.shift()!.wake();
    await Promise.all(later);
    expect(log).toEqual(['one:1', 'many:2,3,4']);
    await new Promise((r) => setImmediate(r));
    nowMs += 50;
    const idle = b.write(commit('5'));
    expect(flushes).toHaveLength(1);
    flushes.shift()!();
    await idle;
    expect(log.at(-1)).toBe('one:5');
  });
});
