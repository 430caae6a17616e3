/**
 * The webhook delivery log and redelivery (SPEC.md §3, §5), mounted from the events module's admin functions;
 * where those are absent the store answers listing and redelivery directly.
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../common/clock.js';
import type { Delivery, DeliveryStatus, Store } from '../../store/store.js';
import type { DeliveryListQuery, RedeliverRange, WebhooksAdmin } from '../deps.js';
import { ApiError, badParameter, ok } from '../errors.js';
import { envelope, nullable, responses, type JsonSchema } from '../schemas.js';

const tags = ['admin: webhooks'];
const security = [{ token: [] }];
const STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'disabled'];
/** Most deliveries one range redelivery may touch. */
const MAX_RANGE = 100_000;
const PAGE = 1000;

const DELIVERY: JsonSchema = {
  type: 'object',
  properties: {
    delivery_id: { type: 'string' },
    event_id: { type: 'string' },
    endpoint_url: { type: 'string' },
    unique_call_id: nullable('string'),
    type: { type: 'string' },
    sequence: { type: 'integer' },
    status: { type: 'string', enum: STATUSES },
    attempts: { type: 'integer' },
    next_attempt_at: nullable('integer', { description: 'Epoch ms.' }),
    last_status_code: nullable('integer'),
    last_error: nullable('string'),
    created_at: { type: 'integer', description: 'Epoch ms.' },
    updated_at: { type: 'integer', description: 'Epoch ms.' },
  },
};
const ATTEMPT: JsonSchema = {
  type: 'object',
  properties: {
    attempt: { type: 'integer' }, at: { type: 'integer', description: 'Epoch ms.' }, status_code: nullable('integer'),
    error: nullable('string'), duration_ms: { type: 'integer' },
  },
};
const COUNT = envelope({ type: 'object', properties: { redelivered: { type: 'integer' } } });

/** The admin functions with store fallbacks filled in. */
function withFallbacks(admin: WebhooksAdmin | undefined, store: Store, clock: Clock): Required<Omit<WebhooksAdmin, 'sendTest'>> & Pick<WebhooksAdmin, 'sendTest'> {
  const listDeliveries = admin?.listDeliveries?.bind(admin) ?? ((q: DeliveryListQuery) => store.listDeliveries(q));
  const redeliver = admin?.redeliver?.bind(admin) ?? ((ids: string[]) => store.redeliver(ids, clock.now()));
  return {
    listDeliveries,
    redeliver,
    getDelivery: admin?.getDelivery?.bind(admin) ?? (async (id: string) => {
      const delivery = await store.getDelivery(id);
      return delivery ? { delivery, attempts: await store.listAttempts(id) } : undefined;
    }),
    redeliverRange: admin?.redeliverRange?.bind(admin) ?? (async (range: RedeliverRange) => {
      const ids: string[] = [];
      const status = range.status ?? 'failed';
      for (let offset = 0; ids.length < MAX_RANGE; offset += PAGE) {
        const page: Delivery[] = await store.listDeliveries({ status, offset, limit: PAGE, ...(range.endpoint_url ? { endpoint_url: range.endpoint_url } : {}) });
        for (const d of page) {
          if ((range.since === undefined || d.created_at >= range.since) && (range.until === undefined || d.created_at <= range.until)) ids.push(d.delivery_id);
        }
        if (page.length < PAGE) break;
      }
      return ids.length === 0 ? 0 : redeliver(ids.slice(0, MAX_RANGE));
    }),
    ...(admin?.sendTest ? { sendTest: admin.sendTest.bind(admin) } : {}),
  };
}

function epochMs(name: string, iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw badParameter(name, `'${iso}' is not an ISO 8601 date-time`);
  return ms;
}

/** Registers the delivery log, redelivery and test-send routes. */
export function registerWebhookRoutes(app: FastifyInstance, deps: { webhooksAdmin?: WebhooksAdmin; store: Store; clock: Clock }): void {
  const admin = withFallbacks(deps.webhooksAdmin, deps.store, deps.clock);

  app.get('/webhooks/deliveries', {
    schema: {
      tags, security, summary: 'The delivery log, newest first',
      querystring: {
        type: 'object',
        properties: {
          endpoint: { type: 'string', description: 'Only deliveries to this URL.' },
          status: { type: 'string', enum: STATUSES },
          unique_call_id: { type: 'string' },
          offset: { type: 'integer', minimum: 0, default: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
      response: responses(envelope({ type: 'array', items: DELIVERY }), [400]),
    },
  }, async (req) => {
    const q = req.query as { endpoint?: string; status?: DeliveryStatus; unique_call_id?: string; offset: number; limit: number };
    return ok(await admin.listDeliveries({
      offset: q.offset, limit: q.limit,
      ...(q.endpoint ? { endpoint_url: q.endpoint } : {}), ...(q.status ? { status: q.status } : {}),
      ...(q.unique_call_id ? { unique_call_id: q.unique_call_id } : {}),
    }));
  });

  const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } };
  app.get('/webhooks/deliveries/:id', {
    schema: {
      tags, security, summary: 'One delivery with its attempts', params: idParam,
      response: responses(envelope({ type: 'object', properties: { delivery: DELIVERY, attempts: { type: 'array', items: ATTEMPT } } }), [404]),
    },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const found = await admin.getDelivery(id);
    if (!found) throw new ApiError(404, `Delivery '${id}' not found`);
    return ok(found);
  });

  app.post('/webhooks/deliveries/:id/redeliver', {
    schema: { tags, security, summary: 'Send one delivery again (due now)', params: idParam, response: responses(COUNT, [404]) },
  }, async (req) => {
    const { id } = req.params as { id: string };
    if (!(await admin.getDelivery(id))) throw new ApiError(404, `Delivery '${id}' not found`);
    return ok({ redelivered: await admin.redeliver([id]) }, 'Delivery queued again');
  });

  app.post('/webhooks/redeliver', {
    schema: {
      tags, security, summary: 'Send again every delivery in a range (default: failed ones)',
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          since: { type: 'string', description: 'ISO 8601; deliveries created at or after.' },
          until: { type: 'string', description: 'ISO 8601; deliveries created at or before.' },
          endpoint: { type: 'string' },
          status: { type: 'string', enum: ['failed', 'disabled', 'succeeded'], default: 'failed' },
        },
      },
      response: responses(COUNT, [400]),
    },
  }, async (req) => {
    const b = (req.body ?? {}) as { since?: string; until?: string; endpoint?: string; status?: DeliveryStatus };
    const since = epochMs('since', b.since);
    const until = epochMs('until', b.until);
    if (since !== undefined && until !== undefined && since > until) throw badParameter('since', 'is after until');
    const range: RedeliverRange = {
      ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
      ...(b.endpoint ? { endpoint_url: b.endpoint } : {}), status: b.status ?? 'failed',
    };
    return ok({ redelivered: await admin.redeliverRange(range) }, 'Deliveries queued again');
  });

  app.post('/webhooks/test', {
    schema: {
      tags, security, summary: 'Send a sample event of a type to the global webhook',
      body: { type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: responses(envelope({}), [400, 501], 202),
    },
  }, async (req, reply) => {
    if (!admin.sendTest) throw new ApiError(501, 'Test sends are not available in this build');
    const result = await admin.sendTest((req.body as { type: string }).type);
    return reply.code(202).send(ok(result ?? null, 'Test event queued', 202));
  });
}
