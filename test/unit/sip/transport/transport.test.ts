import { describe, expect, it } from 'vitest';
import { isReliable, SipStack, transportProtocolOf, TRANSPORT_PROTOCOLS } from '../../../../src/sip/index.js';

describe('Transport (one interface for every transport)', () => {
  it('calls every transport but UDP reliable (RFC 3261 §17.1.1.1, §18.2.2)', () => {
    expect(TRANSPORT_PROTOCOLS.filter((p) => isReliable(p))).toEqual(TRANSPORT_PROTOCOLS.filter((p) => p !== 'udp'));
    expect(isReliable('udp')).toBe(false);
    expect(isReliable('tcp')).toBe(true);
  });

  it('reads a transport name case-insensitively and refuses one it has no transport for', () => {
    expect(transportProtocolOf('TCP')).toBe('tcp');
    expect(transportProtocolOf('udp')).toBe('udp');
    expect(transportProtocolOf('sctp')).toBeUndefined();
    expect(transportProtocolOf(undefined)).toBeUndefined();
    expect(transportProtocolOf(null)).toBeUndefined();
  });

  it('binds UDP and TCP side by side as peers and refuses an unknown protocol naming it', async () => {
    const stack = await SipStack.create({ listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }] });
    try {
      expect(stack.listening.map((l) => l.transport)).toEqual(['udp', 'tcp']);
      expect(stack.listening.every((l) => l.port > 0)).toBe(true);
    } finally {
      await stack.close();
    }
    await expect(SipStack.create({ listen: [{ transport: 'sctp' as never, address: '127.0.0.1', port: 0 }] })).rejects.toThrow(/unsupported transport sctp/);
  });
});
