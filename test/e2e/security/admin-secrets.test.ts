/**
 * Issue 11 leftovers on the admin API, each performed against a running Switchboard over real HTTP (demo
 * configuration on free ports, real SQLite, real webhook receivers on 127.0.0.1):
 * - a replacing write (PUT) need not re-send a secret it never saw: the stored one is kept; a new object without
 *   its secret gets a 400 naming the field;
 * - a webhook object's custom headers (CRM credentials) are write-only: answers, the diff and the audit log show
 *   their names only, the logs never their values, and the receiver still gets them;
 * - a manual redelivery is a new send: it goes to the global webhook URL and token live now, with the same
 *   webhook-id (automatic retries keep the old ones: webhook-safety.test.ts).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/log.js';
import { ADMIN, apiClient, type ApiClient } from '../../support/integration-http.js';
import { derivedSigningSecret, startHookReceiver, verifyStandardWebhook, type HookReceiver } from '../../support/integration-receiver.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';

const CRM_KEY = 'crm-credential-5b1f9e';
const DISPATCH = { pollIntervalMs: 50, jitter: 0 };

/** Every log line Switchboard writes (debug and up), through the production logger and its redaction. */
function capturedLog(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString('utf8')); done(); } });
  return { lines, log: createLogger({ level: 'debug', destination }) };
}

type Obj = Record<string, unknown>;

describe('replacing writes keep the secrets they leave out', () => {
  let sb: TestSwitchboard;
  let admin: ApiClient;
  let rx: HookReceiver;
  beforeAll(async () => {
    rx = await startHookReceiver();
    sb = await startTestSwitchboard({
      mutate: (c) => { c.webhook = { ...c.webhook, url: rx.url('/hook'), secret_token: 'kept-token', enabled: true }; },
      extra: { dispatcher: DISPATCH },
    });
    admin = apiClient(sb.baseUrl);
  });
  afterAll(async () => {
    await admin?.close();
    await sb?.stop();
    await rx?.close();
  });

  it('PUT a device without its password: 200, password_set true, and the diff shows no password change', async () => {
    const r = await admin.send<Obj>('PUT', `${ADMIN}/devices/alice-desk`, { username: 'alice-desk' });
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual({ user_number: '1001', username: 'alice-desk', password_set: true });
    const user = await admin.get<Obj>(`${ADMIN}/users/1001`);
    const put = await admin.send<Obj>('PUT', `${ADMIN}/users/1001`, { ...stripFlags(user.json.data!), name: 'Alice Smythe' });
    expect(put.status).toBe(200);
    expect(put.json.data!['devices']).toEqual([{ username: 'alice-desk', password_set: true }, { username: 'alice-mobile', password_set: true }]);
    const diff = await admin.get<Array<{ path: string }>>(`${ADMIN}/config/diff`);
    expect(diff.status).toBe(200);
    expect(diff.text).not.toMatch(/password/);
    expect(diff.text).toContain('Alice Smythe');
  });

  it('PUT a trunk without its password keeps the stored one (a schema default must not overwrite it)', async () => {
    const set = await admin.send<Obj>('PATCH', `${ADMIN}/trunks/demo-trunk`, { username: 'pbx', password: 'trunk-secret-1' });
    expect(set.status, set.text).toBe(200);
    expect(set.json.data!['password_set']).toBe(true);
    const seen = stripFlags((await admin.get<Obj>(`${ADMIN}/trunks/demo-trunk`)).json.data!);
    expect(seen).not.toHaveProperty('password');
    const put = await admin.send<Obj>('PUT', `${ADMIN}/trunks/demo-trunk`, { ...seen, port: 5091 });
    expect(put.status, put.text).toBe(200);
    expect(put.json.data!['password_set']).toBe(true);
    expect(put.json.data!['port']).toBe(5091);
    const staged = await admin.get<Obj>(`${ADMIN}/trunks/demo-trunk`);
    expect(staged.json.data!['password_set']).toBe(true);
  });

  it('a new object without its secret is a 400 naming the field, on POST and inside a PUT', async () => {
    const post = await admin.send('POST', `${ADMIN}/users`, { name: 'Carol', number: '1003', devices: [{ username: 'carol-desk' }] });
    expect(post.status).toBe(400);
    expect(post.json.message).toContain("Missing field 'devices/0/password'");
    const user = stripFlags((await admin.get<Obj>(`${ADMIN}/users/1002`)).json.data!);
    const put = await admin.send('PUT', `${ADMIN}/users/1002`, { ...user, devices: [...(user['devices'] as Obj[]), { username: 'bob-new' }] });
    expect(put.status).toBe(400);
    expect(put.json.message).toContain("Missing field 'devices/2/password'");
    const dev = await admin.send('POST', `${ADMIN}/devices`, { user_number: '1002', username: 'bob-new' });
    expect(dev.status).toBe(400);
    expect(dev.json.message).toContain("Missing field 'password'");
  });

  it('PUT the webhook settings without secret_token: the applied webhook still sends the stored token', async () => {
    const w = stripFlags((await admin.get<Obj>(`${ADMIN}/webhook`)).json.data!);
    expect(w['secret_token']).toBeUndefined();
    const put = await admin.send<Obj>('PUT', `${ADMIN}/webhook`, { ...w, events: ['user_inbound'] });
    expect(put.status).toBe(200);
    expect(put.json.data).toMatchObject({ secret_token_set: true, events: ['user_inbound'] });
    expect((await admin.post(`${ADMIN}/apply`)).status).toBe(200);
    expect((await admin.post(`${ADMIN}/webhooks/test`, { type: 'user_inbound' })).status).toBe(202);
    const [hook] = await rx.waitFor((h) => h.path === '/hook', 1, 'the test event');
    expect(hook!.headers['x-pbx-token']).toBe('kept-token');
  });
});

describe("a webhook object's custom headers are write-only", () => {
  let sb: TestSwitchboard;
  let admin: ApiClient;
  let rx: HookReceiver;
  const logged = capturedLog();
  beforeAll(async () => {
    rx = await startHookReceiver();
    sb = await startTestSwitchboard({ extra: { dispatcher: DISPATCH, log: logged.log } });
    admin = apiClient(sb.baseUrl);
  });
  afterAll(async () => {
    await admin?.close();
    await sb?.stop();
    await rx?.close();
  });

  it('answers, the diff, the staged and live configuration and the audit log show header names only; the receiver gets the values', async () => {
    const flow = stripFlags((await admin.get<Obj>(`${ADMIN}/flows/new-lead`)).json.data!);
    const nodes = (flow['nodes'] as Obj[]).map((n) => (n['type'] === 'webhook'
      ? { ...n, url: rx.url('/lead'), secret_token: 'object-token', headers: { 'X-CRM-Key': CRM_KEY, 'X-Tenant': 'acme' } }
      : n));
    const put = await admin.send<Obj>('PUT', `${ADMIN}/flows/new-lead`, { ...flow, nodes });
    expect(put.status).toBe(200);
    expect(put.text).not.toContain(CRM_KEY);
    const hookNode = (put.json.data!['nodes'] as Obj[]).find((n) => n['type'] === 'webhook')!;
    expect(hookNode).toMatchObject({ headers_set: true, header_names: ['X-CRM-Key', 'X-Tenant'], secret_token_set: true });
    expect(hookNode['headers']).toBeUndefined();

    // A later PUT of what the client saw (no headers, no token) keeps both.
    const seen = stripFlags((await admin.get<Obj>(`${ADMIN}/flows/new-lead`)).json.data!);
    const again = await admin.send<Obj>('PUT', `${ADMIN}/flows/new-lead`, seen);
    expect(again.status).toBe(200);
    expect((again.json.data!['nodes'] as Obj[]).find((n) => n['type'] === 'webhook')).toMatchObject({ headers_set: true, header_names: ['X-CRM-Key', 'X-Tenant'] });

    for (const path of [`${ADMIN}/flows`, `${ADMIN}/flows/new-lead`, `${ADMIN}/config/staged`, `${ADMIN}/config/diff`, `${ADMIN}/audit`]) {
      const r = await admin.get(path);
      expect(r.status, path).toBe(200);
      expect(r.text, `${path} shows the header value`).not.toContain(CRM_KEY);
    }
    expect((await admin.get(`${ADMIN}/audit`)).text).toContain('header_names');
    expect((await admin.post(`${ADMIN}/apply`)).status).toBe(200);
    expect((await admin.get(`${ADMIN}/config/live`)).text).not.toContain(CRM_KEY);

    const sent = await admin.post<{ delivery_id: string }>(`${ADMIN}/webhooks/test`, { type: 'webhook_component_event', component_name: 'New lead' });
    expect(sent.status).toBe(202);
    const [hook] = await rx.waitFor((h) => h.path === '/lead', 1, 'the component event');
    expect(hook!.headers['x-crm-key']).toBe(CRM_KEY);
    expect(hook!.headers['x-tenant']).toBe('acme');
    expect(hook!.headers['x-pbx-token']).toBe('object-token');
    const delivery = await admin.get(`${ADMIN}/webhooks/deliveries/${sent.json.data!.delivery_id}`);
    expect(delivery.status).toBe(200);
    expect(delivery.text).not.toContain(CRM_KEY);
    expect(logged.lines.length).toBeGreaterThan(0);
    expect(logged.lines.join('')).not.toContain(CRM_KEY);
  });
});

describe('a manual redelivery is made under the webhook settings live now', () => {
  it('after a URL and token rotation, a redelivered event goes to the new URL with the new token and signature, same webhook-id', async () => {
    const rx = await startHookReceiver();
    const sb = await startTestSwitchboard({
      mutate: (c) => { c.webhook = { ...c.webhook, url: rx.url('/old'), secret_token: 'old-token', enabled: true }; },
      extra: { dispatcher: DISPATCH },
    });
    const admin = apiClient(sb.baseUrl);
    try {
      const first = await admin.post<{ delivery_id: string }>(`${ADMIN}/webhooks/test`, { type: 'user_inbound' });
      const id = first.json.data!.delivery_id;
      const [old] = await rx.waitFor((h) => h.path === '/old', 1, 'the first delivery');
      expect(old!.headers['x-pbx-token']).toBe('old-token');

      // The token leaked: rotate it (and move the receiver), then replay the event for the CRM.
      expect((await admin.send('PATCH', `${ADMIN}/webhook`, { url: rx.url('/new'), secret_token: 'new-token' })).status).toBe(200);
      expect((await admin.post(`${ADMIN}/apply`)).status).toBe(200);
      const re = await admin.post<{ count: number }>(`${ADMIN}/webhooks/deliveries/${id}/redeliver`);
      expect(re.status).toBe(200);
      expect(re.json.data!.count).toBe(1);
      const [replayed] = await rx.waitFor((h) => h.path === '/new', 1, 'the redelivery');
      expect(replayed!.headers['x-pbx-token']).toBe('new-token');
      expect(replayed!.headers['webhook-id']).toBe(id);
      expect(verifyStandardWebhook(derivedSigningSecret('new-token'), replayed!.headers, replayed!.raw)).toBe(true);
      expect(verifyStandardWebhook(derivedSigningSecret('old-token'), replayed!.headers, replayed!.raw)).toBe(false);
      expect(rx.hooks.filter((h) => h.path === '/old')).toHaveLength(1);
      expect(replayed!.raw).toBe(old!.raw);
      const d = await admin.get<{ delivery: { endpoint_url: string; status: string } }>(`${ADMIN}/webhooks/deliveries/${id}`);
      expect(d.json.data!.delivery.endpoint_url).toBe(rx.url('/new'));
    } finally {
      await admin.close();
      await sb.stop();
      await rx.close();
    }
  });
});

/** What a client sends back after a GET: the object without the `<secret>_set` / `header_names` flags. */
function stripFlags(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (k.endsWith('_set') || k === 'header_names') continue;
    out[k] = Array.isArray(v) ? v.map((x) => (x && typeof x === 'object' ? stripFlags(x as Obj) : x)) : v && typeof v === 'object' ? stripFlags(v as Obj) : v;
  }
  return out;
}
