import { describe, expect, it } from 'vitest';
import { computeAuthorization, computeHa1, DigestServer } from '../../../src/sip/digest.js';
import { parseAuthParams } from '../../../src/sip/headers.js';
import { ManualClock } from '../../../src/common/clock.js';

// RFC 7616 §3.9.1: the Mufasa example.
const RFC7616 = {
  challenge: 'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=%ALG%, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  opts: { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' },
};

describe('computeAuthorization (client side)', () => {
  it('MUST match the RFC 7616 §3.9.1 MD5 response vector', () => {
    const v = computeAuthorization(RFC7616.challenge.replace('%ALG%', 'MD5'), RFC7616.opts);
    const p = parseAuthParams(v).params;
    expect(p).toMatchObject({ response: '8ca523f5e9506fed4657c9700eebdbec', qop: 'auth', nc: '00000001', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS' });
  });
  it('MUST match the RFC 7616 §3.9.1 SHA-256 response vector', () => {
    const v = computeAuthorization(RFC7616.challenge.replace('%ALG%', 'SHA-256'), RFC7616.opts);
    expect(parseAuthParams(v).params['response']).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    expect(v).toContain('algorithm=SHA-256');
  });
  it('MUST use the RFC 2069 form when the challenge offers no qop (RFC 2617 §3.2.2.1)', () => {
    const v = computeAuthorization('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"', { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html' });
    const p = parseAuthParams(v).params;
    expect(p['qop']).toBeUndefined();
    expect(p['response']).toBe('670fd8c2df070c60b045671b8b24ff02'); // RFC 2069 §2.4 example inputs; MD5(HA1:nonce:HA2)
  });
});

describe('DigestServer', () => {
  const users: Record<string, string> = { alice: 'wonderland', bob: 'builder' };
  const lookup = (u: string) => users[u];
  const make = (clock = new ManualClock()) => ({ clock, server: new DigestServer({ realm: 'pbx.example.com', clock, nonceTtlMs: 60_000 }) });
  const answer = (challenge: string, username: string, password: string, extra: { nc?: number; cnonce?: string; method?: string } = {}) =>
    computeAuthorization(challenge, { username, password, method: extra.method ?? 'REGISTER', uri: 'sip:pbx.example.com', ...extra });

  for (const algorithm of ['MD5', 'SHA-256'] as const) {
    it(`MUST accept a correct ${algorithm} response to its own challenge`, () => {
      const { server } = make();
      const ch = server.challenge({ algorithm });
      expect(ch).toMatch(new RegExp(`^Digest realm="pbx.example.com", nonce="[A-Za-z0-9_-]+", algorithm=${algorithm}, qop="auth"$`));
      expect(server.verify(answer(ch, 'alice', 'wonderland'), 'REGISTER', lookup)).toEqual({ ok: true, username: 'alice' });
    });
  }

  it('MUST accept a stored HA1 in place of the password', () => {
    const { server } = make();
    const ch = server.challenge({ algorithm: 'SHA-256' });
    const ha1 = computeHa1('alice', 'pbx.example.com', 'wonderland', 'SHA-256');
    expect(server.verify(answer(ch, 'alice', 'wonderland'), 'REGISTER', () => ha1).ok).toBe(true);
  });

  it('MUST reject a wrong password as bad-credentials and an unknown user as unknown-user', () => {
    const { server } = make();
    const ch = server.challenge();
    expect(server.verify(answer(ch, 'alice', 'nope'), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'bad-credentials' });
    expect(server.verify(answer(ch, 'mallory', 'x'), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'unknown-user' });
  });

  it('MUST reject a response computed for another method', () => {
    const { server } = make();
    const ch = server.challenge();
    expect(server.verify(answer(ch, 'alice', 'wonderland', { method: 'INVITE' }), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'bad-credentials' });
  });

  it('MUST answer stale once the nonce is older than its TTL (RFC 7616 §3.3), and offer stale=true', () => {
    const { server, clock } = make();
    const ch = server.challenge();
    clock.advance(60_001);
    expect(server.verify(answer(ch, 'alice', 'wonderland'), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'stale' });
    expect(server.challenge({ stale: true })).toContain('stale=true');
  });

  it('MUST NOT accept a nonce it did not issue: stale when the password is right (re-challenge), else bad-credentials', () => {
    const { server, clock } = make();
    const other = new DigestServer({ realm: 'pbx.example.com', clock });
    const ch = other.challenge();
    expect(server.verify(answer(ch, 'alice', 'wonderland'), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'stale' });
    expect(server.verify(answer(ch, 'alice', 'wrong'), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'bad-credentials' });
    const tampered = answer(server.challenge(), 'alice', 'wonderland').replace(/nonce="(.)/, (_m, c: string) => `nonce="${c === 'A' ? 'B' : 'A'}`);
    expect(server.verify(tampered, 'REGISTER', lookup).ok).toBe(false);
  });

  it('MUST reject a replayed nc for the same nonce, and accept a higher one', () => {
    const { server } = make();
    const ch = server.challenge();
    const first = answer(ch, 'alice', 'wonderland', { nc: 1, cnonce: 'abc' });
    expect(server.verify(first, 'REGISTER', lookup).ok).toBe(true);
    expect(server.verify(first, 'REGISTER', lookup)).toEqual({ ok: false, reason: 'replay' });
    expect(server.verify(answer(ch, 'alice', 'wonderland', { nc: 3, cnonce: 'abc' }), 'REGISTER', lookup).ok).toBe(true);
    expect(server.verify(answer(ch, 'alice', 'wonderland', { nc: 2, cnonce: 'abc' }), 'REGISTER', lookup).ok).toBe(true);
    expect(server.verify(answer(ch, 'alice', 'wonderland', { nc: 2, cnonce: 'abc' }), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'replay' });
  });

  it('MUST keep replay tracking bounded', () => {
    const clock = new ManualClock();
    const server = new DigestServer({ realm: 'r', clock, maxTrackedNonces: 50 });
    for (let i = 0; i < 500; i++) {
      const ch = server.challenge();
      expect(server.verify(computeAuthorization(ch, { username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:r' }), 'REGISTER', lookup).ok).toBe(true);
    }
    // No way to observe the map directly; a fresh nonce still works and memory did not grow unbounded (50 cap).
    expect(server.verify(computeAuthorization(server.challenge(), { username: 'bob', password: 'builder', method: 'REGISTER', uri: 'sip:r' }), 'REGISTER', lookup).ok).toBe(true);
  });

  it('MUST classify missing and malformed credentials', () => {
    const { server } = make();
    expect(server.verify(undefined, 'REGISTER', lookup)).toEqual({ ok: false, reason: 'missing' });
    expect(server.verify('', 'REGISTER', lookup)).toEqual({ ok: false, reason: 'missing' });
    expect(server.verify('Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'REGISTER', lookup)).toEqual({ ok: false, reason: 'malformed' });
    expect(server.verify('Digest username="alice"', 'REGISTER', lookup)).toEqual({ ok: false, reason: 'malformed' });
    expect(server.verify('Digest username="alice", realm="pbx.example.com", nonce="x", uri="sip:x", response="00", algorithm=SHA-512', 'REGISTER', lookup)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('MUST reject credentials for another realm', () => {
    const { server } = make();
    const ch = server.challenge().replace('pbx.example.com', 'evil.example.com');
    expect(server.verify(answer(ch, 'alice', 'wonderland'), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'bad-credentials' });
  });
});
