import { describe, expect, it } from 'vitest';
import { formatUri, parseUri, uriEquals } from '../../../src/sip/uri.js';

describe('parseUri / formatUri (RFC 3261 §19.1, RFC 3966)', () => {
  it('MUST parse user, password, host, port, params and headers', () => {
    expect(parseUri('sips:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent')).toEqual({
      scheme: 'sips', user: 'alice', password: 'secretword', host: 'atlanta.com', port: 5061,
      params: { transport: 'tcp', lr: null }, headers: { subject: 'project x', priority: 'urgent' },
    });
  });

  it('MUST parse an IPv6 reference and store the host without brackets', () => {
    const u = parseUri('sip:bob@[2001:db8::10]:5070;maddr=[2001:db8::1]');
    expect(u).toMatchObject({ host: '2001:db8::10', port: 5070, params: { maddr: '[2001:db8::1]' } });
    expect(formatUri(u!)).toBe('sip:bob@[2001:db8::10]:5070;maddr=[2001:db8::1]');
  });

  it('MUST decode escapes and re-escape only what the grammar forbids', () => {
    const u = parseUri('sip:%61lice%20smith@atlanta.com');
    expect(u?.user).toBe('alice smith');
    expect(formatUri(u!)).toBe('sip:alice%20smith@atlanta.com');
    expect(formatUri(parseUri('sip:+1-212-555-1212;phone-context=x@gw.example.com;user=phone')!)).toBe('sip:+1-212-555-1212;phone-context=x@gw.example.com;user=phone');
  });

  it('MUST parse tel URIs with the number as host', () => {
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')).toEqual({
      scheme: 'tel', host: '+1-201-555-0123', params: { 'phone-context': 'example.com' }, headers: {},
    });
    expect(formatUri(parseUri('tel:+358-555-1234567')!)).toBe('tel:+358-555-1234567');
  });

  it('MUST reject other schemes, bad ports, spaces and broken escapes', () => {
    for (const bad of ['http://x', 'sip:', 'sip:a@', 'sip:a@host:99999', 'sip:a@host:x', 'sip:a b@host', 'sip:%zz@host', 'sip:a@[::1', 'mailto:a@b']) {
      expect(parseUri(bad), bad).toBeUndefined();
    }
  });

  it('MUST round-trip through formatUri', () => {
    for (const s of ['sip:alice@atlanta.com', 'sip:atlanta.com:5060;lr', 'sips:bob@biloxi.com;transport=tls', 'sip:[::1]:5060', 'sip:carol@chicago.com?subject=hi']) {
      expect(formatUri(parseUri(s)!)).toBe(s);
    }
  });
});

describe('uriEquals (RFC 3261 §19.1.4)', () => {
  const eq = (a: string, b: string) => uriEquals(a, b);
  it('MUST treat these pairs as equivalent', () => {
    expect(eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp')).toBe(true);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5')).toBe(true);
    expect(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5')).toBe(true);
    expect(eq('sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com')).toBe(true);
    expect(eq('sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x')).toBe(true);
  });
  it('MUST treat these pairs as different', () => {
    expect(eq('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp')).toBe(false);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting')).toBe(false);
    expect(eq('sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4')).toBe(false);
    expect(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off')).toBe(false);
  });
});
