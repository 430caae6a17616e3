/**
 * Contract: several apps on one drachtio-lite — round-robin per verb, and what happens when an app disconnects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import type { DrachtioLite } from '../../src/drachtio-lite/index.js';
import { getTag } from '../../src/sip/index.js';
import { DrachtioPeer, TEST_SDP, waitFor, type Incoming } from '../support/drachtio-peer.js';
import { connectApp, disconnectApp, liteUri, routed, sipUdp, startLite, testLogger } from '../support/drachtio-harness.js';
import { createDrachtioLite } from '../../src/drachtio-lite/index.js';

describe('drachtio-lite with several apps', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup(transport: 'udp' | 'tcp' = 'udp'): Promise<{ lite: DrachtioLite; peer: DrachtioPeer }> {
    const lite = await startLite();
    const peer = await DrachtioPeer.create(transport);
    cleanup.push(() => lite.close(), () => peer.close());
    return { lite, peer };
  }

  it('round-robins requests of one verb across the apps that route it', async () => {
    const { lite, peer } = await setup();
    const hits = [0, 0];
    for (const i of [0, 1]) {
      const srf = await connectApp(lite, (s) => s.options((_req, res) => { hits[i]!++; res.send(200); }));
      cleanup.push(() => disconnectApp(srf));
    }
    await routed(lite, 'options', 2);
    for (let n = 0; n < 6; n++) {
      expect((await peer.send(peer.newRequest('OPTIONS', liteUri(lite)), sipUdp(lite)).final).status).toBe(200);
    }
    expect(hits).toEqual([3, 3]);
  });

  it('app disconnect: its unanswered INVITE gets 480, its established call gets a BYE, and the other app keeps working', async () => {
    const { lite, peer } = await setup();
    let answer = true;
    const leaving = await connectApp(lite, (s) => s.invite((req, res) => {
      if (answer) void s.createUAS(req, res, { localSdp: TEST_SDP });
      else res.send(180);
    }));
    cleanup.push(() => disconnectApp(leaving));
    await routed(lite, 'invite');
    const invite = peer.newRequest('INVITE', liteUri(lite), { body: TEST_SDP });
    const ok = await peer.send(invite, sipUdp(lite)).final;
    expect(ok.status).toBe(200);
    await peer.ack(invite, ok, sipUdp(lite));
    answer = false;
    const ringing = peer.send(peer.newRequest('INVITE', liteUri(lite), { body: TEST_SDP }), sipUdp(lite));
    await waitFor(() => ringing.provisional.find((r) => r.status === 180), '180');
    await waitFor(() => lite.server.stats.dialogs === 1 || undefined, 'one dialog');

    disconnectApp(leaving);
    expect((await ringing.final).status).toBe(480);
    const bye: Incoming = await peer.next('BYE');
    expect(bye.req.callId).toBe(invite.callId);
    peer.respond(bye, 200);
    expect(lite.server.stats.dialogs).toBe(0);

    const staying = await connectApp(lite, (s) => s.options((_req, res) => res.send(200)));
    cleanup.push(() => disconnectApp(staying));
    await routed(lite, 'options');
    expect((await peer.send(peer.newRequest('OPTIONS', liteUri(lite)), sipUdp(lite)).final).status).toBe(200);
  });

  it('app disconnect while its own INVITE rings: the server CANCELs it', async () => {
    const { lite, peer } = await setup();
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      peer.respond(inc, 180);
      return true;
    };
    const app = await connectApp(lite);
    cleanup.push(() => disconnectApp(app));
    let rang = false;
    void app.createUAC(peer.uri('x'), { localSdp: TEST_SDP }, { cbProvisional: () => { rang = true; } }).catch(() => undefined);
    await waitFor(() => rang || undefined, '180 at the app');
    disconnectApp(app);
    await waitFor(() => peer.cancels[0], 'CANCEL at the peer');
  });

  it('a request the app never answers gets 408 after 64*T1, so nothing waits forever', async () => {
    const lite = await startLite({ t1: 20 });
    const peer = await DrachtioPeer.create();
    cleanup.push(() => lite.close(), () => peer.close());
    const app = await connectApp(lite, (s) => s.options(() => undefined));
    cleanup.push(() => disconnectApp(app));
    await routed(lite, 'options');
    const res = await peer.send(peer.newRequest('OPTIONS', liteUri(lite)), sipUdp(lite)).final;
    expect(res.status).toBe(408);
    expect(lite.server.stats.networkTransactions).toBe(0);
  });

  it('app disconnect with a 3PCC answer it never ACKed: the server ACKs the 2xx, then BYEs', async () => {
    const { lite, peer } = await setup();
    peer.autoAnswer = (inc) => {
      if (inc.req.method !== 'INVITE') return false;
      peer.respond(inc, 200, { toTag: 'offerer', body: TEST_SDP });
      return true;
    };
    const app = await connectApp(lite);
    cleanup.push(() => disconnectApp(app));
    const pending = await app.createUAC(peer.uri('3pcc'), { noAck: true });
    expect('ack' in pending).toBe(true);
    disconnectApp(app);
    const ack = await peer.next('ACK');
    expect(getTag(ack.req.get('to')!)).toBe('offerer');
    const bye = await peer.next('BYE');
    peer.respond(bye, 200);
    expect(lite.server.stats.dialogs).toBe(0);
  });

  it('works over IPv6 (::1): createUAS, Contact in brackets, BYE from the app', async () => {
    const lite = await createDrachtioLite({
      sip: { listen: [{ transport: 'udp', address: '::1', port: 0 }], timers: { t1: 100, t2: 400, t4: 500 } },
      control: { address: '127.0.0.1', port: 0 }, secret: 'cymru', log: testLogger(),
    });
    const peer = await DrachtioPeer.create('udp', undefined, '::1');
    cleanup.push(() => lite.close(), () => peer.close());
    let uas: Srf.Dialog | undefined;
    const app = await connectApp(lite, (s) => s.invite((req, res) => { void s.createUAS(req, res, { localSdp: TEST_SDP }).then((d) => { uas = d; }); }));
    cleanup.push(() => disconnectApp(app));
    await routed(lite, 'invite');
    const sip = lite.sipEndpoints[0]!;
    const invite = peer.newRequest('INVITE', `sip:app@[::1]:${sip.port}`, { body: TEST_SDP });
    const ok = await peer.send(invite, sip).final;
    expect(ok.status).toBe(200);
    expect(ok.get('contact')).toBe(`<sip:[::1]:${sip.port}>`);
    await peer.ack(invite, ok, sip);
    await waitFor(() => uas, 'uas dialog');
    const destroyP = uas!.destroy();
    peer.respond(await peer.next('BYE'), 200);
    await destroyP;
  });

  it('works over TCP on the SIP side (createUAS + BYE)', async () => {
    const { lite, peer } = await setup('tcp');
    const app: Srf = await connectApp(lite, (s) => s.invite((req, res) => { void s.createUAS(req, res, { localSdp: TEST_SDP }); }));
    cleanup.push(() => disconnectApp(app));
    await routed(lite, 'invite');
    const tcp = lite.sipEndpoints.find((e) => e.transport === 'tcp')!;
    const invite = peer.newRequest('INVITE', `sip:app@127.0.0.1:${tcp.port};transport=tcp`, { body: TEST_SDP });
    const ok = await peer.send(invite, tcp).final;
    expect(ok.status).toBe(200);
    expect(ok.get('contact')).toContain('transport=tcp');
    await peer.ack(invite, ok, tcp);
    expect((await peer.send(peer.inDialog('BYE', invite, ok, 2), tcp).final).status).toBe(200);
  });
});
