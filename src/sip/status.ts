/**
 * SIP status codes (RFC 3261 §21 plus the common extensions) as one named map, their reason phrases, and
 * `createResponse`, which builds a response from a request per RFC 3261 §8.2.6.
 */
import { canonicalName, SipResponse, type HeaderField, type SipRequest } from './message.js';
import { getTag, setTag } from './headers.js';

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
  for (const h of req.headers) if (canonicalName(h.name) === 'via') headers.push({ name: 'Via', value: h.value });
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
