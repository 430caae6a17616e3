/**
 * A delivery's life as a table (STYLE.md §1). Statuses are the Store's `DeliveryStatus`:
 *
 *          ┌──────── retry (timeout, connection error, 429, 5xx; within the horizon) ────────┐
 *          ▼                                                                                  │
 *      pending ──2xx──▶ succeeded        pending ──other 4xx / 3xx / horizon passed──▶ failed │
 *          │  └──────────────────────────────────────────────────────────────────────────────┘
 *          └──410, or the endpoint is disabled──▶ disabled
 *
 *   succeeded | failed | disabled ──redeliver (admin)──▶ pending
 */

import { InvalidStateError } from '../common/index.js';
import type { DeliveryStatus } from '../store/index.js';
import { parseRetryAfterMs } from './retry-policy.js';

/** Legal status changes. `pending → pending` is a scheduled retry. */
export const DELIVERY_EDGES: Readonly<Record<DeliveryStatus, readonly DeliveryStatus[]>> = {
  pending: ['pending', 'succeeded', 'failed', 'disabled'],
  succeeded: ['pending'],
  failed: ['pending'],
  disabled: ['pending'],
};

/** Throws {@link InvalidStateError} (a bug) unless `from → to` is an edge of {@link DELIVERY_EDGES}. */
export function assertDeliveryEdge(from: DeliveryStatus, to: DeliveryStatus): void {
  if (!DELIVERY_EDGES[from].includes(to)) throw new InvalidStateError(`delivery cannot go from ${from} to ${to}`);
}

/** What one attempt's result means for the delivery. */
export type AttemptOutcome =
  | { kind: 'succeeded'; statusCode: number }
  /** Try again: timeout, connection error, 429 or 5xx. */
  | { kind: 'retryable'; statusCode: number | null; error: string; retryAfterMs: number | null }
  /** Final: any other non-2xx. */
  | { kind: 'failed'; statusCode: number; error: string }
  /** 410 Gone: the receiver asks us to stop; the endpoint is disabled. */
  | { kind: 'gone'; statusCode: 410; error: string };

/** HTTP statuses that decide a delivery (named, so logic holds no bare literals). */
export const HttpStatus = { Gone: 410, TooManyRequests: 429, InternalServerError: 500 } as const;

/**
 * Classifies an HTTP response: any 2xx succeeds; 410 disables; 429 (with its Retry-After) and 5xx retry;
 * everything else (other 4xx, 3xx — redirects are not followed, 1xx) fails for good.
 */
export function classifyResponse(statusCode: number, headers: Record<string, string | string[] | undefined>, nowMs: number, bodySnippet: string): AttemptOutcome {
  const detail = bodySnippet ? `HTTP ${statusCode}: ${bodySnippet}` : `HTTP ${statusCode}`;
  if (statusCode >= 200 && statusCode < 300) return { kind: 'succeeded', statusCode };
  if (statusCode === HttpStatus.Gone) return { kind: 'gone', statusCode, error: detail };
  if (statusCode === HttpStatus.TooManyRequests) {
    return { kind: 'retryable', statusCode, error: detail, retryAfterMs: parseRetryAfterMs(headers['retry-after'], nowMs) };
  }
  if (statusCode >= HttpStatus.InternalServerError && statusCode < 600) {
    // RFC 9110 §10.2.3: Retry-After may also come with 503.
    return { kind: 'retryable', statusCode, error: detail, retryAfterMs: parseRetryAfterMs(headers['retry-after'], nowMs) };
  }
  return { kind: 'failed', statusCode, error: detail };
}
