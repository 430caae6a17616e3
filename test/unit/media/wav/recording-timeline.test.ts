import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { RecordingTimeline, WavFileWriter } from '../../../../src/media/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-timeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function channels(path: string): Int16Array[] {
  const wav = new wavefile.WaveFile(readFileSync(path));
  const s = wav.getSamples(false, Int16Array) as unknown as Int16Array | Int16Array[];
  return Array.isArray(s) ? s : [s];
}

const block = (v: number, n = 160) => new Int16Array(n).fill(v);

describe('RecordingTimeline', () => {
  it('keeps both directions in step whatever order they arrive in, silence where nothing came', async () => {
    const path = join(dir, 'order.wav');
    const t = new RecordingTimeline(await WavFileWriter.open(path, { channels: 2, sampleRate: 8000 }), { windowFrames: 800 });
    t.put(1, 160, block(2)); // callee's second packet first
    t.put(0, 0, block(1));
    t.put(1, 0, block(3));
    t.put(0, 320, block(4)); // caller lost the packet at 160
    const res = await t.close(640);
    expect(res.frames).toBe(640);
    const [l, r] = channels(path);
    expect([l![0], l![159], l![160], l![320], l![480]]).toEqual([1, 1, 0, 4, 0]);
    expect([r![0], r![160], r![319], r![320]]).toEqual([3, 2, 2, 0]);
  });

  it('drops audio for frames already written and counts it', async () => {
    const t = new RecordingTimeline(await WavFileWriter.open(join(dir, 'late.wav'), { channels: 1, sampleRate: 8000 }), { windowFrames: 400 });
    t.put(0, 0, block(1));
    t.flushTo(320);
    t.put(0, 240, block(5)); // 80 samples too late, 80 in time
    expect(t.droppedSamples).toBe(80);
    const res = await t.close();
    expect(res.frames).toBe(400);
  });

  it('pushes the window forward when audio runs ahead of it (a long hold is written as silence)', async () => {
    const path = join(dir, 'gap.wav');
    const t = new RecordingTimeline(await WavFileWriter.open(path, { channels: 2, sampleRate: 8000 }), { windowFrames: 320 });
    t.put(0, 0, block(7));
    t.put(0, 8000, block(9)); // 1 s later
    expect(t.flushedFrames).toBe(8160 - 320);
    const res = await t.close();
    expect(res.durationMs).toBe(1020);
    const [l] = channels(path);
    expect([l![0], l![4000], l![8000]]).toEqual([7, 0, 9]);
  });

  it('rejects a channel the file does not have', async () => {
    const t = new RecordingTimeline(await WavFileWriter.open(join(dir, 'ch.wav'), { channels: 1, sampleRate: 8000 }));
    expect(() => t.put(1, 0, block(1))).toThrow(TypeError);
    await t.close();
  });
});
