/**
 * Who may call the API (SPEC.md §4): the `token` header compared in constant time, the source address checked
 * against `api.whitelisted_ips` (addresses and CIDR blocks, IPv4 and IPv6), `api.trusted_proxies` deciding whether
 * X-Forwarded-For is believed, and a per-key rate limit.
 *
 * Addresses are compared as 128-bit numbers: an IPv4 address a.b.c.d is the IPv4-mapped IPv6 address
 * ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) and an IPv4 block /n is the mapped block /(96+n), so `127.0.0.1`,
 * `::ffff:127.0.0.1` and `::ffff:7f00:1` are the same client and match the same entries.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Clock } from '../common/index.js';

const MAPPED_PREFIX = 0xffffn << 32n;
const ALL_ONES = (1n << 128n) - 1n;

/** Parses a dotted-quad IPv4 address into a 32-bit number; null if invalid. */
function parseIPv4(text: string): bigint | null {
  if (!isIPv4(text)) return null;
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/**
 * Parses an IP address (IPv4, IPv6 with `::` and an embedded IPv4 tail, an optional `%zone`, optional `[...]`)
 * into its 128-bit value, IPv4 as IPv4-mapped IPv6. Returns null for anything else.
 */
export function parseAddress(input: string): bigint | null {
  let text = input.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const v4 = parseIPv4(text);
  if (v4 !== null) return MAPPED_PREFIX | v4;
  if (!isIPv6(text)) return null;
  const lastColon = text.lastIndexOf(':');
  const tailV4 = text.includes('.') ? parseIPv4(text.slice(lastColon + 1)) : null;
  if (text.includes('.')) {
    if (tailV4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${(tailV4 >> 16n).toString(16)}:${(tailV4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const groups = (s: string | undefined): bigint[] => (s ? s.split(':').map((g) => BigInt(parseInt(g, 16))) : []);
  const left = groups(head);
  const right = groups(rest);
  const fill = 8 - left.length - right.length;
  if (rest === undefined ? fill !== 0 : fill < 1) return null;
  const all = [...left, ...Array<bigint>(rest === undefined ? 0 : fill).fill(0n), ...right];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** One whitelist entry as a 128-bit network and mask. */
interface Block {
  network: bigint;
  mask: bigint;
}

/** Parses `addr` or `addr/prefix` (IPv4 or IPv6); null if invalid. An IPv4 prefix n becomes 96+n. */
export function parseBlock(entry: string): Block | null {
  const slash = entry.indexOf('/');
  const addrText = slash >= 0 ? entry.slice(0, slash) : entry;
  const addr = parseAddress(addrText);
  if (addr === null) return null;
  const v4 = isIPv4(addrText.trim());
  const maxBits = v4 ? 32 : 128;
  let bits = maxBits;
  if (slash >= 0) {
    const prefix = entry.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > maxBits) return null;
    bits = Number(prefix);
  }
  const prefixLen = BigInt(v4 ? 96 + bits : bits);
  const mask = prefixLen === 0n ? 0n : (ALL_ONES << (128n - prefixLen)) & ALL_ONES;
  return { network: addr & mask, mask };
}

/** True when `entry` is a valid address or CIDR block (for admin input validation). */
export function isValidBlock(entry: string): boolean {
  return parseBlock(entry) !== null;
}

/** A compiled address list: `matches(address)` is true when any entry contains the address. */
export interface AddressMatcher {
  matches(address: string | undefined): boolean;
}

/** Compiles address/CIDR entries into a matcher; invalid entries never match (config validation reports them). */
export function compileAddressList(entries: readonly string[]): AddressMatcher {
  const blocks = entries.map(parseBlock).filter((b): b is Block => b !== null);
  return {
    matches(address) {
      if (!address) return false;
      const value = parseAddress(address);
      if (value === null) return false;
      return blocks.some((b) => (value & b.mask) === b.network);
    },
  };
}

/**
 * The client's address. X-Forwarded-For is believed only hop by hop from the socket peer: while the current
 * hop is a trusted proxy, step to the address it says it received the request from (rightmost first). The first
 * untrusted hop is the client; a header that runs out or holds garbage leaves the last trusted-proxy-vouched hop.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trusted: AddressMatcher): string | undefined {
  let current = socketAddress;
  if (!current || forwardedFor === undefined || !trusted.matches(current)) return current;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',').map((h) => h.trim()).filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0 && trusted.matches(current); i--) {
    const hop = hops[i]!;
    if (parseAddress(hop) === null) break;
    current = hop;
  }
  return current;
}

/** Compares a presented key with the configured one in constant time (both hashed to equal length first). */
export function keyMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== 'string' || expected.length === 0) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Compiled matchers cached per list identity, so a request does not re-parse the configuration. */
export function createMatcherCache(): (entries: readonly string[]) => AddressMatcher {
  const cache = new WeakMap<readonly string[], AddressMatcher>();
  return (entries) => {
    let m = cache.get(entries);
    if (!m) {
      m = compileAddressList(entries);
      cache.set(entries, m);
    }
    return m;
  };
}

/** The outcome of {@link RateLimiter.take}: allowed, or refused with the seconds to wait. */
export type RateDecision = { ok: true } | { ok: false; retryAfterS: number };

/** A per-key token bucket: `perMinute` requests per minute, bursts up to `perMinute`. */
export interface RateLimiter {
  take(key: string, perMinute: number): RateDecision;
  /** Whether `take` would refuse now, without taking a token (the failed-request limit checks before the key). */
  peek(key: string, perMinute: number): RateDecision;
}

/** How many keys the limiter remembers before it forgets the least recently used. */
const MAX_KEYS = 1024;

/** Builds a token-bucket rate limiter driven by the injected clock. `perMinute <= 0` means unlimited. */
export function createRateLimiter(clock: Clock): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refill = (key: string, perMinute: number, now: number): number => {
    const prev = buckets.get(key);
    return prev ? Math.min(perMinute, prev.tokens + (now - prev.at) * (perMinute / 60_000)) : perMinute;
  };
  const refusal = (tokens: number, perMinute: number): RateDecision =>
    ({ ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / (perMinute / 60_000) / 1000)) });
  return {
    peek(key, perMinute) {
      if (!(perMinute > 0)) return { ok: true };
      const tokens = refill(key, perMinute, clock.now());
      return tokens >= 1 ? { ok: true } : refusal(tokens, perMinute);
    },
    take(key, perMinute) {
      if (!(perMinute > 0)) return { ok: true };
      const now = clock.now();
      let tokens = refill(key, perMinute, now);
      buckets.delete(key);
      if (buckets.size >= MAX_KEYS) buckets.delete(buckets.keys().next().value as string);
      if (tokens >= 1) {
        tokens -= 1;
        buckets.set(key, { tokens, at: now });
        return { ok: true };
      }
      buckets.set(key, { tokens, at: now });
      return refusal(tokens, perMinute);
    },
  };
}
