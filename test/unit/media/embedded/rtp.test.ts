import { describe, expect, it } from 'vitest';
import { looksLikeRtcp, marshalRtp, parseRtp, rewriteRtpHeader, rtpMarshalSize, type RtpPacket } from '../../../../src/media/embedded/rtp.js';

const base: RtpPacket = { marker: false, payloadType: 0, sequenceNumber: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x01020304, csrc: [], extension: null, payload: new Uint8Array([1, 2, 3, 4]), paddingBytes: 0 };

function roundTrip(p: RtpPacket): RtpPacket {
  const buf = marshalRtp(p);
  expect(buf.length).toBe(rtpMarshalSize(p));
  const r = parseRtp(buf);
  if (!r.ok) throw new Error(r.error.message);
  return { ...r.packet, payload: new Uint8Array(r.packet.payload), extension: r.packet.extension && { profile: r.packet.extension.profile, data: new Uint8Array(r.packet.extension.data) } };
}

describe('RTP header codec (RFC 3550 §5.1)', () => {
  it('parses the fixed header fields of a hand-built packet', () => {
    const buf = Buffer.from('80e01234deadbeef01020304aabb', 'hex');
    const r = parseRtp(buf);
    expect(r).toMatchObject({ ok: true, payloadOffset: 12, packet: { marker: true, payloadType: 96, sequenceNumber: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x01020304, csrc: [], extension: null, paddingBytes: 0 } });
    expect(r.ok && [...r.packet.payload]).toEqual([0xaa, 0xbb]);
  });

  it('round-trips CSRC lists, a header extension (§5.3.1) and padding', () => {
    const p: RtpPacket = { ...base, marker: true, payloadType: 8, csrc: [1, 0xffffffff, 42], extension: { profile: 0xbede, data: new Uint8Array([0x10, 0xff, 0, 0, 1, 2, 3, 4]) }, paddingBytes: 3 };
    expect(roundTrip(p)).toEqual(p);
    expect(roundTrip(base)).toEqual(base);
    expect(roundTrip({ ...base, csrc: Array.from({ length: 15 }, (_, i) => i) }).csrc).toHaveLength(15);
  });

  it('the payload of a parsed packet is a view into the datagram, past CSRCs and extension and before the padding', () => {
    const buf = marshalRtp({ ...base, csrc: [7], extension: { profile: 1, data: new Uint8Array(4) }, paddingBytes: 2 });
    const r = parseRtp(buf);
    expect(r.ok && r.payloadOffset).toBe(12 + 4 + 8);
    expect(r.ok && r.packet.payload.buffer).toBe(buf.buffer);
    expect(r.ok && [...r.packet.payload]).toEqual([1, 2, 3, 4]);
  });

  it.each([
    ['empty', Buffer.alloc(0), /0 bytes is shorter than the 12-byte header/],
    ['11 bytes', Buffer.alloc(11, 0x80), /11 bytes is shorter/],
    ['version 1', Buffer.from('40000000000000000000000000', 'hex'), /version 1, expected 2/],
    ['version 0', Buffer.alloc(20), /version 0/],
    ['CSRC count past the end', Buffer.from('83000000000000000000000000000000', 'hex'), /CSRC count 3 needs 24 bytes, packet has 16/],
    ['extension header cut', Buffer.from('9000000000000000000000000000', 'hex'), /extension header at byte 12 needs 4 bytes, 2 left/],
    ['extension words past the end', Buffer.from('900000000000000000000000bede0002aabbccdd', 'hex'), /extension of 2 words needs 24 bytes, packet has 20/],
    ['padding count 0', Buffer.from('a000000000000000000000000000', 'hex'), /padding count 0/],
    ['padding longer than the body', Buffer.from('a0000000000000000000000000000009', 'hex'), /padding count 9 does not fit the 4 bytes/],
  ])('rejects a malformed packet (%s) with a message naming the sizes', (_name, buf, msg) => {
    const r = parseRtp(buf);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(msg);
  });

  it('never throws on random bytes', () => {
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.alloc(rnd() % 80);
      for (let j = 0; j < buf.length; j++) buf[j] = rnd() & 0xff;
      if (buf.length > 0 && i % 2 === 0) buf[0] = 0x80 | (buf[0]! & 0x3f); // half of them version 2
      expect(() => parseRtp(buf)).not.toThrow();
    }
  });

  it('marshal refuses packets no parser could read back', () => {
    expect(() => marshalRtp({ ...base, csrc: Array.from({ length: 16 }, () => 0) })).toThrow(/at most 15 CSRCs/);
    expect(() => marshalRtp({ ...base, extension: { profile: 1, data: new Uint8Array(3) } })).toThrow(/whole 32-bit words/);
    expect(() => marshalRtp({ ...base, payloadType: 128 })).toThrow(/0..127/);
  });

  it('rewrites marker, payload type, sequence, timestamp and SSRC in place, leaving CSRCs and extension alone', () => {
    const p: RtpPacket = { ...base, csrc: [9], extension: { profile: 2, data: new Uint8Array([5, 6, 7, 8]) } };
    const buf = marshalRtp(p);
    rewriteRtpHeader(buf, true, 101, 0xfffe, 0x80000001, 0xcafebabe);
    const r = parseRtp(buf);
    expect(r.ok && { ...r.packet, payload: [...r.packet.payload], extension: { ...r.packet.extension!, data: [...r.packet.extension!.data] } }).toEqual({
      ...p, marker: true, payloadType: 101, sequenceNumber: 0xfffe, timestamp: 0x80000001, ssrc: 0xcafebabe, payload: [1, 2, 3, 4], extension: { profile: 2, data: [5, 6, 7, 8] },
    });
  });

  it('tells multiplexed RTCP (RFC 5761 §4: second byte 192–223) from RTP', () => {
    expect(looksLikeRtcp(Buffer.from('80c8000600000000', 'hex'))).toBe(true); // SR
    expect(looksLikeRtcp(Buffer.from('81c9000700000000', 'hex'))).toBe(true); // RR
    expect(looksLikeRtcp(Buffer.from('8000000000000000', 'hex'))).toBe(false);
    expect(looksLikeRtcp(Buffer.from('80e5000000000000', 'hex'))).toBe(false); // PT 101 with marker
  });
});
