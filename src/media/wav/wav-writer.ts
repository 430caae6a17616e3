/**
 * A streaming PCM WAV writer shared by both media backends: the embedded endpoint writes decoded RTP through it,
 * the rtpengine driver its pcap → samples conversion. 16-bit little-endian PCM, mono or stereo (interleaved, left
 * first). The 44-byte header is written at open with zero sizes and patched at close, so a file is valid once
 * closed and a crash leaves a file whose header says "empty" rather than one that lies.
 *
 * Writes are buffered and flushed asynchronously, one write in flight per file. A failed write (a full disk)
 * stops further writing; `close()` still patches the header over what reached the disk and reports the problem.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Format of a WAV file. */
export interface WavFormat {
  channels: 1 | 2;
  /** Samples per second per channel; 8000 for G.711. */
  sampleRate: number;
}

/** A closed WAV file. */
export interface WavCloseResult {
  path: string;
  /** Frames (one sample per channel) in the data chunk. */
  frames: number;
  durationMs: number;
  sizeBytes: number;
  sha256: string;
  /** `disk-full` / `write-failed` when writing stopped early; empty otherwise. */
  problems: string[];
}

/** Size of the canonical PCM header (RIFF + fmt + data chunk headers). */
export const WAV_HEADER_BYTES = 44;

/** Flush once this many bytes are buffered. */
const FLUSH_BYTES = 32 * 1024;

/** Builds a 44-byte PCM WAV header for `dataBytes` of audio (RFC 2361 / the Microsoft RIFF WAVE layout). */
export function wavHeader(format: WavFormat, dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  const blockAlign = format.channels * 2;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(format.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Streams PCM frames to a WAV file. Make one with {@link WavFileWriter.open}. */
export class WavFileWriter {
  readonly path: string;
  readonly format: WavFormat;
  #fh: FileHandle;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes handed to the OS successfully, header included. */
  #written = 0;
  #inFlight: Promise<void> = Promise.resolve();
  #problem: string | null = null;
  #closing: Promise<WavCloseResult> | null = null;

  private constructor(path: string, format: WavFormat, fh: FileHandle) {
    this.path = path;
    this.format = format;
    this.#fh = fh;
  }

  /** Creates (truncates) `path` and starts writing the placeholder header. Rejects when the file cannot be created. */
  static async open(path: string, format: WavFormat): Promise<WavFileWriter> {
    if (format.channels !== 1 && format.channels !== 2) throw new TypeError(`WAV channels must be 1 or 2, got ${String(format.channels)}`);
    if (!Number.isInteger(format.sampleRate) || format.sampleRate <= 0) throw new TypeError(`WAV sample rate must be a positive integer, got ${format.sampleRate}`);
    const fh = await open(path, 'w');
    const w = new WavFileWriter(path, format, fh);
    // The placeholder header goes out as the first write; a failure there is a write problem like any other.
    w.#chunks.push(wavHeader(format, 0));
    w.#buffered = WAV_HEADER_BYTES;
    w.#flush();
    return w;
  }

  /** The first write problem, if any (then nothing more is written). */
  get problem(): string | null {
    return this.#problem;
  }

  /** Frames accepted so far (buffered or written). */
  get frames(): number {
    return Math.max(0, this.#written + this.#buffered - WAV_HEADER_BYTES) / (2 * this.format.channels);
  }

  /** Appends interleaved samples (`channels` per frame). Ignored after a write failure or once closing. */
  write(samples: Int16Array): void {
    if (this.#closing || this.#problem) return;
    if (samples.length % this.format.channels !== 0) throw new TypeError(`${samples.length} samples is not a whole number of ${this.format.channels}-channel frames`);
    if (samples.length === 0) return;
    // Copy: callers reuse their buffers. Int16Array is host-endian; every platform Node runs on is little-endian.
    const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    this.#chunks.push(Buffer.from(bytes));
    this.#buffered += bytes.length;
    if (this.#buffered >= FLUSH_BYTES) this.#flush();
  }

  #flush(): void {
    if (this.#buffered === 0) return;
    const data = Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [];
    this.#buffered = 0;
    this.#inFlight = this.#inFlight.then(async () => {
      if (this.#problem) return;
      try {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await this.#fh.write(data, off, data.length - off, this.#written);
          if (bytesWritten === 0) throw Object.assign(new Error('no bytes written'), { code: 'ENOSPC' });
          off += bytesWritten;
          this.#written += bytesWritten;
        }
      } catch (err) {
        this.#problem = (err as NodeJS.ErrnoException).code === 'ENOSPC' || (err as NodeJS.ErrnoException).code === 'EDQUOT' ? 'disk-full' : 'write-failed';
      }
    });
  }

  /**
   * Flushes, patches the header to the data that reached the disk (whole frames only), closes the file and
   * hashes it. Idempotent; never rejects for write problems (they are in `problems`).
   */
  close(): Promise<WavCloseResult> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<WavCloseResult> {
    this.#flush();
    await this.#inFlight;
    const frameBytes = 2 * this.format.channels;
    const audio = Math.max(0, this.#written - WAV_HEADER_BYTES);
    const dataBytes = audio - (audio % frameBytes);
    const problems = this.#problem ? [this.#problem] : [];
    // A character device (/dev/full in tests) is neither truncated nor hashed: reading it never ends.
    const regular = await this.#fh.stat().then((st) => st.isFile(), () => false);
    try {
      await this.#fh.write(wavHeader(this.format, dataBytes), 0, WAV_HEADER_BYTES, 0);
      if (regular) await this.#fh.truncate(WAV_HEADER_BYTES + dataBytes);
    } catch {
      if (problems.length === 0) problems.push(this.#problem ?? 'write-failed');
    }
    await this.#fh.close().catch(() => undefined);
    const frames = dataBytes / frameBytes;
    return {
      path: this.path,
      frames,
      durationMs: Math.round((frames * 1000) / this.format.sampleRate),
      sizeBytes: regular ? WAV_HEADER_BYTES + dataBytes : 0,
      sha256: regular ? await sha256File(this.path).catch(() => '') : '',
      problems,
    };
  }
}

/** Lower-case hex SHA-256 of a file's content. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
