/**
 * `get-user-calls`, `get-queue-calls`, `get-ringgroup-calls` (SPEC.md §4, compat): rows exactly as the hosted
 * PBX family returns them, numbers as digits without '+'.
 */
import type { FastifyInstance } from 'fastify';
import type { GroupCallRecord, HistoryQuery, UserCallRecord } from '../../store/index.js';
import type { ApiDeps } from '../deps.js';
import { ok } from '../errors.js';
import { envelope, nullable, responses, type JsonSchema } from '../schemas.js';
import { createDayBounds, historyQuerySchema, toHistoryQuery, type DayBounds, type HistoryParams } from './history-query.js';

/** Numbers in compat output are digits without '+'. */
export function digits(v: string | null): string | null {
  return v === null || v === undefined ? null : v.replace(/^\+/, '');
}

/** A get-user-calls row (compat field order). */
export function userRow(r: UserCallRecord): Record<string, unknown> {
  return {
    unique_call_id: r.unique_call_id,
    type: r.type,
    caller_id: digits(r.caller_id),
    caller_name: r.caller_name,
    dest_number: digits(r.dest_number),
    user_name: r.user_name,
    user_number: digits(r.user_number),
    call_start_at: r.call_start_at,
    connected_at: r.connected_at,
    call_duration: r.call_duration,
    conversation_duration: r.conversation_duration,
  };
}

/** A get-queue-calls / get-ringgroup-calls row; `nameField` is `queue_name` or `ring_group_name`. */
export function groupRow(r: GroupCallRecord, nameField: 'queue_name' | 'ring_group_name'): Record<string, unknown> {
  const callerId = digits(r.caller_id);
  return {
    unique_call_id: r.unique_call_id,
    [nameField]: r.group_name,
    caller_id: callerId,
    callerid: callerId,
    caller_name: r.caller_name,
    dest_number: digits(r.dest_number),
    user_name: r.user_name,
    user_number: digits(r.user_number),
    call_start_at: r.call_start_at,
    connected_at: r.connected_at,
    call_duration: r.call_duration,
    conversation_duration: r.conversation_duration,
    status: r.status,
  };
}

const common: Record<string, JsonSchema> = {
  unique_call_id: { type: 'string', description: 'Decimal digits, time-ordered; the same in every event of the call.' },
  caller_id: nullable('string', { description: 'Digits, no +.' }),
  caller_name: nullable('string'),
  dest_number: nullable('string', { description: 'Digits, no +.' }),
  call_start_at: { type: 'string', format: 'date-time', description: 'ISO 8601 UTC with ms.' },
  connected_at: nullable('string', { format: 'date-time' }),
  call_duration: nullable('integer', { description: 'Ringing + talk, seconds.' }),
  conversation_duration: nullable('integer', { description: 'Talk only, seconds.' }),
};

const USER_ROW: JsonSchema = {
  type: 'object',
  properties: {
    unique_call_id: common.unique_call_id,
    type: { type: 'string', enum: ['user_inbound_answered', 'user_inbound_missed', 'user_outbound_answered', 'user_outbound_missed'] },
    caller_id: common.caller_id,
    caller_name: common.caller_name,
    dest_number: common.dest_number,
    user_name: { type: 'string' },
    user_number: { type: 'string' },
    call_start_at: common.call_start_at,
    connected_at: common.connected_at,
    call_duration: common.call_duration,
    conversation_duration: common.conversation_duration,
  },
};

function groupRowSchema(nameField: string): JsonSchema {
  return {
    type: 'object',
    properties: {
      unique_call_id: common.unique_call_id,
      [nameField]: { type: 'string' },
      caller_id: common.caller_id,
      callerid: { ...common.caller_id, description: 'Same value as caller_id (compat).' },
      caller_name: common.caller_name,
      dest_number: common.dest_number,
      user_name: nullable('string', { description: 'The agent or member who answered; null when nobody did.' }),
      user_number: nullable('string'),
      call_start_at: common.call_start_at,
      connected_at: common.connected_at,
      call_duration: common.call_duration,
      conversation_duration: common.conversation_duration,
      status: { type: 'string', enum: ['answered', 'abandoned'] },
    },
  };
}

interface HistoryRoute<R> {
  path: string;
  summary: string;
  namesParam: 'users_numbers' | 'queues_names' | 'ringgroups_names';
  namesDoc: string;
  row: JsonSchema;
  message: string;
  query(q: HistoryQuery): Promise<R[]>;
  map(r: R): Record<string, unknown>;
}

function register<R>(app: FastifyInstance, deps: ApiDeps, bounds: DayBounds, route: HistoryRoute<R>): void {
  app.get<{ Querystring: HistoryParams }>(route.path, {
    schema: {
      tags: ['integration-v2'],
      summary: route.summary,
      security: [{ token: [] }],
      querystring: historyQuerySchema(route.namesParam, route.namesDoc),
      response: responses(envelope({ type: 'array', items: route.row }), [400]),
    },
  }, async (request) => {
    const q = toHistoryQuery(request.query, request.query[route.namesParam], deps.getConfig().pbx.time_zone, bounds);
    const rows = await route.query(q);
    return ok(rows.map(route.map), route.message);
  });
}

/** Registers the three history routes under the current prefix. */
export function registerHistoryRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const bounds = createDayBounds();
  register<UserCallRecord>(app, deps, bounds, {
    path: '/get-user-calls',
    summary: 'Calls per user (one row per user touched by a call)',
    namesParam: 'users_numbers',
    namesDoc: 'Comma list of user numbers (extensions).',
    row: USER_ROW,
    message: 'User calls',
    query: (q) => deps.store.queryUserCalls(q),
    map: userRow,
  });
  register<GroupCallRecord>(app, deps, bounds, {
    path: '/get-queue-calls',
    summary: 'Calls delivered via queues',
    namesParam: 'queues_names',
    namesDoc: 'Comma list of queue names.',
    row: groupRowSchema('queue_name'),
    message: 'Queue calls',
    query: (q) => deps.store.queryQueueCalls(q),
    map: (r) => groupRow(r, 'queue_name'),
  });
  register<GroupCallRecord>(app, deps, bounds, {
    path: '/get-ringgroup-calls',
    summary: 'Calls delivered via ring groups',
    namesParam: 'ringgroups_names',
    namesDoc: 'Comma list of ring group names.',
    row: groupRowSchema('ring_group_name'),
    message: 'Ring group calls',
    query: (q) => deps.store.queryRingGroupCalls(q),
    map: (r) => groupRow(r, 'ring_group_name'),
  });
}
