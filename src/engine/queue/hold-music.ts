/**
 * What a queue caller hears while waiting (SPEC.md §2): hold music when the queue sets `hold_music` and there is a
 * media layer, ringback otherwise. With music the PBX answers the caller with its own media session
 * (`Call.answerWithMedia`) and loops the file to it; when an agent answers, the music stops and the agent is offered
 * that same session, so the caller's dialog and media stay and the session bridges the two (`Call.connect`).
 */
import { resolve } from 'node:path';
import type { Call } from '../call/call.js';
import type { Playback } from '../../media/index.js';

/** A running hold-music stream; `stop()` is idempotent and is called before the caller is bridged or leaves. */
export interface HoldMusicPlayback {
  /**
   * Resolves once the caller is settled: answered with the music playing, or rung (ringback). Agents are rung only
   * after it, so their offer is the PBX's media session when the caller was answered with it. Never rejects.
   */
  readonly ready?: Promise<void>;
  stop(): void;
}

/** The hook the queue handler calls. */
export interface HoldMusic {
  /** Starts what `call` hears while waiting; `file` is the queue's `hold_music` (null = ringback, `default` = built-in). */
  start(call: Call, file: string | null): HoldMusicPlayback;
}

/** The `hold_music` value naming the built-in file (media/prompts/hold-music.wav). */
export const BUILT_IN_HOLD_MUSIC = 'default';

/** 180 Ringing (the caller's phone plays ringback); nothing to stop. */
export const ringbackHold: HoldMusic = {
  start(call: Call): HoldMusicPlayback {
    call.ringing();
    return { ready: Promise.resolve(), stop() {} };
  },
};

/**
 * Hold music through the call's media layer; `builtIn` is the file `hold_music: default` plays. Without a media
 * layer, without `hold_music`, or when the PBX cannot answer the caller with media (no SDP offer, media refused),
 * the caller gets ringback.
 */
export function mediaHoldMusic(builtIn: string): HoldMusic {
  return {
    start(call: Call, file: string | null): HoldMusicPlayback {
      if (file === null || !call.ctx.media) return ringbackHold.start(call, null);
      const path = file === BUILT_IN_HOLD_MUSIC ? builtIn : resolve(file);
      let stopped = false;
      let playback: Playback | null = null;
      const ready = call.answerWithMedia(null).then((session) => {
        if (stopped || call.isEnding) return;
        if (!session) {
          call.log.info({ file: path }, 'hold music: the caller could not be answered with media; ringback instead');
          call.ringing();
          return;
        }
        playback = session.play('caller', { file: path, loop: true });
        void playback.done.then((d) => {
          if (d.end === 'failed') call.log.warn({ file: path, error: d.error }, 'hold music could not be played; the caller hears silence');
        });
      }, (err: unknown) => {
        call.log.warn({ err }, 'hold music: answering the caller failed');
      });
      return {
        ready,
        stop() {
          stopped = true;
          void playback?.stop();
        },
      };
    },
  };
}
