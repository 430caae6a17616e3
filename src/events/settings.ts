/**
 * The dispatcher's tuning with defaults filled in, read from the live configuration at each use so an applied
 * configuration version takes effect without a restart.
 */

import type { DeliveryConfig, PbxConfig } from '../config/index.js';
import { DEFAULT_HORIZON_S, DEFAULT_RETRY_SCHEDULE_S } from './retry-policy.js';

/** Defaults for `delivery.*` (the config schema should use the same values). */
export const DEFAULT_DELIVERY: Readonly<DeliveryConfig> = Object.freeze({
  timeout_ms: 10_000,
  retry_schedule_s: [...DEFAULT_RETRY_SCHEDULE_S],
  horizon_s: DEFAULT_HORIZON_S,
  outbox_warn_at: 100_000,
  concurrency: 16,
  per_endpoint_concurrency: 8,
  refuse_private_targets: false,
});

/** `config.delivery` with every missing or invalid value replaced by its default. */
export function deliverySettings(config: PbxConfig): DeliveryConfig {
  const d: Partial<DeliveryConfig> = config.delivery ?? {};
  const pos = (v: number | undefined, def: number): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : def);
  return {
    timeout_ms: pos(d.timeout_ms, DEFAULT_DELIVERY.timeout_ms),
    retry_schedule_s: Array.isArray(d.retry_schedule_s) && d.retry_schedule_s.length > 0 && d.retry_schedule_s.every((s) => s >= 0)
      ? d.retry_schedule_s : DEFAULT_DELIVERY.retry_schedule_s,
    horizon_s: pos(d.horizon_s, DEFAULT_DELIVERY.horizon_s),
    outbox_warn_at: pos(d.outbox_warn_at, DEFAULT_DELIVERY.outbox_warn_at),
    concurrency: Math.floor(pos(d.concurrency, DEFAULT_DELIVERY.concurrency)),
    per_endpoint_concurrency: Math.floor(pos(d.per_endpoint_concurrency, DEFAULT_DELIVERY.per_endpoint_concurrency)),
    refuse_private_targets: d.refuse_private_targets === true,
  };
}
