/**
 * The mailbox API (issue 10), under /api/admin (admin keys; changes audited by the admin hooks):
 * - `GET /users/{number}/voicemail/messages` (newest first, `unheard`, paging), `GET …/messages/{id}`,
 *   `GET …/messages/{id}/audio` (the WAV), `PATCH …/messages/{id}` `{heard}`, `DELETE …/messages/{id}` (file and row);
 * - `PUT /users/{number}/voicemail/greeting` with the WAV as the body (`Content-Type: audio/wav`): any common WAV is
 *   converted to mono 8 kHz 16-bit (common/wav-file.ts), a bad one gets a 400 saying why; `GET` plays it back,
 *   `DELETE` returns the box to its configured or built-in greeting;
 * - `GET /voicemail/mail-failures`: messages whose mail was given up, with the last error.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { normalizePromptWav, WavFileError } from '../../common/index.js';
import { greetingFile } from '../../common/index.js';
import type { PbxConfig } from '../../config/index.js';
import type { Store, VoicemailRecord } from '../../store/index.js';
import { ApiError, ok } from '../errors.js';
import { sendWav } from '../send-wav.js';
import { envelope, EXTENSION_PATTERN, nullable, responses, type JsonSchema } from '../schemas.js';

export { greetingFile };

/** Largest greeting upload. */
export const MAX_GREETING_BYTES = 10 * 1024 * 1024;
/** Longest greeting. */
export const MAX_GREETING_SECONDS = 120;

export interface VoicemailRoutesDeps {
  store: Store;
  getConfig: () => PbxConfig;
  /** Root of voicemail files (messages and greetings). */
  voicemailDir: string;
  now: () => number;
  /** A signed link to a message's audio (the same link the `voicemail` event carries), if links are set up. */
  messageLink?: (messageId: string) => string;
}

const tags = ['admin: voicemail'];
const security = [{ adminKey: [] }];
const WAV: JsonSchema = { description: 'The WAV file (mono, 8 kHz, 16-bit PCM).', content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } };
const ERR = { $ref: 'ErrorEnvelope#' };
const MESSAGE_OUT: JsonSchema = {
  type: 'object',
  properties: {
    message_id: { type: 'string' }, user_number: { type: 'string' }, unique_call_id: { type: 'string' },
    caller_id: nullable('string'), caller_name: nullable('string'), dest_number: nullable('string'),
    recorded_at: { type: 'string', description: 'ISO 8601 UTC' }, duration_ms: { type: 'integer' }, size_bytes: { type: 'integer' },
    sha256: { type: 'string' }, heard: { type: 'boolean' }, heard_at: nullable('string'),
    mail: {
      type: 'object', description: 'Voicemail to e-mail: none (no addresses or mail off), pending, sent or failed.',
      properties: {
        status: { type: 'string', enum: ['none', 'pending', 'sent', 'failed'] }, to: { type: 'string' }, attempts: { type: 'integer' },
        last_error: nullable('string'), sent_at: nullable('string'), next_attempt_at: nullable('string'),
      },
    },
    link: { type: 'string', description: 'A signed link to the audio (no key needed), as in the voicemail event.' },
  },
};
const userParams = { type: 'object', required: ['number'], properties: { number: { type: 'string', pattern: EXTENSION_PATTERN } } };
const messageParams = {
  type: 'object', required: ['number', 'message_id'],
  properties: { number: { type: 'string', pattern: EXTENSION_PATTERN }, message_id: { type: 'string', pattern: '^vm_[0-9a-zA-Z_-]{1,64}$' } },
};

export function registerVoicemailRoutes(app: FastifyInstance, deps: VoicemailRoutesDeps): void {
  const view = (m: VoicemailRecord) => ({
    message_id: m.message_id, user_number: m.user_number, unique_call_id: m.unique_call_id, caller_id: m.caller_id, caller_name: m.caller_name,
    dest_number: m.dest_number, recorded_at: m.recorded_at, duration_ms: m.duration_ms, size_bytes: m.size_bytes, sha256: m.sha256,
    heard: m.heard_at !== null, heard_at: m.heard_at,
    mail: {
      status: m.mail_status, to: m.mail_to, attempts: m.mail_attempts, last_error: m.mail_last_error, sent_at: m.mail_sent_at,
      next_attempt_at: m.mail_next_at === null ? null : new Date(m.mail_next_at).toISOString(),
    },
    ...(deps.messageLink ? { link: deps.messageLink(m.message_id) } : {}),
  });
  const box = (number: string): void => {
    if (!deps.getConfig().users.some((u) => u.number === number)) throw new ApiError(404, `User '${number}' not found`);
  };
  const find = async (number: string, id: string): Promise<VoicemailRecord> => {
    const m = await deps.store.getVoicemail(id);
    if (!m || m.user_number !== number) throw new ApiError(404, `Voicemail message '${id}' not found in box ${number}`);
    return m;
  };

  app.get('/users/:number/voicemail/messages', {
    schema: {
      tags, security, summary: 'A voicemail box\'s messages, newest first', params: userParams,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          unheard: { type: 'boolean', default: false, description: 'Only messages not marked heard.' },
          offset: { type: 'integer', minimum: 0, maximum: 100_000, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
      response: responses(envelope({ type: 'array', items: MESSAGE_OUT }), [400, 404]),
    },
  }, async (req) => {
    const { number } = req.params as { number: string };
    const q = req.query as { unheard: boolean; offset: number; limit: number };
    box(number);
    return ok((await deps.store.listVoicemails({ user_number: number, unheard: q.unheard, offset: q.offset, limit: q.limit })).map(view));
  });

  app.get('/users/:number/voicemail/messages/:message_id', {
    schema: { tags, security, summary: 'One voicemail message', params: messageParams, response: responses(envelope(MESSAGE_OUT), [400, 404]) },
  }, async (req) => {
    const { number, message_id } = req.params as { number: string; message_id: string };
    return ok(view(await find(number, message_id)));
  });

  app.get('/users/:number/voicemail/messages/:message_id/audio', {
    schema: { tags, security, summary: 'A voicemail message\'s WAV', params: messageParams, response: { 200: WAV, 400: ERR, 401: ERR, 404: ERR, 429: ERR } },
  }, async (req, reply) => {
    const { number, message_id } = req.params as { number: string; message_id: string };
    const m = await find(number, message_id);
    return sendWav(reply, m.path, `${m.message_id}.wav`);
  });

  app.patch('/users/:number/voicemail/messages/:message_id', {
    schema: {
      tags, security, summary: 'Mark a message heard (or new again)', params: messageParams,
      body: { type: 'object', required: ['heard'], additionalProperties: false, properties: { heard: { type: 'boolean' } } },
      response: responses(envelope(MESSAGE_OUT), [400, 404]),
    },
  }, async (req) => {
    const { number, message_id } = req.params as { number: string; message_id: string };
    await find(number, message_id);
    const { heard } = req.body as { heard: boolean };
    await deps.store.setVoicemailHeard(message_id, heard ? new Date(deps.now()).toISOString() : null);
    return ok(view(await find(number, message_id)), heard ? 'Marked heard' : 'Marked new');
  });

  app.delete('/users/:number/voicemail/messages/:message_id', {
    schema: { tags, security, summary: 'Delete a message (its file and its row)', params: messageParams, response: responses(envelope({ type: 'null' }), [400, 404]) },
  }, async (req) => {
    const { number, message_id } = req.params as { number: string; message_id: string };
    const m = await find(number, message_id);
    await deps.store.deleteVoicemail(message_id);
    await rm(m.path, { force: true });
    return ok(null, `Voicemail message '${message_id}' deleted`);
  });

  app.get('/voicemail/mail-failures', {
    schema: {
      tags, security, summary: 'Voicemail messages whose e-mail was given up, newest first (with the last error)',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { offset: { type: 'integer', minimum: 0, maximum: 100_000, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      },
      response: responses(envelope({ type: 'array', items: MESSAGE_OUT }), [400]),
    },
  }, async (req) => ok((await deps.store.listVoicemailMailFailures(req.query as { offset: number; limit: number })).map(view)));

  // Greeting upload takes the WAV itself as the body; the parser lives in this scope only.
  void app.register(async (scope) => {
    scope.addContentTypeParser(['audio/wav', 'audio/x-wav', 'audio/wave', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: MAX_GREETING_BYTES },
      (_req, body, done) => done(null, body));

    scope.put('/users/:number/voicemail/greeting', {
      bodyLimit: MAX_GREETING_BYTES,
      schema: {
        tags, security, params: userParams,
        summary: 'Upload the box\'s greeting: the WAV as the body (Content-Type: audio/wav); PCM, A-law or µ-law at any rate, converted to mono 8 kHz',
        response: responses(envelope({ type: 'object', properties: { duration_ms: { type: 'integer' }, source: { type: 'string' }, size_bytes: { type: 'integer' } } }), [400, 404, 413, 415]),
      },
    }, async (req) => {
      const { number } = req.params as { number: string };
      box(number);
      if (!Buffer.isBuffer(req.body)) throw new ApiError(400, 'Invalid greeting: send the WAV file as the request body with Content-Type: audio/wav');
      let prompt;
      try {
        prompt = normalizePromptWav(req.body, { maxBytes: MAX_GREETING_BYTES, maxSeconds: MAX_GREETING_SECONDS, minSeconds: 0.5 });
      } catch (err) {
        if (err instanceof WavFileError) throw new ApiError(400, `Invalid greeting: ${err.message}`);
        throw err;
      }
      const file = greetingFile(deps.voicemailDir, number);
      await mkdir(join(deps.voicemailDir, 'greetings'), { recursive: true });
      // Written aside then renamed: a call playing the old greeting never reads half a file.
      await writeFile(`${file}.tmp`, prompt.wav);
      await rename(`${file}.tmp`, file);
      return ok({ duration_ms: prompt.durationMs, source: prompt.source, size_bytes: prompt.wav.length }, `Greeting of ${number} saved`);
    });
  });

  app.get('/users/:number/voicemail/greeting', {
    schema: { tags, security, summary: 'The box\'s uploaded greeting (404 when it uses the configured or built-in one)', params: userParams, response: { 200: WAV, 400: ERR, 401: ERR, 404: ERR, 429: ERR } },
  }, async (req, reply) => {
    const { number } = req.params as { number: string };
    box(number);
    return sendWav(reply, greetingFile(deps.voicemailDir, number), `greeting-${number}.wav`, `User '${number}' has no uploaded greeting`);
  });

  app.delete('/users/:number/voicemail/greeting', {
    schema: { tags, security, summary: 'Remove the uploaded greeting (back to the configured or built-in one)', params: userParams, response: responses(envelope({ type: 'null' }), [400, 404]) },
  }, async (req) => {
    const { number } = req.params as { number: string };
    box(number);
    const file = greetingFile(deps.voicemailDir, number);
    if (!(await stat(file).catch(() => null))) throw new ApiError(404, `User '${number}' has no uploaded greeting`);
    await rm(file, { force: true });
    return ok(null, `Greeting of ${number} removed`);
  });
}
