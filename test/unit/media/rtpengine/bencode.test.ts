/**
 * The ng protocol's body codec: bencode (BEP 3), binary-safe. Byte strings stay Buffers, so an SDP with UTF-8 or a
 * `blob` of audio bytes survives a round trip byte for byte; malformed input is a value naming the byte offset.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, isDict, type BencodeValue } from '../../../../src/media/rtpengine/bencode.js';
import { prng } from '../../../support/prng.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const ok = (s: string | Buffer): BencodeValue => {
  const r = decode(typeof s === 'string' ? b(s) : s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const fail = (s: string) => {
  const r = decode(b(s));
  if (r.ok) throw new Error(`decoded ${JSON.stringify(s)}`);
  return r.error;
};

describe('bencode encode', () => {
  it('encodes integers, strings, lists and dictionaries as BEP 3 says', () => {
    expect(encode(42).toString()).toBe('i42e');
    expect(encode(-7).toString()).toBe('i-7e');
    expect(encode(0).toString()).toBe('i0e');
    expect(encode('spam').toString()).toBe('4:spam');
    expect(encode(['spam', 1]).toString()).toBe('l4:spami1ee');
    expect(encode({ command: 'ping' }).toString()).toBe('d7:command4:pinge');
  });

  it('sorts dictionary keys by their bytes and leaves out undefined entries', () => {
    expect(encode({ zeta: 1, 'call-id': 'x', alpha: undefined, Beta: 2 }).toString()).toBe('d4:Betai2e7:call-id1:x4:zetai1ee');
  });

  it('encodes strings as UTF-8 and counts bytes, not characters, in the length', () => {
    expect(encode('s=Grüße').toString('utf8')).toBe('9:s=Grüße');
  });

  it('writes Buffers verbatim, every byte value included', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const e = encode({ blob: all });
    expect(e.subarray(0, 11).toString('latin1')).toBe('d4:blob256:');
    expect(e.subarray(11, 11 + 256).equals(all)).toBe(true);
  });

  it('rejects what bencode cannot carry with a TypeError naming the path', () => {
    expect(() => encode({ a: [1.5] })).toThrow(/value\.a\[0\] is 1\.5, not a safe integer/);
    expect(() => encode({ a: null as never })).toThrow(/value\.a has unsupported type null/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(() => encode(cyc as never)).toThrow(/cycle/);
    expect(() => encode({ 'ключ': 1 })).toThrow(/not latin1/);
  });
});

describe('bencode decode', () => {
  it('decodes byte strings to Buffers, never to text', () => {
    const v = ok('d3:sdp5:v=0\r\ne');
    expect(isDict(v)).toBe(true);
    const sdp = (v as Record<string, BencodeValue>).sdp;
    expect(Buffer.isBuffer(sdp)).toBe(true);
    expect((sdp as Buffer).toString()).toBe('v=0\r\n');
  });

  it('round-trips binary values byte for byte (invalid UTF-8 included)', () => {
    const rnd = prng(9);
    for (let n = 0; n < 200; n++) {
      const blob = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
      const value = { 'call-id': 'c', blob, list: [blob, -n - 1, { inner: blob }] };
      const back = ok(encode(value)) as Record<string, BencodeValue>;
      expect((back.blob as Buffer).equals(blob)).toBe(true);
      const list = back.list as BencodeValue[];
      expect((list[0] as Buffer).equals(blob)).toBe(true);
      expect(list[1]).toBe(-n - 1);
      expect(((list[2] as Record<string, BencodeValue>).inner as Buffer).equals(blob)).toBe(true);
      expect(encode(back as never).equals(encode(value))).toBe(true);
    }
  });

  it('keeps non-ASCII key bytes intact (latin1 keys map each byte to one char)', () => {
    const raw = Buffer.concat([b('d2:'), Buffer.from([0xc3, 0x28]), b('i1ee')]);
    const v = ok(raw) as Record<string, BencodeValue>;
    expect(Object.keys(v)).toEqual(['\u00c3(']);
    expect(encode(v as never).equals(raw)).toBe(true);
  });

  it('accepts dictionaries in wire order (rtpengine does not sort its keys) and has no prototype keys', () => {
    const v = ok('d6:result2:ok4:calldee') as Record<string, BencodeValue>;
    expect(Object.keys(v)).toEqual(['result', 'call']);
    const p = ok('d9:__proto__d8:pollutedi1eee') as Record<string, BencodeValue>;
    expect(Object.keys(p)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(p)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['', /unexpected end of input.*at byte 0/, 0],
    ['i12', /integer is not terminated.*at byte 3/, 3],
    ['i-0e', /"-0"/, 1],
    ['i012e', /leading zero/, 1],
    ['ie', /expected a digit in integer/, 1],
    ['i1xe', /expected 'e' after integer, got 0x78/, 2],
    ['5:abc', /string length 5 > 3 bytes left/, 0],
    ['05:abcde', /string length has a leading zero/, 0],
    ['-1:a', /unexpected byte 0x2d/, 0],
    ['l4:spam', /list opened at byte 0 is not terminated/, 7],
    ['d3:fooi1e', /dictionary opened at byte 0 is not terminated/, 9],
    ['di1ei2ee', /dictionary key is not a string/, 1],
    ['d1:ai1e1:ai2ee', /duplicate dictionary key "a"/, 7],
    ['i1ei2e', /3 trailing bytes/, 3],
    ['x', /unexpected byte 0x78/, 0],
    ['i99999999999999999999e', /outside the safe integer range/, 1],
  ])('rejects %j with an error that names the position', (input, message, position) => {
    const e = fail(input);
    expect(e.message).toMatch(message);
    expect(e.position).toBe(position);
  });

  it('caps the nesting depth so hostile input cannot exhaust the stack', () => {
    const deep = 'l'.repeat(10_000) + 'e'.repeat(10_000);
    expect(fail(deep).message).toMatch(/nesting deeper than 32/);
    expect(decode(b('l'.repeat(5) + 'e'.repeat(5)), { maxDepth: 5 }).ok).toBe(true);
  });

  it('never throws on random bytes', () => {
    const rnd = prng(4733);
    const alphabet = b('ilde:0123456789-x');
    for (let n = 0; n < 5000; n++) {
      const len = Math.floor(rnd() * 24);
      const buf = Buffer.from(Array.from({ length: len }, () => (rnd() < 0.8 ? alphabet[Math.floor(rnd() * alphabet.length)]! : Math.floor(rnd() * 256))));
      decode(buf); // a throw fails the test
    }
  });
});
