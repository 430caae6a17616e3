/**
 * Strategy memory shared by the engines of one PBX (Redis: src/redis, docs/scale-out.md). Alone, an engine keeps
 * round_robin's position, fewest_calls' answered counts and longest_idle's idle times in its own memory; with several
 * engines serving one queue each would keep its own and the queue would not take turns. With a shared memory an
 * engine reads the queue's memory before it picks for a caller of those strategies, and a round_robin pick moves the
 * shared position only if no engine moved it meanwhile (compare-and-set), so two engines never take the same turn.
 */
import type { QueueStrategy } from '../../config/index.js';
import { pickAgents, type StrategyPick } from './strategies.js';

/** What the shared strategies read for one queue. */
export interface StrategyMemoryView {
  /** round_robin: the agent the queue offered last (any engine); null before the first. */
  lastOffered: string | null;
  /** fewest_calls: calls each agent answered from this queue, at any engine. */
  answered: Readonly<Record<string, number>>;
  /** longest_idle: when each agent last became idle after a queue call (epoch ms), at any engine. */
  idleSinceMs: Readonly<Record<string, number>>;
}

/** The memory the strategies keep, shared between engines. */
export interface SharedStrategyMemory {
  read(queue: string, agents: readonly string[]): Promise<StrategyMemoryView>;
  /** round_robin: sets the queue's position to `to` only if it is still `from`; false when another pick came first. */
  advance(queue: string, from: string | null, to: string): Promise<boolean>;
  /** fewest_calls: `agent` answered a call from `queue`. */
  answered(queue: string, agent: string): Promise<void>;
  /** longest_idle: `agent` became idle after a queue call at `atMs`. */
  idle(agent: string, atMs: number): Promise<void>;
}

/** The strategies whose memory is shared; the others need none (ringall, random) or keep it per caller (linear). */
export const SHARED_STRATEGIES: ReadonlySet<QueueStrategy> = new Set(['round_robin', 'fewest_calls', 'longest_idle']);

/** What {@link sharedPick} needs of the queue service at the moment it picks. */
export interface SharedPickInput {
  memory: SharedStrategyMemory;
  strategy: QueueStrategy;
  queue: string;
  agents: readonly string[];
  callerLast: number;
  /** Which agents are available now (asked after each read: the world moves while Redis answers). */
  available(): ReadonlySet<string>;
  /** False once the caller no longer waits for this pick (left, timed out). */
  stillPicking(): boolean;
  rng(): number;
}

/** Attempts at a round_robin turn when other engines keep taking it first. */
const ADVANCE_TRIES = 5;

/**
 * Picks agents for one caller from the shared memory; null when the caller stopped waiting or nobody is available
 * (the queue service dispatches again on the next change).
 */
export async function sharedPick(p: SharedPickInput): Promise<StrategyPick | null> {
  for (let tries = 0; tries < ADVANCE_TRIES; tries++) {
    const m = await p.memory.read(p.queue, p.agents);
    if (!p.stillPicking()) return null;
    const available = p.available();
    const last = m.lastOffered === null ? -1 : p.agents.indexOf(m.lastOffered);
    const pick = pickAgents(p.strategy, {
      agents: p.agents, available, lastOffered: last, callerLast: p.callerLast,
      idleSinceMs: (a) => m.idleSinceMs[a] ?? 0, callsAnswered: (a) => m.answered[a] ?? 0, rng: p.rng,
    });
    if (pick.agents.length === 0) return null;
    if (p.strategy !== 'round_robin') return pick;
    if (await p.memory.advance(p.queue, m.lastOffered, p.agents[pick.lastOffered]!)) {
      // The turn is ours; the agent may have been taken here meanwhile (then the turn is spent, as a no-answer).
      return p.stillPicking() && p.available().has(pick.agents[0]!) ? pick : null;
    }
  }
  return null;
}
