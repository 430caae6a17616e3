/**
 * The integration REST API v2 (compat), mounted at `/api/integration/v2`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { ApiDeps } from '../deps.js';
import { registerHistoryRoutes } from './history.js';
import { registerCallRoutes } from './calls.js';

/** Largest body the integration API accepts (its bodies are three short fields). */
const BODY_LIMIT = 16 * 1024;

/** Drops empty-string values: compat clients send `caller_id=` or `from_date=` meaning "not given". */
function dropEmpty(value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (record[key] === '') delete record[key];
}

/** The integration API plugin: its body parsers are scoped to it. */
export async function integrationV2(app: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fields: 16, fieldSize: 1024, files: 0, fileSize: 0, parts: 16 },
  });
  app.addHook('preValidation', async (request: FastifyRequest) => {
    dropEmpty(request.query);
    dropEmpty(request.body);
  });
  registerHistoryRoutes(app, opts.deps);
  registerCallRoutes(app, opts.deps);
}
