/**
 * Webhook delivery figures (prints them; not a test). Run: `npx tsx bench/webhooks.ts [--quick] [--pg[=url]]`.
 *
 * 1. Throughput: events/s from a pre-filled SQLite outbox to a local keep-alive receiver answering 200 at once.
 * 2. Latency: p50/p99 from an event's occurred_at to its arrival at the receiver, at 1,000 events/s offered.
 * 3. Drain: 60,000 events (60 s at 1,000/s) queued while the receiver is down, then the time to drain them once
 *    it is back.
 *
 * The receiver runs in a child process. Besides wall-clock rates, each part prints the dispatcher process's CPU time
 * per event (process.cpuUsage), which stays meaningful on a busy machine: 1e6 / (CPU µs per event) is the rate one
 * core could sustain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createLogger } from '../src/common/log.js';
import { WEBHOOK_EVENT_TYPES, type PbxConfig, type WebhookEventType } from '../src/config/types.js';
import { defaultMailConfig, defaultMediaSections, defaultSipConfig } from '../src/config/index.js';
import { createDispatcher, sampleEvent, toOutboxEvent, type Dispatcher } from '../src/events/index.js';
import pg from 'pg';
import { createPostgresStore, createSqliteStore, type Store } from '../src/store/index.js';

const QUICK = process.argv.includes('--quick');
/** `--only=throughput|latency|drain` runs one part (for profiling). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice(7) ?? null;
const runs = (part: string): boolean => ONLY === null || ONLY === part;
const THROUGHPUT_EVENTS = QUICK ? 5_000 : 30_000;
const LATENCY_SECONDS = QUICK ? 3 : 10;
const OUTAGE_EVENTS = QUICK ? 10_000 : 60_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
/** Events per call (env BENCH_EVENTS_PER_CALL, default 3): a call's events are delivered one after another. */
const PER_CALL = Math.max(1, Number(process.env.BENCH_EVENTS_PER_CALL ?? 3));
/** `--store-times` prints the time spent in each Store method (the dispatcher's main cost). */
const STORE_TIMES = process.argv.includes('--store-times');
/** `--pg[=url]`: PostgreSQL (a fresh schema per part, dropped after) instead of SQLite; default the test server. */
const PG_ARG = process.argv.find((a) => a === '--pg' || a.startsWith('--pg='));
const PG_URL = PG_ARG ? (PG_ARG.length > 4 ? PG_ARG.slice(5) : 'postgresql://postgres@127.0.0.1:5432/test') : null;
const storeTimes = new Map<string, { n: number; ms: number }>();

/** Wraps a store so each method's total time is counted. */
function timed(store: Store): Store {
  if (!STORE_TIMES) return store;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const t = performance.now();
        const r = (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        return Promise.resolve(r).finally(() => {
          const e = storeTimes.get(String(prop)) ?? { n: 0, ms: 0 };
          e.n++;
          e.ms += performance.now() - t;
          storeTimes.set(String(prop), e);
        });
      };
    },
  });
}

/** The receiver: counts requests, reports per-event latency (arrival − occurred_at) on demand. */
const RECEIVER = `
const parentPort = { postMessage: (m) => process.send(m), on: (e, f) => process.on(e, f) };
const http = require('node:http');
let server = null, port = 0, count = 0, lat = [];
function up() {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      count++;
      const m = /"occurred_at":"([^"]+)"/.exec(Buffer.concat(chunks).toString());
      if (m) lat.push(now - Date.parse(m[1]));
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(port, '127.0.0.1', () => { port = server.address().port; parentPort.postMessage({ kind: 'up', port }); });
}
parentPort.on('message', (m) => {
  if (m === 'up') up();
  else if (m === 'down') { server.closeAllConnections(); server.close(() => parentPort.postMessage({ kind: 'down' })); }
  else if (m === 'count') parentPort.postMessage({ kind: 'count', count });
  else if (m === 'reset') { count = 0; lat = []; parentPort.postMessage({ kind: 'reset' }); }
  else if (m === 'latency') parentPort.postMessage({ kind: 'latency', lat });
});
`;

/** The receiver in its own process, so this process's CPU time is the dispatcher's (and SQLite's) alone. */
class ReceiverProcess {
  readonly #w: ChildProcess = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  port = 0;
  #ask<T>(msg: string, kind: string): Promise<T> {
    return new Promise((resolve) => {
      const on = (m: { kind: string } & Record<string, unknown>): void => {
        if (m.kind === kind) { this.#w.off('message', on); resolve(m as T); }
      };
      this.#w.on('message', on);
      this.#w.send(msg);
    });
  }
  async up(): Promise<void> { this.port = (await this.#ask<{ port: number }>('up', 'up')).port; }
  async down(): Promise<void> { await this.#ask('down', 'down'); }
  async count(): Promise<number> { return (await this.#ask<{ count: number }>('count', 'count')).count; }
  async reset(): Promise<void> { await this.#ask('reset', 'reset'); }
  async latencies(): Promise<number[]> { return (await this.#ask<{ lat: number[] }>('latency', 'latency')).lat; }
  async close(): Promise<void> { this.#w.kill(); }
}

function config(url: string, schedule: number[]): PbxConfig {
  return {
    pbx: { name: 'bench', time_zone: 'UTC', domain: 'bench.invalid', max_call_duration_s: 14400, node_id: 0, drain_timeout_s: 30, session_timers: { enabled: true, interval_s: 1800, min_se_s: 90 } }, sip: defaultSipConfig(), mail: defaultMailConfig(),
    users: [], numbers: [], flows: [], queues: [], ring_groups: [], trunks: [],
    api: { api_key: 'k', whitelisted_ips: [], trusted_proxies: [], rate_limit_per_min: 60, admin_key: null, auth_failures_per_min: 20 },
    webhook: { url, secret_token: 'bench-token', events: [...WEBHOOK_EVENT_TYPES] as WebhookEventType[], enabled: true, signing_secret: null },
    delivery: { timeout_ms: 10_000, retry_schedule_s: schedule, horizon_s: 86_400, outbox_warn_at: 1_000_000, concurrency: CONCURRENCY, per_endpoint_concurrency: CONCURRENCY, refuse_private_targets: false },
    retention: { calls_days: 0, events_days: 0, deliveries_days: 0 }, ...defaultMediaSections(),
  };
}

const template = sampleEvent('user_inbound_completed', Date.now());
let callCounter = 1_000_000_000;
/** A burst of events: calls of PER_CALL events each (ordering applies within a call). */
function makeEvents(n: number): ReturnType<typeof toOutboxEvent>[] {
  const out = [];
  const now = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    if (i % PER_CALL === 0) callCounter++;
    const { type: _t, unique_call_id: _u, event_id: _e, occurred_at: _o, sequence: _s, ...fields } = template.payload;
    out.push(toOutboxEvent('user_inbound_completed', fields as never, { unique_call_id: String(callCounter), sequence: (i % PER_CALL) + 1, occurred_at: now }));
  }
  return out;
}

async function fill(store: Store, n: number): Promise<void> {
  const events = makeEvents(n);
  for (let i = 0; i < events.length; i += 1000) await store.commit({ events: events.slice(i, i + 1000) });
}

async function waitCount(rx: ReceiverProcess, n: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await rx.count()) < n) {
    if (Date.now() > end) throw new Error(`receiver got ${await rx.count()} of ${n} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** CPU time of this process since `from`, per event, and the rate one core could sustain at that cost. */
function cpuPerEvent(from: NodeJS.CpuUsage, events: number): string {
  const u = process.cpuUsage(from);
  const us = (u.user + u.system) / events;
  return `dispatcher CPU ${us.toFixed(0)} µs/event (≈ ${Math.round(1e6 / us)} events/s per core)`;
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-webhooks-'));
  const log = createLogger({ level: 'error', pretty: false });
  const rx = new ReceiverProcess();
  await rx.up();
  const url = `http://127.0.0.1:${rx.port}/hook`;
  let dispatcher: Dispatcher | null = null;
  const schemas: string[] = [];
  const fresh = async (name: string, schedule: number[]): Promise<Store> => {
    let store: Store;
    if (PG_URL) {
      const schema = `sb_bench_${process.pid}_${name}`;
      schemas.push(schema);
      store = await createPostgresStore({ connectionString: PG_URL, schema });
    } else {
      store = await createSqliteStore({ file: join(dir, `${name}.db`) });
    }
    dispatcher = createDispatcher({ store: timed(store), getConfig: () => config(url, schedule), log, version: 'bench', pollIntervalMs: 100 });
    return store;
  };
  console.log(`webhooks bench: node ${process.version}, concurrency ${CONCURRENCY}, ${PER_CALL} events per call, ${PG_URL ? `PostgreSQL (${PG_URL})` : `SQLite (WAL) in ${tmpdir()}`}${QUICK ? ', --quick' : ''}`);

  let store: Store;
  let t0: number;
  let dt: number;
  // 1. Throughput from a full outbox.
  if (runs('throughput')) {
  store = await fresh('throughput', [5]);
  await fill(store, THROUGHPUT_EVENTS);
  await rx.reset();
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  dispatcher!.start();
  await waitCount(rx, THROUGHPUT_EVENTS, 300_000);
  dt = (performance.now() - t0) / 1000;
  console.log(`throughput: ${THROUGHPUT_EVENTS} events in ${dt.toFixed(2)} s = ${Math.round(THROUGHPUT_EVENTS / dt)} events/s (outbox → 200 at the receiver); ${cpuPerEvent(cpu0, THROUGHPUT_EVENTS)}`);
  await dispatcher!.stop();
  await store.close();
  }

  // 2. Latency at 1,000 events/s offered: 10 events every 10 ms, each batch committed then wake().
  if (runs('latency')) {
  store = await fresh('latency', [5]);
  dispatcher!.start();
  await rx.reset();
  const total = LATENCY_SECONDS * 1000;
  t0 = performance.now();
  const cpuL = process.cpuUsage();
  for (let sent = 0; sent < total; sent += 10) {
    const due = t0 + sent; // ms schedule for 1,000/s
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await store.commit({ events: makeEvents(10) });
    dispatcher!.wake();
  }
  await waitCount(rx, total, 60_000);
  const lat = await rx.latencies();
  const offered = total / ((performance.now() - t0) / 1000);
  const st = dispatcher!.stats();
  console.log(`latency at ~${Math.round(offered)} events/s offered for ${LATENCY_SECONDS} s: p50 ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms, max ${pct(lat, 1)} ms (occurred_at → arrival); attempt p50 ${st.attemptMs.p50} ms p99 ${st.attemptMs.p99} ms; ${cpuPerEvent(cpuL, total)} incl. the commits`);
  await dispatcher!.stop();
  await store.close();
  }

  // 3. Outage: queue 60 s worth while the receiver is down (dispatcher running, retrying every 1 s), then drain.
  if (runs('drain')) {
  store = await fresh('outage', [1]);
  await rx.down();
  dispatcher!.start();
  t0 = performance.now();
  await fill(store, OUTAGE_EVENTS);
  dispatcher!.wake();
  // Let the dispatcher fan out and fail its first attempts against the dead port.
  while (dispatcher!.stats().fannedOut < OUTAGE_EVENTS) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1500));
  const beforeUp = dispatcher!.stats();
  await rx.reset();
  await rx.up();
  t0 = performance.now();
  const cpu1 = process.cpuUsage();
  await waitCount(rx, OUTAGE_EVENTS, 600_000);
  dt = (performance.now() - t0) / 1000;
  const after = dispatcher!.stats();
  console.log(`drain after outage: ${OUTAGE_EVENTS} events queued (${beforeUp.attempts} failed attempts while down, pending ${beforeUp.pending}), drained in ${dt.toFixed(2)} s = ${Math.round(OUTAGE_EVENTS / dt)} events/s; retries ${after.retries}; ${cpuPerEvent(cpu1, OUTAGE_EVENTS)}`);
  await dispatcher!.stop();
  await store.close();
  }

  if (STORE_TIMES) for (const [k, v] of storeTimes) console.log(`  store.${k}: ${v.n} calls, ${v.ms.toFixed(0)} ms, ${(v.ms / v.n).toFixed(3)} ms/call`);
  await rx.close();
  rmSync(dir, { recursive: true, force: true });
  if (PG_URL && schemas.length) {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  }
}

await main();
