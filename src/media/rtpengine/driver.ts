/**
 * {@link MediaLayer} on rtpengine (DESIGN.md decision 4, production): each session is one rtpengine call, each
 * role one monologue tagged `caller` / `callee`. SDP goes through `offer`/`answer` with the options jambonz's SBC
 * and drachtio's rtpengine examples use for plain RTP phones (`replace: origin, session-connection`, `ICE: remove`,
 * `RTP/AVP`, RTCP demuxed); a leg the engine answers itself is an offer answered by a stand-in (see STAND_IN_SDP),
 * which `offerTo` later replaces with a real callee. Playback is `play media` (its `from-tag` is the
 * party that hears it), recording is `start recording`/`stop recording` with `--recording-method=pcap` and our
 * pcap → WAV conversion, DTMF events come from rtpengine's `--dtmf-log-dest` JSON datagrams.
 *
 * rtpengine must see the same files we do: `recordingDir` is its `--recording-dir`, and files to play are read by
 * the daemon by path.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import { MediaError } from '../errors.js';
import { MediaEventEmitter } from '../media-events.js';
import {
  isWebRtcSdp, otherRole, type DtmfEvent, type MediaLayer, type MediaLegRole, type MediaSession, type MediaSessionEvents, type MediaSessionId,
  type MediaSessionInit, type PlaySource, type Playback, type PlaybackEnd, type Recording, type RecordingInit, type RecordingResult,
} from '../media-layer.js';
import { NgCommandError, NgTimeoutError } from './errors.js';
import type { NgClient, NgSdpRequest } from './ng-client.js';
import { audioDirection, HoldTimeline } from './hold-timeline.js';
import { convertPcapToWav } from './pcap-to-wav.js';

/** RFC 4733 §3.2 event codes 0–15 → digits. */
const DTMF_DIGITS = '0123456789*#ABCD';

/** How often a looped file is repeated (rtpengine has no "forever"; 10^6 plays of a 1 s file is 11 days). */
const LOOP_TIMES = 1_000_000;

export interface RtpengineMediaLayerOptions {
  ng: NgClient;
  /** rtpengine's `--recording-dir` as this process sees it (its `pcaps/` subdirectory is read). */
  recordingDir: string;
  /** Where to receive rtpengine's DTMF events (point `--dtmf-log-dest` here); no DTMF events without it. */
  dtmfListen?: { host: string; port: number };
  log: Logger;
  clock?: Clock;
}

/** The rtpengine-backed media layer. */
export interface RtpengineMediaLayer extends MediaLayer {
  readonly kind: 'rtpengine';
  /** The bound DTMF event socket's address, when listening. */
  readonly dtmfAddress?: { host: string; port: number };
}

const SDP_OPTIONS: Omit<NgSdpRequest, 'call-id' | 'sdp'> = {
  replace: ['origin', 'session-connection'],
  ICE: 'remove',
  'transport-protocol': 'RTP/AVP',
  'rtcp-mux': ['demux'],
};

/**
 * The far end of a leg the engine answers itself ({@link RtpengineSession.accept}): rtpengine 10.5 has no way to
 * join a `publish`ed leg to a later one (no `connect`), so such a leg is an ordinary offer answered by this stand-in
 * (the discard port on loopback; nothing listens, nothing is expected back). `play media` still reaches the leg, and
 * a later `offerTo` re-offers the leg to the real callee, whose answer replaces the stand-in.
 */
const STAND_IN_SDP = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=switchboard', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', '',
].join('\r\n');

/** Keeps rtpengine's ports for a leg across the re-offers of a leg the engine answered (else it moves them). */
const KEEP_PORTS = { flags: ['port latching'] } as const;

/** `options` with {@link KEEP_PORTS}'s flag added to its own flags. */
function keepPorts(options: Omit<NgSdpRequest, 'call-id' | 'sdp'>): Omit<NgSdpRequest, 'call-id' | 'sdp'> {
  return { ...options, flags: [...(options.flags ?? []), ...KEEP_PORTS.flags] };
}

/**
 * The options for SDP rtpengine sends to a browser (WebRTC), as jambonz's SBC and drachtio's rtpengine examples use:
 * ICE forced (rtpengine gathers its candidate and answers connectivity checks), DTLS-SRTP with rtpengine passive
 * (the browser, offering `actpass` or answering `active`, starts the handshake), `UDP/TLS/RTP/SAVPF`, RTCP muxed
 * (offered in an offer, required in an answer), no SDES keys (browsers refuse `a=crypto`), and a `mid` for BUNDLE.
 * Codecs are not touched: G.711 from the plain side passes through without transcoding.
 */
function webrtcOptions(kind: 'offer' | 'answer'): Omit<NgSdpRequest, 'call-id' | 'sdp'> {
  return {
    replace: ['origin', 'session-connection'],
    ICE: 'force',
    DTLS: 'passive',
    'transport-protocol': 'UDP/TLS/RTP/SAVPF',
    'rtcp-mux': [kind === 'offer' ? 'offer' : 'require'],
    flags: ['SDES-off', 'generate-mid'],
  };
}

function sdpPorts(sdp: string): number[] {
  return [...sdp.matchAll(/^m=audio (\d+) /gm)].map((m) => Number(m[1]));
}

function backendError(what: string, err: unknown): MediaError {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof NgCommandError && /SDP|codec|media/i.test(err.reason)) return new MediaError('SB_ERR_MEDIA_SDP', `${what}: ${detail}`, { cause: err });
  if (err instanceof NgCommandError && /load limit|port/i.test(`${err.result} ${err.reason}`)) return new MediaError('SB_ERR_MEDIA_CAPACITY', `${what}: ${detail}`, { cause: err });
  return new MediaError('SB_ERR_MEDIA_BACKEND', `${what}: ${detail}${err instanceof NgTimeoutError ? ' (is rtpengine running?)' : ''}`, { cause: err });
}

/** Opens the layer (binds the DTMF socket when asked). The ng client stays the caller's to close. */
export async function createRtpengineMediaLayer(opts: RtpengineMediaLayerOptions): Promise<RtpengineMediaLayer> {
  const { ng, log } = opts;
  const clock = opts.clock ?? systemClock;
  const sessions = new Map<string, RtpengineSession>();
  let dtmfSocket: Socket | undefined;
  let dtmfAddress: { host: string; port: number } | undefined;
  if (opts.dtmfListen) {
    const s = createSocket(opts.dtmfListen.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(opts.dtmfListen!.port, opts.dtmfListen!.host, () => { s.off('error', reject); resolve(); }); });
    s.on('error', (err) => log.warn({ err }, 'rtpengine DTMF socket error'));
    s.on('message', (msg) => onDtmf(msg));
    dtmfSocket = s;
    dtmfAddress = { host: opts.dtmfListen.host, port: s.address().port };
  }
  let closed = false;

  function onDtmf(msg: Buffer): void {
    let ev: { callid?: unknown; source_tag?: unknown; event?: unknown; duration?: unknown };
    try { ev = JSON.parse(msg.toString('utf8')) as typeof ev; } catch { log.debug({ bytes: msg.length }, 'rtpengine DTMF datagram is not JSON; dropped'); return; }
    const session = typeof ev.callid === 'string' ? sessions.get(ev.callid) : undefined;
    if (!session || (ev.source_tag !== 'caller' && ev.source_tag !== 'callee') || typeof ev.event !== 'number') return;
    const digit = DTMF_DIGITS[ev.event];
    if (digit === undefined) return;
    session.emitDtmf({ role: ev.source_tag, digit, durationMs: typeof ev.duration === 'number' ? ev.duration : 0, source: 'rfc4733' });
  }

  return {
    kind: 'rtpengine',
    ...(dtmfAddress ? { dtmfAddress } : {}),
    get sessionCount() { return sessions.size; },
    async createSession(init: MediaSessionInit): Promise<MediaSession> {
      if (closed) throw new MediaError('SB_ERR_MEDIA_BACKEND', 'rtpengine media layer is closed');
      const id = `med_${randomBytes(8).toString('hex')}` as MediaSessionId;
      // The rtpengine call-id: unique per session, readable in rtpengine's logs and file names.
      const callId = `${init.uniqueCallId}-${id.slice(4, 12)}`;
      const session = new RtpengineSession(id, callId, ng, opts.recordingDir, clock, log.child({ unique_call_id: init.uniqueCallId, media: id }), () => sessions.delete(callId), init.webrtc ?? []);
      sessions.set(callId, session);
      return session;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...sessions.values()].map((s) => s.close('media layer closed')));
      if (dtmfSocket) await new Promise<void>((r) => dtmfSocket!.close(() => r()));
    },
  };
}

class RtpengineSession extends MediaEventEmitter<MediaSessionEvents> implements MediaSession {
  readonly id: MediaSessionId;
  readonly #callId: string;
  readonly #ng: NgClient;
  readonly #recordingDir: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onClosed: () => void;
  /** rtpengine's local ports each role sends to. */
  readonly #ports: Record<MediaLegRole, Set<number>> = { caller: new Set(), callee: new Set() };
  readonly #playbacks = new Set<RtpenginePlayback>();
  /** Each party's direction as it last sent SDP: its audio is left out of the recording while on hold. */
  readonly #holds = new HoldTimeline();
  #answered = false;
  /** The offer each leg the session answered itself ({@link accept}) made, re-sent by {@link offerTo}. */
  readonly #accepted: Record<MediaLegRole, string | null> = { caller: null, callee: null };
  /** Parties that are browsers: what rtpengine sends them is WebRTC (ICE, DTLS-SRTP), to the others plain RTP. */
  readonly #webrtc: Set<MediaLegRole>;
  #recording: { stop(): Promise<RecordingResult> } | null = null;
  #closing: Promise<void> | null = null;

  constructor(id: MediaSessionId, callId: string, ng: NgClient, recordingDir: string, clock: Clock, log: Logger, onClosed: () => void, webrtc: readonly MediaLegRole[]) {
    super((err, event) => log.warn({ err, event }, 'media event listener threw'));
    this.#webrtc = new Set(webrtc);
    this.id = id;
    this.#callId = callId;
    this.#ng = ng;
    this.#recordingDir = recordingDir;
    this.#clock = clock;
    this.#log = log;
    this.#onClosed = onClosed;
  }

  get closed(): boolean { return this.#closing !== null; }

  #open(what: string): void {
    if (this.#closing) throw new MediaError('SB_ERR_MEDIA_BACKEND', `${what} on a closed media session ${this.id}`);
  }

  /** The ng options for SDP going to `to`, after noting whether `from`'s own SDP is WebRTC. */
  #optionsToward(to: MediaLegRole, kind: 'offer' | 'answer', from: MediaLegRole, sdp: string): Omit<NgSdpRequest, 'call-id' | 'sdp'> {
    if (isWebRtcSdp(sdp)) this.#webrtc.add(from);
    const options = this.#webrtc.has(to) ? webrtcOptions(kind) : SDP_OPTIONS;
    // A browser's offer says `setup:actpass`, from which rtpengine takes the active (client) role toward it at once;
    // the `DTLS: passive` of our answer comes too late when ICE completes first (rtpengine answers the browser's
    // checks before the callee has answered): rtpengine has started its handshake as a client, the browser (told
    // `setup:passive`) starts one too, and DTLS stays "connecting" for good. Passive from the offer on, the browser
    // alone starts it.
    return kind === 'offer' && this.#webrtc.has(from) ? { ...options, 'DTLS-reverse': 'passive' } : options;
  }

  async offer(from: MediaLegRole, sdp: string): Promise<string> {
    this.#open('offer');
    const to = otherRole(from);
    try {
      const r = await this.#ng.offer({ ...this.#optionsToward(to, 'offer', from, sdp), 'call-id': this.#callId, 'from-tag': from, ...(this.#answered ? { 'to-tag': to } : {}), sdp });
      for (const p of sdpPorts(r.sdp)) this.#ports[to].add(p);
      this.#holds.note(from, audioDirection(sdp), this.#clock.now());
      return r.sdp;
    } catch (err) { throw backendError(`rtpengine offer from ${from}`, err); }
  }

  async answer(from: MediaLegRole, sdp: string): Promise<string> {
    this.#open('answer');
    const offerer = otherRole(from);
    try {
      const keep = this.#accepted[offerer] !== null;
      const options = this.#optionsToward(offerer, 'answer', from, sdp);
      const r = await this.#ng.answer({ ...(keep ? keepPorts(options) : options), 'call-id': this.#callId, 'from-tag': offerer, 'to-tag': from, sdp });
      for (const p of sdpPorts(r.sdp)) this.#ports[offerer].add(p);
      this.#holds.note(from, audioDirection(sdp), this.#clock.now());
      this.#answered = true;
      return r.sdp;
    } catch (err) { throw backendError(`rtpengine answer from ${from}`, err); }
  }

  async accept(from: MediaLegRole, sdp: string): Promise<string> {
    this.#open('accept');
    const to = otherRole(from);
    try {
      // An offer from `from`, answered by the stand-in (see STAND_IN_SDP): the leg can be bridged later (offerTo).
      const o = await this.#ng.offer({ ...keepPorts(this.#optionsToward(to, 'offer', from, sdp)), 'call-id': this.#callId, 'from-tag': from, ...(this.#answered ? { 'to-tag': to } : {}), sdp });
      for (const p of sdpPorts(o.sdp)) this.#ports[to].add(p);
      const a = await this.#ng.answer({ ...keepPorts(this.#optionsToward(from, 'answer', to, STAND_IN_SDP)), 'call-id': this.#callId, 'from-tag': from, 'to-tag': to, sdp: STAND_IN_SDP });
      for (const p of sdpPorts(a.sdp)) this.#ports[from].add(p);
      this.#answered = true;
      this.#accepted[from] = sdp;
      return a.sdp;
    } catch (err) { throw backendError(`rtpengine accept for ${from}`, err); }
  }

  async offerTo(to: MediaLegRole): Promise<string> {
    this.#open('offerTo');
    const from = otherRole(to);
    const sdp = this.#accepted[from];
    if (sdp === null) throw new MediaError('SB_ERR_MEDIA_SDP', `offer to ${to}: the ${from} leg was not answered by the session`);
    // The accepted leg's offer again, now towards the real `to` (port latching: the accepted leg's ports stay, so its
    // SDP from us stays true); `to`'s answer through answer() replaces the stand-in.
    try {
      const r = await this.#ng.offer({ ...keepPorts(this.#optionsToward(to, 'offer', from, sdp)), 'call-id': this.#callId, 'from-tag': from, 'to-tag': to, sdp });
      for (const p of sdpPorts(r.sdp)) this.#ports[to].add(p);
      return r.sdp;
    } catch (err) { throw backendError(`rtpengine offer to ${to}`, err); }
  }

  play(to: MediaLegRole, source: PlaySource): Playback {
    const pb = new RtpenginePlayback(to, this.#clock, async () => { await this.#ng.stopMedia({ 'call-id': this.#callId, 'from-tag': to }); }, () => this.#playbacks.delete(pb));
    if (this.#closing) { pb.finish('closed'); return pb; }
    // A new playback to the same leg replaces the old one, as rtpengine does.
    for (const other of this.#playbacks) if (other.role === to) other.finish('stopped');
    this.#playbacks.add(pb);
    this.#ng.playMedia({ 'call-id': this.#callId, 'from-tag': to, file: source.file, ...(source.loop ? { 'repeat-times': LOOP_TIMES } : {}) })
      .then((r) => { if (!source.loop && r.durationMs !== undefined) pb.finishAfter(r.durationMs); })
      .catch((err: unknown) => { this.#log.warn({ err, file: source.file }, 'rtpengine play media failed'); pb.finish('failed', err instanceof Error ? err.message : String(err)); });
    return pb;
  }

  async startRecording(init: RecordingInit): Promise<Recording> {
    this.#open('startRecording');
    if (this.#recording) throw new MediaError('SB_ERR_MEDIA_BACKEND', `session ${this.id} is already recording`);
    const startMs = this.#clock.now();
    try { await this.#ng.startRecording({ 'call-id': this.#callId }); } catch (err) { throw backendError('rtpengine start recording', err); }
    let result: Promise<RecordingResult> | null = null;
    const stop = (): Promise<RecordingResult> => {
      result ??= (async () => {
        const endMs = this.#clock.now();
        const problems: string[] = [];
        // stop recording flushes rtpengine's pcap; if it fails (call already gone) the file is closed anyway.
        await this.#ng.stopRecording({ 'call-id': this.#callId }).catch((err: unknown) => { this.#log.debug({ err }, 'rtpengine stop recording failed (call gone?)'); });
        const pcap = await this.#findPcap();
        if (!pcap) problems.push('recording-missing');
        const r = await convertPcapToWav({
          pcapPath: pcap ?? join(this.#recordingDir, 'pcaps', `${this.#callId}-missing.pcap`), wavPath: init.path,
          ports: { caller: [...this.#ports.caller], callee: [...this.#ports.callee] }, channels: init.channels, startMs, endMs,
          silentMs: this.#holds.intervals(endMs),
        });
        if (pcap) problems.push(...r.problems);
        if (r.stats.packets.caller + r.stats.packets.callee === 0 && pcap) problems.push('no-audio');
        this.#recording = null;
        return { path: r.path, durationMs: r.durationMs, sizeBytes: r.sizeBytes, sha256: r.sha256, problems };
      })();
      return result;
    };
    this.#recording = { stop };
    return { path: init.path, stop };
  }

  async #findPcap(): Promise<string | null> {
    const dir = join(this.#recordingDir, 'pcaps');
    const names = await readdir(dir).catch(() => [] as string[]);
    const name = names.find((n) => n.startsWith(`${this.#callId}-`) && n.endsWith('.pcap'));
    return name ? join(dir, name) : null;
  }

  injectDtmf(event: Omit<DtmfEvent, 'source'>): void {
    if (!this.#closing) this.safeEmit('dtmf', { ...event, source: 'info' });
  }

  emitDtmf(event: DtmfEvent): void {
    if (!this.#closing) this.safeEmit('dtmf', event);
  }

  close(reason = 'closed'): Promise<void> {
    this.#closing ??= (async () => {
      for (const pb of this.#playbacks) pb.finish('closed');
      if (this.#recording) await this.#recording.stop().catch((err: unknown) => this.#log.warn({ err }, 'closing the recording failed'));
      await this.#ng.delete({ 'call-id': this.#callId }).catch((err: unknown) => this.#log.warn({ err }, 'rtpengine delete failed; rtpengine frees the call on its own timeout'));
      this.#onClosed();
      this.safeEmit('closed', { reason });
      this.removeAllListeners();
    })();
    return this.#closing;
  }
}

class RtpenginePlayback implements Playback {
  readonly done: Promise<{ end: PlaybackEnd; error?: string }>;
  #resolve!: (v: { end: PlaybackEnd; error?: string }) => void;
  #ended = false;
  #timer: unknown = undefined;

  constructor(readonly role: MediaLegRole, readonly clock: Clock, readonly stopMedia: () => Promise<void>, readonly onEnd: () => void) {
    this.done = new Promise((r) => { this.#resolve = r; });
  }

  finishAfter(ms: number): void {
    if (!this.#ended) this.#timer = this.clock.setTimeout(() => this.finish('finished'), ms);
  }

  finish(end: PlaybackEnd, error?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.onEnd();
    this.#resolve(error === undefined ? { end } : { end, error });
  }

  async stop(): Promise<void> {
    if (this.#ended) return;
    this.finish('stopped');
    await this.stopMedia().catch(() => undefined);
  }
}
