/**
 * `buildApp(deps)`: the Fastify application of both APIs, built but never listening (main.ts listens; tests use
 * `inject()`). One onRequest hook authenticates every request (whitelist, then key, then rate limit); one error
 * handler renders every failure in the compat envelope.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { systemClock } from '../common/clock.js';
import { clientAddress, createMatcherCache, createRateLimiter, keyMatches } from './auth.js';
import { configFormats } from './admin/config-schema.js';
import { adminApi } from './admin/index.js';
import type { ApiDeps } from './deps.js';
import { fail, NOT_AUTHORISED, renderError } from './errors.js';
import { integrationV2 } from './integration-v2/index.js';
import { CONSOLE_PREFIX, ConsoleGuard, consoleApi, interimAuthenticateAdmin, SessionStore } from './console/index.js';
import { DOCS_PREFIX, registerDocs, registerOpenApi } from './openapi.js';
import { ERROR_ENVELOPE } from './schemas.js';

/** How a route is protected: `key` = whitelist + token + rate limit (the default, also for unknown paths); `ip` = whitelist only. */
export type AuthMode = 'key' | 'ip';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
}

/** Largest request body (admin flows can be long; the integration API narrows it). */
const BODY_LIMIT = 1024 * 1024;

/** The authentication hook: whitelist → key → rate limit; 401 `Not authorised` for both auth failures. */
function authHook(deps: ApiDeps, guard: ConsoleGuard) {
  const matcher = createMatcherCache();
  const limiter = createRateLimiter(deps.clock ?? systemClock);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const api = deps.getConfig().api;
    const mode: AuthMode = request.routeOptions.config?.auth ?? (request.url.startsWith(DOCS_PREFIX) || request.url.startsWith(CONSOLE_PREFIX) ? 'ip' : 'key');
    const address = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], matcher(api.trusted_proxies));
    if (!matcher(api.whitelisted_ips).matches(address)) {
      request.log.debug({ address }, 'api: source address not whitelisted');
      return reply.code(401).send(NOT_AUTHORISED);
    }
    if (mode === 'ip') return;
    // The web console's session opens the admin API (cookie + CSRF token on state-changing requests), never the
    // integration API: that one is only ever opened by its own key.
    if (request.headers.token === undefined && request.url.startsWith('/api/admin/')) {
      const r = guard.check(request);
      if (r.kind === 'ok') return;
      if (r.kind === 'refused') return reply.code(r.status).send(fail(r.status, r.message));
    }
    if (!keyMatches(request.headers.token, api.api_key)) {
      request.log.debug({ address }, 'api: missing or wrong token');
      return reply.code(401).send(NOT_AUTHORISED);
    }
    const decision = limiter.take(api.api_key, api.rate_limit_per_min);
    if (!decision.ok) {
      void reply.header('Retry-After', String(decision.retryAfterS));
      return reply.code(429).send(fail(429, `Rate limit exceeded: ${api.rate_limit_per_min} requests per minute; retry after ${decision.retryAfterS} s`));
    }
  };
}

/** Builds the API application. Call `await app.ready()` (or `inject`, which does) before use; never listens. */
export function buildApp(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ module: 'api' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: false,
    return503OnClosing: true,
    ajv: {
      customOptions: {
        removeAdditional: false,
        useDefaults: true,
        coerceTypes: 'array',
        allErrors: false,
        discriminator: true,
        allowUnionTypes: true,
        formats: configFormats(),
      },
    },
  }) as unknown as FastifyInstance;

  app.addSchema(ERROR_ENVELOPE);
  app.setErrorHandler(renderError(deps.log));
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(fail(404, 'Not found')));
  const guard = new ConsoleGuard(new SessionStore(deps.clock ?? systemClock));
  app.addHook('onRequest', authHook(deps, guard));
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime }, 'api request');
  });

  void app.register(async (root) => {
    await registerOpenApi(root, deps.version);
    await root.register(integrationV2, { prefix: '/api/integration/v2', deps });
    await root.register(adminApi, { prefix: '/api/admin', deps });
    await registerDocs(root);
    // INTERIM (issue 11): sign-in checks the configured key until admin keys land with authenticateAdmin().
    await root.register(consoleApi, { deps, guard, authenticateAdmin: interimAuthenticateAdmin(deps.getConfig), ...(deps.consoleDir ? { distDir: deps.consoleDir } : {}) });
  });
  return app;
}
