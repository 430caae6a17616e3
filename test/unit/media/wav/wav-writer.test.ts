import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { WAV_HEADER_BYTES, WavFileWriter, wavHeader } from '../../../../src/media/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WavFileWriter', () => {
  it('writes the canonical 44-byte PCM header (stereo, 8 kHz, 16-bit)', () => {
    const h = wavHeader({ channels: 2, sampleRate: 8000 }, 32000);
    expect(h.toString('hex')).toBe(
      '52494646' + '247d0000' + '57415645' + '666d7420' + '10000000' + '0100' + '0200' + '401f0000' + '007d0000' + '0400' + '1000' + '64617461' + '007d0000',
    );
  });

  it('streams interleaved frames and patches the sizes at close; the file parses with wavefile', async () => {
    const path = join(dir, 'stereo.wav');
    const w = await WavFileWriter.open(path, { channels: 2, sampleRate: 8000 });
    // 1.5 s in 20 ms blocks, more than the flush threshold so several writes are in flight.
    for (let b = 0; b < 75; b++) {
      const block = new Int16Array(320);
      for (let i = 0; i < 160; i++) { block[2 * i] = 1000 + b; block[2 * i + 1] = -1000 - b; }
      w.write(block);
    }
    const res = await w.close();
    expect(res).toMatchObject({ frames: 12000, durationMs: 1500, sizeBytes: WAV_HEADER_BYTES + 48000, problems: [] });
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(res.sizeBytes);
    expect(res.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const wav = new wavefile.WaveFile(bytes);
    expect(wav.fmt).toMatchObject({ numChannels: 2, sampleRate: 8000, bitsPerSample: 16 });
    const [left, right] = wav.getSamples(false, Int16Array) as unknown as Int16Array[];
    expect(left!.length).toBe(12000);
    expect(left![0]).toBe(1000);
    expect(right![11999]).toBe(-1074);
  });

  it('close is idempotent and later writes are ignored', async () => {
    const w = await WavFileWriter.open(join(dir, 'idem.wav'), { channels: 1, sampleRate: 8000 });
    w.write(new Int16Array(80));
    const a = w.close();
    w.write(new Int16Array(80));
    expect(await w.close()).toEqual(await a);
    expect((await a).frames).toBe(80);
  });

  it('rejects a partial frame and a bad format with TypeError', async () => {
    await expect(WavFileWriter.open(join(dir, 'x.wav'), { channels: 3 as 2, sampleRate: 8000 })).rejects.toThrow(TypeError);
    const w = await WavFileWriter.open(join(dir, 'odd.wav'), { channels: 2, sampleRate: 8000 });
    expect(() => w.write(new Int16Array(3))).toThrow(/whole number of 2-channel frames/);
    await w.close();
  });

  it('a full disk stops writing, closes without throwing and reports disk-full', async () => {
    // /dev/full accepts the open and fails every write with ENOSPC.
    const w = await WavFileWriter.open('/dev/full', { channels: 2, sampleRate: 8000 });
    for (let i = 0; i < 300; i++) w.write(new Int16Array(320));
    const res = await w.close();
    expect(res.problems).toEqual(['disk-full']);
    expect(res.frames).toBe(0);
  });
});
