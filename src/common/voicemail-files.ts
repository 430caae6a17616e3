/** Where voicemail files live under the voicemail directory (shared by the engine, which writes, and the API). */
import { join } from 'node:path';

/** A user's uploaded greeting (played before the configured or built-in one). */
export function greetingFile(voicemailDir: string, userNumber: string): string {
  return join(voicemailDir, 'greetings', `${userNumber}.wav`);
}

/** The folder of a box's messages. */
export function messageDir(voicemailDir: string, userNumber: string): string {
  return join(voicemailDir, 'messages', userNumber);
}
