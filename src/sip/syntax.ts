/**
 * SIP syntax as pure functions (no I/O, no state, no randomness): the status-code map and reason phrases, tokens,
 * quoted strings, header parameters, name-addr / addr-spec (RFC 3261 §25.1) and lists of them (Contact), and the
 * user part of a SIP URI. The SIP core builds on it, and it is the one part of `sip/` the engine may import
 * (STYLE.md §3 exception, module-boundaries.test.ts): the engine reads the headers srf hands it with the same
 * grammar as the core instead of looser regexes. Every function runs in time linear in its input.
 */

/** Named status codes; logic uses these, never bare literals (STYLE.md §4). */
export const Status = {
  Trying: 100,
  Ringing: 180,
  CallIsBeingForwarded: 181,
  Queued: 182,
  SessionProgress: 183,
  EarlyDialogTerminated: 199,
  OK: 200,
  Accepted: 202,
  NoNotification: 204,
  MultipleChoices: 300,
  MovedPermanently: 301,
  MovedTemporarily: 302,
  UseProxy: 305,
  AlternativeService: 380,
  BadRequest: 400,
  Unauthorized: 401,
  PaymentRequired: 402,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  ProxyAuthenticationRequired: 407,
  RequestTimeout: 408,
  Gone: 410,
  ConditionalRequestFailed: 412,
  RequestEntityTooLarge: 413,
  RequestUriTooLong: 414,
  UnsupportedMediaType: 415,
  UnsupportedUriScheme: 416,
  UnknownResourcePriority: 417,
  BadExtension: 420,
  ExtensionRequired: 421,
  SessionIntervalTooSmall: 422,
  IntervalTooBrief: 423,
  BadLocationInformation: 424,
  UseIdentityHeader: 428,
  ProvideReferrerIdentity: 429,
  FlowFailed: 430,
  AnonymityDisallowed: 433,
  BadIdentityInfo: 436,
  UnsupportedCertificate: 437,
  InvalidIdentityHeader: 438,
  FirstHopLacksOutboundSupport: 439,
  MaxBreadthExceeded: 440,
  BadInfoPackage: 469,
  ConsentNeeded: 470,
  TemporarilyUnavailable: 480,
  CallTransactionDoesNotExist: 481,
  LoopDetected: 482,
  TooManyHops: 483,
  AddressIncomplete: 484,
  Ambiguous: 485,
  BusyHere: 486,
  RequestTerminated: 487,
  NotAcceptableHere: 488,
  BadEvent: 489,
  RequestPending: 491,
  Undecipherable: 493,
  SecurityAgreementRequired: 494,
  ServerInternalError: 500,
  NotImplemented: 501,
  BadGateway: 502,
  ServiceUnavailable: 503,
  ServerTimeout: 504,
  VersionNotSupported: 505,
  MessageTooLarge: 513,
  PreconditionFailure: 580,
  BusyEverywhere: 600,
  Decline: 603,
  DoesNotExistAnywhere: 604,
  NotAcceptableAnywhere: 606,
  Unwanted: 607,
} as const;

/** A status code value of the {@link Status} map. */
export type StatusCode = (typeof Status)[keyof typeof Status];

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  199: 'Early Dialog Terminated', 200: 'OK', 202: 'Accepted', 204: 'No Notification', 300: 'Multiple Choices',
  301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy', 380: 'Alternative Service',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  410: 'Gone', 412: 'Conditional Request Failed', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 417: 'Unknown Resource-Priority',
  420: 'Bad Extension', 421: 'Extension Required', 422: 'Session Interval Too Small', 423: 'Interval Too Brief',
  424: 'Bad Location Information', 428: 'Use Identity Header', 429: 'Provide Referrer Identity', 430: 'Flow Failed',
  433: 'Anonymity Disallowed', 436: 'Bad Identity-Info', 437: 'Unsupported Certificate', 438: 'Invalid Identity Header',
  439: 'First Hop Lacks Outbound Support', 440: 'Max-Breadth Exceeded', 469: 'Bad Info Package', 470: 'Consent Needed',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
  489: 'Bad Event', 491: 'Request Pending', 493: 'Undecipherable', 494: 'Security Agreement Required',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large', 580: 'Precondition Failure',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable', 607: 'Unwanted',
};

const CLASS_REASONS: Record<number, string> = { 1: 'Provisional', 2: 'Success', 3: 'Redirection', 4: 'Client Error', 5: 'Server Error', 6: 'Global Failure' };

/** The standard reason phrase of a status code (a class phrase such as "Client Error" for unknown codes). */
export function reasonPhrase(code: number): string {
  return REASONS[code] ?? CLASS_REASONS[Math.floor(code / 100)] ?? 'Unknown';
}

/** A name-addr or addr-spec (RFC 3261 §25.1). `uri` is the raw text inside `<>` (or the bare addr-spec). */
export interface NameAddr {
  displayName?: string;
  uri: string;
  /** Header parameters (`tag`, `expires`, `q`…); names lower-cased; quoted values keep their quotes. */
  params: Record<string, string | null>;
}

const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") TOKEN_CHARS[ch.charCodeAt(0)] = 1;

/** Whether `c` (a char code) is an RFC 3261 token character. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1;
}

/** Whether the whole string is a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** Whether `c` (a char code) is white space (SP, HTAB, CR, LF). */
export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** Index of the first non-white-space character at or after `i`. */
export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past the closing quote of a quoted-string starting at `i` (which holds `"`), or -1. */
export function endOfQuoted(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/**
 * Parses `;name[=value]` parameters starting at `i` until the end of `s`. Values are tokens, IPv6 references,
 * host names or quoted strings (kept with their quotes). Returns undefined on a syntax error.
 */
export function parseParams(s: string, i = 0, into: Record<string, string | null> = {}): Record<string, string | null> | undefined {
  i = skipWs(s, i);
  while (i < s.length) {
    if (s.charCodeAt(i) !== 0x3b /* ; */) return undefined;
    i = skipWs(s, i + 1);
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) return undefined;
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWs(s, i);
    let value: string | null = null;
    if (i < s.length && s.charCodeAt(i) === 0x3d /* = */) {
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 0x22) {
        const end = endOfQuoted(s, i);
        if (end === -1) return undefined;
        value = s.slice(i, end);
        i = end;
      } else {
        const vStart = i;
        while (i < s.length) {
          const c = s.charCodeAt(i);
          if (isTokenChar(c) || c === 0x3a || c === 0x5b || c === 0x5d) i++;
          else break;
        }
        if (i === vStart) return undefined;
        value = s.slice(vStart, i);
      }
      i = skipWs(s, i);
    }
    into[name] = value;
  }
  return into;
}

/** Formats parameters as `;a=b;c`. */
export function formatParams(params: Record<string, string | null>): string {
  let out = '';
  for (const k in params) {
    const v = params[k];
    out += v === null || v === undefined ? `;${k}` : `;${k}=${v}`;
  }
  return out;
}

/** Index just past the token starting at `i` (`i` itself when none). */
export function readToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/** Removes the quotes and backslash escapes of a quoted-string. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(s.length - 1) !== 0x22) return s;
  if (s.indexOf('\\') === -1) return s.slice(1, -1);
  return s.slice(1, -1).replace(/\\(.)/gs, '$1');
}

/** Wraps a string in double quotes, escaping `"` and `\`. */
export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

function looksLikeUri(u: string): boolean {
  const colon = u.indexOf(':');
  if (colon <= 0) return false;
  for (let k = 0; k < u.length; k++) {
    const c = u.charCodeAt(k);
    if (c <= 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x7f) return false;
    if (k < colon && !((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (k > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)))) return false;
  }
  return true;
}

/** Parses a name-addr (`"Alice" <sip:a@x>;tag=1`) or addr-spec (`sip:a@x;tag=1`, where `;…` are header params). */
export function parseNameAddr(value: string): NameAddr | undefined {
  const s = value;
  let i = skipWs(s, 0);
  let displayName: string | undefined;
  let uri: string;
  if (s.charCodeAt(i) === 0x22) {
    const end = endOfQuoted(s, i);
    if (end === -1) return undefined;
    displayName = unquote(s.slice(i, end));
    i = skipWs(s, end);
    if (s.charCodeAt(i) !== 0x3c) return undefined;
  }
  const lt = s.charCodeAt(i) === 0x3c ? i : s.indexOf('<', i);
  let paramsAt: number;
  if (lt !== -1 && (displayName !== undefined || s.lastIndexOf(';', lt) < i)) {
    if (displayName === undefined && lt > i) {
      // Unquoted display name: *(token LWS)
      const dn = s.slice(i, lt).trim();
      for (let k = 0; k < dn.length; k++) {
        const c = dn.charCodeAt(k);
        if (c !== 0x20 && c !== 0x09 && !isTokenChar(c)) return undefined;
      }
      displayName = dn;
    }
    const gt = s.indexOf('>', lt);
    if (gt === -1) return undefined;
    uri = s.slice(lt + 1, gt);
    paramsAt = gt + 1;
  } else {
    // addr-spec: RFC 3261 §20.10 — parameters after the URI are header parameters.
    const semi = s.indexOf(';', i);
    uri = (semi === -1 ? s.slice(i) : s.slice(i, semi)).trimEnd();
    paramsAt = semi === -1 ? s.length : semi;
    // §20: "If the URI contains a comma, question mark or semicolon, the URI MUST be enclosed in angle brackets".
    if (uri.indexOf('?') !== -1 || uri.indexOf(',') !== -1) return undefined;
  }
  if (!looksLikeUri(uri)) return undefined;
  const params = parseParams(s, paramsAt);
  if (!params) return undefined;
  const na: NameAddr = { uri, params };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

/** Formats a name-addr, always in the `<>` form; the display name is quoted. */
export function formatNameAddr(n: NameAddr): string {
  const dn = n.displayName !== undefined && n.displayName !== '' ? quote(n.displayName) + ' ' : '';
  return `${dn}<${n.uri}>${formatParams(n.params)}`;
}


/** Splits a header value on the commas that separate its entries: outside quoted strings and `<…>`. Linear. */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22 /* " */ && depth === 0) {
      const end = endOfQuoted(value, i);
      if (end === -1) break; // unterminated: the rest is one entry (and will not parse)
      i = end - 1;
    } else if (c === 0x3c /* < */) depth++;
    else if (c === 0x3e /* > */) depth = Math.max(0, depth - 1);
    else if (c === 0x2c /* , */ && depth === 0) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The URI of a name-addr or addr-spec (`"A" <sip:a@h;transport=tcp>;expires=60` → `sip:a@h;transport=tcp`). */
export function nameAddrUri(value: string): string | undefined {
  return parseNameAddr(value)?.uri;
}

/** Whether `uri` has the `sip:` or `sips:` scheme (case-insensitive, RFC 3261 §19.1.1). */
export function isSipUri(uri: string): boolean {
  const c = uri.slice(0, 5).toLowerCase();
  return c.startsWith('sip:') || c === 'sips:';
}

/**
 * The URI text of a name-addr (inside `<>`, past a quoted display name) or of an addr-spec (up to its first `;`).
 * Lenient about an unquoted display name (phones send UTF-8 and punctuation there); linear.
 */
export function uriPartOf(value: string): string {
  let i = skipWs(value, 0);
  if (value.charCodeAt(i) === 0x22) {
    const end = endOfQuoted(value, i);
    if (end === -1) return '';
    i = end;
  }
  const lt = value.indexOf('<', i);
  if (lt !== -1) {
    const gt = value.indexOf('>', lt);
    return gt === -1 ? '' : value.slice(lt + 1, gt).trim();
  }
  const semi = value.indexOf(';', i);
  return (semi === -1 ? value.slice(i) : value.slice(i, semi)).trim();
}

/**
 * The user part of a `sip:`/`sips:` URI, %-decoded (`sip:%2B614@h` → `+614`), in a URI or a name-addr / addr-spec
 * (From, To); undefined when there is none, it is longer than `maxLength` or it does not decode.
 */
export function sipUriUser(uriOrNameAddr: string, maxLength = 128): string | undefined {
  const uri = uriPartOf(uriOrNameAddr);
  if (!isSipUri(uri)) return undefined;
  const rest = uri.slice(uri.indexOf(':') + 1);
  // userinfo ends at '@'; a ';' or '?' before it means there is none (RFC 3261 §25.1: they follow hostport).
  let at = -1;
  for (let i = 0; i < rest.length && at === -1; i++) {
    const c = rest.charCodeAt(i);
    if (c === 0x40 /* @ */) at = i;
    else if (c === 0x3b || c === 0x3f || c <= 0x20) break;
  }
  if (at <= 0 || at > maxLength) return undefined;
  try {
    return decodeURIComponent(rest.slice(0, at));
  } catch {
    return undefined;
  }
}

/**
 * The display-name of a name-addr (RFC 3261 §25.1: quoted-string or tokens before '<'), unquoted and trimmed, or
 * null; one linear scan (a regex such as `^\s*([^<"]+?)\s*<` backtracks quadratically on many spaces and no '<').
 */
export function displayNameOf(value: string): string | null {
  let i = 0;
  while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  if (value[i] === '"') {
    let out = '';
    for (let j = i + 1; j < value.length; j++) {
      const c = value[j]!;
      if (c === '\\' && j + 1 < value.length) out += value[++j];
      else if (c === '"') return out.trim() || null;
      else out += c;
    }
    return null;
  }
  const lt = value.indexOf('<', i);
  if (lt < 0 || value.lastIndexOf('"', lt) >= i) return null;
  return value.slice(i, lt).trim() || null;
}

/** One entry of a Contact list: its URI and header parameters (names lower-cased, values unquoted, `''` when valueless). */
export interface ContactEntry {
  uri: string;
  params: Record<string, string>;
}

/** A Contact header value: the wildcard, its entries, or what is wrong with it. */
export type ContactList = { ok: true; wildcard: true } | { ok: true; wildcard: false; contacts: ContactEntry[] } | { ok: false; error: string };

/**
 * Parses a Contact header value (RFC 3261 §20.10; srf joins repeated headers with commas): `*`, or at most `max`
 * name-addr / addr-spec entries with SIP URIs.
 */
export function parseContactList(value: string, max = 20): ContactList {
  if (value.trim() === '*') return { ok: true, wildcard: true };
  const entries = splitHeaderList(value);
  if (entries.length > max) return { ok: false, error: `${entries.length} contacts > ${max}` };
  const contacts: ContactEntry[] = [];
  for (const e of entries) {
    if (e === '*') return { ok: false, error: 'Contact * mixed with other contacts' };
    const na = parseNameAddr(e);
    if (!na) return { ok: false, error: `malformed contact: ${e.slice(0, 80)}` };
    if (!isSipUri(na.uri)) return { ok: false, error: `not a SIP URI: ${e.slice(0, 80)}` };
    const params: Record<string, string> = {};
    for (const k in na.params) params[k] = unquote(na.params[k] ?? '');
    contacts.push({ uri: na.uri.trim(), params });
  }
  return { ok: true, wildcard: false, contacts };
}

/** Drops what may not stand in a display name we write (quotes, backslashes, CR/LF: no header injection). */
function displayText(name: string): string {
  return name.replace(/["\\\r\n]/g, '');
}

/**
 * A name-addr for a caller identity we send (From, P-Asserted-Identity): `"Name" <sip:user@host>`; the user keeps
 * only number and token characters, and `anonymous` stands in for none.
 */
export function identityNameAddr(user: string | null, displayName: string | null, host: string): string {
  const u = (user ?? 'anonymous').replace(/[^0-9A-Za-z+*#._-]/g, '');
  const display = displayName ? `"${displayText(displayName)}" ` : '';
  return `${display}<sip:${u}@${host}>`;
}
