/**
 * Voicemail to e-mail (issue 10): each new message whose box has addresses is mailed, with the WAV attached, through
 * the configured SMTP relay (nodemailer). The state lives on the message's row (`mail_*`), so a restart resumes
 * pending mail and a failure stays visible in the admin API. The `voicemail` webhook never waits for this.
 *
 * One loop: every `pollMs` (or at once on {@link VoicemailMailer.kick}) it sends the due messages one after the other;
 * a failed send is retried after `mail.retry_schedule_s[attempt - 1]` seconds and given up (status `failed`, the
 * last error kept, an error logged) once the schedule is used up.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Clock } from '../../common/index.js';
import type { Logger } from '../../common/index.js';
import { fillTemplate } from '../../common/index.js';
import type { MailConfig, PbxConfig } from '../../config/index.js';
import type { Store, VoicemailRecord } from '../../store/index.js';

/** The placeholders of users[].voicemail.email_subject / email_message, for one message. */
export function voicemailTemplateValues(m: Pick<VoicemailRecord, 'caller_id' | 'caller_name' | 'duration_ms' | 'recorded_at'>, user: { name: string; number: string }): Record<string, string | number | null> {
  return {
    caller_id: m.caller_id, caller_name: m.caller_name, user_name: user.name, user_number: user.number,
    duration_s: Math.round(m.duration_ms / 1000), recorded_at: m.recorded_at,
  };
}

export interface VoicemailMailerDeps {
  store: Store;
  /** The live configuration (mail relay, the boxes' templates). */
  config: () => PbxConfig;
  clock: Clock;
  log: Logger;
  /** How often due mail is looked for, ms (default 1000). */
  pollMs?: number;
  /** Per-message SMTP timeouts, ms (default 30 000). */
  smtpTimeoutMs?: number;
}

export interface VoicemailMailer {
  start(): void;
  /** Looks for due mail now (a message was just left). */
  kick(): void;
  /** Stops the loop and waits for a send in progress. */
  stop(): Promise<void>;
}

export function createVoicemailMailer(deps: VoicemailMailerDeps): VoicemailMailer {
  const pollMs = deps.pollMs ?? 1000;
  const timeoutMs = deps.smtpTimeoutMs ?? 30_000;
  let timer: unknown = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = true;
  // One transport per relay setting: rebuilt when an apply changes `mail`.
  let transport: { key: string; t: Transporter } | null = null;

  function transporter(mail: MailConfig): Transporter {
    const key = JSON.stringify([mail.host, mail.port, mail.secure, mail.username, mail.password]);
    if (transport?.key !== key) {
      transport?.t.close();
      transport = {
        key,
        t: nodemailer.createTransport({
          host: mail.host, port: mail.port, secure: mail.secure,
          auth: mail.username ? { user: mail.username, pass: mail.password ?? '' } : undefined,
          connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
        }),
      };
    }
    return transport.t;
  }

  async function sendOne(m: VoicemailRecord): Promise<void> {
    const cfg = deps.config();
    const attempts = m.mail_attempts + 1;
    const user = cfg.users.find((u) => u.number === m.user_number);
    try {
      if (!cfg.mail.enabled) throw new Error('mail is disabled in the configuration (mail.enabled)');
      const values = voicemailTemplateValues(m, { name: user?.name ?? m.user_number, number: m.user_number });
      const box = user?.voicemail;
      const audio = await readFile(m.path);
      await transporter(cfg.mail).sendMail({
        from: cfg.mail.from,
        to: m.mail_to,
        subject: fillTemplate(box?.email_subject ?? 'New voicemail from {caller_id}', values),
        text: fillTemplate(box?.email_message ?? 'You have a new voicemail message from {caller_id}.', values),
        headers: { 'X-Switchboard-Message-Id': m.message_id, 'X-Switchboard-Unique-Call-Id': m.unique_call_id },
        attachments: [{ filename: basename(m.path), content: audio, contentType: 'audio/wav' }],
      });
      await deps.store.updateVoicemailMail(m.message_id, {
        mail_status: 'sent', mail_attempts: attempts, mail_next_at: null, mail_last_error: null, mail_sent_at: new Date(deps.clock.now()).toISOString(),
      });
      deps.log.info({ message: m.message_id, to: m.mail_to, attempts }, 'voicemail: mailed');
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      const schedule = cfg.mail.retry_schedule_s;
      const giveUp = attempts > schedule.length;
      const next = giveUp ? null : deps.clock.now() + schedule[attempts - 1]! * 1000;
      await deps.store.updateVoicemailMail(m.message_id, {
        mail_status: giveUp ? 'failed' : 'pending', mail_attempts: attempts, mail_next_at: next, mail_last_error: error.slice(0, 1000), mail_sent_at: null,
      });
      if (giveUp) deps.log.error({ message: m.message_id, to: m.mail_to, attempts, err: error }, 'voicemail: mail given up');
      else deps.log.warn({ message: m.message_id, to: m.mail_to, attempts, retryInMs: next! - deps.clock.now(), err: error }, 'voicemail: mail failed, will retry');
    }
  }

  async function drain(): Promise<void> {
    do {
      again = false;
      const due = await deps.store.listVoicemailMailDue(deps.clock.now(), 20);
      for (const m of due) {
        if (stopped) return;
        await sendOne(m);
      }
      if (due.length === 20) again = true;
    } while (again && !stopped);
  }

  function run(): void {
    if (stopped) return;
    if (running) { again = true; return; }
    running = drain()
      .catch((err) => deps.log.error({ err }, 'voicemail: mail loop failed (will try again)'))
      .finally(() => { running = null; schedule(); });
  }

  function schedule(): void {
    if (stopped) return;
    if (timer !== null) deps.clock.clearTimeout(timer);
    timer = deps.clock.setTimeout(() => { timer = null; run(); }, pollMs);
  }

  return {
    start() { if (!stopped) return; stopped = false; run(); },
    kick() { if (timer !== null) { deps.clock.clearTimeout(timer); timer = null; } run(); },
    async stop() {
      stopped = true;
      if (timer !== null) deps.clock.clearTimeout(timer);
      timer = null;
      await running;
      transport?.t.close();
      transport = null;
    },
  };
}
