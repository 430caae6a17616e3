/**
 * Value formats the schema checks: E.164 numbers, extensions, IP addresses and CIDR blocks, host names, URLs,
 * IANA time zones. Each returns a problem message, or null when the value is fine.
 */
import { isIP } from 'node:net';
import { IANAZone } from 'luxon';

/** E.164 with a leading '+': country code (no leading 0) and up to 15 digits in all. */
export function checkE164(v: string): string | null {
  return /^\+[1-9]\d{1,14}$/.test(v) ? null : `must be an E.164 number with '+' (like "+61390000000"), got '${v}'`;
}

/** A forwarding target: an extension (digits) or an external number (E.164 with '+', or national digits). */
export function checkForwardTarget(v: string): string | null {
  return /^\+?\d{1,20}$/.test(v) ? null : `must be an extension or a phone number (digits, optionally with a leading '+'), got '${v}'`;
}

/** Extensions are digits only. */
export function checkDigits(v: string): string | null {
  return /^\d{1,20}$/.test(v) ? null : `must be digits only (1 to 20), got '${v}'`;
}

/** An IPv4/IPv6 address, or a CIDR block `addr/prefix` (prefix ≤ 32 for IPv4, ≤ 128 for IPv6). */
export function checkIpOrCidr(v: string): string | null {
  const bad = `must be an IPv4/IPv6 address or CIDR block (like 127.0.0.1/8 or ::1), got '${v}'`;
  const slash = v.indexOf('/');
  if (slash < 0) return isIP(v) === 0 ? bad : null;
  const family = isIP(v.slice(0, slash));
  const prefix = v.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return bad;
  return Number(prefix) <= (family === 4 ? 32 : 128) ? null : bad;
}

/** An IP address or an RFC 1123 host name. */
export function checkHost(v: string): string | null {
  if (isIP(v) !== 0) return null;
  const label = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
  const ok = v.length <= 253 && v.split('.').every((l) => label.test(l));
  return ok ? null : `must be an IP address or host name, got '${v}'`;
}

/** An absolute http:// or https:// URL with a host. */
export function checkHttpUrl(v: string): string | null {
  const bad = `must be an http:// or https:// URL, got '${v}'`;
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' ? null : bad;
  } catch {
    return bad;
  }
}

/** A Redis connection URL: redis:// or rediss:// (TLS) with a host; an optional /N selects the database. */
export function checkRedisUrl(v: string): string | null {
  const bad = `must be a redis:// or rediss:// URL (redis://[user:password@]host[:port][/db]), got '${v.replace(/\/\/[^@/]*@/, '//***@')}'`;
  try {
    const u = new URL(v);
    if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') return bad;
    return u.pathname === '' || /^\/\d{0,2}$/.test(u.pathname) ? null : bad;
  } catch {
    return bad;
  }
}

/** An IANA time zone name known to the runtime (luxon). */
export function checkTimeZone(v: string): string | null {
  return IANAZone.isValidZone(v) ? null : `must be an IANA time zone (like "Australia/Melbourne"), got '${v}'`;
}

/** A plausible e-mail address (one '@', no spaces, a dot in the domain). */
export function checkEmail(v: string): string | null {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? null : `must be an e-mail address, got '${v}'`;
}

/** A Standard Webhooks secret: `whsec_` followed by base64 of at least 24 bytes. */
/** A shared HMAC key: at least 16 characters, so it is not guessable. */
export function checkNonceSecret(v: string): string | null {
  return v.length >= 16 ? null : `must be at least 16 characters, got ${v.length}`;
}

export function checkSigningSecret(v: string): string | null {
  const body = v.startsWith('whsec_') ? v.slice(6) : '';
  const ok = /^[A-Za-z0-9+/]+={0,2}$/.test(body) && Buffer.from(body, 'base64').length >= 24;
  return ok ? null : "must be 'whsec_' followed by base64 of at least 24 bytes";
}

/** Edit distance counting an adjacent swap as one edit (optimal string alignment), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
