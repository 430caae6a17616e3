/**
 * The web console (issue 14): the built single-page app at `/console/`, sign-in with an admin key into a
 * server-side session, the live event stream (SSE) fed by the engine's event stream, and the integration-API
 * request builder that calls the integration API inside the server so the key never reaches the browser.
 */
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EVENT_DESCRIPTIONS, EVENT_TYPES, FIELD_DESCRIPTIONS, sampleEvent } from '../../events/index.js';
import { packageRoot, systemClock } from '../../common/index.js';
import type { ApiDeps } from '../deps.js';
import type { AuthenticateAdmin } from './admin-auth.js';
import { SESSION_COOKIE, sameOrigin, type ConsoleGuard } from './guard.js';
import type { ConsoleSession } from './sessions.js';
import { registerLiveRoutes } from './live.js';
import { registerRequestBuilder } from './request-builder.js';
import { registerFormRoutes } from './forms.js';
import { pageHeaders, registerPhone } from '../phone.js';

export { ConsoleGuard, SESSION_COOKIE, CSRF_HEADER } from './guard.js';
export { SessionStore, type AdminPrincipal } from './sessions.js';
export { type AuthenticateAdmin } from './admin-auth.js';

/** Where `npm run build:console` writes the app. */
export const CONSOLE_DIST = join(packageRoot(import.meta.dirname), 'console', 'dist');
export const CONSOLE_PREFIX = '/console';

/** What the console plugin is built from. */
export interface ConsoleOptions {
  deps: ApiDeps;
  guard: ConsoleGuard;
  authenticateAdmin: AuthenticateAdmin;
  /** The built app; default {@link CONSOLE_DIST}. */
  distDir?: string;
}

/** Longest admin key accepted at sign-in. */
const MAX_KEY = 512;

/** A preHandler that requires a console session (and CSRF on unsafe methods); sets `request.consoleSession`. */
export function requireSession(guard: ConsoleGuard) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const r = guard.check(request);
    if (r.kind === 'ok') {
      request.consoleSession = r.session;
      return;
    }
    const status = r.kind === 'none' ? 401 : r.status;
    await reply.code(status).send({ code: status, status: 'error', message: r.kind === 'none' ? 'Not signed in' : r.message });
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession?: ConsoleSession;
  }
}

function cookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  // Secure only over TLS: the demo runs on plain http://127.0.0.1, where a Secure cookie would never be sent back.
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/** The console plugin, registered at the root (its routes carry the `/console` prefix themselves). */
export async function consoleApi(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const { guard } = opts;
  const sessions = guard.sessions;
  const dist = opts.distDir ?? CONSOLE_DIST;
  const ip = { auth: 'ip' as const };
  const hide = { hide: true };
  const session = requireSession(guard);
  const headers = pageHeaders(opts.deps.phone);

  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith(CONSOLE_PREFIX)) void reply.headers(headers);
  });

  if (existsSync(resolve(dist, 'index.html'))) {
    await app.register(fastifyStatic, { root: dist, prefix: `${CONSOLE_PREFIX}/`, index: 'index.html', wildcard: true, decorateReply: false });
  } else {
    app.get(`${CONSOLE_PREFIX}/`, { config: ip, schema: hide }, async (_req, reply) =>
      reply.code(503).type('text/plain').send('The console is not built: run `npm run build:console` (npm install does it).'));
  }
  app.get(CONSOLE_PREFIX, { config: ip, schema: hide }, async (_req, reply) => reply.redirect(`${CONSOLE_PREFIX}/`));

  app.post(`${CONSOLE_PREFIX}/api/session`, {
    config: ip,
    schema: { hide: true, body: { type: 'object', required: ['key'], additionalProperties: false, properties: { key: { type: 'string', minLength: 1, maxLength: MAX_KEY } } } },
  }, async (request, reply) => {
    // Login CSRF: a foreign page must not sign this browser in with its own key.
    if (!sameOrigin(request)) return reply.code(403).send({ code: 403, status: 'error', message: 'Cross-origin sign-in refused' });
    const principal = await opts.authenticateAdmin((request.body as { key: string }).key);
    if (!principal) {
      request.log.info({ address: request.socket.remoteAddress }, 'console: sign-in refused');
      return reply.code(401).send({ code: 401, status: 'error', message: 'Wrong admin key' });
    }
    const s = sessions.create(principal);
    request.log.info({ key_id: principal.key_id, name: principal.name }, 'console: signed in');
    void reply.header('set-cookie', cookie(request, s.id, Math.ceil((sessions.expiresAt(s) - s.createdMs) / 1000)));
    return { code: 200, status: 'success', message: 'Signed in', data: { name: principal.name, csrf_token: s.csrfToken, expires_at: new Date(sessions.expiresAt(s)).toISOString() } };
  });

  app.get(`${CONSOLE_PREFIX}/api/session`, { config: ip, schema: hide, preHandler: session }, async (request) => {
    const s = request.consoleSession!;
    return { code: 200, status: 'success', message: 'OK', data: { name: s.principal.name, csrf_token: s.csrfToken, expires_at: new Date(sessions.expiresAt(s)).toISOString() } };
  });

  app.delete(`${CONSOLE_PREFIX}/api/session`, { config: ip, schema: hide, preHandler: session }, async (request, reply) => {
    sessions.destroy(request.consoleSession!.id);
    void reply.header('set-cookie', cookie(request, '', 0));
    return { code: 200, status: 'success', message: 'Signed out', data: null };
  });

  app.get(`${CONSOLE_PREFIX}/api/catalogue`, { config: ip, schema: hide, preHandler: session }, async () => ({
    code: 200, status: 'success', message: 'OK',
    data: EVENT_TYPES.map((type) => ({ type, description: EVENT_DESCRIPTIONS[type], sample: sampleEvent(type, (opts.deps.clock ?? systemClock).now()).payload, fields: FIELD_DESCRIPTIONS })),
  }));

  registerLiveRoutes(app, opts.deps, guard, session);
  registerRequestBuilder(app, opts.deps, session);
  registerFormRoutes(app, session);
  registerPhone(app, opts.deps, dist);
}
