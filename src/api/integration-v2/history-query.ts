/**
 * The call-history query parameters of SPEC.md §4, turned into a store {@link HistoryQuery}: dates are whole days
 * in the PBX time zone (luxon), converted to an inclusive UTC range.
 */
import { DateTime } from 'luxon';
import { MAX_HISTORY_OFFSET, type HistoryQuery } from '../../store/index.js';
import { badParameter } from '../errors.js';
import { DATE_PATTERN, type JsonSchema } from '../schemas.js';

/** Upper bound of `limit` (compat). */
export const MAX_LIMIT = 10_000;

/** Query parameters shared by the three history routes (unknown parameters are ignored: compat). */
export interface HistoryParams {
  from_date?: string;
  to_date?: string;
  sort_by?: 'newest_first' | 'oldest_first';
  offset?: number;
  limit?: number;
  unique_call_id?: string;
  users_numbers?: string;
  queues_names?: string;
  ringgroups_names?: string;
}

/** Querystring schema of a history route; `namesParam` is its comma-list filter. */
export function historyQuerySchema(namesParam: 'users_numbers' | 'queues_names' | 'ringgroups_names', namesDoc: string): JsonSchema {
  return {
    type: 'object',
    properties: {
      from_date: { type: 'string', pattern: DATE_PATTERN, description: 'First day (YYYY-MM-DD, PBX time zone), inclusive.' },
      to_date: { type: 'string', pattern: DATE_PATTERN, description: 'Last day (YYYY-MM-DD, PBX time zone), inclusive.' },
      sort_by: { type: 'string', enum: ['newest_first', 'oldest_first'], default: 'newest_first' },
      offset: { type: 'integer', minimum: 0, maximum: MAX_HISTORY_OFFSET, default: 0, description: `Rows to skip (0–${MAX_HISTORY_OFFSET}; narrow the dates to go deeper).` },
      limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100, description: 'Rows to return (1–10000).' },
      unique_call_id: { type: 'string', maxLength: 64, description: 'Only rows of this call.' },
      [namesParam]: { type: 'string', maxLength: 4096, description: namesDoc },
    },
  };
}

/** Parses one YYYY-MM-DD day in `zone`; the schema has already checked the shape. */
function day(name: string, value: string, zone: string): DateTime {
  const d = DateTime.fromISO(value, { zone });
  if (d.isValid) return d;
  // A validated configuration always has a valid zone; anything else is a bug, not the client's fault.
  if (d.invalidReason === 'unsupported zone') throw new TypeError(`pbx.time_zone '${zone}' is not an IANA time zone`);
  throw badParameter(name, `'${value}' is not a valid date`);
}

/** First and last millisecond of a local day, as UTC ISO strings. */
export type DayBounds = (name: string, value: string, zone: string) => { start: string; end: string };

/** Most days a {@link DayBounds} cache remembers before it starts over. */
const DAY_CACHE_MAX = 4096;

/**
 * Day bounds with a small memo: the conversion is pure (zone rules are fixed for the process's lifetime), and
 * integrations ask for the same few days over and over; luxon's zone arithmetic is the costliest step of a request.
 */
export function createDayBounds(): DayBounds {
  const cache = new Map<string, { start: string; end: string }>();
  return (name, value, zone) => {
    const key = `${zone}|${value}`;
    let hit = cache.get(key);
    if (!hit) {
      const d = day(name, value, zone);
      hit = { start: d.startOf('day').toUTC().toISO()!, end: d.endOf('day').toUTC().toISO()! };
      if (cache.size >= DAY_CACHE_MAX) cache.clear();
      cache.set(key, hit);
    }
    return hit;
  };
}

/** Splits a comma list, dropping blanks; undefined when nothing is left. */
export function commaList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items.length > 0 ? items : undefined;
}

/**
 * Builds the store query. `from_date` → start of that day in `timeZone`, `to_date` → end of that day (last
 * millisecond), both as UTC ISO strings; `from_date` after `to_date` → 400 naming `from_date`. Pass one `bounds`
 * per app so its memo is shared across requests.
 */
export function toHistoryQuery(p: HistoryParams, names: string | undefined, timeZone: string, bounds: DayBounds = createDayBounds()): HistoryQuery {
  const from = p.from_date === undefined ? null : bounds('from_date', p.from_date, timeZone).start;
  const to = p.to_date === undefined ? null : bounds('to_date', p.to_date, timeZone).end;
  // Same format on both sides (UTC, ms, 'Z'), so the strings order as the instants do.
  if (from !== null && to !== null && from > to) throw badParameter('from_date', `${p.from_date} is after to_date ${p.to_date}`);
  const q: HistoryQuery = {
    from,
    to,
    sort: p.sort_by ?? 'newest_first',
    offset: p.offset ?? 0,
    limit: p.limit ?? 100,
  };
  if (p.unique_call_id !== undefined) q.unique_call_id = p.unique_call_id;
  const list = commaList(names);
  if (list) q.names = list;
  return q;
}
