/**
 * Send stage: the HTTP request with undici, and the send-time SSRF check. Both resolve names through one seam
 * (`lookup`, DispatcherDeps.lookup): `delivery.refuse_private_targets` refuses a target that is, or resolves to, a
 * non-public address before connecting, and the connector's own lookup refuses it again if DNS changed in between
 * (rebinding). It owns the keep-alive agent unless one was injected.
 */
import { Agent, type Dispatcher as HttpDispatcher } from 'undici';
import type { Clock } from '../../common/index.js';
import type { PbxConfig } from '../../config/index.js';
import { RequestCache, sendAttempt } from '../sender.js';
import { deliverySettings } from '../settings.js';
import { guardedLookup, refusedTarget, type HostLookup } from '../target-guard.js';
import { unsent, type BuiltRequest, type SentAttempt, type SettledUnsent } from './stages.js';

/** What {@link SendStage} needs. */
export interface SendStageDeps {
  clock: Clock;
  /** The live configuration (the agent's pool size and the refuse_private_targets flag). */
  getConfig: () => PbxConfig;
  lookup: HostLookup;
  /** `Switchboard/<version>`. */
  userAgent: string;
  /** An injected undici dispatcher (never closed here); default: an own keep-alive `Agent`. */
  http?: HttpDispatcher;
}

/** Sends built requests. */
export class SendStage {
  readonly #d: SendStageDeps;
  /** Created at open() when not injected, closed by close(): a stopped dispatcher can start again. */
  #http: HttpDispatcher | null;
  /** Parsed signing keys and URLs, memoized per configuration string. */
  readonly #requests = new RequestCache();

  constructor(deps: SendStageDeps) {
    this.#d = deps;
    this.#http = deps.http ?? null;
  }

  /** Makes sure there is an agent to send with. */
  open(): void {
    if (!this.#http) this.#newAgent();
  }

  /** Closes the own agent (an injected one stays open). */
  async close(): Promise<void> {
    if (this.#d.http || !this.#http) return;
    const h = this.#http;
    this.#http = null;
    await h.close();
  }

  /** One attempt for `r`, or its refusal when the target is private and such targets are refused. */
  async send(r: BuiltRequest): Promise<SentAttempt | SettledUnsent> {
    const d = r.delivery;
    if (r.settings.refuse_private_targets) {
      const refused = await refusedTarget(d.endpoint_url, this.#d.lookup);
      if (refused) return unsent(d, r.ctx, r.attempt, r.at, 'private-target', refused);
    }
    const { outcome, durationMs } = await sendAttempt(this.#http ?? this.#newAgent(), this.#d.clock, {
      deliveryId: d.delivery_id, body: JSON.stringify(r.event.payload), target: r.target, timeoutMs: r.settings.timeout_ms, userAgent: this.#d.userAgent,
    }, this.#requests);
    const row = {
      delivery_id: d.delivery_id, attempt: r.attempt, at: r.at, duration_ms: durationMs,
      status_code: outcome.statusCode,
      error: outcome.kind === 'succeeded' ? null : outcome.error,
    };
    return { kind: 'sent', delivery: d, event: r.event, ctx: r.ctx, row, outcome, durationMs, settings: r.settings };
  }

  #newAgent(): HttpDispatcher {
    // One keep-alive pool per origin, sized to the concurrency so a single receiver can take all of it.
    const { getConfig, lookup } = this.#d;
    const http = new Agent({
      keepAliveTimeout: 30_000, connections: deliverySettings(getConfig()).concurrency, pipelining: 1,
      connect: { lookup: guardedLookup(() => deliverySettings(getConfig()).refuse_private_targets, lookup) },
    });
    this.#http = http;
    return http;
  }
}
