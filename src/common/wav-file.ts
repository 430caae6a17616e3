/**
 * Audio files users upload (voicemail greetings): read any common WAV — PCM 8/16/24/32-bit, 32/64-bit float, A-law or
 * µ-law, any sample rate, mono or stereo — and turn it into what the media layer plays without work: mono, 8 kHz,
 * 16-bit PCM. Parsing is the `wavefile` package's; the limits and the messages (which name the problem for a 400)
 * are ours. Pure: buffers in, buffer out.
 */
import wavefile from 'wavefile';

const { WaveFile } = wavefile;

/** Why an upload was refused; `message` is fit for a 400 answer. */
export class WavFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavFileError';
  }
}

export interface PromptLimits {
  /** Largest accepted upload, bytes (default 10 MiB). */
  maxBytes?: number;
  /** Longest accepted audio, seconds (default 120). */
  maxSeconds?: number;
  /** Shortest accepted audio, seconds (default 0.2). */
  minSeconds?: number;
}

/** A normalized prompt. */
export interface PromptWav {
  /** The WAV file: mono, 8 kHz, 16-bit PCM. */
  wav: Buffer;
  durationMs: number;
  /** What the upload was, e.g. `44100 Hz 2 ch 16-bit PCM`. */
  source: string;
}

const PCM_DEPTHS = new Set(['8', '16', '24', '32', '32f', '64']);

/** Converts an uploaded WAV to mono 8 kHz 16-bit PCM, or throws {@link WavFileError} saying what is wrong. */
export function normalizePromptWav(bytes: Buffer, limits: PromptLimits = {}): PromptWav {
  const maxBytes = limits.maxBytes ?? 10 * 1024 * 1024;
  const maxSeconds = limits.maxSeconds ?? 120;
  const minSeconds = limits.minSeconds ?? 0.2;
  if (bytes.length === 0) throw new WavFileError('the file is empty');
  if (bytes.length > maxBytes) throw new WavFileError(`the file is ${bytes.length} bytes; at most ${maxBytes} are accepted`);
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFileError('not a WAV file (no RIFF/WAVE header)');
  }
  const w = new WaveFile();
  try {
    w.fromBuffer(bytes);
  } catch (err) {
    throw new WavFileError(`unreadable WAV: ${err instanceof Error ? err.message : String(err)}`);
  }
  const fmt = w.fmt as { audioFormat: number; numChannels: number; sampleRate: number };
  const depth = w.bitDepth;
  const kind = depth === '8a' ? 'A-law' : depth === '8m' ? 'µ-law' : 'PCM';
  const source = `${fmt.sampleRate} Hz ${fmt.numChannels} ch ${depth}-bit ${kind}`;
  if (fmt.numChannels < 1 || fmt.numChannels > 2) throw new WavFileError(`${fmt.numChannels} channels; mono or stereo is accepted`);
  if (fmt.sampleRate < 8000 || fmt.sampleRate > 192_000) throw new WavFileError(`sample rate ${fmt.sampleRate} Hz; 8000 to 192000 is accepted`);
  try {
    if (depth === '8a') w.fromALaw();
    else if (depth === '8m') w.fromMuLaw();
    else if (!PCM_DEPTHS.has(depth)) throw new WavFileError(`unsupported encoding (format ${fmt.audioFormat}, ${depth} bits): use PCM, A-law or µ-law`);
    if (w.bitDepth !== '16') w.toBitDepth('16');
    if (fmt.sampleRate !== 8000) w.toSampleRate(8000, { method: 'sinc' });
  } catch (err) {
    if (err instanceof WavFileError) throw err;
    throw new WavFileError(`cannot convert the audio: ${err instanceof Error ? err.message : String(err)}`);
  }
  const samples = w.getSamples(false, Int16Array) as unknown as Int16Array | Int16Array[];
  const mono = Array.isArray(samples) ? downmix(samples) : samples;
  const durationMs = Math.round(mono.length / 8);
  if (durationMs > maxSeconds * 1000) throw new WavFileError(`the audio is ${(durationMs / 1000).toFixed(1)} s long; at most ${maxSeconds} s is accepted`);
  if (durationMs < minSeconds * 1000) throw new WavFileError(`the audio is ${(durationMs / 1000).toFixed(2)} s long; at least ${minSeconds} s is needed`);
  const out = new WaveFile();
  out.fromScratch(1, 8000, '16', mono);
  return { wav: Buffer.from(out.toBuffer()), durationMs, source };
}

function downmix(channels: Int16Array[]): Int16Array {
  const [l, r] = channels as [Int16Array, Int16Array | undefined];
  if (!r) return l;
  const out = new Int16Array(l.length);
  for (let i = 0; i < l.length; i++) out[i] = (l[i]! + r[i]!) >> 1;
  return out;
}
