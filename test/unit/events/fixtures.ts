/** Shared helpers for the events tests: a minimal live config, a log capture, and outbox events. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../src/common/log.js';
import type { PbxConfig, WebhookEventType } from '../../../src/config/types.js';
import { WEBHOOK_EVENT_TYPES } from '../../../src/config/types.js';
import { defaultMailConfig, defaultMediaSections, defaultSipConfig } from '../../../src/config/index.js';
import { toOutboxEvent } from '../../../src/events/event-types.js';
import { sampleFields } from '../../../src/events/sample-events.js';
import type { EndpointRef, OutboxEvent } from '../../../src/store/store.js';

/** A config with only what the dispatcher reads; `webhook` and `delivery` overridable. */
export function testConfig(o: { webhook?: Partial<PbxConfig['webhook']>; delivery?: Partial<PbxConfig['delivery']>; flows?: PbxConfig['flows'] } = {}): PbxConfig {
  return {
    pbx: { name: 'test', time_zone: 'UTC', domain: 'test.invalid', max_call_duration_s: 14400, node_id: 0, drain_timeout_s: 30, session_timers: { enabled: true, interval_s: 1800, min_se_s: 90 } }, sip: defaultSipConfig(), mail: defaultMailConfig(),
    users: [], numbers: [], queues: [], ring_groups: [], trunks: [],
    flows: o.flows ?? [],
    api: { api_key: 'k', whitelisted_ips: [], trusted_proxies: [], rate_limit_per_min: 60, admin_key: null, auth_failures_per_min: 20 },
    webhook: {
      url: 'http://127.0.0.1:9/hook', secret_token: 'tok', events: [...WEBHOOK_EVENT_TYPES] as WebhookEventType[],
      enabled: true, signing_secret: null, ...o.webhook,
    },
    delivery: { timeout_ms: 1000, retry_schedule_s: [5, 30], horizon_s: 3600, outbox_warn_at: 1000, concurrency: 4, per_endpoint_concurrency: 8, refuse_private_targets: false, ...o.delivery },
    retention: { calls_days: 0, events_days: 0, deliveries_days: 0 }, ...defaultMediaSections(),
  };
}

/** A logger whose JSON lines land in `lines`. */
export function captureLog(level = 'debug'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level, destination }), lines };
}

/** A `user_inbound` event (or `type`) of call `callId` with `sequence`. */
export function callEvent(callId: string | null, sequence: number, opts: { type?: 'user_inbound' | 'user_inbound_answered' | 'user_inbound_completed' | 'webhook_component_event'; endpoint?: EndpointRef; at?: number } = {}): OutboxEvent {
  const type = opts.type ?? 'user_inbound';
  const fields = sampleFields(opts.at ?? Date.parse('2026-11-28T15:00:00.000Z'));
  return toOutboxEvent(type, fields[type] as never, {
    unique_call_id: callId ?? '0', sequence, occurred_at: new Date(opts.at ?? Date.parse('2026-11-28T15:00:00.000Z')).toISOString(),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  });
}
