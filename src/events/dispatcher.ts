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

import type { Dispatcher as HttpDispatcher } from 'undici';
import { systemClock, type Clock, type TimerHandle } from '../common/index.js';
import type { Logger } from '../common/index.js';
import type { PbxConfig } from '../config/index.js';
import type { Delivery, OutboxEvent, Store } from '../store/index.js';
import { createAttemptWriter } from './attempt-writer.js';
import { StatsCounters, type DeliveryStats } from './delivery-stats.js';
import { BuildStage } from './dispatch/build.js';
import { ClaimStage } from './dispatch/claim.js';
import { FanOutStage, newDeliveryId } from './dispatch/fan-out.js';
import { PassRunner } from './dispatch/pass-runner.js';
import { RecordStage } from './dispatch/record.js';
import { SendStage } from './dispatch/send.js';
import { validateEndpoint } from './endpoint.js';
import { DEFAULT_JITTER } from './retry-policy.js';
import { isEventType, sampleEvent } from './sample-events.js';
import { deliverySettings } from './settings.js';
import { systemLookup, type HostLookup } from './target-guard.js';

export { newDeliveryId };

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

/**
 * The dispatcher: a poll timer and wake-ups drive passes (fan-out, then claim); each claimed delivery runs through
 * the stages build → send → record (dispatch/stages.ts) while holding its claim slot.
 */
class OutboxDispatcher implements Dispatcher {
  readonly #deps: DispatcherDeps;
  readonly #clock: Clock;
  readonly #stats = new StatsCounters();
  readonly #fanOut: FanOutStage;
  readonly #claim: ClaimStage;
  readonly #build: BuildStage;
  readonly #send: SendStage;
  readonly #record: RecordStage;
  readonly #passes: PassRunner;
  readonly #eventCacheMax: number;
  #started = false;
  #stopping = false;
  #pollTimer: TimerHandle | null = null;
  #retryTimer: { handle: TimerHandle; at: number } | null = null;
  /** `delivery.concurrency` as of the last pass (read in completion handlers, which must not throw). */
  #concurrency = 1;

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
    const { store, log } = deps;
    const clock = (this.#clock = deps.clock ?? systemClock);
    const pollIntervalMs = deps.pollIntervalMs ?? 1000;
    this.#eventCacheMax = Math.max(1, deps.eventCacheSize ?? DEFAULT_EVENT_CACHE);
    this.#claim = new ClaimStage(store);
    this.#build = new BuildStage({ store, clock, disabledTtlMs: Math.max(pollIntervalMs, 1000), eventCacheMax: this.#eventCacheMax, liveVersion: deps.getConfigVersion });
    this.#fanOut = new FanOutStage({
      store, clock, log, stats: this.#stats, batchSize: this.#batchSize, pollIntervalMs, liveVersion: deps.getConfigVersion,
      remember: (ev) => this.#build.remember(ev),
    });
    this.#send = new SendStage({ clock, getConfig: deps.getConfig, lookup: deps.lookup ?? systemLookup, userAgent: `Switchboard/${deps.version}`, http: deps.fetchDispatcher });
    this.#record = new RecordStage({
      store, attempts: createAttemptWriter(store), clock, log, stats: this.#stats, rng: deps.rng ?? Math.random, jitter: deps.jitter ?? DEFAULT_JITTER,
      onEndpointGone: (url) => this.#build.setDisabled(url, true),
      onRetryAt: (at) => this.#wakeAt(at),
    });
    this.#passes = new PassRunner(() => this.#pass(), () => this.#started && !this.#stopping,
      (err) => log.error({ err }, 'webhook dispatcher pass failed; retrying at the next poll'));
  }

  get #batchSize(): number {
    return this.#deps.batchSize ?? 200;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopping = false;
    this.#fanOut.markDirty();
    this.#send.open();
    this.#poll();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#stopping = true;
    if (this.#pollTimer != null) this.#clock.clearTimeout(this.#pollTimer);
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer.handle);
    this.#pollTimer = null;
    this.#retryTimer = null;
    await this.#passes.running;
    await this.#claim.settled();
    this.#started = false;
    await this.#send.close();
  }

  wake(): void {
    this.#fanOut.markDirty();
    this.#passes.request();
  }

  async enableEndpoint(url: string): Promise<void> {
    await this.#deps.store.setEndpointDisabled(url, false, null);
    this.#build.setDisabled(url, undefined);
    this.#deps.log.info({ url }, 'webhook endpoint re-enabled');
    this.#passes.request();
  }

  stats(): DeliveryStats {
    return this.#stats.snapshot(this.#claim.size);
  }

  async idle(): Promise<void> {
    for (;;) {
      const running = this.#passes.running;
      if (running) await running;
      else if (this.#claim.size > 0) await this.#claim.settled();
      else if (this.#passes.queued) await new Promise((r) => setImmediate(r));
      else return;
    }
  }

  async sendTest(type: string, opts: { componentName?: string } = {}): Promise<SendTestResult> {
    if (!isEventType(type)) return { ok: false, error: `unknown event type "${type}"` };
    const { store, log, getConfig } = this.#deps;
    const cfg = getConfig();
    const now = this.#clock.now();
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
    await store.fanOutEvents([{ delivery_id, event_id: ev.event_id, endpoint_url: url, next_attempt_at: now, config_version: this.#deps.getConfigVersion?.() ?? null }], [ev.event_id]);
    log.info({ type, event_id: ev.event_id, delivery_id, url }, 'webhook test event queued');
    this.#passes.request();
    return { ok: true, event_id: ev.event_id, delivery_id, url };
  }

  #poll(): void {
    this.#pollTimer = this.#clock.setTimeout(() => this.#poll(), this.#deps.pollIntervalMs ?? 1000);
    this.#fanOut.refreshBacklogSoon(); // refresh the backlog figure at least once per poll
    this.#fanOut.markDirty();
    this.#passes.request();
  }

  /** Arms one timer for the earliest retry this process scheduled, when it falls before the next poll. */
  #wakeAt(at: number): void {
    if (this.#stopping) return;
    if (this.#retryTimer && this.#retryTimer.at <= at) return;
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer.handle);
    const handle = this.#clock.setTimeout(() => { this.#retryTimer = null; this.#passes.request(); }, Math.max(0, at - this.#clock.now()));
    this.#retryTimer = { at, handle };
  }

  /** One pass: a fan-out batch, the backlog figures, then claim what the free slots allow. */
  async #pass(): Promise<void> {
    const cfg = this.#deps.getConfig();
    const settings = deliverySettings(cfg);
    // Pace the fan-out while this process has plenty fanned out but unsent (its events cached) and the last claim
    // was full of first attempts: fanning further ahead would only evict cached events before their first attempt.
    const paced = this.#claim.lastClaimFull && this.#build.cachedEvents >= this.#eventCacheMax - this.#batchSize;
    if (await this.#fanOut.run(cfg, paced)) this.#passes.requestAnother();
    await this.#fanOut.refreshBacklog(settings.outbox_warn_at);
    this.#concurrency = settings.concurrency;
    const free = this.#concurrency - this.#claim.size;
    if (free <= 0 || this.#stopping) return;
    const now = this.#clock.now();
    const leaseMs = this.#deps.leaseMs ?? settings.timeout_ms + 30_000;
    await this.#claim.claim(
      { now, free, leaseUntil: now + leaseMs, perEndpoint: settings.per_endpoint_concurrency },
      (d) => this.#deliver(d, cfg).catch((err: unknown) => this.#deps.log.error({ err, delivery_id: d.delivery_id }, 'webhook delivery could not be recorded; it is retried after its lease')),
      // Refill at half capacity, or at once when a call's next event may now be due (ordering).
      () => { if (this.#claim.size <= Math.floor(this.#concurrency / 2)) this.#passes.request(); },
    );
  }

  /** build → send → record for one claimed delivery. */
  async #deliver(d: Delivery, cfg: PbxConfig): Promise<void> {
    const built = await this.#build.build(d, cfg);
    await this.#record.record(built.kind === 'request' ? await this.#send.send(built) : built);
  }
}

/** Creates a dispatcher; nothing happens until `start()`. */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  return new OutboxDispatcher(deps);
}
