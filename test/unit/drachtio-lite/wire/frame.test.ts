import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from '../../../../src/drachtio-lite/wire/frame.js';

describe('drachtio wire framing', () => {
  it('prefixes the UTF-8 byte length, not the character count', () => {
    const payload = 'abc|héllo|😀';
    const frame = encodeFrame(payload);
    const len = Buffer.byteLength(payload, 'utf8');
    expect(frame.toString('utf8')).toBe(`${len}#${payload}`);
  });

  it('decodes coalesced frames in one chunk', () => {
    const d = new FrameDecoder();
    const r = d.push(Buffer.concat([encodeFrame('a|ping'), encodeFrame('b|route|invite')]));
    expect(r).toEqual({ ok: true, frames: ['a|ping', 'b|route|invite'] });
    expect(d.buffered).toBe(0);
  });

  it('decodes a frame split at every byte, including inside a multi-byte character and the length', () => {
    const payload = 'x|sip|||\r\nINFO sip:a@b SIP/2.0\r\nSubject: ünïcödé 😀\r\n\r\n';
    const bytes = Buffer.concat([encodeFrame(payload), encodeFrame('y|ping')]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const d = new FrameDecoder();
      const a = d.push(bytes.subarray(0, cut));
      const b = d.push(bytes.subarray(cut));
      expect(a.ok && b.ok).toBe(true);
      if (a.ok && b.ok) expect([...a.frames, ...b.frames]).toEqual([payload, 'y|ping']);
    }
  });

  it('rejects a length with a non-digit, a missing length, a zero length and more than five digits', () => {
    for (const bad of ['1a#x', '#abc', '0#', '123456#x']) {
      const r = new FrameDecoder().push(Buffer.from(bad));
      expect(r.ok, bad).toBe(false);
    }
  });

  it('accepts the largest five-digit frame', () => {
    const payload = 'z'.repeat(MAX_FRAME_BYTES);
    const r = new FrameDecoder().push(encodeFrame(payload));
    expect(r.ok && r.frames[0]!.length).toBe(MAX_FRAME_BYTES);
  });

  it('stays failed after an error and never throws on random bytes', () => {
    const d = new FrameDecoder();
    expect(d.push(Buffer.from('x#')).ok).toBe(false);
    expect(d.push(encodeFrame('a|ping')).ok).toBe(false);
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.from(Array.from({ length: 64 }, () => Math.floor(Math.random() * 256)));
      expect(() => new FrameDecoder().push(junk)).not.toThrow();
    }
  });
});
