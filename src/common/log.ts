/**
 * Logging: pino, JSON lines by default and pretty-printed when stdout is a TTY. Secrets are redacted at every
 * place they are known to appear (STYLE.md §7): Authorization headers, tokens, X-Pbx-Token, passwords and API keys.
 */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface LoggerOpts {
  /** pino level name; default `info`. */
  level?: string;
  /** Base `name` field. */
  name?: string;
  /** Force pretty output on or off; default: pretty when `process.stdout.isTTY`. */
  pretty?: boolean;
  /** Write here instead of stdout (tests capture lines this way). */
  destination?: DestinationStream;
  /** Fields merged into every line. */
  base?: Record<string, unknown>;
}

/** Every write-only configuration key is here too (a test checks it against the schema's `secret` keys). */
export const LOG_SECRET_KEYS: readonly string[] = ['authorization', 'Authorization', 'proxy-authorization', 'token', 'x-pbx-token', 'X-Pbx-Token',
  'password', 'api_key', 'apiKey', 'secret', 'secret_token', 'signing_secret', 'signingSecret', 'secretToken', 'admin_key', 'key_hash', 'nonce_secret', 'nonceSecretOverride'];

/** Redaction paths: each secret key at the top level and up to three levels deep. */
export const REDACT_PATHS: readonly string[] = (() => {
  const paths: string[] = [];
  for (const key of LOG_SECRET_KEYS) {
    const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    const dot = k.startsWith('[') ? '' : '.';
    paths.push(k, `*${dot}${k}`, `*.*${dot}${k}`, `*.*.*${dot}${k}`);
  }
  // A webhook object's custom headers (CRM credentials) wherever they travel: its flow node, the outbox event's
  // endpoint, the dispatcher's target. Not every `headers` key: HTTP and SIP headers stay readable.
  for (const at of ['endpoint', 'target']) paths.push(`${at}.headers`, `*.${at}.headers`, `*.*.${at}.headers`);
  paths.push('nodes[*].headers', '*.nodes[*].headers', '*.*.nodes[*].headers');
  return paths;
})();

/** Builds the root logger; modules receive children of it (`log.child({ legId })`). */
export function createLogger(opts: LoggerOpts = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.base ? { base: opts.base } : {}),
  };
  if (opts.destination) return pino(options, opts.destination);
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (usePretty) return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', sync: true }));
  return pino(options);
}
