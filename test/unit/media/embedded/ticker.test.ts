import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/common/clock.js';
import { Ticker } from '../../../../src/media/embedded/ticker.js';

describe('shared media ticker', () => {
  function make() {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const ticker = new Ticker({ clock, now: () => clock.now(), periodMs: 20, onError: (e) => errors.push(e) });
    return { clock, ticker, errors };
  }

  it('fires every period on deadlines from the start (drift is corrected, not accumulated)', () => {
    const { clock, ticker } = make();
    const at: number[] = [];
    ticker.add((now) => at.push(now));
    clock.advance(100);
    expect(at).toEqual([20, 40, 60, 80, 100]);
  });

  it('runs one timer for every task, only while a task is registered', () => {
    const { clock, ticker } = make();
    const a: number[] = [], b: number[] = [];
    const removeA = ticker.add((n) => a.push(n));
    ticker.add((n) => b.push(n));
    expect(clock.pending).toBe(1);
    clock.advance(40);
    removeA();
    clock.advance(20);
    expect(a).toEqual([20, 40]);
    expect(b).toEqual([20, 40, 60]);
    expect(ticker.tasks).toBe(1);
  });

  it('stops its timer when the last task goes, and a throwing task does not stop the others', () => {
    const { clock, ticker, errors } = make();
    const seen: number[] = [];
    ticker.add(() => { throw new Error('boom'); });
    const remove = ticker.add((n) => seen.push(n));
    clock.advance(20);
    expect(errors).toHaveLength(1);
    expect(seen).toEqual([20]);
    remove();
    expect(ticker.tasks).toBe(1);
  });

  it('after a stall longer than a period it resumes from now instead of bursting the missed ticks', () => {
    const clock = new ManualClock(0);
    let now = 0;
    const ticker = new Ticker({ clock, now: () => now, periodMs: 20, onError: () => undefined });
    const at: number[] = [];
    ticker.add((n) => at.push(n));
    now = 20; clock.advance(20);
    now = 200; clock.advance(20); // the event loop was blocked: the tick runs at 200
    now = 220; clock.advance(20);
    expect(at).toEqual([20, 200, 220]);
    expect(clock.pending).toBe(1);
  });
});
