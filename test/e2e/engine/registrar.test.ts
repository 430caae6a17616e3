/**
 * Registrar end to end: test phones and raw REGISTERs → drachtio-lite → drachtio-srf → engine → SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipStack } from '../../../src/sip/index.js';
import { demoConfig, startEngineHarness, type EngineHarness } from '../../support/engine-harness.js';
import { boundContacts, rawStack, register, splitChallenges } from '../../support/engine-sip.js';

describe('registrar', () => {
  let h: EngineHarness;
  let raw: SipStack;

  beforeAll(async () => {
    const config = demoConfig();
    // bob-desk opts in to SHA-256 (RFC 8760): SHA-256 first, MD5 second.
    config.users.find((u) => u.number === '1002')!.devices.find((d) => d.username === 'bob-desk')!.digest = 'sha256';
    h = await startEngineHarness({ config, engine: { registrar: { maxFailuresPerMinute: 5 } } });
    raw = await rawStack();
  });
  afterAll(async () => {
    await raw?.close();
    await h?.close({ removeDb: true });
  });

  it('challenges a REGISTER without credentials with 401 and one MD5 challenge by default', async () => {
    const { res } = await register(raw, h.sip, { username: 'alice-desk', domain: h.domain, contacts: ['<sip:a@127.0.0.1:5999>'] });
    expect(res?.status).toBe(401);
    const challenges = res!.getAll('www-authenticate');
    expect(challenges).toHaveLength(1);
    expect(challenges[0]).toMatch(/algorithm=MD5/);
    expect(challenges[0]).toContain(`realm="${h.domain}"`);
    expect(challenges[0]).toMatch(/qop="auth"/);
  });

  it('registers a test phone with MD5 digest and counts the device', async () => {
    const phone = await h.phone('alice-desk', 'alice-desk-pw');
    const r = await phone.register({ expires: 300 });
    expect(r.ok).toBe(true);
    expect((await h.engine.status()).registered_devices).toBeGreaterThanOrEqual(1);
    const rows = await h.store.listRegistrations('alice-desk');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.source_address).toBe('127.0.0.1');
    expect(rows[0]!.source_port).toBe(phone.endpoint.port);
    expect(rows[0]!.transport).toBe('udp');
  });

  it('offers a device that opted in SHA-256 first and MD5 second, one per header line, and accepts SHA-256 (RFC 8760)', async () => {
    const challenge = await register(raw, h.sip, { username: 'bob-desk', domain: h.domain, contacts: ['<sip:bob@127.0.0.1:5998>'] });
    const lines = challenge.res!.getAll('www-authenticate');
    expect(lines.map((l) => /algorithm=([\w-]+)/.exec(l)?.[1])).toEqual(['SHA-256', 'MD5']);
    expect(lines.flatMap(splitChallenges)).toEqual(lines);
    const { res } = await register(raw, h.sip, { username: 'bob-desk', password: 'bob-desk-pw', domain: h.domain, contacts: ['<sip:bob@127.0.0.1:5998>'], expires: 120, algorithm: 'SHA-256' });
    expect(res?.status).toBe(200);
    expect(boundContacts(res)).toEqual([{ uri: 'sip:bob@127.0.0.1:5998', expires: 120 }]);
  });

  it('keeps several contacts per device, each with its own expiry from the Expires param or header, and lists them all', async () => {
    const callId = 'multi-contact-1';
    const { res } = await register(raw, h.sip, {
      username: 'bob-soft', password: 'bob-soft-pw', domain: h.domain, callId, expires: 600,
      contacts: ['<sip:soft1@127.0.0.1:6001>;expires=90', '<sip:soft2@127.0.0.1:6002>'],
    });
    expect(res?.status).toBe(200);
    const bound = boundContacts(res).sort((a, b) => a.uri.localeCompare(b.uri));
    expect(bound).toEqual([{ uri: 'sip:soft1@127.0.0.1:6001', expires: 90 }, { uri: 'sip:soft2@127.0.0.1:6002', expires: 600 }]);
    // A query (no Contact) lists the bindings.
    const q = await register(raw, h.sip, { username: 'bob-soft', password: 'bob-soft-pw', domain: h.domain });
    expect(boundContacts(q.res)).toHaveLength(2);
  });

  it('refreshes a binding, shortens one above the maximum, and unregisters one contact with expires=0', async () => {
    const base = { username: 'bob-soft', password: 'bob-soft-pw', domain: h.domain, callId: 'multi-contact-1' };
    const refresh = await register(raw, h.sip, { ...base, cseq: 10, contacts: ['<sip:soft1@127.0.0.1:6001>'], expires: 999_999 });
    expect(refresh.res?.status).toBe(200);
    expect(boundContacts(refresh.res).find((c) => c.uri.includes('soft1'))!.expires).toBe(7200);
    const un = await register(raw, h.sip, { ...base, cseq: 20, contacts: ['<sip:soft1@127.0.0.1:6001>'], expires: 0 });
    expect(boundContacts(un.res).map((c) => c.uri)).toEqual(['sip:soft2@127.0.0.1:6002']);
  });

  it('answers 423 with Min-Expires to a too-brief interval', async () => {
    const { res } = await register(raw, h.sip, { username: 'bob-soft', password: 'bob-soft-pw', domain: h.domain, contacts: ['<sip:soft3@127.0.0.1:6003>'], expires: 10 });
    expect(res?.status).toBe(423);
    expect(res?.get('min-expires')).toBe('60');
  });

  it('removes every binding with Contact: * and Expires: 0, and refuses * without Expires 0', async () => {
    const base = { username: 'bob-soft', password: 'bob-soft-pw', domain: h.domain };
    const bad = await register(raw, h.sip, { ...base, contacts: '*', expires: 60 });
    expect(bad.res?.status).toBe(400);
    const { res } = await register(raw, h.sip, { ...base, contacts: '*', expires: 0 });
    expect(res?.status).toBe(200);
    expect(res?.get('contact')).toBeUndefined();
    expect(await h.store.listRegistrations('bob-soft')).toEqual([]);
  });

  it('gives a wrong password and an unknown user the same 403 (no enumeration)', async () => {
    const wrong = await register(raw, h.sip, { username: 'alice-mobile', password: 'nope', domain: h.domain, contacts: ['<sip:x@127.0.0.1:6010>'] });
    const unknown = await register(raw, h.sip, { username: 'mallory', password: 'nope', domain: h.domain, contacts: ['<sip:x@127.0.0.1:6010>'] });
    expect(wrong.res?.status).toBe(403);
    expect(unknown.res?.status).toBe(403);
    expect(unknown.res?.reason).toBe(wrong.res?.reason);
    expect([...unknown.res!.headers.map((f) => f.name.toLowerCase())].sort()).toEqual([...wrong.res!.headers.map((f) => f.name.toLowerCase())].sort());
  });

  it('refuses a source outright after repeated failures, even with the right password', async () => {
    const other = await rawStack();
    try {
      for (let i = 0; i < 5; i++) await register(other, h.sip, { username: 'alice-mobile', password: 'bad', domain: h.domain, contacts: ['<sip:y@127.0.0.1:6011>'] });
      // The limiter counts per (source, username): this source is now blocked for alice-mobile.
      const good = await register(other, h.sip, { username: 'alice-mobile', password: 'alice-mobile-pw', domain: h.domain, contacts: ['<sip:y@127.0.0.1:6011>'] });
      expect(good.res?.status).toBe(403);
    } finally {
      await other.close();
    }
  });
});
