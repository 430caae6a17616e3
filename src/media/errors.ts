/**
 * Errors of the media layer (STYLE.md §7). Expected failures of codecs are `{ ok: false, error }` values; a
 * {@link MediaError} is what a session operation rejects with (bad SDP, no ports left, a backend failure).
 */
import { SwitchboardError } from '../common/index.js';

/** Stable codes of {@link MediaError}. */
export type MediaErrorCode =
  /** The SDP has no audio stream with a codec we handle (PCMU/PCMA), or does not parse. */
  | 'SB_ERR_MEDIA_SDP'
  /** The port range is exhausted (embedded) or the backend refused a new call. */
  | 'SB_ERR_MEDIA_CAPACITY'
  /** The backend (rtpengine) failed or answered with an error. */
  | 'SB_ERR_MEDIA_BACKEND'
  /** A file to play or record could not be opened. */
  | 'SB_ERR_MEDIA_FILE';

/** A media operation failed. */
export class MediaError extends SwitchboardError {
  declare readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
