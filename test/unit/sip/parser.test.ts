import { describe, expect, it } from 'vitest';
import { missingMandatoryHeader, parseMessage } from '../../../src/sip/parser.js';
import { serializeMessage } from '../../../src/sip/serializer.js';
import { SipRequest } from '../../../src/sip/message.js';
import { fixtureFiles, INVITE_LINES, SDP, sip, view } from './helpers.js';

function parseOk(buf: Buffer) {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.message;
}

describe('parseMessage: start line (RFC 3261 §7.1, §7.2)', () => {
  it('MUST parse a Request-Line into method, Request-URI and version', () => {
    const m = parseOk(sip(INVITE_LINES, SDP));
    expect(m.kind).toBe('request');
    if (m.kind !== 'request') return;
    expect([m.method, m.uri, m.version]).toEqual(['INVITE', 'sip:bob@biloxi.com', 'SIP/2.0']);
  });

  it('MUST parse a Status-Line, keeping a reason phrase with spaces and an empty one', () => {
    const m = parseOk(sip(['SIP/2.0 486 Busy Here Right Now', ...INVITE_LINES.slice(1)]));
    expect(m.kind === 'response' && [m.status, m.reason]).toEqual([486, 'Busy Here Right Now']);
    const e = parseOk(sip(['SIP/2.0 200 ', ...INVITE_LINES.slice(1)]));
    expect(e.kind === 'response' && [e.status, e.reason]).toEqual([200, '']);
  });

  it('MUST reject a status code that is not 3 digits (SB_ERR_SIP_PARSE)', () => {
    for (const line of ['SIP/2.0 20 OK', 'SIP/2.0 2000 OK', 'SIP/2.0 099 X', 'SIP/2.0 700 X', 'SIP/2.0 abc OK']) {
      const r = parseMessage(sip([line, ...INVITE_LINES.slice(1)]));
      expect(r.ok, line).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SB_ERR_SIP_PARSE');
    }
  });

  it('MUST reject a Request-Line without exactly single SPs between three elements', () => {
    for (const line of ['INVITE sip:a@b', 'INVITE  sip:a@b SIP/2.0', 'INVITE sip:a@b SIP/2.0 ', 'INV ITE sip:a@b SIP/2.0', 'INVITE sip:a@b HTTP/1.1']) {
      const r = parseMessage(sip([line, ...INVITE_LINES.slice(1)]));
      expect(r.ok, line).toBe(false);
    }
  });

  it('MUST report the start line of a request whose headers are broken, so a 400 can be sent', () => {
    const r = parseMessage(sip([...INVITE_LINES.slice(0, 6), 'CSeq: x INVITE']));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ code: 'SB_ERR_SIP_HEADER', header: 'CSeq' });
    expect(r.startLine).toEqual({ kind: 'request', method: 'INVITE', uri: 'sip:bob@biloxi.com' });
  });

  it('SHOULD ignore CRLFs preceding the start line (§7.5)', () => {
    const m = parseOk(Buffer.concat([Buffer.from('\r\n\r\n'), sip(INVITE_LINES)]));
    expect(m.kind).toBe('request');
  });
});

describe('parseMessage: headers (RFC 3261 §7.3)', () => {
  it('MUST unfold header lines continued with SP or HTAB (§7.3.1) into one SP', () => {
    const m = parseOk(sip([...INVITE_LINES, 'Subject: I know you are there,', '   pick up the phone', '\tand talk to me!']));
    expect(m.get('subject')).toBe('I know you are there, pick up the phone and talk to me!');
  });

  it('MUST keep header names as spelled and unknown headers byte for byte', () => {
    const m = parseOk(sip([...INVITE_LINES, 'X-wEiRd-Header:   keep;this=1,  "as is"  ', 'NewFangledHeader: newfangled value']));
    expect(m.headers.find((h) => h.name === 'X-wEiRd-Header')?.value).toBe('keep;this=1,  "as is"');
    expect(m.get('newfangledheader')).toBe('newfangled value');
  });

  it('MUST accept whitespace between a header name and the colon (HCOLON)', () => {
    const m = parseOk(sip([...INVITE_LINES.slice(0, 3), 'To   \t: Bob <sip:bob@biloxi.com>', ...INVITE_LINES.slice(4)]));
    expect(m.headers[2]).toEqual({ name: 'To', value: 'Bob <sip:bob@biloxi.com>', key: 'to' });
  });

  it('keeps each header\'s canonical name with it (compact forms expanded), so get() needs no lookup per header', () => {
    const m = parseOk(sip([...INVITE_LINES.slice(0, 4), 'f: <sip:a@b>;tag=1', 'CALL-ID: x', ...INVITE_LINES.slice(6)]));
    expect(m.headers.slice(3, 5).map((h) => [h.name, h.key])).toEqual([['f', 'from'], ['CALL-ID', 'call-id']]);
    expect(m.get('From')).toBe('<sip:a@b>;tag=1');
    m.append('X-Later', '1');
    m.headers.push({ name: 'X-No-Key', value: '2' });
    expect([m.get('x-later'), m.get('x-no-key')]).toEqual(['1', '2']);
  });

  it('MUST understand compact forms (§7.3.3)', () => {
    const [, bytes] = fixtureFiles('flows').find(([n]) => n === 'options-compact.sip')!;
    const m = parseOk(bytes);
    expect(m.get('via')).toContain('z9hG4bKhjhs8ass877');
    expect(m.callId).toBe('a84b4c76e66710');
    expect(missingMandatoryHeader(m)).toBeUndefined();
  });

  it('MUST reject a header line without a colon or with a non-token name (SB_ERR_SIP_HEADER)', () => {
    for (const bad of ['Foobar roobar', 'Bad Name: x', ': empty name']) {
      const r = parseMessage(sip([...INVITE_LINES, bad]));
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SB_ERR_SIP_HEADER');
    }
  });

  it('MUST reject malformed Via, From, To, CSeq, Call-ID and Max-Forwards values and name the header', () => {
    const cases: Array<[number, string, string]> = [
      [1, 'Via: SIP/2.0/UDP', 'Via'],
      [3, 'To: "unterminated <sip:bob@biloxi.com>', 'To'],
      [4, 'From: Alice <sip:alice@atlanta.com;tag=1', 'From'],
      [5, 'Call-ID: has space', 'Call-ID'],
      [6, 'CSeq: 4294967296 INVITE', 'CSeq'],
      [2, 'Max-Forwards: 256', 'Max-Forwards'],
    ];
    for (const [i, line, header] of cases) {
      const lines = [...INVITE_LINES];
      lines[i] = line;
      const r = parseMessage(sip(lines));
      expect(r.ok, line).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ code: 'SB_ERR_SIP_HEADER', header });
    }
  });

  it('MUST enforce the header count limit (SB_ERR_SIP_TOO_LARGE)', () => {
    const many = Array.from({ length: 20 }, (_, i) => `X-H${i}: ${i}`);
    const r = parseMessage(sip([...INVITE_LINES, ...many]), { maxHeaders: 15 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe('more than 15 header fields');
  });
});

describe('parseMessage: body and Content-Length on datagrams (RFC 3261 §18.3, §20.14)', () => {
  it('MUST take the rest of the datagram as the body when Content-Length is absent', () => {
    const buf = Buffer.from(INVITE_LINES.join('\r\n') + '\r\n\r\n' + SDP);
    expect(parseOk(buf).body.toString()).toBe(SDP);
  });

  it('MUST truncate the body to Content-Length and ignore the extra bytes', () => {
    const m = parseOk(sip([...INVITE_LINES, 'Content-Length: 3'], 'v=0 and garbage'));
    expect(m.body.toString()).toBe('v=0');
  });

  it('MUST reject a Content-Length larger than the bytes left, naming both numbers', () => {
    const r = parseMessage(sip([...INVITE_LINES, 'Content-Length: 512'], 'x'.repeat(300)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toEqual({ code: 'SB_ERR_SIP_CONTENT_LENGTH', message: 'Content-Length 512 > 300 bytes left', header: 'Content-Length' });
  });

  it('MUST count Content-Length in bytes, not characters (UTF-8 body)', () => {
    const body = 'Grüße — 你好 👋';
    const m = parseOk(sip([...INVITE_LINES.slice(0, 8), 'Content-Type: text/plain'], body));
    expect(m.body.toString('utf8')).toBe(body);
    expect(m.get('content-length')).toBe(String(Buffer.byteLength(body)));
  });

  it('MUST reject a negative, non-numeric or conflicting Content-Length', () => {
    for (const cl of [['Content-Length: -1'], ['l: 12abc'], ['Content-Length: 4', 'l: 5']]) {
      const r = parseMessage(sip([...INVITE_LINES, ...cl], 'abcd'));
      expect(r.ok, cl.join()).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SB_ERR_SIP_CONTENT_LENGTH');
    }
  });

  it('MUST reject a datagram larger than maxBytes (SB_ERR_SIP_TOO_LARGE)', () => {
    const r = parseMessage(sip(INVITE_LINES, 'x'.repeat(2000)), { maxBytes: 1000 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('SB_ERR_SIP_TOO_LARGE');
  });

  it('MUST reject a message with no empty line after the headers and trailing bytes', () => {
    const r = parseMessage(Buffer.from(INVITE_LINES.join('\r\n')));
    expect(r.ok).toBe(false);
  });
});

describe('missingMandatoryHeader (RFC 3261 §8.1.1, §8.2.2)', () => {
  it('MUST name the first missing of To, From, CSeq, Call-ID, Via', () => {
    const m = parseOk(sip(INVITE_LINES));
    expect(missingMandatoryHeader(m)).toBeUndefined();
    for (const name of ['To', 'From', 'CSeq', 'Call-ID', 'Via']) {
      const c = m.clone();
      c.remove(name);
      expect(missingMandatoryHeader(c)).toBe(name);
    }
  });

  it('MUST report From or To when a drachtio-wire separator or other non-token byte is in its tag or parameters', () => {
    const m = parseOk(sip(INVITE_LINES));
    for (const name of ['From', 'To']) {
      for (const bad of [';tag=a|b', ';tag=a|network|x', ';tag=a#b', ';tag="a|b"', ';tag=a;x|y=1', ';tag=']) {
        const c = m.clone();
        c.set(name, `<sip:alice@atlanta.example.com>${bad}`);
        expect(missingMandatoryHeader(c), `${name}${bad}`).toBe(name);
      }
      const ok = m.clone();
      ok.set(name, '"A ; B" <sip:alice@atlanta.example.com;transport=tcp>;tag=a.b-c_d!e%f*g+h`i\'j~k;x=[::1]');
      expect(missingMandatoryHeader(ok), `${name} ok`).toBeUndefined();
    }
  });

  it('MUST report Call-ID when it holds a drachtio-wire separator', () => {
    const m = parseOk(sip(INVITE_LINES));
    for (const bad of ['a|b', 'a|b@host', 'a@b|c', 'a;b']) {
      const c = m.clone();
      c.set('Call-ID', bad);
      expect(missingMandatoryHeader(c), bad).toBe('Call-ID');
    }
  });

  it('MUST NOT require Max-Forwards', () => {
    const m = parseOk(sip(INVITE_LINES));
    m.remove('max-forwards');
    expect(missingMandatoryHeader(m)).toBeUndefined();
  });

  it('MUST report CSeq when the CSeq method differs from the request method', () => {
    const m = parseOk(sip(INVITE_LINES)) as SipRequest;
    m.set('CSeq', '314159 BYE');
    expect(missingMandatoryHeader(m)).toBe('CSeq');
  });
});

describe('round trip on the call-flow corpus (RFC 3261 §24, RFC 3665)', () => {
  const files = fixtureFiles('flows');
  it('has a corpus', () => expect(files.length).toBeGreaterThanOrEqual(20));
  for (const [name, bytes] of files) {
    it(`MUST give parse(serialize(parse(x))) equal to parse(x): ${name}`, () => {
      const first = parseOk(bytes);
      const again = parseOk(serializeMessage(first));
      expect(view(again)).toEqual(view(first));
      expect(missingMandatoryHeader(first)).toBeUndefined();
    });
  }
});
