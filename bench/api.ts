/**
 * History-API benchmark: `get-user-calls` over real HTTP with keep-alive against a SQLite store of 1,000,000 calls.
 *
 *   npx tsx bench/api-data.ts --file data/bench-1m.sqlite --rows 1000000     # once (about a minute)
 *   npx tsx bench/api.ts [--file data/bench-1m.sqlite] [--requests 3000] [--concurrency 8]
 *
 * The app is the real one (`buildApp`), with the real store; only the engine is a stand-in (history never
 * touches it). Prints: latency p50/p99 at limit=100 for one user over a 30-day range with random offsets
 * (one request at a time), requests/s with several connections, and the largest page (limit=10000).
 * Not a test: nothing is asserted.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { Pool } from 'undici';
import { buildApp } from '../src/api/index.js';
import { createLogger } from '../src/common/log.js';
import { validateConfig, type PbxConfig } from '../src/config/index.js';
import type { EngineFacade } from '../src/engine/facade.js';
import { createSqliteStore } from '../src/store/index.js';

const { values: args } = parseArgs({
  options: {
    file: { type: 'string', default: 'data/bench-1m.sqlite' },
    requests: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    user: { type: 'string', default: '1001' },
    end: { type: 'string', default: '2026-11-27' },
  },
});
if (!existsSync(args.file!)) {
  console.error(`${args.file} not found: run  npx tsx bench/api-data.ts --file ${args.file} --rows 1000000  first`);
  process.exit(1);
}
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const KEY = 'bench-key';

const validated = validateConfig({
  pbx: { name: 'bench', time_zone: 'Australia/Melbourne', domain: 'bench.local' },
  api: { api_key: KEY, whitelisted_ips: ['127.0.0.1'], rate_limit_per_min: 100_000_000 },
}, 'bench');
if (!validated.ok) throw new Error(JSON.stringify(validated.errors));
const config: PbxConfig = validated.config;

const engine: EngineFacade = {
  originate: () => Promise.reject(new Error('not in this benchmark')),
  status: async () => ({ version: 'bench', uptime_s: 0, registered_devices: 0, active_calls: 0, config_version: 1 }),
  config: {
    live: () => ({ version: 1, config, created_at: new Date().toISOString() }),
    staged: async () => config,
    stage: async () => undefined,
    apply: async () => ({ ok: true, version: 1 }),
  },
};

const store = await createSqliteStore({ file: args.file! });
const app = buildApp({ engine, store, getConfig: () => config, log: createLogger({ level: 'warn', pretty: false }), version: 'bench', startedAt: Date.now() });
await app.listen({ host: '127.0.0.1', port: 0 });
const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 60_000 });

/** One GET; returns ms, rows and bytes. */
async function get(path: string): Promise<{ ms: number; rows: number; bytes: number }> {
  const t = performance.now();
  const r = await pool.request({ method: 'GET', path, headers: { token: KEY } });
  const text = await r.body.text();
  const ms = performance.now() - t;
  if (r.statusCode !== 200) throw new Error(`${path} → ${r.statusCode} ${text.slice(0, 200)}`);
  return { ms, rows: (JSON.parse(text) as { data: unknown[] }).data.length, bytes: text.length };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const f = (ms: number): string => ms.toFixed(2);

const endDay = args.end!;
const from30 = new Date(Date.parse(`${endDay}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
const from365 = new Date(Date.parse(`${endDay}T00:00:00Z`) - 364 * 86_400_000).toISOString().slice(0, 10);
const base = `/api/integration/v2/get-user-calls?users_numbers=${args.user}`;
const range30 = `${base}&from_date=${from30}&to_date=${endDay}`;

// How many rows the user has in the 30-day range (offsets are drawn inside it).
const all30 = await get(`${range30}&limit=10000`);
const total = all30.rows;
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
console.log(`store: ${args.file}; user ${args.user}, ${from30}..${endDay} (30 days, Australia/Melbourne): ${total} rows`);
const randomPath = (): string => `${range30}&limit=100&offset=${Math.floor(Math.random() * Math.max(1, total - 100))}&sort_by=${Math.random() < 0.5 ? 'newest_first' : 'oldest_first'}`;

// Warm-up (JIT, statement cache, page cache).
for (let i = 0; i < 200; i++) await get(randomPath());

/** CPU time (user + system) of this process in µs; on a shared machine the figure that stays meaningful. */
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

// 1. Latency, one request at a time.
const lat: number[] = [];
let cpu0 = cpuUs();
for (let i = 0; i < REQUESTS; i++) lat.push((await get(randomPath())).ms);
const httpCpu = (cpuUs() - cpu0) / REQUESTS;
lat.sort((a, b) => a - b);
console.log(`limit=100, random offset, 1 connection, ${REQUESTS} requests: p50 ${f(pct(lat, 50))} ms, p99 ${f(pct(lat, 99))} ms, max ${f(lat[lat.length - 1]!)} ms;` +
  ` CPU ${Math.round(httpCpu)} µs/request (server and client together)`);

// 1b. The same queries straight on the store (no HTTP), to separate the API's share from SQLite's.
const direct: number[] = [];
cpu0 = cpuUs();
const fromIso = DateTime.fromISO(from30, { zone: config.pbx.time_zone }).startOf('day').toUTC().toISO()!;
const toIso = DateTime.fromISO(endDay, { zone: config.pbx.time_zone }).endOf('day').toUTC().toISO()!;
for (let i = 0; i < REQUESTS; i++) {
  const t = performance.now();
  await store.queryUserCalls({
    from: fromIso, to: toIso, names: [args.user!], limit: 100, offset: Math.floor(Math.random() * Math.max(1, total - 100)),
    sort: Math.random() < 0.5 ? 'newest_first' : 'oldest_first',
  });
  direct.push(performance.now() - t);
}
const storeCpu = (cpuUs() - cpu0) / REQUESTS;
direct.sort((a, b) => a - b);
console.log(`  same queries on the store directly: p50 ${f(pct(direct, 50))} ms, p99 ${f(pct(direct, 99))} ms; CPU ${Math.round(storeCpu)} µs/query` +
  ` (so HTTP, auth, validation, date conversion and serialization cost about ${Math.round(httpCpu - storeCpu)} µs/request)`);

// 2. Throughput with several keep-alive connections.
let next = 0;
const conc: number[] = [];
const t0 = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next++ < REQUESTS) conc.push((await get(randomPath())).ms);
}));
const seconds = (performance.now() - t0) / 1000;
conc.sort((a, b) => a - b);
console.log(`limit=100, ${CONCURRENCY} connections, ${REQUESTS} requests: ${Math.round(REQUESTS / seconds)} requests/s, p50 ${f(pct(conc, 50))} ms, p99 ${f(pct(conc, 99))} ms`);

// 3. Deepest offset of the 30-day range (worst case of OFFSET).
const deep: number[] = [];
for (let i = 0; i < 50; i++) deep.push((await get(`${range30}&limit=100&offset=${Math.max(0, total - 100)}`)).ms);
deep.sort((a, b) => a - b);
console.log(`limit=100, last page of the range (offset ${Math.max(0, total - 100)}): p50 ${f(pct(deep, 50))} ms, p99 ${f(pct(deep, 99))} ms`);

// 4. The largest pages: limit=10000 over 30 days (all of the user's rows) and over a year (a full 10,000 rows).
for (const [label, path] of [['30 days', `${range30}&limit=10000`], ['365 days', `${base}&from_date=${from365}&to_date=${endDay}&limit=10000`]] as const) {
  const runs: Array<{ ms: number; rows: number; bytes: number }> = [];
  const c0 = cpuUs();
  for (let i = 0; i < 20; i++) runs.push(await get(path));
  const cpuMs = (cpuUs() - c0) / 20 / 1000;
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`limit=10000 over ${label}: ${runs[0]!.rows} rows, ${(runs[0]!.bytes / 1e6).toFixed(2)} MB; p50 ${f(pct(ms, 50))} ms, max ${f(ms[ms.length - 1]!)} ms;` +
    ` CPU ${cpuMs.toFixed(1)} ms/request (20 runs)`);
}

await pool.close();
await app.close();
await store.close();
