/**
 * The webhook delivery log and its controls, as plain functions the admin API mounts (SPEC.md §5): list deliveries
 * per endpoint, list attempts, redeliver one or a range, send a test event, see and re-enable endpoints, stats.
 * Expected failures (a bad parameter, an unknown id) are `{ ok: false, error }` values whose message names the
 * parameter, ready for the API's 400/404 envelope.
 */

import { systemClock, type Clock } from '../common/index.js';
import type { PbxConfig } from '../config/index.js';
import type { Delivery, DeliveryAttempt, DeliveryStatus, Store } from '../store/index.js';
import type { DeliveryStats } from './delivery-stats.js';
import type { Dispatcher, SendTestResult } from './dispatcher.js';
import { validateEndpoint } from './endpoint.js';
import { signingSecretFor } from './signature.js';

/** Deliveries returned by one list call, at most. */
export const MAX_LIST_LIMIT = 1000;
/** Deliveries one range redelivery may touch, at most. */
export const MAX_REDELIVER = 10_000;
/** Rows scanned to apply a time filter the store cannot apply itself. */
const MAX_SCAN = 200_000;
const SCAN_PAGE = 1000;
const STATUSES: readonly DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'disabled'];

/** A filter over the delivery log. Times are epoch ms on `created_at`, inclusive. */
export interface DeliveryFilter {
  endpoint_url?: string;
  status?: string;
  unique_call_id?: string;
  from_ms?: number;
  to_ms?: number;
}

/** One page of the delivery log. */
export interface DeliveryPage {
  deliveries: Delivery[];
  offset: number;
  limit: number;
}

/** A configured endpoint and its state. */
export interface EndpointView {
  kind: 'global' | 'component';
  /** The component's name (webhook objects) or null (global). */
  name: string | null;
  url: string;
  enabled: boolean;
  disabled_by_410: boolean;
  /** The `whsec_…` secret receivers verify `webhook-signature` with (configured or derived from the token). */
  signing_secret: string | null;
  events: string[] | null;
}

/** What {@link createWebhookAdmin} needs. */
export interface WebhookAdminDeps {
  store: Store;
  dispatcher: Dispatcher;
  getConfig: () => PbxConfig;
  /** The live configuration's version: a manual redelivery to the global webhook is made under it. */
  getConfigVersion?: () => number;
  clock?: Clock;
}

/** Result values: `code` lets the API choose 400 or 404. */
export type AdminResult<T> = { ok: true; value: T } | { ok: false; code: 'bad_request' | 'not_found'; error: string };

/** The functions the admin API mounts. */
export interface WebhookAdmin {
  listDeliveries(filter: DeliveryFilter & { offset?: number; limit?: number }): Promise<AdminResult<DeliveryPage>>;
  getDelivery(deliveryId: string): Promise<AdminResult<{ delivery: Delivery; attempts: DeliveryAttempt[] }>>;
  listAttempts(deliveryId: string): Promise<AdminResult<DeliveryAttempt[]>>;
  /**
   * Redelivers the given ids, or every delivery matching a filter (an `endpoint_url` is required then). A manual
   * redelivery is a new send made now, so a global delivery goes to the webhook URL, token and signing secret live
   * now (a rotated token is never undone by redelivering old events); automatic retries keep the settings the
   * delivery was created under. Webhook-object deliveries keep the URL, token and headers that travelled with the
   * event (the object may have been removed or renamed since).
   */
  redeliver(sel: { delivery_ids: string[] } | (DeliveryFilter & { endpoint_url: string; limit?: number })): Promise<AdminResult<{ count: number; delivery_ids: string[] }>>;
  sendTest(type: string, opts?: { componentName?: string }): Promise<SendTestResult>;
  listEndpoints(): Promise<EndpointView[]>;
  enableEndpoint(url: string): Promise<AdminResult<{ url: string }>>;
  stats(): DeliveryStats;
}

const bad = (error: string): { ok: false; code: 'bad_request'; error: string } => ({ ok: false, code: 'bad_request', error });

function checkFilter(f: DeliveryFilter): string | null {
  if (f.status !== undefined && !STATUSES.includes(f.status as DeliveryStatus)) return `status must be one of ${STATUSES.join(', ')}`;
  for (const k of ['from_ms', 'to_ms'] as const) {
    const v = f[k];
    if (v !== undefined && !Number.isFinite(v)) return `${k} must be epoch milliseconds`;
  }
  if (f.from_ms !== undefined && f.to_ms !== undefined && f.from_ms > f.to_ms) return 'from_ms must not be after to_ms';
  return null;
}

/** Creates the admin functions. */
export function createWebhookAdmin(deps: WebhookAdminDeps): WebhookAdmin {
  const { store, dispatcher, getConfig } = deps;
  const clock = deps.clock ?? systemClock;

  /** Matching deliveries from `offset`, at most `limit`; a time filter is applied while paging through the store. */
  async function find(f: DeliveryFilter, offset: number, limit: number): Promise<Delivery[]> {
    const base = {
      ...(f.endpoint_url ? { endpoint_url: f.endpoint_url } : {}),
      ...(f.status ? { status: f.status as DeliveryStatus } : {}),
      ...(f.unique_call_id ? { unique_call_id: f.unique_call_id } : {}),
    };
    if (f.from_ms === undefined && f.to_ms === undefined) return store.listDeliveries({ ...base, offset, limit });
    const out: Delivery[] = [];
    let skipped = 0;
    for (let scanned = 0; scanned < MAX_SCAN && out.length < limit; scanned += SCAN_PAGE) {
      const page = await store.listDeliveries({ ...base, offset: scanned, limit: SCAN_PAGE });
      for (const d of page) {
        if ((f.from_ms !== undefined && d.created_at < f.from_ms) || (f.to_ms !== undefined && d.created_at > f.to_ms)) continue;
        if (skipped < offset) skipped++;
        else if (out.length < limit) out.push(d);
      }
      if (page.length < SCAN_PAGE) break;
    }
    return out;
  }

  /** Splits deliveries by where their event goes (an event missing from the outbox counts as global). */
  async function byEndpointKind(list: Delivery[]): Promise<{ global: string[]; component: string[] }> {
    const global: string[] = [];
    const component: string[] = [];
    const kinds = new Map<string, 'global' | 'component'>();
    for (const d of list) {
      let kind = kinds.get(d.event_id);
      if (!kind) {
        kind = (await store.getEvent(d.event_id))?.endpoint.kind === 'component' ? 'component' : 'global';
        kinds.set(d.event_id, kind);
      }
      (kind === 'component' ? component : global).push(d.delivery_id);
    }
    return { global, component };
  }

  /** The live global webhook's URL and version, or null when it has no valid URL (the deliveries then keep theirs). */
  function liveGlobalTarget(): { endpoint_url: string; config_version: number | null } | null {
    const w = getConfig().webhook;
    if (!w.url || !validateEndpoint(w.url, w.secret_token).ok) return null;
    return { endpoint_url: w.url, config_version: deps.getConfigVersion?.() ?? null };
  }

  return {
    async listDeliveries(q) {
      const offset = q.offset ?? 0;
      const limit = q.limit ?? 100;
      if (!Number.isInteger(offset) || offset < 0) return bad('offset must be an integer >= 0');
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) return bad(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
      const err = checkFilter(q);
      if (err) return bad(err);
      return { ok: true, value: { deliveries: await find(q, offset, limit), offset, limit } };
    },

    async getDelivery(id) {
      const delivery = await store.getDelivery(id);
      if (!delivery) return { ok: false, code: 'not_found', error: `delivery ${id} not found` };
      return { ok: true, value: { delivery, attempts: await store.listAttempts(id) } };
    },

    async listAttempts(id) {
      if (!(await store.getDelivery(id))) return { ok: false, code: 'not_found', error: `delivery ${id} not found` };
      return { ok: true, value: await store.listAttempts(id) };
    },

    async redeliver(sel) {
      let ids: string[];
      let deliveries: Delivery[];
      if ('delivery_ids' in sel) {
        if (!Array.isArray(sel.delivery_ids) || sel.delivery_ids.length === 0) return bad('delivery_ids must be a non-empty array');
        if (sel.delivery_ids.length > MAX_REDELIVER) return bad(`delivery_ids may hold at most ${MAX_REDELIVER} ids`);
        const missing: string[] = [];
        for (const id of sel.delivery_ids) if (!(await store.getDelivery(id))) missing.push(id);
        if (missing.length) return { ok: false, code: 'not_found', error: `deliveries not found: ${missing.slice(0, 10).join(', ')}` };
        ids = [...new Set(sel.delivery_ids)];
        deliveries = [];
        for (const id of ids) deliveries.push((await store.getDelivery(id))!);
      } else {
        if (!sel.endpoint_url) return bad('endpoint_url is required to redeliver a range');
        const err = checkFilter(sel);
        if (err) return bad(err);
        const limit = sel.limit ?? MAX_REDELIVER;
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REDELIVER) return bad(`limit must be an integer from 1 to ${MAX_REDELIVER}`);
        deliveries = await find(sel, 0, limit);
        ids = deliveries.map((d) => d.delivery_id);
      }
      const { global, component } = await byEndpointKind(deliveries);
      const live = liveGlobalTarget();
      let count = 0;
      if (global.length) count += await store.redeliver(global, clock.now(), live ?? undefined);
      if (component.length) count += await store.redeliver(component, clock.now());
      dispatcher.wake();
      return { ok: true, value: { count, delivery_ids: ids } };
    },

    sendTest: (type, opts) => dispatcher.sendTest(type, opts),

    async listEndpoints() {
      const cfg = getConfig();
      const w = cfg.webhook;
      const out: EndpointView[] = [];
      if (w.url) {
        out.push({
          kind: 'global', name: null, url: w.url, enabled: w.enabled, disabled_by_410: await store.isEndpointDisabled(w.url),
          signing_secret: w.secret_token || w.signing_secret ? signingSecretFor(w) : null, events: [...w.events],
        });
      }
      for (const node of cfg.flows.flatMap((f) => f.nodes)) {
        if (node.type !== 'webhook') continue;
        out.push({
          kind: 'component', name: node.component_name, url: node.url, enabled: true, disabled_by_410: await store.isEndpointDisabled(node.url),
          signing_secret: node.secret_token ? signingSecretFor(node) : null, events: null,
        });
      }
      return out;
    },

    async enableEndpoint(url) {
      if (typeof url !== 'string' || url === '') return bad('url is required');
      await dispatcher.enableEndpoint(url);
      return { ok: true, value: { url } };
    },

    stats: () => dispatcher.stats(),
  };
}
