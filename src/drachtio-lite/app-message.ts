/**
 * Turning the SIP text an app sends (drachtio-srf's serializer) into our message model.
 *
 * drachtio-srf writes header names lower-cased, leaves out whatever the server fills in (Via, Max-Forwards, often
 * From/To/Call-ID/CSeq/Contact), and computes Content-Length as the body's UTF-16 length. So the body is taken as
 * everything after the empty line, the app's Content-Length is discarded (our serializer writes the byte length),
 * and header names get their conventional spelling back.
 */
import { canonicalName, parseHead, SipRequest, SipResponse, splitChallenges, type HeaderField, type SipMessage } from '../sip/index.js';

const SPECIAL_CASE: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version',
  rack: 'RAck', rseq: 'RSeq', 'min-se': 'Min-SE', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match', 'p-asserted-identity': 'P-Asserted-Identity',
};

/** Conventional spelling of a header name (`call-id` → `Call-ID`, `content-type` → `Content-Type`); X-/P- names are kept. */
export function conventionalHeaderName(name: string): string {
  if (/^[xXpP]-/.test(name)) return name;
  const lower = canonicalName(name);
  return SPECIAL_CASE[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** Why an app's SIP text could not be used. */
export interface AppMessageError { code: 'SB_ERR_APP_SIP'; message: string }

/** Parses the SIP part of a `sip` command. Never throws. */
export function parseAppMessage(text: string): { ok: true; message: SipMessage } | { ok: false; error: AppMessageError } {
  const sep = text.indexOf('\r\n\r\n');
  const headText = sep === -1 ? text.replace(/\r\n$/, '') : text.slice(0, sep);
  const bodyText = sep === -1 ? '' : text.slice(sep + 4);
  const head = parseHead(headText);
  if (!head.ok) return { ok: false, error: { code: 'SB_ERR_APP_SIP', message: head.error.message } };
  const headers: HeaderField[] = [];
  for (const h of head.head.headers) {
    const lower = canonicalName(h.name);
    if (lower === 'content-length') continue;
    const name = conventionalHeaderName(h.name);
    // srf joins repeated headers with ','; challenges go out one per header line (RFC 8760 §2.4), which is
    // what phones parse.
    if (lower === 'www-authenticate' || lower === 'proxy-authenticate') {
      for (const value of splitChallenges(h.value)) headers.push({ name, value });
    } else headers.push({ name, value: h.value });
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
    if (!skip.has(canonicalName(h.name))) target.append(h.name, h.value);
  }
}

/** Adds `Content-Type: application/sdp` when a body that looks like SDP has no Content-Type (as drachtio-server does). */
export function defaultContentType(msg: SipMessage): void {
  if (msg.body.length > 0 && !msg.has('content-type') && msg.body.subarray(0, 3).toString('latin1') === 'v=0') {
    msg.set('Content-Type', 'application/sdp');
  }
}

const LOCALHOST_HEADERS = new Set(['from', 'to', 'contact', 'p-asserted-identity']);

/**
 * drachtio-srf writes `sip:<number>@localhost` (e.g. createUAC's `callingNumber` sets From and Contact so); like
 * drachtio-server, replace `@localhost` in From, To, Contact and P-Asserted-Identity with our `host:port`.
 */
export function replaceLocalhost(msg: SipMessage, hostport: string): void {
  for (const h of msg.headers) {
    if (LOCALHOST_HEADERS.has(canonicalName(h.name)) && /@localhost\b/i.test(h.value)) {
      h.value = h.value.replace(/@localhost(:\d+)?/gi, `@${hostport}`);
    }
  }
}
