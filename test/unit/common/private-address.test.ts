import { describe, expect, it } from 'vitest';
import { nonPublicAddressKind, nonPublicHostKind } from '../../../src/common/private-address.js';

describe('nonPublicAddressKind (SSRF targets)', () => {
  it.each([
    ['127.0.0.1', 'a loopback'], ['10.1.2.3', 'a private'], ['172.31.0.1', 'a private'], ['192.168.1.1', 'a private'],
    ['169.254.169.254', 'a link-local'], ['100.64.0.1', 'a shared (carrier-grade NAT)'], ['0.0.0.0', 'an unspecified ("this network")'],
    ['::1', 'a loopback'], ['[::1]', 'a loopback'], ['::', 'an unspecified'], ['fd00::1', 'a unique local (private)'], ['fe80::1%eth0', 'a link-local'],
    // IPv4 inside IPv6 is judged by the IPv4 address, whatever the spelling.
    ['::ffff:127.0.0.1', 'a loopback'], ['::ffff:7f00:1', 'a loopback'], ['0:0:0:0:0:ffff:7f00:1', 'a loopback'], ['64:ff9b::a00:1', 'a private'],
  ])('%s is %s address', (address, kind) => {
    expect(nonPublicAddressKind(address)).toBe(kind);
  });

  it('passes public addresses and non-addresses', () => {
    for (const a of ['8.8.8.8', '172.32.0.1', '2001:4860:4860::8888', '64:ff9b::808:808', 'crm.example.com', '']) expect(nonPublicAddressKind(a)).toBeNull();
  });

  it('names localhost and its subdomains as loopback without DNS (RFC 6761 §6.3)', () => {
    expect(nonPublicHostKind('LOCALHOST.')).toBe('a loopback');
    expect(nonPublicHostKind('api.localhost')).toBe('a loopback');
    expect(nonPublicHostKind('example.com')).toBeNull();
  });
});
