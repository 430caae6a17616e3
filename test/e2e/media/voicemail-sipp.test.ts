/**
 * Voicemail end to end (issue 10) on the embedded media endpoint and on rtpengine (test/support/media-drivers.ts):
 * SIPp callers dial a DID whose flow is Alice's voicemail and send real G.711 with play_pcap_audio (a 400 Hz tone, pcaps generated here). The greeting is uploaded
 * through the mailbox API first (short, to keep the test quick). Checks: `#` ends the message and the PBX hangs up;
 * the WAV (mono 8 kHz) is as long as what was said after the beep (±40 ms) and carries the tone; the `voicemail`
 * webhook has SPEC §3's fields and its audio_file link downloads the file without a key (tampered → 401); the mail
 * reaches a real SMTP server with the WAV attached; silence ends a message (rtpengine: it cannot, the hang-up does); a too-short message and a hang-up during
 * the greeting leave nothing; the mailbox API lists the message.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { startIntegrationPbx, parseSippTrace, runTracedSipp, sippOk, type IntegrationPbx } from '../../support/integration-pbx.js';
import { startHookReceiver, type HookReceiver } from '../../support/integration-receiver.js';
import { g711Pcap } from '../../support/pcap-writer.js';
import { dominantFrequency, tonePcm, toneWav } from '../../support/rtp-peer.js';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.js';
import { freePort } from '../../support/sipp.js';
import { mediaDrivers } from '../../support/media-drivers.js';

const { WaveFile } = wavefile;
const ADMIN = { authorization: 'Bearer demo-admin-key' };
const GREETING_MS = 600;
const BEEP_MS = 400;
const PROMPTS_MS = GREETING_MS + BEEP_MS;

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

describe.each(mediaDrivers())('voicemail through Switchboard ($name media, SIPp with G.711 pcaps)', (driver) => {
  let pbx: IntegrationPbx;
  let hooks: HookReceiver;
  let smtp: SmtpSink;

  beforeAll(async () => {
    await driver.start();
    hooks = await startHookReceiver();
    smtp = await startSmtpSink();
    pbx = await startIntegrationPbx({
      mutate: (c) => {
        driver.configure(c);
        c.webhook = { ...c.webhook, url: hooks.url('/hook'), enabled: true };
        c.mail = { ...c.mail, enabled: true, host: '127.0.0.1', port: smtp.port, from: 'pbx@example.com' };
        const alice = c.users.find((u) => u.number === '1001')!;
        alice.voicemail = { ...alice.voicemail, emails: ['alice@example.com'], silence_s: 1, min_message_s: 1, email_subject: 'Voicemail from {caller_id}' };
        c.numbers.push({ number: '+61390000007', flow: 'vm-alice' });
        c.flows.push({ id: 'vm-alice', nodes: [{ id: 'vm', type: 'voicemail', user: '1001', next: null }] });
      },
    });
    const up = await fetch(`${pbx.sb.baseUrl}/api/admin/users/1001/voicemail/greeting`, {
      method: 'PUT', headers: { ...ADMIN, 'content-type': 'audio/wav' }, body: toneWav(1000, GREETING_MS) as unknown as BodyInit,
    });
    expect(up.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await pbx?.close();
    await hooks?.close();
    await smtp?.close();
    await driver.stop();
  });

  async function call(scenario: 'vm-uac.xml' | 'rec-uac-pcap.xml', pcm: Int16Array, opts: { digit?: string; holdMs?: number } = {}) {
    return runTracedSipp({
      scenario, target: `${pbx.sip.address}:${pbx.sip.port}`, calls: 1, timeoutS: 40,
      extra: ['-s', '61390000007', ...(opts.holdMs !== undefined ? ['-d', String(opts.holdMs)] : []), '-mp', String(await freePort()), '-mi', '127.0.0.1'],
      files: { 'caller.pcap': g711Pcap(pcm, opts.digit !== undefined ? { digit: opts.digit } : {}) },
    });
  }

  it('# ends the message; the PBX hangs up; WAV, webhook, link and mail are right', async () => {
    const SPOKEN_MS = 2500;
    const uac = await call('vm-uac.xml', tonePcm(400, PROMPTS_MS + SPOKEN_MS), { digit: '#' });
    sippOk(await uac.done, 'caller');
    const trace = parseSippTrace(uac.messages());
    const ackAt = trace.find((m) => m.direction === 'sent' && m.text.startsWith('ACK '))!.at;
    // The PBX's answer points the caller at this driver's media (not passed through, not the other driver).
    const ok = trace.find((m) => m.direction === 'received' && m.text.startsWith('SIP/2.0 200') && /^m=audio /m.test(m.text))!;
    expect(driver.ownsPort(Number(/^m=audio (\d+) /m.exec(ok.text)![1])), ok.text).toBe(true);
    uac.cleanup();

    const [vm] = await hooks.waitFor((h) => h.body['type'] === 'voicemail', 1, 'voicemail', 20_000);
    const body = vm!.body;
    expect(body).toMatchObject({
      caller_id: '614000001', dest_number: '61390000007', user_name: 'Alice Smith', user_number: '1001',
      emails: ['alice@example.com'], email_subject: 'Voicemail from 614000001', email_message: expect.stringContaining('614000001'),
    });
    const links = body['audio_file'] as string[];
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(new RegExp(`^${pbx.sb.baseUrl}/api/voicemail/vm_[0-9a-f]{16}\\.wav\\?expires=\\d+&sig=[\\w-]+$`));
    const got = await fetch(links[0]!);
    expect(got.status).toBe(200);
    const bytes = Buffer.from(await got.arrayBuffer());
    const w = new WaveFile(bytes);
    expect([(w.fmt as { numChannels: number }).numChannels, (w.fmt as { sampleRate: number }).sampleRate, w.bitDepth]).toEqual([1, 8000, '16']);
    const samples = w.getSamples(false, Int16Array) as unknown as Int16Array;
    const durationMs = samples.length / 8;
    // What the caller said after the beep: the tone runs until `#`, PROMPTS_MS + SPOKEN_MS after the ACK, and the
    // message ends when the key is released (an RFC 4733 event ends with its end packet: 100 ms in this pcap).
    const recordedAt = Date.parse(body['recorded_at'] as string);
    const said = ackAt + PROMPTS_MS + SPOKEN_MS + 100 - recordedAt;
    expect(Math.abs(durationMs - said), `WAV ${durationMs} ms vs said ${said} ms`).toBeLessThanOrEqual(40);
    expect(durationMs).toBeGreaterThan(SPOKEN_MS - 300);
    expect(dominantFrequency(samples.subarray(800, samples.length - 800), [400, 1000]).freqHz).toBe(400);
    const tampered = new URL(links[0]!);
    tampered.searchParams.set('sig', 'AAAA');
    expect((await fetch(tampered)).status).toBe(401);

    // The mailbox lists it; the mail carries the same WAV.
    const list = await (await fetch(`${pbx.sb.baseUrl}/api/admin/users/1001/voicemail/messages`, { headers: ADMIN })).json() as { data: Array<Record<string, unknown>> };
    expect(list.data[0]).toMatchObject({ unique_call_id: body['unique_call_id'], heard: false, duration_ms: Math.round(durationMs) });
    const [mail] = await smtp.waitFor(1, 20_000);
    expect(mail!.subject).toBe('Voicemail from 614000001');
    expect(mail!.attachments).toHaveLength(1);
    expect(Buffer.compare(mail!.attachments[0]!.content, bytes)).toBe(0);
    const row = (await pbx.sb.store.getCall(body['unique_call_id'] as string))!;
    expect(row).toMatchObject({ status: 'voicemail', hangup_cause: 'voicemail-left' });
  });

  // rtpengine never sees the audio (it relays and writes pcaps), so it cannot tell silence: there the message runs
  // on through a silent tail until the caller hangs up, and is kept whole.
  const silenceTitle = driver.detectsSilence
    ? 'silence ends a message (the PBX hangs up) and it is kept'
    : 'without silence detection (rtpengine) a silent tail does not end the message; the hang-up does and it is kept';
  it(silenceTitle, async () => {
    const before = hooks.hooks.filter((h) => h.body['type'] === 'voicemail').length;
    const uac = driver.detectsSilence
      ? await call('vm-uac.xml', concat(tonePcm(400, PROMPTS_MS + 1500), new Int16Array(8 * 3000)))
      // Silence from 1.5 s into the message (Alice's silence_s is 1); the caller hangs up 4 s in.
      : await call('rec-uac-pcap.xml', concat(tonePcm(400, PROMPTS_MS + 1500), new Int16Array(8 * 4000)), { holdMs: PROMPTS_MS + 4000 });
    sippOk(await uac.done, 'caller');
    uac.cleanup();
    const all = await hooks.waitFor((h) => h.body['type'] === 'voicemail', before + 1, 'second voicemail', 20_000);
    const row = (await pbx.sb.store.getCall(all[before]!.body['unique_call_id'] as string))!;
    if (driver.detectsSilence) {
      expect(row.hangup_cause).toBe('voicemail-left');
      return;
    }
    expect(row.hangup_cause).not.toBe('voicemail-left');
    const list = await (await fetch(`${pbx.sb.baseUrl}/api/admin/users/1001/voicemail/messages`, { headers: ADMIN })).json() as { data: Array<Record<string, unknown>> };
    const msg = list.data.find((m) => m['unique_call_id'] === row.unique_call_id)!;
    expect(msg['duration_ms'] as number).toBeGreaterThan(3000);
  });

  it('a message under min_message_s and a hang-up during the greeting leave nothing', async () => {
    const before = (await pbx.sb.store.listVoicemails({ user_number: '1001', offset: 0, limit: 100 })).length;
    // Hangs up 0.5 s into the message (min 1 s).
    const short = await call('rec-uac-pcap.xml', tonePcm(400, PROMPTS_MS + 2000), { holdMs: PROMPTS_MS + 500 });
    sippOk(await short.done, 'short caller');
    short.cleanup();
    const early = await call('rec-uac-pcap.xml', tonePcm(400, 2000), { holdMs: 300 });
    sippOk(await early.done, 'early caller');
    early.cleanup();
    await new Promise((r) => setTimeout(r, 1000));
    const after = await pbx.sb.store.listVoicemails({ user_number: '1001', offset: 0, limit: 100 });
    expect(after.length).toBe(before);
    for (const m of after) expect(existsSync(m.path)).toBe(true);
  });
});
