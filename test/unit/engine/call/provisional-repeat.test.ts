import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ManualClock } from '../../../../src/common/clock.js';
import { ProvisionalRepeater } from '../../../../src/engine/call/provisional-repeat.js';

const log = pino({ level: 'silent' });

describe('ProvisionalRepeater (RFC 3261 §13.3.1.1: a non-100 provisional at every minute)', () => {
  it('MUST re-send the last provisional every interval until stopped', () => {
    const clock = new ManualClock(0);
    const r = new ProvisionalRepeater({ clock, intervalMs: 60_000, log });
    const sent: number[] = [];
    r.sent(180, () => sent.push(180));
    clock.advance(59_999);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toEqual([180]);
    clock.advance(120_000);
    expect(sent).toEqual([180, 180, 180]);
    expect(r.repeats).toBe(3);
    r.stop();
    clock.advance(600_000);
    expect(sent).toHaveLength(3);
  });

  it('MUST repeat the latest provisional and count the interval from it', () => {
    const clock = new ManualClock(0);
    const r = new ProvisionalRepeater({ clock, intervalMs: 1000, log });
    const sent: number[] = [];
    r.sent(180, () => sent.push(180));
    clock.advance(700);
    r.sent(183, () => sent.push(183));
    clock.advance(999);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toEqual([183]);
  });

  it('MUST NOT start again after stop (a final response went out)', () => {
    const clock = new ManualClock(0);
    const r = new ProvisionalRepeater({ clock, intervalMs: 1000, log });
    r.stop();
    let n = 0;
    r.sent(180, () => n++);
    clock.advance(10_000);
    expect(n).toBe(0);
    expect(() => new ProvisionalRepeater({ clock, intervalMs: 0, log })).toThrow(TypeError);
  });
});
