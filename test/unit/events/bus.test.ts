import { describe, expect, it } from 'vitest';
import { createBus } from '../../../src/events/bus.js';
import { captureLog } from './fixtures.js';

type Events = { 'leg.answered': { legId: string }; 'call.ended': { unique_call_id: string } };

describe('bus', () => {
  it('delivers a payload to every listener of its name, in subscription order', () => {
    const bus = createBus<Events>({ log: captureLog().log });
    const seen: string[] = [];
    bus.on('leg.answered', (p) => { seen.push(`a:${p.legId}`); });
    bus.on('leg.answered', (p) => { seen.push(`b:${p.legId}`); });
    bus.on('call.ended', () => { seen.push('wrong'); });
    expect(bus.publish('leg.answered', { legId: 'leg_1' })).toBe(2);
    expect(seen).toEqual(['a:leg_1', 'b:leg_1']);
  });

  it('catches, logs and counts a throwing listener without stopping the others', () => {
    const { log, lines } = captureLog();
    const bus = createBus<Events>({ log });
    const seen: string[] = [];
    bus.on('call.ended', () => { throw new Error('boom'); });
    bus.on('call.ended', (p) => { seen.push(p.unique_call_id); });
    expect(() => bus.publish('call.ended', { unique_call_id: '1' })).not.toThrow();
    expect(seen).toEqual(['1']);
    expect(bus.listenerErrors).toBe(1);
    expect(lines.some((l) => l.event === 'call.ended' && l.level === 40)).toBe(true);
  });

  it('counts a rejected async listener too', async () => {
    const bus = createBus<Events>({ log: captureLog().log });
    bus.on('call.ended', async () => { throw new Error('later'); });
    bus.publish('call.ended', { unique_call_id: '1' });
    await new Promise((r) => setImmediate(r));
    expect(bus.listenerErrors).toBe(1);
  });

  it('unsubscribes with the returned function and runs once-listeners once', () => {
    const bus = createBus<Events>({ log: captureLog().log });
    let n = 0;
    let m = 0;
    const off = bus.on('call.ended', () => { n++; });
    bus.once('call.ended', () => { m++; });
    bus.publish('call.ended', { unique_call_id: '1' });
    off();
    bus.publish('call.ended', { unique_call_id: '2' });
    expect([n, m]).toEqual([1, 1]);
    expect(bus.listenerCount('call.ended')).toBe(0);
  });
});
