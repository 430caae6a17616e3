import { describe, expect, it } from 'vitest';
import { SipRequest } from '../../../src/sip/index.js';
import {
  createInDialogRequest, dialogDestination, dialogIdOf, DialogTable, endpointOfUri, type LiteDialog,
} from '../../../src/drachtio-lite/dialogs.js';

function dialog(over: Partial<LiteDialog> = {}): LiteDialog {
  return {
    id: dialogIdOf('call-1', 'them'), role: 'uas', callId: 'call-1', owner: { id: 'app_1' },
    localHeader: '<sip:app@127.0.0.1>;tag=us', remoteHeader: '<sip:alice@127.0.0.1>;tag=them', localTag: 'us', remoteTag: 'them',
    localSeq: 10, remoteSeq: 1, remoteTarget: 'sip:alice@127.0.0.1:5070', routeSet: [], localContact: '<sip:127.0.0.1:5060>',
    transport: 'udp', peer: { transport: 'udp', address: '127.0.0.1', port: 5070 }, lastInviteSeq: 0, terminated: false, ...over,
  };
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
  });

  it('MUST match a request to a uas dialog by (Call-ID, From tag = remote, To tag = local) — §12.2.2', () => {
    const t = new DialogTable();
    const d = dialog();
    t.add(d);
    expect(t.findForRequest(request('<sip:a@h>;tag=them', '<sip:b@h>;tag=us'))).toBe(d);
    expect(t.findForRequest(request('<sip:a@h>;tag=them', '<sip:b@h>;tag=other'))).toBeUndefined();
    expect(t.findForRequest(request('<sip:a@h>;tag=them', '<sip:b@h>'))).toBeUndefined();
  });

  it('MUST match a request to a uac dialog, keyed by our own tag (the To tag of the peer request)', () => {
    const t = new DialogTable();
    const d = dialog({ id: dialogIdOf('call-1', 'us'), role: 'uac' });
    t.add(d);
    expect(t.findForRequest(request('<sip:a@h>;tag=them', '<sip:b@h>;tag=us'))).toBe(d);
    t.remove(d);
    expect(t.size).toBe(0);
    expect(d.terminated).toBe(true);
  });

  it('builds in-dialog requests from dialog state: remote target, route set, tags, next CSeq — §12.2.1.1', () => {
    const d = dialog({ routeSet: ['<sip:proxy1.example;lr>', '<sip:proxy2.example;lr>'] });
    const bye = createInDialogRequest(d, 'BYE');
    expect(bye.uri).toBe('sip:alice@127.0.0.1:5070');
    expect(bye.getAll('route')).toEqual(['<sip:proxy1.example;lr>', '<sip:proxy2.example;lr>']);
    expect(bye.get('from')).toBe(d.localHeader);
    expect(bye.get('to')).toBe(d.remoteHeader);
    expect(bye.get('cseq')).toBe('11 BYE');
    expect(createInDialogRequest(d, 'ACK', 7).get('cseq')).toBe('7 ACK');
    expect(d.localSeq).toBe(11);
  });

  it('sends to the first route when there is one, else to the remote target', () => {
    expect(dialogDestination(dialog())).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5070 });
    expect(dialogDestination(dialog({ routeSet: ['<sip:10.0.0.1:5080;transport=tcp;lr>'] }))).toEqual({ transport: 'tcp', address: '10.0.0.1', port: 5080 });
  });

  it('resolves URIs to endpoints (default port 5060, transport param, fallback transport)', () => {
    expect(endpointOfUri('sip:bob@127.0.0.1', 'udp')).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5060 });
    expect(endpointOfUri('<sip:127.0.0.1:5099;transport=TCP>', 'udp')).toEqual({ transport: 'tcp', address: '127.0.0.1', port: 5099 });
    expect(endpointOfUri('tel:+15551234', 'udp')).toBeUndefined();
    expect(endpointOfUri('garbage', 'udp')).toBeUndefined();
  });
});
