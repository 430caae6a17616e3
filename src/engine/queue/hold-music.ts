/**
 * What a queue caller hears while waiting (SPEC.md §2): hold music when media is on, ringback otherwise. The
 * media work implements {@link HoldMusic} (answer the caller with a media endpoint and play `file` in a loop);
 * until then {@link ringbackHold} only makes sure the caller has had its 180 Ringing.
 */
import type { Call } from '../call/call.js';

/** A running hold-music stream; `stop()` is idempotent and is called before the caller is bridged or leaves. */
export interface HoldMusicPlayback {
  stop(): void;
}

/** The hook the media layer fills in. */
export interface HoldMusic {
  /** Starts hold music for a waiting caller; `file` is the queue's `hold_music` (null = built-in). */
  start(call: Call, file: string | null): HoldMusicPlayback;
}

/** The default without media: 180 Ringing (the caller's phone plays ringback); nothing to stop. */
export const ringbackHold: HoldMusic = {
  start(call: Call): HoldMusicPlayback {
    call.ringing();
    return { stop() {} };
  },
};
