/**
 * What an orchestrator needs, outside /api and without a key or the whitelist (a kubelet or Prometheus scrapes from
 * its own address): `GET /health` (the process serves HTTP), `GET /ready` (store reachable, SIP listening, Redis
 * reachable when configured, not draining; 503 otherwise, with a message naming what failed) and `GET /metrics`
 * (Prometheus text). None of them says anything secret or personal.
 */
import type { FastifyInstance } from 'fastify';
import type { OpsMetrics } from './metrics.js';

/** One readiness check per dependency, as `/ready` reports it. */
export interface Readiness {
  store: boolean;
  sip: boolean;
  draining: boolean;
  /** Present when Redis is configured (redis.url): both its connections up and a PING answered. */
  redis?: boolean;
}

/** Why a process is not ready, one phrase per failed check (`/ready`'s `message`). */
function notReadyBecause(r: Readiness): string[] {
  const why: string[] = [];
  if (!r.store) why.push('store unreachable');
  if (!r.sip) why.push('SIP server connection down');
  if (r.redis === false) why.push('redis unreachable');
  if (r.draining) why.push('draining');
  return why;
}

/** What the ops routes read. */
export interface OpsDeps {
  metrics: OpsMetrics;
  /** Checks the dependencies now (the store with a short timeout). */
  readiness(): Promise<Readiness>;
}

/** Orchestrators' paths: never authenticated, never in the OpenAPI document. */
export const OPS_PATHS = ['/health', '/ready', '/metrics'] as const;

/** Registers the three routes. */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  const config = { auth: 'none' as const };
  app.get('/health', { config, schema: { hide: true } }, async (_req, reply) => {
    void reply.header('Cache-Control', 'no-store');
    return { status: 'ok' };
  });
  app.get('/ready', { config, schema: { hide: true } }, async (_req, reply) => {
    const r = await deps.readiness();
    const why = notReadyBecause(r);
    void reply.header('Cache-Control', 'no-store');
    if (why.length === 0) return reply.code(200).send({ status: 'ready', ...r });
    return reply.code(503).send({ status: 'not ready', ...r, message: `not ready: ${why.join(', ')}` });
  });
  app.get('/metrics', { config, schema: { hide: true } }, async (_req, reply) => {
    const text = await deps.metrics.render();
    return reply.header('Content-Type', deps.metrics.contentType).header('Cache-Control', 'no-store').send(text);
  });
}
