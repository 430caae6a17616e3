/**
 * Issue 11, "Access control and secrets": runs each attack against a started Switchboard (the demo configuration on
 * free ports, real SQLite, real HTTP receivers on 127.0.0.1) and prints one line per attack with its outcome.
 * Written to run unchanged against older trees (for the before/after table in bench/README.md): admin requests
 * carry both the old credential (`token: demo-api-key`) and the new one (`Authorization: Bearer demo-admin-key`).
 *
 *   npx tsx bench/security-api.ts
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname } from 'node:os';
import { Agent, request } from 'undici';
import type { PbxConfig } from '../src/config/index.js';
import { startTestSwitchboard, type TestSwitchboard } from '../test/support/switchboard.js';

const SECRETS = ['alice-desk-pw', 'alice-mobile-pw', 'bob-desk-pw', 'bob-soft-pw'];
const TRUNK_PASSWORD = 'bench-trunk-pw';
const ADMIN = { token: 'demo-api-key', authorization: 'Bearer demo-admin-key' };
const DISPATCH = { pollIntervalMs: 50, jitter: 0 };

interface Answer { status: number; text: string; headers: Record<string, unknown> }

async function http(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown, localAddress?: string): Promise<Answer> {
  const dispatcher = new Agent(localAddress ? { localAddress } : {});
  try {
    const res = await request(`${base}${path}`, {
      method: method as 'GET', dispatcher,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
  } finally {
    await dispatcher.close();
  }
}

interface Receiver { url(path: string): string; hooks: Array<{ path: string; headers: IncomingHttpHeaders; at: number }>; status: (path: string) => number; hang: boolean; close(): Promise<void> }

async function receiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const r: Receiver = {
    hooks: [], status: () => 200, hang: false, url: () => '', close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      r.hooks.push({ path: req.url ?? '', headers: req.headers, at: Date.now() });
      if (r.hang) return;
      res.writeHead(r.status(req.url ?? ''));
      res.end('ok');
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  r.url = (path) => `http://127.0.0.1:${port}${path}`;
  r.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return r;
}

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function line(attack: string, outcome: string): void {
  console.log(`${attack.padEnd(58)} ${outcome}`);
}

async function withPbx<T>(mutate: ((c: PbxConfig) => void) | undefined, fn: (sb: TestSwitchboard) => Promise<T>): Promise<T> {
  const sb = await startTestSwitchboard({ ...(mutate ? { mutate } : {}), extra: { dispatcher: DISPATCH } });
  try {
    return await fn(sb);
  } finally {
    await sb.stop();
  }
}

async function keysAndSecrets(): Promise<void> {
  await withPbx((c) => {
    c.trunks[0]!.username = 'u';
    c.trunks[0]!.password = TRUNK_PASSWORD;
  }, async (sb) => {
    const crm = await http(sb.baseUrl, 'GET', '/api/admin/devices', { token: 'demo-api-key' });
    line('CRM (integration) key on GET /api/admin/devices', `HTTP ${crm.status}${crm.status === 200 ? ` (${SECRETS.filter((s) => crm.text.includes(s)).length} passwords in clear)` : ''}`);
    const trunk = await http(sb.baseUrl, 'PATCH', '/api/admin/trunks/demo-trunk', { token: 'demo-api-key' }, { host: '203.0.113.66' });
    line('CRM key re-points the trunk (PATCH /api/admin/trunks)', `HTTP ${trunk.status}`);
    await http(sb.baseUrl, 'DELETE', '/api/admin/config/staged', ADMIN);
    const paths = ['/api/admin/devices', '/api/admin/users', '/api/admin/trunks', '/api/admin/webhook', '/api/admin/flows', '/api/admin/config/live', '/api/admin/config/staged'];
    const all = [...SECRETS, TRUNK_PASSWORD, 'demo-token', 'demo-api-key', 'demo-admin-key'];
    let found = 0;
    for (const p of paths) {
      const r = await http(sb.baseUrl, 'GET', p, ADMIN);
      found += all.filter((s) => r.text.includes(s)).length;
    }
    line(`admin GETs (${paths.length} routes) grepped for ${all.length} secrets`, `${found} secret occurrences`);
  });
}

async function flood(): Promise<void> {
  await withPbx(undefined, async (sb) => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 40; i++) {
      const r = await http(sb.baseUrl, 'GET', '/api/integration/v2/get-system-status', { token: `guess-${i}` }, undefined, '127.0.0.2');
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    }
    const right = await http(sb.baseUrl, 'GET', '/api/integration/v2/get-system-status', { token: 'demo-api-key' }, undefined, '127.0.0.2');
    const other = await http(sb.baseUrl, 'GET', '/api/integration/v2/get-system-status', { token: 'demo-api-key' });
    const summary = [...counts].map(([s, n]) => `${n}×${s}`).join(' ');
    line('40 wrong keys from 127.0.0.2, then the right one', `${summary}; then ${right.status}${right.headers['retry-after'] ? ` (Retry-After ${String(right.headers['retry-after'])})` : ''}; 127.0.0.1 ${other.status}`);
  });
}

async function ssrf(): Promise<void> {
  await withPbx(undefined, async (sb) => {
    await http(sb.baseUrl, 'PATCH', '/api/admin/delivery', ADMIN, { refuse_private_targets: true });
    await http(sb.baseUrl, 'PATCH', '/api/admin/webhook', ADMIN, { url: 'http://169.254.169.254/latest/meta-data', enabled: true });
    const apply = await http(sb.baseUrl, 'POST', '/api/admin/apply', ADMIN);
    const msg = (JSON.parse(apply.text) as { message?: string; data?: { errors?: Array<{ message: string }> } });
    line('SSRF: webhook to 169.254.169.254 with the option on (apply)', `HTTP ${apply.status}: ${msg.data?.errors?.[0]?.message ?? msg.message ?? ''}`.slice(0, 140));
  });
  const rec = await receiver();
  try {
    const byName = rec.url('/hook').replace('127.0.0.1', hostname());
    await withPbx((c) => {
      (c.delivery as unknown as Record<string, unknown>).refuse_private_targets = true;
      c.webhook = { ...c.webhook, url: byName, enabled: true };
      c.flows = c.flows.map((f) => ({ ...f, nodes: f.nodes.map((n) => (n.type === 'webhook' ? { ...n, url: 'https://crm.example.com/lead' } : n)) }));
    }, async (sb) => {
      const sent = await http(sb.baseUrl, 'POST', '/api/admin/webhooks/test', ADMIN, { type: 'user_inbound' });
      const id = (JSON.parse(sent.text) as { data?: { delivery_id?: string } }).data?.delivery_id;
      const d = await until(async () => {
        // The answer is { data: { delivery, attempts } }.
        const r = JSON.parse((await http(sb.baseUrl, 'GET', `/api/admin/webhooks/deliveries/${id}`, ADMIN)).text) as { data?: { delivery?: { status: string; last_error: string | null } } };
        const dl = r.data?.delivery;
        return dl && dl.status !== 'pending' ? dl : undefined;
      }, 5_000);
      line(`SSRF: webhook to ${hostname()} (a name for this host) at send time`, `${rec.hooks.length} request(s) reached the loopback receiver; delivery ${d?.status ?? 'pending'}${d?.last_error ? `: ${d.last_error}` : ''}`.slice(0, 160));
    });
  } finally {
    await rec.close();
  }
}

async function tokenChange(): Promise<void> {
  const rec = await receiver();
  let down = true;
  rec.status = () => (down ? 503 : 200);
  try {
    await withPbx((c) => {
      c.webhook = { ...c.webhook, url: rec.url('/old'), secret_token: 'old-token', enabled: true };
      c.delivery.retry_schedule_s = [1];
    }, async (sb) => {
      await http(sb.baseUrl, 'POST', '/api/admin/webhooks/test', ADMIN, { type: 'user_inbound' });
      await until(() => (rec.hooks.length > 0 ? true : undefined), 5_000);
      await http(sb.baseUrl, 'PATCH', '/api/admin/webhook', ADMIN, { url: rec.url('/new'), secret_token: 'new-token' });
      await http(sb.baseUrl, 'POST', '/api/admin/apply', ADMIN);
      down = false;
      const retried = await until(() => rec.hooks.find((h, i) => i > 0 && h.path === '/old'), 5_000);
      line('pending delivery retried after a webhook URL+token change', retried ? `sent to the old URL with X-Pbx-Token ${String(retried.headers['x-pbx-token'])}` : `not retried to the old URL (${rec.hooks.map((h) => `${h.path}:${String(h.headers['x-pbx-token'])}`).join(', ')})`);
    });
  } finally {
    await rec.close();
  }
}

async function slowEndpoint(): Promise<void> {
  const slow = await receiver();
  slow.hang = true;
  const fast = await receiver();
  try {
    await withPbx((c) => {
      c.webhook = { ...c.webhook, url: fast.url('/global'), enabled: true };
      c.flows = c.flows.map((f) => ({ ...f, nodes: f.nodes.map((n) => (n.type === 'webhook' ? { ...n, url: slow.url('/slow') } : n)) }));
      c.delivery = { ...c.delivery, concurrency: 4, timeout_ms: 5_000, ...({ per_endpoint_concurrency: 2 } as object) };
    }, async (sb) => {
      for (let i = 0; i < 8; i++) await http(sb.baseUrl, 'POST', '/api/admin/webhooks/test', ADMIN, { type: 'webhook_component_event' });
      await until(() => (slow.hooks.length >= 2 ? true : undefined), 5_000);
      const t0 = Date.now();
      await http(sb.baseUrl, 'POST', '/api/admin/webhooks/test', ADMIN, { type: 'user_inbound' });
      const got = await until(() => fast.hooks[0], 15_000);
      line('global webhook while a webhook object hangs (concurrency 4, timeout 5 s)', got ? `delivered after ${got.at - t0} ms (slow receiver holding ${slow.hooks.length} requests)` : 'not delivered within 15 s');
    });
  } finally {
    await slow.close();
    await fast.close();
  }
}

console.log(`security-api: ${new Date().toISOString()}, Node ${process.version}`);
await keysAndSecrets();
await flood();
await ssrf();
await tokenChange();
await slowEndpoint();
