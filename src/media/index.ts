/**
 * The media module's public surface (STYLE.md §3): the {@link MediaLayer} interface the engine programs against,
 * and the pieces both backends share (WAV writing, the recording timeline, G.711). The backends themselves
 * (`embedded/`, `rtpengine/`) are imported only by the composition root.
 */
export type {
  DtmfEvent,
  MediaLayer,
  MediaLegRole,
  MediaSession,
  MediaSessionEvents,
  MediaSessionId,
  MediaSessionInit,
  MediaWarningCode,
  PlaySource,
  Playback,
  PlaybackEnd,
  Recording,
  RecordingChannels,
  RecordingInit,
  RecordingResult,
} from './media-layer.js';
export { isWebRtcSdp, otherRole } from './media-layer.js';
export { MediaError, type MediaErrorCode } from './errors.js';
export { MediaEventEmitter } from './media-events.js';
export { WavFileWriter, wavHeader, sha256File, WAV_HEADER_BYTES, type WavCloseResult, type WavFormat } from './wav/wav-writer.js';
export { RecordingTimeline } from './wav/recording-timeline.js';
export { g711Decode, g711Encode, g711LawOf, G711_PAYLOAD_TYPE, G711_SILENCE, type G711Law } from './codec/g711.js';
