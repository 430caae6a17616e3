/** Time formats of the compat payloads (SPEC.md §3): ISO 8601 UTC with milliseconds; integer-second durations. */
import { DateTime } from 'luxon';

/** `2026-11-28T15:31:15.000Z` for an epoch-ms instant. */
export function isoUtc(ms: number): string {
  return DateTime.fromMillis(ms, { zone: 'utc' }).toISO({ suppressMilliseconds: false, includeOffset: true })!.replace('+00:00', 'Z');
}

/** Whole seconds between two instants (rounded; never negative). */
export function durationS(fromMs: number, toMs: number): number {
  return Math.max(0, Math.round((toMs - fromMs) / 1000));
}
