import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../../src/config/loader.js';
import { validateConfig } from '../../../src/config/schema.js';
import { WEBHOOK_EVENT_TYPES, type PbxConfig } from '../../../src/config/types.js';

function valid(raw: unknown): PbxConfig {
  const r = validateConfig(raw, 'test');
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return r.config;
}

describe('validateConfig defaults', () => {
  it('fills every documented default into a minimal configuration', () => {
    const c = valid({
      api: { api_key: 'k' },
      users: [{ name: 'A', number: '100' }],
      queues: [{ name: 'Q' }],
      ring_groups: [{ name: 'G' }],
      trunks: [{ name: 't', host: '127.0.0.1' }],
    });
    expect(c.pbx).toEqual({ name: 'Switchboard', time_zone: 'UTC', domain: 'switchboard.local', max_call_duration_s: 14400, node_id: 0, drain_timeout_s: 30, session_timers: { enabled: true, interval_s: 1800, min_se_s: 90 } });
    expect(c.users[0]).toEqual({
      name: 'A', number: '100', devices: [], record: 'none', ring_timeout_s: 30, caller_id: null, dnd: false, forward: { always: null, busy: null, no_answer: null },
      voicemail: { enabled: false, greeting: null, emails: [], email_subject: 'New voicemail from {caller_id}', email_message: expect.stringContaining('{caller_id}'), max_message_s: 180, min_message_s: 2, silence_s: 10 },
    });
    expect(c.queues[0]).toEqual({
      name: 'Q', agents: [], strategy: 'ringall', agent_timeout_s: 15, max_wait_s: 300, max_callers: 0, wrap_up_s: 0,
      hold_music: null, next: null,
    });
    expect(c.ring_groups[0]).toEqual({ name: 'G', members: [], strategy: 'ringall', timeout_s: 30, member_timeout_s: 15, next: null });
    expect(c.trunks[0]).toEqual({ name: 't', host: '127.0.0.1', port: 5060, transport: 'udp', username: null, password: null, caller_id: null });
    expect(c.webhook).toEqual({ url: '', secret_token: '', events: [...WEBHOOK_EVENT_TYPES], enabled: false, signing_secret: null });
    expect(c.api).toEqual({ api_key: 'k', admin_key: null, whitelisted_ips: ['127.0.0.1/8', '::1'], trusted_proxies: [], rate_limit_per_min: 600, auth_failures_per_min: 20 });
    expect(c.delivery).toEqual({
      timeout_ms: 10000, retry_schedule_s: [5, 30, 120, 600, 1800, 3600], horizon_s: 86400, outbox_warn_at: 100000, concurrency: 16,
      per_endpoint_concurrency: 8, refuse_private_targets: false,
    });
    expect(c.numbers).toEqual([]);
    expect(c.flows).toEqual([]);
  });

  it('does not share default arrays between configurations', () => {
    const a = valid({ api: { api_key: 'k' } });
    a.delivery.retry_schedule_s.push(1);
    expect(valid({ api: { api_key: 'k' } }).delivery.retry_schedule_s).toHaveLength(6);
  });

  it('takes the default for a key written with no value (null) unless the key is nullable', () => {
    const c = valid({ api: { api_key: 'k', trusted_proxies: null }, users: [{ name: 'A', number: '1', caller_id: null, voicemail: null }] });
    expect(c.api.trusted_proxies).toEqual([]);
    expect(c.users[0]!.caller_id).toBeNull();
    expect(c.users[0]!.voicemail.max_message_s).toBe(180);
  });
});

describe('validateConfig values', () => {
  it('reads an unquoted YAML extension as digits and keeps the + of an unquoted E.164 number', () => {
    const parsed = parseYaml('api: { api_key: k }\nusers: [{ name: A, number: 1001 }, { name: B, number: 0123 }]\nnumbers: [{ number: +61390000000, flow: f }]\nflows: [{ id: f, nodes: [{ id: a, type: hangup }] }]\n', 'x.yaml');
    expect(parsed.ok).toBe(true);
    const c = valid(parsed.ok ? parsed.value : null);
    expect(c.users.map((u) => u.number)).toEqual(['1001', '0123']);
    expect(c.numbers[0]!.number).toBe('+61390000000');
  });

  it('rejects a non-integer number where an integer is expected, naming the value', () => {
    const r = validateConfig({ api: { api_key: 'k', rate_limit_per_min: 1.5 } }, 'f');
    expect(r).toEqual({ ok: false, errors: [{ file: 'f', path: 'api.rate_limit_per_min', message: 'must be an integer >= 1, got the number 1.5' }] });
  });

  it('rejects a document that is not a map', () => {
    const r = validateConfig(['a'], 'f');
    expect(r).toEqual({ ok: false, errors: [{ file: 'f', path: '', message: 'expected an object, got a list' }] });
  });

  it('treats an empty document as all defaults (and so requires only the API key)', () => {
    const r = validateConfig(null, 'f');
    expect(r).toEqual({ ok: false, errors: [{ file: 'f', path: 'api.api_key', message: 'required key is missing' }] });
  });

  it('collects every issue instead of stopping at the first', () => {
    const r = validateConfig({
      pbx: { time_zone: 'Nowhere/Land', colour: 'red' },
      users: [{ name: 'A', number: '1', devices: [{ username: 'x', password: '' }] }, { name: 'B', number: '1', devices: [{ username: 'x', password: 'p' }] }],
      numbers: [{ number: '61390000000', flow: 'missing' }],
      api: { api_key: 'k', whitelisted_ips: ['300.1.1.1'] },
      webhook: { enabled: true },
    }, 'f');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).toEqual([
      'pbx.colour', 'pbx.time_zone', 'users[0].devices[0].password', 'numbers[0].number', 'api.whitelisted_ips[0]',
      'users[1].number', 'users[1].devices[0].username', 'numbers[0].flow', 'webhook.url', 'webhook.secret_token',
    ]);
  });

  it('accepts a per-outcome next map with default, and null outcomes', () => {
    const c = valid({
      api: { api_key: 'k' },
      users: [{ name: 'A', number: '1' }],
      flows: [{ id: 'f', nodes: [{ id: 'a', type: 'user', user: '1', next: { busy: 'b', 'no-answer': null, default: 'b' } }, { id: 'b', type: 'hangup', status: 486 }] }],
    });
    expect(c.flows[0]!.nodes[0]!.next).toEqual({ busy: 'b', default: 'b' });
  });

  it('quotes header names that are not identifiers in issue paths', () => {
    const r = validateConfig({
      api: { api_key: 'k' },
      flows: [{ id: 'f', nodes: [{ id: 'w', type: 'webhook', component_name: 'c', url: 'http://h/x', secret_token: 't', headers: { 'X Bad': 1 } }] }],
    }, 'f');
    expect(r).toEqual({ ok: false, errors: [{ file: 'f', path: 'flows[0].nodes[0].headers["X Bad"]', message: 'expected a string, got the number 1' }] });
  });
});

describe('delivery.refuse_private_targets', () => {
  const flows = [{ id: 'f', nodes: [{ id: 'w', type: 'webhook', component_name: 'c', url: 'http://[::ffff:10.0.0.1]/x', secret_token: 't' }] }];
  it('refuses loopback, private and link-local webhook URLs at validation, naming each key', () => {
    const r = validateConfig({ api: { api_key: 'k' }, delivery: { refuse_private_targets: true }, webhook: { url: 'http://localhost:9000/hook', secret_token: 't' }, flows }, 'f');
    expect(r).toEqual({ ok: false, errors: [
      { file: 'f', path: 'webhook.url', message: "'http://localhost:9000/hook' names a loopback address, which delivery.refuse_private_targets refuses" },
      { file: 'f', path: 'flows[0].nodes[0].url', message: "'http://[::ffff:10.0.0.1]/x' names a private address, which delivery.refuse_private_targets refuses" },
    ] });
  });
  it('accepts them when off (the default), and public or DNS names when on', () => {
    expect(validateConfig({ api: { api_key: 'k' }, webhook: { url: 'http://127.0.0.1:9000/hook' }, flows }, 'f').ok).toBe(true);
    expect(validateConfig({ api: { api_key: 'k' }, delivery: { refuse_private_targets: true }, webhook: { url: 'https://crm.example.com/hook' } }, 'f').ok).toBe(true);
  });
});
