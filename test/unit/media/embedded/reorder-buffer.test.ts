import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../../../src/media/embedded/reorder-buffer.js';

function buffer(opts: { depth?: number; maxWaitMs?: number } = {}) {
  const out: number[] = [];
  const b = new ReorderBuffer<number>((n) => out.push(n), opts);
  return { b, out, push: (seq: number, t = 0) => b.push(seq, seq, t) };
}

describe('reorder buffer', () => {
  it('passes packets in order straight through (no added delay)', () => {
    const { b, out, push } = buffer();
    for (const s of [10, 11, 12, 13]) push(s);
    expect(out).toEqual([10, 11, 12, 13]);
    expect(b.held).toBe(0);
  });

  it('puts swapped packets back in order', () => {
    const { b, out, push } = buffer();
    for (const s of [1, 3, 2, 5, 4, 6]) push(s);
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b.stats).toEqual({ reordered: 2, lost: 0, late: 0 });
  });

  it('gives up a gap once more than `depth` packets wait behind it', () => {
    const { b, out, push } = buffer({ depth: 3 });
    for (const s of [1, 3, 4, 5]) push(s);
    expect(out).toEqual([1]);
    push(6);
    expect(out).toEqual([1, 3, 4, 5, 6]);
    expect(b.stats.lost).toBe(1);
    push(2); // too late now
    expect(out).toEqual([1, 3, 4, 5, 6]);
    expect(b.stats.late).toBe(1);
  });

  it('gives up a gap after maxWaitMs (expire on the tick)', () => {
    const { b, out, push } = buffer({ depth: 3, maxWaitMs: 60 });
    push(1, 0);
    push(3, 20);
    b.expire(79);
    expect(out).toEqual([1]);
    b.expire(80);
    expect(out).toEqual([1, 3]);
  });

  it('push says whether it took the packet (false for a duplicate or a late one)', () => {
    const { b } = buffer();
    expect([b.push(1, 1, 0), b.push(3, 3, 0), b.push(3, 3, 0), b.push(1, 1, 0), b.push(2, 2, 0)]).toEqual([true, true, false, false, true]);
  });

  it('drops duplicates, held or already released', () => {
    const { b, out, push } = buffer();
    for (const s of [1, 2, 2, 4, 4, 3]) push(s);
    expect(out).toEqual([1, 2, 3, 4]);
    expect(b.stats.late).toBe(2);
  });

  it('crosses the 16-bit sequence wrap seamlessly, reordered too', () => {
    const { out, push } = buffer();
    for (const s of [65533, 65534, 0, 65535, 1, 2]) push(s);
    expect(out).toEqual([65533, 65534, 65535, 0, 1, 2]);
  });

  it('restarts at a packet far from the expected sequence (a new sender), releasing what it held', () => {
    const { b, out, push } = buffer();
    for (const s of [100, 102, 30000, 30001]) push(s);
    expect(out).toEqual([100, 102, 30000, 30001]);
    expect(b.held).toBe(0);
  });

  it('depth 0 never holds a packet back', () => {
    const { out, push } = buffer({ depth: 0 });
    for (const s of [1, 3, 2, 4]) push(s);
    expect(out).toEqual([1, 3, 4]);
  });
});
