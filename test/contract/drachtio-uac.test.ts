/**
 * Contract: requests drachtio-srf apps originate (createUAC, createB2BUA, in-dialog requests) through drachtio-lite.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import type { DrachtioLite } from '../../src/drachtio-lite/index.js';
import { systemClock } from '../../src/common/clock.js';
import { computeHa1, DigestServer, getTag, parseCSeq, type SipResponse } from '../../src/sip/index.js';
import { DrachtioPeer, TEST_SDP, waitFor, type Incoming } from '../support/drachtio-peer.js';
import { connectApp, disconnectApp, liteUri, routed, sipUdp, startLite } from '../support/drachtio-harness.js';

const APP_SDP = TEST_SDP.replace('40000', '50000');

describe('drachtio-lite UAC side with real drachtio-srf', () => {
  let lite: DrachtioLite;
  let peer: DrachtioPeer;
  let app: Srf;

  beforeAll(async () => {
    lite = await startLite();
    peer = await DrachtioPeer.create();
    app = await connectApp(lite);
  });
  afterEach(() => { peer.autoAnswer = undefined; });
  afterAll(async () => {
    disconnectApp(app);
    await peer.close();
    await lite.close();
  });

  /** Peer answers INVITEs with 180 then 200 + SDP and remembers them. */
  function answerWith200(): { invites: Incoming[]; oks: SipResponse[] } {
    const seen = { invites: [] as Incoming[], oks: [] as SipResponse[] };
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      seen.invites.push(inc);
      peer.respond(inc, 180, { toTag: 'peer-tag' });
      seen.oks.push(peer.respond(inc, 200, { toTag: 'peer-tag', body: TEST_SDP }));
      return true;
    };
    return seen;
  }

  it('createUAC: the server fills From/To/Call-ID/CSeq/Contact/Via, cbRequest gets (err, req), cbProvisional the 180, ACK reaches the peer', async () => {
    const seen = answerWith200();
    let sent: Srf.SrfRequest | undefined;
    const provisional: number[] = [];
    const uac = await app.createUAC(peer.uri('bob'), { localSdp: APP_SDP }, {
      cbRequest: (err, req) => { expect(err).toBeNull(); sent = req; },
      cbProvisional: (res) => { provisional.push(res.status); },
    });
    const inv = seen.invites[0]!.req;
    expect(inv.uri).toBe(peer.uri('bob'));
    expect(getTag(inv.get('from')!)).toBeTruthy();
    expect(inv.get('to')).toBe(`<${peer.uri('bob')}>`);
    expect(inv.get('contact')).toMatch(/^<sip:127\.0\.0\.1:\d+>$/);
    expect(inv.get('max-forwards')).toBe('70');
    expect(inv.getAll('via')[0]).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bK/);
    expect(inv.get('content-type')).toBe('application/sdp');
    expect(sent?.get('Call-ID')).toBe(inv.callId);
    expect(provisional).toContain(180);
    expect(uac.id).toBe(`${inv.callId};from-tag=${getTag(inv.get('from')!)}`);
    expect(uac.remote.sdp).toBe(TEST_SDP);
    const ack = await peer.next('ACK');
    expect(parseCSeq(ack.req.get('cseq')!)).toEqual({ seq: 1, method: 'ACK' });
    expect(getTag(ack.req.get('to')!)).toBe('peer-tag');

    // app BYE
    const destroyP = uac.destroy();
    const bye = await peer.next('BYE');
    expect(parseCSeq(bye.req.get('cseq')!)).toEqual({ seq: 2, method: 'BYE' });
    peer.respond(bye, 200);
    await destroyP;
    expect(lite.server.stats.dialogs).toBe(0);
  });

  it('BYE from the network ends the uac dialog with srf "destroy"', async () => {
    const seen = answerWith200();
    const uac = await app.createUAC(peer.uri('bob'), { localSdp: APP_SDP });
    await peer.next('ACK');
    const destroyed = new Promise<void>((resolve) => uac.on('destroy', () => resolve()));
    const inc = seen.invites[0]!;
    const res = await peer.send(peer.inDialogAsUas('BYE', inc, seen.oks[0]!, 1), sipUdp(lite)).final;
    expect(res.status).toBe(200);
    await destroyed;
  });

  it('a failure response rejects createUAC with SipError(status) and leaves no dialog', async () => {
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      peer.respond(inc, 486);
      return true;
    };
    const err = await app.createUAC(peer.uri('busy'), { localSdp: APP_SDP }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Srf.SipError);
    expect((err as Srf.SipError).status).toBe(486);
    expect(lite.server.stats.dialogs).toBe(0);
  });

  it('app CANCEL (req.cancel()) reaches the peer as a CANCEL of the same branch and createUAC rejects with 487', async () => {
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      peer.respond(inc, 180);
      return true;
    };
    let sent: Srf.SrfRequest | undefined;
    const p = app.createUAC(peer.uri('ringing'), { localSdp: APP_SDP }, {
      cbRequest: (_err, req) => { sent = req; },
      cbProvisional: () => { sent!.cancel(); },
    });
    const err = await p.catch((e: unknown) => e);
    expect((err as Srf.SipError).status).toBe(487);
    expect(peer.cancels).toHaveLength(1);
    const branchOf = (via: string): string | undefined => /;branch=([^;,\s]+)/.exec(via)?.[1];
    expect(branchOf(peer.cancels[0]!.getAll('via')[0]!)).toBe(branchOf(sent!.get('Via')!));
  });

  it('a CANCEL asked for before any response is held until the first provisional (§9.1) and still ends the INVITE with 487', async () => {
    let inviteSeen = 0;
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      inviteSeen++;
      return true; // the peer's stack sends 100 Trying; no 180
    };
    const before = peer.cancels.length;
    const err = await app.createUAC(peer.uri('quick-cancel'), { localSdp: APP_SDP }, {
      cbRequest: (_err, req) => { req.cancel(); },
    }).catch((e: unknown) => e);
    expect((err as Srf.SipError).status).toBe(487);
    expect(inviteSeen).toBe(1);
    expect(peer.cancels.length).toBe(before + 1);
  });

  it('a second 2xx from another fork is ACKed and BYEd by the server; the app keeps the first dialog', async () => {
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      peer.respond(inc, 200, { toTag: 'fork-a', body: TEST_SDP });
      peer.respond(inc, 200, { toTag: 'fork-b', body: TEST_SDP });
      return true;
    };
    const uac = await app.createUAC(peer.uri('forked'), { localSdp: APP_SDP });
    expect(uac.sip.remoteTag).toBe('fork-a');
    const acks = [await peer.next('ACK'), await peer.next('ACK')].map((a) => getTag(a.req.get('to')!)).sort();
    expect(acks).toEqual(['fork-a', 'fork-b']);
    const bye = await peer.next('BYE');
    expect(getTag(bye.req.get('to')!)).toBe('fork-b');
    peer.respond(bye, 200);
    peer.autoAnswer = undefined;
    const destroyP = uac.destroy();
    const bye2 = await peer.next('BYE');
    expect(getTag(bye2.req.get('to')!)).toBe('fork-a');
    peer.respond(bye2, 200);
    await destroyP;
  });

  it('an UPDATE from the callee in the early dialog reaches srf (req.on("update")) and gets its answer', async () => {
    let updateRes: SipResponse | undefined;
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      const ringing = peer.respond(inc, 180, { toTag: 'early' });
      const update = peer.inDialogAsUas('UPDATE', inc, ringing, 1);
      update.append('Contact', peer.contact());
      update.append('Content-Type', 'application/sdp');
      update.body = Buffer.from(TEST_SDP);
      void peer.send(update, sipUdp(lite)).final.then((r) => {
        updateRes = r;
        peer.respond(inc, 200, { toTag: 'early', body: TEST_SDP });
      });
      return true;
    };
    const uac = await app.createUAC(peer.uri('early'), { localSdp: APP_SDP });
    expect(updateRes?.status).toBe(200);
    expect(updateRes?.body.toString()).toBe(APP_SDP);
    await peer.next('ACK');
    peer.autoAnswer = undefined;
    const destroyP = uac.destroy();
    peer.respond(await peer.next('BYE'), 200);
    await destroyP;
  });

  it('3PCC: noAck without localSdp resolves {sdp, ack}; ack(sdp) sends the ACK with the answer and yields the dialog', async () => {
    const seen = answerWith200();
    const pending = await app.createUAC(peer.uri('third'), { noAck: true });
    expect('ack' in pending).toBe(true);
    const { sdp, ack } = pending as Srf.ThirdPartyCallPending;
    expect(sdp).toBe(TEST_SDP);
    expect(seen.invites[0]!.req.body.length).toBe(0);
    const dialog = await ack(APP_SDP);
    const peerAck = await peer.next('ACK');
    expect(peerAck.req.body.toString()).toBe(APP_SDP);
    expect(peerAck.req.get('content-type')).toBe('application/sdp');
    const destroyP = dialog.destroy();
    peer.respond(await peer.next('BYE'), 200);
    await destroyP;
  });

  it('dialog.modify("hold") / ("unhold") send re-INVITEs, each ACKed; dialog.request INFO gets its 200', async () => {
    answerWith200();
    const uac = await app.createUAC(peer.uri('hold'), { localSdp: APP_SDP });
    await peer.next('ACK');
    peer.autoAnswer = (inc) => {
      if (inc.req.method === 'INVITE') { peer.respond(inc, 200, { body: TEST_SDP.replace('sendrecv', 'recvonly') }); return true; }
      if (inc.req.method === 'INFO') { peer.respond(inc, 200); return true; }
      return false;
    };
    await uac.modify('hold');
    const ack1 = await peer.next('ACK');
    expect(parseCSeq(ack1.req.get('cseq')!)!.seq).toBe(2);
    await uac.modify('unhold');
    await peer.next('ACK');
    const res = await uac.request({ method: 'INFO', headers: { 'Content-Type': 'application/dtmf-relay' }, body: 'Signal=1\r\n' });
    expect(res.status).toBe(200);
    peer.autoAnswer = undefined;
    const destroyP = uac.destroy();
    const bye = await peer.next('BYE');
    expect(parseCSeq(bye.req.get('cseq')!)!.seq).toBe(5);
    peer.respond(bye, 200);
    await destroyP;
  });

  it('digest: a 401 challenge is answered by srf with credentials on a new transaction (same Call-ID, CSeq+1)', async () => {
    const digest = new DigestServer({ realm: 'test.local', clock: systemClock });
    const ha1 = computeHa1('alice', 'test.local', 's3cret');
    const invites: Incoming[] = [];
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      invites.push(inc);
      const v = digest.verify(inc.req.get('authorization'), 'INVITE', (u) => (u === 'alice' ? ha1 : undefined));
      if (!v.ok) peer.respond(inc, 401, { headers: { 'WWW-Authenticate': digest.challenge() } });
      else peer.respond(inc, 200, { toTag: 'auth-tag', body: TEST_SDP });
      return true;
    };
    const uac = await app.createUAC(peer.uri('auth'), { localSdp: APP_SDP, auth: { username: 'alice', password: 's3cret' } });
    expect(invites).toHaveLength(2);
    expect(invites[1]!.req.callId).toBe(invites[0]!.req.callId);
    expect(parseCSeq(invites[1]!.req.get('cseq')!)!.seq).toBe(2);
    const ack = await peer.next('ACK');
    expect(parseCSeq(ack.req.get('cseq')!)!.seq).toBe(2);
    peer.autoAnswer = undefined;
    const destroyP = uac.destroy();
    peer.respond(await peer.next('BYE'), 200);
    await destroyP;
  });

  it('proxy option: the INVITE goes to the outbound proxy with the Request-URI unchanged', async () => {
    const seen = answerWith200();
    const uac = await app.createUAC('sip:bob@far.example.invalid', { localSdp: APP_SDP, proxy: `127.0.0.1:${peer.endpoint.port}` });
    expect(seen.invites[0]!.req.uri).toBe('sip:bob@far.example.invalid');
    expect(seen.invites[0]!.req.has('route')).toBe(false);
    await peer.next('ACK');
    peer.autoAnswer = undefined;
    const destroyP = uac.destroy();
    peer.respond(await peer.next('BYE'), 200);
    await destroyP;
  });

  it('3PCC re-INVITE: modify({noAck}) sends an offerless INVITE and the app ACKs with its answer', async () => {
    answerWith200();
    const uac = await app.createUAC(peer.uri('reoffer'), { localSdp: APP_SDP });
    await peer.next('ACK');
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      expect(inc.req.body.length).toBe(0);
      peer.respond(inc, 200, { body: TEST_SDP.replace('40000', '41000') });
      return true;
    };
    uac.local.sdp = '';
    const { sdp, ack } = await uac.modify({ noAck: true });
    expect(sdp).toContain('41000');
    ack(APP_SDP);
    const peerAck = await peer.next('ACK');
    expect(peerAck.req.body.toString()).toBe(APP_SDP);
    peer.autoAnswer = undefined;
    const destroyP = uac.destroy();
    peer.respond(await peer.next('BYE'), 200);
    await destroyP;
  });

  it('srf.request REGISTER with auth: challenged, retried with Authorization, 200 relayed', async () => {
    const digest = new DigestServer({ realm: 'trunk.local', clock: systemClock });
    const ha1 = computeHa1('pbx', 'trunk.local', 'pw');
    const regs: Incoming[] = [];
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'REGISTER') return false;
      regs.push(inc);
      const v = digest.verify(inc.req.get('authorization'), 'REGISTER', (u) => (u === 'pbx' ? ha1 : undefined));
      peer.respond(inc, v.ok ? 200 : 401, v.ok ? { headers: { Contact: inc.req.get('contact')! } } : { headers: { 'WWW-Authenticate': digest.challenge() } });
      return true;
    };
    const req = await new Promise<Srf.SrfRequest>((resolve, reject) => {
      app.request(`sip:${peer.endpoint.address}:${peer.endpoint.port}`, {
        method: 'REGISTER',
        headers: { From: '<sip:pbx@trunk.local>', To: '<sip:pbx@trunk.local>', Contact: '<sip:pbx@127.0.0.1>', Expires: '60' },
        auth: { username: 'pbx', password: 'pw' },
      }, (err, r) => (err ? reject(err) : resolve(r)));
    });
    const res = await new Promise<Srf.SrfResponse>((resolve) => req.on('response', (r) => { if (r.status !== 401) resolve(r); }));
    expect(res.status).toBe(200);
    expect(regs).toHaveLength(2);
    expect(regs[1]!.req.has('authorization')).toBe(true);
    expect(regs[1]!.req.get('contact')).toBe('<sip:pbx@127.0.0.1>');
  });
});

describe('createB2BUA through drachtio-lite', () => {
  it('bridges caller A to callee B; A\'s BYE reaches B', async () => {
    const lite = await startLite();
    const a = await DrachtioPeer.create();
    const b = await DrachtioPeer.create();
    let pair: { uas: Srf.Dialog; uac: Srf.Dialog } | undefined;
    const app = await connectApp(lite, (s) => s.invite((req, res) => {
      void s.createB2BUA(req, res, b.uri('callee'), { localSdpB: req.body }).then((p) => {
        pair = p;
        p.uas.on('destroy', () => { void p.uac.destroy(); });
        p.uac.on('destroy', () => { void p.uas.destroy(); });
      });
    }));
    try {
      await routed(lite, 'invite');
      b.autoAnswer = (inc) => {
        if (inc.req.method !== 'INVITE') return false;
        b.respond(inc, 180);
        b.respond(inc, 200, { body: TEST_SDP.replace('40000', '60000') });
        return true;
      };
      const invite = a.newRequest('INVITE', liteUri(lite), { body: TEST_SDP });
      const out = a.send(invite, sipUdp(lite));
      const ok = await out.final;
      expect(ok.status).toBe(200);
      expect(ok.body.toString()).toContain('60000');
      expect(out.provisional.map((r) => r.status)).toContain(180);
      await a.ack(invite, ok, sipUdp(lite));
      await b.next('ACK');
      await waitFor(() => pair, 'b2bua pair');
      b.autoAnswer = (inc) => { if (inc.req.method === 'BYE') { b.respond(inc, 200); return true; } return false; };
      expect((await a.send(a.inDialog('BYE', invite, ok, 2), sipUdp(lite)).final).status).toBe(200);
      await waitFor(() => lite.server.stats.dialogs === 0 || undefined, 'both dialogs gone');
    } finally {
      disconnectApp(app);
      await a.close();
      await b.close();
      await lite.close();
    }
  });
});
