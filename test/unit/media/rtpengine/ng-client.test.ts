/**
 * The ng client against a real rtpengine-daemon (started by the harness), plus two stand-ins for the failures a
 * real daemon will not produce on demand: a lossy path (the first answer dropped → retransmission with the same
 * cookie gets the daemon's cached answer) and a peer that answers garbage.
 */
import type { Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNgClient, type NgClient } from '../../../../src/media/rtpengine/ng-client.js';
import { NgClosedError, NgCommandError, NgProtocolError, NgTimeoutError } from '../../../../src/media/rtpengine/errors.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from '../../../support/rtpengine.js';
import { audioSdp, bindUdp, toneWav } from '../../../support/rtp-peer.js';

const run = requireRtpengine();

async function udpServer(onMessage: (msg: Buffer, reply: (b: Buffer) => void, s: Socket) => void): Promise<Socket> {
  const s = await bindUdp();
  s.on('message', (msg, rinfo) => onMessage(msg, (b) => s.send(b, rinfo.port, rinfo.address), s));
  return s;
}

describe.runIf(run)('ng client against rtpengine-daemon 10.5', () => {
  let daemon: RtpengineDaemon;
  let client: NgClient;
  beforeAll(async () => {
    daemon = await startRtpengine({ ports: 100 });
    client = await createNgClient({ address: daemon.ng });
  });
  afterAll(async () => {
    await client?.close();
    await daemon?.stop();
  });

  it('ping gets pong', async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it('offer and answer rewrite both SDPs to ports in the daemon range; query counts; delete ends the call', async () => {
    const a = await bindUdp();
    const b = await bindUdp();
    try {
      const offer = await client.offer({ 'call-id': 'ng-1', 'from-tag': 'a', sdp: audioSdp(a.address().port), replace: ['origin', 'session-connection'], ICE: 'remove' });
      const answer = await client.answer({ 'call-id': 'ng-1', 'from-tag': 'a', 'to-tag': 'b', sdp: audioSdp(b.address().port), replace: ['origin', 'session-connection'], ICE: 'remove' });
      for (const sdp of [offer.sdp, answer.sdp]) {
        const port = Number(/m=audio (\d+) /.exec(sdp)![1]);
        expect(port).toBeGreaterThanOrEqual(daemon.portMin);
        expect(port).toBeLessThanOrEqual(daemon.portMax);
        expect(sdp).toContain('c=IN IP4 127.0.0.1');
      }
      const q = await client.query({ 'call-id': 'ng-1' });
      expect(q.tags.map((t) => t.tag).sort()).toEqual(['a', 'b']);
      expect(q.tags.flatMap((t) => t.medias.map((m) => m.type))).toEqual(['audio', 'audio']);
      expect(q.totals?.rtp.packets).toBe(0);
      await client.delete({ 'call-id': 'ng-1' });
      await expect(client.query({ 'call-id': 'ng-1' })).rejects.toThrow(NgCommandError);
    } finally { a.close(); b.close(); }
  });

  it("rejects 'result: error' with NgCommandError carrying rtpengine's error-reason", async () => {
    const err = await client.query({ 'call-id': 'no-such-call' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NgCommandError);
    expect((err as NgCommandError).code).toBe('SB_ERR_RTPENGINE_COMMAND');
    expect((err as NgCommandError).reason).toMatch(/unknown call-id/i);
    const bad = await client.offer({ 'call-id': 'ng-bad', 'from-tag': 'a', sdp: 'not an sdp' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(NgCommandError);
    expect((bad as NgCommandError).message).toMatch(/rtpengine refused 'offer'/);
  });

  it("treats deleting an unknown call as done, with rtpengine's warning", async () => {
    const r = await client.delete({ 'call-id': 'no-such-call' });
    expect(r.warning).toMatch(/not found/i);
  });

  it('runs recording, media playback and DTMF blocking commands on a live call', async () => {
    const a = await bindUdp();
    const b = await bindUdp();
    const wav = join(daemon.recordingDir, 'tone.wav');
    writeFileSync(wav, toneWav(400, 1000));
    try {
      await client.offer({ 'call-id': 'ng-2', 'from-tag': 'a', sdp: audioSdp(a.address().port), replace: ['origin', 'session-connection'] });
      await client.answer({ 'call-id': 'ng-2', 'from-tag': 'a', 'to-tag': 'b', sdp: audioSdp(b.address().port), replace: ['origin', 'session-connection'] });
      await client.startRecording({ 'call-id': 'ng-2' });
      await client.blockDtmf({ 'call-id': 'ng-2' });
      await client.unblockDtmf({ 'call-id': 'ng-2' });
      // `from-tag` names the party that hears the file.
      const heard = new Promise<number>((resolve) => a.once('message', (m) => resolve(m.length)));
      const played = await client.playMedia({ 'call-id': 'ng-2', 'from-tag': 'a', file: wav });
      expect(played.durationMs).toBe(1000);
      expect(await heard).toBe(12 + 160); // a 20 ms PCMU packet of the file, sent to the caller
      await client.stopMedia({ 'call-id': 'ng-2', 'from-tag': 'a' });
      await client.stopRecording({ 'call-id': 'ng-2' });
      await client.delete({ 'call-id': 'ng-2' });
      await expect(client.playMedia({ 'call-id': 'ng-2', 'from-tag': 'b', blob: Buffer.from([0, 1]), file: wav })).rejects.toThrow(/exactly one of file, blob, db-id/);
    } finally { a.close(); b.close(); }
  });

  it('keeps a blob byte-exact on the wire (binary values are never decoded as text)', async () => {
    // A WAV blob holds bytes that are not valid UTF-8; rtpengine must get a playable file.
    const a = await bindUdp();
    const b = await bindUdp();
    try {
      await client.offer({ 'call-id': 'ng-3', 'from-tag': 'a', sdp: audioSdp(a.address().port) });
      await client.answer({ 'call-id': 'ng-3', 'from-tag': 'a', 'to-tag': 'b', sdp: audioSdp(b.address().port) });
      const played = await client.playMedia({ 'call-id': 'ng-3', 'from-tag': 'b', blob: toneWav(1000, 500) });
      expect(played.durationMs).toBe(500);
      await client.delete({ 'call-id': 'ng-3' });
    } finally { a.close(); b.close(); }
  });

  it('retransmits with the same cookie when an answer is lost, and the daemon answers from its cache', async () => {
    // A relay that swallows the daemon's first answer: the offer ran once, the client resends, the cached answer comes back.
    const relay = await bindUdp();
    const front = await bindUdp();
    let swallowed = 0;
    let back: { port: number; address: string } | undefined;
    front.on('message', (msg, rinfo) => { back = rinfo; relay.send(msg, daemon.ng.port, daemon.ng.host); });
    relay.on('message', (msg) => { if (swallowed++ === 0 || !back) return; front.send(msg, back.port, back.address); });
    const lossy = await createNgClient({ address: { host: '127.0.0.1', port: front.address().port }, retransmitMs: 50, timeoutMs: 2000 });
    const a = await bindUdp();
    try {
      const r = await lossy.offer({ 'call-id': 'ng-4', 'from-tag': 'a', sdp: audioSdp(a.address().port) });
      expect(swallowed).toBeGreaterThanOrEqual(2);
      const q = await client.query({ 'call-id': 'ng-4' });
      expect(q.tags.map((t) => t.tag)).toContain('a');
      expect(r.sdp).toMatch(/m=audio \d+ RTP\/AVP 0/);
      await client.delete({ 'call-id': 'ng-4' });
    } finally { await lossy.close(); front.close(); relay.close(); a.close(); }
  });
});

describe('ng client failure handling (no daemon needed)', () => {
  it('gives up after timeoutMs with NgTimeoutError counting its attempts', async () => {
    const silent = await udpServer(() => undefined);
    const c = await createNgClient({ address: { host: '127.0.0.1', port: silent.address().port }, retransmitMs: 20, timeoutMs: 200 });
    let seen = 0;
    silent.on('message', () => seen++);
    try {
      const err = await c.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NgTimeoutError);
      expect((err as NgTimeoutError).attempts).toBeGreaterThanOrEqual(3);
      expect((err as NgTimeoutError).message).toMatch(/did not answer 'ping' within 200 ms/);
      expect(seen).toBe((err as NgTimeoutError).attempts);
    } finally { await c.close(); silent.close(); }
  });

  it('rejects an answer that is not bencode, or has no result, with NgProtocolError', async () => {
    let mode = 0;
    const peer = await udpServer((msg, reply) => {
      const cookie = msg.subarray(0, msg.indexOf(0x20));
      reply(Buffer.concat([cookie, Buffer.from(mode === 0 ? ' d6:result2:ok' : ' d3:fooi1ee')]));
    });
    const c = await createNgClient({ address: { host: '127.0.0.1', port: peer.address().port } });
    try {
      await expect(c.ping()).rejects.toThrow(NgProtocolError);
      await expect(c.ping()).rejects.toThrow(/not bencode: dictionary opened at byte 0 is not terminated/);
      mode = 1;
      await expect(c.ping()).rejects.toThrow(/has no 'result'/);
    } finally { await c.close(); peer.close(); }
  });

  it('ignores answers for unknown cookies and fails pending commands on close', async () => {
    let answered!: () => void;
    const unknownSent = new Promise<void>((r) => { answered = r; });
    const peer = await udpServer((_msg, reply) => { reply(Buffer.from('nosuchcookie d6:result4:ponge')); answered(); });
    const c = await createNgClient({ address: { host: '127.0.0.1', port: peer.address().port }, timeoutMs: 5000 });
    const pending = c.ping();
    // The peer has the ping and answered it with a cookie the client never sent.
    await unknownSent;
    await c.close();
    await expect(pending).rejects.toThrow(NgClosedError);
    await expect(c.ping()).rejects.toThrow(/client is closed/);
    peer.close();
  });

  it('rejects a bad address and a missing call-id as caller bugs (TypeError)', async () => {
    await expect(createNgClient({ address: { host: '127.0.0.1', port: 0 } })).rejects.toThrow(TypeError);
    const c = await createNgClient({ address: { host: '127.0.0.1', port: 9 } });
    await expect(c.query({ 'call-id': '' })).rejects.toThrow(/needs a non-empty 'call-id'/);
    await c.close();
  });
});
