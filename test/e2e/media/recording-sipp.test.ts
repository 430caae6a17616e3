/**
 * Call recording end to end (issue 9), once per media driver — the embedded endpoint (the default) and a real
 * rtpengine-daemon: a SIPp caller and a SIPp device (registered as bob-desk, Bob is `record: all`) send real G.711
 * RTP with play_pcap_audio — a 400 Hz tone from the caller, 1 kHz from the device, pcaps generated here — through
 * Switchboard. Checks:
 * - the stereo WAV's duration matches the talk time (answer → hang-up as Switchboard recorded it) within ±40 ms and
 *   SIPp's own (ACK → BYE) within ±250 ms (load), left = 400 Hz, right = 1 kHz; the webhook receiver gets
 *   `recording_inbound` after `user_inbound_completed` and its link downloads exactly the file; unsigned/tampered
 *   links → 401, expired → 410; admin list/fetch/audio/delete (audited, then 404);
 * - both directions are heard end to end: a party running SIPp's -rtp_echo sends back what the relay gave it, so
 *   the caller's tone comes back on the callee's channel and the callee's tone on the caller's;
 * - hold: a re-INVITE a=sendonly, then a=sendrecv; the hold is silence in the file, the tones are on either side of
 *   it, and the file is still as long as the whole talk time;
 * - a call to a non-recorded user (Alice) passes the caller's SDP through unchanged and records nothing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PbxConfig } from '../../../src/config/index.js';
import { recordingLink } from '../../../src/api/recordings.js';
import { startIntegrationPbx, parseSippTrace, eventually, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { downloadRecording, finishCall, recordingCaller, recordingDevice, switchboardTalkMs, type PartyAudio } from '../../support/recording-sipp.js';
import { dominantFrequency, type WavAudio } from '../../support/rtp-peer.js';
import { requireRtpengine, startRtpengine, type RtpengineDaemon } from '../../support/rtpengine.js';

const ADMIN = { authorization: 'Bearer demo-admin-key' };
const TALK_MS = 3000;
const BOB = { user: 'bob-desk', password: 'bob-desk-pw' };
const DRIVERS = [
  { driver: 'embedded' as const, run: true },
  { driver: 'rtpengine' as const, run: requireRtpengine() },
];

/** Samples [fromMs, toMs) of a channel. */
function span(wav: WavAudio, channel: number, fromMs: number, toMs: number): Int16Array {
  return wav.samples[channel]!.subarray(Math.max(0, Math.round(fromMs * 8)), Math.round(toMs * 8));
}

function expectTone(samples: Int16Array, freqHz: number, what: string): void {
  const got = dominantFrequency(samples, [400, 1000]);
  expect(got.freqHz, what).toBe(freqHz);
  expect(got.ratio, what).toBeGreaterThan(10);
}

function peak(samples: Int16Array): number {
  let p = 0;
  for (const s of samples) p = Math.max(p, Math.abs(s));
  return p;
}

/** The longest run of 20 ms frames of a channel that are silent (peak under 100), in ms from the start. */
function longestQuiet(wav: WavAudio, channel: number): { fromMs: number; toMs: number } {
  let best = { fromMs: 0, toMs: 0 };
  let from = -1;
  const frames = Math.floor(wav.durationMs / 20);
  for (let i = 0; i <= frames; i++) {
    const quiet = i < frames && peak(span(wav, channel, i * 20, i * 20 + 20)) < 100;
    if (quiet && from < 0) from = i;
    if (!quiet && from >= 0) {
      if ((i - from) * 20 > best.toMs - best.fromMs) best = { fromMs: from * 20, toMs: i * 20 };
      from = -1;
    }
  }
  return best;
}

for (const { driver, run } of DRIVERS) {
  describe.runIf(run)(`call recording through the ${driver} media driver (SIPp with G.711 pcaps)`, () => {
    let daemon: RtpengineDaemon | undefined;
    let hooks: HookReceiver;
    let pbx: IntegrationPbx;
    let tmp: string;

    beforeAll(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'sb-rec-'));
      if (driver === 'rtpengine') daemon = await startRtpengine({ ports: 100 });
      hooks = await startHookReceiver();
      pbx = await startIntegrationPbx({
        mutate: (c: PbxConfig) => {
          c.media.driver = driver;
          if (daemon) c.media.rtpengine = { ng_host: daemon.ng.host, ng_port: daemon.ng.port, recording_dir: daemon.recordingDir, dtmf_port: 0 };
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
    }, 60_000);

    /** One call to Bob: device and caller audio as given; the recording event of that call and SIPp's times. */
    async function callBob(caller: PartyAudio, device: PartyAudio, opts: { scenario?: 'talk' | 'hold'; pauseMs?: number } = {}) {
      const pauseMs = opts.pauseMs ?? TALK_MS;
      const audioMs = (opts.scenario === 'hold' ? 3 * pauseMs : pauseMs) + 1500;
      const before = new Set(hooks.hooks.filter((h) => h.body['type'] === 'recording_inbound').map((h) => h.body['recording_id']));
      const uas = await recordingDevice(pbx, { ...BOB, audio: device, audioMs, ...(opts.scenario ? { scenario: opts.scenario } : {}) });
      const uac = await recordingCaller(pbx, { did: '61390000009', audio: caller, audioMs, pauseMs, ...(opts.scenario ? { scenario: opts.scenario } : {}) });
      const times = await finishCall(uac, uas);
      const [rec] = await hooks.waitFor((h) => h.body['type'] === 'recording_inbound' && !before.has(h.body['recording_id']), 1, 'recording_inbound', 20_000);
      return { body: rec!.body, times };
    }

    it('records Bob\'s call as a stereo WAV (400 Hz left, 1 kHz right, talk time ±40 ms), then the webhook, link and admin API', async () => {
      const { body, times } = await callBob({ toneHz: 400 }, { toneHz: 1000 });
      const talkMs = times.byeAt - times.ackAt;
      const callId = body['unique_call_id'] as string;
      const ofCall = hooks.hooks.filter((h) => h.body['unique_call_id'] === callId).map((h) => h.body['type']);
      expect(ofCall.indexOf('user_inbound_completed')).toBeGreaterThanOrEqual(0);
      expect(ofCall.indexOf('recording_inbound')).toBeGreaterThan(ofCall.indexOf('user_inbound_completed'));
      expect(body).toMatchObject({ caller_id: '614000001', dest_number: '61390000009', user_name: 'Bob Jones', user_number: '1002', emails: [], email_subject: null, email_message: null, recording_problems: [] });
      expect(Date.parse(body['recorded_at'] as string)).not.toBeNaN();
      const link = body['call_recording_link'] as string;
      expect(link).toMatch(new RegExp(`^${pbx.sb.baseUrl}/api/recordings/rec_[0-9a-f]{16}\\.wav\\?expires=\\d+&sig=[\\w-]+$`));

      // The link alone downloads the file (no key), and it is the file the store describes.
      const { wav, bytes: wavBytes } = await downloadRecording(pbx, body, tmp);
      const row = (await pbx.sb.store.listRecordings({ unique_call_id: callId, offset: 0, limit: 10 }))[0]!;
      expect(row).toMatchObject({ recording_id: body['recording_id'], direction: 'inbound', user_number: '1002', problems: [] });
      expect(wav.channels).toBe(2);
      expect(wav.sampleRate).toBe(8000);
      expect(wav.bitsPerSample).toBe(16);
      // Talk time as Switchboard saw it (answer → hang-up, its own clock): within ±40 ms. Against SIPp's view (ACK sent →
      // BYE sent) the bound is wider: under load (2 cores, other suites running) the BYE can sit in the event loop a while.
      const sbTalkMs = await switchboardTalkMs(pbx, body);
      expect(Math.abs(wav.durationMs - sbTalkMs), `WAV ${wav.durationMs} ms vs talk ${sbTalkMs} ms (Switchboard's clock)`).toBeLessThanOrEqual(40);
      expect(Math.abs(wav.durationMs - talkMs), `WAV ${wav.durationMs} ms vs talk ${talkMs} ms (SIPp's clock)`).toBeLessThanOrEqual(250);
      // The middle of the call (edges hold the few ms before the first packets arrive).
      expectTone(span(wav, 0, 500, wav.durationMs - 500), 400, 'left = caller');
      expectTone(span(wav, 1, 500, wav.durationMs - 500), 1000, 'right = callee');

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
      const viaLink = await fetch(oneBody.data['link'] as string);
      expect(viaLink.status).toBe(200);
      expect(Buffer.from(await viaLink.arrayBuffer()).equals(wavBytes)).toBe(true); // read it: an unread body holds the connection
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

    it('both directions are heard end to end: each side\'s tone comes back from the other side\'s -rtp_echo', async () => {
      // Caller → device: the device sends nothing of its own, so its channel is the caller's 400 Hz it heard.
      const toDevice = await callBob({ toneHz: 400 }, { echo: true }, { pauseMs: 2000 });
      const a = (await downloadRecording(pbx, toDevice.body, tmp)).wav;
      expectTone(span(a, 0, 500, a.durationMs - 500), 400, 'left = caller');
      expectTone(span(a, 1, 500, a.durationMs - 500), 400, 'right = the caller\'s tone as the device heard it');
      // Device → caller: the 1 kHz the caller heard is on its own channel.
      const toCaller = await callBob({ echo: true }, { toneHz: 1000 }, { pauseMs: 2000 });
      const b = (await downloadRecording(pbx, toCaller.body, tmp)).wav;
      expectTone(span(b, 0, 500, b.durationMs - 500), 1000, 'left = the device\'s tone as the caller heard it');
      expectTone(span(b, 1, 500, b.durationMs - 500), 1000, 'right = callee');
    }, 90_000);

    it('hold (re-INVITE a=sendonly, then a=sendrecv) is silence in the file, and the file is still the whole talk time', async () => {
      const PAUSE_MS = 1500;
      const { body, times } = await callBob({ toneHz: 400 }, { toneHz: 1000 }, { scenario: 'hold', pauseMs: PAUSE_MS });
      expect(body['recording_problems']).toEqual([]);
      expect(times.reinvitesAt).toHaveLength(2);
      const { wav } = await downloadRecording(pbx, body, tmp);
      const sbTalkMs = await switchboardTalkMs(pbx, body);
      expect(Math.abs(wav.durationMs - sbTalkMs), `WAV ${wav.durationMs} ms vs talk ${sbTalkMs} ms (Switchboard's clock)`).toBeLessThanOrEqual(40);
      expect(Math.abs(wav.durationMs - (times.byeAt - times.ackAt)), 'WAV vs SIPp\'s ACK → BYE').toBeLessThanOrEqual(250);
      // The hold as SIPp timed it (re-INVITE sendonly → re-INVITE sendrecv) against the silent stretch of the file:
      // the PBX acts on each re-INVITE a little after SIPp sent it and the file starts at the answer (about when SIPp
      // sent its ACK), so the stretch must match the hold's length and place within a margin for load.
      const holdAt = times.reinvitesAt[0]! - times.ackAt;
      const resumeAt = times.reinvitesAt[1]! - times.ackAt;
      expect(resumeAt - holdAt).toBeGreaterThan(PAUSE_MS - 100);
      for (const ch of [0, 1]) {
        const quiet = longestQuiet(wav, ch);
        const what = `channel ${ch}: quiet ${quiet.fromMs}–${quiet.toMs} ms, hold ${holdAt}–${resumeAt} ms by SIPp's clock`;
        expect(Math.abs(quiet.toMs - quiet.fromMs - (resumeAt - holdAt)), what).toBeLessThanOrEqual(300);
        expect(Math.abs(quiet.fromMs - holdAt), what).toBeLessThanOrEqual(400);
        expectTone(span(wav, ch, 300, quiet.fromMs - 100), ch === 0 ? 400 : 1000, `${what}: before the hold`);
        expectTone(span(wav, ch, quiet.toMs + 200, wav.durationMs - 300), ch === 0 ? 400 : 1000, `${what}: after the resume`);
      }
    }, 90_000);

    it('passes SDP through unchanged for a user who is not recorded (Alice), and records nothing', async () => {
      const uas = await recordingDevice(pbx, { user: 'alice-desk', password: 'alice-desk-pw', audio: { toneHz: 1000 }, audioMs: TALK_MS + 1500 });
      const uac = await recordingCaller(pbx, { did: '61390000008', audio: { toneHz: 400 }, audioMs: TALK_MS + 1500, pauseMs: TALK_MS });
      const uacTrace = parseSippTrace(await uac.done.then(() => uac.messages()));
      await uas.done;
      const uasTrace = parseSippTrace(uas.messages());
      const sent = uacTrace.find((m) => m.direction === 'sent' && m.text.startsWith('INVITE '))!;
      const received = uasTrace.find((m) => m.direction === 'received' && m.text.startsWith('INVITE '))!;
      const sdp = (t: string) => t.slice(t.indexOf('\n\n') + 2).trim();
      expect(sdp(received.text)).toBe(sdp(sent.text));
      const answerSent = uasTrace.find((m) => m.direction === 'sent' && m.text.startsWith('SIP/2.0 200'))!;
      const answerGot = uacTrace.find((m) => m.direction === 'received' && m.text.startsWith('SIP/2.0 200'))!;
      expect(sdp(answerGot.text)).toBe(sdp(answerSent.text));
      await finishCall(uac, uas);
      const [done] = await hooks.waitFor((h) => h.body['type'] === 'user_inbound_completed' && h.body['user_number'] === '1001', 1, 'Alice\'s completed event');
      const callId = done!.body['unique_call_id'] as string;
      await eventually(async () => (await pbx.sb.store.getCall(callId))?.ended_at, 'the call record');
      expect(await pbx.sb.store.listRecordings({ unique_call_id: callId, offset: 0, limit: 10 })).toEqual([]);
    }, 60_000);
  });
}
