/**
 * The webhook dispatcher: reads the durable outbox in the Store, fans events out to their endpoint, and delivers
 * each with undici, retrying per the retry policy (SPEC.md §3, docs/webhooks.md).
 *
 *   outbox event ──fan-out──▶ delivery (pending) ──claim + lease──▶ HTTP attempt ──▶ attempt row + new status
 *
 * - Never blocks call handling: all I/O is async, at most `delivery.concurrency` requests are in flight, and a slow
 *   or dead receiver only grows the pending set (warned at `delivery.outbox_warn_at`).
 * - At-least-once: a delivery is claimed with a lease; a crash leaves it pending, due again when the lease ends.
 * - Ordering: the Store's claim never hands out a call's later delivery to an endpoint while an earlier one of the
 *   same call is pending for it, so per call and endpoint events arrive in `sequence` order.
 * - Fairness: at most `delivery.per_endpoint_concurrency` requests to one endpoint URL are in flight, so a receiver
 *   that hangs holds only its share of the slots and the others (the global webhook) are still served.
 * - A delivery keeps the URL, token and signing secret of the configuration version it was created under: a later
 *   change applies only to deliveries created after it (an old pending delivery is never signed with a new token).
 * - `delivery.refuse_private_targets`: targets that are, or resolve to, non-public addresses are refused at send
 *   time (target-guard.ts).
 */

import { Agent, type Dispatcher as HttpDispatcher } from 'undici';
import { systemClock, type Clock, type TimerHandle } from '../common/clock.js';
import { newTimeOrderedId } from '../common/ids.js';
import type { Logger } from '../common/log.js';
import type { PbxConfig } from '../config/types.js';
import type { Delivery, DeliveryAttempt, NewDelivery, OutboxEvent, Store } from '../store/store.js';
import { createAttemptWriter } from './attempt-writer.js';
import { assertDeliveryEdge, type AttemptOutcome } from './delivery-state.js';
import { StatsCounters, type DeliveryStats } from './delivery-stats.js';
import { routeEvent, targetFor, validateEndpoint } from './endpoint.js';
import { decideRetry, DEFAULT_JITTER } from './retry-policy.js';
import { isEventType, sampleEvent } from './sample-events.js';
import { RequestCache, sendAttempt } from './sender.js';
import { signingSecretFor } from './signature.js';
import { guardedLookup, refusedTarget, systemLookup, type HostLookup } from './target-guard.js';
import { deliverySettings } from './settings.js';

/** What {@link createDispatcher} needs. */
export interface DispatcherDeps {
  store: Store;
  /** The live configuration; read at each step, so an applied version takes effect at once. */
  getConfig: () => PbxConfig;
  /**
   * The live configuration's version number, recorded on each delivery so its retries use that version's token and
   * signing secret (looked up with `store.getConfigVersion`); without it retries use the live ones.
   */
  getConfigVersion?: () => number;
  clock?: Clock;
  log: Logger;
  /** The undici dispatcher to send with; default: an own keep-alive `Agent`, closed by `stop()`. */
  fetchDispatcher?: HttpDispatcher;
  /** Switchboard's version, for `User-Agent: Switchboard/<version>`. */
  version: string;
  /** Randomness for jitter, `[0, 1)`; default `Math.random`. */
  rng?: () => number;
  /** Jitter fraction (±); default 0.2. */
  jitter?: number;
  /** How often the outbox is polled for due retries and for events written by other processes; default 1000 ms. */
  pollIntervalMs?: number;
  /** Name resolution for deliveries (the refuse_private_targets check and the connections); default the system's. */
  lookup?: HostLookup;
  /** How long a claimed delivery stays leased to this process; default `delivery.timeout_ms` + 30 s. */
  leaseMs?: number;
  /** Events fanned out per pass; default 200 (small passes keep the event loop free for responses). */
  batchSize?: number;
  /** Events kept in memory between fan-out and first attempt; default 10,000. The fan-out is paced to stay under it. */
  eventCacheSize?: number;
}

/** The result of {@link Dispatcher.sendTest}. */
export type SendTestResult =
  | { ok: true; event_id: string; delivery_id: string; url: string }
  | { ok: false; error: string };

/** The dispatcher's public surface. */
export interface Dispatcher {
  /** Starts polling and delivering. Idempotent. */
  start(): void;
  /** Stops claiming, waits for in-flight attempts (each bounded by `delivery.timeout_ms`), and closes its own agent. */
  stop(): Promise<void>;
  /** Looks at the outbox now (call after committing events, so latency stays low). Cheap and coalesced. */
  wake(): void;
  /**
   * Sends a sample event of `type` (the seed product's "test" button), through the outbox like any event: to the
   * global webhook's URL whatever its ticks and `enabled` flag, or, for `webhook_component_event`, to the flow's
   * webhook object named `componentName` (default: the first one).
   */
  sendTest(type: string, opts?: { componentName?: string }): Promise<SendTestResult>;
  /** Re-enables an endpoint disabled by a 410 (its deliveries stay as they are; redeliver them through admin). */
  enableEndpoint(url: string): Promise<void>;
  /** Counters, backlog and latency percentiles. */
  stats(): DeliveryStats;
  /** Resolves when the current pass and its in-flight attempts are done (tests and graceful shutdown). */
  idle(): Promise<void>;
}

const DEFAULT_EVENT_CACHE = 10_000;

/** Fields on every log line about one delivery. */
interface LogContext { delivery_id: string; event_id: string; url: string }

/**
 * `dlv_` + a UUIDv7 stamped with the creation time, as 32 hex digits. Unique across processes, and time-ordered, so the
 * store's indexes on delivery_id (deliveries, attempts) grow at their right edge instead of at random pages: fan-out
 * and attempt records cost about a third less than with random ids.
 */
export function newDeliveryId(nowMs: number): string {
  return newTimeOrderedId('dlv', nowMs);
}

/** Creates a dispatcher; nothing happens until `start()`. */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { store, getConfig, log, version } = deps;
  const clock = deps.clock ?? systemClock;
  const rng = deps.rng ?? Math.random;
  const jitter = deps.jitter ?? DEFAULT_JITTER;
  const pollIntervalMs = deps.pollIntervalMs ?? 1000;
  const batchSize = deps.batchSize ?? 200;
  const eventCacheMax = Math.max(1, deps.eventCacheSize ?? DEFAULT_EVENT_CACHE);
  const userAgent = `Switchboard/${version}`;
  const ownsHttp = !deps.fetchDispatcher;
  const lookup = deps.lookup ?? systemLookup;
  /** Created at start() when not injected, closed by stop(): a stopped dispatcher can start again. */
  let http: HttpDispatcher | null = deps.fetchDispatcher ?? null;

  const stats = new StatsCounters();
  /** Attempt rows and status changes, batched per event-loop turn into one transaction. */
  const attempts = createAttemptWriter(store);
  /** Parsed signing keys and URLs, and derived signing secrets (an HMAC each), memoized per configuration string. */
  const requestCache = new RequestCache();
  const derivedSecrets = new Map<string, string>();
  const secretFor = (e: { secret_token: string; signing_secret?: string | null }): string => {
    if (e.signing_secret) return e.signing_secret;
    let s = derivedSecrets.get(e.secret_token);
    if (s === undefined) {
      if (derivedSecrets.size >= 1000) derivedSecrets.clear();
      s = signingSecretFor(e);
      derivedSecrets.set(e.secret_token, s);
    }
    return s;
  };
  const inflight = new Map<string, Promise<void>>();
  /** In-flight attempts per endpoint URL (the per-endpoint limit). */
  const endpointInflight = new Map<string, number>();
  /** Configuration versions that pending deliveries were created under, by number (a few at most). */
  const versionCache = new Map<number, Promise<PbxConfig | undefined>>();
  /** Bodies and events fanned out here, so a first attempt needs no extra read. */
  const eventCache = new Map<string, OutboxEvent>();
  const disabledCache = new Map<string, { disabled: Promise<boolean>; at: number }>();
  let started = false;
  let stopping = false;
  let pumping: Promise<void> | null = null;
  let again = false;
  /** A follow-up pass is queued with setImmediate (so socket I/O runs between passes). */
  let queued = false;
  let pollTimer: TimerHandle | null = null;
  let retryTimer: { handle: TimerHandle; at: number } | null = null;
  let pendingRefreshedAt = -Infinity;
  /** `delivery.concurrency` as of the last pass (read in completion handlers, which must not throw). */
  let concurrency = 1;
  let outboxWarned = false;
  /**
   * Whether the outbox may hold events not fanned out yet: set by `wake()` from outside (events committed), by each
   * poll (other processes' events) and by a full fan-out batch. Internal wake-ups (a completion, a retry timer) only
   * claim, so they skip the fan-out query.
   */
  let outboxDirty = true;
  /**
   * Whether the last claim got all it asked for, first attempts only (more fanned-out work is waiting). Retries do not
   * count: during an outage the cache fills with later events of calls whose first event is retrying, and the
   * fan-out must go on (for the backlog figures and so that those events are ready when the receiver is back).
   */
  let lastClaimFull = false;

  function newAgent(): HttpDispatcher {
    // One keep-alive pool per origin, sized to the concurrency so a single receiver can take all of it.
    http = new Agent({
      keepAliveTimeout: 30_000, connections: deliverySettings(getConfig()).concurrency, pipelining: 1,
      connect: { lookup: guardedLookup(() => deliverySettings(getConfig()).refuse_private_targets, lookup) },
    });
    return http;
  }

  function wake(): void {
    if (!started || stopping) return;
    if (pumping) {
      again = true;
      return;
    }
    again = false;
    pumping = pump()
      .catch((err: unknown) => log.error({ err }, 'webhook dispatcher pass failed; retrying at the next poll'))
      .finally(() => {
        pumping = null;
        if (again && !queued) {
          queued = true;
          setImmediate(() => {
            queued = false;
            wake();
          });
        }
      });
  }

  function poll(): void {
    pollTimer = clock.setTimeout(poll, pollIntervalMs);
    pendingRefreshedAt = -Infinity; // refresh the backlog figure at least once per poll
    outboxDirty = true;
    wake();
  }

  /** Arms one timer for the earliest retry this process scheduled, when it falls before the next poll. */
  function wakeAt(at: number): void {
    if (stopping) return;
    if (retryTimer && retryTimer.at <= at) return;
    if (retryTimer) clock.clearTimeout(retryTimer.handle);
    retryTimer = { at, handle: clock.setTimeout(() => { retryTimer = null; wake(); }, Math.max(0, at - clock.now())) };
  }

  async function pump(): Promise<void> {
    const cfg = getConfig();
    const settings = deliverySettings(cfg);
    // One fan-out batch per pass, then claim: deliveries start while a large backlog is still being fanned out.
    // Pace the fan-out while this process has plenty fanned out but unsent (its events cached) and the last claim
    // was full of first attempts: fanning further ahead would only evict cached events before their first attempt.
    if (outboxDirty && !(lastClaimFull && eventCache.size >= eventCacheMax - batchSize)) {
      outboxDirty = false;
      let more: boolean;
      try {
        more = await fanOut(cfg);
      } catch (err) {
        outboxDirty = true;
        throw err;
      }
      if (more) {
        outboxDirty = true;
        again = true;
      }
    }
    await refreshPending(settings.outbox_warn_at);
    concurrency = settings.concurrency;
    const free = concurrency - inflight.size;
    if (free <= 0 || stopping) return;
    const now = clock.now();
    const leaseMs = deps.leaseMs ?? settings.timeout_ms + 30_000;
    const perEndpoint = settings.per_endpoint_concurrency;
    const atLimit = [...endpointInflight].filter(([, n]) => n >= perEndpoint).map(([url]) => url);
    const claimed = await store.claimDueDeliveries(now, free, now + leaseMs, atLimit);
    lastClaimFull = claimed.length === free && claimed.every((d) => d.attempts === 0);
    const overLimit: string[] = [];
    for (const d of claimed) {
      if (inflight.has(d.delivery_id)) continue; // a store without leases: never send one delivery twice at once
      const n = endpointInflight.get(d.endpoint_url) ?? 0;
      if (n >= perEndpoint) {
        overLimit.push(d.delivery_id); // one claim brought more for this endpoint than its share: back to the outbox
        continue;
      }
      endpointInflight.set(d.endpoint_url, n + 1);
      const p = deliver(d, cfg)
        .catch((err: unknown) => log.error({ err, delivery_id: d.delivery_id }, 'webhook delivery could not be recorded; it is retried after its lease'))
        .finally(() => {
          inflight.delete(d.delivery_id);
          const left = (endpointInflight.get(d.endpoint_url) ?? 1) - 1;
          if (left > 0) endpointInflight.set(d.endpoint_url, left);
          else endpointInflight.delete(d.endpoint_url);
          // Refill at half capacity, or at once when a call's next event may now be due (ordering).
          if (inflight.size <= Math.floor(concurrency / 2)) wake();
        });
      inflight.set(d.delivery_id, p);
    }
    if (overLimit.length) await store.releaseDeliveries(overLimit);
  }

  /** Creates deliveries for a batch of undispatched events; true when there may be more. */
  async function fanOut(cfg: PbxConfig): Promise<boolean> {
    const events = await store.listUndispatchedEvents(batchSize);
    if (events.length === 0) return false;
    const now = clock.now();
    const rows: NewDelivery[] = [];
    const config_version = deps.getConfigVersion?.() ?? null;
    const invalid: string[] = [];
    for (const ev of events) {
      const r = routeEvent(ev, cfg);
      if ('url' in r) {
        rows.push({ delivery_id: newDeliveryId(now), event_id: ev.event_id, endpoint_url: r.url, next_attempt_at: now, config_version });
        // FIFO-bounded: entries whose delivery another node sends are evicted in time.
        if (eventCache.size >= eventCacheMax) eventCache.delete(eventCache.keys().next().value!);
        eventCache.set(ev.event_id, ev);
      } else if (r.skip === 'webhook-invalid' || r.skip === 'component-invalid') {
        invalid.push(ev.event_id);
      } else {
        log.debug({ event_id: ev.event_id, type: ev.type, reason: r.skip }, 'webhook event kept without delivery');
      }
    }
    // One line per batch, not per event: a bad URL must not flood the log at call rate.
    if (invalid.length) log.error({ events: invalid.length, first_event_id: invalid[0] }, 'webhook events not delivered: endpoint configuration is invalid (url must be http(s), token non-empty)');
    await store.fanOutEvents(rows, events.map((e) => e.event_id));
    stats.fannedOut += events.length;
    return events.length === batchSize;
  }

  async function refreshPending(warnAt: number): Promise<void> {
    if (clock.now() - pendingRefreshedAt < pollIntervalMs) return;
    pendingRefreshedAt = clock.now();
    stats.pending = await store.countPendingDeliveries();
    stats.undispatched = await store.countUndispatchedEvents();
    const backlog = stats.pending + stats.undispatched;
    if (!outboxWarned && backlog >= warnAt) {
      outboxWarned = true;
      log.warn({ pending: stats.pending, undispatched: stats.undispatched, outbox_warn_at: warnAt }, 'webhook outbox is growing: receivers are slow or down');
    } else if (outboxWarned && backlog < warnAt * 0.9) {
      outboxWarned = false;
      log.info({ pending: stats.pending, undispatched: stats.undispatched }, 'webhook outbox back under its warning level');
    }
  }

  /** Whether an endpoint is disabled, cached for a poll interval (≥ 1 s); concurrent lookups share one query. */
  function endpointDisabled(url: string): Promise<boolean> {
    const c = disabledCache.get(url);
    if (c && clock.now() - c.at < Math.max(pollIntervalMs, 1000)) return c.disabled;
    const disabled = store.isEndpointDisabled(url);
    disabledCache.set(url, { disabled, at: clock.now() });
    disabled.catch(() => disabledCache.delete(url));
    return disabled;
  }

  /**
   * The configuration a delivery was created under (its token and signing secret), or the live one when that is
   * the same version, unknown (created before versions were recorded) or no longer stored.
   */
  async function configOf(d: Delivery, live: PbxConfig): Promise<PbxConfig> {
    const v = d.config_version;
    if (v == null || !deps.getConfigVersion || v === deps.getConfigVersion()) return live;
    let cached = versionCache.get(v);
    if (!cached) {
      if (versionCache.size >= 16) versionCache.delete(versionCache.keys().next().value!);
      // Versions are stored as opaque JSON that config validated before writing them.
      cached = store.getConfigVersion(v).then((r) => r?.config as PbxConfig | undefined);
      cached.catch(() => versionCache.delete(v));
      versionCache.set(v, cached);
    }
    return (await cached) ?? live;
  }

  async function loadEvent(eventId: string): Promise<OutboxEvent | undefined> {
    const cached = eventCache.get(eventId);
    if (cached) {
      eventCache.delete(eventId);
      return cached;
    }
    return store.getEvent(eventId);
  }

  async function deliver(d: Delivery, cfg: PbxConfig): Promise<void> {
    // Plain bindings, not log.child(): a child logger per delivery costs more than the delivery (redaction setup).
    const ctx: LogContext = { delivery_id: d.delivery_id, event_id: d.event_id, url: d.endpoint_url };
    const attempt = d.attempts + 1;
    const at = clock.now();
    const ev = await loadEvent(d.event_id);
    if (await endpointDisabled(d.endpoint_url)) {
      log.warn(ctx, 'webhook delivery stopped: endpoint is disabled');
      await finish(d, { delivery_id: d.delivery_id, attempt, at, status_code: null, error: 'endpoint disabled; no request sent', duration_ms: 0 }, 'disabled', null);
      stats.disabled++;
      return;
    }
    if (!ev) {
      log.warn(ctx, 'webhook delivery failed: its event is missing from the outbox');
      await finish(d, { delivery_id: d.delivery_id, attempt, at, status_code: null, error: 'event missing from the outbox', duration_ms: 0 }, 'failed', null);
      stats.failed++;
      return;
    }
    const settings = deliverySettings(cfg);
    if (settings.refuse_private_targets) {
      const refused = await refusedTarget(d.endpoint_url, lookup);
      if (refused) {
        log.warn({ ...ctx, reason: refused }, 'webhook delivery refused: private target');
        await finish(d, { delivery_id: d.delivery_id, attempt, at, status_code: null, error: refused, duration_ms: 0 }, 'failed', null);
        stats.failed++;
        return;
      }
    }
    const target = targetFor(ev, d.endpoint_url, await configOf(d, cfg), secretFor);
    const { outcome, durationMs } = await sendAttempt(http ?? newAgent(), clock, {
      deliveryId: d.delivery_id, body: JSON.stringify(ev.payload), target, timeoutMs: settings.timeout_ms, userAgent,
    }, requestCache);
    stats.attempts++;
    stats.attempt.add(durationMs);
    const row: DeliveryAttempt = {
      delivery_id: d.delivery_id, attempt, at, duration_ms: durationMs,
      status_code: outcome.statusCode,
      error: outcome.kind === 'succeeded' ? null : outcome.error,
    };
    if (log.isLevelEnabled('debug')) log.debug({ ...ctx, attempt, status_code: row.status_code, error: row.error, duration_ms: durationMs, type: ev.type }, 'webhook attempt');
    return settle(d, ev, row, outcome, ctx, settings);
  }

  async function settle(d: Delivery, ev: OutboxEvent, row: DeliveryAttempt, outcome: AttemptOutcome, ctx: LogContext, settings: ReturnType<typeof deliverySettings>): Promise<void> {
    switch (outcome.kind) {
      case 'succeeded': {
        const deliveredAt = clock.now();
        await finish(d, row, 'succeeded', null);
        stats.sent++;
        const occurred = Date.parse(ev.occurred_at);
        if (!Number.isNaN(occurred)) stats.latency.add(deliveredAt - occurred);
        return;
      }
      case 'failed':
        log.warn({ ...ctx, attempt: row.attempt, status_code: row.status_code, error: row.error }, 'webhook delivery failed for good');
        await finish(d, row, 'failed', null);
        stats.failed++;
        return;
      case 'gone':
        await store.setEndpointDisabled(d.endpoint_url, true, `${row.error} on delivery ${d.delivery_id}`);
        disabledCache.set(d.endpoint_url, { disabled: Promise.resolve(true), at: clock.now() });
        log.error({ ...ctx, attempt: row.attempt, status_code: row.status_code }, 'webhook endpoint answered 410 Gone: endpoint disabled, its pending deliveries stop');
        await finish(d, row, 'disabled', null);
        stats.disabled++;
        return;
      case 'retryable': {
        const decision = decideRetry({
          attempt: row.attempt, createdAtMs: d.created_at, nowMs: clock.now(), scheduleS: settings.retry_schedule_s,
          horizonS: settings.horizon_s, jitter, rng, retryAfterMs: outcome.retryAfterMs,
        });
        if (decision.kind === 'give-up') {
          log.warn({ ...ctx, attempt: row.attempt, status_code: row.status_code, error: row.error }, `webhook delivery failed for good: ${decision.reason}`);
          await finish(d, { ...row, error: `${row.error}; ${decision.reason}` }, 'failed', null);
          stats.failed++;
          return;
        }
        log.warn({ ...ctx, attempt: row.attempt, status_code: row.status_code, error: row.error, retry_in_ms: decision.delayMs }, 'webhook attempt failed; will retry');
        await finish(d, row, 'pending', decision.at);
        stats.retries++;
        wakeAt(decision.at);
        return;
      }
    }
  }

  /** Records the attempt and the delivery's new status; resolves once durable (batched with other completions). */
  async function finish(d: Delivery, row: DeliveryAttempt, status: Delivery['status'], nextAt: number | null): Promise<void> {
    assertDeliveryEdge(d.status, status);
    await attempts.write({ attempt: row, update: { status, next_attempt_at: nextAt, last_status_code: row.status_code, last_error: row.error } });
  }

  async function sendTest(type: string, opts: { componentName?: string } = {}): Promise<SendTestResult> {
    if (!isEventType(type)) return { ok: false, error: `unknown event type "${type}"` };
    const cfg = getConfig();
    const now = clock.now();
    let ev: OutboxEvent;
    if (type === 'webhook_component_event') {
      const nodes = cfg.flows.flatMap((f) => f.nodes).filter((n) => n.type === 'webhook');
      const node = opts.componentName ? nodes.find((n) => n.component_name === opts.componentName) : nodes[0];
      if (!node) return { ok: false, error: opts.componentName ? `no webhook object named "${opts.componentName}"` : 'no webhook object in any flow' };
      const v = validateEndpoint(node.url, node.secret_token);
      if (!v.ok) return v;
      ev = sampleEvent(type, now, { componentName: node.component_name, endpoint: { kind: 'component', url: node.url, secret_token: node.secret_token, headers: node.headers ?? {} } });
    } else {
      const v = validateEndpoint(cfg.webhook.url, cfg.webhook.secret_token);
      if (!v.ok) return v;
      ev = sampleEvent(type, now);
    }
    const url = ev.endpoint.kind === 'component' ? ev.endpoint.url : cfg.webhook.url;
    const delivery_id = newDeliveryId(now);
    await store.commit({ events: [ev] });
    await store.fanOutEvents([{ delivery_id, event_id: ev.event_id, endpoint_url: url, next_attempt_at: now, config_version: deps.getConfigVersion?.() ?? null }], [ev.event_id]);
    log.info({ type, event_id: ev.event_id, delivery_id, url }, 'webhook test event queued');
    wake();
    return { ok: true, event_id: ev.event_id, delivery_id, url };
  }

  return {
    start() {
      if (started) return;
      started = true;
      stopping = false;
      outboxDirty = true;
      if (!http) newAgent();
      poll();
    },
    async stop() {
      if (!started) return;
      stopping = true;
      if (pollTimer != null) clock.clearTimeout(pollTimer);
      if (retryTimer) clock.clearTimeout(retryTimer.handle);
      pollTimer = null;
      retryTimer = null;
      await pumping;
      await Promise.allSettled([...inflight.values()]);
      started = false;
      if (ownsHttp && http) {
        const h = http;
        http = null;
        await h.close();
      }
    },
    wake() {
      outboxDirty = true;
      wake();
    },
    sendTest,
    async enableEndpoint(url) {
      await store.setEndpointDisabled(url, false, null);
      disabledCache.delete(url);
      log.info({ url }, 'webhook endpoint re-enabled');
      wake();
    },
    stats: () => stats.snapshot(inflight.size),
    async idle() {
      for (;;) {
        if (pumping) await pumping;
        else if (inflight.size > 0) await Promise.allSettled([...inflight.values()]);
        else if (queued) await new Promise((r) => setImmediate(r));
        else return;
      }
    },
  };
}
