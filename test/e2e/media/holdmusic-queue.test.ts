/**
 * Hold music for queue callers end to end (issue 10), on the embedded endpoint and on rtpengine, over real UDP with
 * test phones that send and receive RTP. A queue with `hold_music` (a 700 Hz WAV): the PBX answers the caller at
 * once and loops the file; Alice's desk is rung with the PBX's media session and answers a few seconds later; the
 * music stops and the session bridges her to the caller. The caller's received RTP carries 700 Hz until she answers, then her 1 kHz; she receives the caller's
 * 400 Hz. `hold_music: default` plays the built-in file; a queue without music rings (180, no 200 until an agent
 * answers); a `play` node before a ringback queue still bridges the agent. queue_call keeps SPEC §3's fields.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PbxConfig } from '../../../src/config/index.js';
import type { IncomingCall, OutgoingCall, TestPhone } from '../../../src/sip/phone/index.js';
import { AudioEndpoint, sdpTarget } from '../../support/audio-endpoint.js';
import { mediaDrivers } from '../../support/media-drivers.js';
import { eventually, startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { toneWav } from '../../support/rtp-peer.js';

const TONES = [400, 600, 700, 1000];
/** How long Alice lets her phone ring before answering. */
const RING_MS = 3000;
const QUEUE_CALL_FIELDS = [
  'caller_id', 'caller_name', 'user_name', 'user_number', 'dest_number', 'call_start_at', 'connected_at', 'call_duration',
  'conversation_duration', 'queue_name', 'status',
];

function queue(name: string, hold: string | null): PbxConfig['queues'][number] {
  return { name, agents: ['1001'], strategy: 'ringall', agent_timeout_s: 15, max_wait_s: 60, max_callers: 0, wrap_up_s: 0, hold_music: hold, next: null };
}

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

describe.each(mediaDrivers())('hold music for queue callers ($name media, test phones over real UDP)', (driver) => {
  let pbx: IntegrationPbx;
  let hooks: HookReceiver;
  let dir: string;
  let alice: TestPhone;
  const endpoints: AudioEndpoint[] = [];

  beforeAll(async () => {
    await driver.start();
    dir = mkdtempSync(join(tmpdir(), 'sb-hold-'));
    writeFileSync(join(dir, 'music.wav'), toneWav(700, 2000));
    writeFileSync(join(dir, 'hello.wav'), toneWav(600, 1500));
    hooks = await startHookReceiver();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        driver.configure(c);
        c.webhook = { ...c.webhook, url: hooks.url('/hook'), enabled: true };
        c.queues.push(queue('Music', join(dir, 'music.wav')), queue('BuiltIn', 'default'), queue('Ringback', null));
        const flows: Array<[string, PbxConfig['flows'][number]['nodes']]> = [
          ['+61390000011', [{ id: 'q', type: 'queue', queue: 'Music' }]],
          ['+61390000012', [{ id: 'q', type: 'queue', queue: 'BuiltIn' }]],
          ['+61390000013', [{ id: 'q', type: 'queue', queue: 'Ringback' }]],
          ['+61390000014', [{ id: 'hello', type: 'play', file: join(dir, 'hello.wav'), next: 'q' }, { id: 'q', type: 'queue', queue: 'Ringback' }]],
        ];
        for (const [number, nodes] of flows) {
          c.numbers.push({ number, flow: `f${number}` });
          c.flows.push({ id: `f${number}`, nodes });
        }
      },
    });
    alice = await pbx.phone('alice-desk', { onIncoming: () => undefined });
  }, 60_000);
  afterEach(async () => {
    alice.onIncoming = () => undefined;
    await eventually(async () => (await pbx.sb.engine.status()).active_calls === 0, 'no active calls', 10_000);
  });
  afterAll(async () => {
    for (const e of endpoints) e.close();
    await pbx?.close();
    await hooks?.close();
    rmSync(dir, { recursive: true, force: true });
    await driver.stop();
  });

  /** Alice answers RING_MS after her phone rings, with her own RTP socket sending 1 kHz. */
  async function aliceAnswers(): Promise<{ agent: AudioEndpoint; answered: () => number; call: () => IncomingCall | undefined }> {
    const agent = await AudioEndpoint.open(1000);
    endpoints.push(agent);
    let at = 0;
    let incoming: IncomingCall | undefined;
    alice.onIncoming = (c) => {
      incoming = c;
      c.ring();
      c.answer({ sdp: agent.sdp(), afterMs: RING_MS });
      c.once('answered', () => { at = performance.now(); agent.start(c.remoteSdp!); });
    };
    return { agent, answered: () => at, call: () => incoming };
  }

  async function dial(did: string): Promise<{ caller: AudioEndpoint; out: OutgoingCall; startedAt: number }> {
    const caller = await AudioEndpoint.open(400);
    endpoints.push(caller);
    const phone = await pbx.phone(`caller${did.slice(-2)}`, { register: false });
    const startedAt = performance.now();
    const out = phone.call(`sip:${did}@${pbx.domain}`, { sdp: caller.sdp() });
    out.once('answered', () => caller.start(out.remoteSdp!));
    return { caller, out, startedAt };
  }

  it('the caller is answered with the music until Alice answers, then hears her (both ways); queue_call unchanged', async () => {
    const a = await aliceAnswers();
    const { caller, out, startedAt } = await dial('61390000011');
    await out.waitFor('answered', 10_000);
    const callerAnsweredAt = performance.now();
    // Answered by the PBX before any agent: Alice answers RING_MS after she rings.
    await eventually(() => a.answered() > 0, 'Alice answered', 20_000);
    expect(a.answered() - callerAnsweredAt).toBeGreaterThan(RING_MS - 500);
    expect(callerAnsweredAt - startedAt).toBeLessThan(RING_MS);
    await new Promise((r) => setTimeout(r, 2000));
    const music = caller.heardBetween(callerAnsweredAt + 300, a.answered() - 200, TONES);
    expect(music.freqHz, JSON.stringify(music)).toBe(700);
    const talk = caller.heardBetween(a.answered() + 500, a.answered() + 1800, TONES);
    expect(talk.freqHz, JSON.stringify(talk)).toBe(1000);
    const agentHeard = a.agent.heardBetween(a.answered() + 500, a.answered() + 1800, TONES);
    expect(agentHeard.freqHz, JSON.stringify(agentHeard)).toBe(400);
    // Alice was offered the PBX's session, not the caller's socket.
    expect(a.call()!.remoteSdp).not.toContain(`m=audio ${caller.port} `);
    expect(driver.ownsPort(sdpTarget(out.remoteSdp!).port), out.remoteSdp).toBe(true);
    expect(driver.ownsPort(sdpTarget(a.call()!.remoteSdp!).port), a.call()!.remoteSdp).toBe(true);

    await out.bye();
    const [qc] = await hooks.waitFor((h) => h.body['type'] === 'queue_call' && h.body['queue_name'] === 'Music', 1, 'queue_call', 15_000);
    expect(qc!.body).toMatchObject({ status: 'answered', user_number: '1001', queue_name: 'Music', connected_at: expect.any(String) });
    for (const k of QUEUE_CALL_FIELDS) expect(qc!.body, k).toHaveProperty(k);
    // connected_at is Alice's answer, not the PBX's.
    const call = (await pbx.sb.store.getCall(qc!.body['unique_call_id'] as string))!;
    expect(call.status).toBe('answered');
    expect(Date.parse(qc!.body['connected_at'] as string) - Date.parse(qc!.body['call_start_at'] as string)).toBeGreaterThan(RING_MS - 1000);
  }, 60_000);

  it('hold_music: default plays the built-in music', async () => {
    const a = await aliceAnswers();
    const { caller, out } = await dial('61390000012');
    await out.waitFor('answered', 10_000);
    const at = performance.now();
    await eventually(() => a.answered() > 0, 'Alice answered', 20_000);
    const heard = caller.pcmBetween(at + 300, a.answered() - 200);
    expect(heard.length).toBeGreaterThan(8 * 1500);
    expect(rms(heard)).toBeGreaterThan(300);
    await out.bye();
  }, 60_000);

  it('without hold_music the caller rings (180, no 200) until Alice answers', async () => {
    const a = await aliceAnswers();
    const { caller, out } = await dial('61390000013');
    const progress: number[] = [];
    out.on('progress', (res: { status: number }) => progress.push(res.status));
    await out.waitFor('answered', 20_000);
    const at = performance.now();
    expect(a.answered()).toBeGreaterThan(0);
    expect(at - a.answered()).toBeLessThan(1500);
    expect(progress).toContain(180);
    await new Promise((r) => setTimeout(r, 1500));
    const talk = caller.heardBetween(at + 300, at + 1400, TONES);
    expect(talk.freqHz, JSON.stringify(talk)).toBe(1000);
    await out.bye();
  }, 60_000);

  it('a play node before a ringback queue: the caller hears the file, then the agent who answers', async () => {
    const a = await aliceAnswers();
    const { caller, out } = await dial('61390000014');
    await out.waitFor('answered', 10_000);
    const at = performance.now();
    await eventually(() => a.answered() > 0, 'Alice answered', 20_000);
    await new Promise((r) => setTimeout(r, 2000));
    const file = caller.heardBetween(at + 200, at + 1300, TONES);
    expect(file.freqHz, JSON.stringify(file)).toBe(600);
    const talk = caller.heardBetween(a.answered() + 500, a.answered() + 1800, TONES);
    expect(talk.freqHz, JSON.stringify(talk)).toBe(1000);
    const agentHeard = a.agent.heardBetween(a.answered() + 500, a.answered() + 1800, TONES);
    expect(agentHeard.freqHz, JSON.stringify(agentHeard)).toBe(400);
    await out.bye();
  }, 60_000);
});
