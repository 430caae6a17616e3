/**
 * The media seam of one call (STYLE.md: "a Call owns its media session"): created only when the call needs media
 * (a recorded user), it takes each leg's SDP through the {@link MediaSession} — the caller's offer on its way to the
 * callees, the callee's answer (18x and 2xx) on its way back, re-INVITE and UPDATE offers/answers in both directions
 * — and runs the call's recording. A call without one passes SDP through untouched.
 *
 * Failures degrade, they do not end the call: a session that cannot be opened or an offer the backend refuses leaves
 * the call unanchored (SDP passes through, nothing is recorded); a recording that cannot start is logged.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../../common/index.js';
import type { UserConfig } from '../../config/index.js';
import type { MediaLayer, MediaLegRole, MediaSession, Recording, RecordingResult } from '../../media/index.js';

/** A recording that was made: its id, file and what the media layer reported when it closed. */
export interface FinishedRecording {
  recordingId: string;
  /** When recording started (epoch ms): `recorded_at`. */
  startedAtMs: number;
  result: RecordingResult;
}

/** Who a call's recording is for: the answering user (inbound) and/or the placing user (outbound), per their `record`. */
export function recordingPlans(answered: UserConfig | null, placer: UserConfig | null): Array<{ direction: 'inbound' | 'outbound'; user: UserConfig }> {
  const out: Array<{ direction: 'inbound' | 'outbound'; user: UserConfig }> = [];
  if (answered && (answered.record === 'inbound' || answered.record === 'all')) out.push({ direction: 'inbound', user: answered });
  if (placer && (placer.record === 'outbound' || placer.record === 'all')) out.push({ direction: 'outbound', user: placer });
  return out;
}

/** The media session of one call, and its recording. */
export class CallMedia {
  readonly #layer: MediaLayer;
  readonly #uniqueCallId: string;
  readonly #log: Logger;
  #session: Promise<MediaSession | null> | null = null;
  /** The caller's offer and what the session made of it (the offer every callee gets). */
  #callerOffer: { raw: string; anchored: Promise<string | null> } | null = null;
  #offered = false;
  #recording: { recordingId: string; startedAtMs: number; rec: Promise<Recording | null>; stopped: Promise<RecordingResult | null> | null } | null = null;
  #closed: Promise<void> | null = null;

  readonly #webrtc: readonly MediaLegRole[];

  /** `webrtc`: parties known to be browsers before their SDP (a callee registered over WebSocket). */
  constructor(layer: MediaLayer, uniqueCallId: string, log: Logger, webrtc: readonly MediaLegRole[] = []) {
    this.#webrtc = webrtc;
    this.#layer = layer;
    this.#uniqueCallId = uniqueCallId;
    this.#log = log;
  }

  /** True while a recording runs (started and not stopped). */
  get recording(): boolean {
    return this.#recording !== null && this.#recording.stopped === null;
  }

  /** True once callees were sent an anchored offer: their answers (and later re-INVITEs) go through the session. */
  get offered(): boolean {
    return this.#offered;
  }

  #open(): Promise<MediaSession | null> {
    this.#session ??= this.#layer.createSession({ uniqueCallId: this.#uniqueCallId, ...(this.#webrtc.length ? { webrtc: this.#webrtc } : {}) }).catch((err: unknown) => {
      this.#log.warn({ err, media: this.#layer.kind }, 'media session could not be opened; the call passes SDP through and is not recorded');
      return null;
    });
    return this.#session;
  }

  /**
   * The offer for callees made from the caller's `sdp` (the same one for every fork of the call), or null when the
   * call cannot be anchored (then the caller's SDP goes out as it is).
   */
  async offerFromCaller(sdp: string): Promise<string | null> {
    if (this.#callerOffer?.raw !== sdp) {
      this.#callerOffer = {
        raw: sdp,
        anchored: (async () => {
          const s = await this.#open();
          if (!s || this.#closed) return null;
          try {
            return await s.offer('caller', sdp);
          } catch (err) {
            this.#log.warn({ err }, 'media offer refused; the call passes SDP through and is not recorded');
            return null;
          }
        })(),
      };
    }
    const out = await this.#callerOffer.anchored;
    if (out !== null) this.#offered = true;
    return out;
  }

  /** The callee's answer (18x or 2xx) rewritten for the caller; null when the session refused it (pass it through). */
  async answerFromCallee(sdp: string): Promise<string | null> {
    try {
      return await this.answer('callee', sdp);
    } catch (err) {
      this.#log.warn({ err }, 'media answer refused; the callee\'s SDP goes to the caller as it is');
      return null;
    }
  }

  /** A mid-call offer (re-INVITE, UPDATE) from `from`; rejects when the session refuses it. */
  async offer(from: MediaLegRole, sdp: string): Promise<string> {
    const s = await this.#open();
    if (!s) throw new Error('no media session');
    return s.offer(from, sdp);
  }

  /** The answer from `from` to the last offer; rejects when the session refuses it. */
  async answer(from: MediaLegRole, sdp: string): Promise<string> {
    const s = await this.#open();
    if (!s) throw new Error('no media session');
    return s.answer(from, sdp);
  }

  /**
   * Answers the caller's offer as an endpoint (the PBX itself answers: voicemail, play): our SDP for the caller and
   * the session to play and record on, or null when there is no session or it refused the offer.
   */
  async acceptCaller(sdp: string): Promise<{ sdp: string; session: MediaSession } | null> {
    const s = await this.#open();
    if (!s || this.#closed) return null;
    try {
      return { sdp: await s.accept('caller', sdp), session: s };
    } catch (err) {
      this.#log.warn({ err }, 'media refused the caller\'s offer; the PBX cannot answer it with media');
      return null;
    }
  }

  /**
   * The offer for callees once the PBX answered the caller itself ({@link acceptCaller}: hold music, a `play` node):
   * made by the session, so that the callee's answer bridges it to the caller's existing media. Null when refused.
   */
  async offerToCallee(): Promise<string | null> {
    const s = await this.#open();
    if (!s || this.#closed) return null;
    try {
      const sdp = await s.offerTo('callee');
      this.#offered = true;
      return sdp;
    } catch (err) {
      this.#log.warn({ err }, 'media refused an offer to the callee of a call the PBX answered');
      return null;
    }
  }

  /** Starts the call's stereo recording into `dir` (once); the file is `<dir>/<recording id>.wav`. */
  startRecording(dir: string, nowMs: number): void {
    if (this.#recording || this.#closed) return;
    const recordingId = `rec_${randomBytes(8).toString('hex')}`;
    const path = join(dir, `${recordingId}.wav`);
    const rec = (async () => {
      const s = await this.#open();
      if (!s) return null;
      try {
        return await s.startRecording({ path, channels: 'both' });
      } catch (err) {
        this.#log.warn({ err, recording_id: recordingId }, 'recording could not start; the call goes on unrecorded');
        return null;
      }
    })();
    this.#recording = { recordingId, startedAtMs: nowMs, rec, stopped: null };
  }

  /** Stops the recording now (at hang-up), if one runs; the file is closed when the promise resolves. */
  stopRecording(): Promise<RecordingResult | null> {
    const r = this.#recording;
    if (!r) return Promise.resolve(null);
    r.stopped ??= r.rec.then(async (rec) => {
      if (!rec) return null;
      try {
        return await rec.stop();
      } catch (err) {
        this.#log.error({ err, recording_id: r.recordingId }, 'closing the recording failed');
        return null;
      }
    });
    return r.stopped;
  }

  /** Stops the recording (if any), releases the session, and reports the recording made. Idempotent. */
  async finish(): Promise<FinishedRecording | null> {
    const result = await this.stopRecording();
    this.#closed ??= (async () => {
      const s = await this.#session;
      await s?.close('call ended');
    })();
    await this.#closed;
    const r = this.#recording;
    return r && result ? { recordingId: r.recordingId, startedAtMs: r.startedAtMs, result } : null;
  }
}
