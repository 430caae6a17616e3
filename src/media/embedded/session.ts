/**
 * One call's media on the embedded endpoint: two {@link Leg}s (caller, callee), each with its own port pair bound
 * for the session's life (re-offers reuse them), the SDP offer/answer that configures them, and the packet path:
 *
 * ```
 *  datagram ─▶ RTCP? drop ─▶ parse (malformed: warning, drop) ─▶ latch / foreign source: drop
 *           ─▶ payload type known? (else warning, drop) ─▶ reorder buffer ─▶ in order:
 *              telephone-event ─▶ DTMF detector (one `dtmf` per key press) ─▶ relay to the peer (its event PT)
 *              audio           ─▶ recording tap (decoded; not while on hold)
 *                              ─▶ relay to the peer (PCMU↔PCMA transcoded in place if their laws differ),
 *                                 unless a file is playing to the peer or a direction forbids it
 * ```
 *
 * The shared tick (every 20 ms) sends playback packets that have fallen due, flushes the recording, gives up
 * reorder gaps that waited too long, and raises `media-timeout` for a leg that went silent while not on hold.
 */
import type { RemoteInfo } from 'node:dgram';
import type { Logger } from '../../common/index.js';
import { g711Decode, g711Encode, G711_PAYLOAD_TYPE, type G711Law } from '../codec/g711.js';
import { MediaError } from '../errors.js';
import { MediaEventEmitter } from '../media-events.js';
import {
  otherRole, type DtmfEvent, type MediaLegRole, type MediaSession, type MediaSessionEvents, type MediaSessionId,
  type MediaWarningCode, type PlaySource, type Playback, type Recording, type RecordingInit, type RecordingResult,
} from '../media-layer.js';
import { parseTelephoneEvent } from './dtmf.js';
import { Leg, type LegMedia, type Received } from './leg.js';
import { loadWavSamples, PacedPlayback, PACKET_MS, SAMPLES_PER_PACKET } from './playback.js';
import type { PortPair } from './port-pool.js';
import { RecordingTap } from './recorder.js';
import { looksLikeRtcp, parseRtp } from './rtp.js';
import { answerDirection, buildAudioSdp, parseAudioSdp, receives, sends, type AudioDescription, type SdpBuild } from './sdp.js';

/** The telephone-event payload type in the offers we make. */
const TELEPHONE_EVENT_PT = 101;
/** A stalled loop further behind than this skips the backlog instead of bursting it (packets). */
const MAX_CATCH_UP = 10;
/** One warning per leg and code per this long; the rest are counted into the next one. */
const WARNING_INTERVAL_MS = 1000;
/** G.711 payloads longer than this (over 100 ms) are not decoded. */
const MAX_PAYLOAD = 1024;

/** What a session needs from its layer. */
export interface SessionDeps {
  advertiseAddress: string;
  now: () => number;
  log: Logger;
  mediaTimeoutMs: number;
  reorderDepth: number;
  /** Registers the session's tick on the layer's shared timer; returns its removal. */
  addTick: (task: (nowMs: number) => void) => () => void;
  /** Gives the port pairs back (after the sockets closed). */
  release: (pairs: PortPair[]) => Promise<void>;
  onClosed: () => void;
}

export class EmbeddedSession extends MediaEventEmitter<MediaSessionEvents> implements MediaSession {
  readonly id: MediaSessionId;
  readonly #d: SessionDeps;
  readonly #legs: Record<MediaLegRole, Leg>;
  /**
   * The last offer and who made it. It stays answerable after an answer: a forked call's callees answer the same
   * offer several times (18x from one device, 18x from another, the 2xx), and the last answer is the one that holds.
   */
  #lastOffer: { from: MediaLegRole; audio: AudioDescription; keep?: AudioDescription['codecs'][number] } | null = null;
  /** What {@link accept} settled per leg (the offer and the codec we answered with), for {@link offerTo}. */
  readonly #accepted: Record<MediaLegRole, { audio: AudioDescription; codec: AudioDescription['codecs'][number] } | null> = { caller: null, callee: null };
  #recording: RecordingTap | null = null;
  #closing: Promise<void> | null = null;
  #removeTick: () => void;
  readonly #pcm = new Int16Array(MAX_PAYLOAD);
  readonly #playPcm = new Int16Array(SAMPLES_PER_PACKET);
  readonly #playOut = new Uint8Array(SAMPLES_PER_PACKET);

  constructor(id: MediaSessionId, pairs: Record<MediaLegRole, PortPair>, deps: SessionDeps) {
    super((err, event) => deps.log.warn({ err, event }, 'media event listener threw'));
    this.id = id;
    this.#d = deps;
    const mk = (role: MediaLegRole): Leg => {
      const leg: Leg = new Leg(role, pairs[role], (r) => this.#deliver(leg, r), deps.reorderDepth);
      leg.pair.rtp.on('message', (buf, from) => this.#receive(leg, buf, from));
      leg.pair.rtp.on('error', (err) => deps.log.warn({ err, role }, 'RTP socket error'));
      return leg;
    };
    this.#legs = { caller: mk('caller'), callee: mk('callee') };
    this.#removeTick = deps.addTick((now) => this.#tick(now));
  }

  get closed(): boolean { return this.#closing !== null; }

  /** Local RTP port of each leg (what its SDP from us says). */
  portOf(role: MediaLegRole): number { return this.#legs[role].port; }

  /** Counters of a leg. */
  statsOf(role: MediaLegRole): Leg['stats'] & { reorder: Leg['reorder']['stats'] } { return { ...this.#legs[role].stats, reorder: { ...this.#legs[role].reorder.stats } }; }

  #open(what: string): void {
    if (this.#closing) throw new MediaError('SB_ERR_MEDIA_BACKEND', `${what} on a closed media session ${this.id}`);
  }

  #parse(what: string, sdp: string): AudioDescription {
    const r = parseAudioSdp(sdp);
    if (!r.ok) throw new MediaError('SB_ERR_MEDIA_SDP', `${what}: ${r.error.message}`);
    return r.audio;
  }

  /** Our SDP towards `leg`; the o= version moves only when the body changes (RFC 3264 §8). */
  #sdpFor(leg: Leg, b: Omit<SdpBuild, 'sessionId' | 'sessionVersion' | 'address' | 'port'>): string {
    const build = (v: number): string => buildAudioSdp({ ...b, sessionId: leg.sdpSessionId, sessionVersion: v, address: this.#d.advertiseAddress, port: leg.port });
    let sdp = build(leg.sdpVersion);
    if (leg.lastSdp !== '' && sdp !== leg.lastSdp) sdp = build(++leg.sdpVersion);
    leg.lastSdp = sdp;
    return sdp;
  }

  async offer(from: MediaLegRole, sdp: string): Promise<string> {
    this.#open('offer');
    const audio = this.#parse(`SDP offer from ${from}`, sdp);
    // We offer the other leg the offerer's laws first, then the other law: we transcode if the other leg picks it.
    const laws: G711Law[] = audio.codecs.map((c) => c.law);
    for (const law of ['pcmu', 'pcma'] as const) if (!laws.includes(law)) laws.push(law);
    this.#lastOffer = { from, audio };
    return this.#sdpFor(this.#legs[otherRole(from)], {
      codecs: laws.map((law) => ({ pt: G711_PAYLOAD_TYPE[law], law })), telephoneEventPt: TELEPHONE_EVENT_PT, direction: audio.direction, ptime: audio.ptime,
    });
  }

  async answer(from: MediaLegRole, sdp: string): Promise<string> {
    this.#open('answer');
    const pending = this.#lastOffer;
    if (!pending || pending.from !== otherRole(from)) throw new MediaError('SB_ERR_MEDIA_SDP', `SDP answer from ${from} without an offer to it`);
    const b = this.#parse(`SDP answer from ${from}`, sdp);
    const a = pending.audio;
    const bCodec = b.codecs[0]!;
    // The offerer keeps the answerer's law when it offered it (no transcoding), else its own first choice.
    // A leg the session answered itself (offerTo) keeps the codec it was answered with.
    const aCodec = pending.keep ?? a.codecs.find((c) => c.law === bCodec.law) ?? a.codecs[0]!;
    const now = this.#d.now();
    const wasOnHold = this.#onHold();
    this.#legs[from].setMedia(legMedia(b, bCodec.law, bCodec.pt, TELEPHONE_EVENT_PT), now);
    this.#legs[pending.from].setMedia(legMedia(a, aCodec.law, aCodec.pt, null), now);
    this.#holdChanged(wasOnHold, now);
    // Nothing goes back to a leg the session answered itself: its SDP from us stays what it was.
    if (pending.keep) return this.#legs[pending.from].lastSdp;
    return this.#sdpFor(this.#legs[pending.from], {
      codecs: [aCodec], telephoneEventPt: a.telephoneEventPt, direction: b.direction, ptime: a.ptime, answerTo: { media: a.media, mediaIndex: a.mediaIndex },
    });
  }

  async accept(from: MediaLegRole, sdp: string): Promise<string> {
    this.#open('accept');
    const a = this.#parse(`SDP offer from ${from}`, sdp);
    const codec = a.codecs[0]!;
    const now = this.#d.now();
    const wasOnHold = this.#onHold();
    this.#legs[from].setMedia(legMedia(a, codec.law, codec.pt, null), now);
    this.#lastOffer = null;
    this.#accepted[from] = { audio: a, codec };
    this.#holdChanged(wasOnHold, now);
    return this.#sdpFor(this.#legs[from], {
      codecs: [codec], telephoneEventPt: a.telephoneEventPt, direction: answerDirection(a.direction), ptime: a.ptime, answerTo: { media: a.media, mediaIndex: a.mediaIndex },
    });
  }

  async offerTo(to: MediaLegRole): Promise<string> {
    this.#open('offerTo');
    const from = otherRole(to);
    const acc = this.#accepted[from];
    if (!acc) throw new MediaError('SB_ERR_MEDIA_SDP', `offer to ${to}: the ${from} leg was not answered by the session`);
    // The accepted leg's law first (no transcoding when the joiner takes it), then the other law.
    const laws: G711Law[] = [acc.codec.law, acc.codec.law === 'pcmu' ? 'pcma' : 'pcmu'];
    this.#lastOffer = { from, audio: acc.audio, keep: acc.codec };
    return this.#sdpFor(this.#legs[to], {
      codecs: laws.map((law) => ({ pt: G711_PAYLOAD_TYPE[law], law })), telephoneEventPt: TELEPHONE_EVENT_PT, direction: acc.audio.direction, ptime: acc.audio.ptime,
    });
  }

  /** On hold: a negotiated leg is not sendrecv (its audio is not recorded; media-timeout does not count). */
  #onHold(): boolean {
    const c = this.#legs.caller.media, e = this.#legs.callee.media;
    return (c !== null && c.direction !== 'sendrecv') || (e !== null && e.direction !== 'sendrecv');
  }

  #holdChanged(was: boolean, now: number): void {
    if (was === this.#onHold()) return;
    for (const leg of [this.#legs.caller, this.#legs.callee]) { leg.lastHeardMs = now; leg.timedOut = false; }
  }

  #warn(leg: Leg | null, code: MediaWarningCode, message: string): void {
    const now = this.#d.now();
    const key = `${leg?.role ?? '-'}:${code}`;
    const w = leg?.warned.get(key);
    if (w && now - w.atMs < WARNING_INTERVAL_MS) { w.suppressed++; return; }
    const more = w && w.suppressed > 0 ? ` (and ${w.suppressed} more since the last warning)` : '';
    leg?.warned.set(key, { atMs: now, suppressed: 0 });
    this.#d.log.debug({ role: leg?.role, code }, message);
    this.safeEmit('warning', { role: leg?.role ?? null, code, message: message + more });
  }

  #onForeign(leg: Leg, buf: Buffer, from: { address: string; port: number }): void {
    this.#d.log.debug({ role: leg.role, from: `${from.address}:${from.port}`, latched: leg.latched, bytes: buf.length }, 'RTP from a source other than the latched one; dropped');
  }

  #receive(leg: Leg, buf: Buffer, from: RemoteInfo): void {
    if (this.#closing || looksLikeRtcp(buf)) return;
    const r = parseRtp(buf);
    if (!r.ok) {
      leg.stats.malformed++;
      if (this.#recording) this.#recording.problems.add('rtp-malformed');
      this.#warn(leg, 'rtp-malformed', `${leg.role}: ${r.error.message}; dropped`);
      return;
    }
    const p = r.packet;
    const m = leg.media;
    // Before its SDP is known a leg may only send the static G.711 types (early media); they are not relayed yet.
    const known = m ? m.recvLaws.has(p.payloadType) || p.payloadType === m.recvTelephoneEventPt : p.payloadType === 0 || p.payloadType === 8;
    if (!known) {
      leg.stats.wrongPayloadType++;
      this.#warn(leg, 'rtp-payload-type', `${leg.role}: RTP payload type ${p.payloadType} was not negotiated; dropped`);
      return;
    }
    // Latch only on a packet that passed the checks, so garbage cannot steer where the leg's audio goes.
    if (!leg.accept(from)) { this.#onForeign(leg, buf, from); return; }
    const now = this.#d.now();
    leg.stats.received++;
    leg.lastHeardMs = now;
    leg.timedOut = false;
    const rx: Received = { buf, packet: p, atMs: now };
    // The end packet of a telephone-event comes three times (RFC 4733 §2.5.1.4), from some senders with the same
    // sequence number: a copy the reorder buffer drops as a duplicate is still delivered (the detector dedupes it,
    // the peer gets the redundancy).
    if (!leg.reorder.push(p.sequenceNumber, rx, now) && m && p.payloadType === m.recvTelephoneEventPt) this.#deliver(leg, rx);
  }

  /** A packet out of the reorder buffer, in sequence order. */
  #deliver(leg: Leg, r: Received): void {
    const m = leg.media;
    if (!m || !sends(m.direction) || this.#closing) return; // a leg that said it would not send is not heard
    const peer = this.#legs[otherRole(leg.role)];
    const pm = peer.media;
    const relay = pm !== null && receives(pm.direction) && peer.playback === null;
    const p = r.packet;
    if (p.payloadType === m.recvTelephoneEventPt) {
      this.#onTelephoneEvent(leg, r);
      if (relay && pm.sendTelephoneEventPt !== null) peer.sendRelayed(r, pm.sendTelephoneEventPt, r.atMs);
      return;
    }
    const law = m.recvLaws.get(p.payloadType)!;
    const n = p.payload.length;
    const rec = this.#recording;
    const tap = rec !== null && !this.#onHold() && n <= MAX_PAYLOAD;
    const transcode = relay && pm.sendLaw !== law;
    if (tap || transcode) {
      const pcm = this.#pcm.subarray(0, Math.min(n, MAX_PAYLOAD));
      g711Decode(law, p.payload.subarray(0, pcm.length), pcm);
      if (tap) rec.put(leg.role, p.ssrc, p.timestamp, pcm, r.atMs);
      // G.711 is one byte per sample in both laws, so the payload is re-encoded where it lies.
      if (transcode && n <= MAX_PAYLOAD) g711Encode(pm.sendLaw, pcm, p.payload);
      else if (transcode) return;
    }
    if (relay) peer.sendRelayed(r, pm.sendPt, r.atMs);
  }

  #onTelephoneEvent(leg: Leg, r: Received): void {
    const ev = parseTelephoneEvent(r.packet.payload);
    if (!ev.ok) { this.#warn(leg, 'rtp-malformed', `${leg.role}: ${ev.error.message}; dropped`); return; }
    for (const d of leg.dtmf.feed(r.packet.timestamp, ev.event)) this.safeEmit('dtmf', { role: leg.role, digit: d.digit, durationMs: d.durationMs, source: 'rfc4733' });
  }

  #tick(now: number): void {
    if (this.#closing) return;
    const onHold = this.#onHold();
    for (const leg of [this.#legs.caller, this.#legs.callee]) {
      leg.reorder.expire(now);
      if (leg.playback) this.#playTick(leg, leg.playback, now);
      const m = leg.media;
      const timeout = this.#d.mediaTimeoutMs;
      if (timeout > 0 && m && sends(m.direction) && !onHold && !leg.timedOut && now - leg.lastHeardMs >= timeout) {
        leg.timedOut = true;
        if (this.#recording) this.#recording.problems.add('stream-stopped');
        this.safeEmit('media-timeout', { role: leg.role, silentMs: Math.round(now - leg.lastHeardMs) });
      }
    }
    const silent = this.#recording?.silenceDue(now) ?? null;
    if (silent !== null) this.safeEmit('silence', { silentMs: silent });
    const problem = this.#recording?.tick(now);
    if (problem) this.#warn(null, 'recording-write-failed', `recording ${this.#recording!.path}: ${problem}; the call goes on, the file keeps what was written`);
  }

  #playTick(leg: Leg, pb: PacedPlayback, now: number): void {
    if (!pb.samples) return;
    let due = Math.floor((now - pb.startMs) / PACKET_MS) + 1;
    if (due - pb.sent > MAX_CATCH_UP) { pb.startMs += (due - pb.sent - 1) * PACKET_MS; due = pb.sent + 1; }
    const m = leg.media;
    while (pb.sent < due && !pb.finished) {
      if (m && receives(m.direction)) {
        pb.frame(pb.sent, this.#playPcm);
        leg.sendOwn(g711Encode(m.sendLaw, this.#playPcm, this.#playOut), now);
      }
      pb.sent++;
    }
    if (pb.finished) pb.finish('finished');
  }

  play(to: MediaLegRole, source: PlaySource): Playback {
    const leg = this.#legs[to];
    const pb: PacedPlayback = new PacedPlayback(to, source.loop === true, (ended) => { if (leg.playback === ended) leg.playback = null; });
    if (this.#closing) { pb.finish('closed'); return pb; }
    // A new playback to the same leg replaces the old one.
    leg.playback?.finish('stopped');
    leg.playback = pb;
    loadWavSamples(source.file).then(
      (samples) => { if (!pb.ended) { pb.samples = samples; pb.startMs = this.#d.now(); this.#playTick(leg, pb, pb.startMs); } },
      (err: unknown) => { this.#d.log.warn({ err, file: source.file }, 'playback file unusable'); pb.finish('failed', (err as Error).message); },
    );
    return pb;
  }

  async startRecording(init: RecordingInit): Promise<Recording> {
    this.#open('startRecording');
    if (this.#recording && !this.#recording.stopped) throw new MediaError('SB_ERR_MEDIA_BACKEND', `session ${this.id} is already recording`);
    const tap = await RecordingTap.open(init.path, init.channels, this.#d.now(), init.silenceMs ?? null);
    if (this.#closing) { await tap.stop(this.#d.now()); throw new MediaError('SB_ERR_MEDIA_BACKEND', `session ${this.id} closed while the recording opened`); }
    this.#recording = tap;
    const stop = (): Promise<RecordingResult> => {
      if (this.#recording === tap) this.#recording = null;
      return tap.stop(this.#d.now());
    };
    return tap.handle(stop);
  }

  injectDtmf(event: Omit<DtmfEvent, 'source'>): void {
    if (!this.#closing) this.safeEmit('dtmf', { ...event, source: 'info' });
  }

  close(reason = 'closed'): Promise<void> {
    this.#closing ??= (async () => {
      this.#removeTick();
      for (const leg of [this.#legs.caller, this.#legs.callee]) leg.playback?.finish('closed');
      const rec = this.#recording;
      this.#recording = null;
      if (rec) await rec.stop(this.#d.now()).catch((err: unknown) => this.#d.log.warn({ err }, 'closing the recording failed'));
      await this.#d.release([this.#legs.caller.pair, this.#legs.callee.pair]).catch((err: unknown) => this.#d.log.warn({ err }, 'releasing RTP ports failed'));
      this.#d.onClosed();
      this.safeEmit('closed', { reason });
      this.removeAllListeners();
    })();
    return this.#closing;
  }
}

/** A leg's negotiated media from its SDP: it sends us the types it listed; we send it `law` as `pt`. */
function legMedia(d: AudioDescription, law: G711Law, pt: number, extraTelephoneEventPt: number | null): LegMedia {
  const recvLaws = new Map<number, G711Law>(d.codecs.map((c) => [c.pt, c.law]));
  return {
    remote: { address: d.address, port: d.port },
    direction: d.direction,
    recvLaws,
    recvTelephoneEventPt: d.telephoneEventPt ?? extraTelephoneEventPt,
    sendLaw: law,
    sendPt: pt,
    sendTelephoneEventPt: d.telephoneEventPt,
  };
}
