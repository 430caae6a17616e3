/**
 * Recording through a real rtpengine-daemon: two RTP senders of our own (caller 400 Hz, callee 1 kHz, G.711) talk
 * through rtpengine's offer/answer anchor, rtpengine records the call as pcap, and our conversion makes the stereo
 * WAV: duration within ±40 ms of the recorded time, left = caller's tone, right = callee's tone.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNgClient, type NgClient } from '../../../src/media/rtpengine/ng-client.js';
import { convertPcapToWav } from '../../../src/media/rtpengine/pcap-to-wav.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from '../../support/rtpengine.js';
import { audioSdp, bindUdp, dominantFrequency, paceStreams, readWav, RtpReceiver, sdpAudioPort, ToneStream } from '../../support/rtp-peer.js';

const run = requireRtpengine();

describe.runIf(run)('rtpengine pcap recording → stereo WAV', () => {
  let daemon: RtpengineDaemon;
  let ng: NgClient;
  beforeAll(async () => {
    daemon = await startRtpengine({ ports: 100 });
    ng = await createNgClient({ address: daemon.ng });
  });
  afterAll(async () => { await ng?.close(); await daemon?.stop(); });

  async function recordedCall(callId: string, law: 'pcmu' | 'pcma', opts: { callerPauseMs?: number } = {}) {
    const a = await bindUdp();
    const b = await bindUdp();
    const offer = await ng.offer({ 'call-id': callId, 'from-tag': 'caller', sdp: audioSdp(a.address().port, { law }), replace: ['origin', 'session-connection'], ICE: 'remove' });
    const answer = await ng.answer({ 'call-id': callId, 'from-tag': 'caller', 'to-tag': 'callee', sdp: audioSdp(b.address().port, { law }), replace: ['origin', 'session-connection'], ICE: 'remove' });
    const callerPort = sdpAudioPort(answer.sdp); // where the caller sends
    const calleePort = sdpAudioPort(offer.sdp); // where the callee sends
    const atA = new RtpReceiver(a);
    const atB = new RtpReceiver(b);
    const caller = new ToneStream(a, { host: '127.0.0.1', port: callerPort }, { freqHz: 400, law });
    const callee = new ToneStream(b, { host: '127.0.0.1', port: calleePort }, { freqHz: 1000, law });
    const startMs = Date.now();
    await ng.startRecording({ 'call-id': callId });
    if (opts.callerPauseMs) {
      // The caller goes quiet (hold) in the middle: its channel must carry silence for that time, in step.
      await Promise.all([paceStreams([callee], 2000 + opts.callerPauseMs), (async () => {
        await paceStreams([caller], 1000);
        await new Promise((r) => setTimeout(r, opts.callerPauseMs));
        await paceStreams([caller], 1000);
      })()]);
    } else {
      await paceStreams([caller, callee], 2000);
    }
    await new Promise((r) => setTimeout(r, 30));
    const endMs = Date.now();
    await ng.stopRecording({ 'call-id': callId });
    await ng.delete({ 'call-id': callId });
    a.close();
    b.close();
    const pcaps = readdirSync(join(daemon.recordingDir, 'pcaps')).filter((f) => f.startsWith(`${callId}-`));
    expect(pcaps).toHaveLength(1);
    const wavPath = join(daemon.recordingDir, `${callId}.wav`);
    const result = await convertPcapToWav({ pcapPath: join(daemon.recordingDir, 'pcaps', pcaps[0]!), wavPath, ports: { caller: [callerPort], callee: [calleePort] }, channels: 'both', startMs, endMs });
    return { result, wavPath, startMs, endMs, heardByCaller: atA.packets, heardByCallee: atB.packets };
  }

  it.each(['pcmu', 'pcma'] as const)('%s: both directions are relayed and recorded in step, left = caller (400 Hz), right = callee (1 kHz)', async (law) => {
    const { result, wavPath, startMs, endMs, heardByCaller, heardByCallee } = await recordedCall(`rec-${law}`, law);
    expect(heardByCaller).toBeGreaterThanOrEqual(95); // 100 sent by the callee
    expect(heardByCallee).toBeGreaterThanOrEqual(95);
    expect(result.problems).toEqual([]);
    expect(result.stats.packets.caller).toBeGreaterThanOrEqual(95);
    expect(result.stats.packets.callee).toBeGreaterThanOrEqual(95);
    const wav = readWav(wavPath);
    expect(wav.channels).toBe(2);
    expect(wav.sampleRate).toBe(8000);
    expect(wav.bitsPerSample).toBe(16);
    expect(Math.abs(wav.durationMs - (endMs - startMs))).toBeLessThanOrEqual(40);
    expect(result.durationMs).toBe(Math.round(wav.durationMs));
    expect(result.sizeBytes).toBe(readFileSync(wavPath).length);
    expect(dominantFrequency(wav.samples[0]!, [400, 1000]).freqHz).toBe(400);
    expect(dominantFrequency(wav.samples[1]!, [400, 1000]).freqHz).toBe(1000);
  });

  it('writes a pause in one party as silence on its channel, keeping the other in step', async () => {
    const { wavPath, startMs, endMs } = await recordedCall('rec-hold', 'pcmu', { callerPauseMs: 1000 });
    const wav = readWav(wavPath);
    expect(Math.abs(wav.durationMs - (endMs - startMs))).toBeLessThanOrEqual(40);
    const second = (ch: number, s: number) => wav.samples[ch]!.subarray(s * 8000 + 800, (s + 1) * 8000 - 800);
    const energy = (x: Int16Array) => x.reduce((acc, v) => acc + Math.abs(v), 0) / x.length;
    expect(energy(second(0, 0))).toBeGreaterThan(3000); // caller talking
    expect(energy(second(0, 1))).toBeLessThan(100); // caller quiet: silence
    expect(energy(second(0, 2))).toBeGreaterThan(3000); // caller back
    for (const s of [0, 1, 2]) expect(energy(second(1, s))).toBeGreaterThan(3000); // callee throughout
  });
});

describe('pcap → WAV on bad captures', () => {
  it('closes a WAV of what it could read and names the problem (truncated, not a pcap)', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'sb-pcap-'));
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0); header.writeUInt16LE(2, 4); header.writeUInt16LE(4, 6); header.writeUInt32LE(65535, 16); header.writeUInt32LE(101, 20);
    writeFileSync(join(dir, 'cut.pcap'), Buffer.concat([header, Buffer.alloc(10)]));
    writeFileSync(join(dir, 'junk.pcap'), Buffer.from('this is not a capture at all'));
    const cut = await convertPcapToWav({ pcapPath: join(dir, 'cut.pcap'), wavPath: join(dir, 'cut.wav'), ports: { caller: [1], callee: [2] }, channels: 'both' });
    expect(cut.problems).toEqual(['pcap-truncated']);
    expect(cut.sizeBytes).toBe(44);
    const junk = await convertPcapToWav({ pcapPath: join(dir, 'junk.pcap'), wavPath: join(dir, 'junk.wav'), ports: { caller: [1], callee: [2] }, channels: 'caller' });
    expect(junk.problems).toEqual(['pcap-unreadable']);
    const missing = await convertPcapToWav({ pcapPath: join(dir, 'nope.pcap'), wavPath: join(dir, 'nope.wav'), ports: { caller: [1], callee: [2] }, channels: 'both' });
    expect(missing.problems).toEqual(['pcap-unreadable']);
  });
});
