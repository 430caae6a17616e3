import { describe, expect, it } from 'vitest';
import { serializeMessage } from '../../../src/sip/serializer.js';
import { parseMessage } from '../../../src/sip/parser.js';
import { SipRequest, SipResponse } from '../../../src/sip/message.js';
import { SipMessageError } from '../../../src/sip/errors.js';

const H = [
  { name: 'Via', value: 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1' },
  { name: 'To', value: '<sip:b@example.com>' },
  { name: 'From', value: '<sip:a@example.com>;tag=1' },
  { name: 'Call-ID', value: 'c1' },
  { name: 'CSeq', value: '1 MESSAGE' },
];

describe('serializeMessage (RFC 3261 §7)', () => {
  it('MUST write the start line, headers in the order given, an empty line and the body', () => {
    const req = new SipRequest('MESSAGE', 'sip:b@example.com', H.map((h) => ({ ...h })), Buffer.from('hi'));
    expect(serializeMessage(req).toString()).toBe(
      'MESSAGE sip:b@example.com SIP/2.0\r\n' + H.map((h) => `${h.name}: ${h.value}\r\n`).join('') + 'Content-Length: 2\r\n\r\nhi',
    );
  });

  it('MUST write a Status-Line with the reason phrase', () => {
    const res = new SipResponse(180, 'Ringing', H.map((h) => ({ ...h })));
    expect(serializeMessage(res).toString().split('\r\n')[0]).toBe('SIP/2.0 180 Ringing');
  });

  it('MUST rewrite an existing Content-Length in place to the body byte length (UTF-8)', () => {
    const body = Buffer.from('Grüße 👋', 'utf8');
    const req = new SipRequest('MESSAGE', 'sip:b@example.com', [...H, { name: 'Content-Length', value: '999' }, { name: 'X-After', value: '1' }], body);
    const text = serializeMessage(req).toString('utf8');
    expect(text).toContain(`Content-Length: ${body.length}\r\nX-After: 1\r\n`);
    expect(body.length).toBe(12); // 8 characters, 12 bytes
  });

  it('MUST rewrite a compact l header and drop duplicate Content-Length headers', () => {
    const req = new SipRequest('MESSAGE', 'sip:b@example.com', [...H, { name: 'l', value: '7' }, { name: 'Content-Length', value: '7' }], Buffer.from('abc'));
    const text = serializeMessage(req).toString();
    expect(text).toContain('l: 3\r\n');
    expect(text).not.toContain('Content-Length');
  });

  it('MUST add Content-Length: 0 when there is no body and none is present', () => {
    const req = new SipRequest('OPTIONS', 'sip:b@example.com', H.map((h) => ({ ...h })));
    expect(serializeMessage(req).toString()).toMatch(/Content-Length: 0\r\n\r\n$/);
  });

  it('MUST refuse a header value with CR or LF (header injection is a bug)', () => {
    const req = new SipRequest('OPTIONS', 'sip:b@example.com', [...H, { name: 'Subject', value: 'x\r\nVia: evil' }]);
    expect(() => serializeMessage(req)).toThrow(SipMessageError);
  });

  it('MUST produce bytes the parser reads back to the same message', () => {
    const req = new SipRequest('MESSAGE', 'sip:b@example.com', H.map((h) => ({ ...h })), Buffer.from('\u00e9t\u00e9'));
    const r = parseMessage(serializeMessage(req));
    expect(r.ok && r.message.body.toString()).toBe('\u00e9t\u00e9');
  });
});
