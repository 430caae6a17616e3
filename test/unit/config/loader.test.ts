import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { configWarnings, loadConfigFile, loadConfigText, loadSettings } from '../../../src/config/loader.js';
import { WEBHOOK_EVENT_TYPES } from '../../../src/config/types.js';

const ROOT = join(import.meta.dirname, '../../..');
const DEFAULT_YAML = join(ROOT, 'config/default.yaml');
const FIXTURES = join(ROOT, 'test/fixtures/config');
const tmp = mkdtempSync(join(tmpdir(), 'sb-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config/default.yaml (the SPEC §6 demo PBX)', () => {
  const c = loadConfigFile(DEFAULT_YAML, { apiKeyOverride: null });

  it('loads and validates', () => {
    expect(c.pbx.time_zone).toBe('Australia/Melbourne');
  });

  it('has Alice Smith 1001 and Bob Jones 1002 with their devices, voicemail and recording', () => {
    expect(c.users.map((u) => [u.name, u.number, u.devices.map((d) => `${d.username}/${d.password}`), u.voicemail.enabled, u.record])).toEqual([
      ['Alice Smith', '1001', ['alice-desk/alice-desk-pw', 'alice-mobile/alice-mobile-pw'], true, 'none'],
      ['Bob Jones', '1002', ['bob-desk/bob-desk-pw', 'bob-soft/bob-soft-pw'], false, 'all'],
    ]);
  });

  it('routes +61390000000 to Alice for 20 s, then her voicemail', () => {
    const flow = c.flows.find((f) => f.id === c.numbers.find((n) => n.number === '+61390000000')!.flow)!;
    expect(flow.nodes).toEqual([
      { id: 'ring-alice', type: 'user', user: '1001', ring_timeout_s: 20, next: 'alice-voicemail' },
      { id: 'alice-voicemail', type: 'voicemail', user: '1001', next: null },
    ]);
  });

  it('routes +61390000001 through the New lead webhook object to queue Support, whose timeout goes to Bob\'s voicemail', () => {
    const flow = c.flows.find((f) => f.id === c.numbers.find((n) => n.number === '+61390000001')!.flow)!;
    expect(flow.nodes[0]).toEqual({
      id: 'new-lead-webhook', type: 'webhook', component_name: 'New lead', url: 'http://127.0.0.1:9000/lead', secret_token: 'demo-token', headers: {}, next: 'support-queue',
    });
    expect(flow.nodes[1]).toMatchObject({ type: 'queue', queue: 'Support' });
    expect(c.queues).toEqual([{
      name: 'Support', agents: ['1001', '1002'], strategy: 'ringall', agent_timeout_s: 15, max_wait_s: 120, max_callers: 0, wrap_up_s: 0, hold_music: null, next: 'bob-voicemail',
    }]);
    expect(flow.nodes.find((n) => n.id === 'bob-voicemail')).toEqual({ id: 'bob-voicemail', type: 'voicemail', user: '1002', next: null });
  });

  it('routes +61390000002 to ring group Sales (ringall, 25 s), then hangup', () => {
    const flow = c.flows.find((f) => f.id === c.numbers.find((n) => n.number === '+61390000002')!.flow)!;
    expect(flow.nodes[0]).toMatchObject({ type: 'ring_group', ring_group: 'Sales' });
    expect(c.ring_groups).toEqual([{ name: 'Sales', members: ['1001', '1002'], strategy: 'ringall', timeout_s: 25, member_timeout_s: 15, next: 'hangup' }]);
    expect(flow.nodes.find((n) => n.id === 'hangup')).toMatchObject({ type: 'hangup' });
  });

  it('has the trunk, the disabled webhook with every event ticked, and the API access of SPEC §6', () => {
    expect(c.trunks).toEqual([{ name: 'demo-trunk', host: '127.0.0.1', port: 5090, transport: 'udp', username: null, password: null, caller_id: null }]);
    expect(c.webhook).toEqual({ url: 'http://127.0.0.1:9000/webhook', secret_token: 'demo-token', events: [...WEBHOOK_EVENT_TYPES], enabled: false, signing_secret: null });
    expect(c.api).toMatchObject({ api_key: 'demo-api-key', admin_key: 'demo-admin-key', whitelisted_ips: ['127.0.0.1/8', '::1'] });
    expect(c.delivery.refuse_private_targets).toBe(false);
    expect(configWarnings(c)).toEqual([
      'the demo API key is in use: set api.api_key or SWITCHBOARD_API_KEY',
      'the demo admin key is in use: set api.admin_key or SWITCHBOARD_ADMIN_KEY (or create admin keys and set it to null)',
    ]);
  });

  it('lets SWITCHBOARD_API_KEY replace api.api_key and SWITCHBOARD_ADMIN_KEY api.admin_key', () => {
    const settings = loadSettings({ SWITCHBOARD_API_KEY: 'a-much-better-key', SWITCHBOARD_ADMIN_KEY: 'an-even-better-admin-key' });
    const o = loadConfigFile(DEFAULT_YAML, settings);
    expect(o.api.api_key).toBe('a-much-better-key');
    expect(o.api.admin_key).toBe('an-even-better-admin-key');
    expect(configWarnings(o)).toEqual([]);
  });

  it('refuses an admin key equal to the integration key', () => {
    const err = thrown(() => loadConfigFile(DEFAULT_YAML, loadSettings({ SWITCHBOARD_API_KEY: 'same-key-for-both', SWITCHBOARD_ADMIN_KEY: 'same-key-for-both' })));
    expect(err.issues).toEqual([{ file: DEFAULT_YAML, path: 'api.admin_key', message: 'must differ from api.api_key (the integration key must not open the admin API)' }]);
  });
});

describe('loadConfigFile errors', () => {
  it('names the file, line and column of a YAML syntax error', () => {
    const file = join(FIXTURES, 'syntax-error.yaml');
    const err = thrown(() => loadConfigFile(file, { apiKeyOverride: null }));
    expect(err.code).toBe('SB_ERR_CONFIG_KEY');
    expect(err.issues).toHaveLength(1);
    expect(err.message).toContain(`${file}: YAML syntax error at line 5, column 1: Sequence item without - indicator`);
  });

  it('reports a duplicate key as a YAML error with its line', () => {
    const err = thrown(() => loadConfigText('api:\n  api_key: a\n  api_key: b\n', 'dup.yaml', { apiKeyOverride: null }));
    expect(err.message).toMatch(/dup\.yaml: YAML syntax error at line 3, column 3: Map keys must be unique/);
  });

  it('throws one ConfigError listing every issue as <file>: <path>: <problem>', () => {
    const file = join(FIXTURES, 'errors/bad-trunk.yaml');
    const err = thrown(() => loadConfigFile(file, { apiKeyOverride: null }));
    expect(err.code).toBe('SB_ERR_CONFIG_KEY');
    expect(err.message.split('\n')).toEqual([
      'Invalid configuration (3 problems):',
      `  ${file}: trunks[0].host: must be an IP address or host name, got 'gw_example'`,
      `  ${file}: trunks[0].port: must be an integer from 1 to 65535, got the number 70000`,
      `  ${file}: trunks[0].transport: must be one of udp, tcp; got 'tls'`,
    ]);
  });

  it('satisfies a missing api.api_key with SWITCHBOARD_API_KEY', () => {
    const file = join(FIXTURES, 'errors/missing-api-key.yaml');
    expect(thrown(() => loadConfigFile(file, { apiKeyOverride: null })).issues).toEqual([{ file, path: 'api.api_key', message: 'required key is missing' }]);
    expect(loadConfigFile(file, { apiKeyOverride: 'from-env-key' }).api.api_key).toBe('from-env-key');
  });

  it('names an unreadable file', () => {
    const file = join(tmp, 'absent.yaml');
    const err = thrown(() => loadConfigFile(file, { apiKeyOverride: null }));
    expect(err.issues[0]).toMatchObject({ file, path: '' });
    expect(err.message).toContain(`${file}: cannot read the file`);
  });

  it('reads a file written elsewhere (an empty document needs only the API key)', () => {
    const file = join(tmp, 'empty.yaml');
    writeFileSync(file, '# nothing yet\n');
    expect(loadConfigFile(file, { apiKeyOverride: 'k-from-env' }).pbx.name).toBe('Switchboard');
  });
});

describe('loadSettings', () => {
  it('uses the SPEC §6 defaults when nothing is set', () => {
    expect(loadSettings({})).toEqual({
      configPath: 'config/default.yaml', dataDir: 'data/', bind: '127.0.0.1', sipPort: 5060, httpPort: 8080,
      apiKeyOverride: null, adminKeyOverride: null, logLevel: 'info', drachtio: null, databaseUrl: null, nodeId: null, nonceSecretOverride: null, redisUrl: null,
      edgeControl: { port: 9022, secret: 'cymru' },
    });
  });

  it('reads every override', () => {
    expect(loadSettings({
      SWITCHBOARD_CONFIG: '/etc/sb.yaml', SWITCHBOARD_DATA_DIR: '/var/sb', SWITCHBOARD_BIND: '::1', SWITCHBOARD_SIP_PORT: '5070',
      SWITCHBOARD_HTTP_PORT: '0', SWITCHBOARD_API_KEY: 'key', SWITCHBOARD_ADMIN_KEY: 'admin', SWITCHBOARD_LOG_LEVEL: 'DEBUG',
      DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: '9023', DRACHTIO_SECRET: 's3cret', DATABASE_URL: 'postgres://db/sb',
      SWITCHBOARD_NODE_ID: '7', SWITCHBOARD_NONCE_SECRET: 'nonce-secret-0123456789',
    })).toEqual({
      configPath: '/etc/sb.yaml', dataDir: '/var/sb', bind: '::1', sipPort: 5070, httpPort: 0, apiKeyOverride: 'key', adminKeyOverride: 'admin', logLevel: 'debug',
      drachtio: { host: '127.0.0.1', port: 9023, secret: 's3cret' }, databaseUrl: 'postgres://db/sb', nodeId: 7, nonceSecretOverride: 'nonce-secret-0123456789', redisUrl: null,
      edgeControl: { port: 9023, secret: 's3cret' },
    });
  });

  it('prefers SWITCHBOARD_DATABASE_URL over DATABASE_URL, and gives drachtio its default port and secret', () => {
    const s = loadSettings({ DATABASE_URL: 'postgres://a/a', SWITCHBOARD_DATABASE_URL: 'postgres://b/b', DRACHTIO_HOST: 'drachtio' });
    expect(s.databaseUrl).toBe('postgres://b/b');
    expect(s.drachtio).toEqual({ host: 'drachtio', port: 9022, secret: 'cymru' });
  });

  it('treats empty variables as unset', () => {
    expect(loadSettings({ SWITCHBOARD_API_KEY: '', SWITCHBOARD_SIP_PORT: ' ' })).toMatchObject({ apiKeyOverride: null, sipPort: 5060 });
  });

  it('names every bad variable in one ConfigError', () => {
    const err = thrown(() => loadSettings({ SWITCHBOARD_SIP_PORT: 'sip', SWITCHBOARD_HTTP_PORT: '70000', SWITCHBOARD_LOG_LEVEL: 'loud', SWITCHBOARD_BIND: 'not a host' }));
    expect(err.code).toBe('SB_ERR_CONFIG_KEY');
    expect(err.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "SWITCHBOARD_BIND: must be an IP address or host name, got 'not a host'",
      "SWITCHBOARD_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent; got 'loud'",
      "SWITCHBOARD_SIP_PORT: must be a port number from 0 to 65535, got 'sip'",
      "SWITCHBOARD_HTTP_PORT: must be a port number from 0 to 65535, got '70000'",
    ]);
    expect(err.message).toContain("env: SWITCHBOARD_SIP_PORT: must be a port number from 0 to 65535, got 'sip'");
  });

  it('refuses a node id outside 0–99 and a short nonce secret, naming the variable', () => {
    const err = thrown(() => loadSettings({ SWITCHBOARD_NODE_ID: '100', SWITCHBOARD_NONCE_SECRET: 'short' }));
    expect(err.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "SWITCHBOARD_NODE_ID: must be a whole number from 0 to 99, got '100'",
      'SWITCHBOARD_NONCE_SECRET: must be at least 16 characters, got 5',
    ]);
  });

  it('SWITCHBOARD_REDIS_URL must be a redis:// URL (its password is not echoed); redis.url in the file is checked alike', () => {
    expect(loadSettings({ SWITCHBOARD_REDIS_URL: 'redis://127.0.0.1:6379/2' }).redisUrl).toBe('redis://127.0.0.1:6379/2');
    expect(loadSettings({}).redisUrl).toBeNull();
    const err = thrown(() => loadSettings({ SWITCHBOARD_REDIS_URL: 'http://user:hunter2@redis:6379' }));
    expect(err.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "SWITCHBOARD_REDIS_URL: must be a redis:// or rediss:// URL (redis://[user:password@]host[:port][/db]), got 'http://***@redis:6379'",
    ]);
    const file = thrown(() => loadConfigText('api: { api_key: k }\nredis: { url: "127.0.0.1:6379" }\n', 'x.yaml', { apiKeyOverride: null }));
    expect(file.message).toContain("x.yaml: redis.url: must be a redis:// or rediss:// URL");
    expect(loadConfigText('api: { api_key: k }\n', 'x.yaml', { apiKeyOverride: null }).redis).toEqual({ url: null, key_prefix: 'switchboard:' });
  });

  it('SWITCHBOARD_NONCE_SECRET replaces sip.nonce_secret; SWITCHBOARD_NODE_ID stays out of the configuration', () => {
    const c = loadConfigText('api: { api_key: k }\nsip: { nonce_secret: from-the-file-0123456 }\n', 'x.yaml', { apiKeyOverride: null, nonceSecretOverride: 'from-the-env-0123456789' });
    expect(c.sip.nonce_secret).toBe('from-the-env-0123456789');
    expect(c.pbx.node_id).toBe(0);
  });
});
