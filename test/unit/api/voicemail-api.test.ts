/**
 * The mailbox API over real HTTP (the app listening on 127.0.0.1): list, fetch, play, mark heard, delete messages;
 * greeting upload converted to mono 8 kHz, validated with clear 400s; mail failures listed; the integration key
 * opens none of it; an upload is audited by size, not by content.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import type { VoicemailRecord } from '../../../src/store/index.js';
import { adminAuth, auth, makeHarness, type Harness } from './harness.js';

const { WaveFile } = wavefile;
let h: Harness;
let dir: string;
let base: string;

function toneWav(rate: number, channels: number, seconds: number): Buffer {
  const n = Math.round(rate * seconds);
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(9000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  const w = new WaveFile();
  w.fromScratch(channels, rate, '16', channels === 2 ? [s, s] : s);
  return Buffer.from(w.toBuffer());
}

function message(id: string, over: Partial<VoicemailRecord> = {}): VoicemailRecord {
  const path = join(dir, `${id}.wav`);
  writeFileSync(path, toneWav(8000, 1, 1));
  return {
    message_id: id, user_number: '1001', unique_call_id: `1700000000000000${id.slice(-1)}`, caller_id: '+61400000001', caller_name: 'Carol',
    dest_number: '+61390000000', recorded_at: `2026-12-02T0${id.slice(-1)}:00:00.000Z`, path, duration_ms: 1000, size_bytes: 16044, sha256: 'ab',
    heard_at: null, mail_status: 'none', mail_to: '', mail_attempts: 0, mail_next_at: null, mail_last_error: null, mail_sent_at: null, ...over,
  };
}

async function req(method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; json: any; bytes: Buffer; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { method, headers: { ...adminAuth, ...opts.headers }, ...(opts.body !== undefined ? { body: opts.body as unknown as BodyInit } : {}) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString()) : null;
  return { status: res.status, json, bytes, headers: res.headers };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-vm-api-'));
  h = await makeHarness(undefined, { voicemailDir: join(dir, 'voicemail'), voicemailLink: (id) => `http://pbx.test/api/voicemail/${id}.wav?sig=x` });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/api/admin`;
  await h.store.commit({
    voicemails: [message('vm_1'), message('vm_2'), message('vm_3', { user_number: '1002' }),
      message('vm_4', { mail_status: 'failed', mail_to: 'alice@example.com', mail_attempts: 6, mail_last_error: '550 no such mailbox' })],
  });
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('mailbox API', () => {
  it('lists a box newest first with links and mail state, and 404s an unknown box', async () => {
    const r = await req('GET', '/users/1001/voicemail/messages');
    expect(r.status).toBe(200);
    expect(r.json.data.map((m: any) => m.message_id)).toEqual(['vm_4', 'vm_2', 'vm_1']);
    expect(r.json.data[0]).toMatchObject({ heard: false, mail: { status: 'failed', attempts: 6, last_error: '550 no such mailbox' }, link: 'http://pbx.test/api/voicemail/vm_4.wav?sig=x' });
    expect(r.json.data[0].path).toBeUndefined();
    expect((await req('GET', '/users/9999/voicemail/messages')).status).toBe(404);
    expect((await req('GET', '/users/1001/voicemail/messages?limit=0')).json.message).toMatch(/limit/);
  });

  it('fetches one message and its audio, but not through another box', async () => {
    const one = await req('GET', '/users/1001/voicemail/messages/vm_1');
    expect(one.json.data).toMatchObject({ message_id: 'vm_1', caller_id: '+61400000001', duration_ms: 1000 });
    const audio = await req('GET', '/users/1001/voicemail/messages/vm_1/audio');
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    expect(Buffer.compare(audio.bytes, readFileSync(join(dir, 'vm_1.wav')))).toBe(0);
    expect((await req('GET', '/users/1001/voicemail/messages/vm_3')).status).toBe(404);
    expect((await req('GET', '/users/1001/voicemail/messages/../../x')).status).toBe(404);
  });

  it('marks heard and new again, filters unheard, deletes file and row', async () => {
    const p = await req('PATCH', '/users/1001/voicemail/messages/vm_2', { headers: { 'content-type': 'application/json' }, body: '{"heard":true}' });
    expect(p.json.data).toMatchObject({ heard: true, heard_at: '2026-11-28T00:00:00.000Z' });
    expect((await req('GET', '/users/1001/voicemail/messages?unheard=true')).json.data.map((m: any) => m.message_id)).toEqual(['vm_4', 'vm_1']);
    expect((await req('PATCH', '/users/1001/voicemail/messages/vm_2', { headers: { 'content-type': 'application/json' }, body: '{"heard":"yes"}' })).status).toBe(400);
    const d = await req('DELETE', '/users/1001/voicemail/messages/vm_2');
    expect(d.status).toBe(200);
    expect(existsSync(join(dir, 'vm_2.wav'))).toBe(false);
    expect((await req('GET', '/users/1001/voicemail/messages/vm_2')).status).toBe(404);
    expect((await req('DELETE', '/users/1001/voicemail/messages/vm_2')).status).toBe(404);
  });

  it('uploads a greeting, converting it to mono 8 kHz, plays it back and removes it', async () => {
    expect((await req('GET', '/users/1001/voicemail/greeting')).status).toBe(404);
    const up = await req('PUT', '/users/1001/voicemail/greeting', { headers: { 'content-type': 'audio/wav' }, body: toneWav(44100, 2, 3) });
    expect(up.status).toBe(200);
    expect(up.json.data).toMatchObject({ duration_ms: 3000, source: '44100 Hz 2 ch 16-bit PCM' });
    const got = await req('GET', '/users/1001/voicemail/greeting');
    const w = new WaveFile(got.bytes);
    expect([(w.fmt as any).sampleRate, (w.fmt as any).numChannels, w.bitDepth]).toEqual([8000, 1, '16']);
    const audit = await h.store.listAudit({ offset: 0, limit: 5 });
    const entry = audit.find((a) => a.path.endsWith('/voicemail/greeting') && a.method === 'PUT')!;
    expect(entry.changes).toEqual({ body_bytes: toneWav(44100, 2, 3).length });
    expect((await req('DELETE', '/users/1001/voicemail/greeting')).status).toBe(200);
    expect((await req('GET', '/users/1001/voicemail/greeting')).status).toBe(404);
  });

  it('refuses bad greetings with a 400 that says why', async () => {
    const put = (body: Buffer | string, type = 'audio/wav') => req('PUT', '/users/1001/voicemail/greeting', { headers: { 'content-type': type }, body });
    expect((await put(Buffer.from('ID3\x03 not a wav at all'))).json.message).toBe('Invalid greeting: not a WAV file (no RIFF/WAVE header)');
    expect((await put(toneWav(8000, 1, 0.1))).json.message).toMatch(/at least 0.5 s/);
    expect((await put(toneWav(8000, 1, 121))).json.message).toMatch(/at most 120 s/);
    const big = await put(Buffer.alloc(11 * 1024 * 1024));
    expect(big.status).toBe(413);
    expect((await put('{"a":1}', 'application/json')).status).toBe(400);
    expect((await put(toneWav(8000, 1, 1).toString('latin1'), 'text/plain')).json.message).toMatch(/Content-Type: audio\/wav/);
    expect((await put(toneWav(8000, 1, 1), 'image/png')).status).toBe(415);
    expect((await req('PUT', '/users/9999/voicemail/greeting', { headers: { 'content-type': 'audio/wav' }, body: toneWav(8000, 1, 1) })).status).toBe(404);
  });

  it('lists given-up mail', async () => {
    const r = await req('GET', '/voicemail/mail-failures');
    expect(r.json.data.map((m: any) => [m.message_id, m.mail.last_error])).toEqual([['vm_4', '550 no such mailbox']]);
  });

  it('the integration key opens none of it', async () => {
    const r = await fetch(`${base}/users/1001/voicemail/messages`, { headers: auth });
    expect(r.status).toBe(401);
  });
});
