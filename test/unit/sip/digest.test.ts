import { describe, expect, it } from 'vitest';
import { computeAuthorization, computeHa1, DigestServer, splitChallenges } from '../../../src/sip/digest.js';
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

  it('MUST keep replay tracking bounded per user without ever forgetting a live nonce: older ones are retired (stale)', () => {
    const clock = new ManualClock();
    const server = new DigestServer({ realm: 'r', clock, maxNoncesPerUser: 8 });
    const auth = (ch: string, username: string, password: string, nc = 1) => computeAuthorization(ch, { username, password, method: 'REGISTER', uri: 'sip:r', nc, cnonce: 'c0ffee' });
    const bobCh = server.challenge();
    expect(server.verify(auth(bobCh, 'bob', 'builder'), 'REGISTER', lookup).ok).toBe(true);
    const first = server.challenge();
    const captured = auth(first, 'alice', 'wonderland');
    expect(server.verify(captured, 'REGISTER', lookup).ok).toBe(true);
    for (let i = 0; i < 500; i++) {
      clock.advance(1);
      expect(server.verify(auth(server.challenge(), 'alice', 'wonderland'), 'REGISTER', lookup).ok).toBe(true);
    }
    expect(server.trackedNonces).toBeLessThanOrEqual(8 + 1);
    // The captured first answer is not replayable although its nc record is gone: its nonce is retired.
    expect(server.verify(captured, 'REGISTER', lookup)).toEqual({ ok: false, reason: 'stale' });
    expect(server.verify(auth(first, 'alice', 'wonderland', 2), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'stale' });
    // Another user's live nonce was not touched by alice's churn.
    expect(server.verify(auth(bobCh, 'bob', 'builder', 1), 'REGISTER', lookup)).toEqual({ ok: false, reason: 'replay' });
    expect(server.verify(auth(bobCh, 'bob', 'builder', 2), 'REGISTER', lookup).ok).toBe(true);
  });

  it('MUST refuse a response without qop=auth (RFC 2069 form, replayable for the nonce\'s life) as malformed', () => {
    const { server } = make();
    const ch = server.challenge().replace(', qop="auth"', '');
    const noQop = answer(ch, 'alice', 'wonderland');
    expect(noQop).not.toContain('qop=');
    expect(server.verify(noQop, 'REGISTER', lookup)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('MUST check the digest uri against the Request-URI (RFC 2617 §3.2.2.5), comparing per RFC 3261 §19.1.4', () => {
    const { server } = make();
    const ch = server.challenge();
    const a = answer(ch, 'alice', 'wonderland');
    expect(server.verify(a, 'REGISTER', lookup, { requestUri: 'sip:other.example.com' })).toEqual({ ok: false, reason: 'uri-mismatch' });
    expect(server.verify(a, 'REGISTER', lookup, { requestUri: 'sip:PBX.example.com' })).toEqual({ ok: true, username: 'alice' });
  });

  it('MUST verify, among several credentials, the one answering a nonce it issued (RFC 7616 §3.4)', () => {
    const { server, clock } = make();
    const foreign = answer(new DigestServer({ realm: 'pbx.example.com', clock }).challenge(), 'alice', 'wonderland');
    const otherRealm = answer(server.challenge().replace('pbx.example.com', 'carrier.example.net'), 'alice', 'wonderland');
    const ours = answer(server.challenge({ algorithm: 'SHA-256' }), 'alice', 'wonderland');
    expect(server.verify(`${foreign}, ${otherRealm}, ${ours}`, 'REGISTER', lookup)).toEqual({ ok: true, username: 'alice' });
    expect(splitChallenges(`${foreign}, ${ours}`)).toEqual([foreign, ours]);
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
