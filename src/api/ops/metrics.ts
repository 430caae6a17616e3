/**
 * The Prometheus metrics of one Switchboard process (`GET /metrics`), on prom-client. Most values are read at scrape
 * time from the live views (calls, registrations, queues, the dispatcher's counters), so nothing is kept twice; only
 * calls ended (a counter by direction and outcome) and store commit durations (a histogram) are observed as they
 * happen. Node's own metrics (event-loop delay, heap, GC, CPU) come from prom-client's default collectors.
 * Labels carry no PII: directions, outcomes, queue names and states only; never numbers, names or addresses.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineLive } from '../../engine/index.js';
import type { DeliveryStats } from '../../events/index.js';

/** Where the scrape-time values come from (bound once the engine and dispatcher exist). */
export interface OpsSources {
  live: EngineLive;
  deliveryStats: () => DeliveryStats;
  draining: () => boolean;
  /** The configured queues (each gets a series, 0 when nobody waits). */
  queueNames: () => string[];
  /** Whether Redis is connected; absent when no Redis is configured (then there is no redis series). */
  redisUp?: () => boolean;
}

/** The metrics of one process. */
export interface OpsMetrics {
  /** Prometheus text format, for `GET /metrics`. */
  render(): Promise<string>;
  readonly contentType: string;
  /** One store commit of a call step took `seconds`; `ok` false when it failed. */
  observeStoreCommit(seconds: number, ok: boolean): void;
  /** Binds the live sources; calls ended from then on are counted. Returns the function that unbinds. */
  attach(sources: OpsSources): () => void;
}

/** Seconds-scale buckets for store commits (SQLite: sub-ms; PostgreSQL over a network: ms to s). */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Builds the registry; `labels` are constant on every series (node id, version). */
export function createOpsMetrics(labels: Record<string, string> = {}): OpsMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  let src: OpsSources | null = null;

  const callsTotal = new Counter({
    name: 'switchboard_calls_total', help: 'Calls ended since start, by direction and outcome (the history status: answered, missed, failed, …).',
    labelNames: ['direction', 'outcome'], registers: [registry],
  });
  new Gauge({
    name: 'switchboard_calls_active', help: 'Calls in progress now, by direction.', labelNames: ['direction'], registers: [registry],
    collect() {
      this.reset();
      for (const d of ['inbound', 'outbound', 'internal']) this.set({ direction: d }, 0);
      for (const c of src?.live.liveCalls() ?? []) this.inc({ direction: c.direction });
    },
  });
  new Gauge({
    name: 'switchboard_registered_devices', help: 'Devices with at least one live registration.', registers: [registry],
    collect() { this.set(new Set((src?.live.registrations() ?? []).map((r) => r.username)).size); },
  });
  new Gauge({
    name: 'switchboard_registrations', help: 'Live registration bindings (contacts) of all devices.', registers: [registry],
    collect() { this.set(src?.live.registrations().length ?? 0); },
  });
  new Gauge({
    name: 'switchboard_queue_waiting', help: 'Callers waiting in each queue.', labelNames: ['queue'], registers: [registry],
    collect() {
      this.reset();
      for (const queue of src?.queueNames() ?? []) this.set({ queue }, 0);
      for (const [queue, ids] of Object.entries(src?.live.queueState().waiting ?? {})) this.set({ queue }, ids.length);
    },
  });
  new Gauge({
    name: 'switchboard_queue_agents', help: 'Queue agents by state.', labelNames: ['state'], registers: [registry],
    collect() {
      this.reset();
      for (const state of Object.values(src?.live.queueState().agents ?? {})) this.inc({ state });
    },
  });
  new Gauge({
    name: 'switchboard_webhook_backlog', help: 'Webhook outbox backlog at the dispatcher\'s last refresh: pending deliveries and events not fanned out yet.',
    labelNames: ['kind'], registers: [registry],
    collect() {
      const s = src?.deliveryStats();
      this.set({ kind: 'pending' }, s?.pending ?? 0);
      this.set({ kind: 'undispatched' }, s?.undispatched ?? 0);
    },
  });
  new Gauge({
    name: 'switchboard_webhook_inflight', help: 'Webhook requests in flight now.', registers: [registry],
    collect() { this.set(src?.deliveryStats().inflight ?? 0); },
  });
  new Gauge({
    name: 'switchboard_webhook_delivery_latency_seconds', help: 'From an event to its successful delivery, over the last 4096 deliveries (quantile 0.5 and 0.99; absent before the first).',
    labelNames: ['quantile'], registers: [registry],
    collect() {
      this.reset();
      const l = src?.deliveryStats().latencyMs;
      if (l?.p50 != null) this.set({ quantile: '0.5' }, l.p50 / 1000);
      if (l?.p99 != null) this.set({ quantile: '0.99' }, l.p99 / 1000);
    },
  });
  new Counter({
    name: 'switchboard_webhook_deliveries_total', help: 'Webhook deliveries finished since start, by result (sent, failed, disabled), and attempts retried.',
    labelNames: ['result'], registers: [registry],
    collect() {
      const s = src?.deliveryStats();
      this.reset();
      for (const result of ['sent', 'failed', 'disabled', 'retries'] as const) this.inc({ result }, s?.[result] ?? 0);
    },
  });
  const commits = new Histogram({
    name: 'switchboard_store_commit_seconds', help: 'Duration of one store commit of call steps (history rows and outbox events in one transaction).',
    labelNames: ['result'], buckets: COMMIT_BUCKETS, registers: [registry],
  });
  new Gauge({
    name: 'switchboard_draining', help: '1 while the process drains (SIGTERM: new calls refused, calls in progress finishing).', registers: [registry],
    collect() { this.set(src?.draining() ? 1 : 0); },
  });

  return {
    render: () => registry.metrics(),
    contentType: registry.contentType,
    observeStoreCommit: (seconds, ok) => commits.observe({ result: ok ? 'ok' : 'error' }, seconds),
    attach(sources) {
      src = sources;
      if (sources.redisUp && !registry.getSingleMetric('switchboard_redis_up')) {
        new Gauge({
          name: 'switchboard_redis_up', help: '1 while both Redis connections (commands and notices) are up, 0 while Redis is unreachable.', registers: [registry],
          collect() { this.set(src?.redisUp?.() ? 1 : 0); },
        });
      }
      const off = sources.live.events.on('call.ended', (e) => callsTotal.inc({ direction: e.direction, outcome: e.status }));
      return () => { off(); src = null; };
    },
  };
}
