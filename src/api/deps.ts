/**
 * What the API is built from. The API sees the engine only through its facade and the store through its
 * interface; it never sees srf objects, SIP messages or media (STYLE.md §3).
 */
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/log.js';
import type { PbxConfig } from '../config/types.js';
import type { EngineFacade } from '../engine/facade.js';
import type { Delivery, DeliveryAttempt, DeliveryStatus, Store } from '../store/store.js';

/** Filters of the delivery log listing. */
export interface DeliveryListQuery {
  endpoint_url?: string;
  status?: DeliveryStatus;
  unique_call_id?: string;
  offset: number;
  limit: number;
}

/** Which deliveries a range redelivery selects; times are epoch ms on `created_at`, both inclusive. */
export interface RedeliverRange {
  since?: number;
  until?: number;
  endpoint_url?: string;
  /** Default: failed. */
  status?: DeliveryStatus;
}

/**
 * The webhooks admin functions (the events module's, mounted here). Every method is optional: the API falls
 * back to the store for listing and redelivery, and answers 501 for a test send it cannot make.
 */
export interface WebhooksAdmin {
  listDeliveries?(q: DeliveryListQuery): Promise<Delivery[]>;
  getDelivery?(deliveryId: string): Promise<{ delivery: Delivery; attempts: DeliveryAttempt[] } | undefined>;
  redeliver?(deliveryIds: string[]): Promise<number>;
  redeliverRange?(range: RedeliverRange): Promise<number>;
  /** Sends a sample event of `type` to the global webhook; resolves to the created delivery ids or a summary. */
  sendTest?(type: string): Promise<unknown>;
}

/** Everything {@link buildApp} needs. */
export interface ApiDeps {
  engine: EngineFacade;
  store: Store;
  /** The live configuration, read per request so an apply takes effect at once (key, whitelist, time zone). */
  getConfig: () => PbxConfig;
  webhooksAdmin?: WebhooksAdmin;
  log: Logger;
  /** Drives the rate limiter and redelivery times; default the system clock. */
  clock?: Clock;
  /** Switchboard version (OpenAPI `info.version`). */
  version: string;
  /** Process start, epoch ms (fallback uptime when the engine cannot answer). */
  startedAt: number;
}
