/** Unit tests of the engine's pure parts: call-state edges, unique_call_id, router, rate limiting, next. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { InvalidStateError } from '../../../src/common/errors.js';
import { CALL_EDGES, isCallEdge, type CallState } from '../../../src/engine/call/call-state.js';
import { FailureRateLimiter } from '../../../src/engine/registrar/rate-limiter.js';
import { route, requiresAuth } from '../../../src/engine/router/router.js';
import { createUniqueCallIdGenerator } from '../../../src/engine/unique-call-id.js';
import { demoConfig } from '../../support/engine-harness.js';
import { Leg } from '../../../src/engine/call/leg.js';

const STATES: CallState[] = ['routing', 'ringing', 'connected', 'ending', 'ended'];

describe('call state table', () => {
  it.each([
    ['routing', 'ringing', true], ['routing', 'connected', true], ['routing', 'ending', true], ['ringing', 'routing', true],
    ['ringing', 'connected', true], ['ringing', 'ending', true], ['connected', 'ending', true], ['ending', 'ended', true],
    ['connected', 'ringing', false], ['connected', 'routing', false], ['ended', 'ending', false], ['ending', 'connected', false], ['routing', 'ended', false],
  ] as const)('%s → %s is %s', (from, to, legal) => {
    expect(isCallEdge(from, to)).toBe(legal);
  });

  it('MUST reach ending from every live state and leave ended for nowhere', () => {
    for (const s of STATES.slice(0, 3)) expect(CALL_EDGES[s]).toContain('ending');
    expect(CALL_EDGES.ended).toEqual([]);
    expect(new InvalidStateError('x').code).toBe('SB_ERR_INVALID_STATE');
  });
});

describe('unique_call_id', () => {
  it('is 19 decimal digits, unique and strictly increasing even when the clock stands still or steps back', () => {
    const clock = new ManualClock(1_764_343_875_000);
    const gen = createUniqueCallIdGenerator({ clock, nodeId: 7 });
    const ids: string[] = [];
    for (let i = 0; i < 25_000; i++) ids.push(gen.next());
    clock.advance(-5000);
    ids.push(gen.next());
    clock.advance(60_000);
    ids.push(gen.next());
    for (const id of ids) expect(id).toMatch(/^\d{19}$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(ids[0]!.startsWith('1764343875000')).toBe(true);
    expect(ids[0]!.endsWith('07')).toBe(true);
  });

  it('refuses a node id outside 0..99', () => {
    expect(() => createUniqueCallIdGenerator({ clock: new ManualClock(), nodeId: 100 })).toThrow(TypeError);
  });
});

describe('router', () => {
  const config = demoConfig();
  it('routes a DID with or without +', () => {
    expect(route(config, '+61390000000')).toMatchObject({ kind: 'did', flow: { id: 'alice-direct' } });
    expect(route(config, '61390000000')).toMatchObject({ kind: 'did', flow: { id: 'alice-direct' } });
  });
  it('routes an extension to its user, other numbers to the trunk, and the rest nowhere', () => {
    expect(route(config, '1002')).toMatchObject({ kind: 'extension', user: { name: 'Bob Jones' } });
    expect(route(config, '+61299998888')).toEqual({ kind: 'outbound', number: '+61299998888' });
    expect(route(config, 'alice')).toMatchObject({ kind: 'not-found' });
  });
  it('requires authentication for everything but a DID', () => {
    expect(requiresAuth(route(config, '+61390000000'))).toBe(false);
    for (const d of ['1002', '+61299998888', 'nobody']) expect(requiresAuth(route(config, d))).toBe(true);
  });
});

describe('failure rate limiter', () => {
  it('blocks a source after N failures in the window and forgives it when the window passes', () => {
    const clock = new ManualClock();
    const limiter = new FailureRateLimiter({ clock, maxFailures: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      expect(limiter.isBlocked('10.0.0.1')).toBe(false);
      limiter.recordFailure('10.0.0.1');
      clock.advance(1000);
    }
    expect(limiter.isBlocked('10.0.0.1')).toBe(true);
    expect(limiter.isBlocked('10.0.0.2')).toBe(false);
    clock.advance(58_001);
    expect(limiter.isBlocked('10.0.0.1')).toBe(false);
  });
  it('tracks at most maxSources addresses', () => {
    const limiter = new FailureRateLimiter({ clock: new ManualClock(), maxFailures: 1, maxSources: 2 });
    for (const a of ['a', 'b', 'c']) limiter.recordFailure(a);
    expect(limiter.isBlocked('a')).toBe(false);
    expect(limiter.isBlocked('c')).toBe(true);
  });
});

describe('legs', () => {
  it('a leg keeps the first end and formats ISO times', () => {
    const leg = new Leg({ kind: 'device', device: 'd', startedAtMs: 1_764_343_875_000 });
    leg.answered(1_764_343_876_500);
    leg.end(1_764_343_880_000, 'callee');
    leg.end(1_764_343_990_000, 'pbx', 487);
    expect(leg.toRecord('1')).toMatchObject({ started_at: '2025-11-28T15:31:15.000Z', answered_at: '2025-11-28T15:31:16.500Z', ended_at: '2025-11-28T15:31:20.000Z', ended_by: 'callee', final_status: 200 });
    expect(leg.id).toMatch(/^leg_/);
  });
});
