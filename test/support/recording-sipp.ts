/**
 * SIPp parties for the call-recording e2e tests (test/e2e/media/recording-*.test.ts): a caller dialling a DID and a
 * device registered as a demo user, each either sending a tone as real G.711 (play_pcap_audio of a pcap generated
 * here) or echoing back what it hears (-rtp_echo, the "is the other side heard end to end" check), with SIP traced
 * so a test reads SIPp's own timing (ACK, re-INVITEs, BYE).
 */
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseSippTrace, runTracedSipp, sippOk, type IntegrationPbx, type TracedSipp } from './integration-pbx.js';
import { g711Pcap } from './pcap-writer.js';
import { readWav, tonePcm, type WavAudio } from './rtp-peer.js';
import { freePort, runSipp } from './sipp.js';

/** What a party does with its audio: send a tone (Hz), or echo what it receives. */
export type PartyAudio = { toneHz: number } | { echo: true };

/** Scenario sets: plain talk, or hold (talk, sendonly re-INVITE, resume with sendrecv, talk). */
export type RecordingScenario = 'talk' | 'hold';

/** Media flags for SIPp: a free media port on 127.0.0.1, plus -rtp_echo when echoing. */
async function mediaArgs(audio: PartyAudio): Promise<string[]> {
  return ['-mp', String(await freePort()), '-mi', '127.0.0.1', ...('echo' in audio ? ['-rtp_echo'] : [])];
}

/** Registers `user` from a SIPp on a fresh port, then runs the device scenario there (answers one call). */
export async function recordingDevice(pbx: IntegrationPbx, opts: { user: string; password: string; audio: PartyAudio; audioMs: number; scenario?: RecordingScenario }): Promise<TracedSipp> {
  const port = await freePort();
  const target = `${pbx.sip.address}:${pbx.sip.port}`;
  const reg = await runSipp({
    scenario: 'engine-register.xml', target, port, calls: 1,
    extra: ['-key', 'user', opts.user, '-au', opts.user, '-ap', opts.password, '-key', 'domain', pbx.domain, '-auth_uri', pbx.domain, '-key', 'expires', '600'],
  });
  sippOk(await reg.done, `${opts.user} register`);
  const scenario = 'echo' in opts.audio ? 'rec-uas-echo.xml' : opts.scenario === 'hold' ? 'rec-uas-hold-pcap.xml' : 'rec-uas-pcap.xml';
  return runTracedSipp({
    scenario, port, calls: 1, timeoutS: 40, extra: await mediaArgs(opts.audio),
    ...('toneHz' in opts.audio ? { files: { 'callee.pcap': g711Pcap(tonePcm(opts.audio.toneHz, opts.audioMs)) } } : {}),
  });
}

/** A caller dialling `did`, talking for `pauseMs` (per `<pause/>`: one for talk, three for hold), then BYE. */
export async function recordingCaller(pbx: IntegrationPbx, opts: { did: string; audio: PartyAudio; audioMs: number; pauseMs: number; scenario?: RecordingScenario }): Promise<TracedSipp> {
  const scenario = 'echo' in opts.audio ? 'rec-uac-echo.xml' : opts.scenario === 'hold' ? 'rec-uac-hold-pcap.xml' : 'rec-uac-pcap.xml';
  return runTracedSipp({
    scenario, target: `${pbx.sip.address}:${pbx.sip.port}`, calls: 1, timeoutS: 40,
    extra: ['-s', opts.did, '-d', String(opts.pauseMs), ...(await mediaArgs(opts.audio))],
    ...('toneHz' in opts.audio ? { files: { 'caller.pcap': g711Pcap(tonePcm(opts.audio.toneHz, opts.audioMs)) } } : {}),
  });
}

/** Waits for both SIPp runs to succeed; returns the caller's trace times (ms, SIPp's clock) and cleans up. */
export async function finishCall(uac: TracedSipp, uas: TracedSipp): Promise<{ ackAt: number; byeAt: number; reinvitesAt: number[] }> {
  sippOk(await uac.done, 'caller');
  sippOk(await uas.done, 'device');
  const trace = parseSippTrace(uac.messages());
  const sent = trace.filter((m) => m.direction === 'sent');
  const invites = sent.filter((m) => m.text.startsWith('INVITE '));
  const ackAt = sent.find((m) => m.text.startsWith('ACK '))!.at;
  const byeAt = sent.find((m) => m.text.startsWith('BYE '))!.at;
  uac.cleanup();
  uas.cleanup();
  return { ackAt, byeAt, reinvitesAt: invites.slice(1).map((m) => m.at) };
}

/** Downloads a recording event's link (no key) and checks it against the store's row; returns the parsed WAV. */
export async function downloadRecording(pbx: IntegrationPbx, body: Record<string, unknown>, tmpDir: string): Promise<{ wav: WavAudio; bytes: Buffer }> {
  const got = await fetch(body['call_recording_link'] as string);
  expect(got.status).toBe(200);
  expect(got.headers.get('content-type')).toBe('audio/wav');
  const bytes = Buffer.from(await got.arrayBuffer());
  const row = (await pbx.sb.store.getRecording(body['recording_id'] as string))!;
  expect(row).toMatchObject({ size_bytes: bytes.length });
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.sha256);
  const file = join(tmpDir, `${row.recording_id}.wav`);
  writeFileSync(file, bytes);
  const wav = readWav(file);
  expect(row.duration_ms).toBe(Math.round(wav.durationMs));
  return { wav, bytes };
}

/** Talk time as Switchboard recorded it: answer (recorded_at) → the call's end. */
export async function switchboardTalkMs(pbx: IntegrationPbx, body: Record<string, unknown>): Promise<number> {
  const call = (await pbx.sb.store.getCall(body['unique_call_id'] as string))!;
  return Date.parse(call.ended_at!) - Date.parse(body['recorded_at'] as string);
}
