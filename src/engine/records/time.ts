/** Time formats of the compat payloads (SPEC.md §3): ISO 8601 UTC with milliseconds; integer-second durations. */
import { DateTime } from 'luxon';

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: where `Date#toISOString` has the 4-digit year form. */
const MIN_4_DIGIT_MS = -62_167_219_200_000;
const MAX_4_DIGIT_MS = 253_402_300_799_999;

/** The last instant formatted: one call step stamps its legs, record and events with the same `now`. */
let lastMs = Number.NaN;
let lastIso = '';

/**
 * `2026-11-28T15:31:15.000Z` for an epoch-ms instant. `Date#toISOString` gives exactly this form for years 0–9999
 * at a fraction of luxon's cost (it runs several times per call step); luxon formats anything outside that range.
 */
export function isoUtc(ms: number): string {
  if (ms === lastMs) return lastIso;
  if (ms >= MIN_4_DIGIT_MS && ms <= MAX_4_DIGIT_MS) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
    return lastIso;
  }
  return DateTime.fromMillis(ms, { zone: 'utc' }).toISO({ suppressMilliseconds: false, includeOffset: true })!.replace('+00:00', 'Z');
}

/** Whole seconds between two instants (rounded; never negative). */
export function durationS(fromMs: number, toMs: number): number {
  return Math.max(0, Math.round((toMs - fromMs) / 1000));
}
