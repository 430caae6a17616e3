/**
 * The pcap reader on captures built here byte by byte: every link type rtpengine can write (raw IP, Ethernet) and
 * the common others, both byte orders, µs and ns timestamps, IPv6, input split at every byte, and the errors.
 */
import { describe, expect, it } from 'vitest';
import { PcapParser, type PcapUdpPacket } from '../../../../src/media/rtpengine/pcap.js';
import { rtpPayload } from '../../../../src/media/rtpengine/pcap-to-wav.js';

function globalHeader(linkType: number, opts: { big?: boolean; nanos?: boolean } = {}): Buffer {
  const h = Buffer.alloc(24);
  const w32 = (v: number, o: number) => (opts.big ? h.writeUInt32BE(v, o) : h.writeUInt32LE(v, o));
  const w16 = (v: number, o: number) => (opts.big ? h.writeUInt16BE(v, o) : h.writeUInt16LE(v, o));
  w32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0); w16(2, 4); w16(4, 6); w32(65535, 16); w32(linkType, 20);
  return h;
}
function record(frame: Buffer, sec: number, frac: number, big = false): Buffer {
  const h = Buffer.alloc(16);
  const w = (v: number, o: number) => (big ? h.writeUInt32BE(v, o) : h.writeUInt32LE(v, o));
  w(sec, 0); w(frac, 4); w(frame.length, 8); w(frame.length, 12);
  return Buffer.concat([h, frame]);
}
function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(sport, 0); u.writeUInt16BE(dport, 2); u.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([u, payload]);
}
function ipv4(body: Buffer, proto = 17, fragment = 0): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45; h.writeUInt16BE(20 + body.length, 2); h.writeUInt16BE(fragment, 6); h[8] = 64; h[9] = proto;
  Buffer.from([127, 0, 0, 1]).copy(h, 12); Buffer.from([10, 0, 0, 2]).copy(h, 16);
  return Buffer.concat([h, body]);
}
function ipv6(body: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60; h.writeUInt16BE(body.length, 4); h[6] = 17; h[7] = 64; h[23] = 1; h[39] = 1; h[24] = 0xfe; h[25] = 0x80;
  return Buffer.concat([h, body]);
}
const ether = (ip: Buffer, type = 0x0800) => Buffer.concat([Buffer.alloc(12), Buffer.from([type >> 8, type & 0xff]), ip]);
const all = (p: PcapParser, b: Buffer): PcapUdpPacket[] => p.push(b);

describe('pcap reader', () => {
  const rtp = Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 0xff, 0xff]);

  it('reads raw IPv4 (link type 101, what rtpengine 10.5 writes) with arrival times in µs', () => {
    const p = new PcapParser();
    const out = all(p, Buffer.concat([globalHeader(101), record(ipv4(udp(4000, 30000, rtp)), 1_700_000_000, 250)]));
    expect(p.linkType).toBe(101);
    expect(out).toHaveLength(1);
    expect(out[0]!.timeUs).toBe(1_700_000_000_000_250);
    expect(out[0]!.src).toEqual({ address: '127.0.0.1', port: 4000 });
    expect(out[0]!.dst).toEqual({ address: '10.0.0.2', port: 30000 });
    expect(out[0]!.payload.equals(rtp)).toBe(true);
    expect(p.end()).toBeNull();
  });

  it('reads big-endian files with ns timestamps, Ethernet (with a VLAN tag) and IPv6', () => {
    const p = new PcapParser();
    const vlan = Buffer.concat([Buffer.alloc(12), Buffer.from([0x81, 0x00, 0, 5, 0x86, 0xdd]), ipv6(udp(1, 2, rtp))]);
    const out = all(p, Buffer.concat([globalHeader(1, { big: true, nanos: true }), record(ether(ipv4(udp(5, 6, rtp))), 10, 1_500_000, true), record(vlan, 11, 0, true)]));
    expect(out.map((x) => [x.timeUs, x.src.port, x.dst.address])).toEqual([[10_001_500, 5, '10.0.0.2'], [11_000_000, 1, 'fe80::1']]);
  });

  it('gives the same packets when the file arrives split at every byte', () => {
    const file = Buffer.concat([globalHeader(101), record(ipv4(udp(1, 2, rtp)), 1, 0), record(ipv4(udp(3, 4, rtp)), 2, 0)]);
    for (let cut = 0; cut <= file.length; cut++) {
      const p = new PcapParser();
      const out = [...p.push(file.subarray(0, cut)), ...p.push(file.subarray(cut))];
      expect(out.map((x) => x.src.port)).toEqual([1, 3]);
      expect(p.end()).toBeNull();
    }
  });

  it('skips what is not a whole UDP datagram (TCP, fragments, other ethertypes) and counts it', () => {
    const p = new PcapParser();
    const out = all(p, Buffer.concat([globalHeader(1), record(ether(ipv4(udp(1, 2, rtp), 6)), 1, 0), record(ether(ipv4(udp(1, 2, rtp), 17, 0x2000)), 1, 0), record(ether(Buffer.alloc(30), 0x0806), 1, 0), record(ether(ipv4(udp(7, 8, rtp))), 1, 0)]));
    expect(out.map((x) => x.src.port)).toEqual([7]);
    expect(p.skipped).toBe(3);
  });

  it.each([
    [Buffer.from('not a capture, just text'), /not a pcap file: magic 0x6e6f7420 \(at byte 0\)/],
    [(() => { const h = globalHeader(101); h.writeUInt16LE(3, 4); return h; })(), /pcap version 3\.4 is not 2\.x/],
    [globalHeader(228), /link type 228 is not supported/],
    [Buffer.concat([globalHeader(101), (() => { const r = Buffer.alloc(16); r.writeUInt32LE(1_000_000, 8); return r; })()]), /record length 1000000 > 262144 \(at byte 32\)/],
  ])('stops with an error naming the offset on %#', (file, message) => {
    const p = new PcapParser();
    expect(p.push(file)).toEqual([]);
    expect(p.end()?.message).toMatch(message);
  });

  it('reports a last record cut short (rtpengine stopped mid-write) after returning the whole ones', () => {
    const p = new PcapParser();
    const whole = record(ipv4(udp(1, 2, rtp)), 1, 0);
    expect(all(p, Buffer.concat([globalHeader(101), whole, whole.subarray(0, 20)]))).toHaveLength(1);
    expect(p.end()?.message).toMatch(/last record is cut short \(20 bytes left at byte 82\)/);
  });
});

describe('RTP payload extraction (RFC 3550 §5.1)', () => {
  it('skips CSRCs and the header extension and strips padding', () => {
    const pkt = Buffer.from([0xb1, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, /* CSRC */ 1, 2, 3, 4, /* ext */ 0xbe, 0xde, 0, 1, 9, 9, 9, 9, /* payload */ 0xd5, 0xd5, /* padding */ 0, 2]);
    const r = rtpPayload(pkt)!;
    expect(r.pt).toBe(8);
    expect(r.ssrc).toBe(9);
    expect([...r.payload]).toEqual([0xd5, 0xd5]);
  });

  it('rejects short packets, version ≠ 2, zero padding and headers longer than the packet', () => {
    expect(rtpPayload(Buffer.alloc(11))).toBeNull();
    expect(rtpPayload(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeNull();
    expect(rtpPayload(Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeNull();
    expect(rtpPayload(Buffer.from([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeNull();
  });
});
