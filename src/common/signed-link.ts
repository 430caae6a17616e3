/**
 * Signed, expiring links (recording files, SPEC.md §3 `call_recording_link`): a CRM fetches the file with the URL
 * alone, no API key. The signature is HMAC-SHA256 over `<path>\n<expires>` (expires = epoch seconds), base64url,
 * compared in constant time; changing the path or the expiry breaks it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a link was refused (or `ok`). */
export type LinkCheck = 'ok' | 'missing' | 'bad-signature' | 'expired';

function mac(secret: string, path: string, expiresS: number): string {
  return createHmac('sha256', secret).update(`${path}\n${expiresS}`).digest('base64url');
}

/** The query string (`expires=…&sig=…`) that makes `path` fetchable until `expiresS` (epoch seconds). */
export function signLink(secret: string, path: string, expiresS: number): string {
  return `expires=${expiresS}&sig=${mac(secret, path, expiresS)}`;
}

/** Checks a link's `expires` and `sig` query values for `path` at `nowMs`. A bad signature wins over expiry. */
export function checkLink(secret: string, path: string, expires: string | undefined, sig: string | undefined, nowMs: number): LinkCheck {
  if (!expires || !sig) return 'missing';
  if (!/^\d{1,12}$/.test(expires)) return 'bad-signature';
  const want = Buffer.from(mac(secret, path, Number(expires)));
  const got = Buffer.from(sig);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return 'bad-signature';
  return Number(expires) * 1000 < nowMs ? 'expired' : 'ok';
}

/** The link secret when none is configured: derived from another secret, so it is stable across restarts. */
export function deriveLinkSecret(from: string): string {
  return createHmac('sha256', 'switchboard recording links').update(from).digest('base64url');
}
