/**
 * `call-to-number` (click-to-call) and `get-system-status` (SPEC.md §4, compat).
 */
import type { FastifyInstance } from 'fastify';
import { systemClock } from '../../common/index.js';
import { OriginateError } from '../../engine/index.js';

/** Why the engine refused an originate. */
type OriginateErrorCode = OriginateError['code'];
import type { ApiDeps } from '../deps.js';
import { ApiError, ok } from '../errors.js';
import { E164_PATTERN, EXTENSION_PATTERN, envelope, nullable, responses } from '../schemas.js';
import { digits } from './history.js';

/** How each refusal of the engine is answered. */
const ORIGINATE_STATUS: Record<OriginateErrorCode, number> = {
  user_not_found: 404,
  no_registered_device: 409,
  no_trunk: 503,
  engine_unavailable: 503,
};

/** Fallback messages when the engine gives none. */
const ORIGINATE_MESSAGE: Record<OriginateErrorCode, string> = {
  user_not_found: 'User not found',
  no_registered_device: 'User has no registered device',
  no_trunk: 'No trunk is configured for outbound calls',
  engine_unavailable: 'Call engine unavailable',
};

/** Largest call-to-number body (three short fields; room for clients that send extra ones). */
const BODY_LIMIT = 16 * 1024;

interface CallToNumberBody {
  user_number: string;
  number_to_call: string;
  caller_id?: string;
}

const CALL_TO_NUMBER_BODY = {
  type: 'object',
  required: ['user_number', 'number_to_call'],
  properties: {
    user_number: { type: 'string', pattern: EXTENSION_PATTERN, description: 'Extension of the user whose devices ring first.' },
    number_to_call: { type: 'string', pattern: E164_PATTERN, description: 'E.164 with +, dialled through the trunk once the user answers.' },
    caller_id: { type: 'string', pattern: E164_PATTERN, description: 'E.164 presented to the destination; default: the user\'s caller_id.' },
  },
};

const CALL_TO_NUMBER_DATA = {
  type: 'object',
  properties: {
    unique_call_id: { type: 'string' },
    user_name: { type: 'string' },
    user_number: { type: 'string' },
    caller_id: nullable('string', { description: 'Digits, no +.' }),
    dest_number: { type: 'string', description: 'Digits, no +.' },
  },
};

const STATUS_DATA = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    uptime: { type: 'integer', description: 'Seconds since start.' },
    registered_devices: { type: 'integer' },
    active_calls: { type: 'integer' },
    config_version: { type: 'integer', description: 'Live configuration version.' },
  },
};

/** Registers `call-to-number` and `get-system-status` under the current prefix. */
export function registerCallRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Body: CallToNumberBody }>('/call-to-number', {
    bodyLimit: BODY_LIMIT,
    schema: {
      tags: ['integration-v2'],
      summary: 'Click-to-call: ring the user\'s devices, then dial number_to_call',
      description: 'Accepts JSON, application/x-www-form-urlencoded and multipart/form-data bodies. Answers once the user\'s devices are ringing.',
      security: [{ token: [] }],
      consumes: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
      body: CALL_TO_NUMBER_BODY,
      response: responses(envelope(CALL_TO_NUMBER_DATA), [400, 404, 409, 503]),
    },
  }, async (request) => {
    const { user_number, number_to_call, caller_id } = request.body;
    try {
      const r = await deps.engine.originate({ user_number, number_to_call, ...(caller_id ? { caller_id } : {}) });
      return ok({
        unique_call_id: r.unique_call_id,
        user_name: r.user_name,
        user_number: digits(r.user_number),
        caller_id: digits(r.caller_id),
        dest_number: digits(r.dest_number),
      }, 'Call started');
    } catch (err) {
      if (err instanceof OriginateError) {
        const status = ORIGINATE_STATUS[err.code] ?? 503;
        throw new ApiError(status, err.message || ORIGINATE_MESSAGE[err.code]);
      }
      throw err;
    }
  });

  app.get('/get-system-status', {
    schema: {
      tags: ['integration-v2'],
      summary: 'Version, uptime, registered devices and active calls',
      security: [{ token: [] }],
      response: responses(envelope(STATUS_DATA), [503]),
    },
  }, async () => {
    let s;
    try {
      s = await deps.engine.status();
    } catch (err) {
      deps.log.warn({ err }, 'engine status failed');
      const now = (deps.clock ?? systemClock).now();
      throw new ApiError(503, 'Call engine unavailable', { version: deps.version, uptime: Math.max(0, Math.floor((now - deps.startedAt) / 1000)) });
    }
    return ok({
      version: s.version,
      uptime: Math.floor(s.uptime_s),
      registered_devices: s.registered_devices,
      active_calls: s.active_calls,
      config_version: s.config_version,
    }, 'System status');
  });
}
