import { describe, expect, it } from 'vitest';
import { pickAgents, type StrategyInput } from '../../../../src/engine/queue/strategies.js';

const AGENTS = ['1001', '1002', '1003', '1004'];

function input(over: Partial<StrategyInput> = {}): StrategyInput {
  return {
    agents: AGENTS, available: new Set(AGENTS), lastOffered: -1, callerLast: -1,
    idleSinceMs: () => 0, callsAnswered: () => 0, rng: () => 0, ...over,
  };
}

describe('queue strategies', () => {
  it('every strategy picks nobody when nobody is available, and keeps its memory', () => {
    for (const s of ['ringall', 'round_robin', 'linear', 'longest_idle', 'fewest_calls', 'random'] as const) {
      expect(pickAgents(s, input({ available: new Set(), lastOffered: 2, callerLast: 1 }))).toEqual({ agents: [], lastOffered: 2, callerLast: 1 });
    }
  });

  it('ringall rings every available agent, in configured order', () => {
    expect(pickAgents('ringall', input({ available: new Set(['1003', '1001']) })).agents).toEqual(['1001', '1003']);
  });

  it('round_robin continues after the agent the queue offered last, wrapping and skipping the unavailable', () => {
    let last = -1;
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = pickAgents('round_robin', input({ lastOffered: last }));
      seen.push(...p.agents);
      last = p.lastOffered;
    }
    expect(seen).toEqual(['1001', '1002', '1003', '1004', '1001']);
    const p = pickAgents('round_robin', input({ lastOffered: 0, available: new Set(['1001', '1004']) }));
    expect(p).toMatchObject({ agents: ['1004'], lastOffered: 3 });
    expect(pickAgents('round_robin', input({ lastOffered: 3, available: new Set(['1004']) })).agents).toEqual(['1004']);
  });

  it('linear starts at the top for a new caller and moves down that caller\'s list, leaving the queue position alone', () => {
    const first = pickAgents('linear', input({ lastOffered: 2 }));
    expect(first).toEqual({ agents: ['1001'], lastOffered: 2, callerLast: 0 });
    expect(pickAgents('linear', input({ callerLast: 0 })).agents).toEqual(['1002']);
    expect(pickAgents('linear', input({ callerLast: 0, available: new Set(['1001', '1003']) })).agents).toEqual(['1003']);
    expect(pickAgents('linear', input({ callerLast: 3 })).agents).toEqual(['1001']);
  });

  it('longest_idle picks the agent idle longest; never-called agents first; ties by configured order', () => {
    const idle: Record<string, number> = { '1001': 500, '1002': 100, '1003': 100, '1004': 900 };
    expect(pickAgents('longest_idle', input({ idleSinceMs: (a) => idle[a]! })).agents).toEqual(['1002']);
    expect(pickAgents('longest_idle', input({ idleSinceMs: (a) => idle[a]!, available: new Set(['1001', '1004']) })).agents).toEqual(['1001']);
    expect(pickAgents('longest_idle', input()).agents).toEqual(['1001']);
  });

  it('fewest_calls picks the agent with fewest answered calls; ties by configured order', () => {
    const n: Record<string, number> = { '1001': 3, '1002': 1, '1003': 1, '1004': 2 };
    expect(pickAgents('fewest_calls', input({ callsAnswered: (a) => n[a]! })).agents).toEqual(['1002']);
    expect(pickAgents('fewest_calls', input({ callsAnswered: (a) => n[a]!, available: new Set(['1001', '1004']) })).agents).toEqual(['1004']);
  });

  it('random picks uniformly among the available agents with the injected rng', () => {
    const avail = new Set(['1002', '1004']);
    expect(pickAgents('random', input({ available: avail, rng: () => 0 })).agents).toEqual(['1002']);
    expect(pickAgents('random', input({ available: avail, rng: () => 0.49 })).agents).toEqual(['1002']);
    expect(pickAgents('random', input({ available: avail, rng: () => 0.5 })).agents).toEqual(['1004']);
    expect(pickAgents('random', input({ available: avail, rng: () => 1 })).agents).toEqual(['1004']);
  });
});
