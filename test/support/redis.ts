/**
 * Redis for tests. The machine's Redis (SWITCHBOARD_TEST_REDIS_URL, default redis://127.0.0.1:6379) is shared by
 * every run, so each test takes its own key prefix and deletes its keys afterwards. A test that must stop Redis
 * mid-run starts a private `redis-server` on a free port instead ({@link startRedisServer}), tracked by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from './sipp.js';

export const TEST_REDIS_URL = process.env['SWITCHBOARD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test or run uses. */
export function uniqueRedisPrefix(name: string): string {
  return `sbtest:${name}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** A plain client for assertions (the caller disconnects it). */
export async function redisClient(url = TEST_REDIS_URL): Promise<Redis> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  return r;
}

/** A private redis-server process (no persistence) on 127.0.0.1. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** SIGKILLs it (Redis "down mid-run"); resolves once it exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it kept nothing). */
  restart(): Promise<void>;
}

const servers = new Set<ChildProcess>();

async function spawnServer(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.add(child);
  child.once('exit', () => servers.delete(child));
  await new Promise<void>((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error(`redis-server on ${port} did not start: ${out}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/Ready to accept connections/.test(out)) { clearTimeout(t); res(); }
    });
    child.once('exit', (code) => { clearTimeout(t); rej(new Error(`redis-server exited (${code}): ${out}`)); });
  });
  return child;
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child = await spawnServer(port);
  return {
    url: `redis://127.0.0.1:${port}`, port,
    get pid() { return child.pid; },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGKILL');
      await gone;
    },
    async restart() {
      child = await spawnServer(port);
    },
  };
}

/** SIGKILLs every private redis-server still running (afterAll). */
export async function killAllRedisServers(): Promise<void> {
  const left = [...servers];
  for (const c of left) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  await Promise.all(left.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
}
