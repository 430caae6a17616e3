/**
 * Turning the SIP text an app sends (drachtio-srf's serializer) into our message model.
 *
 * drachtio-srf writes header names lower-cased, leaves out whatever the server fills in (Via, Max-Forwards, often
 * From/To/Call-ID/CSeq/Contact), and computes Content-Length as the body's UTF-16 length. So the body is taken as
 * everything after the empty line, the app's Content-Length is discarded (our serializer writes the byte length),
 * and header names get their conventional spelling back.
 */
import { canonicalName, keyOf, parseHead, SipRequest, SipResponse, splitChallenges, type HeaderField, type SipMessage } from '../sip/index.js';

const SPECIAL_CASE: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version',
  rack: 'RAck', rseq: 'RSeq', 'min-se': 'Min-SE', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match', 'p-asserted-identity': 'P-Asserted-Identity',
};

/**
 * Conventional spelling of a header name (`call-id` → `Call-ID`, `content-type` → `Content-Type`); X-/P- names are kept.
 * Runs for every header of every message an app sends: one scan, no regular expression.
 */
export function conventionalHeaderName(name: string): string {
  const c0 = name.charCodeAt(0) | 0x20;
  if ((c0 === 0x78 /* x */ || c0 === 0x70 /* p */) && name.charCodeAt(1) === 0x2d /* - */) return name;
  const lower = canonicalName(name);
  const special = SPECIAL_CASE[lower];
  if (special !== undefined) return special;
  let out = '';
  let start = 0;
  for (let i = 0; i <= lower.length; i++) {
    if (i < lower.length && lower.charCodeAt(i) !== 0x2d) continue;
    if (i > start) {
      const c = lower.charCodeAt(start);
      out += (c >= 0x61 && c <= 0x7a ? String.fromCharCode(c - 0x20) : lower.charAt(start)) + lower.slice(start + 1, i);
    }
    if (i < lower.length) out += '-';
    start = i + 1;
  }
  return out;
}

/** Why an app's SIP text could not be used. */
export interface AppMessageError { code: 'SB_ERR_APP_SIP'; message: string }

/** Parses the SIP part of a `sip` command. Never throws. */
export function parseAppMessage(text: string): { ok: true; message: SipMessage } | { ok: false; error: AppMessageError } {
  const sep = text.indexOf('\r\n\r\n');
  const headText = sep !== -1 ? text.slice(0, sep) : text.endsWith('\r\n') ? text.slice(0, -2) : text;
  const bodyText = sep === -1 ? '' : text.slice(sep + 4);
  const head = parseHead(headText);
  if (!head.ok) return { ok: false, error: { code: 'SB_ERR_APP_SIP', message: head.error.message } };
  const headers: HeaderField[] = [];
  for (const h of head.head.headers) {
    const lower = keyOf(h);
    if (lower === 'content-length') continue;
    const name = conventionalHeaderName(h.name);
    // srf joins repeated headers with ','; challenges go out one per header line (RFC 8760 §2.4), which is
    // what phones parse.
    if (lower === 'www-authenticate' || lower === 'proxy-authenticate') {
      for (const value of splitChallenges(h.value)) headers.push({ name, value, key: lower });
    } else headers.push({ name, value: h.value, key: lower });
  }
  const body = Buffer.from(bodyText, 'utf8');
  const s = head.head.start;
  const message = s.kind === 'request'
    ? new SipRequest(s.method.toUpperCase(), s.uri, headers, body)
    : new SipResponse(s.status, s.reason, headers, body);
  return { ok: true, message };
}

/** One splitter for joined challenges, shared with the digest server (re-exported for this module's users). */
export { splitChallenges };

/** Headers the server owns on anything it sends; an app's values for them are ignored or used as hints. */
const SERVER_OWNED = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'max-forwards', 'route', 'record-route']);

/** Copies the app's headers that the server does not own onto `target` (appended in the app's order). */
export function copyAppHeaders(from: SipMessage, target: SipMessage, alsoSkip: readonly string[] = []): void {
  const skip = new Set([...SERVER_OWNED, ...alsoSkip]);
  for (const h of from.headers) {
    if (!skip.has(keyOf(h))) target.append(h.name, h.value);
  }
}

/** Adds `Content-Type: application/sdp` when a body that looks like SDP has no Content-Type (as drachtio-server does). */
export function defaultContentType(msg: SipMessage): void {
  if (msg.body.length > 0 && !msg.has('content-type') && msg.body.subarray(0, 3).toString('latin1') === 'v=0') {
    msg.set('Content-Type', 'application/sdp');
  }
}

const LOCALHOST_HEADERS = new Set(['from', 'to', 'contact', 'p-asserted-identity']);

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x5f;
}

/** `/@localhost\b/i.test(v)` without a regular expression (every From/To/Contact an app sends is checked). */
function hasAtLocalhost(v: string): boolean {
  for (let i = v.indexOf('@'); i !== -1; i = v.indexOf('@', i + 1)) {
    if (v.length >= i + 10 && v.slice(i + 1, i + 10).toLowerCase() === 'localhost' && !isWordChar(v.charCodeAt(i + 10))) return true;
  }
  return false;
}

/**
 * drachtio-srf writes `sip:<number>@localhost` (e.g. createUAC's `callingNumber` sets From and Contact so); like
 * drachtio-server, replace `@localhost` in From, To, Contact and P-Asserted-Identity with our `host:port`.
 */
export function replaceLocalhost(msg: SipMessage, hostport: string): void {
  for (const h of msg.headers) {
    if (LOCALHOST_HEADERS.has(keyOf(h)) && hasAtLocalhost(h.value)) {
      h.value = h.value.replace(/@localhost(:\d+)?/gi, `@${hostport}`);
    }
  }
}
