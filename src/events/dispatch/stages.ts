/**
 * The typed hand-offs between the dispatcher's stages (after svix's `IncompleteDispatch` → `CompletedDispatch`):
 *
 *   claim ──Delivery──▶ build ──BuiltRequest──▶ send ──SentAttempt──▶ record
 *                         └──────── SettledUnsent (disabled, event missing, private target) ────────▶ record
 *
 * Each stage is a small object with its own state; only the record stage writes a delivery's outcome.
 */
import type { DeliveryConfig } from '../../config/index.js';
import type { Delivery, DeliveryAttempt, OutboxEvent } from '../../store/index.js';
import type { AttemptOutcome } from '../delivery-state.js';
import type { Target } from '../endpoint.js';

/** Fields on every log line about one delivery. */
export interface LogContext { delivery_id: string; event_id: string; url: string }

/** A claimed delivery with everything its request needs: the output of the build stage. */
export interface BuiltRequest {
  kind: 'request';
  delivery: Delivery;
  event: OutboxEvent;
  ctx: LogContext;
  /** This attempt's number (1 for the first). */
  attempt: number;
  /** When the attempt started (clock ms). */
  at: number;
  target: Target;
  /** The live delivery settings when the delivery was claimed. */
  settings: DeliveryConfig;
}

/** Why a delivery ends without a request. */
export type UnsentReason = 'endpoint-disabled' | 'event-missing' | 'private-target';

/** A delivery that ends without a request (build or send stage), with the attempt row that says why. */
export interface SettledUnsent {
  kind: 'unsent';
  delivery: Delivery;
  ctx: LogContext;
  reason: UnsentReason;
  row: DeliveryAttempt;
}

/** An attempt made: the output of the send stage. */
export interface SentAttempt {
  kind: 'sent';
  delivery: Delivery;
  event: OutboxEvent;
  ctx: LogContext;
  row: DeliveryAttempt;
  outcome: AttemptOutcome;
  durationMs: number;
  settings: DeliveryConfig;
}

/** An attempt row for a delivery that ended before any request. */
export function unsent(d: Delivery, ctx: LogContext, attempt: number, at: number, reason: UnsentReason, error: string): SettledUnsent {
  return { kind: 'unsent', delivery: d, ctx, reason, row: { delivery_id: d.delivery_id, attempt, at, status_code: null, error, duration_ms: 0 } };
}
