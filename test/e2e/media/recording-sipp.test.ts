/**
 * Call recording end to end (issue 9): a SIPp caller and a SIPp device (registered as bob-desk, Bob is `record: all`)
 * send real G.711 RTP with play_pcap_audio — a 400 Hz tone from the caller, 1 kHz from the device, pcaps generated
 * here — through Switchboard anchored on a real rtpengine-daemon. Checks: the stereo WAV's duration matches the talk
 * time (answer → hang-up as Switchboard recorded it) within ±40 ms and SIPp's own (ACK → BYE) within ±250 ms (load),
 * left = 400 Hz, right = 1 kHz; the webhook receiver gets
 * `recording_inbound` after `user_inbound_completed` and its link downloads exactly the file; unsigned/tampered links
 * → 401, expired → 410; admin list/fetch/audio/delete (audited, then 404); a call to a non-recorded user (Alice)
 * passes the caller's SDP through unchanged and records nothing.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingLink } from '../../../src/api/recordings.js';
import { startIntegrationPbx, runTracedSipp, parseSippTrace, sippOk, eventually, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { g711Pcap } from '../../support/pcap-writer.js';
import { dominantFrequency, readWav, tonePcm } from '../../support/rtp-peer.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from '../../support/rtpengine.js';
import { freePort, runSipp } from '../../support/sipp.js';

const run = requireRtpengine();
const ADMIN = { authorization: 'Bearer demo-admin-key' };
const TALK_MS = 3000;

describe.runIf(run)('call recording through rtpengine (SIPp with G.711 pcaps)', () => {
  let daemon: RtpengineDaemon;
  let hooks: HookReceiver;
  let pbx: IntegrationPbx;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'sb-rec-'));
    daemon = await startRtpengine({ ports: 100 });
    hooks = await startHookReceiver();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        c.media.driver = 'rtpengine';
        c.media.rtpengine = { ng_host: daemon.ng.host, ng_port: daemon.ng.port, recording_dir: daemon.recordingDir, dtmf_port: 0 };
        c.webhook = { ...c.webhook, url: hooks.url('/hook'), enabled: true };
        c.numbers.push({ number: '+61390000009', flow: 'bob-only' }, { number: '+61390000008', flow: 'alice-only' });
        c.flows.push(
          { id: 'bob-only', nodes: [{ id: 'ring-bob', type: 'user', user: '1002', next: null }] },
          { id: 'alice-only', nodes: [{ id: 'ring-alice', type: 'user', user: '1001', next: null }] },
        );
      },
    });
  }, 60_000);
  afterAll(async () => {
    await pbx?.close();
    await hooks?.close();
    await daemon?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Registers `device` from a SIPp on a fresh port, then runs the pcap-playing device scenario there. */
  async function device(user: string, password: string, freqHz: number) {
    const port = await freePort();
    const target = `${pbx.sip.address}:${pbx.sip.port}`;
    const reg = await runSipp({ scenario: 'engine-register.xml', target, port, calls: 1, extra: ['-key', 'user', user, '-au', user, '-ap', password, '-key', 'domain', pbx.domain, '-auth_uri', pbx.domain, '-key', 'expires', '600'] });
    sippOk(await reg.done, `${user} register`);
    return runTracedSipp({
      scenario: 'rec-uas-pcap.xml', port, calls: 1, timeoutS: 30,
      extra: ['-mp', String(await freePort()), '-mi', '127.0.0.1'], files: { 'callee.pcap': g711Pcap(tonePcm(freqHz, TALK_MS + 1500)) },
    });
  }

  async function caller(did: string) {
    return runTracedSipp({
      scenario: 'rec-uac-pcap.xml', target: `${pbx.sip.address}:${pbx.sip.port}`, calls: 1, timeoutS: 30,
      extra: ['-s', did, '-d', String(TALK_MS), '-mp', String(await freePort()), '-mi', '127.0.0.1'],
      files: { 'caller.pcap': g711Pcap(tonePcm(400, TALK_MS + 1500)) },
    });
  }

  it('records Bob\'s call as a stereo WAV (400 Hz left, 1 kHz right, talk time ±40 ms), then the webhook, link and admin API', async () => {
    const uas = await device('bob-desk', 'bob-desk-pw', 1000);
    const uac = await caller('61390000009');
    sippOk(await uac.done, 'caller');
    sippOk(await uas.done, 'device');
    const trace = parseSippTrace(uac.messages());
    const ack = trace.find((m) => m.direction === 'sent' && m.text.startsWith('ACK '))!;
    const bye = trace.find((m) => m.direction === 'sent' && m.text.startsWith('BYE '))!;
    const talkMs = bye.at - ack.at;
    uac.cleanup();
    uas.cleanup();

    const [rec] = await hooks.waitFor((h) => h.body['type'] === 'recording_inbound', 1, 'recording_inbound', 20_000);
    const body = rec!.body;
    const callId = body['unique_call_id'] as string;
    const ofCall = hooks.hooks.filter((h) => h.body['unique_call_id'] === callId).map((h) => h.body['type']);
    expect(ofCall.indexOf('user_inbound_completed')).toBeGreaterThanOrEqual(0);
    expect(ofCall.indexOf('recording_inbound')).toBeGreaterThan(ofCall.indexOf('user_inbound_completed'));
    expect(body).toMatchObject({ caller_id: '614000001', dest_number: '61390000009', user_name: 'Bob Jones', user_number: '1002', emails: [], email_subject: null, email_message: null, recording_problems: [] });
    expect(Date.parse(body['recorded_at'] as string)).not.toBeNaN();
    const link = body['call_recording_link'] as string;
    expect(link).toMatch(new RegExp(`^${pbx.sb.baseUrl}/api/recordings/rec_[0-9a-f]{16}\\.wav\\?expires=\\d+&sig=[\\w-]+$`));

    // The link alone downloads the file (no key), and it is the file the store describes.
    const got = await fetch(link);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('audio/wav');
    const wavBytes = Buffer.from(await got.arrayBuffer());
    const row = (await pbx.sb.store.listRecordings({ unique_call_id: callId, offset: 0, limit: 10 }))[0]!;
    expect(row).toMatchObject({ recording_id: body['recording_id'], direction: 'inbound', user_number: '1002', size_bytes: wavBytes.length, problems: [] });
    expect(createHash('sha256').update(wavBytes).digest('hex')).toBe(row.sha256);
    const file = join(tmp, 'got.wav');
    writeFileSync(file, wavBytes);
    const wav = readWav(file);
    expect(wav.channels).toBe(2);
    expect(wav.sampleRate).toBe(8000);
    expect(wav.bitsPerSample).toBe(16);
    // Talk time as Switchboard saw it (answer → hang-up, its own clock): within ±40 ms. Against SIPp's view (ACK sent →
    // BYE sent) the bound is wider: under load (2 cores, other suites running) the BYE can sit in the event loop a while.
    const call = (await pbx.sb.store.getCall(callId))!;
    const sbTalkMs = Date.parse(call.ended_at!) - Date.parse(body['recorded_at'] as string);
    expect(Math.abs(wav.durationMs - sbTalkMs), `WAV ${wav.durationMs} ms vs talk ${sbTalkMs} ms (Switchboard's clock)`).toBeLessThanOrEqual(40);
    expect(Math.abs(wav.durationMs - talkMs), `WAV ${wav.durationMs} ms vs talk ${talkMs} ms (SIPp's clock)`).toBeLessThanOrEqual(250);
    expect(row.duration_ms).toBe(Math.round(wav.durationMs));
    // The middle of the call (edges hold the few ms before the first packets arrive).
    const mid = (s: Int16Array) => s.subarray(4000, s.length - 4000);
    const left = dominantFrequency(mid(wav.samples[0]!), [400, 1000]);
    const right = dominantFrequency(mid(wav.samples[1]!), [400, 1000]);
    expect(left.freqHz).toBe(400);
    expect(left.ratio).toBeGreaterThan(10);
    expect(right.freqHz).toBe(1000);
    expect(right.ratio).toBeGreaterThan(10);

    // Bad links: no signature, a tampered one, another recording's path, an expired one.
    const url = new URL(link);
    expect((await fetch(`${url.origin}${url.pathname}`)).status).toBe(401);
    const tampered = new URL(link);
    tampered.searchParams.set('sig', `${tampered.searchParams.get('sig')!.slice(0, -2)}AA`);
    expect((await fetch(tampered)).status).toBe(401);
    const longer = new URL(link);
    longer.searchParams.set('expires', String(Number(longer.searchParams.get('expires')) + 3600));
    expect((await fetch(longer)).status).toBe(401);
    const config = pbx.sb.config.live().config;
    const expired = recordingLink(config, pbx.sb.baseUrl, row.recording_id, Date.now() - (config.recordings.link_lifetime_s + 60) * 1000);
    expect((await fetch(expired)).status).toBe(410);

    // Admin: list with a filter, one, its audio, delete (audited); the link then answers 404.
    expect((await fetch(`${pbx.sb.baseUrl}/api/admin/recordings`)).status).toBe(401);
    const list = await (await fetch(`${pbx.sb.baseUrl}/api/admin/recordings?user_number=1002&limit=5`, { headers: ADMIN })).json() as { data: Array<Record<string, unknown>> };
    expect(list.data.map((r) => r['recording_id'])).toContain(row.recording_id);
    expect(list.data[0]).not.toHaveProperty('path');
    expect((await fetch(`${pbx.sb.baseUrl}/api/admin/recordings?from=yesterday`, { headers: ADMIN })).status).toBe(400);
    const one = await fetch(`${pbx.sb.baseUrl}/api/admin/recordings/${row.recording_id}`, { headers: ADMIN });
    expect(one.status).toBe(200);
    const oneBody = await one.json() as { data: Record<string, unknown> };
    expect(oneBody.data).toMatchObject({ unique_call_id: callId, sha256: row.sha256, duration_ms: row.duration_ms });
    expect((await fetch(oneBody.data['link'] as string)).status).toBe(200);
    const audio = await fetch(`${pbx.sb.baseUrl}/api/admin/recordings/${row.recording_id}/audio`, { headers: ADMIN });
    expect(audio.status).toBe(200);
    expect(Buffer.from(await audio.arrayBuffer()).equals(wavBytes)).toBe(true);
    expect((await fetch(`${pbx.sb.baseUrl}/api/admin/recordings/rec_0000000000000000`, { headers: ADMIN })).status).toBe(404);
    expect((await fetch(`${pbx.sb.baseUrl}/api/admin/recordings/not-an-id`, { headers: ADMIN })).status).toBe(400);
    const del = await fetch(`${pbx.sb.baseUrl}/api/admin/recordings/${row.recording_id}`, { method: 'DELETE', headers: ADMIN });
    expect(del.status).toBe(200);
    expect(existsSync(row.path)).toBe(false);
    expect(await pbx.sb.store.getRecording(row.recording_id)).toBeUndefined();
    expect((await fetch(link)).status).toBe(404);
    const audit = await pbx.sb.store.listAudit({ offset: 0, limit: 10 });
    expect(audit.some((a) => a.method === 'DELETE' && a.path === `/api/admin/recordings/${row.recording_id}` && a.status === 200)).toBe(true);
  }, 90_000);

  it('passes SDP through unchanged for a user who is not recorded (Alice), and records nothing', async () => {
    const uas = await device('alice-desk', 'alice-desk-pw', 1000);
    const uac = await caller('61390000008');
    sippOk(await uac.done, 'caller');
    sippOk(await uas.done, 'device');
    const sent = parseSippTrace(uac.messages()).find((m) => m.direction === 'sent' && m.text.startsWith('INVITE '))!;
    const received = parseSippTrace(uas.messages()).find((m) => m.direction === 'received' && m.text.startsWith('INVITE '))!;
    const sdp = (t: string) => t.slice(t.indexOf('\n\n') + 2).trim();
    expect(sdp(received.text)).toBe(sdp(sent.text));
    const answerSent = parseSippTrace(uas.messages()).find((m) => m.direction === 'sent' && m.text.startsWith('SIP/2.0 200'))!;
    const answerGot = parseSippTrace(uac.messages()).find((m) => m.direction === 'received' && m.text.startsWith('SIP/2.0 200'))!;
    expect(sdp(answerGot.text)).toBe(sdp(answerSent.text));
    uac.cleanup();
    uas.cleanup();
    const [done] = await hooks.waitFor((h) => h.body['type'] === 'user_inbound_completed' && h.body['user_number'] === '1001', 1, 'Alice\'s completed event');
    const callId = done!.body['unique_call_id'] as string;
    await eventually(async () => (await pbx.sb.store.getCall(callId))?.ended_at, 'the call record');
    expect(await pbx.sb.store.listRecordings({ unique_call_id: callId, offset: 0, limit: 10 })).toEqual([]);
  }, 60_000);
});
