/**
 * Identifier helpers. IDs we own carry a prefix (`leg_`, `evt_`, `dlv_`) and are branded strings
 * (STYLE.md §4). Randomness comes from `node:crypto`.
 */
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** A string branded with a nominal type, e.g. `Brand<'LegId'>`. */
export type Brand<B extends string> = string & { readonly __brand: B };

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random lower-case alphanumeric string of `length` characters (≈5.2 bits each). */
export function randomToken(length = 16): string {
  const bytes = randomBytes(length);
  let out = '';
  // 252 = 7 * 36: reject the top of the byte range so every character is equally likely.
  for (let i = 0; i < length; i++) {
    let b = bytes[i]!;
    while (b >= 252) b = randomBytes(1)[0]!;
    out += ALPHABET[b % 36];
  }
  return out;
}

/** A random hex string of `bytes` random bytes. */
export function randomHex(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

/** A new prefixed identifier such as `leg_k3j…`, cast to the caller's branded type. */
export function newId<T extends string = string>(prefix: string, length = 20): T {
  return `${prefix}_${randomToken(length)}` as T;
}

/**
 * A time-ordered identifier: `<prefix>_` + the 32 hex digits of a UUIDv7 (RFC 9562 §5.7) stamped with `atMs`, so the
 * first 12 digits are the time in ms and the rest carries 73 random bits. Ids made later sort later, which keeps
 * store indexes on them growing at their right edge. A time that is not a positive finite number stamps 0.
 */
export function newTimeOrderedId<T extends string = string>(prefix: string, atMs: number): T {
  const msecs = Number.isFinite(atMs) && atMs > 0 ? Math.trunc(atMs) : 0;
  return `${prefix}_${uuidv7({ msecs }).replaceAll('-', '')}` as T;
}
