/**
 * Files the embedded endpoint plays: a WAV of mono 8 kHz audio, 16-bit PCM or G.711 (A-law format 6, µ-law 7),
 * read with `wavefile` and kept as 16-bit samples (encoded to the leg's law per packet, so one file serves legs of
 * either law). A {@link PacedPlayback} is one playback in progress; the session's tick sends its packets.
 */
import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import type { MediaLegRole, Playback, PlaybackEnd } from '../media-layer.js';
import { MediaError } from '../errors.js';

/** 20 ms of 8 kHz audio: one packet. */
export const SAMPLES_PER_PACKET = 160;
export const PACKET_MS = 20;

/** Files larger than this are refused (an hour of 8 kHz 16-bit mono is 57.6 MB). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Reads a WAV file into 16-bit samples, or rejects with MediaError SB_ERR_MEDIA_FILE naming the problem. */
export async function loadWavSamples(path: string): Promise<Int16Array> {
  let buf: Buffer;
  try { buf = await readFile(path); } catch (err) { throw new MediaError('SB_ERR_MEDIA_FILE', `cannot read ${path}: ${(err as Error).message}`, { cause: err }); }
  if (buf.length > MAX_FILE_BYTES) throw new MediaError('SB_ERR_MEDIA_FILE', `${path} is ${buf.length} bytes, more than ${MAX_FILE_BYTES}`);
  let w: InstanceType<typeof wavefile.WaveFile>;
  try { w = new wavefile.WaveFile(buf); } catch (err) { throw new MediaError('SB_ERR_MEDIA_FILE', `${path} is not a WAV file: ${(err as Error).message}`, { cause: err }); }
  const fmt = w.fmt as { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number };
  const what = `${path}: format ${fmt.audioFormat}, ${fmt.numChannels} channel(s), ${fmt.sampleRate} Hz, ${fmt.bitsPerSample} bit`;
  if (fmt.numChannels !== 1 || fmt.sampleRate !== 8000) throw new MediaError('SB_ERR_MEDIA_FILE', `${what}; expected mono 8000 Hz`);
  if (fmt.audioFormat === 6) w.fromALaw();
  else if (fmt.audioFormat === 7) w.fromMuLaw();
  else if (fmt.audioFormat !== 1 || fmt.bitsPerSample !== 16) throw new MediaError('SB_ERR_MEDIA_FILE', `${what}; expected 16-bit PCM, A-law or µ-law`);
  const samples = w.getSamples(false, Int16Array) as unknown as Int16Array;
  if (samples.length === 0) throw new MediaError('SB_ERR_MEDIA_FILE', `${path} holds no audio`);
  return samples;
}

/**
 * One playback: packet k of the file is due at `startMs + 20·k` on the monotonic clock. {@link PacedPlayback.due}
 * says how many packets are due now; the session sends them (catch-up after a late tick) and reports progress.
 */
export class PacedPlayback implements Playback {
  readonly role: MediaLegRole;
  readonly done: Promise<{ end: PlaybackEnd; error?: string }>;
  readonly loop: boolean;
  samples: Int16Array | null = null;
  /** Monotonic time packet 0 is due; set when the file is loaded. */
  startMs = 0;
  /** Packets sent so far. */
  sent = 0;
  #ended = false;
  #resolve!: (v: { end: PlaybackEnd; error?: string }) => void;
  readonly #onEnd: (pb: PacedPlayback) => void;

  constructor(role: MediaLegRole, loop: boolean, onEnd: (pb: PacedPlayback) => void) {
    this.role = role;
    this.loop = loop;
    this.#onEnd = onEnd;
    this.done = new Promise((r) => { this.#resolve = r; });
  }

  get ended(): boolean { return this.#ended; }

  /** Packets in one pass of the file. */
  get packets(): number { return this.samples ? Math.ceil(this.samples.length / SAMPLES_PER_PACKET) : 0; }

  /** Copies packet `k`'s samples (looping, silence-padded at the end) into `out` (160 samples). */
  frame(k: number, out: Int16Array): void {
    const s = this.samples!;
    const off = (k % this.packets) * SAMPLES_PER_PACKET;
    const n = Math.min(SAMPLES_PER_PACKET, s.length - off);
    out.set(s.subarray(off, off + n));
    if (n < SAMPLES_PER_PACKET) out.fill(0, n);
  }

  /** Whether every packet of a non-looping playback went out. */
  get finished(): boolean { return !this.loop && this.samples !== null && this.sent >= this.packets; }

  finish(end: PlaybackEnd, error?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd(this);
    this.#resolve(error === undefined ? { end } : { end, error });
  }

  async stop(): Promise<void> {
    this.finish('stopped');
  }
}
