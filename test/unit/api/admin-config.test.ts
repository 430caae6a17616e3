import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, API_KEY, auth, makeHarness, type Harness } from './harness.js';
import { defaultVoicemailConfig } from '../../../src/config/index.js';

const A = '/api/admin';
let h: Harness;

async function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  const r = await h.app.inject({ method, url: `${A}${url}`, headers: adminAuth, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: r.statusCode, body: r.json() as { code: number; status: string; message: string; data: any } };
}

beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => h.close());

describe('CRUD → staged → apply → live', () => {
  it('creates a user in the staged configuration only, with defaults filled in', async () => {
    const r = await call('POST', '/users', { name: 'Carol White', number: '1003', devices: [{ username: 'carol-desk', password: 'carol-pw' }] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ code: 201, status: 'success' });
    expect(r.body.data).toEqual({
      name: 'Carol White', number: '1003', devices: [{ username: 'carol-desk', password_set: true }],
      voicemail: defaultVoicemailConfig(), record: 'none', ring_timeout_s: 30, caller_id: null, dnd: false, forward: { always: null, busy: null, no_answer: null },
    });
    expect((await call('GET', '/users/1003')).body.data.name).toBe('Carol White');
    expect(h.versions.live().config.users.map((u) => u.number)).toEqual(['1001', '1002']);
  });

  it('shows the staged change in the diff, keyed by item', async () => {
    const r = await call('GET', '/config/diff');
    expect(r.body.data.live_version).toBe(1);
    expect(r.body.data.changes).toEqual([expect.objectContaining({ path: '/users/1003', op: 'added' })]);
  });

  it('applies: the staged configuration becomes live as version 2', async () => {
    const r = await call('POST', '/apply');
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ version: 2 });
    expect(h.versions.live().version).toBe(2);
    expect(h.versions.live().config.users.map((u) => u.number)).toEqual(['1001', '1002', '1003']);
    expect((await call('GET', '/config/live')).body.data.version).toBe(2);
    expect((await call('GET', '/config/diff')).body.data.changes).toEqual([]);
    const status = await h.app.inject({ url: '/api/integration/v2/get-system-status', headers: auth });
    expect(status.json().data.config_version).toBe(2);
  });

  it('updates with PATCH (top-level merge) and PUT (replace, rename), deletes, each staged', async () => {
    expect((await call('PATCH', '/users/1003', { ring_timeout_s: 45, record: 'all' })).body.data).toMatchObject({ ring_timeout_s: 45, record: 'all', name: 'Carol White' });
    const put = await call('PUT', '/users/1003', { name: 'Carol W', number: '1004' });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ name: 'Carol W', number: '1004', ring_timeout_s: 30, devices: [] });
    expect((await call('GET', '/users/1003')).status).toBe(404);
    expect((await call('DELETE', '/users/1004')).body.data.number).toBe('1004');
    expect((await call('GET', '/users')).body.data.map((u: any) => u.number)).toEqual(['1001', '1002']);
    expect(h.versions.live().config.users).toHaveLength(3);
  });

  it('refuses duplicates (409) and unknown items (404) in the envelope', async () => {
    expect(await call('POST', '/users', { name: 'Dup', number: '1001' })).toMatchObject({ status: 409, body: { code: 409, status: 'error', message: "User '1001' already exists" } });
    expect(await call('PUT', '/users/1002', { name: 'Bob', number: '1001' })).toMatchObject({ status: 409 });
    expect(await call('PATCH', '/users/1999', { name: 'x' })).toMatchObject({ status: 404, body: { message: "User '1999' not found" } });
    expect(await call('DELETE', '/queues/Nope')).toMatchObject({ status: 404, body: { message: "Queue 'Nope' not found" } });
  });

  it.each([
    ['/users', { name: 'X' }, "Missing field 'number'"],
    ['/users', { name: 'X', number: '10a3' }, "'number'"],
    ['/users', { name: 'X', number: '1005', ring_timeout_s: 0 }, "'ring_timeout_s'"],
    ['/users', { name: 'X', number: '1005', record: 'sometimes' }, "'record'"],
    ['/users', { name: 'X', number: '1005', caller_id: '12345' }, "'caller_id': must be an E.164 number"],
    ['/users', { name: 'X', number: '1005', ring_timout_s: 20 }, "Unknown field 'ring_timout_s'"],
    ['/users', { name: 'X', number: '1005', devices: [{ username: 'x' }] }, "Missing field 'devices/0/password'"],
    ['/numbers', { number: '0390000000', flow: 'main' }, "'number'"],
    ['/flows', { id: 'f', nodes: [{ id: 'a', type: 'teleport' }] }, "'nodes/0"],
    ['/flows', { id: 'f', nodes: [{ id: 'a', type: 'user' }] }, "Missing field 'nodes/0/user'"],
    ['/flows', { id: 'f', nodes: [] }, "'nodes'"],
    ['/queues', { name: 'Q', strategy: 'loudest' }, "'strategy'"],
    ['/trunks', { name: 'T', host: 'gw.example.com', port: 70000 }, "'port'"],
    ['/trunks', { name: 'T', host: 'not a host!' }, "'host': must be a host name or IP address"],
  ])('POST %s %j → 400 naming the field', async (url, payload, message) => {
    const r = await call('POST', url, payload);
    expect(r.status).toBe(400);
    expect(r.body.status).toBe('error');
    expect(r.body.message).toContain(message);
  });

  it('CRUDs numbers, flows, queues, ring groups and trunks by their keys', async () => {
    expect((await call('POST', '/flows', { id: 'sales-flow', nodes: [{ id: 'rg', type: 'ring_group', ring_group: 'Sales', next: { 'no-answer': 'bye', default: 'bye' } }, { id: 'bye', type: 'hangup', status: 486 }] })).status).toBe(201);
    expect((await call('POST', '/numbers', { number: '+61390000005', flow: 'sales-flow' })).status).toBe(201);
    expect((await call('GET', '/numbers/+61390000005')).body.data.flow).toBe('sales-flow');
    expect((await call('POST', '/queues', { name: 'Night Shift', agents: ['1001'], strategy: 'linear', next: null })).body.data).toMatchObject({ agent_timeout_s: 15, max_callers: 0 });
    expect((await call('PATCH', '/queues/Night%20Shift', { agents: ['1001', '1002'] })).body.data.agents).toEqual(['1001', '1002']);
    expect((await call('POST', '/ring-groups', { name: 'Hunters', members: ['1002', '1001'], strategy: 'hunt' })).status).toBe(201);
    expect((await call('GET', '/ring-groups/Hunters')).body.data.strategy).toBe('hunt');
    expect((await call('POST', '/trunks', { name: 'backup', host: '192.0.2.10', transport: 'tcp' })).body.data).toMatchObject({ port: 5060, username: null });
    expect((await call('GET', '/trunks')).body.data.map((t: any) => t.name)).toEqual(['main', 'backup']);
    const apply = await call('POST', '/apply');
    expect(apply.status).toBe(200);
    expect(apply.body.data.version).toBe(3);
    expect(h.versions.live().config.flows.map((f) => f.id)).toContain('sales-flow');
  });
});

describe('a broken staged configuration', () => {
  it('is refused with every error listed, and live stays untouched', async () => {
    const before = h.versions.live();
    await call('POST', '/numbers', { number: '+61390000006', flow: 'no-such-flow' });
    await call('PATCH', '/queues/Support', { agents: ['1001', '7777'] });
    await call('POST', '/devices', { user_number: '1002', username: 'alice-desk-2', password: 'x' });
    const r = await call('POST', '/apply');
    expect(r.status).toBe(400);
    expect(r.body.status).toBe('error');
    expect(r.body.message).toMatch(/Staged configuration is invalid \(\d+ errors\); live configuration unchanged/);
    const errors: string[] = r.body.data.errors;
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.some((e) => e.includes('no-such-flow'))).toBe(true);
    expect(errors.some((e) => e.includes('7777'))).toBe(true);
    expect(h.versions.live()).toBe(before);
    expect((await call('GET', '/config/live')).body.data.version).toBe(before.version);
  });

  it('can be discarded (staged := live)', async () => {
    const r = await call('DELETE', '/config/staged');
    expect(r.status).toBe(200);
    expect((await call('GET', '/config/diff')).body.data.changes).toEqual([]);
    expect((await call('POST', '/apply')).status).toBe(200);
  });
});

describe('devices', () => {
  it('adds, reads, renames and deletes devices under a user and by username', async () => {
    expect((await call('POST', '/users/1001/devices', { username: 'alice-soft', password: 'pw' })).status).toBe(201);
    expect((await call('GET', '/users/1001/devices')).body.data.map((d: any) => d.username)).toEqual(['alice-desk', 'alice-soft']);
    expect((await call('GET', '/devices/alice-soft')).body.data).toEqual({ user_number: '1001', username: 'alice-soft', password_set: true });
    expect((await call('PATCH', '/devices/alice-soft', { password: 'new-pw' })).body.data).toEqual({ user_number: '1001', username: 'alice-soft', password_set: true });
    expect((await h.versions.staged()).users[0]!.devices[1]!.password).toBe('new-pw');
    expect((await call('PUT', '/users/1001/devices/alice-soft', { username: 'alice-app', password: 'pw3' })).body.data.username).toBe('alice-app');
    // A PATCH without the password keeps it (the client never saw it).
    expect((await call('PATCH', '/users/1001/devices/alice-app', { username: 'alice-app' })).status).toBe(200);
    expect((await h.versions.staged()).users[0]!.devices[1]!.password).toBe('pw3');
    expect((await call('GET', '/devices')).body.data.map((d: any) => `${d.user_number}:${d.username}`)).toEqual(['1001:alice-desk', '1001:alice-app', '1002:bob-desk']);
    expect((await call('DELETE', '/users/1001/devices/alice-app')).status).toBe(200);
    expect((await call('GET', '/devices/alice-app')).status).toBe(404);
  });

  it('keeps usernames unique across the PBX (409)', async () => {
    expect(await call('POST', '/users/1002/devices', { username: 'alice-desk', password: 'x' })).toMatchObject({ status: 409, body: { message: "Device 'alice-desk' already exists (user 1001)" } });
    expect((await call('PATCH', '/devices/bob-desk', { username: 'alice-desk' })).status).toBe(409);
    expect((await call('POST', '/users/1999/devices', { username: 'z', password: 'x' })).status).toBe(404);
  });
});

describe('settings, whitelist and API key', () => {
  it('reads and patches the webhook settings (staged)', async () => {
    const r = await call('PATCH', '/webhook', { url: 'https://crm.example.com/hook', secret_token: 'crm-token', enabled: true, events: ['user_inbound', 'queue_call'] });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ url: 'https://crm.example.com/hook', enabled: true, events: ['user_inbound', 'queue_call'] });
    expect((await call('PATCH', '/webhook', { events: ['nonsense'] })).status).toBe(400);
    expect((await call('PATCH', '/webhook', { url: 'ftp://x' })).body.message).toContain("'url': must be an http(s) URL");
    expect((await call('PATCH', '/pbx', { time_zone: 'Mars/Olympus' })).body.message).toContain("'time_zone'");
  });

  it('edits the whitelist with validation; the change is staged', async () => {
    expect((await call('POST', '/whitelist', { ip: '2001:db8::/32' })).body.data.whitelisted_ips).toEqual(['127.0.0.1/8', '::1', '2001:db8::/32']);
    expect(await call('POST', '/whitelist', { ip: '300.1.1.1' })).toMatchObject({ status: 400, body: { message: "Invalid field 'ip/0': '300.1.1.1' is not an IP address or CIDR block" } });
    expect((await call('PUT', '/whitelist', { whitelisted_ips: ['127.0.0.1', 'bad/99'] })).status).toBe(400);
    expect((await call('DELETE', '/whitelist?ip=::1')).body.data.whitelisted_ips).toEqual(['127.0.0.1/8', '2001:db8::/32']);
    expect((await call('DELETE', '/whitelist?ip=10.0.0.0/8')).status).toBe(404);
    expect((await call('PATCH', '/api-access', { rate_limit_per_min: 1200, trusted_proxies: ['10.0.0.0/8'] })).body.data).toEqual({
      whitelisted_ips: ['127.0.0.1/8', '2001:db8::/32'], trusted_proxies: ['10.0.0.0/8'], rate_limit_per_min: 1200,
    });
    expect(h.versions.live().config.api.whitelisted_ips).toEqual(['127.0.0.1/8', '::1']);
  });

  it('regenerates the API key: shown once, staged, never read back, and the old key works until apply', async () => {
    const r = await call('POST', '/api-key/regenerate');
    expect(r.status).toBe(201);
    const key: string = r.body.data.api_key;
    expect(key).toMatch(/^sb_[0-9a-z]{40}$/);
    const staged = await call('GET', '/config/staged');
    expect(JSON.stringify(staged.body)).not.toContain(key);
    expect(staged.body.data.api.api_key_set).toBe(true);
    expect(staged.body.data.api).not.toHaveProperty('api_key');
    expect(JSON.stringify((await call('GET', '/config/diff')).body)).not.toContain(key);
    expect(JSON.stringify((await call('GET', '/api-access')).body)).not.toContain(key);
    expect(JSON.stringify((await call('GET', '/config/live')).body)).not.toContain(API_KEY);
    expect((await call('POST', '/apply')).status).toBe(200);
    const STATUS = '/api/integration/v2/get-system-status';
    expect((await h.app.inject({ url: STATUS, headers: auth })).statusCode).toBe(401);
    expect((await h.app.inject({ url: STATUS, headers: { token: key } })).statusCode).toBe(200);
    // The integration key, old or new, never opens the admin API.
    expect((await h.app.inject({ url: `${A}/users`, headers: { token: key } })).statusCode).toBe(401);
    expect(h.versions.live().config.webhook.url).toBe('https://crm.example.com/hook');
  });
});

describe('concurrent edits', () => {
  it('serializes them: twenty parallel creates all land in the staged configuration', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call('POST', '/users', { name: `Temp ${i}`, number: String(2000 + i) })));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const numbers = (await call('GET', '/users')).body.data.map((u: any) => u.number);
    for (let i = 0; i < 20; i++) expect(numbers).toContain(String(2000 + i));
    expect((await call('DELETE', '/config/staged')).status).toBe(200);
  });
});
