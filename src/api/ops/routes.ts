/**
 * What an orchestrator needs, outside /api and without a key or the whitelist (a kubelet or Prometheus scrapes from
 * its own address): `GET /health` (the process serves HTTP), `GET /ready` (store reachable, SIP listening, not
 * draining; 503 otherwise) and `GET /metrics` (Prometheus text). None of them says anything secret or personal.
 */
import type { FastifyInstance } from 'fastify';
import type { OpsMetrics } from './metrics.js';

/** One readiness check per dependency, as `/ready` reports it. */
export interface Readiness {
  store: boolean;
  sip: boolean;
  draining: boolean;
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
    const ready = r.store && r.sip && !r.draining;
    void reply.header('Cache-Control', 'no-store');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...r });
  });
  app.get('/metrics', { config, schema: { hide: true } }, async (_req, reply) => {
    const text = await deps.metrics.render();
    return reply.header('Content-Type', deps.metrics.contentType).header('Cache-Control', 'no-store').send(text);
  });
}
