/**
 * RFC 4475 torture corpus (test/fixtures/sip/torture). Every valid message parses; every invalid one fails with the
 * code listed here, or is on the skip list with the reason and the check that catches it instead.
 */
import { describe, expect, it } from 'vitest';
import { missingMandatoryHeader, parseMessage } from '../../../src/sip/parser.js';
import { serializeMessage } from '../../../src/sip/serializer.js';
import { StreamFramer } from '../../../src/sip/stream-framer.js';
import type { SipParseErrorCode } from '../../../src/sip/errors.js';
import type { SipMessage } from '../../../src/sip/message.js';
import { fixtureFiles, view } from './helpers.js';

/** Expected failure code of each invalid message (RFC 4475 section in the comment). */
const EXPECTED: Record<string, SipParseErrorCode> = {
  'badinv01.dat': 'SB_ERR_SIP_HEADER', // 3.1.2.1 extraneous header field separators
  'clerr.dat': 'SB_ERR_SIP_CONTENT_LENGTH', // 3.1.2.2 Content-Length larger than message
  'ncl.dat': 'SB_ERR_SIP_CONTENT_LENGTH', // 3.1.2.3 negative Content-Length
  'scalar02.dat': 'SB_ERR_SIP_HEADER', // 3.1.2.4 request scalar fields with overlarge values
  'scalarlg.dat': 'SB_ERR_SIP_HEADER', // 3.1.2.5 response scalar fields with overlarge values
  'quotbal.dat': 'SB_ERR_SIP_HEADER', // 3.1.2.6 unterminated quoted string in display name
  'ltgtruri.dat': 'SB_ERR_SIP_PARSE', // 3.1.2.7 <> enclosing Request-URI
  'lwsruri.dat': 'SB_ERR_SIP_PARSE', // 3.1.2.8 malformed SIP Request-URI (embedded LWS)
  'lwsstart.dat': 'SB_ERR_SIP_PARSE', // 3.1.2.9 multiple SP separating Request-Line elements
  'trws.dat': 'SB_ERR_SIP_PARSE', // 3.1.2.10 SP characters at end of Request-Line
  'escruri.dat': 'SB_ERR_SIP_PARSE', // 3.1.2.11 escaped headers in SIP Request-URI
  'baddate.dat': 'SB_ERR_SIP_HEADER', // 3.1.2.12 invalid time zone in Date header field
  'regbadct.dat': 'SB_ERR_SIP_HEADER', // 3.1.2.13 failure to enclose name-addr URI in <>
  'badaspec.dat': 'SB_ERR_SIP_HEADER', // 3.1.2.14 spaces within addr-spec
  'baddn.dat': 'SB_ERR_SIP_HEADER', // 3.1.2.15 non-token characters in display name
  'bigcode.dat': 'SB_ERR_SIP_PARSE', // 3.1.2.19 overlarge response code
  'multi01.dat': 'SB_ERR_SIP_HEADER', // 3.3.8 multiple values in single-value required header fields
  'mcl01.dat': 'SB_ERR_SIP_CONTENT_LENGTH', // 3.3.9 multiple Content-Length values
};

/** Invalid messages that are well formed at the parser level; each has the check that rejects it. */
const SKIP: Record<string, { reason: string; check: (m: SipMessage) => void }> = {
  'badvers.dat': {
    reason: '3.1.2.16 unknown protocol version: syntactically valid; the UAS answers 505 (semantic, not a parse error)',
    check: (m) => expect(m.version).toBe('SIP/7.0'),
  },
  'mismatch01.dat': {
    reason: '3.1.2.17 start line and CSeq method mismatch: semantic; missingMandatoryHeader reports CSeq → 400',
    check: (m) => expect(missingMandatoryHeader(m)).toBe('CSeq'),
  },
  'mismatch02.dat': {
    reason: '3.1.2.18 unknown method with CSeq method mismatch: semantic; missingMandatoryHeader reports CSeq → 400',
    check: (m) => expect(missingMandatoryHeader(m)).toBe('CSeq'),
  },
  'insuf.dat': {
    reason: '3.3.1 missing required header fields: semantic; missingMandatoryHeader names the first missing one → 400',
    check: (m) => expect(missingMandatoryHeader(m)).toBe('To'),
  },
};

describe('RFC 4475 valid messages', () => {
  const files = fixtureFiles('torture/valid');
  it('has the 27 well-formed messages', () => expect(files.length).toBe(27));
  for (const [name, bytes] of files) {
    it(`MUST parse ${name} and round-trip it through the serializer`, () => {
      const r = parseMessage(bytes);
      if (!r.ok) throw new Error(`${name}: ${r.error.code} ${r.error.message}`);
      const again = parseMessage(serializeMessage(r.message));
      expect(again.ok).toBe(true);
      if (again.ok) expect(view(again.message)).toEqual(view(r.message));
    });
  }

  it('MUST parse the short tortuous INVITE (3.1.1.1) with folded, oddly cased and spaced headers', () => {
    const [, bytes] = files.find(([n]) => n === 'wsinv.dat')!;
    const r = parseMessage(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.get('max-forwards')).toBe('0068');
    expect(r.message.getAll('via')).toHaveLength(3);
    expect(r.message.body.length).toBe(150);
    expect(r.message.get('newfangledheader')).toBe('newfangled value continued newfangled value');
  });

  it('MUST frame each valid message identically on a stream when it has a Content-Length', () => {
    for (const [name, bytes] of files) {
      const d = parseMessage(bytes);
      if (!d.ok || !d.message.has('content-length')) continue;
      const outs = new StreamFramer().push(bytes);
      const msg = outs.find((o) => o.kind === 'message');
      expect(msg, name).toBeDefined();
      if (msg?.kind === 'message') expect(view(msg.message), name).toEqual(view(d.message));
    }
  });
});

describe('RFC 4475 invalid messages', () => {
  const files = fixtureFiles('torture/invalid');
  it('has 22 messages, each with an expected code or a skip reason', () => {
    expect(files.length).toBe(22);
    for (const [name] of files) expect(name in EXPECTED || name in SKIP, name).toBe(true);
  });
  for (const [name, bytes] of files) {
    const skip = SKIP[name];
    if (skip) {
      it(`parses ${name} (skip: ${skip.reason})`, () => {
        const r = parseMessage(bytes);
        if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
        skip.check(r.message);
      });
    } else {
      it(`MUST reject ${name} with ${EXPECTED[name]}`, () => {
        const r = parseMessage(bytes);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.code).toBe(EXPECTED[name]);
      });
    }
  }
});
