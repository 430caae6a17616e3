/**
 * A scale-out deployment in real processes (issue 16, docs/scale-out.md): one edge (`npm run edge`, drachtio-lite on
 * its own), N engines (`npm run engine`) on one fresh PostgreSQL database and one Redis key prefix, all from one
 * configuration file. Tests drive it as an operator and a phone would: SIP to the edge, HTTP to each engine.
 * Everything it starts is tracked by PID (sb-process.ts, redis.ts) and `stop()` kills it, drops the database and
 * deletes the Redis keys. Reusable: pass the configuration (as the YAML file's object) and the engine count.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createTestDatabase, type TestDatabase } from './pg-db.js';
import { deleteRedisKeys, startRedisServer, TEST_REDIS_URL, uniqueRedisPrefix, type RedisServer } from './redis.js';
import { killAllSbProcesses, startSbProcess, type SbProcess } from './sb-process.js';
import { freePort } from './sipp.js';

/** One engine process. */
export interface ClusterEngine {
  readonly node: number;
  /** http://127.0.0.1:port of its API. */
  readonly http: string;
  readonly proc: SbProcess;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Names the temp dir, the database and the key prefix. */
  name: string;
  /** The configuration file's content (redis.key_prefix is set by the harness). */
  config: Record<string, unknown>;
  /** Engines to start, node ids 1..n; default 3. */
  engines?: number;
  /** `private`: a redis-server of the cluster's own (a test may kill it); default the machine's Redis. */
  redis?: 'shared' | 'private';
  /** Extra environment of every engine. */
  env?: Record<string, string>;
}

/** The running deployment. */
export interface Cluster {
  readonly dir: string;
  readonly configFile: string;
  readonly db: TestDatabase;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** The private redis-server (redis: 'private'). */
  readonly redisServer: RedisServer | undefined;
  readonly edge: SbProcess;
  /** Where phones send SIP (UDP and TCP). */
  readonly sipPort: number;
  readonly sipTarget: string;
  readonly controlPort: number;
  readonly engines: ClusterEngine[];
  readonly apiKey: string;
  readonly adminKey: string;
  /** Starts (or restarts) the engine with this node id; resolves once it logged "ready:". */
  startEngine(node: number): Promise<ClusterEngine>;
  /** Integration API GET at one engine: the parsed body. */
  api(engine: ClusterEngine, path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Admin API call at one engine. */
  admin(engine: ClusterEngine, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export const CLUSTER_NONCE_SECRET = 'cluster-nonce-secret-0123456';
const EDGE_SECRET = 'cluster-edge-secret-0123456';

/** Starts the edge and the engines; on failure cleans up what it started. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), `sb-${opts.name}-`));
  const configFile = join(dir, 'config.yaml');
  const redisServer = opts.redis === 'private' ? await startRedisServer() : undefined;
  const redisUrl = redisServer?.url ?? TEST_REDIS_URL;
  const redisPrefix = uniqueRedisPrefix(opts.name);
  const api = (opts.config['api'] ?? {}) as Record<string, unknown>;
  const apiKey = String(api['api_key'] ?? 'cluster-api-key');
  const adminKey = String(api['admin_key'] ?? 'cluster-admin-key-0123456789');
  writeFileSync(configFile, stringify({ ...opts.config, api: { ...api, api_key: apiKey, admin_key: adminKey }, redis: { key_prefix: redisPrefix } }));
  const db = await createTestDatabase(`sb_${opts.name}`);
  const used = new Set<number>();
  const port = async (): Promise<number> => {
    let p = await freePort();
    while (used.has(p)) p = await freePort();
    used.add(p);
    return p;
  };
  const sipPort = await port();
  const controlPort = await port();
  const engines: ClusterEngine[] = [];
  const httpPorts = new Map<number, number>();
  const cleanup = async (): Promise<void> => {
    await killAllSbProcesses();
    await redisServer?.kill();
    await db.drop().catch(() => undefined);
    if (!redisServer) await deleteRedisKeys(redisUrl, redisPrefix).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const call = async (engine: ClusterEngine, method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await fetch(`${engine.http}${path}`, {
      method, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try { parsed = JSON.parse(text) as Record<string, unknown>; } catch { parsed = { text }; }
    return { status: res.status, body: parsed };
  };
  try {
    const edge = startSbProcess('src/edge.ts', { SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_SIP_PORT: String(sipPort), DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: EDGE_SECRET });
    await edge.waitForLog('ready: edge');
    const startEngine = async (node: number): Promise<ClusterEngine> => {
      let httpPort = httpPorts.get(node);
      if (httpPort === undefined) httpPorts.set(node, (httpPort = await port()));
      const proc = startSbProcess('src/main.ts', {
        SWITCHBOARD_CONFIG: configFile, DATABASE_URL: db.url, SWITCHBOARD_NODE_ID: String(node), SWITCHBOARD_NONCE_SECRET: CLUSTER_NONCE_SECRET,
        SWITCHBOARD_REDIS_URL: redisUrl, SWITCHBOARD_DATA_DIR: join(dir, `node-${node}`), SWITCHBOARD_HTTP_PORT: String(httpPort),
        DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(controlPort), DRACHTIO_SECRET: EDGE_SECRET, ...opts.env,
      }, ['--engine']);
      await proc.waitForLog('ready:', 120_000);
      const e = { node, http: `http://127.0.0.1:${httpPort}`, proc };
      const i = engines.findIndex((x) => x.node === node);
      if (i >= 0) engines[i] = e;
      else engines.push(e);
      return e;
    };
    // One at a time: the first seeds the configuration version, the others find it.
    for (let n = 1; n <= (opts.engines ?? 3); n++) await startEngine(n);
    return {
      dir, configFile, db, redisUrl, redisPrefix, redisServer, edge, sipPort, sipTarget: `127.0.0.1:${sipPort}`, controlPort, engines, apiKey, adminKey,
      startEngine,
      api: (e, path) => call(e, 'GET', `/api/integration/v2/${path}`, { token: apiKey }),
      admin: (e, method, path, body) => call(e, method, `/api/admin${path}`, { authorization: `Bearer ${adminKey}` }, body),
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
