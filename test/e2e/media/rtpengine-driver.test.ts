/**
 * RtpengineMediaLayer (the MediaLayer on rtpengine) against a real rtpengine-daemon: a session anchors both legs'
 * SDP, our two tone senders talk through it, the recording comes back as the stereo WAV (±40 ms, right tone per
 * channel), a file plays to one leg, RFC 4733 digits arrive as `dtmf` events, and close() frees the call.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/log.js';
import { createNgClient, createRtpengineMediaLayer, type NgClient, type RtpengineMediaLayer } from '../../../src/media/rtpengine/index.js';
import type { DtmfEvent } from '../../../src/media/index.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from '../../support/rtpengine.js';
import { audioSdp, bindUdp, dominantFrequency, paceStreams, readWav, RtpReceiver, rtpPacket, sdpAudioPort, toneWav, ToneStream } from '../../support/rtp-peer.js';
import { freePort } from '../../support/sipp.js';
import { AudioEndpoint } from '../../support/audio-endpoint.js';
import { performance } from 'node:perf_hooks';

const run = requireRtpengine();
const log = createLogger({ level: 'silent' });

describe.runIf(run)('RtpengineMediaLayer on rtpengine-daemon 10.5', () => {
  let daemon: RtpengineDaemon;
  let ng: NgClient;
  let media: RtpengineMediaLayer;
  beforeAll(async () => {
    const dtmfPort = await freePort();
    daemon = await startRtpengine({ ports: 100, dtmfLogDest: { host: '127.0.0.1', port: dtmfPort } });
    ng = await createNgClient({ address: daemon.ng });
    media = await createRtpengineMediaLayer({ ng, recordingDir: daemon.recordingDir, dtmfListen: { host: '127.0.0.1', port: dtmfPort }, log });
  });
  afterAll(async () => { await media?.close(); await ng?.close(); await daemon?.stop(); });

  async function bridged(uniqueCallId: string) {
    const a = await bindUdp();
    const b = await bindUdp();
    const session = await media.createSession({ uniqueCallId });
    const toCallee = await session.offer('caller', audioSdp(a.address().port));
    const toCaller = await session.answer('callee', audioSdp(b.address().port));
    return { a, b, session, callerSendsTo: sdpAudioPort(toCaller), calleeSendsTo: sdpAudioPort(toCallee) };
  }

  it('records a bridged call as a stereo WAV: left = caller 400 Hz, right = callee 1 kHz, duration ±40 ms', async () => {
    const { a, b, session, callerSendsTo, calleeSendsTo } = await bridged('drv-rec');
    const atA = new RtpReceiver(a);
    const atB = new RtpReceiver(b);
    const path = join(daemon.recordingDir, 'drv-rec.wav');
    const started = Date.now();
    const rec = await session.startRecording({ path, channels: 'both' });
    await paceStreams([new ToneStream(a, { host: '127.0.0.1', port: callerSendsTo }, { freqHz: 400 }), new ToneStream(b, { host: '127.0.0.1', port: calleeSendsTo }, { freqHz: 1000 })], 2000);
    await new Promise((r) => setTimeout(r, 30));
    const talkMs = Date.now() - started;
    const result = await rec.stop();
    await session.close();
    a.close(); b.close();
    expect(atA.packets).toBeGreaterThanOrEqual(95);
    expect(atB.packets).toBeGreaterThanOrEqual(95);
    expect(result.problems).toEqual([]);
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
    const wav = readWav(path);
    expect(wav.channels).toBe(2);
    expect(Math.abs(wav.durationMs - talkMs)).toBeLessThanOrEqual(40);
    expect(dominantFrequency(wav.samples[0]!, [400, 1000]).freqHz).toBe(400);
    expect(dominantFrequency(wav.samples[1]!, [400, 1000]).freqHz).toBe(1000);
    expect(await rec.stop()).toEqual(result); // idempotent
  });

  it('plays a file to one leg and reports it finished', async () => {
    const { a, b, session } = await bridged('drv-play');
    const file = join(daemon.recordingDir, 'greeting.wav');
    writeFileSync(file, toneWav(400, 400));
    const heard = new RtpReceiver(a);
    const pb = session.play('caller', { file });
    expect(await pb.done).toEqual({ end: 'finished' });
    expect(heard.packets).toBeGreaterThanOrEqual(15); // 20 packets of 20 ms
    const loop = session.play('caller', { file, loop: true });
    await new Promise((r) => setTimeout(r, 600));
    await loop.stop();
    expect(await loop.done).toEqual({ end: 'stopped' });
    await session.close();
    a.close(); b.close();
  });

  it('accept answers a leg itself (a file plays to it); offerTo then joins a callee to it, its ports unchanged', async () => {
    const caller = await AudioEndpoint.open(400);
    const callee = await AudioEndpoint.open(1000);
    const session = await media.createSession({ uniqueCallId: 'drv-accept' });
    const file = join(daemon.recordingDir, 'music.wav');
    writeFileSync(file, toneWav(700, 2000));
    const ours = await session.accept('caller', caller.sdp());
    caller.start(ours);
    const t0 = performance.now();
    const music = session.play('caller', { file, loop: true });
    await new Promise((r) => setTimeout(r, 1200));
    expect(caller.heardBetween(t0 + 200, t0 + 1100, [400, 700, 1000]).freqHz).toBe(700);
    await music.stop();
    const offer = await session.offerTo('callee');
    const back = await session.answer('callee', callee.sdp());
    // The caller keeps the address it was answered with (port latching): nothing need go back to it.
    expect(sdpAudioPort(back)).toBe(sdpAudioPort(ours));
    callee.start(offer);
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, 1500));
    expect(caller.heardBetween(t1 + 300, t1 + 1400, [400, 700, 1000]).freqHz).toBe(1000);
    expect(callee.heardBetween(t1 + 300, t1 + 1400, [400, 700, 1000]).freqHz).toBe(400);
    await session.close();
    caller.close(); callee.close();
    const fresh = await media.createSession({ uniqueCallId: 'drv-accept-2' });
    await expect(fresh.offerTo('callee')).rejects.toMatchObject({ code: 'SB_ERR_MEDIA_SDP' });
    await fresh.close();
  });

  it('turns RFC 4733 telephone-events from a leg into one dtmf event per key press', async () => {
    const { a, b, session, callerSendsTo } = await bridged('drv-dtmf');
    const digits: DtmfEvent[] = [];
    session.on('dtmf', (d) => digits.push(d));
    const send = (p: Buffer) => a.send(p, callerSendsTo, '127.0.0.1');
    let seq = 100;
    // Some audio first (rtpengine latches the stream), then '7': three updates and the end packet three times (RFC 4733 §2.5.1.4).
    const silence = Buffer.alloc(160, 0xff);
    for (let i = 0; i < 5; i++) { send(rtpPacket(0, seq++, i * 160, 77, silence)); await new Promise((r) => setTimeout(r, 20)); }
    const ev = (end: boolean, dur: number) => Buffer.from([7, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
    for (let i = 1; i <= 3; i++) { send(rtpPacket(101, seq++, 800, 77, ev(false, 160 * i), i === 1)); await new Promise((r) => setTimeout(r, 20)); }
    for (let i = 0; i < 3; i++) { send(rtpPacket(101, seq++, 800, 77, ev(true, 640))); await new Promise((r) => setTimeout(r, 20)); }
    for (let i = 0; i < 10 && digits.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(digits).toEqual([{ role: 'caller', digit: '7', durationMs: expect.any(Number), source: 'rfc4733' }]);
    session.injectDtmf({ role: 'callee', digit: '#', durationMs: 100 });
    expect(digits[1]).toEqual({ role: 'callee', digit: '#', durationMs: 100, source: 'info' });
    await session.close();
    a.close(); b.close();
  });

  it('close() deletes the rtpengine call (ports freed), is idempotent, and rejects later use', async () => {
    const { a, b, session } = await bridged('drv-close');
    const list = async () => ((await ng.command('list', {})).calls as Buffer[]).map((c) => c.toString());
    expect(await list()).toContainEqual(expect.stringMatching(/^drv-close-/));
    const closed = new Promise((r) => session.on('closed', r));
    const before = media.sessionCount;
    await Promise.all([session.close('hangup'), session.close()]);
    expect(await closed).toEqual({ reason: 'hangup' });
    expect(media.sessionCount).toBe(before - 1);
    expect(session.closed).toBe(true);
    expect(await list()).not.toContainEqual(expect.stringMatching(/^drv-close-/));
    await expect(session.offer('caller', audioSdp(a.address().port))).rejects.toThrow(/closed media session/);
    a.close(); b.close();
  });

  it('rejects an SDP rtpengine cannot use with a MediaError', async () => {
    const session = await media.createSession({ uniqueCallId: 'drv-bad' });
    await expect(session.offer('caller', 'garbage')).rejects.toMatchObject({ name: 'MediaError' });
    await session.close();
  });
});
