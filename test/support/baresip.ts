/**
 * Runs baresip (Debian's baresip-core 1.0.0, libre < 3.12) as a real softphone in tests: its own config directory in a
 * temp dir (`-f`), no audio devices (the `ausine` module is the microphone: a sine at a chosen frequency; ALSA's
 * `null` PCM is the speaker; the `sndfile` filter writes what the phone hears to `dump-<peer>-dec.wav`), driven over
 * its `ctrl_tcp` module (netstring JSON commands: `dial`, `hangup`), killed by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './sipp.js';

/** A softphone account and what it plays. */
export interface BaresipOptions {
  username: string;
  password: string;
  domain: string;
  /** The PBX's SIP endpoint (outbound proxy and registrar). */
  pbx: { address: string; port: number };
  transport: 'udp' | 'tcp';
  /** Frequency of the sine the phone sends, Hz. */
  toneHz: number;
  /** Answer incoming calls at once. */
  autoAnswer?: boolean;
}

/** One running baresip. */
export interface Baresip {
  readonly pid: number;
  readonly dir: string;
  readonly sipPort: number;
  /** Everything baresip printed so far (for assertion messages). */
  output(): string;
  /** Sends a ctrl_tcp command and resolves with its JSON response. */
  command(command: string, params?: string): Promise<{ response: boolean; ok: boolean; data: string }>;
  /** Resolves once `text` appears in the output. */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once ctrl_tcp reported an event of `type` (`REGISTER_OK`, `CALL_ESTABLISHED`, `CALL_CLOSED`, ...). */
  waitForEvent(type: string, timeoutMs?: number): Promise<void>;
  /** The WAV files the sndfile filter wrote for audio this phone received. */
  receivedWavs(): string[];
  kill(): void;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();

function configText(o: BaresipOptions, sipPort: number, ctrlPort: number, dumpDir: string): string {
  return [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    'sip_trans_def ' + o.transport,
    // No sound card: ausine is the microphone, ALSA's null PCM the speaker.
    `audio_source ausine,${o.toneHz}`,
    'audio_player alsa,null',
    'audio_alert alsa,null',
    // ausine only runs at 48 kHz stereo; baresip resamples to and from the 8 kHz mono codec.
    'ausrc_srate 48000',
    'auplay_srate 48000',
    'ausrc_channels 2',
    'auplay_channels 1',
    'rtp_ports 20000-40000',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module ausine.so',
    'module alsa.so',
    'module sndfile.so',
    `snd_path ${dumpDir}`,
    'module_app account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    '',
  ].join('\n');
}

/** Starts baresip for one account; resolves once its control port answers. */
export async function startBaresip(o: BaresipOptions): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
  dirs.add(dir);
  const dumpDir = join(dir, 'dump');
  mkdirSync(dumpDir);
  const sipPort = await freePort();
  const ctrlPort = await freePort();
  writeFileSync(join(dir, 'config'), configText(o, sipPort, ctrlPort, dumpDir));
  const params = [
    `auth_pass=${o.password}`,
    `outbound="sip:${o.pbx.address}:${o.pbx.port};transport=${o.transport}"`,
    'regint=600',
    'audio_codecs=PCMU',
    ...(o.autoAnswer ? ['answermode=auto'] : []),
  ];
  writeFileSync(join(dir, 'accounts'), `<sip:${o.username}@${o.domain};transport=${o.transport}>;${params.join(';')}\n`);
  writeFileSync(join(dir, 'contacts'), '');
  const child = spawn('baresip', ['-f', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out = (out + d.toString()).slice(-100_000);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  const waitForOutput = (text: string | RegExp, timeoutMs = 10_000): Promise<void> => new Promise((resolve, reject) => {
    const seen = (): boolean => (typeof text === 'string' ? out.includes(text) : text.test(out));
    if (seen()) return resolve();
    const check = (): void => {
      if (!seen()) return;
      clearTimeout(timer);
      listeners.delete(check);
      resolve();
    };
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(`baresip ${o.username}: no ${String(text)} within ${timeoutMs} ms; output:\n${out.slice(-3000)}`));
    }, timeoutMs);
    listeners.add(check);
    child.once('exit', () => { if (!seen()) { clearTimeout(timer); listeners.delete(check); reject(new Error(`baresip ${o.username} exited (${child.exitCode}); output:\n${out.slice(-3000)}`)); } });
  });

  const ctrl = await connectRetry(ctrlPort, 10_000);
  let buf = '';
  const pending: Array<(v: { response: boolean; ok: boolean; data: string }) => void> = [];
  const events: string[] = [];
  ctrl.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    // Netstrings: "<len>:<json>,"; responses and events interleave, only responses settle commands.
    for (;;) {
      const colon = buf.indexOf(':');
      if (colon === -1) break;
      const len = Number(buf.slice(0, colon));
      if (buf.length < colon + 1 + len + 1) break;
      const json = buf.slice(colon + 1, colon + 1 + len);
      buf = buf.slice(colon + 1 + len + 1);
      const msg = JSON.parse(json) as { response?: boolean; event?: boolean; type?: string; ok?: boolean; data?: string };
      if (msg.response) pending.shift()?.({ response: true, ok: msg.ok === true, data: msg.data ?? '' });
      if (msg.event && msg.type) {
        events.push(msg.type);
        out += `\n[ctrl event ${msg.type}]\n`;
        for (const l of listeners) l();
      }
    }
  });
  ctrl.on('error', () => undefined);

  return {
    pid: child.pid!,
    dir,
    sipPort,
    output: () => out,
    waitForOutput,
    waitForEvent: (type: string, timeoutMs?: number) => waitForOutput(`[ctrl event ${type}]`, timeoutMs),
    command(command: string, p?: string) {
      const json = JSON.stringify({ command, ...(p !== undefined ? { params: p } : {}), token: String(Date.now()) });
      return new Promise((resolve) => {
        pending.push(resolve);
        ctrl.write(`${Buffer.byteLength(json)}:${json},`);
      });
    },
    receivedWavs: () => readdirSync(dumpDir).filter((f) => f.endsWith('-dec.wav')).map((f) => join(dumpDir, f)),
    kill() {
      ctrl.destroy();
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

async function connectRetry(port: number, timeoutMs: number): Promise<Socket> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Kills every baresip this process started and removes their directories (call from afterAll). */
export function killAllBaresip(): void {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
  running.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

/** The 16-bit mono PCM samples and rate of a WAV file (RIFF chunks walked, `data` found wherever it is). */
export function readWavPcm16(file: string): { rate: number; samples: Int16Array } {
  const b = readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file} is not a WAV file`);
  let pos = 12;
  let rate = 0;
  let bits = 0;
  let channels = 0;
  while (pos + 8 <= b.length) {
    const id = b.toString('ascii', pos, pos + 4);
    let size = b.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      channels = b.readUInt16LE(body + 2);
      rate = b.readUInt32LE(body + 4);
      bits = b.readUInt16LE(body + 14);
    } else if (id === 'data') {
      // A file still being written (or killed) may say 0 or too much: take what is there.
      if (size === 0 || body + size > b.length) size = b.length - body;
      if (bits !== 16 || channels !== 1) throw new Error(`${file}: ${bits}-bit ${channels}-channel, expected 16-bit mono`);
      const samples = new Int16Array(Math.floor(size / 2));
      for (let i = 0; i < samples.length; i++) samples[i] = b.readInt16LE(body + 2 * i);
      return { rate, samples };
    }
    pos = body + size + (size & 1);
  }
  throw new Error(`${file} has no data chunk`);
}

/** Goertzel power of `hz` in `samples` relative to the signal's total power (1 = a pure tone at hz). */
export function toneShare(samples: Int16Array, rate: number, hz: number): number {
  const w = (2 * Math.PI * hz) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const x of samples) {
    const s = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
    energy += x * x;
  }
  if (energy === 0) return 0;
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // A pure tone of N samples gives power ≈ N²A²/4 and energy ≈ NA²/2: their ratio is N/2.
  return power / energy / (samples.length / 2);
}
