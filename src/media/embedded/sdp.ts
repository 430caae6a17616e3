/**
 * The SDP the embedded endpoint reads and writes (RFC 4566 via `sdp-transform`; offer/answer per RFC 3264). We
 * handle one audio stream of PCMU/PCMA plus telephone-event (RFC 4733); other streams in an offer are declined in
 * the answer with port 0 (RFC 3264 §6), and the first usable `m=audio` is ours.
 */
import sdpTransform from 'sdp-transform';
import type { G711Law } from '../codec/g711.js';

/** a=sendrecv / sendonly / recvonly / inactive: what the SDP's author will do. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** One G.711 codec in an SDP: its payload type there and its law. */
export interface SdpCodec { pt: number; law: G711Law }

/** The audio stream of an SDP as the endpoint needs it. */
export interface AudioDescription {
  /** Where the author receives RTP. */
  address: string;
  port: number;
  /** G.711 codecs in the author's order of preference. */
  codecs: SdpCodec[];
  /** telephone-event/8000 payload type, when offered. */
  telephoneEventPt: number | null;
  direction: Direction;
  ptime: number | null;
  /** Index of this stream among the SDP's m= lines. */
  mediaIndex: number;
  /** Every m= line (type, protocol, formats), to decline the ones we do not take in an answer. */
  media: Array<{ type: string; protocol: string; payloads: string }>;
}

export type SdpParseResult = { ok: true; audio: AudioDescription } | { ok: false; error: { message: string } };

/** Bytes of SDP we read at most (a phone's offer is a few hundred bytes). */
const MAX_SDP_BYTES = 16 * 1024;

function lawOfName(name: string, rate: number | undefined): G711Law | null {
  if (rate !== undefined && rate !== 8000) return null;
  const n = name.toUpperCase();
  return n === 'PCMU' ? 'pcmu' : n === 'PCMA' ? 'pcma' : null;
}

function invert(d: Direction): Direction {
  return d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d;
}

/** The direction an answerer that can do everything replies with (RFC 3264 §6.1). */
export function answerDirection(offered: Direction): Direction {
  return invert(offered);
}

/** Parses `sdp` and picks its audio stream. Never throws. */
export function parseAudioSdp(sdp: string): SdpParseResult {
  if (typeof sdp !== 'string' || sdp.length === 0) return { ok: false, error: { message: 'SDP is empty' } };
  if (sdp.length > MAX_SDP_BYTES) return { ok: false, error: { message: `SDP of ${sdp.length} bytes exceeds ${MAX_SDP_BYTES}` } };
  let s: sdpTransform.SessionDescription;
  try { s = sdpTransform.parse(sdp); } catch (err) { return { ok: false, error: { message: `SDP does not parse: ${(err as Error).message}` } }; }
  if (s.version !== 0 || !Array.isArray(s.media) || s.media.length === 0) return { ok: false, error: { message: 'SDP has no v=0 or no m= line' } };
  const media = s.media.map((m) => ({ type: String(m.type), protocol: String(m.protocol), payloads: String(m.payloads ?? '') }));
  let reason = 'SDP has no m=audio stream';
  for (let i = 0; i < s.media.length; i++) {
    const m = s.media[i]!;
    if (m.type !== 'audio') continue;
    if (!/^RTP\/AVP$/i.test(String(m.protocol))) { reason = `m=audio protocol ${m.protocol} is not RTP/AVP`; continue; }
    if (!Number.isInteger(m.port) || m.port < 0 || m.port > 65535) { reason = `m=audio port ${String(m.port)} is not a port`; continue; }
    if (m.port === 0) { reason = 'm=audio is declined (port 0)'; continue; }
    const address = m.connection?.ip ?? s.connection?.ip;
    if (!address) { reason = 'SDP has no c= line for its audio stream'; continue; }
    const pts = String(m.payloads ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
    const codecs: SdpCodec[] = [];
    let telephoneEventPt: number | null = null;
    for (const pt of pts) {
      if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
      const map = m.rtp.find((r) => r.payload === pt);
      // RFC 3551: static types 0 and 8 need no rtpmap.
      const law = map ? lawOfName(map.codec, map.rate) : pt === 0 ? 'pcmu' : pt === 8 ? 'pcma' : null;
      if (law && !codecs.some((c) => c.law === law)) codecs.push({ pt, law });
      else if (map && map.codec.toLowerCase() === 'telephone-event' && (map.rate ?? 8000) === 8000 && telephoneEventPt === null) telephoneEventPt = pt;
    }
    if (codecs.length === 0) { reason = `m=audio offers no PCMU/PCMA (payload types ${pts.join(' ') || 'none'})`; continue; }
    // RFC 3264 §5.1: a=direction at media level wins over session level. c=0.0.0.0 is RFC 2543 hold: inactive.
    let direction: Direction = (m.direction ?? s.direction ?? 'sendrecv') as Direction;
    if (address === '0.0.0.0') direction = direction === 'sendrecv' ? 'sendonly' : direction === 'recvonly' ? 'inactive' : direction;
    return { ok: true, audio: { address, port: m.port, codecs, telephoneEventPt, direction, ptime: typeof m.ptime === 'number' ? m.ptime : null, mediaIndex: i, media } };
  }
  return { ok: false, error: { message: reason } };
}

/** What we put in an SDP we send. */
export interface SdpBuild {
  sessionId: number;
  sessionVersion: number;
  address: string;
  port: number;
  codecs: SdpCodec[];
  telephoneEventPt: number | null;
  direction: Direction;
  ptime?: number | null;
  /** When answering: the offer's m= lines; ours takes `mediaIndex`, the rest are declined with port 0. */
  answerTo?: { media: AudioDescription['media']; mediaIndex: number };
}

/** Writes our SDP (CRLF line ends). */
export function buildAudioSdp(b: SdpBuild): string {
  const ipVer = b.address.includes(':') ? 6 : 4;
  const rtp = b.codecs.map((c) => ({ payload: c.pt, codec: c.law === 'pcmu' ? 'PCMU' : 'PCMA', rate: 8000 }));
  const fmtp: Array<{ payload: number; config: string }> = [];
  if (b.telephoneEventPt !== null) {
    rtp.push({ payload: b.telephoneEventPt, codec: 'telephone-event', rate: 8000 });
    fmtp.push({ payload: b.telephoneEventPt, config: '0-16' });
  }
  const ours: sdpTransform.MediaDescription = {
    type: 'audio', port: b.port, protocol: 'RTP/AVP', payloads: rtp.map((r) => r.payload).join(' '), rtp, fmtp,
    ...(b.ptime ? { ptime: b.ptime } : {}), direction: b.direction,
  };
  const media = b.answerTo
    ? b.answerTo.media.map((m, i): sdpTransform.MediaDescription => (i === b.answerTo!.mediaIndex ? ours : { type: m.type, port: 0, protocol: m.protocol, payloads: m.payloads, rtp: [], fmtp: [] }))
    : [ours];
  return sdpTransform.write({
    version: 0,
    origin: { username: 'switchboard', sessionId: b.sessionId, sessionVersion: b.sessionVersion, netType: 'IN', ipVer, address: b.address },
    name: 'switchboard',
    connection: { version: ipVer, ip: b.address },
    timing: { start: 0, stop: 0 },
    media,
  });
}

/** Whether an author with this direction sends media. */
export function sends(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}

/** Whether an author with this direction receives media. */
export function receives(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}
