/**
 * Build stage: turns a claimed delivery into a request (its event, and the target of the configuration version
 * it was created under: URL, token and signing secret), or settles it unsent when its endpoint is disabled or its
 * event is gone. It owns the caches that spare a first attempt any extra read.
 */
import type { Clock } from '../../common/index.js';
import type { PbxConfig } from '../../config/index.js';
import type { Delivery, OutboxEvent, Store } from '../../store/index.js';
import { targetFor } from '../endpoint.js';
import { deliverySettings } from '../settings.js';
import { signingSecretFor } from '../signature.js';
import { unsent, type BuiltRequest, type LogContext, type SettledUnsent } from './stages.js';

/** What {@link BuildStage} needs. */
export interface BuildStageDeps {
  store: Pick<Store, 'getEvent' | 'getConfigVersion' | 'isEndpointDisabled'>;
  clock: Clock;
  /** How long an endpoint's disabled flag is cached (the poll interval, at least 1 s). */
  disabledTtlMs: number;
  /** Events kept between fan-out and first attempt. */
  eventCacheMax: number;
  /** The live configuration's version number (deliveries of another version use that version's settings). */
  liveVersion?: () => number;
}

/** Builds requests for claimed deliveries. */
export class BuildStage {
  readonly #d: BuildStageDeps;
  /** Bodies and events fanned out here, so a first attempt needs no extra read. */
  readonly #events = new Map<string, OutboxEvent>();
  readonly #disabled = new Map<string, { disabled: Promise<boolean>; at: number }>();
  /** Configuration versions that pending deliveries were created under, by number (a few at most). */
  readonly #versions = new Map<number, Promise<PbxConfig | undefined>>();
  /** Derived signing secrets (an HMAC each), memoized per token. */
  readonly #secrets = new Map<string, string>();

  constructor(deps: BuildStageDeps) {
    this.#d = deps;
  }

  /** Events cached for their first attempt. */
  get cachedEvents(): number {
    return this.#events.size;
  }

  /** Keeps a fanned-out event for its first attempt (FIFO-bounded: entries another node sends are evicted in time). */
  remember(ev: OutboxEvent): void {
    if (this.#events.size >= this.#d.eventCacheMax) this.#events.delete(this.#events.keys().next().value!);
    this.#events.set(ev.event_id, ev);
  }

  /** Records an endpoint's new disabled flag (410 Gone, or re-enabled by admin). */
  setDisabled(url: string, disabled: boolean | undefined): void {
    if (disabled === undefined) this.#disabled.delete(url);
    else this.#disabled.set(url, { disabled: Promise.resolve(disabled), at: this.#d.clock.now() });
  }

  /** The request for `d`, or why it ends unsent. `live` is the configuration when it was claimed. */
  async build(d: Delivery, live: PbxConfig): Promise<BuiltRequest | SettledUnsent> {
    // Plain bindings, not log.child(): a child logger per delivery costs more than the delivery (redaction setup).
    const ctx: LogContext = { delivery_id: d.delivery_id, event_id: d.event_id, url: d.endpoint_url };
    const attempt = d.attempts + 1;
    const at = this.#d.clock.now();
    const event = await this.#loadEvent(d.event_id);
    if (await this.#endpointDisabled(d.endpoint_url)) return unsent(d, ctx, attempt, at, 'endpoint-disabled', 'endpoint disabled; no request sent');
    if (!event) return unsent(d, ctx, attempt, at, 'event-missing', 'event missing from the outbox');
    const target = targetFor(event, d.endpoint_url, await this.#configOf(d, live), this.#secretFor);
    return { kind: 'request', delivery: d, event, ctx, attempt, at, target, settings: deliverySettings(live) };
  }

  async #loadEvent(eventId: string): Promise<OutboxEvent | undefined> {
    const cached = this.#events.get(eventId);
    if (cached) {
      this.#events.delete(eventId);
      return cached;
    }
    return this.#d.store.getEvent(eventId);
  }

  /** Whether an endpoint is disabled, cached for a poll interval (≥ 1 s); concurrent lookups share one query. */
  #endpointDisabled(url: string): Promise<boolean> {
    const c = this.#disabled.get(url);
    const now = this.#d.clock.now();
    if (c && now - c.at < this.#d.disabledTtlMs) return c.disabled;
    const disabled = this.#d.store.isEndpointDisabled(url);
    this.#disabled.set(url, { disabled, at: now });
    disabled.catch(() => this.#disabled.delete(url));
    return disabled;
  }

  /**
   * The configuration a delivery was created under (its token and signing secret), or the live one when that is
   * the same version, unknown (created before versions were recorded) or no longer stored.
   */
  async #configOf(d: Delivery, live: PbxConfig): Promise<PbxConfig> {
    const v = d.config_version;
    if (v == null || !this.#d.liveVersion || v === this.#d.liveVersion()) return live;
    let cached = this.#versions.get(v);
    if (!cached) {
      if (this.#versions.size >= 16) this.#versions.delete(this.#versions.keys().next().value!);
      // Versions are stored as opaque JSON that config validated before writing them.
      cached = this.#d.store.getConfigVersion(v).then((r) => r?.config as PbxConfig | undefined);
      cached.catch(() => this.#versions.delete(v));
      this.#versions.set(v, cached);
    }
    return (await cached) ?? live;
  }

  readonly #secretFor = (e: { secret_token: string; signing_secret?: string | null }): string => {
    if (e.signing_secret) return e.signing_secret;
    let s = this.#secrets.get(e.secret_token);
    if (s === undefined) {
      if (this.#secrets.size >= 1000) this.#secrets.clear();
      s = signingSecretFor(e);
      this.#secrets.set(e.secret_token, s);
    }
    return s;
  };
}
