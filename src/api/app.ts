/**
 * `buildApp(deps)`: the Fastify application of both APIs, built but never listening (main.ts listens; tests use
 * `inject()`). One onRequest hook authenticates every request (whitelist, failed-request limit, then the key of the
 * route's scope, then rate limit); one error handler renders every failure in the compat envelope.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { systemClock } from '../common/index.js';
import { clientAddress, createMatcherCache, createRateLimiter, keyMatches } from './auth.js';
import { bearerToken, createAdminKeys, type AdminIdentity, type AdminKeys } from './admin-keys.js';
import { configFormats } from './admin/config-schema.js';
import { adminApi } from './admin/index.js';
import type { ApiDeps } from './deps.js';
import { fail, NOT_AUTHORISED, renderError } from './errors.js';
import { integrationV2 } from './integration-v2/index.js';
import { CONSOLE_PREFIX, ConsoleGuard, consoleApi, SessionStore } from './console/index.js';
import { DOCS_PREFIX, registerDocs, registerOpenApi } from './openapi.js';
import { ERROR_ENVELOPE } from './schemas.js';
import { recordingDeps, registerSignedRecordingRoute } from './recordings.js';
import { registerSignedVoicemailRoute } from './voicemail-links.js';
import { registerOpsRoutes } from './ops/index.js';

/**
 * How a route is protected: `key` = whitelist + integration key (`token` header) + rate limit (the default, also
 * for unknown paths); `admin` = whitelist + admin key (`Authorization: Bearer`) + rate limit (everything under
 * /api/admin); `ip` = whitelist only; `signed` = none here, the route checks its link's signature (recording
 * links are fetched by CRMs from anywhere, without a key); `none` = open to any address (the orchestrator's
 * /health, /ready and /metrics, which tell nothing secret or personal).
 */
export type AuthMode = 'key' | 'admin' | 'ip' | 'signed' | 'none';

/** Where the admin API lives: every path under it takes admin keys only. */
const ADMIN_PREFIX = '/api/admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
  interface FastifyRequest {
    /** Who made an admin request (set by the auth hook; read by the audit log). */
    admin: AdminIdentity | null;
    /** The client address the auth hook decided on (X-Forwarded-For believed only from trusted proxies). */
    clientAddress: string | null;
  }
  interface FastifyInstance {
    /** The admin keys (the console signs in with `adminKeys.authenticateAdmin`). */
    adminKeys: AdminKeys;
  }
}

/** Largest request body (admin flows can be long; the integration API narrows it). */
const BODY_LIMIT = 1024 * 1024;

function modeOf(request: FastifyRequest): AuthMode {
  const configured = request.routeOptions.config?.auth;
  if (configured) return configured;
  if (request.url.startsWith(DOCS_PREFIX) || request.url.startsWith(CONSOLE_PREFIX)) return 'ip';
  // Judge by the route pattern the router matched, not the raw URL: the router decodes percent-escapes, so
  // `/api/%61dmin/devices` reaches an admin route while its raw URL does not start with /api/admin.
  const path = request.routeOptions.url ?? request.url.split('?')[0]!;
  return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`) ? 'admin' : 'key';
}

/**
 * The authentication hook: whitelist → failed-request limit → key → rate limit; 401 `Not authorised` for every
 * auth failure. A source that failed `api.auth_failures_per_min` times in the last minute gets 429 before its key
 * is looked at (so a guesser learns nothing more), while other sources are unaffected.
 */
function authHook(deps: ApiDeps, adminKeys: AdminKeys, guard: ConsoleGuard) {
  const matcher = createMatcherCache();
  const clock = deps.clock ?? systemClock;
  const limiter = createRateLimiter(clock);
  const failures = createRateLimiter(clock);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const api = deps.getConfig().api;
    const mode = modeOf(request);
    if (mode === 'signed' || mode === 'none') return;
    const address = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], matcher(api.trusted_proxies));
    request.clientAddress = address ?? null;
    const source = `fail:${address ?? '?'}`;
    const limited = failures.peek(source, api.auth_failures_per_min);
    if (!limited.ok) {
      void reply.header('Retry-After', String(limited.retryAfterS));
      return reply.code(429).send(fail(429, `Too many failed requests from this address: ${api.auth_failures_per_min} per minute; retry after ${limited.retryAfterS} s`));
    }
    const refuse = (why: string) => {
      failures.take(source, api.auth_failures_per_min);
      request.log.debug({ address, mode }, `api: ${why}`);
      return reply.code(401).send(NOT_AUTHORISED);
    };
    if (!matcher(api.whitelisted_ips).matches(address)) return refuse('source address not whitelisted');
    if (mode === 'ip') return;
    let bucket: string;
    if (mode === 'admin') {
      // The web console's session opens the admin API too (cookie + CSRF token on state-changing requests), never
      // the integration API: that one is only ever opened by its own key.
      if (request.headers.authorization === undefined) {
        const r = guard.check(request);
        if (r.kind === 'ok') {
          request.admin = r.session.principal;
          return;
        }
        if (r.kind === 'refused') return reply.code(r.status).send(fail(r.status, r.message));
      }
      const admin = await adminKeys.authenticateAdmin(bearerToken(request.headers.authorization));
      if (!admin) return refuse('missing or wrong admin key (Authorization: Bearer)');
      request.admin = admin;
      bucket = `admin:${admin.key_id ?? 'bootstrap'}`;
    } else {
      if (!keyMatches(request.headers.token, api.api_key)) return refuse('missing or wrong token');
      bucket = 'integration';
    }
    const decision = limiter.take(bucket, api.rate_limit_per_min);
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
  const adminKeys = deps.adminKeys ?? createAdminKeys({ store: deps.store, getConfig: deps.getConfig, clock: deps.clock ?? systemClock });
  app.decorate('adminKeys', adminKeys);
  app.decorateRequest('admin', null);
  app.decorateRequest('clientAddress', null);
  app.addHook('onRequest', authHook(deps, adminKeys, guard));
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.routeOptions.url, status: reply.statusCode, ms: reply.elapsedTime }, 'api request');
  });

  void app.register(async (root) => {
    await registerOpenApi(root, deps.version);
    await root.register(integrationV2, { prefix: '/api/integration/v2', deps });
    await root.register(adminApi, { prefix: '/api/admin', deps });
    registerSignedRecordingRoute(root, recordingDeps(deps));
    const vmClock = deps.clock ?? systemClock;
    registerSignedVoicemailRoute(root, { store: deps.store, getConfig: deps.getConfig, now: () => vmClock.now() });
    if (deps.ops) registerOpsRoutes(root, deps.ops);
    await registerDocs(root);
    // The console signs in with admin keys (never the integration key).
    await root.register(consoleApi, { deps, guard, authenticateAdmin: (key) => adminKeys.authenticateAdmin(key), ...(deps.consoleDir ? { distDir: deps.consoleDir } : {}) });
  });
  return app;
}
