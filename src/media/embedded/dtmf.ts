/**
 * RFC 4733 telephone-events (DTMF in RTP): the 4-byte payload and the rule that turns a stream of event packets
 * into one key press.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * RFC 4733 §2.5.1.3: every packet of one event carries the same RTP timestamp (the event's start); §2.5.1.4: the
 * final packet (E bit set) is sent three times. So a key press is identified by its timestamp, and is reported once,
 * at the first end packet; an event whose end packets were all lost is reported when the next event (another
 * timestamp) begins.
 */

/** RFC 4733 §3.2 event codes 0–15. */
export const DTMF_DIGITS = '0123456789*#ABCD';

/** A parsed telephone-event payload. */
export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  /** In RTP timestamp units (1/8000 s for telephone-event/8000). */
  duration: number;
}

/** Parses a telephone-event payload (4 bytes; RFC 4733 §2.3 allows several blocks, the first is the event). */
export function parseTelephoneEvent(payload: Uint8Array): { ok: true; event: TelephoneEvent } | { ok: false; error: { message: string } } {
  if (payload.length < 4) return { ok: false, error: { message: `telephone-event payload of ${payload.length} bytes, expected 4` } };
  return {
    ok: true,
    event: { event: payload[0]!, end: (payload[1]! & 0x80) !== 0, volume: payload[1]! & 0x3f, duration: (payload[2]! << 8) | payload[3]! },
  };
}

/** Builds a telephone-event payload. */
export function encodeTelephoneEvent(ev: TelephoneEvent): Buffer {
  return Buffer.from([ev.event & 0xff, (ev.end ? 0x80 : 0) | (ev.volume & 0x3f), (ev.duration >> 8) & 0xff, ev.duration & 0xff]);
}

/** A key press the detector reports. */
export interface DetectedDigit {
  digit: string;
  durationMs: number;
}

/** Turns one leg's telephone-event packets into key presses (end-bit dedupe). Clock rate 8000. */
export class DtmfDetector {
  /** Timestamp of the event in progress or last reported; null before the first. */
  #ts: number | null = null;
  #event = -1;
  #duration = 0;
  #reported = false;

  /** Feeds one packet; returns the key presses it completes (0, 1, or 2 when it also ends a lost-end event). */
  feed(timestamp: number, ev: TelephoneEvent): DetectedDigit[] {
    const out: DetectedDigit[] = [];
    if (timestamp !== this.#ts) {
      // A new event. The previous one never got an end packet through: report it with the duration it reached.
      if (this.#ts !== null && !this.#reported) this.#report(out);
      this.#ts = timestamp;
      this.#event = ev.event;
      this.#duration = 0;
      this.#reported = false;
    }
    if (this.#reported) return out; // the 2nd and 3rd copy of the end packet
    if (ev.duration > this.#duration) this.#duration = ev.duration;
    if (ev.end) this.#report(out);
    return out;
  }

  #report(out: DetectedDigit[]): void {
    this.#reported = true;
    const digit = DTMF_DIGITS[this.#event];
    // Events 16+ (tones, RFC 4734) are not digits; they are relayed but not reported.
    if (digit !== undefined) out.push({ digit, durationMs: Math.round(this.#duration / 8) });
  }
}
