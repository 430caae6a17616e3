import { describe, expect, it } from 'vitest';
import alawmulaw from 'alawmulaw';
import { G711_SILENCE, g711Decode, g711Encode, g711LawOf } from '../../../../src/media/index.js';

describe('G.711 tables', () => {
  it('decode every code word exactly as alawmulaw does (PCMU and PCMA)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(g711Decode('pcmu', all))).toEqual(Array.from(alawmulaw.mulaw.decode(all)));
    expect(Array.from(g711Decode('pcma', all))).toEqual(Array.from(alawmulaw.alaw.decode(all)));
  });

  it('round-trip: decode(encode(x)) is within the quantisation step of x', () => {
    const pcm = Int16Array.from({ length: 2000 }, (_, i) => Math.round(Math.sin(i / 7) * 20000));
    for (const law of ['pcmu', 'pcma'] as const) {
      const back = g711Decode(law, g711Encode(law, pcm));
      for (let i = 0; i < pcm.length; i++) expect(Math.abs(back[i]! - pcm[i]!)).toBeLessThanOrEqual(Math.abs(pcm[i]!) / 16 + 16);
    }
  });

  it('knows the static payload types (RFC 3551) and silence code words', () => {
    expect([g711LawOf(0), g711LawOf(8), g711LawOf(18)]).toEqual(['pcmu', 'pcma', null]);
    expect(g711Decode('pcmu', new Uint8Array([G711_SILENCE.pcmu]))[0]).toBe(0);
    expect(Math.abs(g711Decode('pcma', new Uint8Array([G711_SILENCE.pcma]))[0]!)).toBeLessThanOrEqual(8);
  });
});
