/** Shared helpers for the SIP message-layer tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { SipMessage } from '../../../src/sip/message.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/sip/', import.meta.url));

/** Reads every file of a fixture folder as [name, bytes]. */
export function fixtureFiles(dir: string): Array<[string, Buffer]> {
  const full = join(FIXTURES, dir);
  return readdirSync(full)
    .filter((f) => !f.endsWith('.md'))
    .sort()
    .map((f) => [f, readFileSync(join(full, f))]);
}

/** Builds a CRLF message from lines, with a correct Content-Length for `body` unless one is given. */
export function sip(lines: string[], body = ''): Buffer {
  const hasCl = lines.some((l) => /^(content-length|l)\s*:/i.test(l));
  const head = lines.join('\r\n') + '\r\n' + (hasCl ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`) + '\r\n';
  return Buffer.from(head + body, 'utf8');
}

/** A plain, comparable view of a message; Content-Length is left out (the serializer rewrites it by contract). */
export function view(m: SipMessage): unknown {
  return {
    start: m.kind === 'request' ? [m.method, m.uri, m.version] : [m.status, m.reason, m.version],
    headers: m.headers.filter((h) => !/^(content-length|l)$/i.test(h.name)).map((h) => [h.name, h.value]),
    body: m.body.toString('hex'),
  };
}

export { prng } from '../../support/prng.js';

export const INVITE_LINES = [
  'INVITE sip:bob@biloxi.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.com>',
  'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.com>',
  'Content-Type: application/sdp',
];

export const SDP = 'v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r\ns=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n';
