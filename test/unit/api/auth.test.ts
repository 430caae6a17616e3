import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { clientAddress, compileAddressList, createRateLimiter, isValidBlock, keyMatches, parseAddress } from '../../../src/api/auth.js';

describe('parseAddress', () => {
  it.each([
    ['127.0.0.1', 0xffff7f000001n],
    ['::ffff:127.0.0.1', 0xffff7f000001n],
    ['::ffff:7f00:1', 0xffff7f000001n],
    ['::1', 1n],
    ['::', 0n],
    ['[::1]', 1n],
    ['fe80::1%eth0', 0xfe800000000000000000000000000001n],
    ['2001:db8::8:800:200c:417a', 0x20010db80000000000080800200c417an],
    ['1:2:3:4:5:6:7:8', 0x00010002000300040005000600070008n],
    ['1:2:3:4:5:6:1.2.3.4', 0x00010002000300040005000601020304n],
  ])('reads %s', (text, value) => {
    expect(parseAddress(text)).toBe(value);
  });

  it.each(['', 'localhost', '1.2.3', '256.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3', 'gggg::1'])('rejects %j', (text) => {
    expect(parseAddress(text)).toBeNull();
  });
});

describe('whitelist matching', () => {
  const list = compileAddressList(['127.0.0.1/8', '::1', '2001:db8::/32', '192.168.1.10', '10.0.0.0/31']);

  it.each([
    ['127.0.0.1', true], ['127.255.0.9', true], ['::ffff:127.0.0.2', true], ['::1', true], ['2001:db8:ffff::1', true],
    ['192.168.1.10', true], ['::ffff:192.168.1.10', true], ['10.0.0.1', true],
    ['128.0.0.1', false], ['::2', false], ['2001:db9::1', false], ['192.168.1.11', false], ['10.0.0.2', false], ['garbage', false], ['', false],
  ])('%s → %s', (address, expected) => {
    expect(list.matches(address)).toBe(expected);
  });

  it('matches IPv4 clients against IPv4-mapped IPv6 entries and ::/0', () => {
    expect(compileAddressList(['::ffff:0:0/96']).matches('8.8.8.8')).toBe(true);
    expect(compileAddressList(['::/0']).matches('8.8.8.8')).toBe(true);
    expect(compileAddressList(['0.0.0.0/0']).matches('2001:db8::1')).toBe(false);
  });

  it('never matches an undefined address, and ignores invalid entries', () => {
    expect(list.matches(undefined)).toBe(false);
    expect(compileAddressList(['nonsense', '10.0.0.0/33']).matches('10.0.0.1')).toBe(false);
  });

  it.each([['10.0.0.0/8', true], ['::1/128', true], ['10.0.0.0/33', false], ['::1/129', false], ['10.0.0.0/x', false], ['host.example', false]])(
    'isValidBlock(%s) = %s', (entry, ok) => {
      expect(isValidBlock(entry)).toBe(ok);
    });
});

describe('clientAddress (X-Forwarded-For)', () => {
  const trusted = compileAddressList(['10.0.0.0/8']);

  it('uses the socket peer when it is not a trusted proxy (X-Forwarded-For is not believed)', () => {
    expect(clientAddress('203.0.113.9', '127.0.0.1', trusted)).toBe('203.0.113.9');
  });

  it('believes a trusted proxy, hop by hop from the right', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.7, 10.0.0.2', trusted)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.1', ['1.1.1.1, 198.51.100.7', '10.0.0.3'], trusted)).toBe('198.51.100.7');
  });

  it('stops at garbage and when the header runs out', () => {
    expect(clientAddress('10.0.0.1', 'not-an-ip', trusted)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '10.0.0.9', trusted)).toBe('10.0.0.9');
    expect(clientAddress('10.0.0.1', undefined, trusted)).toBe('10.0.0.1');
  });

  it('never believes the header with no trusted proxies', () => {
    expect(clientAddress('127.0.0.1', '8.8.8.8', compileAddressList([]))).toBe('127.0.0.1');
  });
});

describe('keyMatches', () => {
  it('accepts only the exact key', () => {
    expect(keyMatches('secret', 'secret')).toBe(true);
    expect(keyMatches('secreT', 'secret')).toBe(false);
    expect(keyMatches('secret ', 'secret')).toBe(false);
    expect(keyMatches('', 'secret')).toBe(false);
    expect(keyMatches(undefined, 'secret')).toBe(false);
    expect(keyMatches(['secret', 'secret'], 'secret')).toBe(false);
  });

  it('refuses everything when no key is configured', () => {
    expect(keyMatches('', '')).toBe(false);
  });
});

describe('rate limiter (token bucket per key)', () => {
  it('allows perMinute requests at once, then refuses with the seconds until the next token', () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter(clock);
    for (let i = 0; i < 3; i++) expect(limiter.take('k', 3)).toEqual({ ok: true });
    expect(limiter.take('k', 3)).toEqual({ ok: false, retryAfterS: 20 });
    clock.advance(19_000);
    expect(limiter.take('k', 3)).toEqual({ ok: false, retryAfterS: 1 });
    clock.advance(1_000);
    expect(limiter.take('k', 3)).toEqual({ ok: true });
  });

  it('keeps one bucket per key', () => {
    const limiter = createRateLimiter(new ManualClock());
    expect(limiter.take('a', 1)).toEqual({ ok: true });
    expect(limiter.take('a', 1).ok).toBe(false);
    expect(limiter.take('b', 1)).toEqual({ ok: true });
  });

  it('treats a limit of 0 as unlimited', () => {
    const limiter = createRateLimiter(new ManualClock());
    for (let i = 0; i < 1000; i++) expect(limiter.take('k', 0).ok).toBe(true);
  });
});
