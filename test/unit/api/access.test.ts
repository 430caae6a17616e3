import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { ADMIN_KEY, adminAuth, API_KEY, auth, makeHarness, testConfig, type Harness } from './harness.js';

const STATUS = '/api/integration/v2/get-system-status';
const NOT_AUTHORISED = { code: 401, status: 'error', message: 'Not authorised' };

describe('token and whitelist (inject)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(testConfig((c) => {
      c.api.whitelisted_ips = ['127.0.0.1', '192.0.2.0/24', '2001:db8::/48'];
      c.api.trusted_proxies = ['10.0.0.0/8'];
    }));
  });
  afterAll(async () => h.close());

  it('answers 401 "Not authorised" exactly for a missing token', async () => {
    const r = await h.app.inject({ url: STATUS });
    expect(r.statusCode).toBe(401);
    expect(r.body).toBe(JSON.stringify(NOT_AUTHORISED));
  });

  it('answers 401 for a wrong token, on the admin API too', async () => {
    for (const url of [STATUS, '/api/admin/users', '/api/admin/apply']) {
      const r = await h.app.inject({ url, method: url.endsWith('apply') ? 'POST' : 'GET', headers: { token: `${API_KEY}x` } });
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual(NOT_AUTHORISED);
    }
  });

  it('scopes the keys: the integration key never opens /api/admin/*, the admin key never the integration API', async () => {
    for (const url of ['/api/admin/users', '/api/admin/devices', '/api/admin/config/live', '/api/admin/admin-keys', '/api/admin/nope']) {
      for (const headers of [auth, { authorization: `Bearer ${API_KEY}` }]) {
        const r = await h.app.inject({ url, headers });
        expect(r.statusCode).toBe(401);
        expect(r.json()).toEqual(NOT_AUTHORISED);
      }
    }
    expect((await h.app.inject({ url: '/api/admin/users', headers: adminAuth })).statusCode).toBe(200);
    expect((await h.app.inject({ url: STATUS, headers: { token: ADMIN_KEY } })).statusCode).toBe(401);
    expect((await h.app.inject({ url: STATUS, headers: adminAuth })).statusCode).toBe(401);
  });

  it('does not take the key from other headers or the query', async () => {
    expect((await h.app.inject({ url: `${STATUS}?token=${API_KEY}` })).statusCode).toBe(401);
    expect((await h.app.inject({ url: STATUS, headers: { authorization: `Bearer ${API_KEY}` } })).statusCode).toBe(401);
  });

  it.each([
    ['127.0.0.1', 200], ['::ffff:127.0.0.1', 200], ['192.0.2.77', 200], ['::ffff:192.0.2.77', 200], ['2001:db8:0:1::9', 200],
    ['127.0.0.2', 401], ['198.51.100.1', 401], ['2001:db8:1::9', 401], ['::1', 401],
  ])('source %s → %i with the right key', async (remoteAddress, status) => {
    const r = await h.app.inject({ url: STATUS, headers: auth, remoteAddress });
    expect(r.statusCode).toBe(status);
    if (status === 401) expect(r.json()).toEqual(NOT_AUTHORISED);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const viaProxy = (xff: string, remoteAddress: string) => h.app.inject({ url: STATUS, headers: { ...auth, 'x-forwarded-for': xff }, remoteAddress });
    expect((await viaProxy('192.0.2.5', '10.1.2.3')).statusCode).toBe(200);
    expect((await viaProxy('198.51.100.1', '10.1.2.3')).statusCode).toBe(401);
    // An untrusted peer cannot talk its way in.
    expect((await viaProxy('127.0.0.1', '198.51.100.1')).statusCode).toBe(401);
    // A trusted proxy that is not whitelisted itself, passing on a whitelisted client through a second proxy.
    expect((await viaProxy('192.0.2.5, 10.9.9.9', '10.1.2.3')).statusCode).toBe(200);
    // The client is the first untrusted hop from the right, not the leftmost (spoofable) entry.
    expect((await viaProxy('192.0.2.5, 198.51.100.1', '10.1.2.3')).statusCode).toBe(401);
  });

  it('serves the OpenAPI document to a whitelisted address without a key, and refuses others', async () => {
    expect((await h.app.inject({ url: '/api/openapi.json' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/api/openapi.json', remoteAddress: '198.51.100.1' })).statusCode).toBe(401);
    expect((await h.app.inject({ url: '/api/docs/', remoteAddress: '198.51.100.1' })).statusCode).toBe(401);
  });

  it('uses the new key and whitelist as soon as a configuration is applied', async () => {
    await h.versions.stage({ ...h.versions.live().config, api: { ...h.versions.live().config.api, api_key: 'rotated-key', whitelisted_ips: ['127.0.0.1', '198.51.100.0/24'] } });
    expect((await h.versions.apply()).ok).toBe(true);
    expect((await h.app.inject({ url: STATUS, headers: auth })).statusCode).toBe(401);
    expect((await h.app.inject({ url: STATUS, headers: { token: 'rotated-key' }, remoteAddress: '198.51.100.1' })).statusCode).toBe(200);
  });
});

describe('failed-request limit (per source)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(testConfig((c) => {
      c.api.auth_failures_per_min = 3;
      c.api.whitelisted_ips = ['127.0.0.0/8'];
    }));
  });
  afterAll(async () => h.close());

  it('answers 429 with Retry-After after N failures a minute from one source, even with the right key; others unaffected; recovers', async () => {
    const bad = (url: string, remoteAddress = '127.0.0.9') => h.app.inject({ url, headers: url.startsWith('/api/admin') ? { authorization: 'Bearer guess' } : { token: 'guess' }, remoteAddress });
    for (const url of [STATUS, '/api/admin/users', STATUS]) expect((await bad(url)).statusCode).toBe(401);
    for (const [url, headers] of [[STATUS, auth], ['/api/admin/users', adminAuth]] as const) {
      const r = await h.app.inject({ url, headers, remoteAddress: '127.0.0.9' });
      expect(r.statusCode).toBe(429);
      expect(r.headers['retry-after']).toBe('20');
      expect(r.json()).toMatchObject({ code: 429, status: 'error', message: expect.stringContaining('failed requests') });
    }
    expect((await h.app.inject({ url: STATUS, headers: auth, remoteAddress: '127.0.0.10' })).statusCode).toBe(200);
    expect((await bad(STATUS, '127.0.0.10')).statusCode).toBe(401);
    h.clock.advance(20_000);
    expect((await h.app.inject({ url: STATUS, headers: auth, remoteAddress: '127.0.0.9' })).statusCode).toBe(200);
  });
});

describe('rate limit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(testConfig((c) => {
      c.api.rate_limit_per_min = 3;
    }));
  });
  afterAll(async () => h.close());

  it('answers 429 with Retry-After once the key has used its requests, and recovers with time', async () => {
    for (let i = 0; i < 3; i++) expect((await h.app.inject({ url: STATUS, headers: auth })).statusCode).toBe(200);
    const r = await h.app.inject({ url: '/api/integration/v2/get-user-calls', headers: auth });
    expect(r.statusCode).toBe(429);
    expect(r.headers['retry-after']).toBe('20');
    expect(r.json()).toMatchObject({ code: 429, status: 'error' });
    h.clock.advance(20_000);
    expect((await h.app.inject({ url: STATUS, headers: auth })).statusCode).toBe(200);
    expect((await h.app.inject({ url: STATUS, headers: auth })).statusCode).toBe(429);
  });

  it('does not count refused (401) requests against the key', async () => {
    h.clock.advance(60_000);
    for (let i = 0; i < 10; i++) expect((await h.app.inject({ url: STATUS })).statusCode).toBe(401);
    expect((await h.app.inject({ url: STATUS, headers: auth })).statusCode).toBe(200);
  });
});

describe('whitelist over a real socket (client bound to 127.0.0.2)', () => {
  let h: Harness;
  let base: string;
  const agents: Agent[] = [];
  beforeAll(async () => {
    h = await makeHarness(testConfig((c) => {
      c.api.whitelisted_ips = ['127.0.0.1'];
    }));
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await h.close();
  });

  async function status(localAddress: string): Promise<{ code: number; body: unknown }> {
    // undici 7 honours the Agent's own `localAddress` (the `connect.localAddress` form is ignored). Linux routes all
    // of 127/8 to lo, so binding 127.0.0.2 needs no setup.
    const dispatcher = new Agent({ localAddress });
    agents.push(dispatcher);
    const r = await request(`${base}${STATUS}`, { headers: auth, dispatcher });
    return { code: r.statusCode, body: await r.body.json() };
  }

  it('accepts the whitelisted source 127.0.0.1', async () => {
    const r = await status('127.0.0.1');
    expect(r.code).toBe(200);
  });

  it('refuses the same key from 127.0.0.2 with 401 Not authorised', async () => {
    const r = await status('127.0.0.2');
    expect(r.code).toBe(401);
    expect(r.body).toEqual(NOT_AUTHORISED);
  });
});
