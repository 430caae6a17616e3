/**
 * G.711 (ITU-T G.711) µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8), RFC 3551 §4.5.14.
 * The companding itself is `alawmulaw`'s; it is done once per code word here into lookup tables, so decoding a
 * 20 ms packet is 160 table reads (this runs for every packet of every recorded stream). Shared by the embedded
 * endpoint and the rtpengine driver's pcap conversion.
 */
import alawmulaw from 'alawmulaw';

/** The G.711 variants. */
export type G711Law = 'pcmu' | 'pcma';

/** RFC 3551 static payload types. */
export const G711_PAYLOAD_TYPE: Readonly<Record<G711Law, number>> = Object.freeze({ pcmu: 0, pcma: 8 });

/** The law of a static payload type, or null. */
export function g711LawOf(payloadType: number): G711Law | null {
  return payloadType === 0 ? 'pcmu' : payloadType === 8 ? 'pcma' : null;
}

function decodeTable(decodeSample: (s: number) => number): Int16Array {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) t[i] = decodeSample(i);
  return t;
}

function encodeTable(encodeSample: (s: number) => number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = encodeSample(i - 32768);
  return t;
}

const DECODE: Record<G711Law, Int16Array> = { pcmu: decodeTable(alawmulaw.mulaw.decodeSample), pcma: decodeTable(alawmulaw.alaw.decodeSample) };
let ENCODE: Record<G711Law, Uint8Array> | null = null;

/** Decodes G.711 code words into 16-bit linear samples (`out` must be at least as long). */
export function g711Decode(law: G711Law, payload: Uint8Array, out: Int16Array = new Int16Array(payload.length)): Int16Array {
  const t = DECODE[law];
  for (let i = 0; i < payload.length; i++) out[i] = t[payload[i]!]!;
  return out;
}

/** Encodes 16-bit linear samples into G.711 code words. */
export function g711Encode(law: G711Law, pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)): Uint8Array {
  ENCODE ??= { pcmu: encodeTable(alawmulaw.mulaw.encodeSample), pcma: encodeTable(alawmulaw.alaw.encodeSample) };
  const t = ENCODE[law];
  for (let i = 0; i < pcm.length; i++) out[i] = t[pcm[i]! + 32768]!;
  return out;
}

/** The code word of silence (linear 0) in each law: µ-law 0xFF, A-law 0xD5. */
export const G711_SILENCE: Readonly<Record<G711Law, number>> = Object.freeze({ pcmu: 0xff, pcma: 0xd5 });
