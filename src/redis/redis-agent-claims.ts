/**
 * Queue agent claims in Redis (docs/scale-out.md): before an engine rings an agent for a queue caller it claims the
 * agent — `agent:<number>` set only if absent, to the caller's unique_call_id, with a lifetime the owner renews
 * while it holds the agent (reserved, ringing, on the call, wrap-up). So two engines never offer one agent two calls;
 * a crashed engine's claims lapse after the lifetime. Releasing deletes the key only if it still names the owner and
 * publishes an `agent` notice, so engines with callers waiting try again at once. A renewal that finds the key gone
 * (Redis flushed or restarted empty) sets it again: the engine still holds the agent, so no other may take them.
 */
import type { RedisShared } from './redis-shared.js';

/** Default claim lifetime; the owner renews at a third of it. */
export const AGENT_CLAIM_TTL_MS = 15_000;

/** Returns -1 when the claim is ours now, else the milliseconds the current owner still holds it for. */
const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return -1 end
return redis.call('PTTL', KEYS[1])`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], ARGV[2])
  return 1
end
return 0`;

/** 1 renewed, 2 re-taken (the key was gone), 0 lost (another owner holds it). */
const RENEW = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`;

type Scripted = RedisShared['client'] & {
  sbAgentClaim(key: string, owner: string, ttlMs: number): Promise<number>;
  sbAgentRelease(key: string, channel: string, owner: string, notice: string): Promise<number>;
  sbAgentRenew(key: string, owner: string, ttlMs: number): Promise<number>;
};

/** The result of a claim: ours, or held by another caller for `heldMs` more. */
export type ClaimResult = { ok: true } | { ok: false; heldMs: number };

/** Agent claims in Redis; the engine's queue service uses them through its AgentClaims interface. */
export class RedisAgentClaims {
  readonly #r: RedisShared;
  readonly #c: Scripted;
  readonly ttlMs: number;

  constructor(shared: RedisShared, opts: { ttlMs?: number } = {}) {
    this.#r = shared;
    this.#c = shared.client as Scripted;
    this.ttlMs = opts.ttlMs ?? AGENT_CLAIM_TTL_MS;
    const c = shared.client;
    if (!('sbAgentClaim' in c)) {
      c.defineCommand('sbAgentClaim', { numberOfKeys: 1, lua: CLAIM });
      c.defineCommand('sbAgentRelease', { numberOfKeys: 2, lua: RELEASE });
      c.defineCommand('sbAgentRenew', { numberOfKeys: 1, lua: RENEW });
    }
  }

  #key(agent: string): string {
    return `${this.#r.keyPrefix}agent:${agent}`;
  }

  async claim(agent: string, owner: string): Promise<ClaimResult> {
    const r = await this.#c.sbAgentClaim(this.#key(agent), owner, this.ttlMs);
    return r === -1 ? { ok: true } : { ok: false, heldMs: r > 0 ? r : this.ttlMs };
  }

  async release(agent: string, owner: string): Promise<void> {
    await this.#c.sbAgentRelease(this.#key(agent), this.#r.channel, owner, JSON.stringify({ k: 'agent', a: agent, i: this.#r.instance }));
  }

  /**
   * Renews the claims still ours, and sets again those whose key is gone (a flush, a Redis restarted empty); returns
   * the agents whose claim another owner took meanwhile (after it had lapsed).
   */
  async renew(held: ReadonlyArray<{ agent: string; owner: string }>): Promise<string[]> {
    if (held.length === 0) return [];
    const p = this.#c.pipeline();
    for (const h of held) (p as unknown as Scripted).sbAgentRenew(this.#key(h.agent), h.owner, this.ttlMs);
    const res = (await p.exec()) ?? [];
    const retaken = held.filter((_h, i) => res[i]?.[1] === 2).map((h) => h.agent);
    if (retaken.length > 0) this.#r.log.warn({ agents: retaken }, 'agent claims were gone from Redis (flushed or restarted): taken again');
    return held.filter((_h, i) => { const [err, v] = res[i] ?? [null, 0]; return !err && v === 0; }).map((h) => h.agent);
  }

  /** The current owner of an agent's claim (tests, status), or null. */
  owner(agent: string): Promise<string | null> {
    return this.#c.get(this.#key(agent));
  }

  /** `fn(agent)` when another engine released an agent. */
  onReleased(fn: (agent: string) => void): void {
    this.#r.on('agent', (n) => fn(n.a));
  }

  /** `fn()` once Redis is back after an outage (it may have restarted empty: held claims are renewed at once). */
  onResync(fn: () => void): void {
    this.#r.onResync(fn);
  }
}
