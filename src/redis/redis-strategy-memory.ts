/**
 * Queue strategy memory in Redis (docs/scale-out.md), so the engines serving one queue pick as one queue would.
 * Layout, under the key prefix:
 *
 * - `queue-rr:<queue>`: the agent round_robin offered last; moved only by compare-and-set (a script), so two
 *   engines picking at once never take the same turn.
 * - `queue-answered:<queue>`: a hash, agent → calls answered from the queue (fewest_calls).
 * - `agent-idle`: a hash, agent → when the agent last became idle after a queue call, epoch ms (longest_idle; an
 *   agent's idle time is shared by every queue they are in, as on one engine).
 *
 * The keys have no lifetime: they are the queue's memory, as long-lived as an engine's own would be. The engine's
 * queue service uses this through its SharedStrategyMemory interface.
 */
import type { RedisShared } from './redis-shared.js';

/** Sets KEYS[1] to ARGV[2] if it holds ARGV[1] ('' = absent); 1 when set. */
const ADVANCE = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

type Scripted = RedisShared['client'] & {
  sbQueueAdvance(key: string, from: string, to: string): Promise<number>;
};

/** What the shared strategies read for one queue (the engine's StrategyMemoryView). */
export interface StrategyMemorySnapshot {
  lastOffered: string | null;
  answered: Record<string, number>;
  idleSinceMs: Record<string, number>;
}

/** The queue strategies' memory in Redis. */
export class RedisStrategyMemory {
  readonly #c: Scripted;
  readonly #prefix: string;

  constructor(shared: RedisShared) {
    this.#c = shared.client as Scripted;
    this.#prefix = shared.keyPrefix;
    if (!('sbQueueAdvance' in shared.client)) shared.client.defineCommand('sbQueueAdvance', { numberOfKeys: 1, lua: ADVANCE });
  }

  async read(queue: string, agents: readonly string[]): Promise<StrategyMemorySnapshot> {
    const p = this.#c.pipeline().get(`${this.#prefix}queue-rr:${queue}`);
    if (agents.length > 0) p.hmget(`${this.#prefix}queue-answered:${queue}`, ...agents).hmget(`${this.#prefix}agent-idle`, ...agents);
    const res = (await p.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const last = (res[0]?.[1] as string | null) ?? null;
    const byAgent = (i: number): Record<string, number> => {
      const out: Record<string, number> = {};
      const values = (res[i]?.[1] as Array<string | null> | undefined) ?? [];
      agents.forEach((a, k) => { const n = Number(values[k] ?? NaN); if (Number.isFinite(n)) out[a] = n; });
      return out;
    };
    return { lastOffered: last === '' ? null : last, answered: byAgent(1), idleSinceMs: byAgent(2) };
  }

  async advance(queue: string, from: string | null, to: string): Promise<boolean> {
    return (await this.#c.sbQueueAdvance(`${this.#prefix}queue-rr:${queue}`, from ?? '', to)) === 1;
  }

  async answered(queue: string, agent: string): Promise<void> {
    await this.#c.hincrby(`${this.#prefix}queue-answered:${queue}`, agent, 1);
  }

  async idle(agent: string, atMs: number): Promise<void> {
    await this.#c.hset(`${this.#prefix}agent-idle`, agent, String(atMs));
  }
}
