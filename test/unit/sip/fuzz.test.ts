/**
 * Bad input never crashes us (STYLE.md §1): random bytes and mutations of real messages go through the datagram
 * parser and the stream framer without throwing. Seeded, so a failure is reproducible.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/sip/parser.js';
import { StreamFramer } from '../../../src/sip/stream-framer.js';
import { serializeMessage } from '../../../src/sip/serializer.js';
import { fixtureFiles, prng } from './helpers.js';

const corpus = [...fixtureFiles('flows'), ...fixtureFiles('torture/valid'), ...fixtureFiles('torture/invalid')].map(([, b]) => b);

function mutate(rand: () => number, input: Buffer): Buffer {
  const b = Buffer.from(input);
  const pick = rand();
  if (pick < 0.25) return b.subarray(0, Math.floor(rand() * b.length)); // truncation
  if (pick < 0.5) {
    for (let i = 0; i < 1 + rand() * 8; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256); // byte flips
    return b;
  }
  if (pick < 0.65) {
    const at = b.indexOf('\r\n') + 2;
    return Buffer.concat([b.subarray(0, at), Buffer.from(`X-Huge: ${'A'.repeat(Math.floor(rand() * 100_000))}\r\n`), b.subarray(at)]); // huge header
  }
  if (pick < 0.8) {
    const s = b.toString('latin1');
    const cl = ['-1', '99999999999', '1e3', '', ' 5 5', String(Math.floor(rand() * 1000)), '0x10', '4294967296'][Math.floor(rand() * 8)];
    return Buffer.from(/Content-Length\s*:[^\r\n]*/i.test(s) ? s.replace(/Content-Length\s*:[^\r\n]*/i, `Content-Length: ${cl}`) : s, 'latin1'); // bogus Content-Length
  }
  const at = Math.floor(rand() * b.length); // duplicate a random slice
  return Buffer.concat([b.subarray(0, at), b.subarray(Math.floor(rand() * b.length)), b.subarray(at)]);
}

describe('robustness', () => {
  it('MUST NOT throw on 3000 random byte strings (datagram and stream)', () => {
    const rand = prng(4475);
    const framer = new StreamFramer({ maxBytes: 4096 });
    for (let n = 0; n < 3000; n++) {
      const len = Math.floor(rand() * 600);
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = rand() < 0.3 ? [13, 10, 32, 58, 59][Math.floor(rand() * 5)]! : Math.floor(rand() * 256);
      expect(() => parseMessage(b)).not.toThrow();
      expect(() => framer.push(b)).not.toThrow();
    }
  });

  it('MUST NOT throw on 5000 mutations of real messages (truncation, byte flips, huge headers, bogus Content-Length)', () => {
    const rand = prng(3261);
    const framer = new StreamFramer();
    let parsed = 0;
    for (let n = 0; n < 5000; n++) {
      const input = mutate(rand, corpus[Math.floor(rand() * corpus.length)]!);
      const r = parseMessage(input);
      if (r.ok) {
        parsed++;
        // Whatever parses must serialize and parse again.
        expect(parseMessage(serializeMessage(r.message)).ok).toBe(true);
      } else {
        expect(r.error.code).toMatch(/^SB_ERR_SIP_/);
        expect(r.error.message.length).toBeGreaterThan(0);
      }
      expect(() => framer.push(input)).not.toThrow();
    }
    expect(parsed).toBeGreaterThan(0);
  });

  it('MUST keep the framer buffer bounded under endless garbage', () => {
    const framer = new StreamFramer({ maxBytes: 2048 });
    const rand = prng(7);
    for (let n = 0; n < 200; n++) {
      const b = Buffer.alloc(1000);
      for (let i = 0; i < b.length; i++) b[i] = 0x41 + Math.floor(rand() * 26);
      framer.push(b);
      expect(framer.buffered).toBeLessThanOrEqual(4096 + 1000); // resync keeps at most 4 KiB plus the last chunk
    }
  });
});
