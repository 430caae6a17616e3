import { describe, expect, it } from 'vitest';
import { newDeliveryId } from '../../../src/events/dispatcher.js';
import { newEventId } from '../../../src/events/event-types.js';

describe('delivery ids', () => {
  it('are dlv_ + 32 hex digits, unique, and ordered by creation time', () => {
    const t = Date.parse('2026-11-28T15:00:00.000Z');
    const ids = [newDeliveryId(t), newDeliveryId(t), newDeliveryId(t + 1), newDeliveryId(t + 60_000)];
    for (const id of ids) expect(id).toMatch(/^dlv_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(4);
    expect(ids[0]!.slice(4, 16)).toBe(t.toString(16).padStart(12, '0'));
    expect(ids[2]! > ids[0]! && ids[2]! > ids[1]!).toBe(true);
    expect([...ids].sort().slice(2)).toEqual(ids.slice(2));
  });
});

describe('event ids', () => {
  it('are evt_ + 32 hex digits, unique, and ordered by the event time', () => {
    const t = Date.parse('2026-11-28T15:00:00.000Z');
    const ids = [newEventId(t), newEventId(t), newEventId(t + 1), newEventId(Number.NaN)];
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(4);
    expect(ids[2]! > ids[0]! && ids[2]! > ids[1]!).toBe(true);
    expect(ids[3]!.slice(4, 16)).toBe('000000000000');
  });
});
