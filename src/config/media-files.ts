/**
 * Audio files the configuration names (`play` nodes' `file`, queues' `hold_music`, voicemail `greeting`): where they are, and whether
 * the media layer can play them. Checked at startup and at apply ({@link checkMediaFiles}), so a missing or
 * unplayable file is a configuration error naming its key, not a silent gap in a call. Relative paths are resolved
 * against the working directory, as the voicemail greeting's are. Kept out of `validateConfig` on purpose: that
 * one is pure (no file system), and runs on configurations stored long ago.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigIssue } from './errors.js';
import type { PbxConfig } from './types.js';

/** `hold_music: default` plays the built-in file. */
const BUILT_IN = 'default';

/** The absolute path a configured audio file is read from. */
export function mediaFilePath(file: string): string {
  return resolve(file);
}

/** Why `path` is not a WAV the media layer plays (mono 8 kHz, 16-bit PCM or G.711), or null when it is. */
export function wavProblem(path: string): string | null {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (err) { return `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`; }
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return `${path} is not a WAV file`;
    for (let off = 12; off + 8 <= n;) {
      const id = head.toString('latin1', off, off + 4);
      const size = head.readUInt32LE(off + 4);
      if (id === 'fmt ' && off + 24 <= n) {
        const format = head.readUInt16LE(off + 8), channels = head.readUInt16LE(off + 10), rate = head.readUInt32LE(off + 12), bits = head.readUInt16LE(off + 22);
        const pcm = format === 1 && bits === 16;
        const g711 = (format === 6 || format === 7) && bits === 8;
        if (channels !== 1 || rate !== 8000 || !(pcm || g711)) {
          return `${path} is format ${format}, ${channels} channel(s), ${rate} Hz, ${bits} bit; expected mono 8000 Hz, 16-bit PCM or G.711 (sox in.wav -r 8000 -c 1 -b 16 out.wav)`;
        }
        return null;
      }
      off += 8 + size + (size % 2);
    }
    return `${path} has no fmt chunk in its first ${head.length} bytes`;
  } finally {
    closeSync(fd);
  }
}

/** One issue per configured audio file that cannot be played; `source` names the file or `staged` in the issues. */
export function checkMediaFiles(c: PbxConfig, source: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (path: string, file: string): void => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
      issues.push({ file: source, path, message: `'${file}' is a URL; give a WAV file on this host (the media layer reads files, not URLs)` });
      return;
    }
    const problem = wavProblem(mediaFilePath(file));
    if (problem) issues.push({ file: source, path, message: problem });
  };
  c.flows.forEach((f, i) => f.nodes.forEach((n, j) => { if (n.type === 'play') check(`flows[${i}].nodes[${j}].file`, n.file); }));
  c.queues.forEach((q, i) => { if (q.hold_music !== null && q.hold_music !== BUILT_IN) check(`queues[${i}].hold_music`, q.hold_music); });
  // A configured greeting that cannot be played would silently fall back to the built-in one at call time.
  c.users.forEach((u, i) => { if (u.voicemail.greeting !== null) check(`users[${i}].voicemail.greeting`, u.voicemail.greeting); });
  return issues;
}
