import { describe, expect, it } from 'vitest';
import { canonicalName, SipRequest, serializeMessage } from '../../../src/sip/index.js';
import { conventionalHeaderName, copyAppHeaders, defaultContentType, parseAppMessage, replaceLocalhost, splitChallenges } from '../../../src/drachtio-lite/app-message.js';

describe('app SIP text (drachtio-srf serializer output)', () => {
  it('takes the whole body and ignores srf\'s UTF-16 Content-Length', () => {
    const body = 'ünïcødé 😀';
    const text = `MESSAGE sip:a@b SIP/2.0\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const r = parseAppMessage(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.body.toString('utf8')).toBe(body);
    expect(r.message.has('content-length')).toBe(false);
    expect(serializeMessage(r.message).toString()).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
  });

  it('parses responses and requests without the headers the server fills in', () => {
    const r = parseAppMessage('SIP/2.0 180 Ringing\r\ncall-id: x\r\ncseq: 1 INVITE\r\nfrom: <sip:a@b>;tag=1\r\nto: <sip:c@d>\r\ncontent-length: 0\r\n\r\n');
    expect(r.ok && r.message.kind === 'response' && r.message.status).toBe(180);
    const q = parseAppMessage('BYE sip:placeholder SIP/2.0\r\ncontent-length: 0\r\n\r\n');
    expect(q.ok && q.message.kind === 'request' && q.message.method).toBe('BYE');
  });

  it('rejects text that is not SIP', () => {
    expect(parseAppMessage('hello there').ok).toBe(false);
  });

  it('spells names as the former regular expressions did, for every shape of name', () => {
    const reference = (name: string): string => {
      if (/^[xXpP]-/.test(name)) return name;
      const lower = canonicalName(name);
      const special: Record<string, string> = { 'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version', rack: 'RAck', rseq: 'RSeq', 'min-se': 'Min-SE', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match', 'p-asserted-identity': 'P-Asserted-Identity' };
      return special[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    };
    for (const name of ['via', 'VIA', 'content-type', 'Record-Route', 'a--b', '-lead', 'trail-', '1x-2y', 'x', 'p', 'X-', 'p-Thing', 'xy-z', 'Accept-Resource-Priority', 'session-expires', 'ALLOW-events', 'user-agent', 'a.b_c-d!e']) {
      expect(conventionalHeaderName(name), name).toBe(reference(name));
    }
  });

  it('restores conventional header spelling', () => {
    expect(conventionalHeaderName('call-id')).toBe('Call-ID');
    expect(conventionalHeaderName('content-type')).toBe('Content-Type');
    expect(conventionalHeaderName('cseq')).toBe('CSeq');
    expect(conventionalHeaderName('www-authenticate')).toBe('WWW-Authenticate');
    expect(conventionalHeaderName('X-Custom-thing')).toBe('X-Custom-thing');
  });

  it('copies only headers the server does not own, and defaults SDP bodies to application/sdp', () => {
    const from = new SipRequest('INVITE', 'sip:a@b', [
      { name: 'Via', value: 'SIP/2.0/UDP x;branch=z9hG4bKx' }, { name: 'From', value: '<sip:x@y>' }, { name: 'X-A', value: '1' }, { name: 'Subject', value: 's' },
    ]);
    const to = new SipRequest('INVITE', 'sip:a@b');
    copyAppHeaders(from, to);
    expect(to.headers.map((h) => h.name)).toEqual(['X-A', 'Subject']);
    to.body = Buffer.from('v=0\r\n');
    defaultContentType(to);
    expect(to.get('content-type')).toBe('application/sdp');
  });

  it('replaces @localhost only as a whole word, in any case', () => {
    const m = new SipRequest('INVITE', 'sip:b@localhost', [
      { name: 'From', value: '<sip:a@LocalHost:5060>;tag=1' }, { name: 'To', value: '<sip:b@localhostx>' }, { name: 'Contact', value: '<sip:c@x>, <sip:d@localhost>' },
    ]);
    replaceLocalhost(m, '10.0.0.1:5070');
    expect(m.get('from')).toBe('<sip:a@10.0.0.1:5070>;tag=1');
    expect(m.get('to')).toBe('<sip:b@localhostx>');
    expect(m.get('contact')).toBe('<sip:c@x>, <sip:d@10.0.0.1:5070>');
  });

  it('replaces @localhost in From, To, Contact and P-Asserted-Identity (as drachtio-server does), nowhere else', () => {
    const m = new SipRequest('INVITE', 'sip:b@localhost', [
      { name: 'From', value: '"Alice" <sip:alice@localhost>;tag=1' }, { name: 'Contact', value: 'sip:alice@localhost' },
      { name: 'P-Asserted-Identity', value: '<sip:+1555@localhost:5060>' }, { name: 'X-Note', value: 'x@localhost' },
    ]);
    replaceLocalhost(m, '127.0.0.1:5080');
    expect(m.get('from')).toBe('"Alice" <sip:alice@127.0.0.1:5080>;tag=1');
    expect(m.get('contact')).toBe('sip:alice@127.0.0.1:5080');
    expect(m.get('p-asserted-identity')).toBe('<sip:+1555@127.0.0.1:5080>');
    expect(m.get('x-note')).toBe('x@localhost');
    expect(m.uri).toBe('sip:b@localhost');
  });
});

describe('challenges from the app', () => {
  it('MUST send each digest challenge on its own header line (RFC 8760 §2.4), splitting what srf joined with commas', () => {
    const text = [
      'SIP/2.0 401 Unauthorized',
      'www-authenticate: Digest realm="pbx", nonce="a,b", algorithm=MD5, qop="auth", Digest realm="pbx", nonce="c", algorithm=SHA-256, qop="auth"',
      '', '',
    ].join('\r\n');
    const r = parseAppMessage(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.headers.filter((h) => h.name === 'WWW-Authenticate').map((h) => h.value)).toEqual([
      'Digest realm="pbx", nonce="a,b", algorithm=MD5, qop="auth"',
      'Digest realm="pbx", nonce="c", algorithm=SHA-256, qop="auth"',
    ]);
  });

  it('keeps a single challenge whole', () => {
    expect(splitChallenges('Digest realm="x", nonce="n", opaque="o, p"')).toEqual(['Digest realm="x", nonce="n", opaque="o, p"']);
  });
});
