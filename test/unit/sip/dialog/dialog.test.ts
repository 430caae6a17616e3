import { describe, expect, it } from 'vitest';
import { Dialog, SuccessRetransmitter } from '../../../../src/sip/dialog.js';
import { SipRequest, SipResponse } from '../../../../src/sip/message.js';
import { ManualClock } from '../../../../src/common/clock.js';

function invite(): SipRequest {
  const r = new SipRequest('INVITE', 'sip:bob@example.com');
  r.append('Via', 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1');
  r.append('Record-Route', '<sip:p1.example.com;lr>');
  r.append('Record-Route', '<sip:p2.example.com;lr>');
  r.append('From', '"Alice" <sip:alice@example.com>;tag=a1');
  r.append('To', '<sip:bob@example.com>');
  r.append('Call-ID', 'call-1');
  r.append('CSeq', '7 INVITE');
  r.append('Contact', '<sip:alice@10.0.0.1:5060>');
  return r;
}
function ok(status = 200, contact = '<sip:bob@10.0.0.2:5070>'): SipResponse {
  const r = new SipResponse(status, 'OK');
  r.append('Record-Route', '<sip:p1.example.com;lr>');
  r.append('Record-Route', '<sip:p2.example.com;lr>');
  r.append('From', '"Alice" <sip:alice@example.com>;tag=a1');
  r.append('To', '<sip:bob@example.com>;tag=b1');
  r.append('Call-ID', 'call-1');
  r.append('CSeq', '7 INVITE');
  r.append('Contact', contact);
  return r;
}

describe('Dialog (RFC 3261 §12)', () => {
  it('MUST build the UAC dialog from the 2xx: reversed Record-Route, Contact as remote target', () => {
    const d = Dialog.fromUac(invite(), ok());
    expect(d.state).toBe('confirmed');
    expect(d.id).toBe('call-1;from-tag=a1');
    expect(d.routeSet).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(d.remoteTarget).toBe('sip:bob@10.0.0.2:5070');
    expect(d.localCSeq).toBe(7);
    expect(d.localUri).toBe('sip:alice@example.com');
  });

  it('MUST build the UAS dialog with the Record-Route in order and the dialog id from the caller tag', () => {
    const d = Dialog.fromUas(invite(), ok());
    expect(d.id).toBe('call-1;from-tag=a1');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.remoteTarget).toBe('sip:alice@10.0.0.1:5060');
    expect(d.remoteCSeq).toBe(7);
  });

  it('MUST keep the request Contact as a UAS remote target when its early dialog is confirmed by its own 2xx (§12.1.1)', () => {
    const d = Dialog.fromUas(invite(), ok(180, '<sip:pbx@10.0.0.9:5060>'));
    expect(d.state).toBe('early');
    d.confirm(ok(200, '<sip:pbx@10.0.0.9:5060>'));
    expect(d.state).toBe('confirmed');
    expect(d.remoteTarget).toBe('sip:alice@10.0.0.1:5060');
    expect(d.createRequest('BYE').uri).toBe('sip:alice@10.0.0.1:5060');
  });

  it('MUST place the remote target in the Request-URI and the route set in Route with a loose router', () => {
    const d = Dialog.fromUac(invite(), ok());
    const bye = d.createRequest('BYE');
    expect(bye.uri).toBe('sip:bob@10.0.0.2:5070');
    expect(bye.getAll('route')).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(bye.get('cseq')).toBe('8 BYE');
    expect(bye.get('from')).toBe('"Alice" <sip:alice@example.com>;tag=a1');
    expect(bye.get('to')).toBe('<sip:bob@example.com>;tag=b1');
    expect(d.createRequest('INFO').get('cseq')).toBe('9 INFO');
  });

  it('MUST use the first route as Request-URI and append the remote target with a strict router', () => {
    const inv = invite();
    inv.remove('record-route');
    const res = ok();
    res.remove('record-route');
    res.append('Record-Route', '<sip:strict.example.com>');
    const d = Dialog.fromUac(inv, res);
    const bye = d.createRequest('BYE');
    expect(bye.uri).toBe('sip:strict.example.com');
    expect(bye.getAll('route')).toEqual(['<sip:bob@10.0.0.2:5070>']);
  });

  it('MUST build the ACK for a 2xx with the INVITE CSeq number and not count it', () => {
    const d = Dialog.fromUac(invite(), ok());
    const ack = d.createAck(7);
    expect(ack.get('cseq')).toBe('7 ACK');
    expect(d.localCSeq).toBe(7);
  });

  it('MUST reject a lower remote CSeq with 500 and accept a higher one, refreshing the target on re-INVITE', () => {
    const d = Dialog.fromUas(invite(), ok());
    const low = new SipRequest('INFO', 'sip:x');
    low.append('CSeq', '6 INFO');
    expect(d.receiveRequest(low)).toMatchObject({ ok: false, status: 500 });
    const re = new SipRequest('INVITE', 'sip:x');
    re.append('CSeq', '8 INVITE');
    re.append('Contact', '<sip:alice@10.0.0.9>');
    expect(d.receiveRequest(re)).toEqual({ ok: true });
    expect(d.remoteTarget).toBe('sip:alice@10.0.0.9');
  });

  it('matches requests from the peer and responses to our requests', () => {
    const d = Dialog.fromUac(invite(), ok());
    const byeIn = new SipRequest('BYE', 'sip:x');
    byeIn.append('From', '<sip:bob@example.com>;tag=b1');
    byeIn.append('To', '<sip:alice@example.com>;tag=a1');
    byeIn.append('Call-ID', 'call-1');
    expect(d.matches(byeIn)).toBe(true);
    expect(d.matches(ok())).toBe(true);
  });

  it('goes early → confirmed, recomputing the route set from the 2xx', () => {
    const early = ok(180);
    early.remove('record-route');
    const d = Dialog.fromUac(invite(), early);
    expect(d.state).toBe('early');
    d.confirm(ok());
    expect(d.state).toBe('confirmed');
    expect(d.routeSet).toHaveLength(2);
    d.terminate();
    expect(() => d.createRequest('BYE')).toThrow();
  });
});

describe('SuccessRetransmitter (§13.3.1.4)', () => {
  it('MUST retransmit the 2xx at T1 doubling to T2 and report the ACK timeout after 64*T1', () => {
    const clock = new ManualClock();
    let sends = 0;
    let timedOut = 0;
    const r = new SuccessRetransmitter({ clock, t1: 10, t2: 40, resend: () => sends++, onTimeout: () => timedOut++ });
    clock.advance(10); expect(sends).toBe(1);
    clock.advance(20); expect(sends).toBe(2);
    clock.advance(40); expect(sends).toBe(3);
    clock.advance(40); expect(sends).toBe(4);
    clock.advance(640);
    expect(timedOut).toBe(1);
    expect(r.state).toBe('timed-out');
    expect(clock.pending).toBe(0);
  });
  it('MUST stop retransmitting when the ACK arrives', () => {
    const clock = new ManualClock();
    let sends = 0;
    const r = new SuccessRetransmitter({ clock, t1: 10, t2: 40, resend: () => sends++, onTimeout: () => { throw new Error('no'); } });
    clock.advance(10);
    r.ackReceived();
    clock.advance(1000);
    expect(sends).toBe(1);
    expect(clock.pending).toBe(0);
  });
});
