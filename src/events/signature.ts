/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, ours in SPEC.md §3):
 *
 *   webhook-id:        the delivery id (stable across retries and redeliveries)
 *   webhook-timestamp: integer seconds since the Unix epoch, at the time of the attempt
 *   webhook-signature: `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`))
 *
 * `key` is the base64-decoded part of a `whsec_…` signing secret. When an endpoint has no signing secret configured
 * we derive one from its `secret_token` (see {@link deriveSigningSecret}), so a receiver that knows the token can
 * compute it too.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';

/** The prefix of a Standard Webhooks signing secret. */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** The fixed HMAC key used to derive a signing secret from a secret_token (documented in docs/webhooks.md). */
export const DERIVATION_LABEL = 'switchboard/webhook-signing/v1';

/**
 * The signing secret for an endpoint that has none configured:
 * `whsec_` + base64(HMAC-SHA256(key = "switchboard/webhook-signing/v1", message = secret_token as UTF-8)).
 * Stable (same token → same secret, across restarts and nodes) and different per endpoint token.
 */
export function deriveSigningSecret(secretToken: string): string {
  if (secretToken === '') throw new TypeError('secret_token must not be empty');
  return SIGNING_SECRET_PREFIX + createHmac('sha256', DERIVATION_LABEL).update(secretToken, 'utf8').digest('base64');
}

/** The signing secret an endpoint uses: the configured one, else the one derived from its token. */
export function signingSecretFor(endpoint: { secret_token: string; signing_secret?: string | null }): string {
  return endpoint.signing_secret ? endpoint.signing_secret : deriveSigningSecret(endpoint.secret_token);
}

/** Decodes a `whsec_<base64>` secret to its HMAC key. */
export function parseSigningSecret(secret: string): { ok: true; key: Buffer } | { ok: false; error: string } {
  if (!secret.startsWith(SIGNING_SECRET_PREFIX)) return { ok: false, error: `signing secret must start with "${SIGNING_SECRET_PREFIX}"` };
  const b64 = secret.slice(SIGNING_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return { ok: false, error: 'signing secret is not valid base64 after "whsec_"' };
  const key = Buffer.from(b64, 'base64');
  if (key.length < 16) return { ok: false, error: `signing secret key is ${key.length} bytes; at least 16 are required` };
  return { ok: true, key };
}

/** The `v1,<base64>` signature of one message. */
export function sign(key: Buffer, id: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampS}.`, 'utf8').update(body, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers for one attempt. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Builds the Standard Webhooks headers for one attempt. */
export function signatureHeaders(key: Buffer, id: string, timestampS: number, body: string): SignatureHeaders {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampS), 'webhook-signature': sign(key, id, timestampS, body) };
}

/**
 * Verifies a received webhook (for receivers written in TypeScript and for our own tooling). Accepts any of the
 * space-separated `v1,` signatures, compares in constant time, and rejects timestamps more than `toleranceS` away.
 */
export function verifySignature(opts: {
  secret: string; id: string; timestamp: string; signature: string; body: string; nowS: number; toleranceS?: number;
}): { ok: true } | { ok: false; error: string } {
  const parsed = parseSigningSecret(opts.secret);
  if (!parsed.ok) return parsed;
  if (!/^\d+$/.test(opts.timestamp)) return { ok: false, error: 'webhook-timestamp is not an integer' };
  const ts = Number(opts.timestamp);
  const tolerance = opts.toleranceS ?? 300;
  if (Math.abs(opts.nowS - ts) > tolerance) return { ok: false, error: `webhook-timestamp is more than ${tolerance} s away` };
  const expected = Buffer.from(sign(parsed.key, opts.id, ts, opts.body).slice(3), 'base64');
  for (const part of opts.signature.split(' ')) {
    const [version, mac] = part.split(',', 2);
    if (version !== 'v1' || !mac) continue;
    const got = Buffer.from(mac, 'base64');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return { ok: true };
  }
  return { ok: false, error: 'no matching v1 signature' };
}
