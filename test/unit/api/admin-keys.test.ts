import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { adminAuth, auth, makeHarness, testConfig, type Harness } from './harness.js';

const A = '/api/admin';

describe('admin keys and the audit log (inject)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness();
  });
  afterAll(async () => h.close());

  it('creates a key shown once, stores only its digest, lists it without the key, and revokes it at once', async () => {
    const created = await h.app.inject({ method: 'POST', url: `${A}/admin-keys`, headers: adminAuth, payload: { name: 'ops laptop' } });
    expect(created.statusCode).toBe(201);
    const { key, key_id } = created.json().data as { key: string; key_id: string };
    expect(key).toMatch(/^sbadm_[0-9a-z]{40}$/);
    const stored = await h.store.listAdminKeys();
    expect(stored.map((k) => k.key_hash)).toEqual([createHash('sha256').update(key).digest('hex')]);
    const bearer = { authorization: `Bearer ${key}` };
    expect((await h.app.inject({ url: `${A}/users`, headers: bearer })).statusCode).toBe(200);
    const list = await h.app.inject({ url: `${A}/admin-keys`, headers: bearer });
    expect(list.body).not.toContain(key);
    expect(list.body).not.toContain(stored[0]!.key_hash);
    expect(list.json().data).toEqual([{ key_id, name: 'ops laptop', created_at: expect.any(Number), last_used_at: expect.any(Number), revoked_at: null }]);
    expect((await h.app.inject({ url: '/api/integration/v2/get-system-status', headers: { token: key } })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'DELETE', url: `${A}/admin-keys/${key_id}`, headers: adminAuth })).statusCode).toBe(200);
    expect((await h.app.inject({ url: `${A}/users`, headers: bearer })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'DELETE', url: `${A}/admin-keys/${key_id}`, headers: adminAuth })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'POST', url: `${A}/admin-keys`, headers: adminAuth, payload: {} })).statusCode).toBe(400);
  });

  it('audits each change with the key, source, method, path, status and the body with secrets redacted; pages newest first', async () => {
    await h.app.inject({ method: 'PATCH', url: `${A}/devices/alice-desk`, headers: adminAuth, payload: { password: 'brand-new-secret' } });
    await h.app.inject({ method: 'PATCH', url: `${A}/webhook`, headers: adminAuth, payload: { secret_token: 'tok-secret-2' } });
    await h.app.inject({ url: `${A}/users`, headers: adminAuth });
    const page = await h.app.inject({ url: `${A}/audit?limit=2`, headers: adminAuth });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('brand-new-secret');
    expect(page.body).not.toContain('tok-secret-2');
    const [last, before] = page.json().data;
    expect(last).toMatchObject({ key_id: null, key_name: 'bootstrap (api.admin_key)', source_ip: '127.0.0.1', method: 'PATCH', path: `${A}/webhook`, status: 200, changes: { secret_token_set: true } });
    expect(before).toMatchObject({ method: 'PATCH', path: `${A}/devices/alice-desk`, changes: { password_set: true } });
    expect(Date.parse(last.at)).not.toBeNaN();
    const next = await h.app.inject({ url: `${A}/audit?offset=2&limit=2`, headers: adminAuth });
    // Before them: the refused create (400) and the second revoke (404) of the first test, audited with their status.
    expect(next.json().data.map((e: any) => [e.method, e.status])).toEqual([['POST', 400], ['DELETE', 404]]);
    expect((await h.app.inject({ url: `${A}/audit?limit=0`, headers: adminAuth })).statusCode).toBe(400);
  });

  it('refuses to revoke the last key when there is no bootstrap key (409)', async () => {
    const h2 = await makeHarness(testConfig((c) => { c.api.admin_key = null; }));
    try {
      const k = await h2.app.adminKeys.create('only');
      const r = await h2.app.inject({ method: 'DELETE', url: `${A}/admin-keys/${k.key_id}`, headers: { authorization: `Bearer ${k.key}` } });
      expect(r.statusCode).toBe(409);
      expect((await h2.app.inject({ url: `${A}/users`, headers: auth })).statusCode).toBe(401);
    } finally {
      await h2.close();
    }
  });
});
