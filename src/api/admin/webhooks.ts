/**
 * The webhook delivery log, redelivery, test sends and endpoint state (SPEC.md §3, §5), mounted from the events
 * module's admin functions. Their `{ ok: false }` results become 400 or 404 in the envelope.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminResult, WebhookAdmin } from '../../events/index.js';
import type { DeliveryStatus } from '../../store/index.js';
import { ApiError, badParameter, ok } from '../errors.js';
import { envelope, nullable, responses, type JsonSchema } from '../schemas.js';

const tags = ['admin: webhooks'];
const security = [{ adminKey: [] }];
const STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'disabled'];

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
    delivery_id: { type: 'string' }, attempt: { type: 'integer' }, at: { type: 'integer', description: 'Epoch ms.' },
    status_code: nullable('integer'), error: nullable('string'), duration_ms: { type: 'integer' },
  },
};
const REDELIVERED = envelope({ type: 'object', properties: { count: { type: 'integer' }, delivery_ids: { type: 'array', items: { type: 'string' } } } });
const ENDPOINT: JsonSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['global', 'component'] }, name: nullable('string'), url: { type: 'string' }, enabled: { type: 'boolean' },
    disabled_by_410: { type: 'boolean' }, signing_secret: nullable('string'), events: nullable('array', { items: { type: 'string' } }),
  },
};
const TIME_RANGE = {
  since: { type: 'string', minLength: 1, description: 'ISO 8601; deliveries created at or after.' },
  until: { type: 'string', minLength: 1, description: 'ISO 8601; deliveries created at or before.' },
};

/** The value of an admin result, or the matching ApiError. */
function unwrap<T>(r: AdminResult<T>): T {
  if (r.ok) return r.value;
  throw new ApiError(r.code === 'not_found' ? 404 : 400, capitalize(r.error));
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `since`/`until` as epoch ms (`from_ms`/`to_ms`), 400 naming the bad one. */
function timeRange(q: { since?: string; until?: string }): { from_ms?: number; to_ms?: number } {
  const out: { from_ms?: number; to_ms?: number } = {};
  for (const [name, key] of [['since', 'from_ms'], ['until', 'to_ms']] as const) {
    const v = q[name];
    if (v === undefined) continue;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw badParameter(name, `'${v}' is not an ISO 8601 date-time`);
    out[key] = ms;
  }
  if (out.from_ms !== undefined && out.to_ms !== undefined && out.from_ms > out.to_ms) throw badParameter('since', 'is after until');
  return out;
}

/** Registers the delivery-log routes; each answers 501 when the webhooks admin functions are not wired in. */
export function registerWebhookRoutes(app: FastifyInstance, webhooks: WebhookAdmin | undefined): void {
  const admin = (): WebhookAdmin => {
    if (!webhooks) throw new ApiError(501, 'Webhook delivery log is not available in this process');
    return webhooks;
  };
  const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } };

  app.get('/webhooks/deliveries', {
    schema: {
      tags, security, summary: 'The delivery log, newest first',
      querystring: {
        type: 'object',
        properties: {
          endpoint: { type: 'string', minLength: 1, description: 'Only deliveries to this URL.' },
          status: { type: 'string', enum: STATUSES },
          unique_call_id: { type: 'string', minLength: 1 },
          ...TIME_RANGE,
          offset: { type: 'integer', minimum: 0, default: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
      response: responses(envelope({ type: 'array', items: DELIVERY }), [400, 501]),
    },
  }, async (req) => {
    const q = req.query as { endpoint?: string; status?: DeliveryStatus; unique_call_id?: string; since?: string; until?: string; offset: number; limit: number };
    const page = unwrap(await admin().listDeliveries({
      offset: q.offset, limit: q.limit, ...timeRange(q),
      ...(q.endpoint ? { endpoint_url: q.endpoint } : {}), ...(q.status ? { status: q.status } : {}),
      ...(q.unique_call_id ? { unique_call_id: q.unique_call_id } : {}),
    }));
    return ok(page.deliveries, 'Deliveries');
  });

  app.get('/webhooks/deliveries/:id', {
    schema: {
      tags, security, summary: 'One delivery with its attempts', params: idParam,
      response: responses(envelope({ type: 'object', properties: { delivery: DELIVERY, attempts: { type: 'array', items: ATTEMPT } } }), [404, 501]),
    },
  }, async (req) => ok(unwrap(await admin().getDelivery((req.params as { id: string }).id)), 'Delivery'));

  app.post('/webhooks/deliveries/:id/redeliver', {
    schema: { tags, security, summary: 'Send one delivery again (due now)', params: idParam, response: responses(REDELIVERED, [404, 501]) },
  }, async (req) => ok(unwrap(await admin().redeliver({ delivery_ids: [(req.params as { id: string }).id] })), 'Delivery queued again'));

  app.post('/webhooks/redeliver', {
    schema: {
      tags, security,
      summary: 'Send deliveries again: the listed ids, or every delivery to an endpoint in a range (default status: failed)',
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          delivery_ids: { type: 'array', minItems: 1, maxItems: 10_000, items: { type: 'string', minLength: 1 } },
          endpoint: { type: 'string', minLength: 1, description: 'Required unless delivery_ids is given.' },
          status: { type: 'string', enum: STATUSES },
          unique_call_id: { type: 'string', minLength: 1 },
          ...TIME_RANGE,
          limit: { type: 'integer', minimum: 1, maximum: 10_000 },
        },
      },
      response: responses(REDELIVERED, [400, 404, 501]),
    },
  }, async (req) => {
    const b = (req.body ?? {}) as { delivery_ids?: string[]; endpoint?: string; status?: DeliveryStatus; unique_call_id?: string; since?: string; until?: string; limit?: number };
    if (b.delivery_ids) return ok(unwrap(await admin().redeliver({ delivery_ids: b.delivery_ids })), 'Deliveries queued again');
    if (!b.endpoint) throw new ApiError(400, "Missing field 'endpoint' (or give delivery_ids)");
    const sel = {
      endpoint_url: b.endpoint, status: b.status ?? 'failed', ...timeRange(b),
      ...(b.unique_call_id ? { unique_call_id: b.unique_call_id } : {}), ...(b.limit ? { limit: b.limit } : {}),
    };
    return ok(unwrap(await admin().redeliver(sel)), 'Deliveries queued again');
  });

  app.post('/webhooks/test', {
    schema: {
      tags, security, summary: 'Queue a sample event of a type to the global webhook (or a webhook object, by component_name)',
      body: {
        type: 'object', required: ['type'], additionalProperties: false,
        properties: { type: { type: 'string', minLength: 1, maxLength: 64 }, component_name: { type: 'string', minLength: 1 } },
      },
      response: responses(envelope({ type: 'object', properties: { event_id: { type: 'string' }, delivery_id: { type: 'string' }, url: { type: 'string' } } }), [400, 501], 202),
    },
  }, async (req, reply) => {
    const b = req.body as { type: string; component_name?: string };
    const r = await admin().sendTest(b.type, b.component_name ? { componentName: b.component_name } : {});
    if (!r.ok) throw new ApiError(400, capitalize(r.error));
    return reply.code(202).send(ok({ event_id: r.event_id, delivery_id: r.delivery_id, url: r.url }, 'Test event queued', 202));
  });

  app.get('/webhooks/endpoints', {
    schema: { tags, security, summary: 'Configured endpoints and their state (410-disabled or not)', response: responses(envelope({ type: 'array', items: ENDPOINT }), [501]) },
  }, async () => ok(await admin().listEndpoints(), 'Endpoints'));

  app.post('/webhooks/endpoints/enable', {
    schema: {
      tags, security, summary: 'Re-enable an endpoint disabled by a 410',
      body: { type: 'object', required: ['url'], additionalProperties: false, properties: { url: { type: 'string', minLength: 1 } } },
      response: responses(envelope({ type: 'object', properties: { url: { type: 'string' } } }), [400, 501]),
    },
  }, async (req) => ok(unwrap(await admin().enableEndpoint((req.body as { url: string }).url)), 'Endpoint enabled'));

  app.get('/webhooks/stats', {
    schema: { tags, security, summary: 'Delivery counters, backlog and latency percentiles', response: responses(envelope({ type: 'object', additionalProperties: true }), [501]) },
  }, async () => ok(admin().stats(), 'Delivery stats'));
}
