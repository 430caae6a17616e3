import { describe, expect, it } from 'vitest';
import {
  formatAuthParams, formatNameAddr, formatVia, generateBranch, generateCallId, generateTag, getTag, parseAuthParams,
  parseCSeq, parseNameAddr, parseParams, parseVia, setTag,
} from '../../../src/sip/headers.js';

describe('Via (RFC 3261 §20.42)', () => {
  it('MUST parse protocol, transport, sent-by and params, allowing LWS around the slashes', () => {
    expect(parseVia('SIP / 2.0 / UDP first.example.com: 4000;ttl=16 ;maddr=224.2.0.1 ;branch=z9hG4bKa7c6a8dlze.1')).toEqual({
      protocol: 'SIP/2.0', transport: 'UDP', host: 'first.example.com', port: 4000,
      params: { ttl: '16', maddr: '224.2.0.1', branch: 'z9hG4bKa7c6a8dlze.1' },
    });
  });
  it('MUST parse IPv6 sent-by, valueless rport and received', () => {
    const v = parseVia('SIP/2.0/TCP [2001:db8::9:1]:5060;rport;received=2001:db8::9:255;branch=z9hG4bK1');
    expect(v).toEqual({ protocol: 'SIP/2.0', transport: 'TCP', host: '2001:db8::9:1', port: 5060, params: { rport: null, received: '2001:db8::9:255', branch: 'z9hG4bK1' } });
    expect(formatVia(v!)).toBe('SIP/2.0/TCP [2001:db8::9:1]:5060;rport;received=2001:db8::9:255;branch=z9hG4bK1');
  });
  it('MUST reject a Via without sent-by or with empty params', () => {
    for (const bad of ['SIP/2.0/UDP', 'SIP/2.0 host', 'SIP/2.0/UDP host;;', 'SIP/2.0/UDP host:70000', 'SIP/2.0/UDPhost']) expect(parseVia(bad), bad).toBeUndefined();
  });
});

describe('name-addr / addr-spec (RFC 3261 §20.10, §25.1)', () => {
  it('MUST parse a quoted display name with escapes, the URI inside <> and the header params', () => {
    expect(parseNameAddr('"J Rosenberg \\\\\\"" <sip:jdrosen@example.com> ; tag = 98asjd8')).toEqual({
      displayName: 'J Rosenberg \\"', uri: 'sip:jdrosen@example.com', params: { tag: '98asjd8' },
    });
  });
  it('MUST treat params after a bare addr-spec as header params, not URI params', () => {
    expect(parseNameAddr('sip:alice@atlanta.com;tag=88sja8x')).toEqual({ uri: 'sip:alice@atlanta.com', params: { tag: '88sja8x' } });
  });
  it('MUST keep URI params inside <> with the URI', () => {
    expect(parseNameAddr('<sip:ss1.example.com;lr>')).toEqual({ uri: 'sip:ss1.example.com;lr', params: {} });
  });
  it('MUST accept an unquoted token display name and reject non-token characters', () => {
    expect(parseNameAddr('Bob Smith <sip:bob@biloxi.com>')?.displayName).toBe('Bob Smith');
    expect(parseNameAddr('Bell, Alexander <sip:a.g.bell@example.com>')).toBeUndefined();
  });
  it('MUST reject an addr-spec with ? or , that is not enclosed in <>', () => {
    expect(parseNameAddr('sip:user@example.com?Route=%3Csip:x%3E')).toBeUndefined();
  });
  it('MUST format in the <> form with a quoted display name', () => {
    expect(formatNameAddr({ displayName: 'Al "x"', uri: 'sip:a@b', params: { tag: '1', lr: null } })).toBe('"Al \\"x\\"" <sip:a@b>;tag=1;lr');
    expect(formatNameAddr({ uri: 'sip:a@b', params: {} })).toBe('<sip:a@b>');
  });
});

describe('tags (RFC 3261 §19.3)', () => {
  it('MUST read the tag from header params, not from URI params inside <>', () => {
    expect(getTag('<sip:a@b;tag=uri>;tag=hdr')).toBe('hdr');
    expect(getTag('<sip:a@b;tag=uri>')).toBeUndefined();
    expect(getTag('sip:a@b;tag=x')).toBe('x');
    expect(getTag('"a;tag=no>" <sip:a@b>')).toBeUndefined();
  });
  it('MUST add a tag when missing and replace it when present', () => {
    expect(setTag('Bob <sip:bob@biloxi.com>', 'a6c85cf')).toBe('Bob <sip:bob@biloxi.com>;tag=a6c85cf');
    expect(setTag('<sip:b@x>;tag=old;x=1', 'new')).toBe('<sip:b@x>;tag=new;x=1');
  });
  it('MUST generate unique branch (with the z9hG4bK cookie), tag and Call-ID values', () => {
    const branches = new Set(Array.from({ length: 1000 }, generateBranch));
    expect(branches.size).toBe(1000);
    for (const b of branches) expect(b).toMatch(/^z9hG4bK[A-Za-z0-9]{16}$/);
    expect(generateTag()).toMatch(/^[0-9a-f]{16}$/);
    expect(generateCallId('pbx.example.com')).toMatch(/^[A-Za-z0-9]{20,}@pbx\.example\.com$/);
    expect(generateCallId()).not.toContain('@');
  });
});

describe('CSeq and params', () => {
  it('MUST parse sequence number and method, and reject numbers over 32 bits', () => {
    expect(parseCSeq('  314159   INVITE ')).toEqual({ seq: 314159, method: 'INVITE' });
    expect(parseCSeq('4294967295 ACK')).toEqual({ seq: 4294967295, method: 'ACK' });
    for (const bad of ['4294967296 INVITE', 'INVITE', '1', '-1 INVITE', '1 INVITE x']) expect(parseCSeq(bad), bad).toBeUndefined();
  });
  it('MUST parse quoted parameter values with semicolons inside', () => {
    expect(parseParams(';a="x;y";b;c=3')).toEqual({ a: '"x;y"', b: null, c: '3' });
  });
});

describe('auth params (RFC 2617 §3.2)', () => {
  it('MUST parse a challenge with quoted commas and folded whitespace, lower-casing names', () => {
    const p = parseAuthParams('Digest realm="atlanta.example.com", qop="auth,auth-int",\r\n nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, Algorithm=MD5');
    expect(p).toEqual({ scheme: 'Digest', params: { realm: 'atlanta.example.com', qop: 'auth,auth-int', nonce: 'ea9c8e88df84f1cec4341ae6cbe5a359', opaque: '', stale: 'FALSE', algorithm: 'MD5' } });
  });
  it('MUST format with quotes on the quoted-string keys only', () => {
    expect(formatAuthParams('Digest', { realm: 'r', nonce: 'n', algorithm: 'MD5', qop: 'auth' })).toBe('Digest realm="r", nonce="n", algorithm=MD5, qop="auth"');
    expect(formatAuthParams('Digest', { username: 'u', qop: 'auth', nc: '00000001' }, ['username'])).toBe('Digest username="u", qop=auth, nc=00000001');
  });
});
