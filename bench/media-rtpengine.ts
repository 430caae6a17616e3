/**
 * Concurrent recorded calls through rtpengine (userspace, rtpengine-daemon 10.5) driven by RtpengineMediaLayer.
 * Each call: a session anchored with offer/answer, two G.711 tone senders of our own (20 ms packets, paced on one
 * loop), recording on. Prints rtpengine's CPU and ours per stream, receiver jitter (|transit delta|, RFC 3550 §6.4.1)
 * p50/p99, the one-way transit time through rtpengine (send → receive on our clock), packet loss, and the CPU our pcap → WAV conversion costs per call-second.
 *
 *   npx tsx bench/media-rtpengine.ts [--calls=200] [--seconds=10]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../src/common/log.js';
import { createNgClient, createRtpengineMediaLayer } from '../src/media/rtpengine/index.js';
import type { MediaSession, Recording } from '../src/media/index.js';
import { startRtpengine } from '../test/support/rtpengine.js';
import { audioSdp, bindUdp, paceStreams, percentile, RtpReceiver, sdpAudioPort, ToneStream } from '../test/support/rtp-peer.js';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const calls = arg('calls', 200);
const seconds = arg('seconds', 10);

/** utime + stime of a process, in ms (from /proc; clock ticks are 100 Hz on Linux). */
function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const daemon = await startRtpengine({ ports: Math.max(200, calls * 4 + 100) });
const ng = await createNgClient({ address: daemon.ng, timeoutMs: 5000 });
const media = await createRtpengineMediaLayer({ ng, recordingDir: daemon.recordingDir, log: createLogger({ level: 'warn' }) });
try {
  const sessions: MediaSession[] = [];
  const recordings: Recording[] = [];
  const streams: ToneStream[] = [];
  const receivers: RtpReceiver[] = [];
  const sockets: Awaited<ReturnType<typeof bindUdp>>[] = [];
  for (let i = 0; i < calls; i++) {
    const a = await bindUdp();
    const b = await bindUdp();
    sockets.push(a, b);
    const s = await media.createSession({ uniqueCallId: `bench-${i}` });
    const toCallee = await s.offer('caller', audioSdp(a.address().port));
    const toCaller = await s.answer('callee', audioSdp(b.address().port));
    recordings.push(await s.startRecording({ path: join(daemon.recordingDir, `bench-${i}.wav`), channels: 'both' }));
    sessions.push(s);
    const fromCaller = new ToneStream(a, { host: '127.0.0.1', port: sdpAudioPort(toCaller) }, { freqHz: 400 });
    const fromCallee = new ToneStream(b, { host: '127.0.0.1', port: sdpAudioPort(toCallee) }, { freqHz: 1000 });
    streams.push(fromCaller, fromCallee);
    const atA = new RtpReceiver(a);
    const atB = new RtpReceiver(b);
    atA.from = fromCallee;
    atB.from = fromCaller;
    receivers.push(atA, atB);
  }
  const rtpe0 = procCpuMs(daemon.pid);
  const us0 = process.cpuUsage();
  const t0 = performance.now();
  await paceStreams(streams, seconds * 1000);
  await new Promise((r) => setTimeout(r, 200));
  const wallMs = performance.now() - t0;
  const rtpeMs = procCpuMs(daemon.pid) - rtpe0;
  const u = process.cpuUsage(us0);
  const oursMs = (u.user + u.system) / 1000;

  const conv0 = process.cpuUsage();
  const c0 = performance.now();
  // Stop every recording at once (each ends where stop() is called), then wait for their conversions.
  const results = await Promise.all(recordings.map((r) => r.stop()));
  const convWallMs = performance.now() - c0;
  const cu = process.cpuUsage(conv0);
  for (const s of sessions) await s.close();
  for (const s of sockets) s.close();

  const deltas = receivers.flatMap((r) => r.transitDeltasMs);
  const sent = streams.reduce((n, s) => n + s.sent, 0);
  const got = receivers.reduce((n, r) => n + r.packets, 0);
  const nStreams = streams.length;
  const fmt = (x: number) => x.toFixed(2);
  console.log(`calls ${calls}, streams ${nStreams}, ${seconds} s, wall ${fmt(wallMs / 1000)} s`);
  console.log(`rtpengine CPU: ${fmt((rtpeMs / wallMs) * 100)} % of one core (${fmt((rtpeMs / wallMs / nStreams) * 100 * 1000)} m% per stream)`);
  console.log(`our senders+receivers CPU: ${fmt((oursMs / wallMs) * 100)} % of one core (${fmt((oursMs / wallMs / nStreams) * 100 * 1000)} m% per stream)`);
  const transit = receivers.flatMap((r) => r.transitMs);
  console.log(`receiver jitter |D| (RFC 3550, includes our sender's pacing): p50 ${fmt(percentile(deltas, 50))} ms, p99 ${fmt(percentile(deltas, 99))} ms (${deltas.length} samples)`);
  console.log(`one-way transit sender → rtpengine → receiver: p50 ${fmt(percentile(transit, 50))} ms, p99 ${fmt(percentile(transit, 99))} ms`);
  console.log(`loss: sent ${sent}, received ${got}, lost ${sent - got} (${fmt(((sent - got) / sent) * 100)} %)`);
  const audioS = results.reduce((n, r) => n + r.durationMs, 0) / 1000;
  console.log(`pcap → WAV: ${results.length} files, ${fmt(audioS)} s of audio in ${fmt(convWallMs / 1000)} s wall, ${fmt((cu.user + cu.system) / 1000 / audioS)} ms CPU per call-second; problems: ${results.filter((r) => r.problems.length).length}`);
} finally {
  await media.close();
  await ng.close();
  await daemon.stop();
}
