/**
 * The admin scope is decided by the route the router matched, not by the raw URL: the router decodes
 * percent-escapes, so a spelling like `/api/%61dmin/devices` reaches an admin route and must need an admin key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, API_KEY, makeHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(async () => h.close());

describe('admin scope by matched route', () => {
  it.each(['/api/admin/devices', '/api/%61dmin/devices', '/api/admin/%64evices', '/api/admin/./devices', '/api/integration/v2/../../admin/devices'])(
    'answers the integration key with 401 on %s', async (url) => {
      const r = await h.app.inject({ url, headers: { token: API_KEY } });
      expect([401, 404]).toContain(r.statusCode);
      expect(r.body).not.toContain('alice-desk');
    });

  it('still opens the same route for an admin key, however it is spelled', async () => {
    expect((await h.app.inject({ url: '/api/%61dmin/devices', headers: adminAuth })).statusCode).toBe(200);
  });
});
