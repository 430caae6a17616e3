/**
 * The SIP message model (RFC 3261 §7).
 *
 * Headers are kept as an ordered list of raw fields so that anything we do not understand is forwarded
 * byte for byte; typed views (Via, name-addr, CSeq, …) are parsed on demand by `headers.ts`.
 */
import { ownString } from '../common/index.js';
import type { Endpoint, TransportProtocol } from './transport/transport.js';

/** One header line as received (or as we will send it). `name` keeps its original spelling; `value` is unfolded and trimmed. */
export interface HeaderField {
  /** Read-only: `key` is derived from it. */
  readonly name: string;
  value: string;
  /**
   * `canonicalName(name)`, set by whoever made the field when it is at hand (the parser, `append`…): every `get()`
   * walks the header list, and this spares a cache lookup per header per walk. Fields without it still match.
   */
  readonly key?: string;
}

/** RFC 3261 §7.3.3 compact forms, mapped to their canonical lower-case long names. */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  x: 'session-expires',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity',
};

/**
 * Headers whose values may be comma-separated lists (RFC 3261 §7.3.1). Others (e.g. WWW-Authenticate,
 * Date, Call-ID) contain commas that are not list separators.
 */
const LIST_HEADERS = new Set([
  'via', 'contact', 'route', 'record-route', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding', 'in-reply-to', 'path',
  'service-route', 'p-asserted-identity', 'alert-info', 'call-info', 'error-info', 'reply-to',
]);

/**
 * Names already canonicalized. Header names repeat endlessly (`Via`, `call-id`, `CSeq`…) and every `get()` walks
 * the header list, so a lookup here saves a `toLowerCase()` allocation per header per call. Bounded: spellings
 * past the limit (hostile input) are computed each time instead of cached.
 */
const CANONICAL_CACHE = new Map<string, string>();
const CANONICAL_CACHE_MAX = 2048;

/** Canonical lower-case long name of a header (compact forms expanded). */
export function canonicalName(name: string): string {
  const cached = CANONICAL_CACHE.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const canonical = COMPACT_FORMS[lower] ?? lower;
  if (CANONICAL_CACHE.size < CANONICAL_CACHE_MAX && name.length <= 64) CANONICAL_CACHE.set(name, canonical);
  return canonical;
}

/** A field's canonical name: its `key`, or computed. */
export function keyOf(h: HeaderField): string {
  return h.key ?? canonicalName(h.name);
}

/** A field with its canonical name at hand. */
export function headerField(name: string, value: string): HeaderField {
  return { name, value, key: canonicalName(name) };
}

/** Whether a header's value may hold several comma-separated entries. */
export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(canonicalName(name));
}

/**
 * Splits a header value on commas that are outside double quotes and angle brackets (RFC 3261 §7.3.1).
 * A `Contact: *` stays one entry.
 */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  let depthAngle = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (inQuote) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inQuote = false;
    } else if (ch === 0x22) inQuote = true;
    else if (ch === 0x3c /* < */) depthAngle++;
    else if (ch === 0x3e /* > */) depthAngle = Math.max(0, depthAngle - 1);
    else if (ch === 0x2c /* , */ && depthAngle === 0) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

abstract class SipMessageBase {
  headers: HeaderField[];
  body: Buffer;

  constructor(headers: HeaderField[] = [], body: Buffer = Buffer.alloc(0)) {
    this.headers = headers;
    this.body = body;
  }

  /** First value of a header (compact forms match their long names), or undefined. For list headers this is the whole first line. */
  get(name: string): string | undefined {
    const want = canonicalName(name);
    for (const h of this.headers) if (keyOf(h) === want) return h.value;
    return undefined;
  }

  /** Every value of a header, in order; list headers are split into their entries. */
  getAll(name: string): string[] {
    const want = canonicalName(name);
    const list = LIST_HEADERS.has(want);
    const out: string[] = [];
    for (const h of this.headers) {
      if (keyOf(h) !== want) continue;
      if (list) out.push(...splitHeaderList(h.value));
      else out.push(h.value);
    }
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every occurrence of a header with one field (at the position of the first, or appended). */
  set(name: string, value: string): this {
    const want = canonicalName(name);
    const idx = this.headers.findIndex((h) => keyOf(h) === want);
    this.remove(name);
    if (idx === -1) this.headers.push(headerField(name, value));
    else this.headers.splice(Math.min(idx, this.headers.length), 0, headerField(name, value));
    return this;
  }

  /** Appends a header field after all existing ones. */
  append(name: string, value: string): this {
    this.headers.push(headerField(name, value));
    return this;
  }

  /** Inserts a header field before any existing field of the same name (a new top Via, a new top Record-Route). */
  prepend(name: string, value: string): this {
    const want = canonicalName(name);
    const idx = this.headers.findIndex((h) => keyOf(h) === want);
    if (idx === -1) this.headers.unshift(headerField(name, value));
    else this.headers.splice(idx, 0, headerField(name, value));
    return this;
  }

  /** Removes every occurrence of a header; returns how many fields were removed. */
  remove(name: string): number {
    const want = canonicalName(name);
    const before = this.headers.length;
    this.headers = this.headers.filter((h) => keyOf(h) !== want);
    return before - this.headers.length;
  }

  /** Removes only the first entry of a list header (the top Via), keeping the rest of that line. */
  removeFirstEntry(name: string): void {
    const want = canonicalName(name);
    const idx = this.headers.findIndex((h) => keyOf(h) === want);
    if (idx === -1) return;
    const entries = splitHeaderList(this.headers[idx]!.value);
    if (entries.length <= 1) this.headers.splice(idx, 1);
    else this.headers[idx] = headerField(this.headers[idx]!.name, entries.slice(1).join(', '));
  }

  get callId(): string | undefined {
    return this.get('call-id');
  }

  abstract clone(): SipMessage;
}

/** A SIP request. `uri` is the raw Request-URI text (parse it with `parseUri` when needed). */
export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  method: string;
  uri: string;
  version: string;

  constructor(method: string, uri: string, headers: HeaderField[] = [], body?: Buffer, version = 'SIP/2.0') {
    super(headers, body);
    this.method = method;
    this.uri = uri;
    this.version = version;
  }

  clone(): SipRequest {
    return new SipRequest(this.method, this.uri, this.headers.map((h) => ({ ...h })), this.body, this.version);
  }
}

/** A SIP response. */
export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;
  version: string;

  constructor(status: number, reason: string, headers: HeaderField[] = [], body?: Buffer, version = 'SIP/2.0') {
    super(headers, body);
    this.status = status;
    this.reason = reason;
    this.version = version;
  }

  clone(): SipResponse {
    return new SipResponse(this.status, this.reason, this.headers.map((h) => ({ ...h })), this.body, this.version);
  }
}

export type SipMessage = SipRequest | SipResponse;

// Where a message came from or goes: declared with the transports (they use it), re-exported here for callers.
export type { Endpoint } from './transport/transport.js';

/** The empty body of every skeleton request (see {@link requestSkeleton}); {@link isSkeleton} knows them by it. */
const SKELETON_BODY = Buffer.alloc(0);

/**
 * A copy of `req` to hold long after it was handled (a transaction waiting out its timers, an app transaction
 * after its final response): method, Request-URI, version and the headers whose canonical names are in `keep`,
 * every value an own copy (not a slice that pins the whole message text), no body.
 */
export function requestSkeleton(req: SipRequest, keep: ReadonlySet<string>): SipRequest {
  // filter + map: arrays of exactly their length (pushing into [] leaves room for 16).
  const headers = req.headers.filter((h) => keep.has(keyOf(h))).map((h) => headerField(h.name, ownString(h.value)));
  return new SipRequest(ownString(req.method), ownString(req.uri), headers, SKELETON_BODY, req.version);
}

/** Whether `req` was made by {@link requestSkeleton}. */
export function isSkeleton(req: SipRequest): boolean {
  return req.body === SKELETON_BODY;
}
