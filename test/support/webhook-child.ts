/**
 * A Switchboard webhook delivery process for the crash test: opens the SQLite store file, builds a dispatcher
 * pointed at a receiver, and keeps delivering until killed. Run with `node --import tsx test/support/webhook-child.ts`.
 *
 *   argv: <db file> <receiver url> [lease ms = 1000]
 *   stdout: "ready" once the dispatcher has started.
 */
import { createLogger } from '../../src/common/log.js';
import { WEBHOOK_EVENT_TYPES, type PbxConfig, type WebhookEventType } from '../../src/config/types.js';
import { defaultMailConfig, defaultMediaSections, defaultSipConfig } from '../../src/config/index.js';
import { createDispatcher } from '../../src/events/index.js';
import { createSqliteStore } from '../../src/store/index.js';

const [file, url, leaseArg] = process.argv.slice(2);
if (!file || !url) {
  process.stderr.write('usage: webhook-child.ts <db file> <receiver url> [lease ms]\n');
  process.exit(2);
}

const config = {
  pbx: { name: 'crash-test', time_zone: 'UTC', domain: 'test.invalid', max_call_duration_s: 14400, node_id: 0, drain_timeout_s: 30, session_timers: { enabled: true, interval_s: 1800, min_se_s: 90 } }, sip: defaultSipConfig(), mail: defaultMailConfig(),
  users: [], numbers: [], flows: [], queues: [], ring_groups: [], trunks: [],
  api: { api_key: 'k', whitelisted_ips: [], trusted_proxies: [], rate_limit_per_min: 60, admin_key: null, auth_failures_per_min: 20 },
  webhook: { url, secret_token: 'crash-token', events: [...WEBHOOK_EVENT_TYPES] as WebhookEventType[], enabled: true, signing_secret: null },
  delivery: { timeout_ms: 2000, retry_schedule_s: [0.05], horizon_s: 600, outbox_warn_at: 1_000_000, concurrency: 16, per_endpoint_concurrency: 8, refuse_private_targets: false },
  retention: { calls_days: 0, events_days: 0, deliveries_days: 0 }, ...defaultMediaSections(),
} satisfies PbxConfig;

const log = createLogger({ level: 'warn', pretty: false, destination: process.stderr as never });
const store = await createSqliteStore({ file, log });
const dispatcher = createDispatcher({ store, getConfig: () => config, log, version: 'crash-test', pollIntervalMs: 50, leaseMs: Number(leaseArg ?? 1000) });
dispatcher.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => { void dispatcher.stop().then(() => store.close()).then(() => process.exit(0)); });
