/**
 * Shared state on the machine's real Redis (issue 16): two "engines" (each its own pair of connections, location
 * cache and queue service) under one key prefix. A binding written through one is routed to by the other; expiry
 * lives in Redis; an agent is claimed by one engine at a time and freed for the other on release or claim lapse;
 * a private redis-server killed mid-run turns writes into errors without crashing, and a restart re-syncs.
 */
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/index.js';
import type { QueueConfig } from '../../../src/config/index.js';
import { QueueService, type QueueEntry } from '../../../src/engine/queue/index.js';
import { LocationService, type Binding } from '../../../src/engine/location/location-service.js';
import { connectRedis, RedisAgentClaims, RedisLocationStore, RedisPresence, RedisStrategyMemory, type RedisShared } from '../../../src/redis/index.js';
import { UserPresence } from '../../../src/engine/index.js';
import { eventually } from '../../support/eventually.js';
import { deleteRedisKeys, killAllRedisServers, redisClient, startRedisServer, TEST_REDIS_URL, uniqueRedisPrefix } from '../../support/redis.js';

const log = pino({ level: 'silent' });
const opened: RedisShared[] = [];
const services: Array<{ stop(): void }> = [];
const prefixes: Array<[string, string]> = [];

async function engine(prefix: string, url = TEST_REDIS_URL, claimTtlMs?: number, leaseMs?: number) {
  const shared = await connectRedis({ url, keyPrefix: prefix, log, source: 'redis.url' });
  opened.push(shared);
  const presence = new UserPresence({ shared: new RedisPresence(shared, leaseMs ? { leaseMs } : {}), clock: systemClock, log });
  await presence.start();
  services.push(presence);
  const location = new LocationService({ backend: new RedisLocationStore<Binding>(shared), clock: systemClock, log, purgeIntervalMs: 100 });
  services.push(location);
  const claims = new RedisAgentClaims(shared, claimTtlMs ? { ttlMs: claimTtlMs } : {});
  const memory = new RedisStrategyMemory(shared);
  const queues = new QueueService({ clock: systemClock, log, isRegistered: () => true, isOnCall: (a) => presence.isOnCall(a), claims, memory, retryMs: 50 });
  presence.onChange(() => queues.wake());
  services.push(queues);
  return { shared, location, claims, queues, presence };
}

function prefix(name: string, url = TEST_REDIS_URL): string {
  const p = uniqueRedisPrefix(name);
  prefixes.push([url, p]);
  return p;
}

function binding(username: string, contact: string, ttlMs: number, over: Partial<Binding> = {}): Binding {
  const now = Date.now();
  return {
    username, contact, transport: 'udp', source_address: '127.0.0.1', source_port: 5070, call_id: `c-${contact}`, cseq: 1,
    expires_at: now + ttlMs, user_agent: 'test', instance_id: null, reg_id: null, updated_at: now, ...over,
  };
}

afterEach(async () => {
  for (const s of services.splice(0)) s.stop();
  for (const r of opened.splice(0)) await r.close();
  for (const [url, p] of prefixes.splice(0)) await deleteRedisKeys(url, p).catch(() => undefined);
});
afterAll(() => killAllRedisServers());

const queue: QueueConfig = {
  name: 'Sales', agents: ['1001'], strategy: 'ringall', agent_timeout_s: 15, max_wait_s: 60, max_callers: 0, wrap_up_s: 0, hold_music: null, next: null,
};

function caller(svc: QueueService, id: string, q: QueueConfig = queue) {
  const offers: string[][] = [];
  let entry: QueueEntry | null = null;
  const r = svc.join(q, id, { offer: (agents, e) => { offers.push([...agents]); entry = e; }, timedOut: () => undefined });
  if (!r.ok) throw new Error(r.reason);
  entry = r.entry;
  return { offers, entry: () => entry! };
}

describe('registrations in Redis', () => {
  it('a binding made at one engine is routed to by another; removal and Contact: * reach it too', async () => {
    const p = prefix('loc');
    const a = await engine(p);
    const b = await engine(p);
    await a.location.start();
    await b.location.start();
    const changed: string[] = [];
    b.location.onChange((u) => changed.push(u));
    await a.location.upsert(binding('alice', 'sip:alice@10.0.0.1:5070', 60_000));
    await a.location.upsert(binding('alice', 'sip:alice@10.0.0.2:5070', 60_000, { transport: 'ws', source_port: 40000 }));
    const targets = await eventually(() => (b.location.targets('alice').length === 2 ? b.location.targets('alice') : null), 'engine B sees both bindings');
    expect(targets.map((t) => t.proxy).sort()).toEqual(['sip:127.0.0.1:40000;transport=ws', 'sip:127.0.0.1:5070;transport=udp']);
    expect(changed).toContain('alice');
    // A third engine started later loads them from Redis.
    const c = await engine(p);
    await c.location.start();
    expect(c.location.bindings('alice')).toHaveLength(2);

    await b.location.remove('alice', 'sip:alice@10.0.0.1:5070');
    await eventually(() => a.location.bindings('alice').length === 1, 'engine A sees the removal');
    expect(b.location.flowClosed({ transport: 'ws', address: '127.0.0.1', port: 40000 })).toBe(1);
    await eventually(() => a.location.bindings('alice').length === 0 && c.location.bindings('alice').length === 0, 'every engine sees the closed flow');

    await c.location.upsert(binding('bob', 'sip:bob@10.0.0.3:5070', 60_000));
    await eventually(() => a.location.bindings('bob').length === 1, 'A sees bob');
    await a.location.removeAll('bob');
    await eventually(() => c.location.bindings('bob').length === 0, 'C sees Contact: *');
    const r = await redisClient();
    try {
      expect(await r.exists(`${p}reg:bob`, `${p}reg:alice`)).toBe(0);
      expect(await r.zcard(`${p}reg-expiry`)).toBe(0);
    } finally {
      r.disconnect();
    }
  });

  it('expiry is held in Redis: an expired binding is purged from Redis and from every cache', async () => {
    const p = prefix('exp');
    const a = await engine(p);
    const b = await engine(p);
    await a.location.start();
    await b.location.start();
    const r = await redisClient();
    try {
      await a.location.upsert(binding('carol', 'sip:carol@10.0.0.4:5070', 400));
      await a.location.upsert(binding('carol', 'sip:carol@10.0.0.5:5070', 60_000));
      await eventually(() => b.location.bindings('carol').length === 2, 'B sees both');
      expect(await r.pttl(`${p}reg:carol`)).toBeGreaterThan(60_000); // the key's backstop lifetime follows the latest binding
      await eventually(async () => (await r.hlen(`${p}reg:carol`)) === 1 && b.location.bindings('carol').length === 1 ? true : null, 'the short binding purged in Redis', 5000, 50);
      expect(await r.zrange(`${p}reg-expiry`, 0, -1)).toEqual(['carol\nsip:carol@10.0.0.5:5070']);
    } finally {
      r.disconnect();
    }
  });
});

describe('agent claims in Redis', () => {
  it('two engines never offer one agent at once: the second offers only after the first releases', async () => {
    const p = prefix('claim');
    const a = await engine(p);
    const b = await engine(p);
    const x = caller(a.queues, 'call-a');
    const y = caller(b.queues, 'call-b');
    await eventually(() => x.offers.length + y.offers.length >= 1, 'one offer');
    await new Promise((r) => setTimeout(r, 200));
    expect(x.offers.length + y.offers.length).toBe(1);
    const [first, firstSvc, second] = x.offers.length === 1 ? [x, a, y] : [y, b, x];
    expect(await firstSvc.claims.owner('1001')).toBe(first === x ? 'call-a' : 'call-b');
    // The agent answers, talks, hangs up: only then may the other engine ring them.
    firstSvc.queues.ringing(first.entry());
    expect(firstSvc.queues.offerEnded(first.entry(), '1001')).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(second.offers).toEqual([]);
    firstSvc.queues.callEnded('1001', 0);
    await eventually(() => second.offers.length === 1, 'the other engine offers the agent after the release', 5000);
    expect(second.offers[0]).toEqual(['1001']);
  });

  it('a crashed engine\'s claim lapses after its lifetime and the agent is offered elsewhere', async () => {
    const p = prefix('lapse');
    const r = await redisClient();
    try {
      // A claim left by an engine that died: nobody renews it.
      await r.set(`${p}agent:1001`, 'call-of-a-dead-engine', 'PX', 600);
      const b = await engine(p, TEST_REDIS_URL, 600);
      const y = caller(b.queues, 'call-b');
      await new Promise((res) => setTimeout(res, 150));
      expect(y.offers).toEqual([]);
      await eventually(() => y.offers.length === 1, 'offered once the dead claim lapsed', 5000);
      expect(await b.claims.owner('1001')).toBe('call-b');
    } finally {
      r.disconnect();
    }
  });
});

describe('busy users and claims across engines', () => {
  it('a user on a call at one engine is on a call at the other (a late starter reads it), and free when it ends', async () => {
    const p = prefix('busy');
    const a = await engine(p);
    const b = await engine(p);
    const release = a.presence.hold('1001');
    expect(a.presence.isOnCall('1001')).toBe(true);
    await eventually(() => b.presence.isOnCall('1001'), 'engine B sees 1001 busy');
    const c = await engine(p);
    expect(c.presence.isOnCall('1001')).toBe(true);
    // A second call of 1001 at B, then A's ends: still busy (B's own call), and free everywhere once B's ends too.
    const releaseB = b.presence.hold('1001');
    release();
    await eventually(() => c.presence.isOnCall('1001') && b.presence.isOnCall('1001'), 'still busy at B');
    releaseB();
    await eventually(() => !a.presence.isOnCall('1001') && !b.presence.isOnCall('1001') && !c.presence.isOnCall('1001'), 'free everywhere');
  });

  it('a queue at one engine skips an agent on a call at another, and offers them once that call ends', async () => {
    const p = prefix('busy-queue');
    const a = await engine(p);
    const b = await engine(p);
    const release = a.presence.hold('1001');
    await eventually(() => b.presence.isOnCall('1001'), 'engine B sees 1001 busy');
    const y = caller(b.queues, 'call-b');
    await new Promise((r) => setTimeout(r, 200));
    expect(y.offers).toEqual([]);
    release();
    await eventually(() => y.offers.length === 1, 'offered once the call at A ended', 5000);
  });

  it('a crashed engine\'s busy marks lapse with their lease', async () => {
    const p = prefix('busy-lapse');
    const a = await engine(p, TEST_REDIS_URL, undefined, 600);
    const b = await engine(p, TEST_REDIS_URL, undefined, 600);
    a.presence.hold('1001');
    await eventually(() => b.presence.isOnCall('1001'), 'engine B sees 1001 busy');
    a.presence.stop(); // no renewal and no release from here on, as after kill -9
    await eventually(() => !b.presence.isOnCall('1001'), 'the mark lapsed', 5000);
  });

  it('after a flush mid-call the claim and the busy mark are taken again, so the other engine still cannot offer the agent', async () => {
    const p = prefix('flush');
    const a = await engine(p, TEST_REDIS_URL, 600, 600);
    const b = await engine(p, TEST_REDIS_URL, 600, 600);
    const x = caller(a.queues, 'call-a');
    await eventually(() => x.offers.length === 1, 'engine A offers the agent');
    a.queues.ringing(x.entry());
    expect(a.queues.offerEnded(x.entry(), '1001')).toBe(true);
    const release = a.presence.hold('1001'); // the call connected
    await eventually(() => b.presence.isOnCall('1001'), 'engine B sees 1001 busy');
    await deleteRedisKeys(TEST_REDIS_URL, p);
    const r = await redisClient();
    try {
      expect(await r.exists(`${p}agent:1001`)).toBe(0);
      await eventually(async () => (await r.get(`${p}agent:1001`)) === 'call-a', 'engine A took the claim again', 5000);
      await eventually(async () => (await r.zcard(`${p}busy`)) === 1, 'engine A marked 1001 busy again', 5000);
      // Engine B's cache kept the mark, and the claim stops B even where the mark is gone.
      const y = caller(b.queues, 'call-b');
      await new Promise((res) => setTimeout(res, 1500)); // a few renewals and claim lifetimes
      expect(y.offers).toEqual([]);
      expect(await r.get(`${p}agent:1001`)).toBe('call-a');
      release();
      a.queues.callEnded('1001', 0);
      await eventually(() => y.offers.length === 1, 'engine B offers the agent once the call ended', 5000);
    } finally {
      r.disconnect();
    }
  });
});

describe('queue strategy memory in Redis', () => {
  /** One caller at `svc`: offered one agent, who answers and hangs up (no wrap-up); resolves to that agent. */
  async function served(svc: QueueService, id: string, q: QueueConfig): Promise<string> {
    const c = caller(svc, id, q);
    await eventually(() => c.offers.length === 1, `${id} offered`, 5000);
    const agent = c.offers[0]![0]!;
    expect(c.offers[0]).toHaveLength(1);
    svc.ringing(c.entry());
    expect(svc.offerEnded(c.entry(), agent)).toBe(true);
    svc.callEnded(agent, 0);
    return agent;
  }

  it('round_robin takes turns across engines as one queue would: the position is shared', async () => {
    const p = prefix('rr');
    const a = await engine(p);
    const b = await engine(p);
    const q: QueueConfig = { ...queue, name: 'Turns', agents: ['1001', '1002', '1003'], strategy: 'round_robin' };
    const order: string[] = [];
    for (const [i, svc] of [a, b, a, b, b].entries()) order.push(await served(svc.queues, `call-${i}`, q));
    expect(order).toEqual(['1001', '1002', '1003', '1001', '1002']);
    const r = await redisClient();
    try {
      expect(await r.get(`${p}queue-rr:Turns`)).toBe('1002');
    } finally {
      r.disconnect();
    }
  });

  it('round_robin callers picking at once at two engines take different turns (the position moves by compare-and-set)', async () => {
    const p = prefix('rr-race');
    const a = await engine(p);
    const b = await engine(p);
    const q: QueueConfig = { ...queue, name: 'Race', agents: ['1001', '1002', '1003'], strategy: 'round_robin' };
    const x = caller(a.queues, 'call-x', q);
    const y = caller(b.queues, 'call-y', q);
    await eventually(() => x.offers.length === 1 && y.offers.length === 1, 'both offered');
    expect([x.offers[0]![0], y.offers[0]![0]].sort()).toEqual(['1001', '1002']);
  });

  it('fewest_calls counts the calls answered at every engine', async () => {
    const p = prefix('fewest');
    const a = await engine(p);
    const b = await engine(p);
    const q: QueueConfig = { ...queue, name: 'Fewest', agents: ['1001', '1002'], strategy: 'fewest_calls' };
    // Two calls answered by 1001 at engine A; engine B, which answered none itself, offers 1002 next.
    expect(await served(a.queues, 'call-1', q)).toBe('1001');
    expect(await served(b.queues, 'call-2', q)).toBe('1002');
    expect(await served(b.queues, 'call-3', q)).toBe('1001');
    expect(await served(a.queues, 'call-4', q)).toBe('1002');
  });

  it('longest_idle knows when an agent was last idle after a call at another engine', async () => {
    const p = prefix('idle');
    const a = await engine(p);
    const b = await engine(p);
    const q: QueueConfig = { ...queue, name: 'Idle', agents: ['1001', '1002'], strategy: 'longest_idle' };
    expect(await served(a.queues, 'call-1', q)).toBe('1001'); // never called: configured order
    expect(await served(b.queues, 'call-2', q)).toBe('1002'); // 1001 just had a call (at A)
    await new Promise((r) => setTimeout(r, 5));
    expect(await served(b.queues, 'call-3', q)).toBe('1001'); // 1001 has been idle longer than 1002
  });
});

describe('Redis down mid-run', () => {
  it('is a start error naming the key when unreachable at start', async () => {
    const port = (await startRedisServer());
    await port.kill();
    await expect(connectRedis({ url: port.url, keyPrefix: 'x:', log, source: 'SWITCHBOARD_REDIS_URL' })).rejects.toThrow(/^SWITCHBOARD_REDIS_URL: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });

  it('writes fail fast while it is down, cached bindings still route, and a restart re-syncs', async () => {
    const server = await startRedisServer();
    const p = prefix('down', server.url);
    const a = await engine(p, server.url);
    const b = await engine(p, server.url);
    await a.location.start();
    await b.location.start();
    await a.location.upsert(binding('dave', 'sip:dave@10.0.0.6:5070', 60_000));
    await eventually(() => b.location.bindings('dave').length === 1, 'B sees dave');
    await server.kill();
    await eventually(() => !a.shared.connected, 'A noticed');
    await expect(a.location.upsert(binding('erin', 'sip:erin@10.0.0.7:5070', 60_000))).rejects.toThrow();
    expect(b.location.targets('dave')).toHaveLength(1); // routing goes on from the cache
    await server.restart(); // empty: it kept nothing
    await eventually(() => a.shared.connected && b.shared.connected, 'both reconnected', 15_000, 100);
    // After the resync B's cache matches Redis (which lost everything); new writes are shared again.
    await eventually(() => b.location.bindings('dave').length === 0, 'B re-read Redis after the restart', 10_000, 50);
    await a.location.upsert(binding('erin', 'sip:erin@10.0.0.7:5070', 60_000));
    await eventually(() => b.location.bindings('erin').length === 1, 'B sees erin', 10_000);
  }, 60_000);

  it('a round_robin caller waits while the shared memory cannot be read, and is offered once Redis is back', async () => {
    const server = await startRedisServer();
    const p = prefix('rr-down', server.url);
    const a = await engine(p, server.url);
    await server.kill();
    await eventually(() => !a.shared.connected, 'A noticed');
    const q: QueueConfig = { ...queue, name: 'Down', agents: ['1001', '1002'], strategy: 'round_robin' };
    const x = caller(a.queues, 'call-x', q);
    await new Promise((r) => setTimeout(r, 300)); // several retries (retryMs 50) fail meanwhile
    expect(x.offers).toEqual([]);
    expect(x.entry().state).not.toBe('left');
    await server.restart();
    await eventually(() => x.offers.length === 1, 'offered once Redis answers again', 15_000, 50);
    expect(x.offers[0]).toEqual(['1001']);
  }, 60_000);

  it('a Redis restarted empty: the engine holding an agent re-takes the claim and its busy marks at once on reconnect', async () => {
    const server = await startRedisServer();
    const p = prefix('restart', server.url);
    const a = await engine(p, server.url);
    const x = caller(a.queues, 'call-a');
    await eventually(() => x.offers.length === 1, 'engine A offers the agent');
    a.queues.ringing(x.entry());
    expect(a.queues.offerEnded(x.entry(), '1001')).toBe(true);
    a.presence.hold('1001');
    await server.kill();
    await eventually(() => !a.shared.connected, 'A noticed');
    await server.restart(); // empty
    const r = await redisClient(server.url);
    try {
      // Within the claim's 15 s lifetime and well before its 5 s renewal: the resync re-took both.
      await eventually(async () => (await r.get(`${p}agent:1001`)) === 'call-a', 'the claim re-taken', 4000, 50);
      await eventually(async () => (await r.zcard(`${p}busy`)) === 1, 'the busy mark re-taken', 4000, 50);
    } finally {
      r.disconnect();
    }
  }, 60_000);
});
