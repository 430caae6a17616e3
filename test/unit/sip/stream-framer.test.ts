import { describe, expect, it } from 'vitest';
import { StreamFramer, type FramerOutput } from '../../../src/sip/stream-framer.js';
import { INVITE_LINES, SDP, sip } from './helpers.js';

const INVITE = sip(INVITE_LINES, SDP);
const OPTIONS = sip(['OPTIONS sip:carol@chicago.com SIP/2.0', ...INVITE_LINES.slice(1, 6), 'CSeq: 1 OPTIONS']);

function kinds(outs: FramerOutput[]): string[] {
  return outs.map((o) => (o.kind === 'keepalive' ? `keepalive:${o.pong}` : o.kind === 'error' ? `error:${o.error.code}:${o.fatal}` : `message:${o.message.kind === 'request' ? o.message.method : o.message.status}`));
}

function feed(framer: StreamFramer, data: Buffer, chunk: number): FramerOutput[] {
  const out: FramerOutput[] = [];
  for (let i = 0; i < data.length; i += chunk) out.push(...framer.push(data.subarray(i, i + chunk)));
  return out;
}

describe('StreamFramer (RFC 3261 §18.3 framing on TCP)', () => {
  it('MUST frame a message delivered in one chunk and return its raw bytes', () => {
    const outs = new StreamFramer().push(INVITE);
    expect(kinds(outs)).toEqual(['message:INVITE']);
    const o = outs[0]!;
    if (o.kind === 'message') {
      expect(o.raw.equals(INVITE)).toBe(true);
      expect(o.message.body.toString()).toBe(SDP);
    }
  });

  it('MUST frame the same message when the input is split at every byte', () => {
    const data = Buffer.concat([INVITE, OPTIONS]);
    for (let cut = 1; cut < data.length; cut++) {
      const f = new StreamFramer();
      const outs = [...f.push(data.subarray(0, cut)), ...f.push(data.subarray(cut))];
      expect(kinds(outs), `cut at ${cut}`).toEqual(['message:INVITE', 'message:OPTIONS']);
    }
    expect(kinds(feed(new StreamFramer(), data, 1))).toEqual(['message:INVITE', 'message:OPTIONS']);
  });

  it('MUST split coalesced messages in order', () => {
    const outs = new StreamFramer().push(Buffer.concat([INVITE, OPTIONS, INVITE]));
    expect(kinds(outs)).toEqual(['message:INVITE', 'message:OPTIONS', 'message:INVITE']);
  });

  it('MUST report a CRLFCRLF keep-alive ping as pong: true (RFC 5626 §3.5.1), also split and between messages', () => {
    expect(kinds(new StreamFramer().push(Buffer.from('\r\n\r\n')))).toEqual(['keepalive:true']);
    expect(kinds(feed(new StreamFramer(), Buffer.from('\r\n\r\n'), 1))).toEqual(['keepalive:true']);
    const mixed = Buffer.concat([Buffer.from('\r\n\r\n'), INVITE, Buffer.from('\r\n\r\n\r\n\r\n'), OPTIONS]);
    expect(kinds(new StreamFramer().push(mixed))).toEqual(['keepalive:true', 'message:INVITE', 'keepalive:true', 'keepalive:true', 'message:OPTIONS']);
  });

  it('MUST treat a lone CRLF (a pong) as a keep-alive that needs no answer', () => {
    expect(kinds(new StreamFramer().push(Buffer.concat([Buffer.from('\r\n'), INVITE])))).toEqual(['keepalive:false', 'message:INVITE']);
  });

  it('MUST report a missing Content-Length as a fatal error with the start line', () => {
    const noCl = Buffer.from(INVITE_LINES.join('\r\n') + '\r\n\r\n');
    const outs = new StreamFramer().push(noCl);
    expect(kinds(outs)).toEqual(['error:SB_ERR_SIP_CONTENT_LENGTH:true']);
    const e = outs[0]!;
    if (e.kind === 'error') expect(e.startLine).toEqual({ kind: 'request', method: 'INVITE', uri: 'sip:bob@biloxi.com' });
  });

  it('MUST reject a message over maxBytes as fatal and recover at the next message', () => {
    const big = sip(INVITE_LINES, 'x'.repeat(5000));
    const f = new StreamFramer({ maxBytes: 2048 });
    const outs = feed(f, Buffer.concat([big, OPTIONS]), 700);
    expect(kinds(outs)).toEqual(['error:SB_ERR_SIP_TOO_LARGE:true', 'message:OPTIONS']);
    const e = outs[0]!;
    if (e.kind === 'error') expect(e.error.message).toMatch(/message of \d+ bytes \(Content-Length 5000\) > limit 2048/);
  });

  it('MUST reject an endless header section over maxBytes and resynchronise on the next start line', () => {
    const junk = Buffer.from('INVITE sip:x@y SIP/2.0\r\nX-Long: ' + 'a'.repeat(5000));
    const f = new StreamFramer({ maxBytes: 1024 });
    const outs = [...feed(f, junk, 333), ...f.push(Buffer.from('\r\n\r\n')), ...f.push(OPTIONS)];
    expect(kinds(outs)).toEqual(['error:SB_ERR_SIP_TOO_LARGE:true', 'message:OPTIONS']);
    expect(f.buffered).toBe(0);
  });

  it('MUST reject a complete header section over maxBytes arriving in one chunk, then recover', () => {
    const big = sip([...INVITE_LINES, `X-Big: ${'b'.repeat(3000)}`]);
    const outs = new StreamFramer({ maxBytes: 2048 }).push(Buffer.concat([big, OPTIONS]));
    expect(kinds(outs)).toEqual(['error:SB_ERR_SIP_TOO_LARGE:true', 'message:OPTIONS']);
  });

  it('MUST skip a malformed message whose length is known and go on (non-fatal)', () => {
    const bad = sip([...INVITE_LINES.slice(0, 6), 'CSeq: nope INVITE'], 'body');
    const outs = new StreamFramer().push(Buffer.concat([bad, OPTIONS]));
    expect(kinds(outs)).toEqual(['error:SB_ERR_SIP_HEADER:false', 'message:OPTIONS']);
  });

  it('MUST count Content-Length in bytes for a UTF-8 body', () => {
    const body = 'héllo wörld — 你好';
    const msg = sip(['MESSAGE sip:b@x SIP/2.0', ...INVITE_LINES.slice(1, 6), 'CSeq: 2 MESSAGE', 'Content-Type: text/plain'], body);
    const outs = feed(new StreamFramer(), Buffer.concat([msg, OPTIONS]), 3);
    expect(kinds(outs)).toEqual(['message:MESSAGE', 'message:OPTIONS']);
    const o = outs[0]!;
    if (o.kind === 'message') expect(o.message.body.toString('utf8')).toBe(body);
  });

  it('MUST wait for the whole body before emitting', () => {
    const f = new StreamFramer();
    expect(f.push(INVITE.subarray(0, INVITE.length - 1))).toEqual([]);
    expect(kinds(f.push(INVITE.subarray(INVITE.length - 1)))).toEqual(['message:INVITE']);
  });

  it('MUST resynchronise on a long start line split across small chunks after unframeable garbage', () => {
    const longUri = `sip:${'u'.repeat(400)}@chicago.com`;
    const next = sip([`OPTIONS ${longUri} SIP/2.0`, ...INVITE_LINES.slice(1, 6), 'CSeq: 1 OPTIONS']);
    const noCl = Buffer.from(INVITE_LINES.join('\r\n') + '\r\n\r\n' + 'garbage body '.repeat(50));
    const outs = feed(new StreamFramer(), Buffer.concat([noCl, next]), 50);
    expect(kinds(outs)).toEqual(['error:SB_ERR_SIP_CONTENT_LENGTH:true', 'message:OPTIONS']);
    const o = outs[1]!;
    if (o.kind === 'message' && o.message.kind === 'request') expect(o.message.uri).toBe(longUri);
  });
});

describe('findStartLine', () => {
  it('MUST find request and response start lines anywhere and stay linear on hostile input', async () => {
    const { findStartLine } = await import('../../../src/sip/stream-framer.js');
    expect(findStartLine(Buffer.from('junk body INVITE sip:a@b SIP/2.0\r\nVia: x'))).toBe(10);
    expect(findStartLine(Buffer.from('xx\r\nSIP/2.0 180 Ringing\r\n'))).toBe(4);
    expect(findStartLine(Buffer.from('Via: SIP/2.0/UDP host\r\nlowercase sip:x SIP/2.0\r\n'))).toBe(-1);
    const hostile = Buffer.from('A'.repeat(200_000) + ' ' + 'B'.repeat(200_000));
    expect(findStartLine(hostile)).toBe(-1);
  });

  it('MUST frame a 60 KB message fed one byte at a time, its buffer bounded by twice the backlog, and free it after', () => {
    const body = 'x'.repeat(60_000);
    const big = sip([...INVITE_LINES.slice(0, -1), `Content-Length: ${body.length}`], body);
    const f = new StreamFramer();
    const outs: FramerOutput[] = [];
    let maxCapacity = 0;
    for (let i = 0; i < big.length; i++) {
      outs.push(...f.push(big.subarray(i, i + 1)));
      maxCapacity = Math.max(maxCapacity, f.capacity);
      expect(f.capacity).toBeLessThanOrEqual(Math.max(4096, 2 * (f.buffered + 1)) * 2);
    }
    expect(kinds(outs)).toEqual(['message:INVITE']);
    if (outs[0]!.kind === 'message') expect(outs[0]!.message.body.length).toBe(60_000);
    expect(maxCapacity).toBeLessThan(4 * big.length);
    expect(f.buffered).toBe(0);
    expect(f.capacity).toBe(0);
  });

  it('MUST hand out messages that do not share memory with later input', () => {
    const f = new StreamFramer();
    const data = Buffer.concat([INVITE, OPTIONS]);
    const half = Math.floor(INVITE.length + OPTIONS.length / 2);
    const first = f.push(Buffer.from(data.subarray(0, half)));
    const second = f.push(Buffer.from(data.subarray(half)));
    expect(kinds([...first, ...second])).toEqual(['message:INVITE', 'message:OPTIONS']);
    const inv = first[0]!;
    if (inv.kind === 'message') expect(inv.raw.equals(INVITE)).toBe(true);
  });

  it('MUST give a header-syntax error the header section, non-fatal when Content-Length lets it skip the message', () => {
    const bad = sip(INVITE_LINES.map((l) => (l.startsWith('From:') ? 'From: <sip:a@b>;tag=x|y' : l)), SDP);
    const outs = new StreamFramer().push(Buffer.concat([bad, OPTIONS]));
    expect(kinds(outs)).toEqual(['error:SB_ERR_SIP_HEADER:false', 'message:OPTIONS']);
    const e = outs[0]!;
    if (e.kind === 'error') {
      expect(e.head?.toString('latin1')).toContain('Via: ');
      expect(e.head?.toString('latin1')).toContain('tag=x|y');
    }
  });
});
