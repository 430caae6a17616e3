/**
 * Voicemail audio by signed link (SPEC §3 `voicemail.audio_file`, issue 10): `GET /api/voicemail/{id}.wav?expires=…&sig=…`,
 * no API key — the signature and expiry are the authorisation, signed with the same key and lifetime as recording
 * links (recordings.link_secret, recordings.link_lifetime_s). Missing or wrong signature → 401, expired → 410, unknown
 * or deleted message → 404.
 */
import type { FastifyInstance } from 'fastify';
import { checkLink, signLink } from '../common/index.js';
import type { PbxConfig } from '../config/index.js';
import type { Store } from '../store/index.js';
import { sendWav } from './send-wav.js';
import { fail } from './errors.js';
import { recordingLinkSecret, refuseLink } from './recordings.js';

/** Where a voicemail message's signed file lives under the API. */
export function voicemailPath(messageId: string): string {
  return `/api/voicemail/${messageId}.wav`;
}

/** The absolute signed link of a voicemail message, valid for `recordings.link_lifetime_s` from `nowMs`. */
export function voicemailLink(config: PbxConfig, baseUrl: string, messageId: string, nowMs: number): string {
  const path = voicemailPath(messageId);
  const expiresS = Math.floor(nowMs / 1000) + config.recordings.link_lifetime_s;
  return `${baseUrl.replace(/\/+$/, '')}${path}?${signLink(recordingLinkSecret(config), path, expiresS)}`;
}

/** The signed public route (at the root, auth mode `signed`). */
export function registerSignedVoicemailRoute(app: FastifyInstance, deps: { store: Store; getConfig: () => PbxConfig; now: () => number }): void {
  app.get('/api/voicemail/:file', {
    config: { auth: 'signed' },
    schema: {
      tags: ['voicemail'], security: [{ signedLink: [] }], summary: 'A voicemail message\'s WAV by its signed link (the voicemail event\'s audio_file): no API key',
      params: { type: 'object', required: ['file'], properties: { file: { type: 'string', description: '<message_id>.wav' } } },
      querystring: {
        type: 'object',
        properties: { expires: { type: 'string', description: 'Epoch seconds the link is valid until.' }, sig: { type: 'string', description: 'HMAC-SHA256 signature (base64url).' } },
      },
      response: {
        200: { description: 'The WAV file (mono, 8 kHz, 16-bit PCM).', content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
        401: { $ref: 'ErrorEnvelope#' }, 404: { $ref: 'ErrorEnvelope#' }, 410: { $ref: 'ErrorEnvelope#' }, 429: { $ref: 'ErrorEnvelope#' },
      },
    },
  }, async (req, reply) => {
    const { file } = req.params as { file: string };
    const { expires, sig } = req.query as { expires?: string; sig?: string };
    const m = /^(vm_[0-9a-f]{16})\.wav$/.exec(file);
    if (!m) return reply.code(404).send(fail(404, 'Not found'));
    const id = m[1]!;
    const check = checkLink(recordingLinkSecret(deps.getConfig()), voicemailPath(id), expires, sig, deps.now());
    if (check !== 'ok') return refuseLink(reply, check, 'GET /api/admin/users/{number}/voicemail/messages/{id}');
    const msg = await deps.store.getVoicemail(id);
    if (!msg) return reply.code(404).send(fail(404, `Voicemail message '${id}' not found (deleted?)`));
    return sendWav(reply, msg.path, `${id}.wav`, `Voicemail message '${id}' has no file (deleted?)`);
  });
}
