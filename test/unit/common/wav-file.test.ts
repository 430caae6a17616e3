/** Uploaded prompt WAVs: every common encoding becomes mono 8 kHz 16-bit; bad uploads are refused with a reason. */
import { describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { normalizePromptWav, WavFileError } from '../../../src/common/wav-file.js';
import { dominantFrequency } from '../../support/rtp-peer.js';

const { WaveFile } = wavefile;

function tone(rate: number, seconds: number, hz: number, amp = 12000): Int16Array {
  const n = Math.round(rate * seconds);
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return s;
}

function wav(channels: number, rate: number, depth: string, samples: ArrayLike<number> | ArrayLike<number>[]): Buffer {
  const w = new WaveFile();
  w.fromScratch(channels, rate, depth, samples as never);
  return Buffer.from(w.toBuffer());
}

function read(buf: Buffer): { rate: number; channels: number; depth: string; samples: Int16Array } {
  const w = new WaveFile(buf);
  const fmt = w.fmt as { sampleRate: number; numChannels: number };
  return { rate: fmt.sampleRate, channels: fmt.numChannels, depth: w.bitDepth, samples: w.getSamples(false, Int16Array) as unknown as Int16Array };
}

describe('normalizePromptWav', () => {
  it('keeps an 8 kHz mono 16-bit file as it is', () => {
    const out = normalizePromptWav(wav(1, 8000, '16', tone(8000, 1, 440)));
    expect(out.durationMs).toBe(1000);
    expect(read(out.wav)).toMatchObject({ rate: 8000, channels: 1, depth: '16' });
  });

  it('resamples 44.1 kHz stereo to 8 kHz mono, keeping the pitch', () => {
    const l = tone(44100, 2, 600);
    const out = normalizePromptWav(wav(2, 44100, '16', [l, l]));
    const r = read(out.wav);
    expect(r).toMatchObject({ rate: 8000, channels: 1, depth: '16' });
    expect(Math.abs(out.durationMs - 2000)).toBeLessThanOrEqual(1);
    expect(dominantFrequency(r.samples, [300, 600, 1200]).freqHz).toBe(600);
    expect(out.source).toBe('44100 Hz 2 ch 16-bit PCM');
  });

  it('decodes A-law and µ-law and converts 24-bit and float PCM', () => {
    const base = new WaveFile();
    base.fromScratch(1, 8000, '16', tone(8000, 0.5, 1000));
    for (const to of ['alaw', 'mulaw'] as const) {
      const w = new WaveFile(base.toBuffer());
      if (to === 'alaw') w.toALaw(); else w.toMuLaw();
      const out = normalizePromptWav(Buffer.from(w.toBuffer()));
      expect(dominantFrequency(read(out.wav).samples, [500, 1000, 2000]).freqHz).toBe(1000);
    }
    const w24 = new WaveFile(base.toBuffer());
    w24.toBitDepth('24');
    expect(read(normalizePromptWav(Buffer.from(w24.toBuffer())).wav).depth).toBe('16');
    const wf = new WaveFile(base.toBuffer());
    wf.toBitDepth('32f');
    expect(normalizePromptWav(Buffer.from(wf.toBuffer())).durationMs).toBe(500);
  });

  it('refuses what is not a usable WAV, naming the problem', () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.alloc(0), /empty/],
      [Buffer.from('ID3 this is an mp3, honest'), /not a WAV/],
      [Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE'), Buffer.from('garbage chunk')]), /unreadable WAV|cannot convert/],
      [wav(1, 8000, '16', tone(8000, 0.05, 440)), /at least 0.2 s/],
      [wav(1, 8000, '16', tone(8000, 3, 440)), /at most 2 s/],
    ];
    for (const [buf, msg] of cases) {
      expect(() => normalizePromptWav(buf, { maxSeconds: 2 })).toThrow(WavFileError);
      expect(() => normalizePromptWav(buf, { maxSeconds: 2 })).toThrow(msg);
    }
    expect(() => normalizePromptWav(Buffer.alloc(2048, 1), { maxBytes: 1024 })).toThrow(/2048 bytes; at most 1024/);
  });
});
