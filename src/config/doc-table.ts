/**
 * The key reference, generated from {@link PBX_SCHEMA} so docs and validation cannot drift:
 * {@link configKeyRows} lists every key, and {@link renderConfigurationDoc} renders `docs/configuration.md`
 * (a unit test fails when the committed file is stale).
 */
import { SETTINGS_DEFAULTS } from './loader.js';
import { PBX_SCHEMA } from './schema.js';
import type { Shape } from './shape.js';

/** One documented key. */
export interface ConfigKeyRow {
  /** `users[].devices[].password`; union variants as `flows[].nodes[] (type: user).user`. */
  key: string;
  type: string;
  /** The default, as YAML-ish text; `required` when the key has none. */
  default: string;
  doc: string;
}

function typeOf(s: Shape): string {
  switch (s.kind) {
    case 'string': return (s.oneOf ? s.oneOf.join(' \\| ') : 'string') + (s.nullable ? ' \\| null' : '');
    case 'int': {
      const range = s.max !== undefined ? ` ${s.min}–${s.max}` : s.min !== undefined ? ` ≥ ${s.min}` : '';
      return `integer${range}`;
    }
    case 'bool': return 'boolean';
    case 'list': return `list of ${typeOf(s.item)}`;
    case 'map': return `map of ${typeOf(s.value)}`;
    case 'object': return 'object';
    case 'union': return `object by \`${s.tag}\``;
    case 'next': return 'node id \\| map outcome → node id \\| null';
  }
}

function defaultOf(s: Shape): string {
  if (s.kind === 'object') return '';
  if (!('default' in s)) return 'required';
  return s.default === undefined ? 'optional' : `\`${JSON.stringify(s.default)}\``;
}

function walk(s: Shape, key: string, rows: ConfigKeyRow[]): void {
  if (key !== '') rows.push({ key, type: typeOf(s), default: defaultOf(s), doc: s.doc });
  const at = (k: string): string => (key === '' ? k : `${key}.${k}`);
  if (s.kind === 'object') for (const [k, f] of Object.entries(s.fields)) walk(f, at(k), rows);
  if (s.kind === 'list' && (s.item.kind === 'object' || s.item.kind === 'union')) walk({ ...s.item, doc: '' }, `${key}[]`, rows);
  if (s.kind === 'union') {
    // Keys every variant shares (the same shape object) are listed once, then each type's own keys.
    const variants = Object.entries(s.variants);
    const shared = Object.keys(variants[0]![1]).filter((k) => variants.every(([, f]) => f[k] === variants[0]![1][k]));
    rows.push({ key: at(s.tag), type: Object.keys(s.variants).join(' \\| '), default: 'required', doc: 'Node type; picks the keys below.' });
    for (const k of shared) walk(variants[0]![1][k]!, at(k), rows);
    for (const [tag, fields] of variants) {
      for (const [k, f] of Object.entries(fields)) if (!shared.includes(k)) walk(f, `${key} (${s.tag}: ${tag}).${k}`, rows);
    }
  }
}

/** Every key of the configuration file with its type, default and doc. */
export function configKeyRows(): ConfigKeyRow[] {
  const rows: ConfigKeyRow[] = [];
  walk(PBX_SCHEMA, '', rows);
  // List items themselves carry no doc of their own; their keys follow.
  return rows.filter((r) => r.doc !== '');
}

const esc = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The text of `docs/configuration.md`. */
export function renderConfigurationDoc(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by renderConfigurationDoc(); do not edit by hand.',
    '     Regenerate: SB_UPDATE_DOCS=1 npx vitest run test/unit/config/doc-table.test.ts -->',
    '',
    'Switchboard reads its PBX configuration from a YAML file (`config/default.yaml` unless `SWITCHBOARD_CONFIG`',
    'says otherwise). Precedence: the defaults below, then the file, then `SWITCHBOARD_*` variables. Unknown keys are',
    'errors, and every problem is reported at startup as `<file>: <path>: <problem>`, e.g.',
    '`config/default.yaml: users[1].devices[0].password: must not be empty`.',
    '',
    'The file seeds configuration version 1. Edits through the admin API are staged and take effect on',
    '`POST /api/admin/apply` as a new numbered version; calls in progress keep the version they started with. When',
    'the file changes (it differs from every stored version) the next start stores it as a new version.',
    '',
    'Write phone numbers in quotes (`"+61390000000"`); an unquoted `+6139…` or `0123` is still read as text.',
    '',
    '## Environment',
    '',
    '| variable | default | meaning |',
    '|---|---|---|',
    `| \`SWITCHBOARD_CONFIG\` | \`${SETTINGS_DEFAULTS.configPath}\` | configuration file |`,
    `| \`SWITCHBOARD_DATA_DIR\` | \`${SETTINGS_DEFAULTS.dataDir}\` | SQLite database, recordings, voicemail |`,
    `| \`SWITCHBOARD_BIND\` | \`${SETTINGS_DEFAULTS.bind}\` | address SIP and HTTP listen on |`,
    `| \`SWITCHBOARD_SIP_PORT\` | \`${SETTINGS_DEFAULTS.sipPort}\` | SIP port, UDP and TCP (0 = any free port) |`,
    `| \`SWITCHBOARD_HTTP_PORT\` | \`${SETTINGS_DEFAULTS.httpPort}\` | HTTP API port (0 = any free port) |`,
    '| `SWITCHBOARD_API_KEY` | unset | replaces `api.api_key` |',
    `| \`SWITCHBOARD_LOG_LEVEL\` | \`${SETTINGS_DEFAULTS.logLevel}\` | fatal, error, warn, info, debug, trace or silent |`,
    '| `SWITCHBOARD_DATABASE_URL` or `DATABASE_URL` | unset | PostgreSQL connection string; unset = SQLite under the data dir |',
    '| `SWITCHBOARD_REDIS_URL` | unset | replaces `redis.url` (engines sharing registrations and queue state; docs/scale-out.md) |',
    '| `DRACHTIO_HOST` | unset | use a real drachtio-server at this host instead of the embedded one |',
    `| \`DRACHTIO_PORT\` | \`${SETTINGS_DEFAULTS.drachtioPort}\` | its port |`,
    `| \`DRACHTIO_SECRET\` | \`${SETTINGS_DEFAULTS.drachtioSecret}\` | its shared secret |`,
    '',
    '## Keys',
    '',
    '`[]` marks the items of a list. Flow nodes are chosen by `type`; each type\'s keys are listed separately.',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...configKeyRows().map((r) => `| \`${r.key}\` | ${r.type} | ${esc(r.default)} | ${esc(r.doc)} |`),
    '',
  ];
  return lines.join('\n');
}
