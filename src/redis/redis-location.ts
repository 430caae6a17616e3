/**
 * Registrations in Redis (docs/scale-out.md), so every engine reaches every device. Layout, under the key prefix:
 *
 * - `reg:<username>`: a hash, contact → the binding as JSON; its key expires a minute after its latest binding
 *   (a backstop when no engine is left to purge).
 * - `reg-expiry`: a sorted set of `<username>\n<contact>` scored by the binding's expiry (ms): any engine's purge
 *   takes the expired ones out of both, atomically (a script), and whatever the purge clock says is the truth.
 *
 * Every write is a script that also publishes a `reg` notice naming the device, so the other engines re-read that
 * device (their caches stay synchronous for routing). The shapes are the engine's bindings; this module only needs
 * the fields named in {@link SharedBinding}.
 */
import type { RedisShared } from './redis-shared.js';

/** What the Redis store reads of a binding; the rest is kept as given. */
export interface SharedBinding {
  username: string;
  contact: string;
  /** Epoch ms. */
  expires_at: number;
}

/** Backstop lifetime of a device's hash past its latest binding: the purge normally deletes first. */
const KEY_GRACE_MS = 60_000;

const UPSERT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
local at = tonumber(ARGV[3]) + ${KEY_GRACE_MS}
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIREAT', KEYS[1], at) else redis.call('PEXPIREAT', KEYS[1], at, 'GT') end
redis.call('PUBLISH', KEYS[3], ARGV[5])
return 1`;

const REMOVE = `
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('PUBLISH', KEYS[3], ARGV[3])
return n`;

const REMOVE_ALL = `
local contacts = redis.call('HKEYS', KEYS[1])
for _, c in ipairs(contacts) do redis.call('ZREM', KEYS[2], ARGV[1] .. '\\n' .. c) end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', KEYS[3], ARGV[2])
return #contacts`;

/** Deletes every binding expired at ARGV[1]; returns the devices that lost one (the caller publishes for them). */
const PURGE = `
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1000)
local users = {}
for _, m in ipairs(gone) do
  local nl = string.find(m, '\\n', 1, true)
  if nl then
    local u = string.sub(m, 1, nl - 1)
    redis.call('HDEL', ARGV[2] .. u, string.sub(m, nl + 1))
    users[u] = true
  end
  redis.call('ZREM', KEYS[1], m)
end
local out = {}
for u, _ in pairs(users) do table.insert(out, u) end
return out`;

type Scripted = RedisShared['client'] & {
  sbRegUpsert(hash: string, zset: string, channel: string, contact: string, json: string, expiresAt: number, member: string, notice: string): Promise<number>;
  sbRegRemove(hash: string, zset: string, channel: string, contact: string, member: string, notice: string): Promise<number>;
  sbRegRemoveAll(hash: string, zset: string, channel: string, username: string, notice: string): Promise<number>;
  sbRegPurge(zset: string, now: number, hashPrefix: string): Promise<string[]>;
};

/** Registrations in Redis; the engine's location service caches them (engine/location). */
export class RedisLocationStore<B extends SharedBinding> {
  readonly #r: RedisShared;
  readonly #c: Scripted;
  readonly #zset: string;
  readonly #hashPrefix: string;

  constructor(shared: RedisShared) {
    this.#r = shared;
    this.#c = shared.client as Scripted;
    this.#zset = `${shared.keyPrefix}reg-expiry`;
    this.#hashPrefix = `${shared.keyPrefix}reg:`;
    const c = shared.client;
    if (!('sbRegUpsert' in c)) {
      c.defineCommand('sbRegUpsert', { numberOfKeys: 3, lua: UPSERT });
      c.defineCommand('sbRegRemove', { numberOfKeys: 3, lua: REMOVE });
      c.defineCommand('sbRegRemoveAll', { numberOfKeys: 3, lua: REMOVE_ALL });
      c.defineCommand('sbRegPurge', { numberOfKeys: 1, lua: PURGE });
    }
  }

  /** Flow-bound (WebSocket) bindings are kept here too: any engine behind the same edge reaches them. */
  readonly sharesFlows = true;

  #notice(username: string): string {
    return JSON.stringify({ k: 'reg', u: username, i: this.#r.instance });
  }

  async upsert(b: B): Promise<void> {
    await this.#c.sbRegUpsert(this.#hashPrefix + b.username, this.#zset, this.#r.channel, b.contact, JSON.stringify(b), b.expires_at, `${b.username}\n${b.contact}`, this.#notice(b.username));
  }

  async remove(username: string, contact: string): Promise<void> {
    await this.#c.sbRegRemove(this.#hashPrefix + username, this.#zset, this.#r.channel, contact, `${username}\n${contact}`, this.#notice(username));
  }

  async removeAll(username: string): Promise<void> {
    await this.#c.sbRegRemoveAll(this.#hashPrefix + username, this.#zset, this.#r.channel, username, this.#notice(username));
  }

  /** The device's bindings live at `nowMs`. */
  async device(username: string, nowMs: number): Promise<B[]> {
    return parse(await this.#c.hgetall(this.#hashPrefix + username), nowMs);
  }

  /** Every binding live at `nowMs`. */
  async loadAll(nowMs: number): Promise<B[]> {
    const members = await this.#c.zrangebyscore(this.#zset, `(${nowMs}`, '+inf');
    const users = [...new Set(members.map((m) => m.slice(0, m.indexOf('\n'))).filter((u) => u !== ''))];
    const out: B[] = [];
    for (let i = 0; i < users.length; i += 500) {
      const p = this.#c.pipeline();
      for (const u of users.slice(i, i + 500)) p.hgetall(this.#hashPrefix + u);
      for (const [err, h] of (await p.exec()) ?? []) {
        if (err) throw err;
        out.push(...parse<B>(h as Record<string, string>, nowMs));
      }
    }
    return out;
  }

  /** Deletes bindings expired at `nowMs` and tells the other engines; returns the devices that lost one. */
  async purgeExpired(nowMs: number): Promise<string[]> {
    const users = await this.#c.sbRegPurge(this.#zset, nowMs, this.#hashPrefix);
    for (const u of users) await this.#r.publish({ k: 'reg', u });
    return users;
  }

  /** `fn(username)` when another engine changed a device's bindings; `fn(null)` when all must be re-read. */
  watch(fn: (username: string | null) => void): void {
    this.#r.on('reg', (n) => fn(n.u));
    this.#r.onResync(() => fn(null));
  }
}

function parse<B extends SharedBinding>(h: Record<string, string>, nowMs: number): B[] {
  const out: B[] = [];
  for (const json of Object.values(h)) {
    try {
      const b = JSON.parse(json) as B;
      if (b.expires_at > nowMs) out.push(b);
    } catch { /* a foreign value: skipped */ }
  }
  return out;
}
