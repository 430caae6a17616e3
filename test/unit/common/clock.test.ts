import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../../src/common/clock.js';
import { InvalidStateError, SwitchboardError } from '../../../src/common/errors.js';
import { newId, randomToken } from '../../../src/common/ids.js';

describe('ManualClock', () => {
  it('MUST fire timers in due order only when advanced, and never a cleared one', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 200);
    clock.setTimeout(() => fired.push('a'), 100);
    const c = clock.setTimeout(() => fired.push('c'), 150);
    clock.clearTimeout(c);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(101);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(200);
    expect(clock.pending).toBe(0);
  });

  it('MUST fire a timer armed by a firing timer within the same advance when it is due', () => {
    const clock = new ManualClock(0);
    const at: number[] = [];
    clock.setTimeout(() => {
      at.push(clock.now());
      clock.setTimeout(() => at.push(clock.now()), 50);
    }, 10);
    clock.advance(100);
    expect(at).toEqual([10, 60]);
  });

  it('systemClock MUST report wall-clock time', () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1000);
    systemClock.clearTimeout(systemClock.setTimeout(() => undefined, 10_000));
  });
});

describe('errors and ids', () => {
  it('MUST carry a stable code and the class name', () => {
    const e = new InvalidStateError('call ended');
    expect(e).toBeInstanceOf(SwitchboardError);
    expect([e.code, e.name, e.message]).toEqual(['SB_ERR_INVALID_STATE', 'InvalidStateError', 'call ended']);
  });
  it('MUST make prefixed random ids', () => {
    expect(newId('leg')).toMatch(/^leg_[0-9a-z]{20}$/);
    expect(new Set(Array.from({ length: 1000 }, () => randomToken(12))).size).toBe(1000);
  });
});
