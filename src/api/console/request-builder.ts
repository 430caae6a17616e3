/**
 * The API-access screen's request builder and the call-history screen: both call the integration API v2 inside
 * the server (Fastify `inject`) with the live integration key added here, so the key never reaches the browser.
 * The request keeps the browser's source address, so the whitelist applies as it would to a direct call.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../deps.js';

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** The operations the builder offers, and their HTTP method. */
export const BUILDER_OPERATIONS = {
  'get-user-calls': 'GET',
  'get-queue-calls': 'GET',
  'get-ringgroup-calls': 'GET',
  'call-to-number': 'POST',
} as const;

type Operation = keyof typeof BUILDER_OPERATIONS;

const PARAMS = { type: 'object', maxProperties: 20, additionalProperties: { type: 'string', maxLength: 2000 } };

/** Calls `/api/integration/v2/<op>` in-process with the live key; answers the integration API's own status and body. */
async function callIntegration(app: FastifyInstance, deps: ApiDeps, request: FastifyRequest, op: Operation, params: Record<string, string>) {
  const method = BUILDER_OPERATIONS[op];
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
  const url = `/api/integration/v2/${op}${method === 'GET' && query ? `?${query}` : ''}`;
  const res = await app.inject({
    method, url, remoteAddress: request.socket.remoteAddress ?? '127.0.0.1',
    headers: { token: deps.getConfig().api.api_key, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { payload: JSON.stringify(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== ''))) } : {}),
  });
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = res.body;
  }
  return { method, url, status: res.statusCode, body };
}

/** Registers `POST /console/api/integration-request` and `GET /console/api/history`. */
export function registerRequestBuilder(app: FastifyInstance, deps: ApiDeps, session: PreHandler): void {
  const config = { auth: 'ip' as const };
  app.post('/console/api/integration-request', {
    config, preHandler: session,
    schema: {
      hide: true,
      body: {
        type: 'object', required: ['operation'], additionalProperties: false,
        properties: { operation: { type: 'string', enum: Object.keys(BUILDER_OPERATIONS) }, params: PARAMS },
      },
    },
  }, async (request) => {
    const { operation, params = {} } = request.body as { operation: Operation; params?: Record<string, string> };
    const data = await callIntegration(app, deps, request, operation, params);
    return { code: 200, status: 'success', message: `${data.method} ${data.url} answered ${data.status}`, data };
  });

  app.get('/console/api/history', {
    config, preHandler: session, schema: { hide: true, querystring: PARAMS },
  }, async (request, reply) => {
    const r = await callIntegration(app, deps, request, 'get-user-calls', request.query as Record<string, string>);
    return reply.code(r.status).send(r.body);
  });
}
