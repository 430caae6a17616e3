/** QueueService on a fake clock: arrival order, strategies over time, every exit path, and the known races. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/common/clock.js';
import type { QueueConfig, QueueStrategy } from '../../../../src/config/types.js';
import { QueueService, type QueueEntry } from '../../../../src/engine/queue/queue-service.js';

interface Caller {
  id: string;
  entry: QueueEntry | null;
  offers: string[][];
  timedOut: number;
  /** What to do inside the offer hook (races). */
  onOffer?: (agents: readonly string[], entry: QueueEntry) => void;
}

function queue(name: string, over: Partial<QueueConfig> = {}): QueueConfig {
  return {
    name, agents: ['1001', '1002', '1003'], strategy: 'ringall', agent_timeout_s: 15, max_wait_s: 60, max_callers: 0,
    wrap_up_s: 0, hold_music: null, next: null, ...over,
  };
}

function setup(opts: { registered?: Set<string>; onCall?: Set<string>; rng?: () => number } = {}) {
  const clock = new ManualClock();
  const registered = opts.registered ?? new Set(['1001', '1002', '1003', '1004']);
  const onCall = opts.onCall ?? new Set<string>();
  const svc = new QueueService({
    clock, log: pino({ level: 'silent' }), isRegistered: (a) => registered.has(a), isOnCall: (a) => onCall.has(a),
    retryMs: 1000, ...(opts.rng ? { rng: opts.rng } : {}),
  });
  const join = (cfg: QueueConfig, id: string, onOffer?: Caller['onOffer']): Caller => {
    const c: Caller = { id, entry: null, offers: [], timedOut: 0, ...(onOffer ? { onOffer } : {}) };
    const r = svc.join(cfg, id, {
      offer: (agents, entry) => {
        c.entry = entry;
        c.offers.push([...agents]);
        c.onOffer?.(agents, entry);
      },
      timedOut: () => void c.timedOut++,
    });
    if (!r.ok) throw new Error(r.reason);
    c.entry = r.entry;
    return c;
  };
  const states = () => svc.snapshot().agents;
  return { clock, svc, join, states, registered, onCall };
}

describe('QueueService', () => {
  it('offers callers in arrival order: the head takes every agent in ringall; the next waits for one to come free', () => {
    const { svc, join, states } = setup();
    const q = queue('Support');
    const a = join(q, 'a');
    const b = join(q, 'b');
    expect(a.offers).toEqual([['1001', '1002', '1003']]);
    expect(b.offers).toEqual([]);
    expect(states()).toEqual({ '1001': 'reserved', '1002': 'reserved', '1003': 'reserved' });
    svc.ringing(a.entry!);
    expect(states()).toEqual({ '1001': 'ringing', '1002': 'ringing', '1003': 'ringing' });
    expect(svc.offerEnded(a.entry!, '1002')).toBe(true);
    expect(svc.snapshot().waiting).toEqual({ Support: ['b'] });
    expect(b.offers).toEqual([['1001', '1003']]);
    expect(states()).toEqual({ '1001': 'reserved', '1002': 'on-call', '1003': 'reserved' });
  });

  it('round_robin remembers its position across callers', () => {
    const { svc, join, clock } = setup();
    const q = queue('RR', { strategy: 'round_robin' });
    const order: string[] = [];
    for (const id of ['a', 'b', 'c', 'd']) {
      const c = join(q, id);
      order.push(...c.offers[0]!);
      svc.offerEnded(c.entry!, c.offers[0]![0]!);
      svc.callEnded(c.offers[0]![0]!, 0);
      clock.advance(10);
    }
    expect(order).toEqual(['1001', '1002', '1003', '1001']);
  });

  it('an unanswered ring pauses the caller retryMs, lets the next caller have agents meanwhile, then tries again', () => {
    const { svc, join, clock, states } = setup();
    const q = queue('Lin', { strategy: 'linear', agents: ['1001', '1002'] });
    const a = join(q, 'a');
    const b = join(q, 'b');
    expect(a.offers).toEqual([['1001']]);
    expect(b.offers).toEqual([['1002']]);
    svc.offerEnded(a.entry!, null);
    expect(a.entry!.state).toBe('paused');
    expect(states()['1001']).toBe('idle');
    clock.advance(999);
    expect(a.offers.length).toBe(1);
    clock.advance(1);
    // linear moves down a's own list: 1002 is busy with b, so it wraps to 1001.
    expect(a.offers).toEqual([['1001'], ['1001']]);
    svc.offerEnded(b.entry!, null);
    clock.advance(1000);
    // b's next after 1002 is 1001, which rings for a: linear wraps round to 1002 again.
    expect(b.offers).toEqual([['1002'], ['1002']]);
  });

  it('max_wait_s: the caller is told to stop ringing, then leaves, and the agents it held go back to idle', () => {
    const { svc, join, clock, states } = setup();
    const q = queue('W', { max_wait_s: 30 });
    const a = join(q, 'a');
    let stateAtTimeout = '';
    svc.ringing(a.entry!);
    expect(states()['1001']).toBe('ringing');
    // hooks.timedOut runs while the entry still holds its agents; leave() releases them right after.
    const b = join(q, 'b');
    clock.advance(29_999);
    expect(a.timedOut).toBe(0);
    stateAtTimeout = a.entry!.state;
    clock.advance(1);
    expect(stateAtTimeout).toBe('offered');
    expect(a.timedOut).toBe(1);
    expect(a.entry!.state).toBe('left');
    expect(svc.offerEnded(a.entry!, '1001')).toBe(false);
    // b (joined at the same ms, later) is offered the freed agents at once.
    expect(b.offers).toEqual([['1001', '1002', '1003']]);
    clock.advance(1);
    expect(b.timedOut).toBe(1);
    expect(states()).toEqual({ '1001': 'idle', '1002': 'idle', '1003': 'idle' });
    expect(svc.snapshot().waiting).toEqual({ W: [] });
    expect(clock.pending).toBe(0);
  });

  it('max_callers: a caller beyond the limit is refused as full; empty when no agent has a registered device', () => {
    const { svc, join, registered } = setup();
    const q = queue('Small', { max_callers: 1, agents: ['1001'] });
    join(q, 'a');
    expect(svc.join(q, 'b', { offer: () => undefined, timedOut: () => undefined })).toEqual({ ok: false, reason: 'full' });
    registered.clear();
    expect(svc.join(queue('Nobody', { agents: ['1005'] }), 'c', { offer: () => undefined, timedOut: () => undefined })).toEqual({ ok: false, reason: 'empty' });
  });

  it('skips agents on a call elsewhere and unregistered agents; wake() offers them once they are back', () => {
    const { svc, join, registered, onCall } = setup({ registered: new Set(['1001', '1002']), onCall: new Set(['1001']) });
    const a = join(queue('S'), 'a');
    expect(a.offers).toEqual([['1002']]);
    svc.offerEnded(a.entry!, null);
    onCall.clear();
    registered.add('1003');
    const b = join(queue('S'), 'b');
    expect(b.offers).toEqual([['1001', '1002', '1003']]);
    svc.wake();
    expect(b.offers.length).toBe(1);
  });

  it('caller hang-up while its agents ring: they go back to idle and the next caller gets them', () => {
    const { svc, join, states } = setup();
    const q = queue('H');
    const a = join(q, 'a');
    svc.ringing(a.entry!);
    const b = join(q, 'b');
    svc.leave(a.entry!);
    svc.leave(a.entry!);
    expect(b.offers).toEqual([['1001', '1002', '1003']]);
    expect(states()).toEqual({ '1001': 'reserved', '1002': 'reserved', '1003': 'reserved' });
    expect(svc.snapshot().waiting).toEqual({ H: ['b'] });
  });

  it('race: agents reserved for a caller who hangs up at that moment are released, not stranded', () => {
    const { svc, join, states } = setup();
    const q = queue('R', { strategy: 'round_robin' });
    const b: { c?: ReturnType<typeof join> } = {};
    // The caller is gone when its offer arrives: the handler ends the offer and leaves from inside the hook.
    const a = join(q, 'a', (_agents, entry) => {
      svc.offerEnded(entry, null);
      svc.leave(entry);
    });
    b.c = join(q, 'b');
    expect(a.offers).toEqual([['1001']]);
    expect(a.entry!.state).toBe('left');
    expect(b.c.offers).toEqual([['1002']]);
    expect(states()).toEqual({ '1001': 'idle', '1002': 'reserved' });
  });

  it('race: in ringall an agent answers and hangs up at once; the others are released, the answerer wraps up then serves again', () => {
    const { svc, join, clock, states } = setup();
    const q = queue('X', { wrap_up_s: 2 });
    const a = join(q, 'a');
    svc.ringing(a.entry!);
    const b = join(q, 'b');
    svc.offerEnded(a.entry!, '1003');
    expect(b.offers).toEqual([['1001', '1002']]);
    svc.callEnded('1003', 2000);
    expect(states()['1003']).toBe('wrap-up');
    svc.offerEnded(b.entry!, null);
    clock.advance(1000);
    expect(b.offers[1]).toEqual(['1001', '1002']);
    svc.offerEnded(b.entry!, null);
    clock.advance(1000);
    // wrap-up over (2 s) and b's retry due at the same time.
    expect(states()['1003']).not.toBe('wrap-up');
    expect(b.offers.at(-1)).toContain('1003');
  });

  it('wrap-up is shared: an agent in two queues is not rung by the second queue while wrapping up the first queue\'s call', () => {
    const { svc, join, clock, states } = setup();
    const sales = queue('Sales', { agents: ['1001'], wrap_up_s: 5 });
    const support = queue('Support', { agents: ['1001'] });
    const a = join(sales, 'a');
    svc.offerEnded(a.entry!, '1001');
    const b = join(support, 'b');
    expect(b.offers).toEqual([]);
    svc.callEnded('1001', 5000);
    expect(states()['1001']).toBe('wrap-up');
    clock.advance(4999);
    expect(b.offers).toEqual([]);
    clock.advance(1);
    expect(b.offers).toEqual([['1001']]);
  });

  it('an agent in two queues serves the caller who has waited longest across both', () => {
    const svc2 = setup({ registered: new Set(['1001']) });
    const onCall = svc2.onCall;
    onCall.add('1001');
    const x = svc2.join(queue('Q1', { agents: ['1001'] }), 'x');
    svc2.clock.advance(10);
    const y = svc2.join(queue('Q2', { agents: ['1001'] }), 'y');
    onCall.clear();
    svc2.svc.wake();
    expect(x.offers).toEqual([['1001']]);
    expect(y.offers).toEqual([]);
  });

  it('fewest_calls counts answered calls per queue; longest_idle uses the time since each agent\'s last call', () => {
    const few = setup();
    const q = queue('F', { strategy: 'fewest_calls', agents: ['1001', '1002'] });
    const serve = (s: ReturnType<typeof setup>, cfg: QueueConfig, id: string): string => {
      const c = s.join(cfg, id);
      const agent = c.offers[0]![0]!;
      s.svc.offerEnded(c.entry!, agent);
      s.clock.advance(100);
      s.svc.callEnded(agent, 0);
      return agent;
    };
    expect([serve(few, q, 'a'), serve(few, q, 'b'), serve(few, q, 'c')]).toEqual(['1001', '1002', '1001']);
    const idle = setup();
    const li = queue('L', { strategy: 'longest_idle', agents: ['1001', '1002', '1003'] });
    expect([serve(idle, li, 'a'), serve(idle, li, 'b'), serve(idle, li, 'c'), serve(idle, li, 'd')]).toEqual(['1001', '1002', '1003', '1001']);
  });

  it('random uses the injected rng', () => {
    const s = setup({ rng: () => 0.7 });
    expect(s.join(queue('Rnd', { strategy: 'random' as QueueStrategy }), 'a').offers).toEqual([['1003']]);
  });

  it('stop() clears every timer and refuses to dispatch', () => {
    const { svc, join, clock } = setup();
    const a = join(queue('S', { wrap_up_s: 3 }), 'a');
    svc.offerEnded(a.entry!, '1001');
    svc.callEnded('1001', 3000);
    join(queue('S'), 'b');
    svc.stop();
    expect(clock.pending).toBe(0);
  });
});
