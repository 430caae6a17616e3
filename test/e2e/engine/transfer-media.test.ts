/**
 * Transfer on a media-anchored call (a recorded user, src/engine/call/call-media.ts): SIPp on every side with real
 * G.711 RTP (play_pcap_audio), through Switchboard's embedded media endpoint. A DID caller (400 Hz) reaches Bob
 * (1002, `record: all`); Bob blind-transfers the caller to Alice (1001, 1 kHz). The target must be offered the media
 * session's SDP (not the caller's own), the caller is not re-INVITEd (it keeps talking to the session), and the one
 * recording covers the whole call: answer → hang-up, the caller's tone throughout on the left, Alice's tone after the
 * transfer on the right; `recording_inbound` for Bob follows the call's `*_completed` events (docs/engine.md).
 * Attended: Bob consults Alice (his outbound call is recorded too), then REFERs the DID call with Replaces: Alice is
 * re-INVITEd with the DID call's session offer, the caller is not re-INVITEd, the consultation's recording closes with
 * it (`recording_outbound`), the DID call's goes on to the hang-up (`recording_inbound`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSippTrace, runTracedSipp, sippOk, startIntegrationPbx, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { g711Pcap } from '../../support/pcap-writer.js';
import { dominantFrequency, readWav, tonePcm } from '../../support/rtp-peer.js';
import { freePort, runSipp } from '../../support/sipp.js';
import { eventually } from '../../support/engine-harness.js';

const TALK_MS = 4000;
const DID = '61390000009';

describe('transfer on a recorded (media-anchored) call', () => {
  let hooks: HookReceiver;
  let pbx: IntegrationPbx;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'sb-xfer-rec-'));
    hooks = await startHookReceiver();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.webhook = { ...c.webhook, url: hooks.url('/hook'), enabled: true };
        c.numbers.push({ number: `+${DID}`, flow: 'bob-only' });
        c.flows.push({ id: 'bob-only', nodes: [{ id: 'ring-bob', type: 'user', user: '1002', next: null }] });
      },
    });
  }, 60_000);
  afterAll(async () => {
    await pbx?.close();
    await hooks?.close();
    rmSync(tmp, { recursive: true, force: true });
  }, 90_000);

  async function registered(user: string, password: string): Promise<number> {
    const port = await freePort();
    const reg = await runSipp({
      scenario: 'engine-register.xml', target: `${pbx.sip.address}:${pbx.sip.port}`, port, calls: 1,
      extra: ['-key', 'user', user, '-au', user, '-ap', password, '-key', 'domain', pbx.domain, '-auth_uri', pbx.domain, '-key', 'expires', '600'],
    });
    sippOk(await reg.done, `${user} register`);
    return port;
  }

  it('MUST offer the blind-transfer target from the media session, keep the caller on it, and record the whole call', { timeout: 90_000 }, async () => {
    const bobPort = await registered('bob-desk', 'bob-desk-pw');
    const bob = await runTracedSipp({ scenario: 'transfer-callee-refers.xml', port: bobPort, calls: 1, timeoutS: 30, extra: ['-key', 'target', '1001', '-key', 'domain', pbx.domain] });
    const alicePort = await registered('alice-desk', 'alice-desk-pw');
    const alice = await runTracedSipp({
      scenario: 'rec-transfer-target.xml', port: alicePort, calls: 1, timeoutS: 30,
      extra: ['-mp', String(await freePort()), '-mi', '127.0.0.1'], files: { 'callee.pcap': g711Pcap(tonePcm(1000, TALK_MS + 1500)) },
    });
    const callerMediaPort = await freePort();
    // rec-uac-pcap.xml fails on any request it does not expect: a re-INVITE to the caller would fail it.
    const caller = await runTracedSipp({
      scenario: 'rec-uac-pcap.xml', target: `${pbx.sip.address}:${pbx.sip.port}`, calls: 1, timeoutS: 30,
      extra: ['-s', DID, '-d', String(TALK_MS), '-mp', String(callerMediaPort), '-mi', '127.0.0.1'],
      files: { 'caller.pcap': g711Pcap(tonePcm(400, TALK_MS + 1500)) },
    });
    sippOk(await bob.done, 'bob (transferor)');
    sippOk(await caller.done, 'caller (transferee)');
    sippOk(await alice.done, 'alice (target)');

    // The target's offer is the session's: not the caller's media port.
    const invite = parseSippTrace(alice.messages()).find((m) => m.direction === 'received' && m.text.startsWith('INVITE '))!;
    const port = /m=audio (\d+)/.exec(invite.text)?.[1];
    expect(port).toBeDefined();
    expect(Number(port)).not.toBe(callerMediaPort);
    expect(parseSippTrace(caller.messages()).filter((m) => m.direction === 'received' && m.text.startsWith('INVITE '))).toHaveLength(0);
    bob.cleanup();
    alice.cleanup();
    caller.cleanup();

    const [rec] = await hooks.waitFor((h) => h.body['type'] === 'recording_inbound', 1, 'recording_inbound', 20_000);
    const callId = rec!.body['unique_call_id'] as string;
    expect(rec!.body).toMatchObject({ user_number: '1002', dest_number: DID, recording_problems: [] });
    const types = hooks.hooks.filter((h) => h.body['unique_call_id'] === callId).sort((a, b) => (a.body['sequence'] as number) - (b.body['sequence'] as number))
      .map((h) => [h.body['type'], h.body['user_number']]);
    expect(types).toEqual([
      ['user_inbound', '1002'], ['user_inbound_answered', '1002'], ['user_inbound', '1001'], ['user_inbound_answered', '1001'],
      ['user_inbound_completed', '1002'], ['user_inbound_completed', '1001'], ['recording_inbound', '1002'],
    ]);

    // One WAV from Bob's answer to the caller's hang-up, across the transfer.
    // (Read from the store's row: the signed link itself is tested in test/e2e/media/recording-sipp.test.ts.)
    const rows = await pbx.sb.store.listRecordings({ unique_call_id: callId, offset: 0, limit: 10 });
    expect(rows.map((r) => [r.recording_id, r.user_number, r.direction])).toEqual([[rec!.body['recording_id'], '1002', 'inbound']]);
    const wav = readWav(rows[0]!.path);
    const call = (await pbx.sb.store.getCall(callId))!;
    const sbTalkMs = Date.parse(call.ended_at!) - Date.parse(rec!.body['recorded_at'] as string);
    expect(Math.abs(wav.durationMs - sbTalkMs), `WAV ${wav.durationMs} ms vs call ${sbTalkMs} ms`).toBeLessThanOrEqual(100);
    // The last 1.5 s (well after the transfer, before the hang-up's edge): the caller on the left, Alice on the right.
    const tail = (s: Int16Array) => s.subarray(s.length - 8000 * 1.75, s.length - 8000 * 0.25);
    const left = dominantFrequency(tail(wav.samples[0]!), [400, 1000]);
    const right = dominantFrequency(tail(wav.samples[1]!), [400, 1000]);
    expect(left.freqHz).toBe(400);
    expect(left.ratio).toBeGreaterThan(10);
    expect(right.freqHz).toBe(1000);
    expect(right.ratio).toBeGreaterThan(10);
  });

  it('MUST join an attended transfer on the transferred call\'s media session, close the consultation\'s recording with it and keep the other', { timeout: 90_000 }, async () => {
    const before = hooks.hooks.length;
    const file = join(tmp, 'consult');
    const alicePort = await registered('alice-desk', 'alice-desk-pw');
    const alice = await runTracedSipp({ scenario: 'rec-consult-target.xml', port: alicePort, calls: 1, timeoutS: 40 });
    const consult = await runTracedSipp({
      scenario: 'rec-consult.xml', target: `${pbx.sip.address}:${pbx.sip.port}`, calls: 1, timeoutS: 40,
      extra: ['-s', '1001', '-key', 'domain', pbx.domain, '-key', 'user', 'bob-desk', '-au', 'bob-desk', '-ap', 'bob-desk-pw',
        '-auth_uri', `1001@${pbx.domain}`, '-key', 'dialog_file', file],
    });
    const replaces = await eventually(() => {
      const v = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
      return /;to-tag=[^;]+;from-tag=/.test(v) ? v : undefined;
    }, 'the consultation dialog', 15_000);
    const bobPort = await registered('bob-desk', 'bob-desk-pw');
    const bob = await runTracedSipp({
      scenario: 'transfer-attended-refers.xml', port: bobPort, calls: 1, timeoutS: 30,
      extra: ['-key', 'target', '1001', '-key', 'domain', pbx.domain, '-key', 'replaces', encodeURIComponent(replaces)],
    });
    const caller = await runTracedSipp({
      scenario: 'rec-uac-pcap.xml', target: `${pbx.sip.address}:${pbx.sip.port}`, calls: 1, timeoutS: 30,
      extra: ['-s', DID, '-d', String(TALK_MS), '-mp', String(await freePort()), '-mi', '127.0.0.1'],
      files: { 'caller.pcap': g711Pcap(tonePcm(400, TALK_MS + 1500)) },
    });
    sippOk(await bob.done, 'bob (transferor)');
    sippOk(await consult.done, 'bob (consultation)');
    sippOk(await caller.done, 'caller (transferee)');
    sippOk(await alice.done, 'alice (target)');
    expect(parseSippTrace(caller.messages()).filter((m) => m.direction === 'received' && m.text.startsWith('INVITE '))).toHaveLength(0);
    for (const t of [alice, consult, bob, caller]) t.cleanup();

    const fresh = () => hooks.hooks.slice(before);
    const [inbound, outbound] = await eventually(() => {
      const i = fresh().find((h) => h.body['type'] === 'recording_inbound');
      const o = fresh().find((h) => h.body['type'] === 'recording_outbound');
      return i && o ? [i, o] as const : undefined;
    }, 'both recordings', 20_000);
    const ofCall = (id: unknown) => fresh().filter((h) => h.body['unique_call_id'] === id)
      .sort((a, b) => (a.body['sequence'] as number) - (b.body['sequence'] as number)).map((h) => [h.body['type'], h.body['user_number']]);
    expect(ofCall(outbound.body['unique_call_id'])).toEqual([
      ['user_outbound', '1002'], ['user_inbound', '1001'], ['user_inbound_answered', '1001'], ['user_outbound_answered', '1002'],
      ['user_outbound_completed', '1002'], ['user_inbound_completed', '1001'], ['recording_outbound', '1002'],
    ]);
    const callId = inbound.body['unique_call_id'] as string;
    expect(ofCall(callId)).toEqual([
      ['user_inbound', '1002'], ['user_inbound_answered', '1002'], ['user_inbound', '1001'], ['user_inbound_answered', '1001'],
      ['user_inbound_completed', '1002'], ['user_inbound_completed', '1001'], ['recording_inbound', '1002'],
    ]);
    // The consultation's recording ends at the transfer, the DID call's at the caller's hang-up.
    const consultCall = (await pbx.sb.store.getCall(outbound.body['unique_call_id'] as string))!;
    const didCall = (await pbx.sb.store.getCall(callId))!;
    expect(consultCall.hangup_cause).toBe('transferred');
    expect(Date.parse(consultCall.ended_at!)).toBeLessThan(Date.parse(didCall.ended_at!));
    const [row] = await pbx.sb.store.listRecordings({ unique_call_id: callId, offset: 0, limit: 10 });
    const wav = readWav(row!.path);
    const talk = Date.parse(didCall.ended_at!) - Date.parse(inbound.body['recorded_at'] as string);
    expect(Math.abs(wav.durationMs - talk), `WAV ${wav.durationMs} ms vs call ${talk} ms`).toBeLessThanOrEqual(100);
    const tail = wav.samples[0]!.subarray(wav.samples[0]!.length - 8000 * 1.75, wav.samples[0]!.length - 8000 * 0.25);
    expect(dominantFrequency(tail, [400, 1000]).freqHz).toBe(400);
  });
});
