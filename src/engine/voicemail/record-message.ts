/**
 * Taking one voicemail message on an answered caller's media session (issue 10, SPEC §2): the greeting (`#` skips
 * it), a beep, then the caller is recorded (mono) until the first of: hang-up, `#`, `silenceMs` of silence, or
 * `maxMs`. A message whose spoken part is shorter than `minMs` is discarded with its file (a caller who hung up at
 * the beep, or said nothing until the silence cut it); a caller who hangs up before the beep leaves nothing.
 */
import { rm } from 'node:fs/promises';
import type { Clock } from '../../common/index.js';
import type { DtmfEvent, MediaSession, RecordingResult } from '../../media/index.js';

/** Why recording stopped. */
export type MessageEnd = 'hangup' | 'dtmf' | 'silence' | 'max';

export interface TakeMessageOptions {
  session: MediaSession;
  /** WAV files: the box's greeting and the beep. */
  greeting: string;
  beep: string;
  /** Where the message is written. */
  path: string;
  maxMs: number;
  minMs: number;
  silenceMs: number;
  /** Aborts when the caller hangs up (or the call ends otherwise). */
  signal: AbortSignal;
  clock: Clock;
}

/** A message kept, or why none was. */
export type TakeMessageResult =
  | { kept: true; result: RecordingResult; end: MessageEnd; startedAtMs: number }
  | { kept: false; reason: 'hangup-before-beep' | 'too-short' | 'failed'; end?: MessageEnd; detail?: string };

export async function takeMessage(o: TakeMessageOptions): Promise<TakeMessageResult> {
  const { session, signal } = o;
  if (signal.aborted) return { kept: false, reason: 'hangup-before-beep' };
  // Greeting: `#` skips to the beep (as in Asterisk's VoiceMail).
  const greeting = session.play('caller', { file: o.greeting });
  const skip = (d: DtmfEvent): void => { if (d.digit === '#') void greeting.stop(); };
  session.on('dtmf', skip);
  const stopOnAbort = (): void => { void greeting.stop(); };
  signal.addEventListener('abort', stopOnAbort, { once: true });
  await greeting.done;
  session.off('dtmf', skip);
  signal.removeEventListener('abort', stopOnAbort);
  if (signal.aborted) return { kept: false, reason: 'hangup-before-beep' };

  const beep = session.play('caller', { file: o.beep });
  signal.addEventListener('abort', () => { void beep.stop(); }, { once: true });
  await beep.done;
  if (signal.aborted) return { kept: false, reason: 'hangup-before-beep' };

  const startedAtMs = o.clock.now();
  let recording;
  try {
    recording = await session.startRecording({ path: o.path, channels: 'caller', silenceMs: o.silenceMs });
  } catch (err) {
    return { kept: false, reason: 'failed', detail: err instanceof Error ? err.message : String(err) };
  }
  let silentMs = 0;
  const end = await new Promise<MessageEnd>((resolve) => {
    const timer = o.clock.setTimeout(() => finish('max'), o.maxMs);
    const onDtmf = (d: DtmfEvent): void => { if (d.digit === '#') finish('dtmf'); };
    const onSilence = (e: { silentMs: number }): void => { silentMs = e.silentMs; finish('silence'); };
    const onAbort = (): void => finish('hangup');
    function finish(why: MessageEnd): void {
      o.clock.clearTimeout(timer);
      session.off('dtmf', onDtmf);
      session.off('silence', onSilence);
      signal.removeEventListener('abort', onAbort);
      resolve(why);
    }
    session.on('dtmf', onDtmf);
    session.on('silence', onSilence);
    if (signal.aborted) finish('hangup');
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const result = await recording.stop();
  // What was said: a message cut by silence ends with that silence.
  const spokenMs = result.durationMs - (end === 'silence' ? silentMs : 0);
  if (spokenMs < o.minMs || result.sizeBytes === 0) {
    await rm(result.path, { force: true });
    return { kept: false, reason: 'too-short', end };
  }
  return { kept: true, result, end, startedAtMs };
}
