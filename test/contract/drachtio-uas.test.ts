/**
 * Contract: INVITEs from the network handled by drachtio-srf apps as a UAS, through drachtio-lite.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import type { DrachtioLite } from '../../src/drachtio-lite/index.js';
import { getTag, parseCSeq, type SipRequest, type SipResponse } from '../../src/sip/index.js';
import { deferred, DrachtioPeer, TEST_SDP, waitFor } from '../support/drachtio-peer.js';
import { connectApp, disconnectApp, liteUri, routed, sipUdp, startLite } from '../support/drachtio-harness.js';

const APP_SDP = TEST_SDP.replace('40000', '50000');

describe('drachtio-lite UAS side with real drachtio-srf', () => {
  let lite: DrachtioLite;
  let peer: DrachtioPeer;
  let app: Srf;
  let onInvite: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void = () => undefined;

  beforeAll(async () => {
    lite = await startLite();
    peer = await DrachtioPeer.create();
    app = await connectApp(lite, (s) => s.invite((req, res) => onInvite(req, res)));
    await routed(lite, 'invite');
  });
  afterEach(() => { peer.autoAnswer = undefined; });
  afterAll(async () => {
    disconnectApp(app);
    await peer.close();
    await lite.close();
  });

  /** Sends an INVITE; resolves with the 200, the app's dialog and the request. */
  async function call(): Promise<{ ok: SipResponse; dialog: Srf.Dialog; invite: SipRequest }> {
    const dialogP = new Promise<Srf.Dialog>((resolve, reject) => {
      onInvite = (req, res) => { app.createUAS(req, res, { localSdp: APP_SDP }).then(resolve, reject); };
    });
    const invite = peer.newRequest('INVITE', liteUri(lite), { body: TEST_SDP });
    const out = peer.send(invite, sipUdp(lite));
    const ok = await out.final;
    return { ok, dialog: await dialogP, invite };
  }

  it('createUAS: 100 Trying from the server, then the app\'s 200 with a To tag, Contact and SDP; the ACK reaches the dialog', async () => {
    const dialogP = new Promise<Srf.Dialog>((resolve, reject) => {
      onInvite = (req, res) => {
        expect(req.method).toBe('INVITE');
        expect(req.body).toBe(TEST_SDP);
        expect(req.source_address).toBe('127.0.0.1');
        app.createUAS(req, res, { localSdp: APP_SDP }).then(resolve, reject);
      };
    });
    const invite = peer.newRequest('INVITE', liteUri(lite), { body: TEST_SDP });
    const out = peer.send(invite, sipUdp(lite));
    const ok = await out.final;
    expect(out.provisional.map((r) => r.status)).toContain(100);
    expect(ok.status).toBe(200);
    expect(getTag(ok.get('to')!)).toBeTruthy();
    expect(ok.get('contact')).toMatch(/^<sip:127\.0\.0\.1:\d+>$/);
    expect(ok.get('content-type')).toBe('application/sdp');
    expect(ok.body.toString()).toBe(APP_SDP);
    const dialog = await dialogP;
    expect(dialog.id).toBe(`${invite.callId};from-tag=${getTag(invite.get('from')!)}`);
    expect(dialog.sip.localTag).toBe(getTag(ok.get('to')!));
    const acked = new Promise<Srf.SrfRequest>((resolve) => dialog.on('ack', resolve));
    await peer.ack(invite, ok, sipUdp(lite));
    expect((await acked).method).toBe('ACK');
    const destroyed = new Promise<void>((resolve) => dialog.on('destroy', () => resolve()));
    const bye = await peer.send(peer.inDialog('BYE', invite, ok, 2), sipUdp(lite)).final;
    expect(bye.status).toBe(200);
    await destroyed;
    await waitFor(() => lite.server.stats.dialogs === 0 || undefined, 'dialog removed');
  });

  it('app BYE: the peer receives a BYE built from the dialog and destroy() resolves on its 200', async () => {
    const { ok, dialog, invite } = await call();
    await peer.ack(invite, ok, sipUdp(lite));
    const destroyP = dialog.destroy();
    const bye = await peer.next('BYE');
    expect(bye.req.get('call-id')).toBe(invite.callId);
    expect(getTag(bye.req.get('from')!)).toBe(getTag(ok.get('to')!));
    expect(getTag(bye.req.get('to')!)).toBe(getTag(invite.get('from')!));
    expect(bye.req.uri).toBe(peer.uri('caller'));
    expect(parseCSeq(bye.req.get('cseq')!)!.method).toBe('BYE');
    peer.respond(bye, 200);
    await destroyP;
    expect(lite.server.stats.dialogs).toBe(0);
  });

  it('network CANCEL: the server answers 200 and 487, then the app sees req.on("cancel") and createUAS rejects with 487', async () => {
    const seen = new Promise<{ canceled: boolean; err: unknown }>((resolve) => {
      onInvite = (req, res) => {
        res.send(180);
        req.on('cancel', () => {
          app.createUAS(req, res, { localSdp: APP_SDP }).then(
            () => resolve({ canceled: true, err: undefined }),
            (err: unknown) => resolve({ canceled: true, err }),
          );
        });
      };
    });
    const invite = peer.newRequest('INVITE', liteUri(lite), { body: TEST_SDP });
    const out = peer.send(invite, sipUdp(lite));
    await waitFor(() => out.provisional.find((r) => r.status === 180), '180 Ringing');
    const cancel = peer.newRequest('CANCEL', invite.uri);
    for (const h of ['From', 'To', 'Call-ID']) cancel.set(h, invite.get(h)!);
    cancel.set('CSeq', '1 CANCEL');
    cancel.prepend('Via', invite.getAll('via')[0]!);
    cancel.remove('contact');
    const cancelOut = peer.send(cancel, sipUdp(lite));
    expect((await cancelOut.final).status).toBe(200);
    expect((await out.final).status).toBe(487);
    const r = await seen;
    expect(r.canceled).toBe(true);
    // the INVITE already has its 487, so a late 200 from the app is refused by the server
    expect(r.err).toBeTruthy();
  });

  it('re-INVITE from the network reaches dialog "modify" and INFO reaches dialog "info"', async () => {
    const { ok, dialog, invite } = await call();
    await peer.ack(invite, ok, sipUdp(lite));
    dialog.on('modify', (req, res) => res.send(200, { body: APP_SDP.replace('sendrecv', 'recvonly') }));
    const held = TEST_SDP.replace('sendrecv', 'sendonly');
    const reinvite = peer.inDialog('INVITE', invite, ok, 2, { body: held });
    reinvite.append('Contact', peer.contact('caller'));
    const rOk = await peer.send(reinvite, sipUdp(lite)).final;
    expect(rOk.status).toBe(200);
    expect(rOk.body.toString()).toContain('a=recvonly');
    await peer.ack(reinvite, rOk, sipUdp(lite));
    const info = new Promise<string>((resolve) => dialog.on('info', (req, res) => { res.send(200); resolve(req.body); }));
    const infoReq = peer.inDialog('INFO', invite, ok, 3);
    infoReq.append('Content-Type', 'application/dtmf-relay');
    infoReq.body = Buffer.from('Signal=5\r\nDuration=160\r\n');
    expect((await peer.send(infoReq, sipUdp(lite)).final).status).toBe(200);
    expect(await info).toContain('Signal=5');
    await peer.send(peer.inDialog('BYE', invite, ok, 4), sipUdp(lite)).final;
  });

  it('answers 500 to an in-dialog request whose CSeq is lower than the last one (§12.2.2)', async () => {
    const { ok, dialog, invite } = await call();
    await peer.ack(invite, ok, sipUdp(lite));
    dialog.on('info', (_req, res) => res.send(200));
    expect((await peer.send(peer.inDialog('INFO', invite, ok, 5), sipUdp(lite)).final).status).toBe(200);
    expect((await peer.send(peer.inDialog('INFO', invite, ok, 3), sipUdp(lite)).final).status).toBe(500);
    await peer.send(peer.inDialog('BYE', invite, ok, 6), sipUdp(lite)).final;
  });

  it('an UPDATE from the caller in the early dialog reaches req.on("update") of the pending INVITE', async () => {
    onInvite = (req, res) => {
      res.send(180);
      req.on('update', (upd: Srf.SrfRequest, ures: Srf.SrfResponse) => {
        expect(upd.body).toBe(TEST_SDP);
        ures.send(200, { body: APP_SDP });
        void app.createUAS(req, res, { localSdp: APP_SDP });
      });
    };
    const invite = peer.newRequest('INVITE', liteUri(lite), { body: TEST_SDP });
    const out = peer.send(invite, sipUdp(lite));
    const ringing = await waitFor(() => out.provisional.find((r) => r.status === 180), '180');
    const update = peer.inDialog('UPDATE', invite, ringing, 2, { body: TEST_SDP });
    update.remove('contact');
    update.append('Contact', peer.contact('caller'));
    // the early dialog's remote target is our Contact in the 180
    const res = await peer.send(update, sipUdp(lite)).final;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(APP_SDP);
    const ok = await out.final;
    expect(ok.status).toBe(200);
    await peer.ack(invite, ok, sipUdp(lite));
    await peer.send(peer.inDialog('BYE', invite, ok, 3), sipUdp(lite)).final;
  });

  it('answers 481 to a request in an unknown dialog', async () => {
    const bye = peer.newRequest('BYE', liteUri(lite));
    bye.set('To', `<${liteUri(lite)}>;tag=nosuchtag`);
    expect((await peer.send(bye, sipUdp(lite)).final).status).toBe(481);
  });

  it('a non-2xx from the app is sent with a To tag and the transaction absorbs the ACK', async () => {
    onInvite = (_req, res) => res.send(486, { headers: { 'X-Reason': 'busy' } });
    const out = peer.send(peer.newRequest('INVITE', liteUri(lite), { body: TEST_SDP }), sipUdp(lite));
    const res = await out.final;
    expect(res.status).toBe(486);
    expect(res.get('x-reason')).toBe('busy');
    expect(getTag(res.get('to')!)).toBeTruthy();
    expect(lite.server.stats.dialogs).toBe(0);
  });
});

describe('drachtio-lite ACK timeout', () => {
  it('BYEs the peer after 64*T1 without an ACK and tells the app (srf "destroy")', async () => {
    const lite = await startLite({ t1: 20 });
    const peer = await DrachtioPeer.create();
    const app = await connectApp(lite, (s) => s.invite((req, res) => {
      void s.createUAS(req, res, { localSdp: APP_SDP }).then((d) => { uas = d; d.on('destroy', () => destroyed.resolve()); });
    }));
    const destroyed = deferred();
    let uas: Srf.Dialog | undefined;
    try {
      await routed(lite, 'invite');
      const out = peer.send(peer.newRequest('INVITE', liteUri(lite), { body: TEST_SDP }), sipUdp(lite));
      expect((await out.final).status).toBe(200);
      // no ACK
      const bye = await peer.next('BYE', 5000);
      peer.respond(bye, 200);
      expect(bye.req.get('reason')).toMatch(/ACK/);
      await destroyed.promise;
      expect(lite.server.stats.dialogs).toBe(0);
      // the server no longer knows the dialog: srf reports ENODIALOG, as with drachtio-server
      const err = await uas!.destroy().catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('ENODIALOG');
    } finally {
      disconnectApp(app);
      await peer.close();
      await lite.close();
    }
  });
});
