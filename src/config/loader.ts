/**
 * Loading: runtime settings from the environment (SPEC §6) and the PBX configuration from a YAML file.
 * Precedence (STYLE.md §9): schema defaults, then the YAML file, then `SWITCHBOARD_*` variables.
 * This folder is the only place that reads `process.env`; callers pass the environment in.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { LineCounter, parseDocument, visit } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.js';
import { checkHost, checkRedisUrl } from './formats.js';
import { validateConfig } from './schema.js';
import type { PbxConfig, RuntimeSettings } from './types.js';

/** Log levels pino accepts. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Defaults of the SPEC §6 variables. */
export const SETTINGS_DEFAULTS = Object.freeze({
  configPath: 'config/default.yaml',
  dataDir: 'data/',
  bind: '127.0.0.1',
  sipPort: 5060,
  httpPort: 8080,
  logLevel: 'info',
  drachtioPort: 9022,
  drachtioSecret: 'cymru',
});

/** The variable's value, with empty strings counted as unset. */
function get(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function port(env: NodeJS.ProcessEnv, name: string, dflt: number, issues: ConfigIssue[]): number {
  const v = get(env, name);
  if (v === undefined) return dflt;
  // 0 lets the OS choose (tests); anything else must be a real port.
  if (/^\d{1,5}$/.test(v) && Number(v) <= 65535) return Number(v);
  issues.push({ file: 'env', path: name, message: `must be a port number from 0 to 65535, got '${v}'` });
  return dflt;
}

/**
 * Reads the SPEC §6 variables: SWITCHBOARD_CONFIG, _DATA_DIR, _BIND, _SIP_PORT, _HTTP_PORT, _API_KEY, _ADMIN_KEY, _LOG_LEVEL,
 * DATABASE_URL / SWITCHBOARD_DATABASE_URL, and DRACHTIO_HOST/_PORT/_SECRET (a real drachtio-server when HOST is
 * set). Throws {@link ConfigError} naming every bad variable.
 */
export function loadSettings(env: NodeJS.ProcessEnv): RuntimeSettings {
  const issues: ConfigIssue[] = [];
  const bind = get(env, 'SWITCHBOARD_BIND') ?? SETTINGS_DEFAULTS.bind;
  if (isIP(bind) === 0 && checkHost(bind) !== null) {
    issues.push({ file: 'env', path: 'SWITCHBOARD_BIND', message: `must be an IP address or host name, got '${bind}'` });
  }
  const logLevel = (get(env, 'SWITCHBOARD_LOG_LEVEL') ?? SETTINGS_DEFAULTS.logLevel).toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    issues.push({ file: 'env', path: 'SWITCHBOARD_LOG_LEVEL', message: `must be one of ${LOG_LEVELS.join(', ')}; got '${logLevel}'` });
  }
  const sipPort = port(env, 'SWITCHBOARD_SIP_PORT', SETTINGS_DEFAULTS.sipPort, issues);
  const httpPort = port(env, 'SWITCHBOARD_HTTP_PORT', SETTINGS_DEFAULTS.httpPort, issues);
  const drachtioHost = get(env, 'DRACHTIO_HOST');
  const drachtioPort = port(env, 'DRACHTIO_PORT', SETTINGS_DEFAULTS.drachtioPort, issues);
  if (drachtioHost !== undefined && checkHost(drachtioHost) !== null) {
    issues.push({ file: 'env', path: 'DRACHTIO_HOST', message: `must be an IP address or host name, got '${drachtioHost}'` });
  }
  const nodeText = get(env, 'SWITCHBOARD_NODE_ID');
  let nodeId: number | null = null;
  if (nodeText !== undefined) {
    if (/^\d{1,2}$/.test(nodeText)) nodeId = Number(nodeText);
    else issues.push({ file: 'env', path: 'SWITCHBOARD_NODE_ID', message: `must be a whole number from 0 to 99, got '${nodeText}'` });
  }
  const nonceSecret = get(env, 'SWITCHBOARD_NONCE_SECRET');
  if (nonceSecret !== undefined && nonceSecret.length < 16) {
    issues.push({ file: 'env', path: 'SWITCHBOARD_NONCE_SECRET', message: `must be at least 16 characters, got ${nonceSecret.length}` });
  }
  const redisUrl = get(env, 'SWITCHBOARD_REDIS_URL');
  const redisBad = redisUrl === undefined ? null : checkRedisUrl(redisUrl);
  if (redisBad !== null) issues.push({ file: 'env', path: 'SWITCHBOARD_REDIS_URL', message: redisBad });
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    redisUrl: redisUrl ?? null,
    edgeControl: { port: drachtioPort, secret: get(env, 'DRACHTIO_SECRET') ?? SETTINGS_DEFAULTS.drachtioSecret },
    nodeId,
    nonceSecretOverride: nonceSecret ?? null,
    configPath: get(env, 'SWITCHBOARD_CONFIG') ?? SETTINGS_DEFAULTS.configPath,
    dataDir: get(env, 'SWITCHBOARD_DATA_DIR') ?? SETTINGS_DEFAULTS.dataDir,
    bind,
    sipPort,
    httpPort,
    apiKeyOverride: get(env, 'SWITCHBOARD_API_KEY') ?? null,
    adminKeyOverride: get(env, 'SWITCHBOARD_ADMIN_KEY') ?? null,
    logLevel,
    drachtio: drachtioHost === undefined ? null : {
      host: drachtioHost,
      port: drachtioPort,
      secret: get(env, 'DRACHTIO_SECRET') ?? SETTINGS_DEFAULTS.drachtioSecret,
    },
    databaseUrl: get(env, 'SWITCHBOARD_DATABASE_URL') ?? get(env, 'DATABASE_URL') ?? null,
  };
}

/**
 * Parses YAML text. Plain scalars that look numeric but carry a leading '+' or '0' stay strings, so an unquoted
 * `+61390000000` or extension `0123` keeps its digits instead of becoming a number.
 * Returns the raw value or the syntax issues (with line and column).
 */
export function parseYaml(text: string, file: string): { ok: true; value: unknown } | { ok: false; errors: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const problems = [...doc.errors];
  if (problems.length > 0) {
    return {
      ok: false,
      errors: problems.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        const where = `line ${pos.line}, column ${pos.col}: `;
        return { file, path: '', message: `YAML syntax error at ${where}${e.message.split('\n')[0]}` };
      }),
    };
  }
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && node.type === 'PLAIN' && typeof node.source === 'string' && /^[+0]\d/.test(node.source)) {
        node.value = node.source;
      }
    },
  });
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
}

/** The environment's key overrides (SWITCHBOARD_API_KEY, SWITCHBOARD_ADMIN_KEY; the latter optional for callers that predate it). */
export type KeyOverrides = Pick<RuntimeSettings, 'apiKeyOverride'> & Partial<Pick<RuntimeSettings, 'adminKeyOverride' | 'nonceSecretOverride'>>;

/**
 * Reads, parses and validates a YAML configuration file. `settings.apiKeyOverride` (SWITCHBOARD_API_KEY)
 * replaces `api.api_key`, `settings.adminKeyOverride` (SWITCHBOARD_ADMIN_KEY) `api.admin_key`. Throws one {@link ConfigError} listing every problem as `<file>: <path>: <problem>`.
 */
export function loadConfigFile(path: string, settings: KeyOverrides): PbxConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, path: '', message: `cannot read the file: ${(err as Error).message}` }], { cause: err });
  }
  return loadConfigText(text, path, settings);
}

/** {@link loadConfigFile} on text already read (`file` names it in errors). */
export function loadConfigText(text: string, file: string, settings: KeyOverrides): PbxConfig {
  const parsed = parseYaml(text, file);
  if (!parsed.ok) throw new ConfigError(parsed.errors);
  let raw = parsed.value;
  const overrides = {
    ...(settings.apiKeyOverride !== null ? { api_key: settings.apiKeyOverride } : {}),
    ...(settings.adminKeyOverride != null ? { admin_key: settings.adminKeyOverride } : {}),
  };
  if (Object.keys(overrides).length > 0) {
    const base = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const api = base['api'];
    // A malformed `api` is left alone so validation still reports it.
    if (api === undefined || api === null) raw = { ...base, api: overrides };
    else if (typeof api === 'object' && !Array.isArray(api)) raw = { ...base, api: { ...api, ...overrides } };
  }
  raw = override(raw, 'sip', settings.nonceSecretOverride != null ? { nonce_secret: settings.nonceSecretOverride } : {});
  const result = validateConfig(raw, file);
  if (!result.ok) throw new ConfigError(result.errors);
  return result.config;
}

/** `raw` with `section` overlaid by `values` (a malformed section is left alone so validation still reports it). */
function override(raw: unknown, section: string, values: Record<string, unknown>): unknown {
  if (Object.keys(values).length === 0) return raw;
  const base = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const cur = base[section];
  if (cur === undefined || cur === null) return { ...base, [section]: values };
  if (typeof cur === 'object' && !Array.isArray(cur)) return { ...base, [section]: { ...cur, ...values } };
  return raw;
}

/** Warnings worth a log line at startup (the demo API or admin key is in use, …). */
export function configWarnings(config: PbxConfig): string[] {
  const out: string[] = [];
  if (config.api.api_key === 'demo-api-key') out.push('the demo API key is in use: set api.api_key or SWITCHBOARD_API_KEY');
  if (config.api.api_key.length < 12 && config.api.api_key !== 'demo-api-key') out.push('api.api_key is shorter than 12 characters');
  const admin = config.api.admin_key;
  if (admin === 'demo-admin-key') out.push('the demo admin key is in use: set api.admin_key or SWITCHBOARD_ADMIN_KEY (or create admin keys and set it to null)');
  else if (admin !== null && admin.length < 16) out.push('api.admin_key is shorter than 16 characters');
  return out;
}
