/**
 * When to try a failed webhook delivery again (SPEC.md §3): exponential backoff with jitter along a configured
 * schedule, the last step repeating, until a horizon measured from the delivery's creation. Pure functions,
 * after svix's `calculate_retry_delay`: time and randomness are inputs.
 */

/** Default delays in seconds (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then hourly) — config `delivery.retry_schedule_s`. */
export const DEFAULT_RETRY_SCHEDULE_S: readonly number[] = [5, 30, 120, 600, 1800, 3600];
/** Default horizon: 24 h after the delivery was created — config `delivery.horizon_s`. */
export const DEFAULT_HORIZON_S = 86_400;
/** Default jitter: each delay is drawn uniformly from ±20 % of the schedule's step. */
export const DEFAULT_JITTER = 0.2;

/**
 * The delay before attempt `attempt + 1`, given that `attempt` attempts (≥ 1) have failed.
 * Step `attempt - 1` of `scheduleS` (seconds, fractions allowed), the last step repeating, scaled by a factor drawn
 * uniformly from `[1 - jitter, 1 + jitter]` with `rng() ∈ [0, 1)`.
 */
export function retryDelayMs(attempt: number, scheduleS: readonly number[], jitter: number, rng: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new TypeError(`attempt must be an integer >= 1, got ${attempt}`);
  if (scheduleS.length === 0) throw new TypeError('retry schedule must have at least one step');
  const stepS = scheduleS[Math.min(attempt, scheduleS.length) - 1]!;
  if (!(stepS >= 0)) throw new TypeError(`retry schedule step ${attempt} must be >= 0 s, got ${stepS}`);
  const j = Math.min(Math.max(jitter, 0), 1);
  const factor = 1 - j + 2 * j * rng();
  return Math.max(0, Math.round(stepS * 1000 * factor));
}

/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns the delay in ms
 * (never negative), or null when absent or unparsable.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date names its day and month (IMF-fixdate and the obsolete forms); Date.parse alone accepts "-5".
  if (!/[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** What to do after a retryable failure: try again at `at` (epoch ms), or give up because the horizon is passed. */
export type RetryDecision = { kind: 'retry'; at: number; delayMs: number } | { kind: 'give-up'; reason: string };

/** Inputs of {@link decideRetry}. */
export interface RetryInput {
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attempt: number;
  /** When the delivery was created (epoch ms); the horizon counts from here. */
  createdAtMs: number;
  nowMs: number;
  scheduleS: readonly number[];
  horizonS: number;
  jitter: number;
  rng: () => number;
  /** A receiver's Retry-After, in ms: honoured as given instead of the schedule's step. */
  retryAfterMs?: number | null;
}

/**
 * Decides the next attempt. Retry-After, when the receiver sent one, replaces the backoff step. A next attempt
 * that would fall after `createdAt + horizon` is not scheduled: the delivery fails for good.
 */
export function decideRetry(i: RetryInput): RetryDecision {
  const delayMs = i.retryAfterMs != null ? i.retryAfterMs : retryDelayMs(i.attempt, i.scheduleS, i.jitter, i.rng);
  const at = i.nowMs + delayMs;
  const horizonAt = i.createdAtMs + i.horizonS * 1000;
  if (at > horizonAt) return { kind: 'give-up', reason: `retry horizon of ${i.horizonS} s passed after ${i.attempt} attempts` };
  return { kind: 'retry', at, delayMs };
}
