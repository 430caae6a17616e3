/** Shared state between engines in Redis (issue 16, docs/scale-out.md): registrations, agent claims, apply notices. */
export { connectRedis, redactRedisUrl, type RedisShared, type RedisSharedOptions, type SharedNotice } from './redis-shared.js';
export { RedisLocationStore, type SharedBinding } from './redis-location.js';
export { RedisAgentClaims, AGENT_CLAIM_TTL_MS, type ClaimResult } from './redis-agent-claims.js';
export { RedisStrategyMemory, type StrategyMemorySnapshot } from './redis-strategy-memory.js';
export { RedisPresence, BUSY_LEASE_MS } from './redis-presence.js';
