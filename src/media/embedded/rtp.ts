/**
 * The RTP fixed header (RFC 3550 §5.1) with its CSRC list, header extension (§5.3.1) and padding, in pion/rtp's
 * shape: {@link parseRtp} / {@link marshalRtp} / {@link rtpMarshalSize} are symmetric, and a malformed packet is an
 * `{ ok: false, error }` value whose message carries the sizes, never an exception (this runs on every datagram
 * from the network).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |  CC × 4 bytes
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |  if X: length × 4 bytes follow
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        payload ...    | padding ... | count   |  if P: the last byte counts the padding
 * ```
 */

/** The fixed header's size. */
export const RTP_HEADER_BYTES = 12;

/** A header extension (RFC 3550 §5.3.1): the profile-defined 16 bits and the extension words. */
export interface RtpHeaderExtension {
  profile: number;
  /** A multiple of 4 bytes. */
  data: Uint8Array;
}

/** One RTP packet. `payload` of a parsed packet is a view into the datagram (not a copy). */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrc: number[];
  extension: RtpHeaderExtension | null;
  payload: Uint8Array;
  /** Padding bytes after the payload, the count byte included (0 = no padding). */
  paddingBytes: number;
}

/** Why a datagram is not an RTP packet. */
export interface RtpParseError {
  message: string;
}

export type RtpParseResult = { ok: true; packet: RtpPacket; /** Offset of the payload in the datagram. */ payloadOffset: number } | { ok: false; error: RtpParseError };

function fail(message: string): RtpParseResult {
  return { ok: false, error: { message } };
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Parses one datagram. Never throws. */
export function parseRtp(buf: Uint8Array): RtpParseResult {
  if (buf.length < RTP_HEADER_BYTES) return fail(`RTP packet of ${buf.length} bytes is shorter than the ${RTP_HEADER_BYTES}-byte header`);
  const b0 = buf[0]!;
  const version = b0 >> 6;
  if (version !== 2) return fail(`RTP version ${version}, expected 2`);
  const padding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  let off = RTP_HEADER_BYTES + cc * 4;
  if (off > buf.length) return fail(`RTP CSRC count ${cc} needs ${off} bytes, packet has ${buf.length}`);
  const csrc: number[] = [];
  for (let i = 0; i < cc; i++) csrc.push(u32(buf, RTP_HEADER_BYTES + i * 4));
  let extension: RtpHeaderExtension | null = null;
  if (hasExtension) {
    if (off + 4 > buf.length) return fail(`RTP header extension header at byte ${off} needs 4 bytes, ${buf.length - off} left`);
    const profile = u16(buf, off);
    const words = u16(buf, off + 2);
    const end = off + 4 + words * 4;
    if (end > buf.length) return fail(`RTP header extension of ${words} words needs ${end} bytes, packet has ${buf.length}`);
    extension = { profile, data: buf.subarray(off + 4, end) };
    off = end;
  }
  let end = buf.length;
  let paddingBytes = 0;
  if (padding) {
    // RFC 3550 §5.1: "The last octet of the padding contains a count of how many padding octets should be ignored,
    // including itself." A count of 0 or one reaching into the header is malformed.
    paddingBytes = buf[buf.length - 1]!;
    if (paddingBytes === 0 || off + paddingBytes > buf.length) return fail(`RTP padding count ${paddingBytes} does not fit the ${buf.length - off} bytes after the header`);
    end -= paddingBytes;
  }
  const b1 = buf[1]!;
  return {
    ok: true,
    payloadOffset: off,
    packet: {
      marker: (b1 & 0x80) !== 0,
      payloadType: b1 & 0x7f,
      sequenceNumber: u16(buf, 2),
      timestamp: u32(buf, 4),
      ssrc: u32(buf, 8),
      csrc,
      extension,
      payload: buf.subarray(off, end),
      paddingBytes,
    },
  };
}

/** The serialized size of `p`. */
export function rtpMarshalSize(p: RtpPacket): number {
  return RTP_HEADER_BYTES + p.csrc.length * 4 + (p.extension ? 4 + p.extension.data.length : 0) + p.payload.length + p.paddingBytes;
}

/** Serializes `p`. Throws TypeError for a packet no parser could read back (a bug in the caller). */
export function marshalRtp(p: RtpPacket): Buffer {
  if (p.csrc.length > 15) throw new TypeError(`RTP allows at most 15 CSRCs, got ${p.csrc.length}`);
  if (p.extension && p.extension.data.length % 4 !== 0) throw new TypeError(`RTP header extension must be whole 32-bit words, got ${p.extension.data.length} bytes`);
  if (p.paddingBytes < 0 || p.paddingBytes > 255) throw new TypeError(`RTP padding must be 0..255 bytes, got ${p.paddingBytes}`);
  if (p.payloadType < 0 || p.payloadType > 127) throw new TypeError(`RTP payload type must be 0..127, got ${p.payloadType}`);
  const out = Buffer.alloc(rtpMarshalSize(p));
  out[0] = 0x80 | (p.paddingBytes > 0 ? 0x20 : 0) | (p.extension ? 0x10 : 0) | p.csrc.length;
  out[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  out.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(p.timestamp >>> 0, 4);
  out.writeUInt32BE(p.ssrc >>> 0, 8);
  let off = RTP_HEADER_BYTES;
  for (const c of p.csrc) { out.writeUInt32BE(c >>> 0, off); off += 4; }
  if (p.extension) {
    out.writeUInt16BE(p.extension.profile & 0xffff, off);
    out.writeUInt16BE(p.extension.data.length / 4, off + 2);
    out.set(p.extension.data, off + 4);
    off += 4 + p.extension.data.length;
  }
  out.set(p.payload, off);
  off += p.payload.length;
  if (p.paddingBytes > 0) out[off + p.paddingBytes - 1] = p.paddingBytes;
  return out;
}

/**
 * Rewrites the header fields a relay changes, in place in a datagram that {@link parseRtp} accepted (the CSRC list,
 * extension and padding stay as they are): this is how the relay forwards a packet without copying it.
 */
export function rewriteRtpHeader(buf: Uint8Array, marker: boolean, payloadType: number, sequenceNumber: number, timestamp: number, ssrc: number): void {
  buf[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf[2] = (sequenceNumber >> 8) & 0xff;
  buf[3] = sequenceNumber & 0xff;
  buf[4] = (timestamp >>> 24) & 0xff;
  buf[5] = (timestamp >>> 16) & 0xff;
  buf[6] = (timestamp >>> 8) & 0xff;
  buf[7] = timestamp & 0xff;
  buf[8] = (ssrc >>> 24) & 0xff;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

/**
 * Whether a datagram on the RTP port is RTCP (RFC 5761 §4: packet types 192–223 land on RTP payload types 64–95
 * with the marker bit; in practice SR/RR/SDES/BYE/APP are 200–204). We never offer rtcp-mux, but a phone may mux.
 */
export function looksLikeRtcp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[1]! >= 192 && buf[1]! <= 223;
}
