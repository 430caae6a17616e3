/**
 * The browser softphone (issue 13): the built page at `/phone/` (console/phone/index.html, built with the console
 * into console/dist/phone, its assets under /console/assets/) and `GET /phone/config.json`, which tells the page
 * the SIP domain and where SIP over WebSocket listens. The page signs in with a device's own credentials straight
 * to the SIP stack: nothing about the account passes through the API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps, PhoneListeners } from './deps.js';

export const PHONE_PREFIX = '/phone';

/**
 * The Content-Security-Policy of the console and the phone: nothing from elsewhere (no CDN), no framing; the
 * WebSocket listeners on their own ports are the only other places a page may connect to ('self' covers ws:// and
 * wss:// on the page's own origin, i.e. `sip.ws.http_path`).
 */
export function pageCsp(listeners: PhoneListeners | undefined): string {
  const ws = [
    ...(listeners?.port ? [`ws://*:${listeners.port}`] : []),
    ...(listeners?.tls_port ? [`wss://*:${listeners.tls_port}`] : []),
  ];
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src ${["'self'", ...ws].join(' ')}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'`;
}

/** The headers of every console and phone page: {@link pageCsp}, no framing, no sniffing, no referrer. */
export function pageHeaders(listeners: PhoneListeners | undefined): Record<string, string> {
  return { 'content-security-policy': pageCsp(listeners), 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
}

/** Registers `/phone/`, `/phone` (redirect) and `/phone/config.json`; `distDir` is the console's build. */
export function registerPhone(app: FastifyInstance, deps: ApiDeps, distDir: string): void {
  const ip = { auth: 'ip' as const };
  const hide = { hide: true };
  const page = resolve(distDir, 'phone', 'index.html');
  const headers = { ...pageHeaders(deps.phone), 'cache-control': 'no-store' };

  app.get(PHONE_PREFIX, { config: ip, schema: hide }, async (_req, reply) => reply.redirect(`${PHONE_PREFIX}/`));
  app.get(`${PHONE_PREFIX}/`, { config: ip, schema: hide }, async (_req, reply) => {
    if (!existsSync(page)) return reply.code(503).type('text/plain').send('The softphone is not built: run `npm run build:console` (npm install does it).');
    return reply.headers(headers).type('text/html; charset=utf-8').send(readFileSync(page));
  });
  app.get(`${PHONE_PREFIX}/config.json`, { config: ip, schema: hide }, async (_req, reply) =>
    reply.headers(headers).send({ domain: deps.getConfig().pbx.domain, websocket: deps.phone ?? { path: null, port: null, tls_port: null } }));
}
