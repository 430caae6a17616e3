import { describe, expect, it } from 'vitest';
import { checkE164, checkHost, checkHttpUrl, checkIpOrCidr, checkTimeZone, editDistance } from '../../../src/config/formats.js';

describe('value formats', () => {
  it.each(['127.0.0.1', '127.0.0.1/8', '0.0.0.0/0', '::1', '::1/128', '2001:db8::/32', 'fe80::1'])('accepts address or CIDR %s', (v) => {
    expect(checkIpOrCidr(v)).toBeNull();
  });
  it.each(['localhost', '10.0.0.0/33', '::/129', '1.2.3.4/', '1.2.3.4/a', '300.0.0.1', '1.2.3.4/8/8', ''])('rejects address or CIDR %j', (v) => {
    expect(checkIpOrCidr(v)).not.toBeNull();
  });
  it.each([['+61390000000', true], ['+1', false], ['61390000000', false], ['+0123', false], ['+1234567890123456', false]])('E.164 %s → %s', (v, ok) => {
    expect(checkE164(v as string) === null).toBe(ok);
  });
  it.each([['gw.example.com', true], ['127.0.0.1', true], ['::1', true], ['-bad.example', false], ['a_b', false], ['a..b', false]])('host %s → %s', (v, ok) => {
    expect(checkHost(v as string) === null).toBe(ok);
  });
  it.each([['http://h/x', true], ['https://h:8443/x?y', true], ['ftp://h/x', false], ['h/x', false], ['http://', false]])('http URL %s → %s', (v, ok) => {
    expect(checkHttpUrl(v as string) === null).toBe(ok);
  });
  it('knows IANA zones', () => {
    expect(checkTimeZone('Australia/Melbourne')).toBeNull();
    expect(checkTimeZone('UTC')).toBeNull();
    expect(checkTimeZone('Australia/Melburn')).not.toBeNull();
  });
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('numbres', 'numbers')).toBe(1);
    expect(editDistance('pasword', 'password')).toBe(1);
    expect(editDistance('abc', 'xyz')).toBe(3);
  });
});

describe('more value formats', () => {
  it('checks e-mail addresses and signing secrets', async () => {
    const { checkEmail, checkSigningSecret } = await import('../../../src/config/formats.js');
    expect(checkEmail('ann@example.com')).toBeNull();
    expect(checkEmail('ann@example')).not.toBeNull();
    expect(checkSigningSecret(`whsec_${Buffer.alloc(32, 7).toString('base64')}`)).toBeNull();
    expect(checkSigningSecret('whsec_c2hvcnQ=')).toBe("must be 'whsec_' followed by base64 of at least 24 bytes");
    expect(checkSigningSecret('secret')).not.toBeNull();
  });
});
