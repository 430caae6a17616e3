/**
 * When a call was on hold, for the rtpengine recording. rtpengine's pcap holds every packet it *received*, and a
 * phone that holds (a=sendonly) usually keeps sending (its own music, comfort noise, or SIPp's pcap), so the pcap
 * alone would put that audio into the file. The embedded endpoint does not tap a leg that is not `sendrecv`; to
 * give the same file, the session notes each party's direction from the SDP it sent (offer or answer) and the
 * conversion leaves out the packets that arrived while any party was not `sendrecv` (the hold is then silence).
 */

/** An RFC 4566 §6 / RFC 3264 §5.1 direction. */
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/**
 * The direction of an SDP's first audio stream: its media-level attribute, else the session-level one, else
 * sendrecv (RFC 3264 §5.1); a connection address 0.0.0.0 (RFC 3264 §8.4's old-style hold) counts as inactive.
 */
export function audioDirection(sdp: string): SdpDirection {
  const text = sdp.replace(/\r\n/g, '\n');
  const m = text.search(/^m=audio /m);
  if (m < 0) return 'sendrecv';
  const session = text.slice(0, m);
  const rest = text.slice(m);
  const next = rest.slice(1).search(/^m=/m);
  const media = next < 0 ? rest : rest.slice(0, next + 1);
  const pick = (part: string): SdpDirection | undefined => /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(part)?.[1] as SdpDirection | undefined;
  const conn = /^c=IN IP4 (\S+)/m.exec(media)?.[1] ?? /^c=IN IP4 (\S+)/m.exec(session)?.[1];
  if (conn === '0.0.0.0') return 'inactive';
  return pick(media) ?? pick(session) ?? 'sendrecv';
}

/** Hold intervals (epoch ms) from each party's latest direction. */
export class HoldTimeline {
  readonly #directions = new Map<string, SdpDirection>();
  readonly #holds: Array<[number, number]> = [];
  #since: number | null = null;

  /** `party` just sent SDP with `direction` at `atMs`. */
  note(party: string, direction: SdpDirection, atMs: number): void {
    this.#directions.set(party, direction);
    const held = [...this.#directions.values()].some((d) => d !== 'sendrecv');
    if (held && this.#since === null) this.#since = atMs;
    if (!held && this.#since !== null) {
      this.#holds.push([this.#since, atMs]);
      this.#since = null;
    }
  }

  /** Every hold so far, a running one ending at `nowMs`. */
  intervals(nowMs: number): Array<[number, number]> {
    return this.#since === null ? [...this.#holds] : [...this.#holds, [this.#since, nowMs]];
  }
}
