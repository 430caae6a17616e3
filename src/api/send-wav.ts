/**
 * The one way the API streams a WAV file (recordings, voicemail messages, greetings): stat first so a file that is
 * gone is a 404 naming what is missing (not a stream error after the headers went out), then the length and an
 * attachment name.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';
import { ApiError } from './errors.js';

/** Streams the WAV at `path` as `filename`; a missing file throws `ApiError(404, missing)`. */
export async function sendWav(reply: FastifyReply, path: string, filename: string, missing = 'The audio file is gone'): Promise<FastifyReply> {
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) throw new ApiError(404, missing);
  return reply.header('Content-Type', 'audio/wav').header('Content-Length', String(st.size))
    .header('Content-Disposition', `attachment; filename="${filename}"`).send(createReadStream(path));
}
