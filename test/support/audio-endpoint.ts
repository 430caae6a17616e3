/**
 * A test phone's audio: one real UDP socket on 127.0.0.1 that sends a G.711 tone (20 ms packets, paced on the
 * monotonic clock) to the address in the far end's SDP, and keeps every audio packet it receives, decoded, with its
 * arrival time, so a test can ask "what did this phone hear between t0 and t1" (the dominant frequency of it).
 */
import type { Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { audioSdp, bindUdp, dominantFrequency, ToneStream } from './rtp-peer.js';

/** One received audio packet, decoded. */
interface Heard { atMs: number; pcm: Int16Array }

/** The c= address and first m=audio port of an SDP. */
export function sdpTarget(sdp: string): { host: string; port: number } {
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp);
  const m = /^m=audio (\d+) /m.exec(sdp);
  if (!c || !m) throw new Error(`SDP without c= or m=audio:\n${sdp}`);
  return { host: c[1]!, port: Number(m[1]) };
}

/** Sends `freqHz` once {@link AudioEndpoint.start}ed and records what arrives. Times are performance.now() ms. */
export class AudioEndpoint {
  readonly heard: Heard[] = [];
  #stream: ToneStream | null = null;
  #timer: NodeJS.Timeout | null = null;

  private constructor(readonly socket: Socket, readonly freqHz: number, readonly law: 'pcmu' | 'pcma') {
    socket.on('message', (m) => this.#on(m));
  }

  static async open(freqHz: number, law: 'pcmu' | 'pcma' = 'pcmu'): Promise<AudioEndpoint> {
    return new AudioEndpoint(await bindUdp(), freqHz, law);
  }

  get port(): number { return this.socket.address().port; }

  /** Our SDP (offer or answer): one law and telephone-event on our port. */
  sdp(): string { return audioSdp(this.port, { law: this.law }); }

  #on(m: Buffer): void {
    if (m.length <= 12 || m[0]! >> 6 !== 2) return;
    const pt = m[1]! & 0x7f;
    if (pt !== 0 && pt !== 8) return;
    const cc = m[0]! & 0x0f;
    const payload = m.subarray(12 + 4 * cc);
    const pcm = pt === 0 ? alawmulaw.mulaw.decode(payload) : alawmulaw.alaw.decode(payload);
    this.heard.push({ atMs: performance.now(), pcm });
  }

  /** Starts sending the tone to the address in `remoteSdp` (20 ms packets until {@link stop}). */
  start(remoteSdp: string): void {
    this.stopSending();
    const stream = new ToneStream(this.socket, sdpTarget(remoteSdp), { freqHz: this.freqHz, law: this.law });
    this.#stream = stream;
    const t0 = performance.now();
    const step = (): void => {
      if (this.#stream !== stream) return;
      const due = Math.floor((performance.now() - t0) / 20) + 1;
      while (stream.sent < due) stream.tick();
      this.#timer = setTimeout(step, Math.max(1, t0 + stream.sent * 20 - performance.now()));
    };
    step();
  }

  stopSending(): void {
    this.#stream = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** The decoded audio that arrived in [fromMs, toMs). */
  pcmBetween(fromMs: number, toMs: number): Int16Array {
    const parts = this.heard.filter((h) => h.atMs >= fromMs && h.atMs < toMs);
    const out = new Int16Array(parts.reduce((n, p) => n + p.pcm.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p.pcm, o); o += p.pcm.length; }
    return out;
  }

  /** Which of `candidates` dominates what arrived in [fromMs, toMs), and how many samples that was. */
  heardBetween(fromMs: number, toMs: number, candidates: readonly number[]): { freqHz: number | null; ratio: number; samples: number } {
    const pcm = this.pcmBetween(fromMs, toMs);
    if (pcm.length < 800) return { freqHz: null, ratio: 0, samples: pcm.length };
    const d = dominantFrequency(pcm, candidates);
    return { freqHz: d.freqHz, ratio: d.ratio, samples: pcm.length };
  }

  close(): void {
    this.stopSending();
    try { this.socket.close(); } catch { /* closed */ }
  }
}
