import { describe, expect, it } from 'vitest';
import { newTimeOrderedId } from '../../../src/common/ids.js';

describe('newTimeOrderedId', () => {
  it('is the prefix and a UUIDv7 (RFC 9562 §5.7) as 32 hex digits whose first 12 are the time in ms', () => {
    const t = Date.parse('2026-12-02T09:00:00.000Z');
    const id = newTimeOrderedId('evt', t);
    expect(id).toMatch(/^evt_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(id.slice(4, 16)).toBe(t.toString(16).padStart(12, '0'));
  });

  it('sorts by time and stays unique within one millisecond', () => {
    const t = 1_764_666_000_000;
    const same = Array.from({ length: 1000 }, () => newTimeOrderedId('dlv', t));
    expect(new Set(same).size).toBe(1000);
    const later = newTimeOrderedId('dlv', t + 1);
    expect(same.every((id) => id < later)).toBe(true);
  });

  it('stamps 0 for a time that is not a positive finite number', () => {
    for (const t of [Number.NaN, -5, Number.POSITIVE_INFINITY]) expect(newTimeOrderedId('x', t).slice(2, 14)).toBe('000000000000');
  });
});
