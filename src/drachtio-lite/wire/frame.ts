/**
 * drachtio wire framing: every message on the control connection is `<length>#<payload>`, where `<length>` is
 * the UTF-8 byte length of `<payload>` in decimal (DESIGN.md decision 2).
 *
 * The server side accepts at most {@link MAX_LENGTH_DIGITS} length digits, so one client frame is at most
 * 99 999 bytes. Frames may arrive split at any byte or several to a TCP segment; {@link FrameDecoder} buffers
 * until a whole frame is present. A malformed length prefix is an error value: the connection is closed by
 * its owner, never crashed.
 */

/** The most decimal digits a client frame's length may have (a real drachtio-server reads at most five). */
export const MAX_LENGTH_DIGITS = 5;

/** The largest payload a client may send, in bytes. */
export const MAX_FRAME_BYTES = 10 ** MAX_LENGTH_DIGITS - 1;

const HASH = 0x23; // '#'

/** Why a byte stream is not a valid sequence of frames. */
export interface FrameError {
  code: 'SB_ERR_WIRE_FRAME';
  message: string;
}

/** Result of feeding bytes to a {@link FrameDecoder}. */
export type DecodeResult = { ok: true; frames: string[] } | { ok: false; error: FrameError };

/** Encodes one payload as a frame: `<utf8 byte length>#<payload>`. */
export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}#`, 'latin1'), body]);
}

/**
 * Incremental decoder for one connection. Feed every chunk read from the socket to {@link push}; it returns
 * the complete payloads found so far, decoded as UTF-8. After an error the decoder stays failed.
 */
export class FrameDecoder {
  #buf: Buffer = Buffer.alloc(0);
  #failed: FrameError | undefined;
  readonly #maxDigits: number;

  /** @param maxDigits length digits accepted (default {@link MAX_LENGTH_DIGITS}). */
  constructor(maxDigits = MAX_LENGTH_DIGITS) {
    if (!Number.isInteger(maxDigits) || maxDigits < 1 || maxDigits > 15) throw new TypeError(`maxDigits must be 1..15, got ${maxDigits}`);
    this.#maxDigits = maxDigits;
  }

  /** Bytes buffered while waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Appends `chunk` and returns every payload completed by it (possibly none). */
  push(chunk: Buffer): DecodeResult {
    if (this.#failed) return { ok: false, error: this.#failed };
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const frames: string[] = [];
    let offset = 0;
    for (;;) {
      const header = this.#readLength(offset);
      if (header === 'incomplete') break;
      if (typeof header === 'string') return this.#fail(header);
      const { length, start } = header;
      if (this.#buf.length < start + length) break;
      frames.push(this.#buf.toString('utf8', start, start + length));
      offset = start + length;
    }
    this.#buf = offset === 0 ? this.#buf : this.#buf.subarray(offset);
    return { ok: true, frames };
  }

  /** Parses the length prefix at `offset`: the payload start and length, 'incomplete', or an error message. */
  #readLength(offset: number): { length: number; start: number } | 'incomplete' | string {
    let length = 0;
    for (let i = offset; i < this.#buf.length; i++) {
      const c = this.#buf[i]!;
      const digits = i - offset;
      if (c === HASH) {
        if (digits === 0) return 'frame has no length before #';
        if (length === 0) return 'frame length is 0';
        return { length, start: i + 1 };
      }
      if (c < 0x30 || c > 0x39) return `frame length has a non-digit byte 0x${c.toString(16)} at position ${digits}`;
      if (digits >= this.#maxDigits) return `frame length has more than ${this.#maxDigits} digits`;
      length = length * 10 + (c - 0x30);
    }
    return 'incomplete';
  }

  #fail(message: string): DecodeResult {
    this.#failed = { code: 'SB_ERR_WIRE_FRAME', message };
    this.#buf = Buffer.alloc(0);
    return { ok: false, error: this.#failed };
  }
}
