/**
 * Call recordings over HTTP (SPEC.md §3, §5; issue 9):
 * - `GET /api/recordings/{id}.wav?expires=…&sig=…` — the `call_recording_link` of recording events: no API key and
 *   no whitelist (a CRM fetches it from wherever it runs), the HMAC signature and expiry are the authorisation.
 *   Missing or wrong signature → 401, expired → 410, unknown or deleted recording → 404.
 * - Admin (admin keys, like every /api/admin route): list with filters and paging, one recording's metadata, its
 *   audio, and delete (file and row; audited by the admin hooks like every admin change).
 * The signing key is `recordings.signing_secret`, or one derived from `api.api_key` when that is null.
 */
import { rm } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PbxConfig } from '../config/index.js';
import type { RecordingRecord, Store } from '../store/index.js';
import { systemClock } from '../common/index.js';
import type { ApiDeps } from './deps.js';
import { ApiError, badParameter, ok } from './errors.js';
import { sendWav } from './send-wav.js';
import { registerSignedWavRoute, signedLink } from './signed-wav.js';
import { envelope, nullable, responses, type JsonSchema } from './schemas.js';

/** Where a recording's signed file lives under the API. */
export function recordingPath(recordingId: string): string {
  return `/api/recordings/${recordingId}.wav`;
}

/** The absolute signed link of a recording, valid for `recordings.link_lifetime_s` from `nowMs`. */
export function recordingLink(config: PbxConfig, baseUrl: string, recordingId: string, nowMs: number): string {
  return signedLink(config, baseUrl, recordingPath(recordingId), nowMs);
}

const RECORDING_ID = '^rec_[0-9a-f]{16}$';
const WAV: JsonSchema = { description: 'The WAV file (stereo, 8 kHz, 16-bit PCM; left = caller, right = callee).', content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } };
const RECORDING_OUT: JsonSchema = {
  type: 'object',
  properties: {
    recording_id: { type: 'string' }, unique_call_id: { type: 'string' }, leg_id: nullable('string'),
    direction: { type: 'string', enum: ['inbound', 'outbound'], description: 'Whose setting made it: the answering user (inbound) or the placing user (outbound).' },
    user_number: nullable('string'), duration_ms: { type: 'integer' }, size_bytes: { type: 'integer' }, sha256: { type: 'string' },
    problems: { type: 'array', items: { type: 'string' }, description: 'What went wrong while recording; empty when nothing did.' },
    created_at: { type: 'string', description: 'When recording started, ISO 8601 UTC.' },
    link: { type: 'string', description: 'A fresh signed link to the file (no key needed), valid for recordings.link_lifetime_s.' },
  },
};

/** What the routes need. */
export interface RecordingRoutesDeps {
  store: Store;
  getConfig: () => PbxConfig;
  now: () => number;
  /** The API's base URL as clients reach it (links in admin answers). */
  baseUrl: () => string;
}

/** What the recording routes read, from the API's deps. */
export function recordingDeps(deps: ApiDeps): RecordingRoutesDeps {
  const clock = deps.clock ?? systemClock;
  return { store: deps.store, getConfig: deps.getConfig, now: () => clock.now(), baseUrl: deps.baseUrl ?? (() => 'http://127.0.0.1') };
}

/** A recording's file, or a 404 naming it when the file is gone. */
function sendRecording(reply: FastifyReply, rec: RecordingRecord): Promise<FastifyReply> {
  return sendWav(reply, rec.path, `${rec.recording_id}.wav`, `Recording '${rec.recording_id}' has no file (deleted?)`);
}

/** The signed public route (register at the root, auth mode `signed`). */
export function registerSignedRecordingRoute(app: FastifyInstance, deps: RecordingRoutesDeps): void {
  registerSignedWavRoute(app, {
    dir: '/api/recordings', idPrefix: 'rec', tag: 'recordings', noun: 'Recording', renewWith: 'GET /api/admin/recordings/{id}',
    summary: 'A recording file by its signed link (call_recording_link): no API key', wavDescription: WAV.description as string,
    find: (id) => deps.store.getRecording(id),
  }, deps);
}

/** The admin routes (inside the /api/admin plugin). */
export function registerAdminRecordingRoutes(app: FastifyInstance, deps: RecordingRoutesDeps): void {
  const tags = ['admin: recordings'];
  const security = [{ adminKey: [] }];
  const view = (r: RecordingRecord) => {
    const { path: _path, ...rest } = r;
    return { ...rest, link: recordingLink(deps.getConfig(), deps.baseUrl(), r.recording_id, deps.now()) };
  };
  const idParams = { type: 'object', required: ['recording_id'], properties: { recording_id: { type: 'string', pattern: RECORDING_ID } } };
  const find = async (id: string): Promise<RecordingRecord> => {
    const rec = await deps.store.getRecording(id);
    if (!rec) throw new ApiError(404, `Recording '${id}' not found`);
    return rec;
  };

  app.get('/recordings', {
    schema: {
      tags, security, summary: 'List recordings, newest first',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          unique_call_id: { type: 'string', pattern: '^[0-9]{1,40}$' }, user_number: { type: 'string', pattern: '^[0-9]{1,20}$' },
          from: { type: 'string', minLength: 1, description: 'ISO 8601; recordings started at or after.' },
          to: { type: 'string', minLength: 1, description: 'ISO 8601; recordings started before.' },
          offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
      response: responses(envelope({ type: 'array', items: RECORDING_OUT }), [400]),
    },
  }, async (req) => {
    const q = req.query as { unique_call_id?: string; user_number?: string; from?: string; to?: string; offset: number; limit: number };
    for (const k of ['from', 'to'] as const) if (q[k] !== undefined && Number.isNaN(Date.parse(q[k]!))) throw badParameter(k, 'must be an ISO 8601 timestamp');
    const rows = await deps.store.listRecordings(q);
    return ok(rows.map(view));
  });

  app.get('/recordings/:recording_id', {
    schema: { tags, security, summary: 'One recording\'s metadata (with a fresh signed link)', params: idParams, response: responses(envelope(RECORDING_OUT), [400, 404]) },
  }, async (req) => ok(view(await find((req.params as { recording_id: string }).recording_id))));

  app.get('/recordings/:recording_id/audio', {
    schema: {
      tags, security, summary: 'Download a recording\'s WAV with the admin key', params: idParams,
      response: { 200: WAV, 400: { $ref: 'ErrorEnvelope#' }, 401: { $ref: 'ErrorEnvelope#' }, 404: { $ref: 'ErrorEnvelope#' }, 429: { $ref: 'ErrorEnvelope#' } },
    },
  }, async (req, reply) => sendRecording(reply, await find((req.params as { recording_id: string }).recording_id)));

  app.delete('/recordings/:recording_id', {
    schema: {
      tags, security, summary: 'Delete a recording: its file and its row (audited); its links answer 404 from then on', params: idParams,
      response: responses(envelope({ type: 'object', properties: { recording_id: { type: 'string' } } }), [400, 404]),
    },
  }, async (req) => {
    const rec = await find((req.params as { recording_id: string }).recording_id);
    // The file first: a row without a file is still listed (and deletable again); a file without a row would be lost.
    await rm(rec.path, { force: true });
    await deps.store.deleteRecording(rec.recording_id);
    return ok({ recording_id: rec.recording_id }, 'Recording deleted');
  });
}
