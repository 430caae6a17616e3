/**
 * Where an outbox event goes (SPEC.md §3): the global webhook, for the types ticked in `webhook.events` while it is
 * enabled with a URL; or, for `webhook_component_event`, the flow object's own URL, token and headers, which
 * travel with the event. Also the validation that refuses bad endpoint configuration with a clear error.
 */

import type { PbxConfig, WebhookConfig } from '../config/index.js';
import type { OutboxEvent } from '../store/index.js';
import { parseSigningSecret, signingSecretFor } from './signature.js';

/** Everything needed to send to one endpoint. */
export interface Target {
  url: string;
  secretToken: string;
  /** `whsec_…`, configured or derived. */
  signingSecret: string;
  /** Custom headers (webhook objects only); ours override them. */
  headers: Record<string, string>;
}

/** Checks a URL and token: http(s) only, absolute, no credentials in the URL, token non-empty. */
export function validateEndpoint(url: string, secretToken: string): { ok: true } | { ok: false; error: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, error: `webhook url "${url}" is not an absolute URL` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, error: `webhook url "${url}" must use http or https, not ${u.protocol.slice(0, -1)}` };
  if (u.username || u.password) return { ok: false, error: `webhook url "${u.host}…" must not carry credentials; use secret_token` };
  if (typeof secretToken !== 'string' || secretToken.trim() === '') return { ok: false, error: `webhook secret_token for "${url}" must not be empty` };
  return { ok: true };
}

/**
 * Validates the global webhook settings. A disabled webhook may have an empty URL; an enabled one may not.
 * Returns every problem, each naming its key.
 */
export function validateWebhookConfig(w: WebhookConfig): { ok: true } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  if (w.enabled || w.url !== '') {
    const r = validateEndpoint(w.url, w.secret_token);
    if (!r.ok) errors.push(`webhook: ${r.error}`);
  }
  if (w.signing_secret != null) {
    const s = parseSigningSecret(w.signing_secret);
    if (!s.ok) errors.push(`webhook.signing_secret: ${s.error}`);
  }
  return errors.length ? { ok: false, errors } : { ok: true };
}

/** Why an event has no delivery to the global webhook (for the debug log). */
export type SkipReason = 'webhook-disabled' | 'webhook-no-url' | 'webhook-invalid' | 'type-not-ticked';

/** The endpoint URL an event is delivered to, or why it is not delivered anywhere. */
export function routeEvent(ev: OutboxEvent, config: PbxConfig): { url: string } | { skip: SkipReason | 'component-invalid' } {
  if (ev.endpoint.kind === 'component') {
    return validateEndpoint(ev.endpoint.url, ev.endpoint.secret_token).ok ? { url: ev.endpoint.url } : { skip: 'component-invalid' };
  }
  const w = config.webhook;
  if (!w.enabled) return { skip: 'webhook-disabled' };
  if (!w.url) return { skip: 'webhook-no-url' };
  if (!(w.events as readonly string[]).includes(ev.type)) return { skip: 'type-not-ticked' };
  if (!validateEndpoint(w.url, w.secret_token).ok) return { skip: 'webhook-invalid' };
  return { url: w.url };
}

/**
 * The target for a delivery. Component events carry their own; global deliveries use the global settings of
 * `config`, which the dispatcher passes as the version the delivery was created under (so a token change applies
 * only to deliveries created after it). `secretFor` lets the dispatcher memoize the signing-secret derivation
 * (an HMAC) per token.
 */
export function targetFor(ev: OutboxEvent, endpointUrl: string, config: PbxConfig, secretFor: typeof signingSecretFor = signingSecretFor): Target {
  if (ev.endpoint.kind === 'component') {
    const e = ev.endpoint;
    return { url: endpointUrl, secretToken: e.secret_token, signingSecret: secretFor(e), headers: e.headers ?? {} };
  }
  const w = config.webhook;
  return { url: endpointUrl, secretToken: w.secret_token, signingSecret: secretFor(w), headers: {} };
}
