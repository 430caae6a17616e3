import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { parseMessage, SipRequest } from '../../../src/sip/index.js';
import { allowList, mergeSupported, RequestChecks, sdpPartOf } from '../../../src/drachtio-lite/request-checks.js';
import { SipResponse } from '../../../src/sip/index.js';

function request(text: string): SipRequest {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
}

const HEAD = (method: string, extra = '', branch = 'z9hG4bK1'): string =>
  `${method} sip:100@pbx SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=${branch}\nFrom: <sip:a@x>;tag=f1\nTo: <sip:100@pbx>\nCall-ID: c1\nCSeq: 1 ${method}\nMax-Forwards: 70\n${extra}`;

function checks(verbs: string[]): RequestChecks {
  return new RequestChecks({ routedVerbs: () => new Set(verbs) });
}

describe('RFC 3261 §8.2 request checks', () => {
  it('MUST derive Allow from the routed verbs plus the in-dialog methods the server carries to a dialog owner', () => {
    expect(allowList(new Set(['invite', 'register', 'options']))).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, UPDATE, INFO, REFER, NOTIFY');
    expect(allowList(new Set(['register']))).toBe('ACK, CANCEL, BYE, REGISTER, PRACK, UPDATE, INFO, REFER, NOTIFY');
  });

  it('MUST keep the app\'s Supported tags and add ours once', () => {
    const res = new SipResponse(200, 'OK');
    res.append('Supported', 'timer, path');
    mergeSupported(res);
    expect(res.get('supported')).toBe('timer, path, 100rel, replaces');
  });

  it('MUST find the application/sdp part of a multipart body, byte for byte', () => {
    const body = Buffer.from('preamble\r\n--b1\r\nContent-Type: application/isup\r\n\r\n\x01\x02\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\no=x\r\n\r\n--b1--\r\n', 'latin1');
    expect(sdpPartOf(body, 'multipart/mixed; boundary=b1')?.toString('latin1')).toBe('v=0\r\no=x\r\n');
    expect(sdpPartOf(body, 'multipart/mixed;boundary="b1"')?.toString('latin1')).toBe('v=0\r\no=x\r\n');
    expect(sdpPartOf(body, 'multipart/mixed')).toBeUndefined();
    expect(sdpPartOf(Buffer.from('--b1\r\n\r\nv=0\r\n--b1--'), 'multipart/mixed;boundary=b1')).toBeUndefined();
  });

  it('MUST rewrite a multipart INVITE to its SDP part and refuse one without SDP with 415', () => {
    const body = '--b\nContent-Type: application/sdp\n\nv=0\n--b--\n';
    const ok = request(`${HEAD('INVITE', `Content-Type: multipart/mixed;boundary=b\nMIME-Version: 1.0\nContent-Length: ${body.replace(/\n/g, '\r\n').length}\n`)}\n${body}`);
    const c = checks(['invite']);
    const txn = new EventEmitter();
    expect(c.check(ok, txn, false)).toBeUndefined();
    expect(ok.get('content-type')).toBe('application/sdp');
    expect(ok.has('mime-version')).toBe(false);
    expect(ok.body.toString()).toBe('v=0');
    const none = '--b\nContent-Type: text/plain\n\nhi\n--b--\n';
    const bad = request(`${HEAD('INVITE', `Content-Type: multipart/mixed;boundary=b\nContent-Length: ${none.replace(/\n/g, '\r\n').length}\n`, 'z9hG4bK2').replace('CSeq: 1', 'CSeq: 2')}\n${none}`);
    expect(c.check(bad, new EventEmitter(), false)?.status).toBe(415);
  });

  it('MUST forget a merged-request key when its transaction terminates', () => {
    const c = checks(['options']);
    const t1 = new EventEmitter();
    expect(c.check(request(`${HEAD('OPTIONS')}\n`), t1, false)).toBeUndefined();
    expect(c.check(request(`${HEAD('OPTIONS', '', 'z9hG4bK9')}\n`), new EventEmitter(), false)?.status).toBe(482);
    t1.emit('terminated');
    expect(c.tracked).toBe(0);
    expect(c.check(request(`${HEAD('OPTIONS', '', 'z9hG4bK9')}\n`), new EventEmitter(), false)).toBeUndefined();
  });

  it('MUST answer 420 listing each unknown Require tag once in Unsupported, accepting 100rel, timer and replaces', () => {
    const c = checks(['invite']);
    expect(c.check(request(`${HEAD('INVITE', 'Require: foo, 100rel\nRequire: foo, timer, replaces\n')}\n`), new EventEmitter(), false)).toEqual({ status: 420, reason: 'Bad Extension', headers: { Unsupported: 'foo' } });
  });
});
