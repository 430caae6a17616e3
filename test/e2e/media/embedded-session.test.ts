/**
 * The embedded media layer over real UDP on 127.0.0.1: two tone senders of our own (400 Hz from the caller, 1 kHz
 * from the callee) talk through a session anchored with offer/answer; each hears the other, the stereo recording
 * has the talk time (±40 ms, measured on the same clock) and the right tone per channel; PCMU↔PCMA is transcoded;
 * a hold re-offer keeps the ports and the hold is silence in the file; RFC 4733 digits (ours and SIPp's shipped
 * pcap) become dtmf events and are relayed; a file plays to a leg; garbage and a wrong payload type are dropped
 * with warnings; ports are released on close.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/log.js';
import { createEmbeddedMediaLayer, type EmbeddedMediaLayer, type EmbeddedSession } from '../../../src/media/embedded/index.js';
import type { DtmfEvent, MediaSessionEvents } from '../../../src/media/index.js';
import { PcapParser } from '../../../src/media/rtpengine/pcap.js';
import { audioSdp, bindUdp, dominantFrequency, paceStreams, readWav, RtpReceiver, rtpPacket, sdpAudioPort, toneWav, ToneStream } from '../../support/rtp-peer.js';
import { eventually } from '../../support/eventually.js';
import { freePort } from '../../support/sipp.js';

const log = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects the audio a socket receives (decoded PCMU/PCMA) and the payload types seen. */
class Heard {
  readonly chunks: Int16Array[] = [];
  readonly pts = new Set<number>();
  events: Buffer[] = [];
  constructor(socket: Socket) {
    socket.on('message', (m) => {
      const pt = m[1]! & 0x7f;
      this.pts.add(pt);
      const payload = m.subarray(12);
      if (pt === 0) this.chunks.push(alawmulaw.mulaw.decode(payload));
      else if (pt === 8) this.chunks.push(alawmulaw.alaw.decode(payload));
      else this.events.push(Buffer.from(m));
    });
  }
  get samples(): Int16Array {
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Int16Array(n);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
  freq(): number { return dominantFrequency(this.samples, [400, 1000]).freqHz; }
}

function rms(s: Int16Array): number {
  let sum = 0;
  for (const x of s) sum += x * x;
  return s.length ? Math.sqrt(sum / s.length) : 0;
}

describe('embedded media layer (real UDP on 127.0.0.1)', () => {
  let media: EmbeddedMediaLayer;
  let dir: string;
  let portMin: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-embedded-'));
    // A range of 40 ports starting at a free even port (tests running at the same time use other ranges).
    portMin = (await freePort()) & ~1;
    if (portMin > 65000) portMin = 40000;
    media = createEmbeddedMediaLayer({ bindAddress: '127.0.0.1', portMin, portMax: portMin + 39, log, mediaTimeoutMs: 400 });
  });
  afterAll(async () => {
    await media?.close();
    for (const s of sockets) try { s.close(); } catch { /* already closed */ }
    rmSync(dir, { recursive: true, force: true });
  });

  async function peer(): Promise<Socket> { const s = await bindUdp(); sockets.push(s); return s; }

  async function bridged(id: string, opts: { callerLaw?: 'pcmu' | 'pcma'; calleeLaw?: 'pcmu' | 'pcma' } = {}) {
    const a = await peer();
    const b = await peer();
    const session = await media.createSession({ uniqueCallId: id });
    const toCallee = await session.offer('caller', audioSdp(a.address().port, { law: opts.callerLaw }));
    const toCaller = await session.answer('callee', audioSdp(b.address().port, { law: opts.calleeLaw }));
    return { a, b, session, toCallee, toCaller, callerSendsTo: sdpAudioPort(toCaller), calleeSendsTo: sdpAudioPort(toCallee) };
  }

  it('relays both directions and records a stereo WAV: left = caller 400 Hz, right = callee 1 kHz, duration ±40 ms', async () => {
    const { a, b, session, toCallee, toCaller, callerSendsTo, calleeSendsTo } = await bridged('emb-rec');
    expect(toCallee).toMatch(/^c=IN IP4 127\.0\.0\.1\r$/m);
    expect(toCallee).toMatch(/^a=rtpmap:101 telephone-event\/8000\r$/m);
    expect(toCaller).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r$/m);
    const atA = new Heard(a);
    const atB = new Heard(b);
    const rxA = new RtpReceiver(a);
    const path = join(dir, 'rec.wav');
    const started = performance.now();
    const rec = await session.startRecording({ path, channels: 'both' });
    await paceStreams([new ToneStream(a, { host: '127.0.0.1', port: callerSendsTo }, { freqHz: 400 }), new ToneStream(b, { host: '127.0.0.1', port: calleeSendsTo }, { freqHz: 1000 })], 2000);
    await sleep(40);
    const result = await rec.stop();
    const talkMs = performance.now() - started;
    expect(atA.chunks.length).toBeGreaterThanOrEqual(90);
    expect(atB.chunks.length).toBeGreaterThanOrEqual(90);
    expect(atA.freq()).toBe(1000); // the caller hears the callee
    expect(atB.freq()).toBe(400);
    expect(rxA.lost).toBe(0);
    expect(result.problems).toEqual([]);
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.sizeBytes).toBe(readFileSync(path).length);
    const wav = readWav(path);
    expect(wav).toMatchObject({ channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    expect(Math.abs(wav.durationMs - talkMs)).toBeLessThanOrEqual(40);
    expect(Math.abs(result.durationMs - wav.durationMs)).toBeLessThanOrEqual(1);
    expect(dominantFrequency(wav.samples[0]!, [400, 1000])).toMatchObject({ freqHz: 400 });
    expect(dominantFrequency(wav.samples[1]!, [400, 1000])).toMatchObject({ freqHz: 1000 });
    expect(await rec.stop()).toEqual(result); // idempotent
    await session.close();
  });

  it('transcodes PCMU ↔ PCMA when the legs negotiate different laws', async () => {
    const { a, b, session, toCallee, toCaller, callerSendsTo, calleeSendsTo } = await bridged('emb-xcode', { callerLaw: 'pcmu', calleeLaw: 'pcma' });
    expect(toCallee).toMatch(/^m=audio \d+ RTP\/AVP 0 8 101\r$/m); // we offer both laws to the callee
    expect(toCaller).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r$/m); // and answer the caller in its own
    const atA = new Heard(a);
    const atB = new Heard(b);
    await paceStreams([new ToneStream(a, { host: '127.0.0.1', port: callerSendsTo }, { freqHz: 400, law: 'pcmu' }), new ToneStream(b, { host: '127.0.0.1', port: calleeSendsTo }, { freqHz: 1000, law: 'pcma' })], 600);
    await sleep(40);
    expect([...atA.pts]).toEqual([0]);
    expect([...atB.pts]).toEqual([8]);
    expect(atA.freq()).toBe(1000);
    expect(atB.freq()).toBe(400);
    expect(rms(atB.samples)).toBeGreaterThan(8000); // the tone's level survives the conversion (amplitude 16000 → RMS ≈ 11300)
    await session.close();
  });

  it('a hold re-offer (sendonly) and the unhold keep the ports, carry the direction, and the hold is silence in the recording', async () => {
    const { a, b, session, toCallee, callerSendsTo, calleeSendsTo } = await bridged('emb-hold');
    const path = join(dir, 'hold.wav');
    const rec = await session.startRecording({ path, channels: 'both' });
    const fromA = new ToneStream(a, { host: '127.0.0.1', port: callerSendsTo }, { freqHz: 400 });
    const fromB = new ToneStream(b, { host: '127.0.0.1', port: calleeSendsTo }, { freqHz: 1000 });
    await paceStreams([fromA, fromB], 500);
    // The callee puts the caller on hold: re-INVITE from the callee, answered by the caller.
    const holdOffer = await session.offer('callee', audioSdp(b.address().port, { direction: 'sendonly', version: 2 }));
    expect(sdpAudioPort(holdOffer)).toBe(callerSendsTo);
    expect(holdOffer).toMatch(/^a=sendonly\r$/m);
    const holdAnswer = await session.answer('caller', audioSdp(a.address().port, { direction: 'recvonly', version: 2 }));
    expect(sdpAudioPort(holdAnswer)).toBe(calleeSendsTo);
    expect(holdAnswer).toMatch(/^a=recvonly\r$/m);
    const heardDuringHold = new Heard(b);
    await paceStreams([fromA, fromB], 1000); // both keep sending: the caller's audio is not relayed (it said recvonly) nor recorded
    const heldPackets = heardDuringHold.chunks.length;
    const unhold = await session.offer('callee', audioSdp(b.address().port, { version: 3 }));
    expect(sdpAudioPort(unhold)).toBe(callerSendsTo);
    expect(unhold).toMatch(/^a=sendrecv\r$/m);
    expect(sdpAudioPort(await session.answer('caller', audioSdp(a.address().port, { version: 3 })))).toBe(calleeSendsTo);
    await paceStreams([fromA, fromB], 500);
    await sleep(40);
    const result = await rec.stop();
    expect(heldPackets).toBeLessThanOrEqual(3); // at most what was in flight when the hold began
    const wav = readWav(path);
    const at = (ms: number) => Math.round((ms * 8000) / 1000);
    // Talk (0–500 ms), hold (500–1500 ms, silence on both channels), talk again (1500–2000 ms); 150 ms margins.
    for (const ch of [0, 1]) {
      expect(rms(wav.samples[ch]!.subarray(at(150), at(400)))).toBeGreaterThan(5000);
      expect(rms(wav.samples[ch]!.subarray(at(700), at(1300)))).toBe(0);
      expect(rms(wav.samples[ch]!.subarray(at(1700), at(1900)))).toBeGreaterThan(5000);
    }
    expect(result.problems).toEqual([]);
    expect(Math.abs(wav.durationMs - 2040)).toBeLessThanOrEqual(120);
    await session.close();
  });

  it('turns RFC 4733 telephone-events into one dtmf event per key press (end packet ×3) and relays them', async () => {
    const { a, b, session, callerSendsTo } = await bridged('emb-dtmf');
    const digits: DtmfEvent[] = [];
    session.on('dtmf', (d) => digits.push(d));
    const atB = new Heard(b);
    let seq = 100;
    const send = (p: Buffer) => a.send(p, callerSendsTo, '127.0.0.1');
    const ev = (code: number, end: boolean, dur: number) => Buffer.from([code, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
    for (let i = 0; i < 3; i++) { send(rtpPacket(0, seq++, i * 160, 77, Buffer.alloc(160, 0xff))); await sleep(20); }
    for (const [k, code] of [5, 11].entries()) {
      const ts = 1000 + k * 2000;
      for (let i = 1; i <= 3; i++) { send(rtpPacket(101, seq++, ts, 77, ev(code, false, 160 * i), i === 1)); await sleep(20); }
      for (let i = 0; i < 3; i++) { send(rtpPacket(101, seq++, ts, 77, ev(code, true, 800))); await sleep(5); }
    }
    // The digit is reported at the first end packet; its two copies are still on their way to the callee.
    await eventually(() => digits.length === 2 && atB.events.length === 12, 'two digits and 12 relayed events', 2000);
    expect(digits).toEqual([
      { role: 'caller', digit: '5', durationMs: 100, source: 'rfc4733' },
      { role: 'caller', digit: '#', durationMs: 100, source: 'rfc4733' },
    ]);
    expect(atB.events.length).toBe(12); // every event packet relayed to the callee with its telephone-event type
    expect(atB.events.every((p) => (p[1]! & 0x7f) === 101)).toBe(true);
    session.injectDtmf({ role: 'callee', digit: '9', durationMs: 120 });
    expect(digits[2]).toEqual({ role: 'callee', digit: '9', durationMs: 120, source: 'info' });
    await session.close();
  });

  it('reports the digit in SIPp\'s shipped RFC 2833 capture (dtmf_2833_1.pcap) replayed with its timing', async () => {
    const capture = '/usr/share/sip-tester/dtmf_2833_1.pcap';
    const parser = new PcapParser();
    const packets = parser.push(readFileSync(capture));
    expect(parser.end()).toBeNull();
    expect(packets.length).toBe(10);
    const { a, b, session, callerSendsTo } = await bridged('emb-pcap');
    const atB = new Heard(b);
    const digits: DtmfEvent[] = [];
    session.on('dtmf', (d) => digits.push(d));
    const t0 = packets[0]!.timeUs;
    const start = performance.now();
    for (const p of packets) {
      const wait = (p.timeUs - t0) / 1000 - (performance.now() - start);
      if (wait > 1) await sleep(wait);
      a.send(p.payload, callerSendsTo, '127.0.0.1');
    }
    await eventually(() => digits.length === 1 && atB.events.length === packets.length, 'the digit and every packet relayed', 2000);
    expect(digits).toEqual([{ role: 'caller', digit: '1', durationMs: 280, source: 'rfc4733' }]);
    // All ten relayed, the end packet's three copies too although the capture repeats its sequence number.
    expect(atB.events.map((p) => p.subarray(12).toString('hex'))).toEqual(packets.map((p) => p.payload.subarray(12).toString('hex')));
    await session.close();
  });

  it('plays a WAV to one leg (heard with the file\'s frequency instead of the peer), loops until stopped', async () => {
    const { a, b, session, calleeSendsTo } = await bridged('emb-play');
    const file = join(dir, 'greeting.wav');
    writeFileSync(file, toneWav(400, 600));
    const atA = new Heard(a);
    const rxA = new RtpReceiver(a);
    const talk = paceStreams([new ToneStream(b, { host: '127.0.0.1', port: calleeSendsTo }, { freqHz: 1000 })], 1400);
    await sleep(300);
    const before = atA.chunks.length;
    const pb = session.play('caller', { file });
    expect(await pb.done).toEqual({ end: 'finished' });
    // `done` comes as the file's last packet is sent; it may still be on its way to the caller.
    await eventually(() => atA.chunks.length - before >= 28, '28 packets at the caller', 1000);
    const during = atA.chunks.slice(before);
    expect(during.length).toBeGreaterThanOrEqual(28); // 30 packets of the file (and a few of the callee's around it)
    const played = new Int16Array(during.slice(2, 28).flatMap((c) => [...c]));
    expect(dominantFrequency(played, [400, 1000]).freqHz).toBe(400);
    await talk;
    await sleep(40);
    expect(atA.freq()).toBe(1000); // before and after, the caller hears the callee
    expect(rxA.lost).toBeLessThanOrEqual(2); // one continuous stream across relay → file → relay
    const loop = session.play('caller', { file, loop: true });
    await sleep(1000);
    await loop.stop();
    expect(await loop.done).toEqual({ end: 'stopped' });
    const bad = session.play('caller', { file: join(dir, 'missing.wav') });
    expect(await bad.done).toMatchObject({ end: 'failed', error: expect.stringMatching(/missing\.wav/) });
    await session.close();
    expect(await session.play('caller', { file }).done).toEqual({ end: 'closed' });
  });

  it('drops garbled packets and wrong payload types with warnings, and keeps relaying', async () => {
    const { a, b, session, callerSendsTo } = await bridged('emb-bad');
    const warnings: Array<MediaSessionEvents['warning']> = [];
    session.on('warning', (w) => warnings.push(w));
    const atB = new Heard(b);
    const send = (p: Buffer) => a.send(p, callerSendsTo, '127.0.0.1');
    send(Buffer.from([0x80, 0x00, 0x01])); // shorter than a header
    send(Buffer.from('this is not RTP at all, just text'));
    const cc = rtpPacket(0, 1, 0, 5, Buffer.alloc(4)); cc[0] = 0x8f; send(cc); // 15 CSRCs announced, none there
    const pad = rtpPacket(0, 2, 0, 5, Buffer.alloc(4)); pad[0] = 0xa0; pad[pad.length - 1] = 200; send(pad); // padding beyond the packet
    await sleep(50);
    send(rtpPacket(18, 3, 0, 5, Buffer.alloc(10))); // G.729, never negotiated
    for (let i = 0; i < 256; i++) send(Buffer.from(Array.from({ length: (i * 7) % 200 }, (_, j) => (i * 31 + j * 17) & 0xff)));
    await paceStreams([new ToneStream(a, { host: '127.0.0.1', port: callerSendsTo }, { freqHz: 400 })], 300);
    await sleep(40);
    expect(warnings.filter((w) => w.code === 'rtp-malformed').length).toBeGreaterThanOrEqual(1);
    expect(warnings).toContainEqual({ role: 'caller', code: 'rtp-payload-type', message: expect.stringMatching(/payload type 18/) });
    expect(warnings.find((w) => w.code === 'rtp-malformed')!.message).toMatch(/shorter than the 12-byte header/);
    expect(session.statsOf('caller').malformed).toBeGreaterThanOrEqual(4);
    expect(atB.chunks.length).toBeGreaterThanOrEqual(12);
    expect(atB.freq()).toBe(400);
    await session.close();
  });

  it('takes the last of several answers to one offer (a forked call: 18x from one device, 2xx from another)', async () => {
    const a = await peer();
    const dev1 = await peer();
    const dev2 = await peer();
    const session = await media.createSession({ uniqueCallId: 'emb-fork' });
    const toCallees = await session.offer('caller', audioSdp(a.address().port));
    const early = await session.answer('callee', audioSdp(dev1.address().port, { law: 'pcma' }));
    const final = await session.answer('callee', audioSdp(dev2.address().port));
    expect(sdpAudioPort(final)).toBe(sdpAudioPort(early));
    expect(early).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r$/m); // the caller keeps PCMU either way
    const at1 = new Heard(dev1);
    const at2 = new Heard(dev2);
    await paceStreams([
      new ToneStream(a, { host: '127.0.0.1', port: sdpAudioPort(final) }, { freqHz: 400 }),
      new ToneStream(dev2, { host: '127.0.0.1', port: sdpAudioPort(toCallees) }, { freqHz: 1000 }),
    ], 400);
    await sleep(40);
    expect(at1.chunks.length).toBe(0);
    expect(at2.chunks.length).toBeGreaterThanOrEqual(18);
    expect([...at2.pts]).toEqual([0]); // the final answer's law, not the early one's
    expect(at2.freq()).toBe(400);
    await session.close();
  });

  it('latches to where a leg\'s packets come from (symmetric RTP), and ignores a foreign source after that', async () => {
    const a = await peer();
    const natted = await peer(); // the caller's real source port differs from its SDP (NAT)
    const b = await peer();
    const intruder = await peer();
    const session = await media.createSession({ uniqueCallId: 'emb-latch' });
    const toCallee = await session.offer('caller', audioSdp(a.address().port));
    const toCaller = await session.answer('callee', audioSdp(b.address().port));
    const atNat = new Heard(natted);
    const atA = new Heard(a);
    const atB = new Heard(b);
    await paceStreams([
      new ToneStream(natted, { host: '127.0.0.1', port: sdpAudioPort(toCaller) }, { freqHz: 400 }),
      new ToneStream(b, { host: '127.0.0.1', port: sdpAudioPort(toCallee) }, { freqHz: 1000 }),
    ], 400);
    await paceStreams([new ToneStream(intruder, { host: '127.0.0.1', port: sdpAudioPort(toCaller) }, { freqHz: 1000 })], 200);
    await sleep(40);
    expect(atNat.chunks.length).toBeGreaterThanOrEqual(15); // the callee's audio goes to the latched source
    expect(atA.chunks.length).toBeLessThanOrEqual(2); // not to the SDP address once latched
    expect(atB.freq()).toBe(400); // the intruder's 1 kHz never reached the callee
    expect(session.statsOf('caller').foreign).toBeGreaterThanOrEqual(9);
    await session.close();
  });

  it('raises media-timeout for a leg that stops sending (not on hold) and the recording says stream-stopped', async () => {
    const { a, b, session, callerSendsTo, calleeSendsTo } = await bridged('emb-timeout');
    const timeouts: Array<MediaSessionEvents['media-timeout']> = [];
    session.on('media-timeout', (t) => timeouts.push(t));
    const rec = await session.startRecording({ path: join(dir, 'timeout.wav'), channels: 'both' });
    const fromB = new ToneStream(b, { host: '127.0.0.1', port: calleeSendsTo }, { freqHz: 1000 });
    await paceStreams([new ToneStream(a, { host: '127.0.0.1', port: callerSendsTo }, { freqHz: 400 }), fromB], 200);
    await paceStreams([fromB], 800); // the caller goes quiet
    expect(timeouts).toEqual([{ role: 'caller', silentMs: expect.any(Number) }]);
    expect(timeouts[0]!.silentMs).toBeGreaterThanOrEqual(400);
    const result = await rec.stop();
    expect(result.problems).toEqual(['stream-stopped']);
    await session.close();
  });

  it('reports silence once the recorded party has said nothing for silenceMs (quiet packets count as silence)', async () => {
    const a = await peer();
    const session = await media.createSession({ uniqueCallId: 'emb-silence' });
    const answer = await session.accept('caller', audioSdp(a.address().port));
    const silences: Array<{ silentMs: number; atMs: number }> = [];
    const t0 = performance.now();
    session.on('silence', (e) => silences.push({ ...e, atMs: performance.now() - t0 }));
    const rec = await session.startRecording({ path: join(dir, 'silence.wav'), channels: 'caller', silenceMs: 500 });
    const to = { host: '127.0.0.1', port: sdpAudioPort(answer) };
    await paceStreams([new ToneStream(a, to, { freqHz: 400 })], 700); // speaking: no silence yet
    expect(silences).toEqual([]);
    await paceStreams([new ToneStream(a, to, { freqHz: 0 })], 900); // quiet packets keep flowing
    expect(silences).toHaveLength(1);
    expect(silences[0]!.silentMs).toBeGreaterThanOrEqual(500);
    expect(silences[0]!.atMs).toBeGreaterThanOrEqual(1100);
    const result = await rec.stop();
    expect(readWav(result.path).channels).toBe(1);
    await session.close();
  });

  it('a recording on a full disk closes with disk-full and a recording-write-failed warning; the call goes on', async () => {
    const { b, a, session, callerSendsTo } = await bridged('emb-full');
    const warnings: Array<MediaSessionEvents['warning']> = [];
    session.on('warning', (w) => warnings.push(w));
    const atB = new Heard(b);
    await expect(session.startRecording({ path: join(dir, 'no-such-dir', 'x.wav'), channels: 'both' })).rejects.toMatchObject({ code: 'SB_ERR_MEDIA_FILE', message: expect.stringMatching(/no-such-dir/) });
    const rec = await session.startRecording({ path: '/dev/full', channels: 'both' });
    await paceStreams([new ToneStream(a, { host: '127.0.0.1', port: callerSendsTo }, { freqHz: 400 })], 600);
    const result = await rec.stop();
    expect(result.problems).toContain('disk-full');
    expect(warnings).toContainEqual({ role: null, code: 'recording-write-failed', message: expect.stringMatching(/disk-full; the call goes on/) });
    expect(atB.chunks.length).toBeGreaterThanOrEqual(25);
    expect(atB.freq()).toBe(400);
    await session.close();
  });

  it('rejects SDP without a common codec or without audio with MediaError SB_ERR_MEDIA_SDP, and an answer without an offer', async () => {
    const session = await media.createSession({ uniqueCallId: 'emb-sdp' });
    const g729 = audioSdp(4000).replace('RTP/AVP 0 101', 'RTP/AVP 18 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');
    await expect(session.offer('caller', g729)).rejects.toMatchObject({ name: 'MediaError', code: 'SB_ERR_MEDIA_SDP', message: expect.stringMatching(/no PCMU\/PCMA/) });
    await expect(session.offer('caller', 'garbage')).rejects.toMatchObject({ code: 'SB_ERR_MEDIA_SDP' });
    await expect(session.accept('caller', audioSdp(4000).replace('m=audio 4000', 'm=audio 0'))).rejects.toMatchObject({ code: 'SB_ERR_MEDIA_SDP', message: expect.stringMatching(/port 0/) });
    await expect(session.answer('callee', audioSdp(4002))).rejects.toMatchObject({ code: 'SB_ERR_MEDIA_SDP', message: expect.stringMatching(/without an offer/) });
    await session.offer('caller', audioSdp(4000));
    await expect(session.answer('callee', g729)).rejects.toMatchObject({ code: 'SB_ERR_MEDIA_SDP' });
    // An offer with video too: our answer keeps the m= lines and declines video with port 0 (RFC 3264 §6).
    const withVideo = `${audioSdp(4000)}m=video 4010 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n`;
    const answer = await session.accept('caller', withVideo);
    expect(answer).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r\n[\s\S]*^m=video 0 RTP\/AVP 96\r$/m);
    await session.close();
  });

  it('accept() answers as an endpoint (direction inverted) and a file played to that leg is heard', async () => {
    const a = await peer();
    const session = await media.createSession({ uniqueCallId: 'emb-accept' });
    const answer = await session.accept('caller', audioSdp(a.address().port, { law: 'pcma', direction: 'sendonly' }));
    expect(answer).toMatch(/^a=recvonly\r$/m);
    expect(answer).toMatch(/^m=audio \d+ RTP\/AVP 8 101\r$/m);
    const again = await session.accept('caller', audioSdp(a.address().port, { law: 'pcma' }));
    expect(sdpAudioPort(again)).toBe(sdpAudioPort(answer));
    expect(again).toMatch(/^o=switchboard \d+ 2 IN IP4/m); // the body changed: version moved on
    const file = join(dir, 'prompt.wav');
    writeFileSync(file, toneWav(1000, 300));
    const atA = new Heard(a);
    expect(await session.play('caller', { file }).done).toEqual({ end: 'finished' });
    await sleep(30);
    expect([...atA.pts]).toEqual([8]);
    expect(atA.chunks.length).toBe(15);
    expect(atA.freq()).toBe(1000);
    await session.close();
  });

  it('releases ports on close (they bind again), reports capacity exhaustion, and close is idempotent', async () => {
    const small = createEmbeddedMediaLayer({ bindAddress: '127.0.0.1', portMin: portMin + 40, portMax: portMin + 47, log });
    const s1 = await small.createSession({ uniqueCallId: 'cap-1' });
    const s2 = await small.createSession({ uniqueCallId: 'cap-2' });
    expect(small.ports).toEqual({ capacity: 4, inUse: 4 });
    await expect(small.createSession({ uniqueCallId: 'cap-3' })).rejects.toMatchObject({ name: 'MediaError', code: 'SB_ERR_MEDIA_CAPACITY' });
    const ports = [s1.portOf('caller'), s1.portOf('callee')];
    const closed = new Promise((r) => s1.on('closed', r));
    await Promise.all([s1.close('hangup'), s1.close()]);
    expect(await closed).toEqual({ reason: 'hangup' });
    expect(s1.closed).toBe(true);
    expect(small.sessionCount).toBe(1);
    await expect(s1.offer('caller', audioSdp(4000))).rejects.toThrow(/closed media session/);
    for (const p of ports.flatMap((x) => [x, x + 1])) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(p, '127.0.0.1', () => resolve()); });
      await new Promise<void>((r) => s.close(() => r()));
    }
    const s3 = await small.createSession({ uniqueCallId: 'cap-3' });
    expect([s3.portOf('caller'), s3.portOf('callee')].sort()).toEqual(ports.sort());
    await small.close();
    expect(s2.closed && s3.closed).toBe(true);
    expect(small.ports.inUse).toBe(0);
    expect(() => createEmbeddedMediaLayer({ bindAddress: '0.0.0.0', portMin: 30000, portMax: 30100, log })).toThrow(/advertiseAddress/);
    expect(() => createEmbeddedMediaLayer({ bindAddress: '127.0.0.1', portMin: 30100, portMax: 30000, log })).toThrow(/port range/);
  });
});
