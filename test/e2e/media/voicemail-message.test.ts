/**
 * Taking a voicemail message on the embedded endpoint over real UDP (engine/voicemail/record-message.ts): our caller
 * hears the greeting and the beep, then speaks a 400 Hz tone; `#` ends the message (its length ±40 ms of the time
 * spoken after the beep, the tone in the file); silence ends it; a message under min length is dropped with its file;
 * a hang-up during the greeting leaves nothing; the maximum length cuts it.
 */
import type { Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { createLogger } from '../../../src/common/log.js';
import { createEmbeddedMediaLayer, type EmbeddedMediaLayer } from '../../../src/media/embedded/index.js';
import type { MediaSession } from '../../../src/media/index.js';
import { takeMessage, type TakeMessageResult } from '../../../src/engine/voicemail/record-message.js';
import { audioSdp, bindUdp, dominantFrequency, paceStreams, readWav, rtpPacket, sdpAudioPort, toneWav, ToneStream } from '../../support/rtp-peer.js';
import { freePort } from '../../support/sipp.js';

const log = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BEEP = resolve('media/prompts/beep.wav');

describe('voicemail message on the embedded endpoint (real UDP)', () => {
  let media: EmbeddedMediaLayer;
  let dir: string;
  let greeting: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-vm-msg-'));
    greeting = join(dir, 'greeting.wav');
    writeFileSync(greeting, toneWav(1000, 300));
    let portMin = (await freePort()) & ~1;
    if (portMin > 65000) portMin = 42000;
    media = createEmbeddedMediaLayer({ bindAddress: '127.0.0.1', portMin, portMax: portMin + 19, log });
  });
  afterAll(async () => {
    await media?.close();
    for (const s of sockets) try { s.close(); } catch { /* closed */ }
    rmSync(dir, { recursive: true, force: true });
  });

  async function caller(id: string): Promise<{ a: Socket; session: MediaSession; to: { host: string; port: number }; heard: number[] }> {
    const a = await bindUdp();
    sockets.push(a);
    const heard: number[] = [];
    a.on('message', (m) => heard.push(m[1]! & 0x7f));
    const session = await media.createSession({ uniqueCallId: id });
    const answer = await session.accept('caller', audioSdp(a.address().port));
    return { a, session, to: { host: '127.0.0.1', port: sdpAudioPort(answer) }, heard };
  }

  function hash(a: Socket, to: { port: number }): void {
    const ev = (end: boolean, dur: number) => Buffer.from([11, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
    let seq = 5000;
    for (let i = 1; i <= 3; i++) a.send(rtpPacket(101, seq++, 99_000, 4242, ev(false, 160 * i), i === 1), to.port, '127.0.0.1');
    for (let i = 0; i < 3; i++) a.send(rtpPacket(101, seq++, 99_000, 4242, ev(true, 800)), to.port, '127.0.0.1');
  }

  const opts = (session: MediaSession, path: string, signal: AbortSignal, over: { maxMs?: number; minMs?: number; silenceMs?: number } = {}) => ({
    session, greeting, beep: BEEP, path, signal, clock: systemClock, maxMs: 30_000, minMs: 1000, silenceMs: 1500, ...over,
  });

  it('# ends the message: greeting and beep heard first, the tone recorded, length ±40 ms of the time after the beep', async () => {
    const { a, session, to, heard } = await caller('vm-hash');
    const path = join(dir, 'hash.wav');
    const taking = takeMessage(opts(session, path, new AbortController().signal));
    const voice = new ToneStream(a, to, { freqHz: 400 });
    await paceStreams([voice], 700 + 2500); // greeting 300 ms + beep 400 ms, then 2.5 s of message
    const hashAt = Date.now();
    hash(a, to);
    const r = await taking as Extract<TakeMessageResult, { kept: true }>;
    expect(r).toMatchObject({ kept: true, end: 'dtmf' });
    expect(heard.length).toBeGreaterThanOrEqual(30); // 700 ms of prompts = 35 packets
    const wav = readWav(path);
    expect(wav).toMatchObject({ channels: 1, sampleRate: 8000, bitsPerSample: 16 });
    expect(Math.abs(wav.durationMs - (hashAt - r.startedAtMs))).toBeLessThanOrEqual(40);
    expect(wav.durationMs).toBeGreaterThan(2000);
    expect(dominantFrequency(wav.samples[0]!, [400, 1000])).toMatchObject({ freqHz: 400 });
    await session.close();
  });

  it('silence ends the message and it is kept when something was said', async () => {
    const { a, session, to } = await caller('vm-silence');
    const path = join(dir, 'silence.wav');
    const taking = takeMessage(opts(session, path, new AbortController().signal, { silenceMs: 1000 }));
    await paceStreams([new ToneStream(a, to, { freqHz: 400 })], 700 + 2000);
    await paceStreams([new ToneStream(a, to, { freqHz: 0 })], 1500);
    const r = await taking;
    expect(r).toMatchObject({ kept: true, end: 'silence' });
    expect(existsSync(path)).toBe(true);
    await session.close();
  });

  it('drops a message shorter than the minimum (and its file), and one that is only silence', async () => {
    const short = await caller('vm-short');
    const ac = new AbortController();
    const path = join(dir, 'short.wav');
    const taking = takeMessage(opts(short.session, path, ac.signal, { minMs: 2000 }));
    await paceStreams([new ToneStream(short.a, short.to, { freqHz: 400 })], 700 + 800);
    ac.abort(); // the caller hangs up 0.8 s into the message
    expect(await taking).toMatchObject({ kept: false, reason: 'too-short', end: 'hangup' });
    expect(existsSync(path)).toBe(false);
    await short.session.close();

    const quiet = await caller('vm-quiet');
    const qpath = join(dir, 'quiet.wav');
    const q = takeMessage(opts(quiet.session, qpath, new AbortController().signal, { silenceMs: 1200, minMs: 1000 }));
    await paceStreams([new ToneStream(quiet.a, quiet.to, { freqHz: 0 })], 700 + 1800);
    expect(await q).toMatchObject({ kept: false, reason: 'too-short', end: 'silence' });
    expect(existsSync(qpath)).toBe(false);
    await quiet.session.close();
  });

  it('a caller hanging up during the greeting leaves nothing', async () => {
    const { session } = await caller('vm-early');
    const ac = new AbortController();
    const path = join(dir, 'early.wav');
    const taking = takeMessage(opts(session, path, ac.signal));
    await sleep(150);
    ac.abort();
    expect(await taking).toEqual({ kept: false, reason: 'hangup-before-beep' });
    expect(existsSync(path)).toBe(false);
    await session.close();
  });

  it('the maximum length cuts the message', async () => {
    const { a, session, to } = await caller('vm-max');
    const path = join(dir, 'max.wav');
    const taking = takeMessage(opts(session, path, new AbortController().signal, { maxMs: 1500 }));
    const voice = new ToneStream(a, to, { freqHz: 400 });
    await paceStreams([voice], 700 + 2200);
    const r = await taking as Extract<TakeMessageResult, { kept: true }>;
    expect(r).toMatchObject({ kept: true, end: 'max' });
    expect(Math.abs(readWav(path).durationMs - 1500)).toBeLessThanOrEqual(40);
    await session.close();
  });
});
