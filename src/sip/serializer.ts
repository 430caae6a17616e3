/**
 * SIP message serializer (RFC 3261 §7): start line, headers in the order given, then an empty line and the body.
 * Content-Length always states the body's byte length (§20.14): an existing Content-Length (or compact `l`) keeps
 * its position and spelling and gets the right value; extra ones are dropped; one is appended when missing.
 */
import type { SipMessage } from './message.js';
import { SipMessageError } from './errors.js';

function isContentLength(name: string): boolean {
  return name.length === 1 ? name === 'l' || name === 'L' : name.length === 14 && name.toLowerCase() === 'content-length';
}

function checkField(s: string, what: string): void {
  // A CR or LF inside a field would let a value inject headers; that is a bug in the caller.
  if (s.indexOf('\n') !== -1 || s.indexOf('\r') !== -1) throw new SipMessageError(`${what} contains CR or LF: ${JSON.stringify(s.slice(0, 60))}`);
}

/** Serializes a message to wire bytes. Throws {@link SipMessageError} (a bug) if a field contains CR or LF. */
export function serializeMessage(msg: SipMessage): Buffer {
  let head: string;
  if (msg.kind === 'request') {
    checkField(msg.method + msg.uri, 'Request-Line');
    head = `${msg.method} ${msg.uri} ${msg.version}\r\n`;
  } else {
    checkField(msg.reason, 'Reason-Phrase');
    head = `${msg.version} ${msg.status} ${msg.reason}\r\n`;
  }
  const body = msg.body;
  const bodyLen = body ? body.length : 0;
  let wroteLength = false;
  for (const h of msg.headers) {
    if (isContentLength(h.name)) {
      if (wroteLength) continue;
      wroteLength = true;
      head += `${h.name}: ${bodyLen}\r\n`;
      continue;
    }
    if (h.value.indexOf('\n') !== -1 || h.value.indexOf('\r') !== -1 || h.name.indexOf(':') !== -1) checkField(h.name + h.value, `header ${h.name}`);
    head += `${h.name}: ${h.value}\r\n`;
  }
  if (!wroteLength) head += `Content-Length: ${bodyLen}\r\n`;
  head += '\r\n';
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + bodyLen);
  out.write(head, 0, 'utf8');
  if (bodyLen > 0) body.copy(out, headLen);
  return out;
}
