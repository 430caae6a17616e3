import { describe, expect, it } from 'vitest';
import { commaList, createDayBounds, toHistoryQuery } from '../../../src/api/integration-v2/history-query.js';
import { ApiError } from '../../../src/api/errors.js';

describe('toHistoryQuery', () => {
  it('turns local days into an inclusive UTC range (Melbourne, AEDT = UTC+11)', () => {
    expect(toHistoryQuery({ from_date: '2026-11-15', to_date: '2026-11-16' }, undefined, 'Australia/Melbourne')).toEqual({
      from: '2026-11-14T13:00:00.000Z', to: '2026-11-16T12:59:59.999Z', sort: 'newest_first', offset: 0, limit: 100,
    });
  });

  it('handles both daylight-saving changes (23- and 25-hour days)', () => {
    const start = toHistoryQuery({ from_date: '2026-10-04', to_date: '2026-10-04' }, undefined, 'Australia/Melbourne');
    expect([start.from, start.to]).toEqual(['2026-10-03T14:00:00.000Z', '2026-10-04T12:59:59.999Z']);
    const end = toHistoryQuery({ from_date: '2026-04-05', to_date: '2026-04-05' }, undefined, 'Australia/Melbourne');
    expect([end.from, end.to]).toEqual(['2026-04-04T13:00:00.000Z', '2026-04-05T13:59:59.999Z']);
  });

  it('passes sort, offset, limit, unique_call_id and the names list through', () => {
    expect(toHistoryQuery({ sort_by: 'oldest_first', offset: 50, limit: 30, unique_call_id: '123' }, ' Support , ,Sales Team', 'UTC')).toEqual({
      from: null, to: null, sort: 'oldest_first', offset: 50, limit: 30, unique_call_id: '123', names: ['Support', 'Sales Team'],
    });
  });

  it('refuses from_date after to_date and impossible dates, naming the parameter', () => {
    expect(() => toHistoryQuery({ from_date: '2026-11-16', to_date: '2026-11-15' }, undefined, 'UTC')).toThrow(/'from_date'/);
    expect(() => toHistoryQuery({ to_date: '2026-02-29' }, undefined, 'UTC')).toThrow(ApiError);
    expect(() => toHistoryQuery({ to_date: '2026-02-29' }, undefined, 'UTC')).toThrow(/'to_date'/);
  });

  it('treats a bad configured time zone as a bug (TypeError), not a client error', () => {
    expect(() => toHistoryQuery({ from_date: '2026-11-15' }, undefined, 'Mars/Olympus')).toThrow(TypeError);
  });

  it('memoizes day bounds per zone', () => {
    const bounds = createDayBounds();
    const a = bounds('from_date', '2026-11-15', 'Australia/Melbourne');
    expect(bounds('from_date', '2026-11-15', 'Australia/Melbourne')).toBe(a);
    expect(bounds('from_date', '2026-11-15', 'UTC')).toEqual({ start: '2026-11-15T00:00:00.000Z', end: '2026-11-15T23:59:59.999Z' });
  });
});

describe('commaList', () => {
  it('splits, trims and drops blanks', () => {
    expect(commaList('1001, 1002,,')).toEqual(['1001', '1002']);
    expect(commaList(' , ')).toBeUndefined();
    expect(commaList(undefined)).toBeUndefined();
  });
});
