/**
 * One leg of an embedded session: its RTP socket pair, what offer/answer agreed for it, where its packets go
 * (symmetric RTP latching), and our outgoing stream to it.
 *
 * Latching (RFC 4961 symmetric RTP, as rtpengine and every SBC do it for phones behind NAT): until the leg's first
 * packet arrives we send to the address in its SDP; after that, to the address its packets come from. Packets from
 * any other source are dropped until a new SDP from the leg changes its address (which opens latching again).
 *
 * The outgoing stream has our own SSRC. Relayed packets keep the sender's sequence and timestamp spacing (so loss
 * stays visible to the receiver) shifted by offsets chosen whenever the source changes (relay ↔ playback, a new
 * SSRC from the peer), so the leg sees one continuous stream with the marker bit at each switch.
 */
import type { RemoteInfo } from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { G711Law } from '../codec/g711.js';
import type { MediaLegRole } from '../media-layer.js';
import { DtmfDetector } from './dtmf.js';
import type { PacedPlayback } from './playback.js';
import type { PortPair } from './port-pool.js';
import { ReorderBuffer } from './reorder-buffer.js';
import { rewriteRtpHeader, RTP_HEADER_BYTES, type RtpPacket } from './rtp.js';
import type { Direction } from './sdp.js';

/** A packet waiting in (or released from) the reorder buffer. */
export interface Received { buf: Buffer; packet: RtpPacket; atMs: number }

/** What offer/answer settled for a leg. */
export interface LegMedia {
  remote: { address: string; port: number };
  direction: Direction;
  /** Payload types the leg may send us, by law. */
  recvLaws: Map<number, G711Law>;
  recvTelephoneEventPt: number | null;
  sendLaw: G711Law;
  sendPt: number;
  sendTelephoneEventPt: number | null;
}

/** Counters per leg (for logs and tests). */
export interface LegStats {
  received: number;
  sent: number;
  malformed: number;
  wrongPayloadType: number;
  /** From a source other than the latched one. */
  foreign: number;
}

export class Leg {
  readonly role: MediaLegRole;
  readonly pair: PortPair;
  readonly reorder: ReorderBuffer<Received>;
  readonly dtmf = new DtmfDetector();
  readonly stats: LegStats = { received: 0, sent: 0, malformed: 0, wrongPayloadType: 0, foreign: 0 };
  media: LegMedia | null = null;
  latched: { address: string; port: number } | null = null;
  playback: PacedPlayback | null = null;
  /** Monotonic time of the last accepted packet, or when silence started counting (negotiation, unhold). */
  lastHeardMs = 0;
  timedOut = false;
  /** Our SDP's o= session id and version towards this leg, and the last body we sent (RFC 3264 §8 versioning). */
  readonly sdpSessionId = randomInt(1, 2 ** 31);
  sdpVersion = 1;
  lastSdp = '';
  /** Last time a warning of each code was emitted, for rate limiting; suppressed count since. */
  readonly warned = new Map<string, { atMs: number; suppressed: number }>();

  // Outgoing stream state.
  readonly #ssrc = randomInt(0, 2 ** 32 - 1);
  #seq = randomInt(0, 0x10000);
  #ts = randomInt(0, 2 ** 32 - 1);
  #lastSentMs = -1;
  #source: 'relay' | 'play' | null = null;
  #relaySsrc = -1;
  #seqOffset = 0;
  #tsOffset = 0;

  constructor(role: MediaLegRole, pair: PortPair, release: (r: Received) => void, reorderDepth: number) {
    this.role = role;
    this.pair = pair;
    this.reorder = new ReorderBuffer(release, { depth: reorderDepth, maxWaitMs: 60 });
  }

  get port(): number { return this.pair.port; }

  /** Latches to `from` if latching is open; returns false for a packet from a foreign source. */
  accept(from: RemoteInfo): boolean {
    const l = this.latched;
    if (l === null) { this.latched = { address: from.address, port: from.port }; return true; }
    if (l.port === from.port && l.address === from.address) return true;
    this.stats.foreign++;
    return false;
  }

  /** Applies a new negotiation; a changed remote address opens latching again. */
  setMedia(m: LegMedia, nowMs: number): void {
    const old = this.media?.remote;
    if (!old || old.address !== m.remote.address || old.port !== m.remote.port) this.latched = null;
    this.media = m;
    this.lastHeardMs = nowMs;
    this.timedOut = false;
  }

  #dest(): { address: string; port: number } | null {
    return this.latched ?? this.media?.remote ?? null;
  }

  /** Starts a new run of packets from another source: the timestamp moves on by the time that passed (≥ 1 packet). */
  #switchTo(source: 'relay' | 'play', nowMs: number): void {
    if (this.#lastSentMs >= 0) this.#ts = (this.#ts + Math.max(160, Math.round((nowMs - this.#lastSentMs) * 8))) >>> 0;
    this.#source = source;
  }

  /** Forwards a relayed datagram (rewritten in place) with payload type `pt`. Returns whether it was sent. */
  sendRelayed(r: Received, pt: number, nowMs: number): boolean {
    const dest = this.#dest();
    if (!dest) return false;
    const p = r.packet;
    let marker = p.marker;
    if (this.#source !== 'relay' || p.ssrc !== this.#relaySsrc) {
      this.#switchTo('relay', nowMs);
      this.#relaySsrc = p.ssrc;
      // Nothing sent to this leg yet: keep the sender's numbers (a plain pass-through until the first switch).
      this.#seqOffset = this.#lastSentMs < 0 ? 0 : (this.#seq + 1 - p.sequenceNumber) & 0xffff;
      this.#tsOffset = this.#lastSentMs < 0 ? 0 : (this.#ts - p.timestamp) >>> 0;
      marker = true;
    }
    const seq = (p.sequenceNumber + this.#seqOffset) & 0xffff;
    const ts = (p.timestamp + this.#tsOffset) >>> 0;
    rewriteRtpHeader(r.buf, marker, pt, seq, ts, this.#ssrc);
    this.#seq = seq;
    this.#ts = ts;
    this.#lastSentMs = nowMs;
    this.stats.sent++;
    this.pair.rtp.send(r.buf, dest.port, dest.address);
    return true;
  }

  /** Sends one 20 ms packet of our own audio (playback), already encoded in the leg's law. */
  sendOwn(payload: Uint8Array, nowMs: number): void {
    const dest = this.#dest();
    const m = this.media;
    if (!dest || !m) return;
    const marker = this.#source !== 'play';
    if (marker) this.#switchTo('play', nowMs);
    else this.#ts = (this.#ts + 160) >>> 0;
    this.#seq = (this.#seq + 1) & 0xffff;
    const buf = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
    buf[0] = 0x80;
    rewriteRtpHeader(buf, marker, m.sendPt, this.#seq, this.#ts, this.#ssrc);
    buf.set(payload, RTP_HEADER_BYTES);
    this.#lastSentMs = nowMs;
    this.stats.sent++;
    this.pair.rtp.send(buf, dest.port, dest.address);
  }
}
