import { describe, expect, it } from 'vitest';
import { createResponse, Dialog, SipRequest } from '../../../src/sip/index.js';
import { destinationOf, dialogIdOf, DialogTable, endpointOfUri, type LiteDialog } from '../../../src/drachtio-lite/dialogs.js';

function invite(recordRoute: string[] = []): SipRequest {
  const r = new SipRequest('INVITE', 'sip:app@127.0.0.1:5060');
  r.append('Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc');
  for (const rr of recordRoute) r.append('Record-Route', rr);
  r.append('From', '<sip:alice@127.0.0.1>;tag=them');
  r.append('To', '<sip:app@127.0.0.1>');
  r.append('Call-ID', 'call-1');
  r.append('CSeq', '1 INVITE');
  r.append('Contact', '<sip:alice@127.0.0.1:5070>');
  return r;
}

function uasDialog(recordRoute: string[] = []): LiteDialog {
  const inv = invite(recordRoute);
  const ok = createResponse(inv, 200, undefined, { toTag: 'us' });
  ok.append('Contact', '<sip:127.0.0.1:5060>');
  const sip = Dialog.fromUas(inv, ok);
  return { id: sip.id, sip, owner: { id: 'app_1', open: true, send: () => undefined }, transport: 'udp', peer: { transport: 'udp', address: '127.0.0.1', port: 5070 }, lastInviteSeq: 0, terminated: false };
}

function request(from: string, to: string): SipRequest {
  const r = new SipRequest('BYE', 'sip:x@127.0.0.1');
  r.append('From', from);
  r.append('To', to);
  r.append('Call-ID', 'call-1');
  r.append('CSeq', '2 BYE');
  return r;
}

describe('drachtio-lite dialogs', () => {
  it('keys a dialog by Call-ID and the tag of the INVITE sender', () => {
    expect(dialogIdOf('abc@host', 'x1')).toBe('abc@host;from-tag=x1');
    expect(uasDialog().id).toBe('call-1;from-tag=them');
  });

  it('MUST match a request to a uas dialog by (Call-ID, From tag = remote, To tag = local) — §12.2.2', () => {
    const t = new DialogTable();
    const d = uasDialog();
    t.add(d);
    expect(t.findForRequest(request('<sip:a@h>;tag=them', '<sip:b@h>;tag=us'))).toBe(d);
    expect(t.findForRequest(request('<sip:a@h>;tag=them', '<sip:b@h>;tag=other'))).toBeUndefined();
    expect(t.findForRequest(request('<sip:a@h>;tag=them', '<sip:b@h>'))).toBeUndefined();
  });

  it('MUST match a request to a uac dialog, keyed by our own tag (the To tag of the peer request)', () => {
    const inv = invite();
    inv.set('From', '<sip:app@127.0.0.1>;tag=us');
    const ok = createResponse(inv, 200, undefined, { toTag: 'them' });
    ok.append('Contact', '<sip:bob@127.0.0.1:5070>');
    const sip = Dialog.fromUac(inv, ok);
    const d: LiteDialog = { id: sip.id, sip, owner: { id: 'a', open: true, send: () => undefined }, transport: 'udp', peer: { transport: 'udp', address: '127.0.0.1', port: 5070 }, lastInviteSeq: 1, terminated: false };
    const t = new DialogTable();
    t.add(d);
    expect(d.id).toBe('call-1;from-tag=us');
    expect(t.findForRequest(request('<sip:a@h>;tag=them', '<sip:b@h>;tag=us'))).toBe(d);
    t.remove(d);
    expect(t.size).toBe(0);
    expect(d.terminated).toBe(true);
    expect(d.sip.state).toBe('terminated');
  });

  it('sends to the top loose route when there is one, else to the remote target, keeping the dialog transport', () => {
    const plain = uasDialog();
    expect(destinationOf(plain, plain.sip.createRequest('BYE'))).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5070 });
    const routed = uasDialog(['<sip:10.0.0.1:5080;transport=tcp;lr>']);
    const bye = routed.sip.createRequest('BYE');
    expect(bye.getAll('route')).toEqual(['<sip:10.0.0.1:5080;transport=tcp;lr>']);
    expect(destinationOf(routed, bye)).toEqual({ transport: 'tcp', address: '10.0.0.1', port: 5080 });
    const tcp: LiteDialog = { ...plain, transport: 'tcp' };
    expect(destinationOf(tcp, plain.sip.createRequest('INFO')).transport).toBe('tcp');
  });

  it('resolves URIs and name-addrs to endpoints (default port 5060, transport param, fallback transport)', () => {
    expect(endpointOfUri('sip:bob@127.0.0.1', 'udp')).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5060 });
    expect(endpointOfUri('<sip:127.0.0.1:5099;transport=TCP>', 'udp')).toEqual({ transport: 'tcp', address: '127.0.0.1', port: 5099 });
    expect(endpointOfUri('tel:+15551234', 'udp')).toBeUndefined();
    expect(endpointOfUri('garbage', 'udp')).toBeUndefined();
  });
});
