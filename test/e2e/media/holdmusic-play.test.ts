/**
 * The `play` node end to end (issue 10), on the embedded endpoint and on rtpengine, over real UDP: a test phone with
 * its own RTP socket calls a DID whose flow is `play` (a 600 Hz WAV) → Alice. The PBX answers the caller with its
 * own media and plays the file; then Alice's device is rung with the PBX's media session and answers; the session
 * bridges her to the caller's existing media.
 * What the caller's socket receives carries 600 Hz while the file plays, then Alice's 1 kHz; Alice receives the
 * caller's 400 Hz. A play node whose file is missing, not a WAV or not mono 8 kHz is refused at apply, naming the key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import type { IncomingCall } from '../../../src/sip/phone/index.js';
import { AudioEndpoint, sdpTarget } from '../../support/audio-endpoint.js';
import { mediaDrivers } from '../../support/media-drivers.js';
import { eventually, startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';
import { toneWav } from '../../support/rtp-peer.js';

const ADMIN = { authorization: 'Bearer demo-admin-key', 'content-type': 'application/json' };
const FILE_MS = 1500;
const TONES = [400, 600, 1000];

describe.each(mediaDrivers())('play node ($name media, test phones over real UDP)', (driver) => {
  let pbx: IntegrationPbx;
  let dir: string;
  const endpoints: AudioEndpoint[] = [];

  beforeAll(async () => {
    await driver.start();
    dir = mkdtempSync(join(tmpdir(), 'sb-play-'));
    writeFileSync(join(dir, 'hello.wav'), toneWav(600, FILE_MS));
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        driver.configure(c);
        c.numbers.push({ number: '+61390000009', flow: 'play-alice' });
        c.flows.push({
          id: 'play-alice',
          nodes: [{ id: 'hello', type: 'play', file: join(dir, 'hello.wav'), next: 'alice' }, { id: 'alice', type: 'user', user: '1001', ring_timeout_s: 10, next: null }],
        });
      },
    });
  }, 60_000);
  afterAll(async () => {
    for (const e of endpoints) e.close();
    await pbx?.close();
    rmSync(dir, { recursive: true, force: true });
    await driver.stop();
  });

  it('the caller hears the file, then is bridged to the device it rings next (both directions)', async () => {
    const caller = await AudioEndpoint.open(400);
    const agent = await AudioEndpoint.open(1000);
    endpoints.push(caller, agent);
    let agentAnsweredAt = 0;
    let rungAt = 0;
    let agentCall: IncomingCall | undefined;
    await pbx.phone('alice-desk', {
      onIncoming: (c) => {
        rungAt = performance.now();
        agentCall = c;
        c.ring();
        // The offer Alice gets is the PBX's media session (127.0.0.1, one of our ports), not the caller's socket.
        c.answer({ sdp: agent.sdp(), afterMs: 300 });
        c.once('answered', () => { agentAnsweredAt = performance.now(); agent.start(c.remoteSdp!); });
      },
    });
    const phone = await pbx.phone('caller', { register: false });
    const started = performance.now();
    const out = phone.call(`sip:61390000009@${pbx.domain}`, { sdp: caller.sdp() });
    await out.waitFor('answered', 10_000);
    const answeredAt = performance.now();
    caller.start(out.remoteSdp!);
    await eventually(() => agentAnsweredAt > 0, 'Alice answered', 15_000);
    await new Promise((r) => setTimeout(r, 2000));

    // Answered by the PBX at once (no ringing first), the file played, then Alice was rung.
    expect(answeredAt - started).toBeLessThan(3000);
    expect(rungAt - answeredAt).toBeGreaterThan(FILE_MS - 300);
    expect(agentCall!.remoteSdp).not.toContain(`m=audio ${caller.port} `);
    expect(driver.ownsPort(sdpTarget(out.remoteSdp!).port), out.remoteSdp).toBe(true);
    expect(driver.ownsPort(sdpTarget(agentCall!.remoteSdp!).port), agentCall!.remoteSdp).toBe(true);
    const during = caller.heardBetween(answeredAt + 200, answeredAt + FILE_MS - 200, TONES);
    expect(during.freqHz, JSON.stringify(during)).toBe(600);
    const after = caller.heardBetween(agentAnsweredAt + 500, agentAnsweredAt + 1800, TONES);
    expect(after.freqHz, JSON.stringify(after)).toBe(1000);
    const agentHeard = agent.heardBetween(agentAnsweredAt + 500, agentAnsweredAt + 1800, TONES);
    expect(agentHeard.freqHz, JSON.stringify(agentHeard)).toBe(400);

    await out.bye();
    await eventually(async () => (await pbx.sb.engine.status()).active_calls === 0, 'call ended', 10_000);
  }, 60_000);

  it('a play node whose file is missing, not a WAV, or not mono 8 kHz is refused at apply, naming the key', async () => {
    writeFileSync(join(dir, 'notes.wav'), 'not audio at all');
    const stereo = new wavefile.WaveFile();
    stereo.fromScratch(2, 8000, '16', [new Int16Array(800), new Int16Array(800)]);
    writeFileSync(join(dir, 'stereo.wav'), stereo.toBuffer());
    const base = `${pbx.sb.baseUrl}/api/admin`;
    const flow = {
      id: 'bad-plays',
      nodes: [
        { id: 'a', type: 'play', file: join(dir, 'missing.wav'), next: 'b' },
        { id: 'b', type: 'play', file: join(dir, 'notes.wav'), next: 'c' },
        { id: 'c', type: 'play', file: join(dir, 'stereo.wav'), next: 'd' },
        { id: 'd', type: 'play', file: 'https://example.com/x.wav' },
      ],
    };
    const staged = await fetch(`${base}/flows`, { method: 'POST', headers: ADMIN, body: JSON.stringify(flow) });
    expect(staged.status, await staged.clone().text()).toBeLessThan(300);
    const applied = await fetch(`${base}/apply`, { method: 'POST', headers: { authorization: ADMIN.authorization } });
    expect(applied.status).toBe(400);
    const text = await applied.text();
    const body = JSON.parse(text) as { data: { errors: string[] } };
    expect(body.data?.errors, text).toBeDefined();
    const i = (await pbx.sb.config.staged()).flows.findIndex((f) => f.id === 'bad-plays');
    expect(body.data.errors).toEqual([
      `flows[${i}].nodes[0].file: cannot read ${join(dir, 'missing.wav')}: ENOENT`,
      `flows[${i}].nodes[1].file: ${join(dir, 'notes.wav')} is not a WAV file`,
      expect.stringMatching(new RegExp(`^flows\\[${i}\\]\\.nodes\\[2\\]\\.file: .*stereo\\.wav is format 1, 2 channel\\(s\\), 8000 Hz, 16 bit; expected mono 8000 Hz`)),
      `flows[${i}].nodes[3].file: 'https://example.com/x.wav' is a URL; give a WAV file on this host (the media layer reads files, not URLs)`,
    ]);
    expect(pbx.sb.config.live().config.flows.some((f) => f.id === 'bad-plays')).toBe(false);
    await fetch(`${base}/config/staged`, { method: 'DELETE', headers: { authorization: ADMIN.authorization } });
  });

  it('a voicemail greeting that is missing or a URL is refused at apply, naming the key', async () => {
    const base = `${pbx.sb.baseUrl}/api/admin`;
    const users = (await pbx.sb.config.staged()).users;
    const i = users.findIndex((u) => u.number === '1001');
    const j = users.findIndex((u) => u.number === '1002');
    for (const [n, greeting] of [['1001', join(dir, 'no-greeting.wav')], ['1002', 'https://example.com/g.wav']] as const) {
      const u = users.find((x) => x.number === n)!;
      const r = await fetch(`${base}/users/${n}`, { method: 'PATCH', headers: ADMIN, body: JSON.stringify({ voicemail: { ...u.voicemail, greeting } }) });
      expect(r.status, await r.clone().text()).toBe(200);
    }
    const applied = await fetch(`${base}/apply`, { method: 'POST', headers: { authorization: ADMIN.authorization } });
    expect(applied.status).toBe(400);
    const text = await applied.text();
    expect((JSON.parse(text) as { data: { errors: string[] } }).data.errors, text).toEqual(expect.arrayContaining([
      `users[${i}].voicemail.greeting: cannot read ${join(dir, 'no-greeting.wav')}: ENOENT`,
      `users[${j}].voicemail.greeting: 'https://example.com/g.wav' is a URL; give a WAV file on this host (the media layer reads files, not URLs)`,
    ]));
    expect(pbx.sb.config.live().config.users.every((u) => u.voicemail.greeting === null)).toBe(true);
    await fetch(`${base}/config/staged`, { method: 'DELETE', headers: { authorization: ADMIN.authorization } });
  });
});
