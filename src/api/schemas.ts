/**
 * JSON Schema building blocks shared by both APIs: the envelope, the error envelope, and the patterns whose
 * 400 messages get a human hint. Route schemas are the single source of the OpenAPI document.
 */
/** JSON Schema as plain data (Fastify and @fastify/swagger consume it as is). */
export type JsonSchema = Record<string, unknown>;

/** E.164 with '+': 8 to 15 digits, no leading zero (ITU-T E.164 §6). */
export const E164_PATTERN = '^\\+[1-9][0-9]{7,14}$';
/** An extension: digits only. */
export const EXTENSION_PATTERN = '^[0-9]{1,15}$';
/** A calendar date. */
export const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
/** Digits only (config keys marked `digits`). */
export const DIGITS_PATTERN = '^[0-9]+$';

/** What a 400 says when a value misses one of our patterns. */
export const PATTERN_HINTS: Readonly<Record<string, string>> = {
  [E164_PATTERN]: "must be an E.164 number: '+' then 8 to 15 digits",
  [EXTENSION_PATTERN]: 'must be an extension: 1 to 15 digits',
  [DATE_PATTERN]: 'must be a date YYYY-MM-DD',
  [DIGITS_PATTERN]: 'must be digits only',
};

/** Names of the formats the admin schemas use (from the config module's checks) and what a 400 says for each. */
export const FORMAT_HINTS: Readonly<Record<string, string>> = {
  e164: "must be an E.164 number: '+' then 8 to 15 digits",
  digits: 'must be digits only',
  'ip-or-cidr': 'must be an IP address or CIDR block (IPv4 or IPv6)',
  host: 'must be a host name or IP address',
  'http-url': 'must be an http(s) URL',
  'time-zone': 'must be an IANA time zone such as Australia/Melbourne',
};

/** `{type:[t,'null']}` shorthand. */
export function nullable(type: string, extra: JsonSchema = {}): JsonSchema {
  return { type: [type, 'null'], ...extra };
}

/** The success envelope around `data`. */
export function envelope(data: JsonSchema, description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    required: ['code', 'status', 'message'],
    properties: {
      code: { type: 'integer' },
      status: { type: 'string', enum: ['success'] },
      message: { type: 'string' },
      data,
    },
  };
}

/** Id under which the error envelope is registered with `app.addSchema`. */
export const ERROR_ENVELOPE_ID = 'ErrorEnvelope';

/** The error envelope; `data` appears only where a route documents it (e.g. apply's error list). */
export const ERROR_ENVELOPE: JsonSchema = {
  $id: ERROR_ENVELOPE_ID,
  type: 'object',
  description: 'Error in the compat envelope; the message names the offending parameter.',
  required: ['code', 'status', 'message'],
  properties: {
    code: { type: 'integer' },
    status: { type: 'string', enum: ['error'] },
    message: { type: 'string' },
    data: {},
  },
};

const ERROR_REF = { $ref: `${ERROR_ENVELOPE_ID}#` };

/** Response map: the 200 schema plus the error envelope for each listed status. */
export function responses(success: JsonSchema, errors: number[], successCode = 200): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = { [successCode]: success };
  for (const code of [401, 429, ...errors]) out[code] = ERROR_REF;
  return out;
}
