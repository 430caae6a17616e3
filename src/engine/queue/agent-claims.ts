/** How engines share queue agents (docs/scale-out.md); the Redis implementation is src/redis. */

/**
 * Agents claimed across engines (Redis: src/redis): an engine claims an agent before it rings them for a caller and
 * holds the claim until the agent is idle again, so two engines never offer one agent two calls. A claim lapses
 * after `ttlMs` unless renewed (an engine that crashed frees its agents that way).
 */
export interface AgentClaims {
  readonly ttlMs: number;
  /** Claims `agent` for `owner` (a unique_call_id); or says how long another owner still holds them. */
  claim(agent: string, owner: string): Promise<{ ok: true } | { ok: false; heldMs: number }>;
  /** Releases the claim if `owner` still holds it (the others are told). */
  release(agent: string, owner: string): Promise<void>;
  /** Renews claims; returns the agents whose claim was lost meanwhile. */
  renew(held: ReadonlyArray<{ agent: string; owner: string }>): Promise<string[]>;
  /** `fn(agent)` after another engine released an agent. */
  onReleased(fn: (agent: string) => void): void;
  /** `fn()` after an outage of the shared state (held claims are renewed at once then). */
  onResync?(fn: () => void): void;
}
