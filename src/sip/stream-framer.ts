/**
 * Message framing on stream transports (RFC 3261 §18.3): a message ends after Content-Length body bytes, which is
 * required on streams. Handles partial and coalesced messages, RFC 5626 §3.5.1 keep-alives (a CRLFCRLF ping, a CRLF
 * pong), and recovers after an oversize or unframeable message by skipping it or resynchronising on the next start line.
 */
import type { SipMessage } from './message.js';
import { sipParseError, type SipParseError } from './errors.js';
import { buildMessage, DEFAULT_MAX_BYTES, parseHead, type ParsedHead, type StartLineInfo } from './parser.js';

/** One output of {@link StreamFramer.push}. */
export type FramerOutput =
  | { kind: 'message'; message: SipMessage; raw: Buffer }
  /**
   * `head`: a copy of the message's header section (up to {@link MAX_ERROR_HEAD} bytes) when it was delimited, so a
   * 400 can copy its Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2) and reach the client's transaction.
   */
  | { kind: 'error'; error: SipParseError; startLine?: StartLineInfo; fatal: boolean; head?: Buffer }
  /** `pong: true`: the peer sent a CRLFCRLF ping and expects a CRLF pong; `pong: false`: a lone CRLF (a pong), nothing to send. */
  | { kind: 'keepalive'; pong: boolean };

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** While resynchronising, this many trailing bytes are kept (a start line may be split across chunks). */
const RESYNC_KEEP = 4096;
const RESPONSE_MARK = Buffer.from('SIP/2.0 ');
const REQUEST_MARK = Buffer.from(' SIP/2.0\r\n');
/** Header bytes kept with an error for the 400 (the top Via and the dialog headers are near the start). */
export const MAX_ERROR_HEAD = 8192;
/** Smallest buffer the framer allocates when it has to keep bytes across chunks. */
const MIN_STORE_BYTES = 4096;
const EMPTY = Buffer.alloc(0);

function isDigit(c: number | undefined, lo = 0x30): boolean {
  return c !== undefined && c >= lo && c <= 0x39;
}

function isMethodChar(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f);
}

/**
 * Offset of the first thing that looks like a start line (`SIP/2.0 NNN ` or `METHOD uri SIP/2.0` CRLF, method in upper
 * case) anywhere in `buf` (a skipped body need not end in CRLF), or -1. Linear in the buffer size: no regex, so
 * hostile input cannot make it backtrack.
 */
export function findStartLine(buf: Buffer): number {
  let best = -1;
  for (let i = buf.indexOf(RESPONSE_MARK); i !== -1; i = buf.indexOf(RESPONSE_MARK, i + 1)) {
    if (isDigit(buf[i + 8], 0x31) && buf[i + 8]! <= 0x36 && isDigit(buf[i + 9]) && isDigit(buf[i + 10]) && buf[i + 11] === 0x20) {
      best = i;
      break;
    }
  }
  const limit = best === -1 ? buf.length : best;
  for (let j = buf.indexOf(REQUEST_MARK); j !== -1 && j < limit; j = buf.indexOf(REQUEST_MARK, j + 1)) {
    let k = j - 1;
    while (k >= 0 && buf[k] !== 0x20 && buf[k] !== 0x0a && buf[k] !== 0x0d) k--;
    if (k < 0 || buf[k] !== 0x20 || k === j - 1) continue;
    let m = k - 1;
    while (m >= 0 && isMethodChar(buf[m])) m--;
    if (m + 1 < k && buf[m + 1]! >= 0x41 && buf[m + 1]! <= 0x5a) return m + 1;
  }
  return best;
}


/** Options of {@link StreamFramer}. */
export interface StreamFramerOptions {
  /** Largest accepted message (start line, headers and body) in bytes; default 65536. */
  maxBytes?: number;
  /** Largest accepted number of header fields; default as in the parser. */
  maxHeaders?: number;
}

/**
 * Splits a byte stream into SIP messages. One instance per connection. `push` never throws on any input.
 * An error with `fatal: true` means the stream could not be framed; the caller should close the connection
 * (after a 400 when `startLine` is a request). The framer itself keeps going, skipping what it could not frame.
 */
export class StreamFramer {
  readonly #maxBytes: number;
  readonly #maxHeaders: number | undefined;
  /**
   * Unframed bytes are `#store[#start, #end)`. A chunk is appended into the spare room after `#end` when `#store` is
   * ours, else the live bytes move once into a buffer twice their size: every byte is copied O(1) times in all,
   * where concatenating per chunk copied the whole backlog on each one (a 64 KiB message in 1-byte reads: 2 GiB).
   * With nothing left over, a chunk is used in place, uncopied (the common case: one message per read).
   */
  #store: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  /** Whether `#store` was allocated here (its spare room is ours to write), not a caller's chunk. */
  #owned = false;
  /** Bytes of the current buffer already searched for CRLFCRLF without success. */
  #searched = 0;
  /** A parsed head waiting for its body: total message length in bytes. */
  #pending: { head: ParsedHead; headLen: number; total: number } | undefined;
  /** Bytes still to drop of a message we decided to skip (its length is known). */
  #skip = 0;
  /** Drop bytes until the next start line (length of the broken message unknown). */
  #resync = false;

  constructor(opts: StreamFramerOptions = {}) {
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#maxHeaders = opts.maxHeaders;
  }

  /** Bytes buffered and not yet framed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Bytes held, including spare room (for memory tests). */
  get capacity(): number {
    return this.#store.length;
  }

  /** Feeds a chunk from the connection; returns every complete output it made available, in stream order. */
  push(chunk: Buffer): FramerOutput[] {
    const out: FramerOutput[] = [];
    if (chunk.length === 0) return out;
    this.#append(chunk);
    while (this.#step(out));
    return out;
  }

  get #buf(): Buffer {
    return this.#store.subarray(this.#start, this.#end);
  }

  #append(chunk: Buffer): void {
    const live = this.#end - this.#start;
    if (live === 0) {
      this.#store = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.#end + chunk.length <= this.#store.length) {
      chunk.copy(this.#store, this.#end);
      this.#end += chunk.length;
      return;
    }
    // A fresh buffer, never a move in place: messages handed out earlier are copies, but a resync view is not.
    const next = Buffer.allocUnsafe(Math.max(MIN_STORE_BYTES, 2 * (live + chunk.length)));
    this.#store.copy(next, 0, this.#start, this.#end);
    chunk.copy(next, live);
    this.#store = next;
    this.#start = 0;
    this.#end = live + chunk.length;
    this.#owned = true;
  }

  #consume(n: number): void {
    this.#start += n;
    this.#searched = 0;
    if (this.#start >= this.#end) {
      // Nothing left: drop the buffer (a large one must not stay with an idle connection).
      this.#store = EMPTY;
      this.#start = 0;
      this.#end = 0;
      this.#owned = false;
    }
  }

  /** A copy of the header section for an error's 400. */
  #headCopy(buf: Buffer, headLen: number): Buffer {
    return Buffer.from(buf.subarray(0, Math.min(headLen, MAX_ERROR_HEAD)));
  }

  /** Makes one step of progress; returns false when more input is needed. */
  #step(out: FramerOutput[]): boolean {
    const buf = this.#buf;
    if (buf.length === 0) return false;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, buf.length);
      this.#skip -= n;
      this.#consume(n);
      return true;
    }
    if (this.#resync) return this.#doResync();
    if (this.#pending) {
      const p = this.#pending;
      if (buf.length < p.total) return false;
      // A copy: a view would pin the whole (up to 2 × maxBytes) buffer, or a socket's read buffer, for as long as the
      // message lives (a held INVITE: minutes).
      const raw = Buffer.from(buf.subarray(0, p.total));
      out.push({ kind: 'message', message: buildMessage(p.head, raw.subarray(p.headLen)), raw });
      this.#pending = undefined;
      this.#consume(p.total);
      return true;
    }
    // Between messages: RFC 5626 §3.5.1 keep-alives.
    if (buf[0] === 0x0d || buf[0] === 0x0a) {
      if (buf.length < 2) return false;
      if (buf[0] === 0x0d && buf[1] === 0x0a) {
        if (buf.length < 4) {
          if (buf.length === 3 && buf[2] !== 0x0d) {
            out.push({ kind: 'keepalive', pong: false });
            this.#consume(2);
            return true;
          }
          return false;
        }
        const ping = buf[2] === 0x0d && buf[3] === 0x0a;
        out.push({ kind: 'keepalive', pong: ping });
        this.#consume(ping ? 4 : 2);
        return true;
      }
      this.#consume(1); // a stray LF
      return true;
    }
    const end = buf.indexOf(CRLFCRLF, Math.max(0, this.#searched - 3));
    if (end === -1) {
      this.#searched = buf.length;
      if (buf.length > this.#maxBytes) {
        out.push({ kind: 'error', error: sipParseError('SB_ERR_SIP_TOO_LARGE', `header section exceeds ${this.#maxBytes} bytes (${buf.length} buffered, no empty line)`), fatal: true });
        this.#resync = true;
        this.#consume(Math.max(1, buf.length - 3));
        return true;
      }
      return false;
    }
    const headLen = end + 4;
    if (headLen > this.#maxBytes) {
      out.push({ kind: 'error', error: sipParseError('SB_ERR_SIP_TOO_LARGE', `header section of ${headLen} bytes > limit ${this.#maxBytes}`), fatal: true });
      this.#consume(headLen);
      this.#resync = true;
      return true;
    }
    const head = parseHead(buf.toString('utf8', 0, end), this.#maxHeaders);
    if (!head.ok) {
      const err: FramerOutput = { kind: 'error', error: head.error, fatal: head.contentLength === undefined, head: this.#headCopy(buf, headLen) };
      if (head.startLine) err.startLine = head.startLine;
      out.push(err);
      if (head.contentLength !== undefined) this.#skip = headLen + head.contentLength;
      else {
        this.#consume(headLen);
        this.#resync = true;
      }
      return true;
    }
    const s = head.head.start;
    const startLine: StartLineInfo = s.kind === 'request' ? { kind: 'request', method: s.method, uri: s.uri } : { kind: 'response', status: s.status };
    const cl = head.head.contentLength;
    if (cl === undefined) {
      // RFC 3261 §18.3: "In the case of stream-oriented transports such as TCP, the Content-Length header field indicates the size of the body. … MUST be used"
      out.push({ kind: 'error', error: sipParseError('SB_ERR_SIP_CONTENT_LENGTH', 'missing Content-Length on a stream transport', 'Content-Length'), startLine, fatal: true, head: this.#headCopy(buf, headLen) });
      this.#consume(headLen);
      this.#resync = true;
      return true;
    }
    const total = headLen + cl;
    if (total > this.#maxBytes) {
      out.push({ kind: 'error', error: sipParseError('SB_ERR_SIP_TOO_LARGE', `message of ${total} bytes (Content-Length ${cl}) > limit ${this.#maxBytes}`), startLine, fatal: true, head: this.#headCopy(buf, headLen) });
      this.#skip = total;
      return true;
    }
    this.#pending = { head: head.head, headLen, total };
    return true;
  }

  /** Drops bytes up to the next line that looks like a SIP start line. */
  #doResync(): boolean {
    const at = findStartLine(this.#buf);
    if (at === -1) {
      // Keep a tail long enough to hold an unfinished start line (a long Request-URI may be split across chunks).
      if (this.#buf.length > RESYNC_KEEP) this.#consume(this.#buf.length - RESYNC_KEEP);
      return false;
    }
    this.#consume(at);
    this.#resync = false;
    return true;
  }
}
