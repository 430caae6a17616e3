import { describe, expect, it } from 'vitest';
import { createResponse, reasonPhrase, Status } from '../../../src/sip/status.js';
import { parseMessage } from '../../../src/sip/parser.js';
import { serializeMessage } from '../../../src/sip/serializer.js';
import { getTag } from '../../../src/sip/headers.js';
import type { SipRequest } from '../../../src/sip/message.js';
import { sip } from './helpers.js';

const REQ = sip([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.111',
  'v: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9, SIP/2.0/UDP older.example.com;branch=z9hG4bK0',
  'Max-Forwards: 69',
  'Record-Route: <sip:ss1.atlanta.example.com;lr>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
  'To: Bob <sip:bob@biloxi.example.com>',
  'Call-ID: 2xTb9vxSit55XU7p8@atlanta.example.com',
  'CSeq: 1 INVITE',
  'Timestamp: 54',
  'Contact: <sip:alice@client.atlanta.example.com>',
  'Content-Type: application/sdp',
], 'v=0\r\n');

function request(): SipRequest {
  const r = parseMessage(REQ);
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture');
  return r.message;
}

describe('Status and reasonPhrase', () => {
  it('MUST name the RFC 3261 codes used by the PBX', () => {
    expect([Status.Trying, Status.Ringing, Status.OK, Status.BadRequest, Status.Unauthorized, Status.IntervalTooBrief,
      Status.TemporarilyUnavailable, Status.CallTransactionDoesNotExist, Status.RequestTerminated, Status.RequestPending, Status.Decline])
      .toEqual([100, 180, 200, 400, 401, 423, 480, 481, 487, 491, 603]);
  });
  it('MUST give the standard reason phrase, and a class phrase for unknown codes', () => {
    expect(reasonPhrase(Status.CallTransactionDoesNotExist)).toBe('Call/Transaction Does Not Exist');
    expect(reasonPhrase(Status.BusyHere)).toBe('Busy Here');
    expect(reasonPhrase(499)).toBe('Client Error');
    const classPhrases = ['Provisional', 'Success', 'Redirection', 'Client Error', 'Server Error', 'Global Failure', 'Unknown'];
    for (const code of Object.values(Status)) expect(classPhrases, String(code)).not.toContain(reasonPhrase(code));
  });
});

describe('createResponse (RFC 3261 §8.2.6)', () => {
  it('MUST copy every Via value in order, and From, To, Call-ID, CSeq', () => {
    const req = request();
    const res = createResponse(req, Status.BusyHere);
    expect(res.getAll('via')).toEqual(req.getAll('via'));
    expect(res.headers.filter((h) => h.name === 'Via')).toHaveLength(2);
    for (const n of ['from', 'call-id', 'cseq']) expect(res.get(n)).toBe(req.get(n));
    expect(res.reason).toBe('Busy Here');
    expect(res.has('record-route')).toBe(false);
    expect(res.has('contact')).toBe(false);
  });
  it('MUST add the To tag when given and absent', () => {
    const res = createResponse(request(), Status.Ringing, undefined, { toTag: 'a6c85cf' });
    expect(getTag(res.get('to')!)).toBe('a6c85cf');
  });
  it('MUST NOT add a To tag to 100 Trying, and MUST copy Timestamp into it (§8.2.6.1)', () => {
    const res = createResponse(request(), Status.Trying, undefined, { toTag: 'x' });
    expect(getTag(res.get('to')!)).toBeUndefined();
    expect(res.get('timestamp')).toBe('54');
  });
  it('MUST keep an existing To tag', () => {
    const req = request();
    req.set('To', 'Bob <sip:bob@biloxi.example.com>;tag=existing');
    expect(getTag(createResponse(req, Status.OK, 'Fine', { toTag: 'new' }).get('to')!)).toBe('existing');
  });
  it('MUST carry Content-Length 0 and no body, and serialize to a parseable response', () => {
    const res = createResponse(request(), Status.RequestTerminated);
    expect(res.get('content-length')).toBe('0');
    expect(res.body.length).toBe(0);
    const back = parseMessage(serializeMessage(res));
    expect(back.ok && back.message.kind === 'response' && back.message.status).toBe(487);
  });
  it('MUST refuse a status outside 100–699', () => {
    expect(() => createResponse(request(), 99)).toThrow(TypeError);
    expect(() => createResponse(request(), 700)).toThrow(TypeError);
  });
});
