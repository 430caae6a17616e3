import { describe, expect, it } from 'vitest';
import { decideRetry, parseRetryAfterMs, retryDelayMs } from '../../../src/events/retry-policy.js';

const schedule = [5, 30, 120];

describe('retryDelayMs', () => {
  it('follows the schedule step for each failed attempt, without jitter', () => {
    expect(retryDelayMs(1, schedule, 0, () => 0.5)).toBe(5000);
    expect(retryDelayMs(2, schedule, 0, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(3, schedule, 0, () => 0.5)).toBe(120_000);
  });

  it('repeats the last step once the schedule is exhausted', () => {
    expect(retryDelayMs(4, schedule, 0, () => 0.5)).toBe(120_000);
    expect(retryDelayMs(40, schedule, 0, () => 0.5)).toBe(120_000);
  });

  it('spreads each delay uniformly within ±jitter of the step', () => {
    expect(retryDelayMs(1, schedule, 0.2, () => 0)).toBe(4000);
    expect(retryDelayMs(1, schedule, 0.2, () => 0.5)).toBe(5000);
    expect(retryDelayMs(1, schedule, 0.2, () => 0.999999)).toBe(6000);
  });

  it('accepts fractional seconds (shortened schedules in tests)', () => {
    expect(retryDelayMs(1, [0.05], 0, () => 0)).toBe(50);
  });

  it('rejects an attempt below 1 and an empty schedule with a TypeError', () => {
    expect(() => retryDelayMs(0, schedule, 0, Math.random)).toThrow(TypeError);
    expect(() => retryDelayMs(1, [], 0, Math.random)).toThrow(TypeError);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-11-28T15:00:00.000Z');
  it('reads delay-seconds', () => expect(parseRetryAfterMs('7', now)).toBe(7000));
  it('reads an HTTP-date relative to now', () => expect(parseRetryAfterMs('Sat, 28 Nov 2026 15:00:30 GMT', now)).toBe(30_000));
  it('never returns a negative delay for a past date', () => expect(parseRetryAfterMs('Sat, 28 Nov 2026 14:00:00 GMT', now)).toBe(0));
  it('returns null when absent or unparsable', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeNull();
    expect(parseRetryAfterMs('soon', now)).toBeNull();
    expect(parseRetryAfterMs('-5', now)).toBeNull();
  });
});

describe('decideRetry', () => {
  const base = { createdAtMs: 0, scheduleS: [5, 30], horizonS: 60, jitter: 0, rng: () => 0.5 };
  it('schedules the next attempt along the schedule', () => {
    expect(decideRetry({ ...base, attempt: 1, nowMs: 1000 })).toEqual({ kind: 'retry', at: 6000, delayMs: 5000 });
  });
  it('honours Retry-After instead of the backoff step', () => {
    expect(decideRetry({ ...base, attempt: 1, nowMs: 1000, retryAfterMs: 12_000 })).toEqual({ kind: 'retry', at: 13_000, delayMs: 12_000 });
  });
  it('gives up when the next attempt would fall after the horizon', () => {
    const d = decideRetry({ ...base, attempt: 2, nowMs: 31_000 });
    expect(d.kind).toBe('give-up');
  });
  it('gives up when Retry-After points past the horizon', () => {
    expect(decideRetry({ ...base, attempt: 1, nowMs: 1000, retryAfterMs: 3_600_000 }).kind).toBe('give-up');
  });
});
