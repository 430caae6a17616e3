/**
 * Our own RTP peers for media tests and benches: tone streams (G.711, 20 ms packets) paced on one shared monotonic
 * loop, a receiver that measures loss and arrival jitter, and the analysis a test needs on a WAV it got back
 * (channels, duration, each channel's dominant frequency). Real UDP sockets on 127.0.0.1 only.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import wavefile from 'wavefile';

const { WaveFile } = wavefile;

/** A UDP socket bound to 127.0.0.1 on a free port. */
export function bindUdp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => { s.off('error', reject); resolve(s); });
  });
}

/** A minimal audio SDP offering PCMU (or PCMA) and telephone-event on `port`. */
export function audioSdp(port: number, opts: { law?: 'pcmu' | 'pcma'; direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'; version?: number } = {}): string {
  const pt = opts.law === 'pcma' ? 8 : 0;
  return [
    'v=0', `o=- 1 ${opts.version ?? 1} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP ${pt} 101`, `a=rtpmap:${pt} ${pt === 8 ? 'PCMA' : 'PCMU'}/8000`, 'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15', 'a=ptime:20', `a=${opts.direction ?? 'sendrecv'}`, '',
  ].join('\r\n');
}

/** The first `m=audio` port of an SDP. */
export function sdpAudioPort(sdp: string): number {
  const m = /^m=audio (\d+) /m.exec(sdp);
  if (!m) throw new Error(`no m=audio line in SDP:\n${sdp}`);
  return Number(m[1]);
}

/** `ms` of a sine tone at 8 kHz, 16-bit, amplitude ~ -6 dBFS. */
export function tonePcm(freqHz: number, ms: number): Int16Array {
  const n = Math.round((ms * 8000) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(16000 * Math.sin((2 * Math.PI * freqHz * i) / 8000));
  return out;
}

/** A mono 8 kHz 16-bit WAV file of a tone (what `play media` and SIPp pcaps are made from). */
export function toneWav(freqHz: number, ms: number): Buffer {
  const w = new WaveFile();
  w.fromScratch(1, 8000, '16', tonePcm(freqHz, ms));
  return Buffer.from(w.toBuffer());
}

/** One RTP packet (RFC 3550 §5.1, no CSRC/extension). */
export function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, payload: Uint8Array, marker = false): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(b, 12);
  return b;
}

/** A G.711 tone sender: 20 ms packets from one socket to one address; {@link paceStreams} drives it. */
export class ToneStream {
  readonly #payloads: Buffer[] = [];
  readonly #pt: number;
  #seq: number;
  #ts: number;
  #i = 0;
  sent = 0;
  /** performance.now() at which each sequence number was last sent (for one-way transit times). */
  readonly sentAt = new Float64Array(65536);

  constructor(readonly socket: Socket, readonly to: { host: string; port: number }, opts: { freqHz: number; law?: 'pcmu' | 'pcma'; ssrc?: number }) {
    const law = opts.law ?? 'pcmu';
    this.#pt = law === 'pcma' ? 8 : 0;
    // One second of tone, looped: a whole number of periods for 400 Hz and 1 kHz, so the loop has no click.
    const pcm = tonePcm(opts.freqHz, 1000);
    for (let off = 0; off < pcm.length; off += 160) {
      const frame = pcm.subarray(off, off + 160);
      this.#payloads.push(Buffer.from(law === 'pcma' ? alawmulaw.alaw.encode(frame) : alawmulaw.mulaw.encode(frame)));
    }
    this.ssrc = opts.ssrc ?? ((Math.random() * 0xffffffff) >>> 0);
    this.#seq = Math.floor(Math.random() * 0xffff);
    this.#ts = Math.floor(Math.random() * 0xffffffff);
  }

  readonly ssrc: number;

  /** Sends the next 20 ms packet. */
  tick(): void {
    const payload = this.#payloads[this.#i++ % this.#payloads.length]!;
    this.sentAt[this.#seq & 0xffff] = performance.now();
    this.socket.send(rtpPacket(this.#pt, this.#seq++, this.#ts, this.ssrc, payload, this.sent === 0), this.to.port, this.to.host);
    this.#ts = (this.#ts + 160) >>> 0;
    this.sent++;
  }
}

/**
 * Ticks every stream once per 20 ms for `durationMs` on one timer, catching up by packet count on the monotonic clock
 * (a late timer sends the missed packets at once rather than stretching the stream). Resolves when done.
 */
export function paceStreams(streams: readonly ToneStream[], durationMs: number): Promise<void> {
  const packets = Math.round(durationMs / 20);
  const start = performance.now();
  let done = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      const due = Math.min(packets, Math.floor((performance.now() - start) / 20) + 1);
      while (done < due) { for (const s of streams) s.tick(); done++; }
      if (done >= packets) { resolve(); return; }
      setTimeout(step, Math.max(0, start + done * 20 - performance.now()));
    };
    step();
  });
}

/** Receives RTP on a socket and measures it: packets, loss by sequence number, interarrival jitter (RFC 3550 §6.4.1). */
export class RtpReceiver {
  packets = 0;
  #firstSeq = -1;
  #maxExt = -1;
  #cycles = 0;
  #lastSeq = -1;
  #lastArrival = -1;
  #lastTs = 0;
  /** |D(i-1,i)| of each packet after the first, in ms: the transit-time differences RFC 3550's jitter smooths. */
  readonly transitDeltasMs: number[] = [];
  /** Send → receive time of each packet, in ms, when the sender is known ({@link RtpReceiver.from}). */
  readonly transitMs: number[] = [];
  /** The stream this receiver hears, for one-way transit times (sender and receiver share this process's clock). */
  from?: ToneStream;

  constructor(readonly socket: Socket) {
    socket.on('message', (m) => this.#on(m));
  }

  #on(m: Buffer): void {
    if (m.length < 12 || m[0]! >> 6 !== 2 || (m[1]! & 0x7f) >= 96) return; // not audio RTP (telephone-event etc.)
    const now = performance.now();
    const seq = m.readUInt16BE(2);
    const ts = m.readUInt32BE(4);
    this.packets++;
    if (this.from) this.transitMs.push(now - this.from.sentAt[seq]!);
    if (this.#firstSeq < 0) { this.#firstSeq = seq; this.#maxExt = seq; }
    else {
      if (seq < 0x1000 && this.#lastSeq > 0xf000) this.#cycles += 0x10000;
      const ext = this.#cycles + seq;
      if (ext > this.#maxExt) this.#maxExt = ext;
      const d = (now - this.#lastArrival) - (((ts - this.#lastTs) >>> 0) / 8);
      this.transitDeltasMs.push(Math.abs(d));
    }
    this.#lastSeq = seq;
    this.#lastArrival = now;
    this.#lastTs = ts;
  }

  /** Packets expected from the sequence numbers seen so far. */
  get expected(): number { return this.#firstSeq < 0 ? 0 : this.#maxExt - this.#firstSeq + 1; }
  get lost(): number { return Math.max(0, this.expected - this.packets); }
}

/** A decoded WAV: per-channel samples as numbers in [-32768, 32767]. */
export interface WavAudio { channels: number; sampleRate: number; bitsPerSample: number; samples: Int16Array[]; durationMs: number }

/** Reads a PCM WAV file. */
export function readWav(path: string): WavAudio {
  const w = new WaveFile(readFileSync(path));
  const fmt = w.fmt as { numChannels: number; sampleRate: number; bitsPerSample: number };
  const raw = w.getSamples(false, Int16Array) as unknown as Int16Array[] | Int16Array;
  const samples = fmt.numChannels === 1 ? [raw as Int16Array] : (raw as Int16Array[]);
  return { channels: fmt.numChannels, sampleRate: fmt.sampleRate, bitsPerSample: fmt.bitsPerSample, samples, durationMs: (samples[0]!.length * 1000) / fmt.sampleRate };
}

/** Signal power at `freqHz` (Goertzel), for telling tones apart. */
export function goertzelPower(samples: Int16Array, freqHz: number, sampleRate = 8000): number {
  const k = (2 * Math.cos((2 * Math.PI * freqHz) / sampleRate));
  let s1 = 0, s2 = 0;
  for (let i = 0; i < samples.length; i++) { const s0 = samples[i]! + k * s1 - s2; s2 = s1; s1 = s0; }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/** Which of `candidates` carries the most power in `samples` (and how much more than the runner-up). */
export function dominantFrequency(samples: Int16Array, candidates: readonly number[]): { freqHz: number; ratio: number } {
  const p = candidates.map((f) => ({ f, p: goertzelPower(samples, f) })).sort((a, b) => b.p - a.p);
  return { freqHz: p[0]!.f, ratio: p[1] ? p[0]!.p / Math.max(1, p[1].p) : Infinity };
}

/** Percentile (0..100) of a list of numbers (nearest rank). */
export function percentile(values: readonly number[], pct: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((pct / 100) * sorted.length) - 1))]!;
}
