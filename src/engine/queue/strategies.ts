/**
 * Queue strategies (SPEC.md §1) as pure functions: given the queue's agents in configured order, which of them
 * are available right now, and the little memory a strategy keeps, they say whom to ring for the head caller.
 *
 * | strategy | rings |
 * |---|---|
 * | ringall | every available agent at once |
 * | round_robin | the next available agent after the one the queue offered last (the queue remembers) |
 * | linear | the first available agent in configured order for a new caller; after that caller's unanswered ring, the next one after it |
 * | longest_idle | the available agent idle longest since their last call (never called = longest) |
 * | fewest_calls | the available agent who answered fewest calls from this queue |
 * | random | one available agent, uniformly (injectable rng) |
 *
 * Ties go to configured order.
 */
import type { QueueStrategy } from '../../config/index.js';

/** What a strategy sees. */
export interface StrategyInput {
  /** The queue's agents (user numbers), in configured order. */
  agents: readonly string[];
  /** Those that can be rung now. */
  available: ReadonlySet<string>;
  /** round_robin: index in `agents` of the agent the queue offered last; -1 before the first. */
  lastOffered: number;
  /** linear: index in `agents` of the agent this caller was offered last; -1 for a new caller. */
  callerLast: number;
  idleSinceMs(agent: string): number;
  callsAnswered(agent: string): number;
  /** A number in [0, 1). */
  rng(): number;
}

/** Whom to ring and the memory to keep; `agents` is empty when nobody is available. */
export interface StrategyPick {
  agents: string[];
  /** New round_robin position (index in `agents` of the agent offered). */
  lastOffered: number;
  /** New linear position of the caller. */
  callerLast: number;
}

/** Picks agents for one caller. */
export function pickAgents(strategy: QueueStrategy, input: StrategyInput): StrategyPick {
  const keep = { lastOffered: input.lastOffered, callerLast: input.callerLast };
  const avail = input.agents.filter((a) => input.available.has(a));
  if (avail.length === 0) return { agents: [], ...keep };
  switch (strategy) {
    case 'ringall':
      return { agents: avail, ...keep };
    case 'round_robin': {
      const i = nextAfter(input.agents, input.available, input.lastOffered);
      return { agents: [input.agents[i]!], lastOffered: i, callerLast: input.callerLast };
    }
    case 'linear': {
      const i = nextAfter(input.agents, input.available, input.callerLast);
      return { agents: [input.agents[i]!], lastOffered: input.lastOffered, callerLast: i };
    }
    case 'longest_idle':
      return { agents: [minBy(avail, input.idleSinceMs)], ...keep };
    case 'fewest_calls':
      return { agents: [minBy(avail, input.callsAnswered)], ...keep };
    case 'random': {
      const r = Math.min(Math.max(input.rng(), 0), 0.999_999_999);
      return { agents: [avail[Math.floor(r * avail.length)]!], ...keep };
    }
  }
}

/** Index of the first available agent after `from`, wrapping around (assumes one is available). */
function nextAfter(agents: readonly string[], available: ReadonlySet<string>, from: number): number {
  const n = agents.length;
  for (let k = 1; k <= n; k++) {
    const i = (((from + k) % n) + n) % n;
    if (available.has(agents[i]!)) return i;
  }
  return -1;
}

/** The first element with the smallest key (stable: configured order breaks ties). */
function minBy(items: readonly string[], key: (s: string) => number): string {
  let best = items[0]!;
  let bestKey = key(best);
  for (const it of items.slice(1)) {
    const k = key(it);
    if (k < bestKey) (best = it), (bestKey = k);
  }
  return best;
}
