/**
 * Minimal G.711 SDP offer/answer (RFC 3264) for the test phone: PCMU, PCMA and telephone-event; no media flows.
 */

/** Where the (pretend) media would flow. */
export interface MediaAddress {
  address: string;
  port: number;
}

function ipVersion(address: string): 'IP4' | 'IP6' {
  return address.includes(':') ? 'IP6' : 'IP4';
}

/** An offer listing PCMU (0), PCMA (8) and telephone-event (101). */
export function createOffer(media: MediaAddress, payloads: readonly number[] = [0, 8]): string {
  return sdpText(media, payloads);
}

/**
 * An answer to `offer`: the first of PCMU/PCMA the offer lists (RFC 3264 §6.1), plus telephone-event when offered.
 * Returns undefined when the offer has no audio G.711 payload (the caller answers 488).
 */
export function createAnswer(offer: string, media: MediaAddress): string | undefined {
  const m = offer.split(/\r?\n/).find((l) => l.startsWith('m=audio '));
  if (!m) return undefined;
  const offered = m.trim().split(' ').slice(3).map(Number);
  const codec = offered.find((p) => p === 0 || p === 8);
  if (codec === undefined) return undefined;
  return sdpText(media, [codec], offered.includes(101));
}

/** The audio payload types of an SDP body's first audio m= line. */
export function audioPayloads(sdp: string): number[] {
  const m = sdp.split(/\r?\n/).find((l) => l.startsWith('m=audio '));
  return m ? m.trim().split(' ').slice(3).map(Number) : [];
}

function sdpText(media: MediaAddress, payloads: readonly number[], dtmf = true): string {
  const v = 1 + Math.floor(Math.random() * 1_000_000);
  const ip = ipVersion(media.address);
  const pts = dtmf ? [...payloads, 101] : [...payloads];
  const lines = [
    'v=0',
    `o=- ${1000 + v} ${v} IN ${ip} ${media.address}`,
    's=-',
    `c=IN ${ip} ${media.address}`,
    't=0 0',
    `m=audio ${media.port} RTP/AVP ${pts.join(' ')}`,
  ];
  for (const p of payloads) lines.push(p === 0 ? 'a=rtpmap:0 PCMU/8000' : p === 8 ? 'a=rtpmap:8 PCMA/8000' : `a=rtpmap:${p}`);
  if (dtmf) lines.push('a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16');
  lines.push('a=ptime:20', 'a=sendrecv');
  return lines.join('\r\n') + '\r\n';
}
