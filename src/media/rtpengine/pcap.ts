/**
 * A reader for the pcap files rtpengine writes with `--recording-method=pcap`: one file per call under
 * `<recording-dir>/pcaps/`, holding every RTP/RTCP packet the daemon *received* (each party's own stream, as sent
 * to rtpengine's port for it), with synthesized IP/UDP headers and the arrival time. rtpengine 10.5 writes link type
 * 101 (LINKTYPE_RAW, bare IPv4/IPv6) with `--recording-format=raw` (the default) and Ethernet with `eth`.
 *
 * ```
 * global header (24 bytes): magic a1b2c3d4 (µs) or a1b23c4d (ns), either byte order; version 2.4; zone; sigfigs;
 *                           snaplen; link type
 * record header (16 bytes): ts_sec, ts_frac, incl_len, orig_len; then incl_len bytes of packet
 * ```
 *
 * Bytes come in chunks ({@link PcapParser.push}) so an hour-long call is never one Buffer. Malformed input ends
 * parsing with an error value naming the byte offset; what was read before it stays usable.
 */

/** One UDP datagram out of the capture. */
export interface PcapUdpPacket {
  /** Capture time, µs since the epoch. */
  timeUs: number;
  src: { address: string; port: number };
  dst: { address: string; port: number };
  payload: Buffer;
}

/** Link types we can take apart. */
const LINK = { NULL: 0, ETHERNET: 1, RAW_BSD: 12, RAW_OPENBSD: 14, RAW: 101, LINUX_SLL: 113 } as const;

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** A record larger than this is corruption, not a packet (rtpengine's snaplen is 65535). */
const MAX_RECORD = 262_144;

/** Why a capture could not be read (further). */
export interface PcapError { message: string; position: number }

/** Incremental pcap parser: push chunks, get UDP packets; non-UDP and fragments are counted and skipped. */
export class PcapParser {
  #buf: Buffer = Buffer.alloc(0);
  /** File offset of `#buf[0]`. */
  #offset = 0;
  #little = true;
  #nanos = false;
  #linkType = -1;
  #error: PcapError | null = null;
  /** Records that were not UDP over IPv4/IPv6 (or were IP fragments). */
  skipped = 0;

  /** The capture's link type once the header was read. */
  get linkType(): number { return this.#linkType; }
  /** The error that stopped parsing, if any. */
  get error(): PcapError | null { return this.#error; }

  /** Parses what `chunk` completes; returns the UDP packets found. After an error it returns nothing. */
  push(chunk: Buffer): PcapUdpPacket[] {
    if (this.#error) return [];
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: PcapUdpPacket[] = [];
    let pos = 0;
    const b = this.#buf;
    if (this.#linkType < 0) {
      if (b.length < GLOBAL_HEADER) return out;
      const magicLe = b.readUInt32LE(0);
      if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) this.#little = true;
      else if (b.readUInt32BE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b23c4d) this.#little = false;
      else return this.#fail(`not a pcap file: magic 0x${b.readUInt32BE(0).toString(16)}`, 0);
      this.#nanos = (this.#little ? magicLe : b.readUInt32BE(0)) === 0xa1b23c4d;
      const major = this.#u16(b, 4);
      if (major !== 2) return this.#fail(`pcap version ${major}.${this.#u16(b, 6)} is not 2.x`, 4);
      this.#linkType = this.#u32(b, 20) & 0x0fffffff;
      if (!Object.values(LINK).includes(this.#linkType as never)) return this.#fail(`pcap link type ${this.#linkType} is not supported (raw IP, Ethernet, Linux SLL, null)`, 20);
      pos = GLOBAL_HEADER;
    }
    while (b.length - pos >= RECORD_HEADER) {
      const sec = this.#u32(b, pos), frac = this.#u32(b, pos + 4), incl = this.#u32(b, pos + 8);
      if (incl > MAX_RECORD) { this.#consume(pos); return this.#fail(`record length ${incl} > ${MAX_RECORD}`, this.#offset + 8, out); }
      if (b.length - pos - RECORD_HEADER < incl) break;
      const frame = b.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + incl);
      const p = this.#udp(frame, sec * 1_000_000 + (this.#nanos ? Math.floor(frac / 1000) : frac));
      if (p) out.push(p); else this.skipped++;
      pos += RECORD_HEADER + incl;
    }
    this.#consume(pos);
    return out;
  }

  /**
   * Call at end of file. Bytes left over are a record cut short (rtpengine stopped mid-write): reported as an error
   * value; the packets before it were already returned.
   */
  end(): PcapError | null {
    if (this.#error) return this.#error;
    if (this.#linkType < 0) {
      this.#fail(`pcap file is ${this.#buf.length} bytes, shorter than its 24-byte header`, 0);
      return this.#error;
    }
    if (this.#buf.length > 0) this.#error = { message: `last record is cut short (${this.#buf.length} bytes left at byte ${this.#offset})`, position: this.#offset };
    return this.#error;
  }

  #consume(pos: number): void {
    this.#offset += pos;
    this.#buf = pos >= this.#buf.length ? Buffer.alloc(0) : Buffer.from(this.#buf.subarray(pos));
  }

  #fail(message: string, position: number, out: PcapUdpPacket[] = []): PcapUdpPacket[] {
    this.#error = { message: `${message} (at byte ${position})`, position };
    return out;
  }

  #u16(b: Buffer, o: number): number { return this.#little ? b.readUInt16LE(o) : b.readUInt16BE(o); }
  #u32(b: Buffer, o: number): number { return this.#little ? b.readUInt32LE(o) : b.readUInt32BE(o); }

  /** The UDP datagram in a link-layer frame, or null. */
  #udp(f: Buffer, timeUs: number): PcapUdpPacket | null {
    let ip = 0;
    switch (this.#linkType) {
      case LINK.RAW: case LINK.RAW_BSD: case LINK.RAW_OPENBSD: ip = 0; break;
      case LINK.NULL: ip = 4; break;
      case LINK.ETHERNET: {
        if (f.length < 14) return null;
        ip = 14;
        let type = f.readUInt16BE(12);
        while ((type === 0x8100 || type === 0x88a8) && f.length >= ip + 4) { type = f.readUInt16BE(ip + 2); ip += 4; }
        if (type !== 0x0800 && type !== 0x86dd) return null;
        break;
      }
      case LINK.LINUX_SLL: {
        if (f.length < 16) return null;
        const type = f.readUInt16BE(14);
        if (type !== 0x0800 && type !== 0x86dd) return null;
        ip = 16;
        break;
      }
    }
    if (f.length < ip + 1) return null;
    const version = f[ip]! >> 4;
    let udp: number, src: string, dst: string;
    if (version === 4) {
      const ihl = (f[ip]! & 0x0f) * 4;
      if (ihl < 20 || f.length < ip + ihl + 8) return null;
      if (f[ip + 9] !== 17) return null;
      const fragment = f.readUInt16BE(ip + 6);
      if ((fragment & 0x1fff) !== 0 || (fragment & 0x2000) !== 0) return null; // a fragment: no whole UDP datagram
      src = `${f[ip + 12]}.${f[ip + 13]}.${f[ip + 14]}.${f[ip + 15]}`;
      dst = `${f[ip + 16]}.${f[ip + 17]}.${f[ip + 18]}.${f[ip + 19]}`;
      udp = ip + ihl;
    } else if (version === 6) {
      if (f.length < ip + 48 || f[ip + 6] !== 17) return null; // extension headers: rtpengine writes none
      src = ipv6(f.subarray(ip + 8, ip + 24));
      dst = ipv6(f.subarray(ip + 24, ip + 40));
      udp = ip + 40;
    } else return null;
    const len = f.readUInt16BE(udp + 4);
    if (len < 8) return null;
    const end = Math.min(f.length, udp + len);
    return { timeUs, src: { address: src, port: f.readUInt16BE(udp) }, dst: { address: dst, port: f.readUInt16BE(udp + 2) }, payload: f.subarray(udp + 8, end) };
  }
}

function ipv6(b: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}
