/**
 * The relay's recording tap: decoded audio of each party goes onto the shared {@link RecordingTimeline} at the
 * frame its RTP timestamp says, anchored to the monotonic arrival time of its stream's first packet (re-anchored
 * on a new SSRC or when timestamp and arrival drift apart by more than {@link REANCHOR_FRAMES}). The file is
 * time-based: the tick flushes the timeline up to "now − {@link FLUSH_LAG_MS}", so frames nobody sent (hold, a
 * stopped stream, lost packets) are silence, and the file's length is the recording's wall time on the same clock.
 */
import type { MediaLegRole, Recording, RecordingChannels, RecordingResult } from '../media-layer.js';
import { RecordingTimeline } from '../wav/recording-timeline.js';
import { WavFileWriter } from '../wav/wav-writer.js';
import { MediaError } from '../errors.js';

/** Audio older than this is written out; later packets for it are too late (jitter allowance). */
export const FLUSH_LAG_MS = 200;
/**
 * Mean absolute sample value above which a packet counts as voice for silence detection: about −40 dBFS, above
 * G.711 idle noise and comfort noise, below quiet speech.
 */
export const VOICE_LEVEL = 330;
/** Frames written per flush at least (100 ms). */
const FLUSH_STEP_FRAMES = 800;
/** 250 ms at 8 kHz: beyond this, RTP time and arrival time disagree (a sender restarted or jumped). */
const REANCHOR_FRAMES = 2000;

interface Anchor { ssrc: number; ts: number; frame: number }

export class RecordingTap {
  readonly path: string;
  readonly channels: RecordingChannels;
  readonly #timeline: RecordingTimeline;
  readonly #writer: WavFileWriter;
  readonly #startMs: number;
  readonly #anchors: Record<MediaLegRole, Anchor | null> = { caller: null, callee: null };
  readonly problems = new Set<string>();
  #result: Promise<RecordingResult> | null = null;
  #writeProblemReported = false;
  /** Silence detection (`RecordingInit.silenceMs`): when the recorded party last spoke, and whether we said so. */
  readonly silenceMs: number | null = null;
  lastVoiceMs: number;
  silenceReported = false;

  private constructor(path: string, channels: RecordingChannels, writer: WavFileWriter, startMs: number, silenceMs: number | null) {
    this.silenceMs = silenceMs;
    this.lastVoiceMs = startMs;
    this.path = path;
    this.channels = channels;
    this.#writer = writer;
    this.#timeline = new RecordingTimeline(writer);
    this.#startMs = startMs;
  }

  /** Opens the WAV (stereo for `both`, mono otherwise). Rejects with MediaError SB_ERR_MEDIA_FILE if it cannot. */
  static async open(path: string, channels: RecordingChannels, startMs: number, silenceMs: number | null = null): Promise<RecordingTap> {
    if (channels !== 'both' && channels !== 'caller' && channels !== 'callee') throw new TypeError(`recording channels must be both, caller or callee, got ${String(channels)}`);
    try {
      const writer = await WavFileWriter.open(path, { channels: channels === 'both' ? 2 : 1, sampleRate: 8000 });
      return new RecordingTap(path, channels, writer, startMs, silenceMs);
    } catch (err) {
      throw new MediaError('SB_ERR_MEDIA_FILE', `cannot create recording ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  get stopped(): boolean { return this.#result !== null; }

  #frameAt(nowMs: number): number {
    return Math.max(0, Math.floor(((nowMs - this.#startMs) * 8000) / 1000));
  }

  /** Taps one party's decoded packet. */
  put(role: MediaLegRole, ssrc: number, timestamp: number, pcm: Int16Array, nowMs: number): void {
    if (this.#result) return;
    const channel = this.channels === 'both' ? (role === 'caller' ? 0 : 1) : this.channels === role ? 0 : -1;
    if (channel < 0) return;
    if (this.silenceMs !== null && meanLevel(pcm) > VOICE_LEVEL) this.lastVoiceMs = nowMs;
    const arrival = this.#frameAt(nowMs);
    let a = this.#anchors[role];
    let frame = a && a.ssrc === ssrc ? a.frame + ((timestamp - a.ts) | 0) : -1;
    if (!a || a.ssrc !== ssrc || Math.abs(frame - arrival) > REANCHOR_FRAMES) {
      // The first packet is placed where it arrived, minus its own length (it was sent 20 ms before it is heard whole).
      a = { ssrc, ts: timestamp, frame: Math.max(0, arrival - pcm.length) };
      this.#anchors[role] = a;
      frame = a.frame;
    }
    this.#timeline.put(channel, frame, pcm);
  }

  /** The silence that should be reported now (once), or null. */
  silenceDue(nowMs: number): number | null {
    if (this.silenceMs === null || this.silenceReported || this.#result) return null;
    const silent = nowMs - this.lastVoiceMs;
    if (silent < this.silenceMs) return null;
    this.silenceReported = true;
    return Math.round(silent);
  }

  /** Called on every tick: writes what is old enough; returns a write problem the first time one shows. */
  tick(nowMs: number): string | null {
    if (this.#result) return null;
    // Write in 100 ms steps, not every tick: fewer, larger writes (one allocation and copy per step).
    const target = this.#frameAt(nowMs - FLUSH_LAG_MS);
    if (target - this.#timeline.flushedFrames >= FLUSH_STEP_FRAMES) this.#timeline.flushTo(target);
    const p = this.#writer.problem;
    if (p && !this.#writeProblemReported) { this.#writeProblemReported = true; this.problems.add(p); return p; }
    return null;
  }

  /** Closes the file at `nowMs` (what is past it is dropped). Idempotent. */
  stop(nowMs: number): Promise<RecordingResult> {
    this.#result ??= (async () => {
      const r = await this.#timeline.close(this.#frameAt(nowMs));
      for (const p of r.problems) this.problems.add(p);
      return { path: r.path, durationMs: r.durationMs, sizeBytes: r.sizeBytes, sha256: r.sha256, problems: [...this.problems] };
    })();
    return this.#result;
  }

  /** The {@link Recording} handle the session returns. */
  handle(stop: () => Promise<RecordingResult>): Recording {
    return { path: this.path, stop };
  }
}

function meanLevel(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) { const v = pcm[i]!; sum += v < 0 ? -v : v; }
  return pcm.length === 0 ? 0 : sum / pcm.length;
}
