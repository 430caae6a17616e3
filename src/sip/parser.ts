/**
 * SIP message parser (RFC 3261 §7). One pass over the header section: split lines, unfold continuation lines
 * (§7.3.1), keep names as spelled and values byte for byte (trimmed), then check the headers every element must
 * understand (Via, From, To, CSeq, Call-ID, Content-Length, Max-Forwards). No per-header objects beyond `HeaderField`.
 *
 * Failures are values carrying a stable code and the numbers at fault (`Content-Length 512 > 300 bytes left`).
 */
import { headerField, keyOf, SipRequest, SipResponse, splitHeaderList, type HeaderField, type SipMessage } from './message.js';
import { sipParseError, type SipParseError } from './errors.js';
import { isToken, parseCSeq, parseNameAddr, parseVia, readTag } from './headers.js';

/** Default byte limit of one message (STYLE.md §7: 64 KiB). */
export const DEFAULT_MAX_BYTES = 65536;
/** Default limit on the number of header lines. */
export const DEFAULT_MAX_HEADERS = 256;

/** Limits applied while parsing. */
export interface ParseOptions {
  /** Largest accepted message in bytes (default 65536). */
  maxBytes?: number;
  /** Largest accepted number of header fields (default 256). */
  maxHeaders?: number;
}

/** What could be read of the start line, so a transport can still answer 400 to a broken request. */
export type StartLineInfo = { kind: 'request'; method: string; uri: string } | { kind: 'response'; status: number };

/** Result of {@link parseMessage}. */
export type ParseResult =
  | { ok: true; message: SipMessage }
  | { ok: false; error: SipParseError; startLine?: StartLineInfo };

/** A parsed start line plus header fields, before the body is attached (shared with the stream framer). */
export interface ParsedHead {
  start: { kind: 'request'; method: string; uri: string; version: string } | { kind: 'response'; status: number; reason: string; version: string };
  headers: HeaderField[];
  /** The Content-Length value, when present. */
  contentLength?: number;
}

/** Result of {@link parseHead}. On failure, `contentLength` is set when the message length is still known. */
export type HeadResult =
  | { ok: true; head: ParsedHead }
  | { ok: false; error: SipParseError; startLine?: StartLineInfo; contentLength?: number };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const SIP_VERSION = /^SIP\/[0-9]+\.[0-9]+$/i;

function startLineInfo(start: ParsedHead['start'] | undefined): StartLineInfo | undefined {
  if (!start) return undefined;
  return start.kind === 'request' ? { kind: 'request', method: start.method, uri: start.uri } : { kind: 'response', status: start.status };
}

function parseStartLine(line: string): ParsedHead['start'] | SipParseError {
  if (line.length > 3 && line.charCodeAt(0) === 0x53 && line.startsWith('SIP/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2)
    const sp1 = line.indexOf(' ');
    if (sp1 === -1) return sipParseError('SB_ERR_SIP_PARSE', `Status-Line has no status code: "${clip(line)}"`);
    const version = line.slice(0, sp1);
    const code = line.slice(sp1 + 1, sp1 + 4);
    const after = line.charCodeAt(sp1 + 4);
    if (!SIP_VERSION.test(version)) return sipParseError('SB_ERR_SIP_PARSE', `bad SIP-Version "${clip(version)}" in Status-Line`);
    if (!/^[1-6][0-9][0-9]$/.test(code) || (line.length > sp1 + 4 && after !== 0x20)) {
      return sipParseError('SB_ERR_SIP_PARSE', `bad Status-Code "${clip(line.slice(sp1 + 1, sp1 + 8))}" (must be 3 digits, 100–699)`);
    }
    return { kind: 'response', status: Number(code), reason: line.slice(sp1 + 5), version };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 §7.1); exactly one SP between elements.
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 === -1 || sp2 === -1 || line.indexOf(' ', sp2 + 1) !== -1) {
    return sipParseError('SB_ERR_SIP_PARSE', `Request-Line must have 3 elements separated by single SP: "${clip(line)}"`);
  }
  const method = line.slice(0, sp1);
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!isToken(method)) return sipParseError('SB_ERR_SIP_PARSE', `bad Method "${clip(method)}"`);
  if (!SIP_VERSION.test(version)) return sipParseError('SB_ERR_SIP_PARSE', `bad SIP-Version "${clip(version)}" in Request-Line`);
  if (!validRequestUri(uri)) return sipParseError('SB_ERR_SIP_PARSE', `bad Request-URI "${clip(uri)}"`);
  // RFC 3261 §19.1.1: headers are not allowed in a SIP or SIPS Request-URI.
  // The user part may contain '?' (intmeth in RFC 4475), so only a '?' after the host counts.
  if (uri.indexOf('?', uri.indexOf('@') + 1) !== -1 && /^sips?:/i.test(uri)) return sipParseError('SB_ERR_SIP_PARSE', `Request-URI must not carry headers: "${clip(uri)}"`);
  return { kind: 'request', method, uri, version };
}

/** absoluteURI-shaped: `scheme:` then printable non-space characters, no `<>` or quotes. */
function validRequestUri(uri: string): boolean {
  const colon = uri.indexOf(':');
  if (colon <= 0 || colon === uri.length - 1) return false;
  const c0 = uri.charCodeAt(0);
  if (!((c0 >= 0x41 && c0 <= 0x5a) || (c0 >= 0x61 && c0 <= 0x7a))) return false;
  for (let i = 1; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return false;
    if (i < colon && !((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return false;
  }
  return true;
}

function clip(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}

/**
 * Parses a start line and header section (the text before the empty line, without it). Exported for the stream
 * framer; most callers want {@link parseMessage}.
 */
export function parseHead(text: string, maxHeaders = DEFAULT_MAX_HEADERS): HeadResult {
  let eol = text.indexOf('\n');
  let firstLine = eol === -1 ? text : text.slice(0, eol);
  if (firstLine.charCodeAt(firstLine.length - 1) === 0x0d) firstLine = firstLine.slice(0, -1);
  const start: ParsedHead['start'] | SipParseError =
    firstLine.indexOf('\r') === -1 ? parseStartLine(firstLine) : sipParseError('SB_ERR_SIP_PARSE', 'bare CR in the start line');
  const startOk = 'kind' in start ? start : undefined;
  const headers: HeaderField[] = [];
  const len = text.length;
  let pos = eol === -1 ? len : eol + 1;
  let badLine: string | undefined;
  while (pos < len) {
    // Work on indices into `text`; only the name and the trimmed value are sliced out.
    let next = text.indexOf('\n', pos);
    if (next === -1) next = len;
    let end = next > pos && text.charCodeAt(next - 1) === 0x0d ? next - 1 : next;
    const lineStart = pos;
    pos = next + 1;
    const cr = text.indexOf('\r', lineStart);
    if (cr !== -1 && cr < end) {
      // A bare CR is not a line end (RFC 3261 §7: lines end in CRLF) and must not survive into a value.
      badLine ??= text.slice(lineStart, end);
      continue;
    }
    if (end === lineStart) continue;
    const c0 = text.charCodeAt(lineStart);
    if (c0 === 0x20 || c0 === 0x09) {
      // RFC 3261 §7.3.1: a line starting with whitespace continues the previous header (folding → one SP).
      const prev = headers[headers.length - 1];
      const cont = text.slice(lineStart, end).trim();
      if (!prev) badLine ??= cont;
      else if (cont) prev.value = prev.value ? prev.value + ' ' + cont : cont;
      continue;
    }
    const colon = text.indexOf(':', lineStart);
    if (colon === -1 || colon >= end || colon === lineStart) {
      badLine ??= text.slice(lineStart, end);
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > lineStart && (text.charCodeAt(nameEnd - 1) === 0x20 || text.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
    const name = text.slice(lineStart, nameEnd);
    if (!isToken(name)) {
      badLine ??= text.slice(lineStart, end);
      continue;
    }
    let vs = colon + 1;
    while (vs < end && (text.charCodeAt(vs) === 0x20 || text.charCodeAt(vs) === 0x09)) vs++;
    while (end > vs && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
    headers.push(headerField(name, text.slice(vs, end)));
    if (headers.length > maxHeaders) break;
  }
  let contentLength: number | undefined;
  let clError: SipParseError | undefined;
  for (const h of headers) {
    const n = h.name;
    if (n.length === 1 ? n === 'l' || n === 'L' : n.length === 14 && n.toLowerCase() === 'content-length') {
      const v = h.value;
      if (!isDigits(v, 10)) {
        clError ??= sipParseError('SB_ERR_SIP_CONTENT_LENGTH', `bad Content-Length "${clip(v)}"`, 'Content-Length');
      } else if (contentLength !== undefined && contentLength !== Number(v)) {
        clError ??= sipParseError('SB_ERR_SIP_CONTENT_LENGTH', `conflicting Content-Length values ${contentLength} and ${Number(v)}`, 'Content-Length');
      } else contentLength = Number(v);
    }
  }
  const cl = clError ? undefined : contentLength;
  if (!startOk) return headFailure(start as SipParseError, undefined, cl);
  if (headers.length > maxHeaders) return headFailure(sipParseError('SB_ERR_SIP_TOO_LARGE', `more than ${maxHeaders} header fields`), startOk, cl);
  if (badLine !== undefined) return headFailure(sipParseError('SB_ERR_SIP_HEADER', `malformed header line "${clip(badLine)}"`), startOk, cl);
  if (clError) return headFailure(clError, startOk, cl);
  const bad = checkHeaders(headers);
  if (bad) return headFailure(bad, startOk, cl);
  const head: ParsedHead = { start: startOk, headers };
  if (contentLength !== undefined) head.contentLength = contentLength;
  return { ok: true, head };
}

function headFailure(error: SipParseError, start: ParsedHead['start'] | undefined, contentLength: number | undefined): HeadResult {
  const r: HeadResult = { ok: false, error };
  const sl = startLineInfo(start);
  if (sl) r.startLine = sl;
  if (contentLength !== undefined) r.contentLength = contentLength;
  return r;
}

function isDigits(s: string, maxLen: number): boolean {
  if (s.length === 0 || s.length > maxLen) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09) return true;
  }
  return false;
}

/** Checks the syntax of the headers every element must understand; returns the first problem. */
function checkHeaders(headers: HeaderField[]): SipParseError | undefined {
  let callId: string | undefined;
  for (const h of headers) {
    // parseHead's fields carry their canonical name, so the switch needs no lower-casing of its own.
    const name = keyOf(h);
    switch (name) {
      case 'via':
        for (const entry of h.value.indexOf(',') === -1 ? [h.value] : splitHeaderList(h.value)) {
          if (!parseVia(entry)) return sipParseError('SB_ERR_SIP_HEADER', `malformed Via "${clip(entry)}"`, 'Via');
        }
        if (h.value.trim() === '') return sipParseError('SB_ERR_SIP_HEADER', 'empty Via', 'Via');
        break;
      case 'from':
      case 'to':
        if (!parseNameAddr(h.value)) return sipParseError('SB_ERR_SIP_HEADER', `malformed ${name === 'to' ? 'To' : 'From'} "${clip(h.value)}"`, name === 'to' ? 'To' : 'From');
        break;
      case 'cseq':
        if (!parseCSeq(h.value)) return sipParseError('SB_ERR_SIP_HEADER', `malformed CSeq "${clip(h.value)}"`, 'CSeq');
        break;
      case 'call-id':
        if (h.value === '' || hasWhitespace(h.value)) return sipParseError('SB_ERR_SIP_HEADER', `malformed Call-ID "${clip(h.value)}"`, 'Call-ID');
        if (callId !== undefined && callId !== h.value) return sipParseError('SB_ERR_SIP_HEADER', 'more than one Call-ID', 'Call-ID');
        callId = h.value;
        break;
      case 'max-forwards':
        if (!isDigits(h.value, 10) || Number(h.value) > 255) return sipParseError('SB_ERR_SIP_HEADER', `bad Max-Forwards "${clip(h.value)}" (0–255)`, 'Max-Forwards');
        break;
      case 'contact':
        if (h.value === '*') break;
        for (const entry of h.value.indexOf(',') === -1 ? [h.value] : splitHeaderList(h.value)) {
          if (!parseNameAddr(entry)) return sipParseError('SB_ERR_SIP_HEADER', `malformed Contact "${clip(entry)}"`, 'Contact');
        }
        break;
      case 'date':
        // RFC 3261 §20.17: SIP-date is rfc1123-date, which is always in "GMT".
        if (!/^[A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$/.test(h.value)) {
          return sipParseError('SB_ERR_SIP_HEADER', `bad Date "${clip(h.value)}" (must be RFC 1123, GMT)`, 'Date');
        }
        break;
      default:
        break;
    }
  }
  return undefined;
}

function findHeadEnd(buf: Buffer, from: number): number {
  return buf.indexOf(CRLFCRLF, from);
}

/**
 * Parses one complete SIP message from a datagram (RFC 3261 §18.3): the body is the rest of the buffer, truncated to
 * Content-Length when present; a Content-Length larger than the rest is an error. Leading CRLFs are skipped (§7.5).
 */
export function parseMessage(buf: Buffer, opts: ParseOptions = {}): ParseResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (buf.length > maxBytes) return { ok: false, error: sipParseError('SB_ERR_SIP_TOO_LARGE', `message of ${buf.length} bytes > limit ${maxBytes}`) };
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  if (start >= buf.length) return { ok: false, error: sipParseError('SB_ERR_SIP_PARSE', 'empty message') };
  let headEnd = findHeadEnd(buf, start);
  let bodyStart: number;
  if (headEnd === -1) {
    // Tolerate a message that ends right after its last header line (no empty line) when it carries no body.
    const tail = buf.length >= 2 && buf[buf.length - 2] === 0x0d && buf[buf.length - 1] === 0x0a ? buf.length - 2 : -1;
    if (tail <= start) return { ok: false, error: sipParseError('SB_ERR_SIP_PARSE', `no empty line after the headers in ${buf.length - start} bytes`) };
    headEnd = tail;
    bodyStart = buf.length;
  } else bodyStart = headEnd + 4;
  const head = parseHead(buf.toString('utf8', start, headEnd), opts.maxHeaders);
  if (!head.ok) {
    const r: ParseResult = { ok: false, error: head.error };
    if (head.startLine) r.startLine = head.startLine;
    return r;
  }
  const left = buf.length - bodyStart;
  const cl = head.head.contentLength;
  if (cl !== undefined && cl > left) {
    return { ok: false, error: sipParseError('SB_ERR_SIP_CONTENT_LENGTH', `Content-Length ${cl} > ${left} bytes left`, 'Content-Length'), startLine: startLineInfo(head.head.start)! };
  }
  const body = buf.subarray(bodyStart, cl === undefined ? buf.length : bodyStart + cl);
  return { ok: true, message: buildMessage(head.head, body) };
}

/** Builds the message object from a parsed head and its body. */
export function buildMessage(head: ParsedHead, body: Buffer): SipMessage {
  const s = head.start;
  return s.kind === 'request'
    ? new SipRequest(s.method, s.uri, head.headers, body, s.version)
    : new SipResponse(s.status, s.reason, head.headers, body, s.version);
}

const MANDATORY = ['To', 'From', 'CSeq', 'Call-ID', 'Via'] as const;

/**
 * The first mandatory header missing from a message (RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Via), or `'CSeq'`
 * when a request's CSeq method does not match its method (§8.2.2). Max-Forwards is not required. Returns undefined
 * when all is well; a UAS answers 400 with a reason phrase naming the header.
 */
export function missingMandatoryHeader(msg: SipMessage): string | undefined {
  for (const name of MANDATORY) if (!msg.has(name)) return name;
  if (msg.kind === 'request') {
    const cseq = parseCSeq(msg.get('cseq')!);
    if (!cseq || cseq.method !== msg.method) return 'CSeq';
  }
  // §25.1: callid = word ["@" word]; tag = token. Neither may hold '|' or white space: these values travel in the
  // '|'-separated leader of drachtio wire frames (the dialog id is `Call-ID;from-tag=…`), where one would forge tokens.
  if (!CALL_ID.test(msg.get('call-id')!)) return 'Call-ID';
  for (const name of ['From', 'To'] as const) {
    // Parameters that cannot be read (`;tag=a|b`) count as a broken header: getTag alone would see no tag there,
    // let the request through and leave drachtio-srf to choke on the raw value without any answer.
    const tag = readTag(msg.get(name)!);
    if (tag === null || (tag !== undefined && !isToken(tag))) return name;
  }
  return undefined;
}

/** word ["@" word] (RFC 3261 §25.1); the classes do not overlap, so matching is linear. */
const CALL_ID = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]{1,256}(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]{1,256})?$/;

/**
 * RFC 3261 §7.1: "The SIP-Version string is case-insensitive, but implementations MUST send upper-case." drachtio-srf
 * (and so an app behind a real drachtio-server too) reads only `SIP/2.0` in capitals and drops anything else after
 * our 100 Trying, so the edge refuses what srf cannot read: 400 for another spelling of SIP/2.0, 505 (§8.2.1 and
 * §21.5.6) for another version. Undefined = acceptable.
 */
export function unacceptableVersion(msg: SipMessage): { status: 400 | 505; reason: string } | undefined {
  if (msg.version === 'SIP/2.0') return undefined;
  if (msg.version.toUpperCase() === 'SIP/2.0') return { status: 400, reason: 'Bad Request (SIP-Version must be sent as upper-case SIP/2.0)' };
  return { status: 505, reason: 'Version Not Supported' };
}
