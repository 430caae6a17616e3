/**
 * The media layer (DESIGN.md decision 4): what the engine asks of media, independent of who moves the packets.
 * Two implementations: the embedded G.711 endpoint (`embedded/`, in-process RTP) and rtpengine over its ng
 * protocol (`rtpengine/`). The engine sees only these types (STYLE.md §3).
 *
 * The model is rtpengine's, because it is the stricter of the two: a {@link MediaSession} anchors one call. Each
 * SIP leg of the call is a {@link MediaLegRole} (`caller` = A, `callee` = B). SDP the engine receives from one
 * leg goes through the session on its way to the other leg and comes out rewritten so RTP flows through us:
 *
 * ```
 *   caller ──INVITE(sdpA)──▶ engine ── offer('caller', sdpA) ──▶ session ──▶ sdpA' ──INVITE──▶ callee
 *   caller ◀──200(sdpB')─── engine ◀── answer('callee', sdpB) ── session ◀── sdpB ◀──200──── callee
 * ```
 *
 * A re-INVITE (hold, unhold, codec change) from either side is the same pair with the roles swapped:
 * `offer('callee', …)` then `answer('caller', …)`. When the engine itself is the far end (voicemail, a `play`
 * node, hold music before anyone answers) it calls {@link MediaSession.accept} instead: the session answers the
 * leg's offer as an endpoint, and {@link MediaSession.offerTo} later joins a callee to it.
 *
 * Playback and recording hang off the session: {@link MediaSession.play} replaces what a leg hears until it ends
 * or is stopped; {@link MediaSession.startRecording} taps both directions into one WAV (left = caller, right =
 * callee, 8 kHz 16-bit) or one party into a mono WAV (voicemail).
 */

/** One side of a call as the media layer sees it; also the WAV channel (`caller` = left, `callee` = right). */
export type MediaLegRole = 'caller' | 'callee';

/** The other side of `role`. */
export function otherRole(role: MediaLegRole): MediaLegRole {
  return role === 'caller' ? 'callee' : 'caller';
}

/** A session's id (ours: `med_…`). */
export type MediaSessionId = string & { readonly __brand: 'MediaSessionId' };

/** What a session is opened for. */
export interface MediaSessionInit {
  /** The call's unique_call_id, for logs and for the backend's own call id (rtpengine `call-id`). */
  uniqueCallId: string;
  /**
   * Parties known to be browsers (WebRTC: ICE + DTLS-SRTP, `UDP/TLS/RTP/SAVPF`) before any SDP from them, e.g. a
   * callee registered over WebSocket. A party whose own SDP is WebRTC is found by the session itself.
   */
  webrtc?: readonly MediaLegRole[];
}

/** Whether an SDP is a WebRTC one (DTLS-SRTP: an `m=` line with `UDP/TLS/RTP/SAVP(F)`). */
export function isWebRtcSdp(sdp: string): boolean {
  return /^m=\S+ \d+(?:\/\d+)? UDP\/TLS\/RTP\/SAVPF?\b/m.test(sdp);
}

/**
 * A typed event map (mediasoup's `enhancedEvents` style): event name → the one argument listeners get.
 * Listener errors are caught and logged by the emitter, never thrown into the media path.
 */
export interface MediaSessionEvents {
  /** An RFC 4733 telephone-event ended (one per key press, after end-bit dedupe) or a SIP INFO digit relayed in. */
  dtmf: DtmfEvent;
  /** No RTP from a leg for the configured timeout while it should be sending (not on hold). */
  'media-timeout': { role: MediaLegRole; silentMs: number };
  /** A problem that degrades media but does not end the call (garbled packets, unknown payload type, …). */
  warning: { role: MediaLegRole | null; code: MediaWarningCode; message: string };
  /**
   * The recorded party has been silent (no packets, or audio below the voice threshold) for the recording's
   * `silenceMs` — since the recording started or since it last spoke. Fires once per recording (voicemail ends
   * the message on it). The embedded endpoint detects it; the rtpengine driver does not (it never sees the audio).
   */
  silence: { silentMs: number };
  /** The session closed (by `close()` or because the backend lost it). Fires once. */
  closed: { reason: string };
}

/** Codes of {@link MediaSessionEvents.warning}. */
export type MediaWarningCode = 'rtp-malformed' | 'rtp-payload-type' | 'recording-write-failed' | 'backend';

/** One DTMF digit. */
export interface DtmfEvent {
  role: MediaLegRole;
  /** `0`–`9`, `*`, `#`, `A`–`D` (RFC 4733 §3.2 events 0–15). */
  digit: string;
  /** How long the key was held. */
  durationMs: number;
  /** Where the digit came from: RTP telephone-event or a SIP INFO the engine fed in. */
  source: 'rfc4733' | 'info';
}

/** What {@link MediaSession.play} plays. */
export interface PlaySource {
  /**
   * A WAV file on this host: mono, 8 kHz, 16-bit PCM (or G.711 A-law/µ-law WAV). rtpengine reads the file itself
   * (`play media` with `file=`), so the path must be readable by both processes.
   */
  file: string;
  /** Play the file again and again until stopped (hold music). Default false. */
  loop?: boolean;
}

/** How a playback ended. */
export type PlaybackEnd = 'finished' | 'stopped' | 'closed' | 'failed';

/** A playback in progress. */
export interface Playback {
  readonly role: MediaLegRole;
  /** Resolves once when the playback ends (never rejects). */
  readonly done: Promise<{ end: PlaybackEnd; error?: string }>;
  /** Stops the playback; the leg hears its peer again (or silence). Idempotent. */
  stop(): Promise<void>;
}

/** What a recording captures. */
export type RecordingChannels =
  /** Stereo: left = what the caller says, right = what the callee says. */
  | 'both'
  /** Mono, one party only (voicemail: the caller). */
  | 'caller'
  | 'callee';

/** How a recording starts. */
export interface RecordingInit {
  /** Absolute path of the WAV to write (its directory exists). */
  path: string;
  channels: RecordingChannels;
  /** Emit `silence` once the recorded party has said nothing for this long (ms); absent = never. */
  silenceMs?: number;
}

/** A recording in progress. */
export interface Recording {
  readonly path: string;
  /** Stops the recording, closes the file (header patched) and reports it. Idempotent: later calls get the same result. */
  stop(): Promise<RecordingResult>;
}

/** A closed recording. The file at `path` is complete and readable when this exists (unless `sizeBytes` is 0). */
export interface RecordingResult {
  path: string;
  /** Audio duration (data samples / 8000), rounded to ms. */
  durationMs: number;
  /** File size in bytes, header included. */
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the file as closed. */
  sha256: string;
  /**
   * Why the file is shorter or emptier than the call, if it is: `disk-full`, `write-failed`, `stream-stopped`
   * (a leg sent nothing for a while; the gap is silence), `rtp-malformed`, … Empty when all went well.
   */
  problems: string[];
}

/** The anchor of one call's media. */
export interface MediaSession {
  readonly id: MediaSessionId;
  readonly closed: boolean;

  /**
   * `sdp` is an offer received from `from`; returns the offer to send to the other leg (our address for the other
   * side). Hold/unhold directions (`a=sendonly`/`inactive`) are carried over. Rejects with a MediaError when the
   * SDP has no audio stream we can handle (PCMU/PCMA).
   */
  offer(from: MediaLegRole, sdp: string): Promise<string>;

  /** `sdp` is the answer received from `from` to the last offer; returns the answer to send to the offerer. */
  answer(from: MediaLegRole, sdp: string): Promise<string>;

  /** Answers `from`'s offer as an endpoint (nobody on the other side): returns our SDP answer for that leg. */
  accept(from: MediaLegRole, sdp: string): Promise<string>;

  /**
   * An offer to `to` made by the session itself, once the other leg was answered by {@link accept} (the PBX answered
   * the caller with hold music or a `play` node; now an agent or device joins). `answer(to, …)` then bridges the two
   * legs; the accepted leg keeps the codec and address it was answered with (it is not re-offered). Rejects with a
   * MediaError when the other leg was not accepted.
   */
  offerTo(to: MediaLegRole): Promise<string>;

  /** Plays a file to one leg, instead of its peer's audio, until it ends or is stopped. */
  play(to: MediaLegRole, source: PlaySource): Playback;

  /** Starts recording; one recording per session at a time. */
  startRecording(init: RecordingInit): Promise<Recording>;

  /** Feeds a DTMF digit the engine learnt from signalling (SIP INFO) into the session's `dtmf` events. */
  injectDtmf(event: Omit<DtmfEvent, 'source'>): void;

  on<E extends keyof MediaSessionEvents>(event: E, listener: (arg: MediaSessionEvents[E]) => void): this;
  off<E extends keyof MediaSessionEvents>(event: E, listener: (arg: MediaSessionEvents[E]) => void): this;

  /**
   * Releases everything: stops playbacks (`closed`), stops and closes a running recording, frees ports (rtpengine:
   * `delete`). Idempotent; the same promise each time. Never rejects.
   */
  close(reason?: string): Promise<void>;
}

/** A media backend: makes sessions. */
export interface MediaLayer {
  /** `embedded` or `rtpengine`, for logs and status. */
  readonly kind: string;
  /** Opens a session for one call. Throws MediaError (`SB_ERR_MEDIA_CAPACITY`) when no ports are left. */
  createSession(init: MediaSessionInit): Promise<MediaSession>;
  /** Sessions open now. */
  readonly sessionCount: number;
  /** Closes every session and the backend (sockets, ng connection). Idempotent. */
  close(): Promise<void>;
}
