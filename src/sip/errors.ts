/**
 * Error values and classes of the SIP message layer. Parse failures are values ({@link SipParseError}),
 * never exceptions: bad input from the network is expected (STYLE.md §7).
 */
import { SwitchboardError } from '../common/index.js';

/**
 * Stable codes of parse failures.
 * - `SB_ERR_SIP_PARSE`: the start line or the message framing is malformed.
 * - `SB_ERR_SIP_HEADER`: a header line or the value of a header we must understand (Via, From, To, CSeq, …) is malformed.
 * - `SB_ERR_SIP_CONTENT_LENGTH`: Content-Length is malformed, missing on a stream, or larger than the bytes left.
 * - `SB_ERR_SIP_TOO_LARGE`: the message exceeds the byte limit or the header count limit.
 */
export type SipParseErrorCode = 'SB_ERR_SIP_PARSE' | 'SB_ERR_SIP_HEADER' | 'SB_ERR_SIP_CONTENT_LENGTH' | 'SB_ERR_SIP_TOO_LARGE';

/** Why a message could not be parsed. `message` names the problem with its numbers; `header` names the header at fault. */
export interface SipParseError {
  code: SipParseErrorCode;
  message: string;
  header?: string;
}

/** Builds a {@link SipParseError} value. */
export function sipParseError(code: SipParseErrorCode, message: string, header?: string): SipParseError {
  return header === undefined ? { code, message } : { code, message, header };
}

/** Thrown only for programming errors in the SIP message layer (e.g. serializing a message with an invalid field). */
export class SipMessageError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_SIP_MESSAGE', message);
  }
}
