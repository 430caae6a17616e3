/**
 * Places each party's audio on one timeline before it reaches the WAV file, so a stereo recording keeps the two
 * directions in step whatever order packets arrive in: a sample belongs at a frame index (samples since the
 * recording started), and frames nobody sent (hold, a stream that stopped, a lost packet) are written as silence.
 * Shared by both backends: the embedded relay maps RTP timestamps to frames as packets arrive, the rtpengine
 * driver does the same for packets read back from its pcap files.
 *
 * Audio is held in a ring of `windowFrames` frames; `flushTo(frame)` writes everything before `frame`, and audio
 * that arrives for an already written frame is dropped (it is too late to be heard in step).
 */
import type { WavCloseResult, WavFileWriter } from './wav-writer.js';

/** Frames held back before writing: 1 s at 8 kHz. */
const DEFAULT_WINDOW_FRAMES = 8000;

/** One recording's timeline. */
export class RecordingTimeline {
  readonly #writer: WavFileWriter;
  readonly #channels: number;
  readonly #window: number;
  readonly #ring: Int16Array;
  /** Frames already handed to the writer. */
  #flushed = 0;
  /** One past the last frame anything was put at. */
  #end = 0;
  #dropped = 0;

  constructor(writer: WavFileWriter, opts: { windowFrames?: number } = {}) {
    this.#writer = writer;
    this.#channels = writer.format.channels;
    this.#window = opts.windowFrames ?? DEFAULT_WINDOW_FRAMES;
    if (!Number.isInteger(this.#window) || this.#window <= 0) throw new TypeError(`windowFrames must be a positive integer, got ${this.#window}`);
    this.#ring = new Int16Array(this.#window * this.#channels);
  }

  /** Frames written to the file so far. */
  get flushedFrames(): number {
    return this.#flushed;
  }

  /** Samples dropped because they arrived for frames already written. */
  get droppedSamples(): number {
    return this.#dropped;
  }

  /**
   * Puts mono samples of one channel (0 = left/caller, 1 = right/callee) starting at `frame`. Samples for frames
   * already written are dropped; samples beyond the window push the window forward (writing what falls out).
   */
  put(channel: number, frame: number, pcm: Int16Array): void {
    if (channel < 0 || channel >= this.#channels || !Number.isInteger(channel)) throw new TypeError(`channel ${channel} out of range 0..${this.#channels - 1}`);
    if (!Number.isInteger(frame)) throw new TypeError(`frame must be an integer, got ${frame}`);
    let start = 0;
    if (frame < this.#flushed) {
      start = Math.min(pcm.length, this.#flushed - frame);
      this.#dropped += start;
    }
    const last = frame + pcm.length;
    if (last - this.#flushed > this.#window) this.flushTo(last - this.#window);
    for (let i = start; i < pcm.length; i++) {
      const f = frame + i;
      this.#ring[(f % this.#window) * this.#channels + channel] = pcm[i]!;
    }
    if (last > this.#end) this.#end = last;
  }

  /** Writes every frame before `frame` to the file (silence where nothing was put). */
  flushTo(frame: number): void {
    const target = Math.floor(frame);
    if (target <= this.#flushed) return;
    const ch = this.#channels;
    const out = new Int16Array((target - this.#flushed) * ch);
    let o = 0;
    for (let f = this.#flushed; f < target; f++) {
      const base = (f % this.#window) * ch;
      for (let c = 0; c < ch; c++) {
        out[o++] = this.#ring[base + c]!;
        this.#ring[base + c] = 0;
      }
    }
    this.#flushed = target;
    if (target > this.#end) this.#end = target;
    this.#writer.write(out);
  }

  /** Writes up to `endFrame` (default: the last frame anything was put at) and closes the file. */
  close(endFrame?: number): Promise<WavCloseResult> {
    this.flushTo(endFrame ?? this.#end);
    return this.#writer.close();
  }
}
