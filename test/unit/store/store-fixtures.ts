/** Record builders for the store contract suite. Times are whole ISO strings with ms, as the engine writes them. */
import type { PbxConfig } from '../../../src/config/types.js';
import { defaultMailConfig, defaultMediaSections, defaultSipConfig } from '../../../src/config/index.js';
import type { CallRecord, GroupCallRecord, LegDialogRecord, LegRecord, OutboxEvent, Registration, UserCallRecord } from '../../../src/store/index.js';

/** ISO time `minutes` after 2026-01-01T00:00:00.000Z. */
export function at(minutes: number): string {
  return new Date(Date.UTC(2026, 0, 1) + minutes * 60_000).toISOString();
}

/** A compat-looking unique_call_id: digits, ordered by n. */
export function callId(n: number): string {
  return `17000000${String(n).padStart(6, '0')}`;
}

export function registration(username: string, contact: string, expiresAt: number, over: Partial<Registration> = {}): Registration {
  return {
    username, contact, transport: 'udp', source_address: '127.0.0.1', source_port: 5062, call_id: `cid-${username}`,
    cseq: 1, expires_at: expiresAt, user_agent: 'test-phone', instance_id: null, updated_at: 1000, ...over,
  };
}

export function call(id: string, start: string, over: Partial<CallRecord> = {}): CallRecord {
  return {
    unique_call_id: id, direction: 'inbound', caller_id: '61400000000', caller_name: 'Caller', dest_number: '61390000000',
    user_name: null, user_number: null, call_start_at: start, connected_at: null, ended_at: null, call_duration: null,
    conversation_duration: null, status: 'ringing', hangup_cause: null, queue_name: null, ring_group_name: null,
    config_version: 1, ...over,
  };
}

export function leg(legId: string, id: string, start: string, over: Partial<LegRecord> = {}): LegRecord {
  return {
    leg_id: legId, unique_call_id: id, kind: 'caller', user_number: null, device: null, remote: '127.0.0.1:5090',
    started_at: start, answered_at: null, ended_at: null, final_status: null, ended_by: null, ...over,
  };
}

export function userCall(id: string, user: string, start: string, over: Partial<UserCallRecord> = {}): UserCallRecord {
  return {
    unique_call_id: id, type: 'user_inbound_answered', caller_id: '61400000000', caller_name: 'Caller',
    dest_number: '61390000000', user_name: `User ${user}`, user_number: user, call_start_at: start,
    connected_at: start, call_duration: 30, conversation_duration: 20, ...over,
  };
}

export function groupCall(id: string, group: string, start: string, over: Partial<GroupCallRecord> = {}): GroupCallRecord {
  return {
    unique_call_id: id, group_name: group, caller_id: '61400000000', caller_name: 'Caller', dest_number: '61390000001',
    user_name: 'Alice Smith', user_number: '1001', call_start_at: start, connected_at: null, call_duration: 40,
    conversation_duration: 0, status: 'abandoned', ...over,
  };
}

/** A saved dialog of leg `legId` of call `id`. */
export function dialog(id: string, legId: string, over: Partial<LegDialogRecord> = {}): LegDialogRecord {
  return {
    leg_id: legId, unique_call_id: id, role: 'uac', call_id: `cid-${legId}@10.0.0.1`, local_header: '<sip:1001@pbx.test>;tag=ours',
    remote_header: '<sip:+61400@trunk.test>;tag=theirs', local_cseq: 1, remote_target: 'sip:+61400@127.0.0.1:5090',
    route_set: ['<sip:proxy.test;lr>', '<sip:edge.test;lr>'], destination: 'sip:127.0.0.1:5090;transport=udp', ...over,
  };
}

let eventCounter = 0;
export function event(id: string | null, sequence: number, over: Partial<OutboxEvent> = {}): OutboxEvent {
  const event_id = `evt_${String(++eventCounter).padStart(8, '0')}_${Math.random().toString(36).slice(2, 8)}`;
  const occurred_at = at(sequence);
  return {
    event_id, unique_call_id: id, type: 'user_inbound', sequence, occurred_at, endpoint: { kind: 'global' },
    payload: { type: 'user_inbound', unique_call_id: id, caller_id: '61400000000', nested: { a: [1, 2] }, event_id, occurred_at, sequence },
    ...over,
  };
}

export function pbxConfig(name: string): PbxConfig {
  return {
    pbx: { name, time_zone: 'Australia/Melbourne', domain: 'pbx.test', max_call_duration_s: 14400, node_id: 0, drain_timeout_s: 30, session_timers: { enabled: true, interval_s: 1800, min_se_s: 90 } }, sip: defaultSipConfig(), mail: defaultMailConfig(), users: [], numbers: [], flows: [], queues: [],
    ring_groups: [], trunks: [],
    webhook: { url: 'http://127.0.0.1:9000/webhook', secret_token: 'demo-token', events: [], enabled: false, signing_secret: null },
    api: { api_key: 'k', whitelisted_ips: ['127.0.0.1/8'], trusted_proxies: [], rate_limit_per_min: 600, admin_key: null, auth_failures_per_min: 20 },
    delivery: { timeout_ms: 5000, retry_schedule_s: [5, 30], horizon_s: 86400, outbox_warn_at: 10000, concurrency: 4, per_endpoint_concurrency: 8, refuse_private_targets: false },
    retention: { calls_days: 0, events_days: 0, deliveries_days: 0 }, ...defaultMediaSections(),
  };
}
