/**
 * Browser legs anchored in rtpengine through the whole Switchboard (issue 13): sip.js over WebSocket writing and
 * expecting WebRTC SDP (test/support/sipjs.ts, `webrtc`), media.driver rtpengine on a real rtpengine-daemon. A
 * browser calling a desk phone: the phone is offered plain RTP/AVP G.711, the browser is answered ICE + DTLS-SRTP
 * (setup:passive); a DID calling the browser: the browser is offered WebRTC, the carrier gets plain RTP.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestPhone } from '../../../src/sip/phone/index.js';
import { startTestSwitchboard, type TestSwitchboard } from '../../support/switchboard.js';
import { killAllSipp, runSipp } from '../../support/sipp.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from '../../support/rtpengine.js';
import { startSipJsPhone, settled, terminated, type SipJsPhone } from '../../support/sipjs.js';

const run = requireRtpengine();
const DOMAIN = 'switchboard.local';

describe.runIf(run)('WebRTC browser legs through rtpengine', () => {
  let daemon: RtpengineDaemon;
  let sb: TestSwitchboard;
  const phones: SipJsPhone[] = [];
  beforeAll(async () => {
    daemon = await startRtpengine({ ports: 100 });
    sb = await startTestSwitchboard({
      mutate: (c) => {
        c.media.driver = 'rtpengine';
        c.media.rtpengine = { ...c.media.rtpengine, ng_host: daemon.ng.host, ng_port: daemon.ng.port, recording_dir: daemon.recordingDir };
        c.sip.ws = { ...c.sip.ws, port: 0 };
      },
    });
  }, 60_000);
  afterEach(async () => {
    for (const p of phones.splice(0)) await p.stop();
    killAllSipp();
  });
  afterAll(async () => { await sb?.stop(); await daemon?.stop(); });

  async function browser(username: string): Promise<SipJsPhone> {
    const ws = sb.sip.find((s) => s.transport === 'ws')!;
    const p = await startSipJsPhone({ server: `ws://127.0.0.1:${ws.port}`, username, password: `${username}-pw`, domain: DOMAIN, webrtc: true });
    phones.push(p);
    await p.register();
    return p;
  }

  it('a browser calling a desk phone: RTP/AVP G.711 to the phone, ICE + DTLS-SRTP (passive) back to the browser', async () => {
    const desk = await TestPhone.create({ transport: 'udp', username: 'alice-mobile', password: 'alice-mobile-pw', domain: DOMAIN, registrar: { ...sb.sip.find((s) => s.transport === 'udp')!, transport: 'udp' } });
    try {
      expect((await desk.register()).ok).toBe(true);
      let offered = '';
      desk.onIncoming = (c) => { offered = c.invite.body.toString('utf8'); c.answer(); };
      const bob = await browser('bob-soft');
      const call = await bob.call(`sip:1001@${DOMAIN}`);
      expect(offered).toMatch(/^m=audio \d+ RTP\/AVP .*\b0\b/m);
      expect(offered).not.toMatch(/^a=(ice-ufrag|fingerprint|crypto|candidate):/m);
      const answer = bob.sdhs.at(-1)!.remoteSdp!;
      expect(answer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0\b/m);
      expect(answer).toMatch(/^a=setup:passive/m);
      expect(answer).toMatch(/^a=fingerprint:/m);
      expect(answer).toMatch(/^a=candidate:.*typ host/m);
      expect(answer).toMatch(/^a=rtcp-mux/m);
      expect(answer).not.toMatch(/^a=crypto:/m);
      await call.bye();
      await terminated(call);
    } finally {
      // Its binding would make the next test's fork to 1001 a mixed one (a desk phone and a browser).
      await desk.unregister();
      await desk.close();
    }
  });

  it('a DID calling a browser: the browser is offered WebRTC, the carrier gets plain RTP and the call completes', async () => {
    const alice = await browser('alice-desk');
    const ringing = alice.nextInvitation();
    const uac = await runSipp({ scenario: 'engine-uac-did.xml', target: sb.sipTarget, calls: 1, timeoutS: 30, extra: ['-s', '61390000000', '-d', '300', '-trace_msg'] });
    const inv = await ringing;
    const offer = inv.request.body;
    expect(offer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
    expect(offer).toMatch(/^a=ice-ufrag:/m);
    expect(offer).toMatch(/^a=fingerprint:/m);
    expect(offer).not.toMatch(/^a=crypto:/m);
    await inv.accept();
    await settled(inv);
    await terminated(inv);
    const r = await uac.done;
    expect(r.code, r.errors || r.stdout.slice(-1500)).toBe(0);
    // The 200 SIPp got (in its -trace_msg file) carries plain RTP from rtpengine.
    const trace = readdirSync(uac.dir).filter((f) => f.endsWith('_messages.log')).map((f) => readFileSync(join(uac.dir, f), 'utf8')).join('');
    const ok = trace.slice(trace.indexOf('SIP/2.0 200 OK'));
    expect(ok).toMatch(/m=audio \d+ RTP\/AVP 0/);
  });
});
