/**
 * Issue 11, access control and secrets: each attack performed against a running Switchboard over real HTTP (the
 * demo configuration on free ports, real SQLite, real webhook receivers on 127.0.0.1).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../../support/integration-http.js';
import { derivedSigningSecret, startHookReceiver, verifyStandardWebhook, type HookReceiver } from '../../support/integration-receiver.js';
import { DEVICE_PASSWORDS } from '../../support/integration-pbx.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';

const TRUNK_PASSWORD = 'trunk-secret-pw-77';
const SIGNING_SECRET = `whsec_${Buffer.from('global-signing-secret-32-bytes!!').toString('base64')}`;
const DISPATCH = { pollIntervalMs: 50, jitter: 0 };

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('scoped keys and write-only secrets', () => {
  let sb: TestSwitchboard;
  let admin: ApiClient;
  let crm: ApiClient;
  beforeAll(async () => {
    sb = await startTestSwitchboard({
      mutate: (c) => {
        c.trunks[0]!.username = 'trunk-user';
        c.trunks[0]!.password = TRUNK_PASSWORD;
        c.webhook.signing_secret = SIGNING_SECRET;
      },
      extra: { dispatcher: DISPATCH },
    });
    admin = apiClient(sb.baseUrl);
    // The CRM holds the integration key only, and tries it every way on the admin API.
    crm = apiClient(sb.baseUrl, { adminKey: 'demo-api-key' });
  });
  afterAll(async () => {
    await admin?.close();
    await crm?.close();
    await sb?.stop();
  });

  it('the CRM (integration) key gets 401 on /api/admin/devices and every admin route, as token or as Bearer', async () => {
    for (const path of ['/api/admin/devices', '/api/admin/trunks', '/api/admin/config/live', '/api/admin/admin-keys', '/api/admin/audit']) {
      const asBearer = await crm.get(path);
      expect(asBearer.status).toBe(401);
      expect(asBearer.json).toEqual({ code: 401, status: 'error', message: 'Not authorised' });
    }
    const asToken = apiClient(sb.baseUrl, { adminKey: null });
    try {
      const r = await asToken.get('/api/admin/devices');
      expect(r.status).toBe(401);
      expect((await asToken.get('/api/integration/v2/get-system-status')).status).toBe(200);
    } finally {
      await asToken.close();
    }
    expect((await admin.get('/api/admin/devices')).status).toBe(200);
  });

  it('no admin GET contains a password, token, signing secret or key (whole bodies grepped)', async () => {
    // Stage a change of every secret so the staged view and the diff have both sides.
    expect((await admin.send('PATCH', '/api/admin/devices/alice-desk', { password: 'staged-alice-pw' })).status).toBe(200);
    expect((await admin.send('PATCH', '/api/admin/webhook', { secret_token: 'staged-webhook-token' })).status).toBe(200);
    const secrets = [...Object.values(DEVICE_PASSWORDS), 'staged-alice-pw', TRUNK_PASSWORD, 'demo-token', 'staged-webhook-token', SIGNING_SECRET, 'demo-api-key', 'demo-admin-key'];
    const paths = ['/api/admin/devices', '/api/admin/devices/alice-desk', '/api/admin/users', '/api/admin/users/1001', '/api/admin/users/1001/devices',
      '/api/admin/trunks', '/api/admin/trunks/demo-trunk', '/api/admin/flows', '/api/admin/flows/new-lead', '/api/admin/webhook', '/api/admin/api-access',
      '/api/admin/config/live', '/api/admin/config/staged', '/api/admin/config/diff', '/api/admin/webhooks/endpoints', '/api/admin/admin-keys', '/api/admin/audit'];
    for (const path of paths) {
      const r = await admin.get(path);
      expect(r.status, path).toBe(200);
      for (const s of secrets) expect(r.text, `${path} shows ${s}`).not.toContain(s);
    }
    const device = await admin.get<Record<string, unknown>>('/api/admin/devices/alice-desk');
    expect(device.json.data).toEqual({ user_number: '1001', username: 'alice-desk', password_set: true });
    const trunk = await admin.get<Record<string, unknown>>('/api/admin/trunks/demo-trunk');
    expect(trunk.json.data).toMatchObject({ password_set: true, username: 'trunk-user' });
    // A PATCH without the secret keeps it; the write's answer does not echo it either.
    const patched = await admin.send('PATCH', '/api/admin/trunks/demo-trunk', { port: 5091 });
    expect(patched.text).not.toContain(TRUNK_PASSWORD);
    expect((await sb.config.staged()).trunks[0]!.password).toBe(TRUNK_PASSWORD);
    await admin.send('DELETE', '/api/admin/config/staged');
  });

  it('admin keys: created (shown once), used, listed without the key, revoked; changes are in the audit log', async () => {
    const created = await admin.post<{ key: string; key_id: string }>('/api/admin/admin-keys', { name: 'console' });
    expect(created.status).toBe(201);
    const { key, key_id } = created.json.data!;
    const own = apiClient(sb.baseUrl, { adminKey: key });
    try {
      expect((await own.send('PATCH', '/api/admin/pbx', { name: 'Audited PBX' })).status).toBe(200);
      const list = await own.get('/api/admin/admin-keys');
      expect(list.text).not.toContain(key);
      const audit = await own.get<Array<Record<string, unknown>>>('/api/admin/audit', { limit: 5 });
      expect(audit.json.data![0]).toMatchObject({ key_id, key_name: 'console', source_ip: '127.0.0.1', method: 'PATCH', path: '/api/admin/pbx', status: 200, changes: { name: 'Audited PBX' } });
      expect((await admin.send('DELETE', `/api/admin/admin-keys/${key_id}`)).status).toBe(200);
      expect((await own.get('/api/admin/users')).status).toBe(401);
    } finally {
      await own.close();
      await admin.send('DELETE', '/api/admin/config/staged');
    }
  });
});

describe('failed (401) requests are limited per source', () => {
  let sb: TestSwitchboard;
  beforeAll(async () => {
    sb = await startTestSwitchboard({ extra: { dispatcher: DISPATCH } });
  });
  afterAll(async () => sb?.stop());

  it('a 401 flood from 127.0.0.2 gets 429 + Retry-After (even with the right key next); 127.0.0.1 is unaffected', async () => {
    const guesser = apiClient(sb.baseUrl, { token: 'guess', adminKey: 'guess', localAddress: '127.0.0.2' });
    const sameSourceRightKey = apiClient(sb.baseUrl, { localAddress: '127.0.0.2' });
    const other = apiClient(sb.baseUrl);
    try {
      const limit = sb.config.live().config.api.auth_failures_per_min;
      const statuses: number[] = [];
      for (let i = 0; i < limit + 5; i++) statuses.push((await guesser.get(i % 2 ? '/api/admin/devices' : '/api/integration/v2/get-system-status')).status);
      expect(statuses.slice(0, limit).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(limit).every((s) => s === 429)).toBe(true);
      const refused = await sameSourceRightKey.get('/api/integration/v2/get-system-status');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await other.get('/api/integration/v2/get-system-status')).status).toBe(200);
      expect((await other.get('/api/admin/devices')).status).toBe(200);
    } finally {
      await guesser.close();
      await sameSourceRightKey.close();
      await other.close();
    }
  });
});

describe('webhook targets (SSRF)', () => {
  it('refuses loopback/private webhook URLs at apply', async () => {
    const receiver = await startHookReceiver();
    // hostname() resolves to a loopback address here (/etc/hosts); a name is only judged after DNS, at send time.
    const byName = receiver.url('/hook').replace('127.0.0.1', hostname());
    const sb = await startTestSwitchboard({
      mutate: (c) => {
        c.delivery.refuse_private_targets = true;
        c.webhook = { ...c.webhook, url: byName, enabled: true };
        c.flows = c.flows.map((f) => ({ ...f, nodes: f.nodes.map((n) => (n.type === 'webhook' ? { ...n, url: 'https://crm.example.com/lead' } : n)) }));
      },
      extra: { dispatcher: DISPATCH },
    });
    const admin = apiClient(sb.baseUrl);
    try {
      expect((await admin.send('PATCH', '/api/admin/webhook', { url: receiver.url('/hook') })).status).toBe(200);
      const apply = await admin.post<{ errors: string[] }>('/api/admin/apply');
      expect(apply.status).toBe(400);
      expect(apply.json.data!.errors).toContainEqual(expect.stringMatching(/^webhook\.url: .*loopback address, which delivery\.refuse_private_targets refuses/));
      // TODO(issue 11): the send-time refusal of a host name resolving to loopback is not verified end to end yet.
      expect(receiver.hooks).toHaveLength(0);
    } finally {
      await admin.close();
      await sb.stop();
      await receiver.close();
    }
  });
});

describe('a webhook URL or token change applies to deliveries created after it', () => {
  it('a pending delivery keeps its URL and token; new deliveries get the new ones', async () => {
    const receiver = await startHookReceiver();
    let down = true;
    receiver.status = () => (down ? 503 : 200);
    const sb = await startTestSwitchboard({
      mutate: (c) => {
        c.webhook = { ...c.webhook, url: receiver.url('/old'), secret_token: 'old-token', enabled: true };
        c.delivery.retry_schedule_s = [1];
      },
      extra: { dispatcher: DISPATCH },
    });
    const admin = apiClient(sb.baseUrl);
    try {
      const first = await admin.post<{ delivery_id: string }>('/api/admin/webhooks/test', { type: 'user_inbound' });
      await receiver.waitFor((h) => h.path === '/old', 1, 'the first (failing) attempt');
      expect((await admin.send('PATCH', '/api/admin/webhook', { url: receiver.url('/new'), secret_token: 'new-token' })).status).toBe(200);
      expect((await admin.post('/api/admin/apply')).status).toBe(200);
      down = false;
      const second = await admin.post<{ delivery_id: string }>('/api/admin/webhooks/test', { type: 'user_inbound' });
      const [newHook] = await receiver.waitFor((h) => h.path === '/new', 1, 'the new delivery');
      const oldHooks = await receiver.waitFor((h) => h.path === '/old' && h.headers['x-pbx-token'] !== undefined, 2, 'the old delivery retried');
      const retried = oldHooks.at(-1)!;
      expect(retried.headers['x-pbx-token']).toBe('old-token');
      expect(verifyStandardWebhook(derivedSigningSecret('old-token'), retried.headers, retried.raw)).toBe(true);
      expect(verifyStandardWebhook(derivedSigningSecret('new-token'), retried.headers, retried.raw)).toBe(false);
      expect(newHook!.headers['x-pbx-token']).toBe('new-token');
      expect(verifyStandardWebhook(derivedSigningSecret('new-token'), newHook!.headers, newHook!.raw)).toBe(true);
      expect(receiver.hooks.filter((h) => h.path === '/new').map((h) => h.headers['webhook-id'])).toEqual([second.json.data!.delivery_id]);
      expect(retried.headers['webhook-id']).toBe(first.json.data!.delivery_id);
    } finally {
      await admin.close();
      await sb.stop();
      await receiver.close();
    }
  });
});

/** A receiver that never answers: it records each request and holds it open. */
async function startHangingReceiver(): Promise<{ url: string; open: () => number; answered: () => number; close(): Promise<void> }> {
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let answered = 0;
  const server: Server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    held.add(res);
    res.on('close', () => { held.delete(res); answered++; });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/slow`,
    open: () => held.size,
    answered: () => answered,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('per-endpoint limits', () => {
  it('a hanging webhook-object receiver takes at most its share: the global webhook is served while it hangs', async () => {
    const slow = await startHangingReceiver();
    const fast = await startHookReceiver();
    const sb = await startTestSwitchboard({
      mutate: (c) => {
        c.webhook = { ...c.webhook, url: fast.url('/global'), enabled: true };
        c.flows = c.flows.map((f) => ({ ...f, nodes: f.nodes.map((n) => (n.type === 'webhook' ? { ...n, url: slow.url } : n)) }));
        c.delivery = { ...c.delivery, concurrency: 4, per_endpoint_concurrency: 2, timeout_ms: 8_000 };
      },
      extra: { dispatcher: DISPATCH },
    });
    const admin = apiClient(sb.baseUrl);
    try {
      for (let i = 0; i < 8; i++) expect((await admin.post('/api/admin/webhooks/test', { type: 'webhook_component_event' })).status).toBe(202);
      await until('the slow receiver to hold its share', () => (slow.open() >= 2 ? true : undefined));
      await admin.post('/api/admin/webhooks/test', { type: 'user_inbound' });
      await fast.waitFor((h) => h.path === '/global', 1, 'the global webhook while the slow one hangs');
      // Served while the slow receiver still holds every request it got: none of them has timed out or been answered.
      expect(slow.answered()).toBe(0);
      expect(slow.open()).toBe(2);
    } finally {
      await slow.close(); // its held requests fail at once, so stopping does not wait for their timeout
      await admin.close();
      await sb.stop();
      await fast.close();
    }
  });
});
