/**
 * Call on fake time (STYLE.md §6): the edge table is enforced, the flow runner walks `next` by outcome, and end() is
 * idempotent and cascades in order (abort the node, end the legs, final response, record, listeners once).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { InvalidStateError } from '../../../src/common/errors.js';
import type { FlowConfig, FlowNode } from '../../../src/config/types.js';
import { Call } from '../../../src/engine/call/call.js';
import type { CallerSide } from '../../../src/engine/call/caller-side.js';
import { Leg } from '../../../src/engine/call/leg.js';
import { UserPresence, type EngineContext } from '../../../src/engine/engine-context.js';
import { FlowRunner } from '../../../src/engine/flows/flow-runner.js';
import { NodeHandlerRegistry, type HandlerOutcome } from '../../../src/engine/flows/node-handler.js';
import { LocationService } from '../../../src/engine/location/location-service.js';
import { CallRecorder } from '../../../src/engine/records/call-recorder.js';
import type { SrfDialog, SrfLike } from '../../../src/engine/srf-types.js';
import { createSqliteStore } from '../../../src/store/index.js';
import type { Store } from '../../../src/store/store.js';
import { demoConfig, harnessLogger } from '../../support/engine-harness.js';

class FakeCaller implements CallerSide {
  readonly leg: Leg;
  readonly offer = 'v=0';
  dialog: SrfDialog | null = null;
  sent: number[] = [];
  constructor(leg: Leg) { this.leg = leg; }
  ringing(): void { this.sent.push(180); }
  progress(): void { this.sent.push(183); }
  async answer(): Promise<SrfDialog> { throw new Error('not in these tests'); }
  reject(status: number): void { this.sent.push(status); }
}

describe('Call', () => {
  let store: Store;
  let clock: ManualClock;
  let handlers: NodeHandlerRegistry;
  let flows: FlowRunner;
  let ctx: EngineContext;
  const log = harnessLogger();

  beforeEach(async () => {
    store = await createSqliteStore({ file: ':memory:' });
    clock = new ManualClock();
    handlers = new NodeHandlerRegistry();
    flows = new FlowRunner(handlers);
    ctx = {
      srf: {} as SrfLike, store, clock, log, location: new LocationService({ store, clock, log }), presence: new UserPresence(),
      domain: () => 'pbx.test',
    };
  });
  afterEach(async () => {
    await store.close();
  });

  function newCall(): { call: Call; caller: FakeCaller } {
    const config = { version: 7, config: demoConfig(), created_at: '2026-11-28T00:00:00.000Z' };
    let call: Call | null = null;
    const recorder = new CallRecorder({
      store, clock, log, uniqueCallId: '1', direction: 'inbound', callerId: '+61400000000', callerName: null, destNumber: '+61390000000',
      configVersion: 7, startMs: clock.now(), legs: () => call?.legs ?? [],
    });
    call = new Call({ ctx, uniqueCallId: '1', config, recorder, startMs: clock.now() });
    const caller = new FakeCaller(call.newLeg({ kind: 'caller' }));
    call.attachCaller(caller);
    return { call, caller };
  }

  function flow(...nodes: FlowNode[]): FlowConfig {
    return { id: 'f', nodes };
  }

  it('MUST reject an illegal edge with InvalidStateError', () => {
    const { call } = newCall();
    expect(() => call.transition('ended')).toThrow(InvalidStateError);
    call.transition('ringing');
    call.transition('connected');
    expect(() => call.transition('ringing')).toThrow(InvalidStateError);
  });

  it('walks next by outcome, returns to routing after ringing, and ends with 480 when the flow runs out', async () => {
    const seen: string[] = [];
    const outcomes: Record<string, HandlerOutcome> = { a: 'busy', b: 'no-answer', c: 'continue' };
    handlers.register({
      type: 'play',
      run: async (c, node) => {
        seen.push(`${node.id}:${c.state}`);
        if (node.id === 'a') c.ringing();
        return outcomes[node.id]!;
      },
    });
    const { call, caller } = newCall();
    await flows.run(call, flow(
      { id: 'a', type: 'play', file: 'x', next: { busy: 'c', default: 'b' } },
      { id: 'b', type: 'play', file: 'x', next: null },
      { id: 'c', type: 'play', file: 'x', next: 'b' },
    ));
    expect(seen).toEqual(['a:routing', 'c:routing', 'b:routing']);
    expect(caller.sent).toEqual([180, 480]);
    expect(call.state).toBe('ended');
    expect(await store.getCall('1')).toMatchObject({ hangup_cause: 'flow-end', config_version: 7, status: 'missed' });
  });

  it('end() aborts the running node, ends every leg, answers the caller once and tells listeners once', async () => {
    let aborted = false;
    handlers.register({
      type: 'play',
      run: (_c, _n, signal) => new Promise<HandlerOutcome>((resolve) => signal.addEventListener('abort', () => { aborted = true; resolve('failed'); })),
    });
    const { call, caller } = newCall();
    const device = call.newLeg({ kind: 'device', device: 'd1' });
    let endedCount = 0;
    call.onEnded(() => void endedCount++);
    const running = flows.run(call, flow({ id: 'p', type: 'play', file: 'x' }));
    clock.advance(5000);
    const e1 = call.end('hangup-node', { status: 486 });
    const e2 = call.end('other');
    call.handle({ kind: 'caller-cancel' });
    await Promise.all([e1, e2, running]);
    expect(e1).toBe(e2);
    expect(aborted).toBe(true);
    expect(caller.sent).toEqual([486]);
    expect(call.legs.every((l) => l.ended)).toBe(true);
    expect(device.endedBy).toBe('pbx');
    expect(endedCount).toBe(1);
    expect(call.signal.aborted).toBe(true);
    expect(await store.getCall('1')).toMatchObject({ hangup_cause: 'hangup-node', call_duration: 5 });
  });

  it('a caller CANCEL ends the call without a second final response', async () => {
    handlers.register({ type: 'play', run: (_c, _n, signal) => new Promise<HandlerOutcome>((r) => signal.addEventListener('abort', () => r('failed'))) });
    const { call, caller } = newCall();
    const running = flows.run(call, flow({ id: 'p', type: 'play', file: 'x' }));
    call.handle({ kind: 'caller-cancel' });
    await running;
    await call.end('again');
    expect(caller.sent).toEqual([]);
    expect(caller.leg.finalStatus).toBe(487);
    expect(caller.leg.endedBy).toBe('caller');
  });
});
