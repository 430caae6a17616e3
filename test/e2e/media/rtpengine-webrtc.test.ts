/**
 * WebRTC legs through rtpengine-daemon (issue 13): a browser's offer (ICE + DTLS-SRTP, UDP/TLS/RTP/SAVPF) reaches the
 * plain side as RTP/AVP G.711 without ICE or keys, and the plain answer goes back to the browser as WebRTC (ICE
 * candidate, fingerprint, setup:passive, rtcp-mux, no SDES); a callee known to be a browser gets a WebRTC offer from
 * a plain caller, and its answer reaches the caller as plain RTP. G.711 is not transcoded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/log.js';
import { isWebRtcSdp } from '../../../src/media/index.js';
import { createNgClient, createRtpengineMediaLayer, type NgClient, type RtpengineMediaLayer } from '../../../src/media/rtpengine/index.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from '../../support/rtpengine.js';
import { audioSdp } from '../../support/rtp-peer.js';

const run = requireRtpengine();
const log = createLogger({ level: 'silent' });

const FINGERPRINT = 'sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08';

/** An SDP as Chromium writes it for one audio m-line (opus first, then G.711), with `setup`. */
function browserSdp(port: number, setup: 'actpass' | 'active'): string {
  return [
    'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=msid-semantic: WMS',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 111 0 8 126`, 'c=IN IP4 127.0.0.1', `a=rtcp:${port} IN IP4 127.0.0.1`,
    `a=candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host generation 0`,
    'a=ice-ufrag:Wm3k', 'a=ice-pwd:2m0a5hQk9f4bGcvC7fPq1Xy8', 'a=ice-options:trickle', `a=fingerprint:${FINGERPRINT}`, `a=setup:${setup}`,
    'a=mid:0', 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:126 telephone-event/8000', '',
  ].join('\r\n');
}

function expectPlain(sdp: string): void {
  expect(sdp).toMatch(/^m=audio \d+ RTP\/AVP /m);
  expect(isWebRtcSdp(sdp)).toBe(false);
  expect(sdp).not.toMatch(/^a=(ice-ufrag|ice-pwd|candidate|fingerprint|crypto|setup):/m);
}

function expectWebRtc(sdp: string, setup: RegExp): void {
  expect(sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
  expect(sdp).toMatch(/^a=ice-ufrag:/m);
  expect(sdp).toMatch(/^a=candidate:.* typ host/m);
  expect(sdp).toMatch(/^a=fingerprint:sha-\d+ /m);
  expect(sdp).toMatch(setup);
  expect(sdp).toMatch(/^a=rtcp-mux/m);
  expect(sdp).not.toMatch(/^a=crypto:/m);
}

describe.runIf(run)('WebRTC legs on rtpengine-daemon', () => {
  let daemon: RtpengineDaemon;
  let ng: NgClient;
  let media: RtpengineMediaLayer;
  beforeAll(async () => {
    daemon = await startRtpengine({ ports: 60 });
    ng = await createNgClient({ address: daemon.ng });
    media = await createRtpengineMediaLayer({ ng, recordingDir: daemon.recordingDir, log });
  });
  afterAll(async () => { await media?.close(); await ng?.close(); await daemon?.stop(); });

  it('takes a browser caller to a plain callee: RTP/AVP G.711 to the callee, ICE + DTLS-SRTP (passive) back to the browser', async () => {
    const session = await media.createSession({ uniqueCallId: 'webrtc-caller' });
    const toCallee = await session.offer('caller', browserSdp(50000, 'actpass'));
    expectPlain(toCallee);
    expect(toCallee).toMatch(/^a=rtpmap:0 PCMU\/8000/m);
    const toBrowser = await session.answer('callee', audioSdp(50010));
    expectWebRtc(toBrowser, /^a=setup:passive/m);
    // The callee answered PCMU: the browser is answered PCMU, nothing transcoded.
    expect(toBrowser).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0\b/m);
    expect(toBrowser).not.toMatch(/opus/);
    await session.close();
  });

  it('takes a plain caller to a callee known to be a browser: a WebRTC offer to it, its answer back as plain RTP', async () => {
    const session = await media.createSession({ uniqueCallId: 'webrtc-callee', webrtc: ['callee'] });
    const toBrowser = await session.offer('caller', audioSdp(50020));
    expectWebRtc(toBrowser, /^a=setup:(passive|actpass)/m);
    expect(toBrowser).toMatch(/^a=mid:/m);
    const toCaller = await session.answer('callee', browserSdp(50030, 'active').replace(' 111 0 8 126', ' 0 126'));
    expectPlain(toCaller);
    expect(toCaller).toMatch(/^m=audio \d+ RTP\/AVP 0\b/m);
    await session.close();
  });

  it('leaves two plain parties plain (the options of every other call are unchanged)', async () => {
    const session = await media.createSession({ uniqueCallId: 'plain-both' });
    expectPlain(await session.offer('caller', audioSdp(50040)));
    expectPlain(await session.answer('callee', audioSdp(50050)));
    await session.close();
  });
});
