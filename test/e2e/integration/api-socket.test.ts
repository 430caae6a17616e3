/**
 * The integration API over a real socket (SPEC.md §4, issue 6): the envelope of get-system-status, and the two
 * ways to be refused with 401 `Not authorised` — a missing/wrong `token`, and a source address outside the
 * whitelist (the client binds 127.0.0.2 while the whitelist holds only 127.0.0.1/32).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, apiClient, V2, type ApiClient } from '../../support/integration-http.js';
import { startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';

const NOT_AUTHORISED = { code: 401, status: 'error', message: 'Not authorised' };
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('integration API over a socket', () => {
  let pbx: IntegrationPbx;
  let newKey = '';
  const clients: ApiClient[] = [];
  const client = (opts: Parameters<typeof apiClient>[1]): ApiClient => {
    const c = apiClient(pbx.sb.baseUrl, opts);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    // This file makes many refused requests on purpose: the per-source failure limit (test/e2e/security) is raised.
    pbx = await startIntegrationPbx({ mutate: (c) => { c.api.whitelisted_ips = ['127.0.0.1/32']; c.api.auth_failures_per_min = 1000; } });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await pbx?.close();
  });

  it('get-system-status answers 200 with exactly the envelope and the status fields', async () => {
    await pbx.phone('alice-desk');
    const r = await pbx.api.get(`${V2}/get-system-status`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(r.json).sort()).toEqual(['code', 'data', 'message', 'status']);
    expect(r.json).toMatchObject({ code: 200, status: 'success' });
    expect(typeof r.json.message).toBe('string');
    const data = r.json.data as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual(['active_calls', 'config_version', 'registered_devices', 'uptime', 'version']);
    expect(data).toMatchObject({ version: PACKAGE_VERSION, registered_devices: 1, active_calls: 0, config_version: 1 });
    expect(Number.isInteger(data['uptime'])).toBe(true);
    expect(data['uptime']).toBeGreaterThanOrEqual(0);
    await pbx.reset();
  });

  it('refuses a request without a token with 401 Not authorised (exact body)', async () => {
    const r = await client({ token: null }).get(`${V2}/get-system-status`);
    expect(r.status).toBe(401);
    expect(r.json).toEqual(NOT_AUTHORISED);
  });

  it('refuses a wrong token, an empty token and a token of the right length but wrong content', async () => {
    for (const token of ['wrong', '', 'demo-api-kez', 'DEMO-API-KEY']) {
      const r = await client({ token }).get(`${V2}/get-user-calls`);
      expect(r.status, `token '${token}'`).toBe(401);
      expect(r.json).toEqual(NOT_AUTHORISED);
    }
  });

  it('refuses the key in the query string or an Authorization header (only the token header counts)', async () => {
    const noToken = client({ token: null });
    const q = await noToken.get(`${V2}/get-system-status`, { token: 'demo-api-key' });
    expect(q.status).toBe(401);
    expect(q.json).toEqual(NOT_AUTHORISED);
    const { request } = await import('undici');
    for (const authorization of ['demo-api-key', 'Bearer demo-api-key']) {
      const res = await request(`${pbx.sb.baseUrl}${V2}/get-system-status`, { headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(await res.body.json()).toEqual(NOT_AUTHORISED);
    }
  });

  it('answers 401 (not 404) for an unknown path without a key', async () => {
    const r = await client({ token: null }).get(`${V2}/no-such-route`);
    expect(r.status).toBe(401);
    expect(r.json).toEqual(NOT_AUTHORISED);
  });

  it('refuses a whitelisted key from a source address outside the whitelist (127.0.0.2 vs 127.0.0.1/32), accepts 127.0.0.1', async () => {
    const outsider = client({ localAddress: '127.0.0.2' });
    const insider = client({ localAddress: '127.0.0.1' });
    for (const path of [`${V2}/get-system-status`, `${V2}/get-user-calls`, `${ADMIN}/config/live`]) {
      const refused = await outsider.get(path);
      expect(refused.status, path).toBe(401);
      expect(refused.json).toEqual(NOT_AUTHORISED);
      const accepted = await insider.get(path);
      expect(accepted.status, path).toBe(200);
    }
    const post = await outsider.post(`${V2}/call-to-number`, { user_number: '1001', number_to_call: '+61288887777' });
    expect(post.status).toBe(401);
    expect(post.json).toEqual(NOT_AUTHORISED);
  });

  it('does not believe X-Forwarded-For from an untrusted peer', async () => {
    const outsider = client({ localAddress: '127.0.0.2' });
    const r = await outsider.get(`${V2}/get-system-status`, undefined);
    expect(r.status).toBe(401);
    // The same request claiming to be forwarded for 127.0.0.1 is still refused (no trusted proxies).
    const { request, Agent } = await import('undici');
    const agent = new Agent({ localAddress: '127.0.0.2' });
    try {
      const res = await request(`${pbx.sb.baseUrl}${V2}/get-system-status`, { headers: { token: 'demo-api-key', 'x-forwarded-for': '127.0.0.1' }, dispatcher: agent });
      expect(res.statusCode).toBe(401);
      expect(await res.body.json()).toEqual(NOT_AUTHORISED);
    } finally {
      await agent.close();
    }
  });

  it('a whitelist change applied through the admin API lets 127.0.0.2 in, and only from then on', async () => {
    const outsider = client({ localAddress: '127.0.0.2' });
    const add = await pbx.api.post(`${ADMIN}/whitelist`, { ip: '127.0.0.2' });
    expect(add.status, add.text).toBeLessThan(300);
    expect((await outsider.get(`${V2}/get-system-status`)).status).toBe(401);
    const applied = await pbx.api.post(`${ADMIN}/apply`);
    expect(applied.status, applied.text).toBe(200);
    expect(applied.json.data).toEqual({ version: 2 });
    const r = await outsider.get(`${V2}/get-system-status`);
    expect(r.status).toBe(200);
    expect((r.json.data as { config_version: number }).config_version).toBe(2);
  });

  it('serves the OpenAPI document to a whitelisted address without a key, and not to a non-whitelisted one', async () => {
    const r = await client({ token: null, localAddress: '127.0.0.1' }).get('/api/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.json as unknown as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['get-user-calls', 'get-queue-calls', 'get-ringgroup-calls', 'call-to-number', 'get-system-status']) {
      expect(Object.keys(doc.paths), p).toContain(`${V2}/${p}`);
    }
    // 127.0.0.2 was let in by the previous test's apply: take it out again and apply.
    expect((await pbx.api.send('DELETE', `${ADMIN}/whitelist?ip=127.0.0.2`)).status).toBe(200);
    expect((await pbx.api.post(`${ADMIN}/apply`)).status).toBe(200);
    const refused = await client({ token: null, localAddress: '127.0.0.2' }).get('/api/openapi.json');
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual(NOT_AUTHORISED);
  });

  it('a regenerated API key is shown once, staged: the old key works until apply, then only the new one', async () => {
    const regen = await pbx.api.post<{ api_key: string }>(`${ADMIN}/api-key/regenerate`);
    expect(regen.status, regen.text).toBe(201);
    newKey = regen.json.data!.api_key;
    expect(newKey.length).toBeGreaterThanOrEqual(20);
    const fresh = client({ token: newKey });
    expect((await fresh.get(`${V2}/get-system-status`)).status).toBe(401);
    expect((await pbx.api.get(`${V2}/get-system-status`)).status).toBe(200);
    const staged = await pbx.api.get(`${ADMIN}/config/staged`);
    expect(staged.text).not.toContain(newKey);
    expect((await pbx.api.post(`${ADMIN}/apply`)).status).toBe(200);
    expect((await fresh.get(`${V2}/get-system-status`)).status).toBe(200);
    const old = await pbx.api.get(`${V2}/get-system-status`);
    expect(old.status).toBe(401);
    expect(old.json).toEqual(NOT_AUTHORISED);
  });

  // Last in this file: it spends the key's budget.
  it('answers 429 in the envelope with Retry-After once the per-key rate limit is spent; refused 401s do not count', async () => {
    const keyed = client({ token: newKey });
    const patched = await keyed.send('PATCH', `${ADMIN}/api-access`, { rate_limit_per_min: 5 });
    expect(patched.status, patched.text).toBe(200);
    expect((await keyed.post(`${ADMIN}/apply`)).status).toBe(200);
    const wrong = client({ token: 'wrong' });
    for (let i = 0; i < 10; i++) expect((await wrong.get(`${V2}/get-system-status`)).status).toBe(401);
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 10 && !limited; i++) {
      const r = await keyed.get(`${V2}/get-system-status`);
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(limited!.json).toMatchObject({ code: 429, status: 'error' });
    expect(Object.keys(limited!.json).sort()).toEqual(['code', 'message', 'status']);
    const retryAfter = Number(limited!.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(12);
  });
});

describe('SWITCHBOARD_API_KEY', () => {
  let pbx: IntegrationPbx | undefined;
  afterAll(async () => {
    await pbx?.close();
  });

  it('replaces the configured key: the demo key is refused, the environment\'s is accepted', async () => {
    pbx = await startIntegrationPbx({ env: { SWITCHBOARD_API_KEY: 'env-key-0123456789abcdef' } });
    const demo = await pbx.api.get(`${V2}/get-system-status`);
    expect(demo.status).toBe(401);
    expect(demo.json).toEqual(NOT_AUTHORISED);
    const c = apiClient(pbx.sb.baseUrl, { token: 'env-key-0123456789abcdef' });
    try {
      expect((await c.get(`${V2}/get-system-status`)).status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe('IPv6 clients (SWITCHBOARD_BIND=::1)', () => {
  const pbxs: IntegrationPbx[] = [];
  afterAll(async () => {
    for (const p of pbxs) await p.close();
  });
  const v6 = async (pbx: IntegrationPbx, token: string | null) => {
    const c = apiClient(`http://[::1]:${pbx.sb.http.port}`, { token });
    try {
      return await c.get(`${V2}/get-system-status`);
    } finally {
      await c.close();
    }
  };

  it('accepts ::1 when the whitelist holds ::1 (the demo default), with the key; refuses it without', async () => {
    const pbx = await startIntegrationPbx({ env: { SWITCHBOARD_BIND: '::1' } });
    pbxs.push(pbx);
    expect(pbx.sb.http.address).toBe('::1');
    expect((await v6(pbx, 'demo-api-key')).status).toBe(200);
    const none = await v6(pbx, null);
    expect(none.status).toBe(401);
    expect(none.json).toEqual(NOT_AUTHORISED);
  });

  it('refuses ::1 when the whitelist holds only IPv4 loopback', async () => {
    const pbx = await startIntegrationPbx({ env: { SWITCHBOARD_BIND: '::1' }, mutate: (c) => { c.api.whitelisted_ips = ['127.0.0.1/8']; } });
    pbxs.push(pbx);
    const r = await v6(pbx, 'demo-api-key');
    expect(r.status).toBe(401);
    expect(r.json).toEqual(NOT_AUTHORISED);
  });
});

describe('X-Forwarded-For through a trusted proxy', () => {
  let pbx: IntegrationPbx;
  beforeAll(async () => {
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.api.whitelisted_ips = ['10.0.0.0/8'];
        c.api.trusted_proxies = ['127.0.0.1/32'];
      },
    });
  });
  afterAll(async () => {
    await pbx?.close();
  });
  const from = async (localAddress: string, xff?: string) => {
    const { request, Agent } = await import('undici');
    const agent = new Agent({ localAddress });
    try {
      const res = await request(`${pbx.sb.baseUrl}${V2}/get-system-status`, { headers: { token: 'demo-api-key', ...(xff ? { 'x-forwarded-for': xff } : {}) }, dispatcher: agent });
      return { status: res.statusCode, body: await res.body.json() };
    } finally {
      await agent.close();
    }
  };

  it('believes the header only from the trusted proxy, and checks the client it names against the whitelist', async () => {
    expect((await from('127.0.0.1', '10.1.2.3')).status).toBe(200);
    expect((await from('127.0.0.1', '192.168.1.1, 10.1.2.3')).status).toBe(200);
    const notListed = await from('127.0.0.1', '192.168.1.1');
    expect(notListed).toEqual({ status: 401, body: NOT_AUTHORISED });
    // The proxy itself is not whitelisted: without the header it is refused.
    expect((await from('127.0.0.1')).status).toBe(401);
    // An untrusted peer cannot claim a whitelisted address.
    expect(await from('127.0.0.2', '10.1.2.3')).toEqual({ status: 401, body: NOT_AUTHORISED });
  });
});
