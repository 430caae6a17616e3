/**
 * Readiness with Redis (issue 16, docs/api.md § Operations): a Switchboard process (`npm start`, SQLite) with
 * `SWITCHBOARD_REDIS_URL` naming a private redis-server. While Redis answers, `/ready` is 200 with `redis: true` and
 * `switchboard_redis_up` is 1. Once the server is killed the URL points at a closed port: `/ready` turns 503 with a
 * message naming redis and the gauge reads 0, while the process keeps serving; after a restart both recover.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually } from '../../support/eventually.js';
import { killAllRedisServers, startRedisServer } from '../../support/redis.js';
import { killAllSbProcesses, startSbProcess } from '../../support/sb-process.js';
import { freePort } from '../../support/sipp.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-redis-ready-'));

afterAll(async () => {
  await killAllSbProcesses();
  await killAllRedisServers();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('/ready and /metrics report Redis', () => {
  it('is 503 naming redis while the Redis URL points at a closed port, and ready again once Redis is back', async () => {
    const redis = await startRedisServer();
    const [sipPort, httpPort] = [await freePort(), await freePort()];
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, stringify({
      pbx: { name: 'Redis readiness', domain: 'switchboard.local' },
      api: { api_key: 'ready-api-key-0123', admin_key: 'ready-admin-key-0123456789' },
      redis: { key_prefix: 'sbtest:ready:' },
      media: { driver: 'none' },
    }));
    const proc = startSbProcess('src/main.ts', {
      SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_DATA_DIR: join(dir, 'data'), SWITCHBOARD_SIP_PORT: String(sipPort),
      SWITCHBOARD_HTTP_PORT: String(httpPort), SWITCHBOARD_REDIS_URL: redis.url,
    });
    await proc.waitForLog('ready:');
    const http = `http://127.0.0.1:${httpPort}`;
    const ready = async () => {
      const r = await fetch(`${http}/ready`);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const redisUp = async () => /^switchboard_redis_up\{[^}]*\} (\d+)$/m.exec(await (await fetch(`${http}/metrics`)).text())?.[1];

    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', store: true, sip: true, draining: false, redis: true } });
    expect(await redisUp()).toBe('1');

    await redis.kill(); // nothing listens on the URL's port now
    await proc.waitForLog('redis unreachable', 30_000);
    const down = await eventually(async () => { const r = await ready(); return r.status === 503 ? r : null; }, '/ready 503', 10_000);
    expect(down.body).toEqual({ status: 'not ready', store: true, sip: true, draining: false, redis: false, message: 'not ready: redis unreachable' });
    expect(await redisUp()).toBe('0');
    expect((await fetch(`${http}/health`)).status).toBe(200);

    await redis.restart();
    await proc.waitForLog('redis reachable again', 30_000);
    await eventually(async () => (await ready()).status === 200, '/ready 200 again', 10_000);
    expect(await redisUp()).toBe('1');
    expect(proc.child.exitCode).toBeNull();
  }, 120_000);
});
