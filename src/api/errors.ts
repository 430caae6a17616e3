/**
 * The API's error registry and its one error renderer (STYLE.md §7, fastify/fastify `lib/errors.js`).
 *
 * Every response of the API, success or failure, uses the compat envelope of SPEC.md §4:
 * `{"code":200,"status":"success","message":"...","data":...}`. Failures carry `status: "error"`, the HTTP
 * status as `code`, and a message that names the offending parameter. Stack traces never leave the process.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../common/index.js';
import { SwitchboardError } from '../common/index.js';
import { FORMAT_HINTS, PATTERN_HINTS } from './schemas.js';

/** The response envelope (compat). */
export interface Envelope<T = unknown> {
  code: number;
  status: 'success' | 'error';
  message: string;
  data?: T;
}

/** Builds a success envelope. */
export function ok<T>(data: T, message = 'OK', code = 200): Envelope<T> {
  return { code, status: 'success', message, data };
}

/** Builds an error envelope; `data` is included only when given (e.g. the list of apply errors). */
export function fail(code: number, message: string, data?: unknown): Envelope {
  return data === undefined ? { code, status: 'error', message } : { code, status: 'error', message, data };
}

/** The exact compat body of a 401 (SPEC.md §4). */
export const NOT_AUTHORISED: Envelope = Object.freeze({ code: 401, status: 'error', message: 'Not authorised' }) as Envelope;

/** An expected API failure with its HTTP status; thrown by handlers and rendered by {@link renderError}. */
export class ApiError extends SwitchboardError {
  readonly statusCode: number;
  readonly data: unknown;

  constructor(statusCode: number, message: string, data?: unknown) {
    super(API_ERROR_CODES[statusCode] ?? 'SB_ERR_API', message);
    this.statusCode = statusCode;
    this.data = data;
  }
}

/** Stable codes per HTTP status. */
const API_ERROR_CODES: Record<number, string> = {
  400: 'SB_ERR_API_BAD_REQUEST',
  401: 'SB_ERR_API_NOT_AUTHORISED',
  404: 'SB_ERR_API_NOT_FOUND',
  409: 'SB_ERR_API_CONFLICT',
  429: 'SB_ERR_API_RATE_LIMITED',
  501: 'SB_ERR_API_NOT_IMPLEMENTED',
  503: 'SB_ERR_API_UNAVAILABLE',
};

/** Shorthand: a 400 whose message names the parameter. */
export function badParameter(name: string, why: string): ApiError {
  return new ApiError(400, `Invalid parameter '${name}': ${why}`);
}

interface AjvIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns the first ajv issue into a message that names the parameter, e.g. `Invalid parameter 'limit': must be <= 10000`. */
export function describeValidation(issues: readonly AjvIssue[], context: string | undefined): string {
  const issue = issues[0];
  if (!issue) return 'Invalid request';
  const where = issue.instancePath.replace(/^\//, '');
  const noun = context === 'body' ? 'field' : 'parameter';
  if (issue.keyword === 'required') {
    const missing = String(issue.params.missingProperty ?? '');
    return `Missing ${noun} '${where ? `${where}/` : ''}${missing}'`;
  }
  if (issue.keyword === 'additionalProperties') {
    const extra = String(issue.params.additionalProperty ?? '');
    return `Unknown ${noun} '${where ? `${where}/` : ''}${extra}'`;
  }
  if (where === '' && context === 'body') return `Invalid request body: ${issue.message ?? 'invalid value'}`;
  const name = where || context || 'request';
  const hint = issue.keyword === 'pattern' ? PATTERN_HINTS[String(issue.params.pattern)]
    : issue.keyword === 'format' ? FORMAT_HINTS[String(issue.params.format)] : undefined;
  if (hint) return `Invalid ${noun} '${name}': ${hint}`;
  return `Invalid ${noun} '${name}': ${issue.message ?? 'invalid value'}`;
}

/** Messages for Fastify's own request errors that have no parameter to name. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Empty JSON body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'Invalid JSON body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body too large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Invalid Content-Length',
  FST_FILES_LIMIT: 'File uploads are not accepted here',
  FST_PARTS_LIMIT: 'Too many multipart parts',
  FST_FIELDS_LIMIT: 'Too many form fields',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'Invalid multipart body',
};

/**
 * The one error handler: validation errors → 400 naming the parameter; {@link ApiError} → its status;
 * Fastify/plugin client errors (4xx) → their status with a safe message; anything else → 500 "Internal error",
 * logged with its stack (which never reaches the client).
 */
export function renderError(log: Logger) {
  return (error: FastifyError | ApiError | Error, request: FastifyRequest, reply: FastifyReply): void => {
    if (error instanceof ApiError) {
      void reply.code(error.statusCode).send(fail(error.statusCode, error.message, error.data));
      return;
    }
    const fe = error as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
    if (Array.isArray(fe.validation)) {
      void reply.code(400).send(fail(400, describeValidation(fe.validation, fe.validationContext)));
      return;
    }
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (status >= 400 && status < 500) {
      const message = (fe.code && FASTIFY_CODES[fe.code]) ?? safeClientMessage(fe.message);
      void reply.code(status).send(fail(status, message));
      return;
    }
    log.error({ err: error, method: request.method, url: request.routeOptions.url }, 'api request failed');
    void reply.code(500).send(fail(500, 'Internal error'));
  };
}

/** A plugin's 4xx message, trimmed to one line and a sane length (never a stack). */
function safeClientMessage(message: string): string {
  const line = (message.split('\n')[0] ?? '').trim();
  return line.length > 0 ? line.slice(0, 200) : 'Bad request';
}
