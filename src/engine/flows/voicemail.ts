/**
 * The `voicemail` node (SPEC §2, issue 10): the PBX answers the caller with its own media, plays the box's greeting
 * (uploaded, else configured, else built-in), a beep, and records the caller (engine/voicemail/record-message.ts).
 * A kept message is stored with its `voicemail` event in one commit, mailed if the box has addresses, and the PBX
 * hangs up. Without a media layer the caller gets 480, as before media existed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fillTemplate } from '../../common/index.js';
import { greetingFile, messageDir } from '../../common/index.js';
import type { UserConfig, VoicemailNode } from '../../config/index.js';
import { voicemailTemplateValues } from '../../events/index.js';
import type { VoicemailRecord } from '../../store/index.js';
import type { Call } from '../call/call.js';
import type { VoicemailHost } from '../engine-context.js';
import { Status } from '../../sip/syntax.js';
import { isoUtc } from '../records/time.js';
import { takeMessage } from '../voicemail/record-message.js';
import type { HandlerOutcome, NodeHandler } from './node-handler.js';

export const voicemailHandler: NodeHandler<VoicemailNode> = {
  type: 'voicemail',
  async run(call: Call, node: VoicemailNode, signal: AbortSignal): Promise<HandlerOutcome> {
    const cfg = call.config.config;
    const user = cfg.users.find((u) => u.number === node.user);
    const host = call.ctx.voicemail;
    if (!user) {
      call.log.warn({ node: node.id, user: node.user }, 'voicemail node names no user');
      return 'failed';
    }
    if (!host || !call.ctx.media) {
      call.log.info({ node: node.id, user: node.user }, 'voicemail needs a media layer (media.driver is none): answering 480');
      await call.end('voicemail-unavailable', { status: Status.TemporarilyUnavailable });
      return 'failed';
    }
    const session = await call.answerWithMedia('voicemail');
    if (!session) {
      if (call.isEnding) return 'failed';
      call.log.warn({ node: node.id }, 'voicemail could not answer with media: answering 480');
      await call.end('voicemail-unavailable', { status: Status.TemporarilyUnavailable });
      return 'failed';
    }
    const box = user.voicemail;
    const dir = messageDir(host.dir, user.number);
    await mkdir(dir, { recursive: true });
    const messageId = `vm_${randomBytes(8).toString('hex')}`;
    const taken = await takeMessage({
      session, greeting: greetingOf(host, user), beep: host.beep, path: join(dir, `${messageId}.wav`), signal, clock: call.ctx.clock,
      maxMs: box.max_message_s * 1000, minMs: box.min_message_s * 1000, silenceMs: box.silence_s * 1000,
    });
    if (!taken.kept) {
      call.log.info({ node: node.id, user: user.number, reason: taken.reason, detail: taken.detail }, 'voicemail: no message kept');
    } else {
      const rec = call.recorder.record();
      const row: VoicemailRecord = {
        message_id: messageId, user_number: user.number, unique_call_id: call.uniqueCallId, caller_id: rec.caller_id,
        caller_name: rec.caller_name, dest_number: rec.dest_number, recorded_at: isoUtc(taken.startedAtMs), path: taken.result.path,
        duration_ms: taken.result.durationMs, size_bytes: taken.result.sizeBytes, sha256: taken.result.sha256, heard_at: null,
        mail_status: box.emails.length > 0 && cfg.mail.enabled ? 'pending' : 'none', mail_to: box.emails.join(', '), mail_attempts: 0,
        mail_next_at: box.emails.length > 0 && cfg.mail.enabled ? call.ctx.clock.now() : null, mail_last_error: null, mail_sent_at: null,
      };
      const values = voicemailTemplateValues(row, user);
      call.recorder.voicemailLeft({
        row, user, audioLink: host.link(messageId, cfg), emailSubject: fillTemplate(box.email_subject, values), emailMessage: fillTemplate(box.email_message, values),
      });
      await call.recorder.flushed();
      host.left();
      call.log.info({ user: user.number, message: messageId, duration_ms: row.duration_ms, end: taken.end }, 'voicemail: message left');
    }
    if (!call.isEnding) await call.end(taken.kept ? 'voicemail-left' : 'voicemail-done', { by: 'pbx' });
    return 'answered';
  },
};

/** The greeting to play: the box's upload, else the configured file, else the built-in one. */
function greetingOf(host: VoicemailHost, user: UserConfig): string {
  const uploaded = greetingFile(host.dir, user.number);
  if (existsSync(uploaded)) return uploaded;
  if (user.voicemail.greeting && existsSync(resolve(user.voicemail.greeting))) return resolve(user.voicemail.greeting);
  return host.defaultGreeting;
}
