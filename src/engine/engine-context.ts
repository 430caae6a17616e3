/** What calls and node handlers get from the engine: the shared services, never module-level state. */
import type { Clock } from '../common/index.js';
import type { Logger } from '../common/index.js';
import type { Store } from '../store/index.js';
import type { Bus } from '../events/index.js';
import type { PbxConfig } from '../config/index.js';
import type { MediaLayer } from '../media/index.js';
import type { EngineEventMap } from './facade.js';
import type { LocationService } from './location/location-service.js';
import type { SrfLike } from './srf-types.js';
import type { UserPresence } from './user-presence.js';

/** Which users are on a call right now (queues skip busy agents); shared between engines with Redis. */
export { UserPresence, type SharedPresence } from './user-presence.js';

/** The engine's services as calls see them. */
export interface EngineContext {
  srf: SrfLike;
  store: Store;
  clock: Clock;
  log: Logger;
  location: LocationService;
  presence: UserPresence;
  onCommitted?: () => void;
  /** The engine's live event stream (call state changes, commits, registrations, queues). */
  events?: Bus<EngineEventMap>;
  /** The PBX SIP domain used in From/Contact of requests we originate. */
  domain(): string;
  /** Who anchors media for calls that need it (a recorded user); absent = every call passes SDP through. */
  media?: MediaLayer;
  /**
   * Who anchors calls with a browser leg (WebRTC SDP from the caller, or a callee registered over WebSocket): an
   * rtpengine layer (ICE + DTLS-SRTP to the browser, plain RTP to the other side); absent = such calls pass SDP through.
   */
  webrtcMedia?: MediaLayer;
  /** Where recordings go and how their links look; absent = nothing is recorded. */
  recordings?: RecordingsHost;
  /** Voicemail files, prompts and links; absent (or no media) = the voicemail node answers 480. */
  voicemail?: VoicemailHost;
}

/** What the voicemail node needs from the composition root. */
export interface VoicemailHost {
  /** Root of voicemail files (messages/<number>/, greetings/). */
  readonly dir: string;
  /** The built-in greeting and beep (media/prompts). */
  readonly defaultGreeting: string;
  readonly beep: string;
  /** The absolute signed URL of message `messageId` (the event's audio_file). */
  link(messageId: string, config: PbxConfig): string;
  /** A message was committed: mail it now if it has addresses. */
  left(): void;
}

/** Where call recordings are written and how their links are made (the composition root fills it in). */
export interface RecordingsHost {
  /** Absolute directory the WAV files go to (it exists). */
  readonly dir: string;
  /** The absolute signed URL of recording `recordingId`, valid for `recordings.link_lifetime_s` of `config` from now. */
  link(recordingId: string, config: PbxConfig): string;
}
