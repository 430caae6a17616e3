/**
 * How a console session opens a request: the session cookie, and for every state-changing method the CSRF token
 * in the `X-CSRF-Token` header plus a same-origin `Origin` (or `Sec-Fetch-Site`). The auth hook asks
 * {@link ConsoleGuard.check} on the admin API; the console's own routes ask it too.
 */
import type { FastifyRequest } from 'fastify';
import { sameSecret, type ConsoleSession, type SessionStore } from './sessions.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'sb_console';
/** The header the page echoes its CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The outcome of a check: no session cookie at all, a refusal with its reason, or the session. */
export type GuardResult = { kind: 'none' } | { kind: 'refused'; status: 401 | 403; message: string } | { kind: 'ok'; session: ConsoleSession };

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request's Origin (or Sec-Fetch-Site) says it comes from this server's own pages. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (typeof origin === 'string') {
    if (origin === 'null') return false;
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

/** Session and CSRF checks over a {@link SessionStore}. */
export class ConsoleGuard {
  readonly sessions: SessionStore;

  constructor(sessions: SessionStore) {
    this.sessions = sessions;
  }

  check(request: FastifyRequest): GuardResult {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (id === undefined) return { kind: 'none' };
    const session = this.sessions.get(id);
    if (!session) return { kind: 'refused', status: 401, message: 'Console session expired or signed out: sign in again' };
    if (!SAFE_METHODS.has(request.method)) {
      const token = request.headers[CSRF_HEADER];
      if (typeof token !== 'string' || !sameSecret(token, session.csrfToken)) {
        return { kind: 'refused', status: 403, message: `Missing or wrong ${CSRF_HEADER} header (CSRF protection)` };
      }
      if (!sameOrigin(request)) return { kind: 'refused', status: 403, message: 'Cross-origin request refused (CSRF protection)' };
    }
    return { kind: 'ok', session };
  }
}
