/**
 * Voicemail audio by signed link (SPEC §3 `voicemail.audio_file`, issue 10): `GET /api/voicemail/{id}.wav?expires=…&sig=…`,
 * no API key — the signature and expiry are the authorisation, signed with the same key and lifetime as recording
 * links (recordings.link_secret, recordings.link_lifetime_s). Missing or wrong signature → 401, expired → 410, unknown
 * or deleted message → 404.
 */
import type { FastifyInstance } from 'fastify';
import type { PbxConfig } from '../config/index.js';
import type { Store } from '../store/index.js';
import { registerSignedWavRoute, signedLink } from './signed-wav.js';

/** Where a voicemail message's signed file lives under the API. */
export function voicemailPath(messageId: string): string {
  return `/api/voicemail/${messageId}.wav`;
}

/** The absolute signed link of a voicemail message, valid for `recordings.link_lifetime_s` from `nowMs`. */
export function voicemailLink(config: PbxConfig, baseUrl: string, messageId: string, nowMs: number): string {
  return signedLink(config, baseUrl, voicemailPath(messageId), nowMs);
}

/** The signed public route (at the root, auth mode `signed`). */
export function registerSignedVoicemailRoute(app: FastifyInstance, deps: { store: Store; getConfig: () => PbxConfig; now: () => number }): void {
  registerSignedWavRoute(app, {
    dir: '/api/voicemail', idPrefix: 'vm', tag: 'voicemail', noun: 'Voicemail message', renewWith: 'GET /api/admin/users/{number}/voicemail/messages/{id}',
    summary: 'A voicemail message\'s WAV by its signed link (the voicemail event\'s audio_file): no API key',
    wavDescription: 'The WAV file (mono, 8 kHz, 16-bit PCM).', find: (id) => deps.store.getVoicemail(id),
  }, deps);
}
