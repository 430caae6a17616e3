/**
 * Writes the pcap files SIPp's `play_pcap_audio` replays (classic libpcap format, Ethernet link type, IPv4/UDP):
 * a G.711 RTP stream of 20 ms packets made from PCM samples, timestamped 20 ms apart. SIPp rewrites the addresses
 * and sends each packet at its captured offset, so the file's timing is the stream's timing.
 */
import { g711Encode } from '../../src/media/index.js';
import { rtpPacket } from './rtp-peer.js';

const SAMPLES_PER_PACKET = 160;

/** RFC 4733 event codes of the digits a test presses. */
const EVENT_CODES: Readonly<Record<string, number>> = { '*': 10, '#': 11, ...Object.fromEntries([...'0123456789'].map((d) => [d, Number(d)])) };

/**
 * A pcap of `pcm` (8 kHz mono) as PCMU (`pcmu`, PT 0) or PCMA (PT 8) RTP, 20 ms per packet; `digit` appends an
 * RFC 4733 key press (PT 101, 100 ms, end packet sent 3×) after the audio.
 */
export function g711Pcap(pcm: Int16Array, opts: { law?: 'pcmu' | 'pcma'; ssrc?: number; digit?: string } = {}): Buffer {
  const law = opts.law ?? 'pcmu';
  const pt = law === 'pcmu' ? 0 : 8;
  const ssrc = opts.ssrc ?? 0x5157a11;
  const records: Buffer[] = [globalHeader()];
  for (let i = 0, seq = 1; i + SAMPLES_PER_PACKET <= pcm.length; i += SAMPLES_PER_PACKET, seq++) {
    const payload = g711Encode(law, pcm.subarray(i, i + SAMPLES_PER_PACKET));
    const rtp = rtpPacket(pt, seq, i, ssrc, payload, seq === 1);
    records.push(record((i / 8000) * 1e6, ethernetIpv4Udp(rtp)));
  }
  if (opts.digit !== undefined) {
    const code = EVENT_CODES[opts.digit];
    if (code === undefined) throw new Error(`no RFC 4733 event for ${opts.digit}`);
    const ts = Math.floor(pcm.length / SAMPLES_PER_PACKET) * SAMPLES_PER_PACKET;
    let seq = ts / SAMPLES_PER_PACKET + 1;
    const ev = (end: boolean, dur: number): Buffer => Buffer.from([code, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
    for (let k = 0; k < 8; k++) {
      const end = k >= 5;
      records.push(record(((ts + Math.min(k, 5) * SAMPLES_PER_PACKET) / 8000) * 1e6 + (end ? (k - 5) * 5000 : 0),
        ethernetIpv4Udp(rtpPacket(101, seq++, ts, ssrc, ev(end, end ? 800 : (k + 1) * SAMPLES_PER_PACKET), k === 0))));
    }
  }
  return Buffer.concat(records);
}

function globalHeader(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0); // microsecond timestamps, little-endian file
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt32LE(65535, 16);
  b.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  return b;
}

function record(atUs: number, frame: Buffer): Buffer {
  const h = Buffer.alloc(16);
  const us = Math.round(atUs);
  h.writeUInt32LE(1_700_000_000 + Math.floor(us / 1e6), 0);
  h.writeUInt32LE(us % 1e6, 4);
  h.writeUInt32LE(frame.length, 8);
  h.writeUInt32LE(frame.length, 12);
  return Buffer.concat([h, frame]);
}

/** Ethernet II + IPv4 + UDP around `payload` (addresses are placeholders: SIPp replaces them). */
function ethernetIpv4Udp(payload: Buffer): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([127, 0, 0, 1]).copy(ip, 12);
  Buffer.from([127, 0, 0, 1]).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(40002, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([eth, ip, udp, payload]);
}
