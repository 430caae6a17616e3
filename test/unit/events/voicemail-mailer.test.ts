/**
 * Voicemail to e-mail against a real SMTP server in process and a real SQLite store: the mail, its WAV attachment
 * and headers; a transient refusal retried on the schedule; a relay that keeps refusing ends `failed` with the error
 * kept; mail off leaves a visible failure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { defaultMailConfig, defaultVoicemailConfig, type PbxConfig } from '../../../src/config/index.js';
import { createVoicemailMailer, type VoicemailMailer } from '../../../src/events/index.js';
import { createSqliteStore, type Store, type VoicemailRecord } from '../../../src/store/index.js';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.js';
import { captureLog, testConfig } from './fixtures.js';
import { eventually } from '../../support/eventually.js';

let dir: string;
let store: Store;
let smtp: SmtpSink;
let mailer: VoicemailMailer | undefined;
const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(40, 7), Buffer.from('some audio bytes')]);

function config(mail: Partial<PbxConfig['mail']> = {}): PbxConfig {
  return {
    ...testConfig(),
    users: [{
      name: 'Alice Smith', number: '1001', devices: [], record: 'none', ring_timeout_s: 30, caller_id: null, dnd: false,
      forward: { always: null, busy: null, no_answer: null },
      voicemail: defaultVoicemailConfig({ enabled: true, emails: ['alice@example.com'], email_subject: 'Voicemail from {caller_id} ({duration_s} s)' }),
    }],
    mail: { ...defaultMailConfig(), enabled: true, port: smtp.port, from: 'pbx@example.com', retry_schedule_s: [1], ...mail },
  };
}

function message(id: string): VoicemailRecord {
  const path = join(dir, `${id}.wav`);
  writeFileSync(path, wav);
  return {
    message_id: id, user_number: '1001', unique_call_id: `call-${id}`, caller_id: '+61400000001', caller_name: 'Carol',
    dest_number: '+61390000000', recorded_at: '2026-12-02T01:00:00.000Z', path, duration_ms: 4600, size_bytes: wav.length,
    sha256: '00', heard_at: null, mail_status: 'pending', mail_to: 'alice@example.com, bob@example.com', mail_attempts: 0,
    mail_next_at: 0, mail_last_error: null, mail_sent_at: null,
  };
}


beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-mail-'));
  store = await createSqliteStore({ file: join(dir, 'store.sqlite') });
  smtp = await startSmtpSink();
});
afterEach(async () => {
  await mailer?.stop();
  mailer = undefined;
  await smtp.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('voicemail mailer', () => {
  it('mails the message with its WAV attached, the templates filled in and our headers', async () => {
    await store.commit({ voicemails: [message('vm_a')] });
    const cfg = config();
    mailer = createVoicemailMailer({ store, config: () => cfg, clock: systemClock, log: captureLog().log, pollMs: 100 });
    mailer.start();
    const [mail] = await smtp.waitFor(1);
    expect(mail!.subject).toBe('Voicemail from +61400000001 (5 s)');
    expect(mail!.from?.text).toBe('pbx@example.com');
    expect(mail!.to && !Array.isArray(mail!.to) ? mail!.to.value.map((a) => a.address) : []).toEqual(['alice@example.com', 'bob@example.com']);
    expect(mail!.text).toContain('+61400000001 (Carol), 5 s');
    expect(mail!.headers.get('x-switchboard-message-id')).toBe('vm_a');
    expect(mail!.headers.get('x-switchboard-unique-call-id')).toBe('call-vm_a');
    expect(mail!.attachments).toHaveLength(1);
    expect(mail!.attachments[0]!.filename).toBe('vm_a.wav');
    expect(mail!.attachments[0]!.contentType).toBe('audio/wav');
    expect(Buffer.compare(mail!.attachments[0]!.content, wav)).toBe(0);
    await eventually(async () => (await store.getVoicemail('vm_a'))!.mail_status === 'sent' || undefined, 'the mailer', 10_000);
    expect(await store.getVoicemail('vm_a')).toMatchObject({ mail_attempts: 1, mail_last_error: null, mail_next_at: null });
  });

  it('retries a transient refusal on the schedule', async () => {
    smtp.refuseNext(1, 'mailbox busy');
    await store.commit({ voicemails: [message('vm_b')] });
    const cfg = config({ retry_schedule_s: [1, 1] });
    const { log, lines } = captureLog();
    mailer = createVoicemailMailer({ store, config: () => cfg, clock: systemClock, log, pollMs: 100 });
    mailer.start();
    await eventually(async () => (await store.getVoicemail('vm_b'))!.mail_attempts === 1 || undefined, 'the mailer', 10_000);
    expect(await store.getVoicemail('vm_b')).toMatchObject({ mail_status: 'pending', mail_last_error: expect.stringContaining('mailbox busy') });
    expect(lines.some((l) => l.msg === 'voicemail: mail failed, will retry')).toBe(true);
    await smtp.waitFor(1);
    await eventually(async () => (await store.getVoicemail('vm_b'))!.mail_status === 'sent' || undefined, 'the mailer', 10_000);
    expect((await store.getVoicemail('vm_b'))!.mail_attempts).toBe(2);
    expect(smtp.refused).toBe(1);
  });

  it('gives up after the schedule, keeps the error and lists the failure', async () => {
    smtp.refuseNext(10, 'relay says no');
    await store.commit({ voicemails: [message('vm_c')] });
    const cfg = config({ retry_schedule_s: [1] });
    const { log, lines } = captureLog();
    mailer = createVoicemailMailer({ store, config: () => cfg, clock: systemClock, log, pollMs: 100 });
    mailer.start();
    await eventually(async () => (await store.getVoicemail('vm_c'))!.mail_status === 'failed' || undefined, 'the mailer', 10_000);
    expect(await store.getVoicemail('vm_c')).toMatchObject({ mail_attempts: 2, mail_last_error: expect.stringContaining('relay says no') });
    expect((await store.listVoicemailMailFailures({ offset: 0, limit: 10 })).map((m) => m.message_id)).toEqual(['vm_c']);
    expect(lines.some((l) => l.msg === 'voicemail: mail given up')).toBe(true);
    expect(smtp.mails).toHaveLength(0);
  });

  it('an unreachable relay is a failure like any other, and mail turned off is said', async () => {
    await store.commit({ voicemails: [message('vm_d'), { ...message('vm_e'), mail_next_at: 0 }] });
    const cfg = config({ port: 1, retry_schedule_s: [1] });
    let current = cfg;
    mailer = createVoicemailMailer({ store, config: () => current, clock: systemClock, log: captureLog().log, pollMs: 100, smtpTimeoutMs: 2000 });
    mailer.start();
    await eventually(async () => (await store.getVoicemail('vm_d'))!.mail_attempts >= 1 || undefined, 'the mailer', 10_000);
    expect((await store.getVoicemail('vm_d'))!.mail_last_error).toMatch(/ECONNREFUSED|connect/i);
    current = { ...cfg, mail: { ...cfg.mail, enabled: false } };
    await eventually(async () => (await store.getVoicemail('vm_e'))!.mail_status === 'failed' || undefined, 'the mailer', 10_000);
    expect((await store.getVoicemail('vm_e'))!.mail_last_error).toContain('mail.enabled');
  });
});
