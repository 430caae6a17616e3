/**
 * SIP status codes (RFC 3261 §21 plus the common extensions) as one named map, their reason phrases, and
 * `createResponse`, which builds a response from a request per RFC 3261 §8.2.6.
 */
import { headerField, keyOf, SipResponse, type HeaderField, type SipRequest } from './message.js';
import { getTag, setTag } from './headers.js';
import { reasonPhrase } from './syntax.js';

export { Status, reasonPhrase, type StatusCode } from './syntax.js';

/** Options of {@link createResponse}. */
export interface CreateResponseOptions {
  /** To tag to add when the request's To has none (ignored for 100 Trying, RFC 3261 §8.2.6.2). */
  toTag?: string;
}

/**
 * Builds a response to `req` (RFC 3261 §8.2.6): the same Via header fields in the same order, From, To (with a tag
 * added when given and absent, never on 100), Call-ID and CSeq; a 100 also copies Timestamp (§8.2.6.1).
 * Content-Length is 0 (the serializer rewrites it when a body is set).
 */
export function createResponse(req: SipRequest, status: number, reason?: string, opts: CreateResponseOptions = {}): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new TypeError(`status must be an integer 100–699, got ${status}`);
  const headers: HeaderField[] = [];
  // §8.2.6.2: "The Via header field values in the response MUST equal the Via header field values in the request
  // and MUST maintain the same ordering."
  for (const h of req.headers) if (keyOf(h) === 'via') headers.push(headerField('Via', h.value));
  const from = req.get('from');
  if (from !== undefined) headers.push({ name: 'From', value: from });
  let to = req.get('to');
  if (to !== undefined) {
    // §8.2.6.2: "If a request contained a To tag in the request, the To header field in the response MUST equal that
    // of the request. However, if the To header field in the request did not contain a tag, the URI in the To header
    // field in the response MUST equal the URI in the To header field; additionally, the UAS MUST add a tag".
    if (opts.toTag && status !== 100 && getTag(to) === undefined) to = setTag(to, opts.toTag);
    headers.push({ name: 'To', value: to });
  }
  const callId = req.get('call-id');
  if (callId !== undefined) headers.push({ name: 'Call-ID', value: callId });
  const cseq = req.get('cseq');
  if (cseq !== undefined) headers.push({ name: 'CSeq', value: cseq });
  if (status === 100) {
    const ts = req.get('timestamp');
    if (ts !== undefined) headers.push({ name: 'Timestamp', value: ts });
  }
  headers.push({ name: 'Content-Length', value: '0' });
  return new SipResponse(status, reason ?? reasonPhrase(status), headers);
}
