/**
 * Which users are on a call, shared between engines in Redis (docs/scale-out.md), so a queue or a hunt ring group
 * at one engine skips a user talking on a call another engine handles. Each engine speaks for its own calls only:
 *
 * - `busy`: a sorted set of `<user>\n<engine instance>` scored by when the mark lapses (ms). An engine marks a user
 *   when their first call there connects, renews its marks at a third of the lease while they stay busy (which also
 *   re-creates marks lost to a flush or a Redis restart) and removes the mark when the user's last call there ends.
 *   A crashed engine's marks lapse; any renewal deletes the lapsed ones.
 * - Every change publishes a `busy` notice, so the other engines keep a local cache (`isOnCall` is a synchronous
 *   read during routing).
 *
 * The engine uses this through its SharedPresence interface.
 */
import type { RedisShared } from './redis-shared.js';

/** Default lease of a busy mark; the engine renews at a third of it. */
export const BUSY_LEASE_MS = 15_000;

/** ARGV: until (0 = remove), engine, notice, purge-before, users… */
const MARK = `
local untilMs = tonumber(ARGV[1])
for i = 5, #ARGV do
  local m = ARGV[i] .. '\\n' .. ARGV[2]
  if untilMs > 0 then redis.call('ZADD', KEYS[1], untilMs, m) else redis.call('ZREM', KEYS[1], m) end
end
if untilMs > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4]) end
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1`;

type Scripted = RedisShared['client'] & {
  sbBusyMark(zset: string, channel: string, untilMs: number, engine: string, notice: string, purgeBefore: number, ...users: string[]): Promise<number>;
};

/** Busy users in Redis. */
export class RedisPresence {
  readonly #r: RedisShared;
  readonly #c: Scripted;
  readonly #zset: string;
  readonly leaseMs: number;

  constructor(shared: RedisShared, opts: { leaseMs?: number } = {}) {
    this.#r = shared;
    this.#c = shared.client as Scripted;
    this.#zset = `${shared.keyPrefix}busy`;
    this.leaseMs = opts.leaseMs ?? BUSY_LEASE_MS;
    if (!('sbBusyMark' in shared.client)) shared.client.defineCommand('sbBusyMark', { numberOfKeys: 2, lua: MARK });
  }

  async mark(users: readonly string[], untilMs: number): Promise<void> {
    const notice = JSON.stringify({ k: 'busy', u: users, t: untilMs, i: this.#r.instance });
    await this.#c.sbBusyMark(this.#zset, this.#r.channel, untilMs, this.#r.instance, notice, untilMs > 0 ? untilMs - this.leaseMs : 0, ...users);
  }

  async load(nowMs: number): Promise<Map<string, Map<string, number>>> {
    const flat = await this.#c.zrangebyscore(this.#zset, `(${nowMs}`, '+inf', 'WITHSCORES');
    const out = new Map<string, Map<string, number>>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const m = flat[i]!;
      const nl = m.lastIndexOf('\n');
      const user = m.slice(0, nl);
      const engine = m.slice(nl + 1);
      if (nl <= 0 || engine === this.#r.instance) continue;
      const marks = out.get(user) ?? new Map<string, number>();
      marks.set(engine, Number(flat[i + 1]));
      out.set(user, marks);
    }
    return out;
  }

  watch(fn: (users: readonly string[] | null, untilMs: number, engine: string) => void): void {
    this.#r.on('busy', (n) => fn(n.u, n.t, n.i));
    this.#r.onResync(() => fn(null, 0, ''));
  }
}
