import { describe, expect, it } from 'vitest';
import { DtmfDetector, encodeTelephoneEvent, parseTelephoneEvent, type TelephoneEvent } from '../../../../src/media/embedded/dtmf.js';

const ev = (event: number, end: boolean, duration: number): TelephoneEvent => ({ event, end, volume: 10, duration });

describe('RFC 4733 telephone-event', () => {
  it('parses and encodes the 4-byte payload (event, E bit, volume, duration)', () => {
    expect(parseTelephoneEvent(Buffer.from('018a08c0', 'hex'))).toEqual({ ok: true, event: { event: 1, end: true, volume: 10, duration: 2240 } });
    expect(encodeTelephoneEvent(ev(11, false, 320)).toString('hex')).toBe('0b0a0140');
    expect(parseTelephoneEvent(Buffer.from('0b0a', 'hex'))).toEqual({ ok: false, error: { message: 'telephone-event payload of 2 bytes, expected 4' } });
  });

  it('MUST report a key press once although its end packet comes three times (§2.5.1.4)', () => {
    const d = new DtmfDetector();
    const out = [ev(5, false, 160), ev(5, false, 320), ev(5, false, 480), ev(5, true, 640), ev(5, true, 640), ev(5, true, 640)].flatMap((e) => d.feed(8000, e));
    expect(out).toEqual([{ digit: '5', durationMs: 80 }]);
  });

  it('tells key presses apart by their RTP timestamp, also the same key twice', () => {
    const d = new DtmfDetector();
    const out = [
      ...[ev(7, false, 160), ev(7, true, 800), ev(7, true, 800)].flatMap((e) => d.feed(1000, e)),
      ...[ev(7, false, 160), ev(7, true, 400), ev(7, true, 400)].flatMap((e) => d.feed(5000, e)),
      ...[ev(11, true, 1600)].flatMap((e) => d.feed(9000, e)),
    ];
    expect(out).toEqual([{ digit: '7', durationMs: 100 }, { digit: '7', durationMs: 50 }, { digit: '#', durationMs: 200 }]);
  });

  it('reports a key press whose end packets were all lost when the next one begins, with the duration it reached', () => {
    const d = new DtmfDetector();
    expect(d.feed(100, ev(3, false, 160))).toEqual([]);
    expect(d.feed(100, ev(3, false, 480))).toEqual([]);
    expect(d.feed(2000, ev(9, false, 160))).toEqual([{ digit: '3', durationMs: 60 }]);
    expect(d.feed(2000, ev(9, true, 320))).toEqual([{ digit: '9', durationMs: 40 }]);
  });

  it('maps events 10–15 to * # A B C D and does not report events beyond 15 (RFC 4734 tones)', () => {
    const d = new DtmfDetector();
    const digits = [10, 11, 12, 13, 14, 15, 16, 32].flatMap((code, i) => d.feed(i * 1000, ev(code, true, 160)).map((x) => x.digit));
    expect(digits.join('')).toBe('*#ABCD');
  });

  it('keeps the longest duration seen (updates may arrive reordered)', () => {
    const d = new DtmfDetector();
    d.feed(1, ev(0, false, 480));
    d.feed(1, ev(0, false, 320));
    expect(d.feed(1, ev(0, true, 400))).toEqual([{ digit: '0', durationMs: 60 }]);
  });
});
