/**
 * Concurrent recorded calls through the embedded media layer (src/media/embedded), or with `--backend=rtpengine`
 * the same calls through RtpengineMediaLayer and a userspace rtpengine-daemon (test/support/rtpengine.ts).
 *
 * The layer runs in this process and nothing else does: the RTP peers (two G.711 tone senders per call, 400 Hz and
 * 1 kHz, 20 ms packets paced on one loop, and the receivers) run in a child process, so `process.cpuUsage()` here is
 * the layer's cost alone. Each call: a session anchored with offer/answer, a stereo recording running.
 *
 * Prints: CPU of the media layer (% of one core, per stream), the senders' pacing lateness p50/p99 (how late each
 * 20 ms tick left the sender), the receivers' interarrival jitter |D| p50/p99 (RFC 3550 §6.4.1, sender pacing and
 * relay together), one-way transit sender → layer → receiver p50/p99, packet loss, and the recordings' durations.
 *
 *   npx tsx bench/media.ts [--calls=200] [--seconds=10] [--backend=embedded|rtpengine] [--port-min=20000]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../src/common/log.js';
import type { MediaLayer, Recording } from '../src/media/index.js';
import { bindUdp, percentile, RtpReceiver, sdpAudioPort, audioSdp, ToneStream } from '../test/support/rtp-peer.js';

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def;
const calls = Number(arg('calls', '200'));
const seconds = Number(arg('seconds', '10'));
const backend = arg('backend', 'embedded');

type ToPeers = { kind: 'targets'; targets: Array<[number, number]> };
type FromPeers =
  | { kind: 'ports'; ports: Array<[number, number]> }
  | { kind: 'started' }
  | { kind: 'done'; sent: number; received: number; lost: number; latenessMs: number[]; deltasMs: number[]; transitMs: number[] };

/** Child: binds the peers, waits for where to send, paces every stream for `seconds`, reports the measurements. */
async function peers(): Promise<void> {
  const send = (m: FromPeers) => process.send!(m);
  const pairs = await Promise.all(Array.from({ length: calls }, async () => [await bindUdp(), await bindUdp()] as const));
  send({ kind: 'ports', ports: pairs.map(([a, b]) => [a.address().port, b.address().port]) });
  const msg = await new Promise<ToPeers>((r) => process.once('message', (m) => r(m as ToPeers)));
  process.stderr.write(`peers: targets received\n`);
  const streams: ToneStream[] = [];
  const receivers: RtpReceiver[] = [];
  msg.targets.forEach(([callerTo, calleeTo], i) => {
    const [a, b] = pairs[i]!;
    const fromCaller = new ToneStream(a, { host: '127.0.0.1', port: callerTo }, { freqHz: 400 });
    const fromCallee = new ToneStream(b, { host: '127.0.0.1', port: calleeTo }, { freqHz: 1000 });
    streams.push(fromCaller, fromCallee);
    const atA = new RtpReceiver(a); atA.from = fromCallee;
    const atB = new RtpReceiver(b); atB.from = fromCaller;
    receivers.push(atA, atB);
  });
  process.stderr.write(`peers: ${streams.length} streams to ${msg.targets.length} calls; pacing\n`);
  send({ kind: 'started' });
  // paceStreams' loop, also recording how late each tick ran (the sender's own jitter).
  const latenessMs: number[] = [];
  const packets = Math.round((seconds * 1000) / 20);
  const start = performance.now();
  let done = 0;
  await new Promise<void>((resolve) => {
    const step = (): void => {
      const now = performance.now();
      const due = Math.min(packets, Math.floor((now - start) / 20) + 1);
      while (done < due) { latenessMs.push(now - (start + done * 20)); for (const s of streams) s.tick(); done++; }
      if (done >= packets) { resolve(); return; }
      setTimeout(step, Math.max(0, start + done * 20 - performance.now()));
    };
    step();
  });
  await new Promise((r) => setTimeout(r, 300));
  const report: FromPeers = {
    kind: 'done',
    sent: streams.reduce((n, s) => n + s.sent, 0),
    received: receivers.reduce((n, r) => n + r.packets, 0),
    lost: receivers.reduce((n, r) => n + r.lost, 0),
    latenessMs,
    // Every 4th sample keeps the IPC message small; percentiles do not move.
    deltasMs: receivers.flatMap((r) => r.transitDeltasMs.filter((_, i) => i % 4 === 0)),
    transitMs: receivers.flatMap((r) => r.transitMs.filter((_, i) => i % 4 === 0)),
  };
  for (const [a, b] of pairs) { a.close(); b.close(); }
  // Disconnect only once the (large) report is written: a disconnect right after send() can drop it.
  process.send!(report, () => process.disconnect());
}

async function openLayer(dir: string): Promise<{ media: MediaLayer; recordingDir: string; extraCpuMs: () => number; close: () => Promise<void> }> {
  const log = createLogger({ level: 'warn' });
  if (backend === 'rtpengine') {
    const { startRtpengine } = await import('../test/support/rtpengine.js');
    const { createNgClient, createRtpengineMediaLayer } = await import('../src/media/rtpengine/index.js');
    const daemon = await startRtpengine({ ports: Math.max(200, calls * 4 + 100) });
    const ng = await createNgClient({ address: daemon.ng, timeoutMs: 5000 });
    const media = await createRtpengineMediaLayer({ ng, recordingDir: daemon.recordingDir, log });
    const procCpuMs = (): number => { const f = readFileSync(`/proc/${daemon.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
    return { media, recordingDir: daemon.recordingDir, extraCpuMs: procCpuMs, close: async () => { await media.close(); await ng.close(); await daemon.stop(); } };
  }
  const { createEmbeddedMediaLayer } = await import('../src/media/embedded/index.js');
  // Below the kernel's ephemeral range (32768+), where the peers' own sockets land; busy ports are skipped anyway.
  const portMin = Number(arg('port-min', '20000'));
  const media = createEmbeddedMediaLayer({ bindAddress: '127.0.0.1', portMin, portMax: portMin + calls * 4 + 199, log });
  return { media, recordingDir: dir, extraCpuMs: () => 0, close: () => media.close() };
}

const progress = (m: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-media-'));
  const layer = await openLayer(dir);
  const child: ChildProcess = fork(import.meta.filename, ['--peers', `--calls=${calls}`, `--seconds=${seconds}`], { execArgv: ['--import', 'tsx'] });
  const next = <K extends FromPeers['kind']>(kind: K) => new Promise<Extract<FromPeers, { kind: K }>>((resolve, reject) => {
    const on = (m: FromPeers) => { if (m.kind === kind) { child.off('message', on); child.off('exit', gone); resolve(m as Extract<FromPeers, { kind: K }>); } };
    const gone = (code: number | null, signal: string | null) => reject(new Error(`peer process exited (${signal ?? code}) before '${kind}'`));
    child.on('message', on);
    child.once('exit', gone);
  });
  try {
    const { ports } = await next('ports');
    progress(`peers bound ${ports.length * 2} sockets; anchoring ${calls} calls`);
    const recordings: Recording[] = [];
    const targets: Array<[number, number]> = [];
    const sessions = [];
    for (let i = 0; i < calls; i++) {
      const s = await layer.media.createSession({ uniqueCallId: `bench-${i}` });
      const toCallee = await s.offer('caller', audioSdp(ports[i]![0]));
      const toCaller = await s.answer('callee', audioSdp(ports[i]![1]));
      recordings.push(await s.startRecording({ path: join(layer.recordingDir, `bench-${i}.wav`), channels: 'both' }));
      targets.push([sdpAudioPort(toCaller), sdpAudioPort(toCallee)]);
      sessions.push(s);
    }
    progress(`${calls} sessions recording; streaming ${seconds} s`);
    const started = next('started');
    const finished = next('done');
    child.send({ kind: 'targets', targets } satisfies ToPeers);
    await started;
    const cpu0 = process.cpuUsage();
    const extra0 = layer.extraCpuMs();
    const t0 = performance.now();
    const r = await finished;
    const wallMs = performance.now() - t0;
    const u = process.cpuUsage(cpu0);
    const layerMs = (u.user + u.system) / 1000 + (layer.extraCpuMs() - extra0);
    progress('streams done; closing recordings');
    const results = await Promise.all(recordings.map((rec) => rec.stop()));
    for (const s of sessions) await s.close();

    const streams = calls * 2;
    const fmt = (x: number) => x.toFixed(2);
    const durations = results.map((x) => x.durationMs);
    console.log(`${backend}: calls ${calls}, streams ${streams}, ${seconds} s of audio, measured over ${fmt(wallMs / 1000)} s wall`);
    console.log(`media layer CPU${backend === 'rtpengine' ? ' (rtpengine daemon + our driver)' : ''}: ${fmt((layerMs / wallMs) * 100)} % of one core = ${fmt((layerMs / wallMs / streams) * 100 * 1000)} m% per stream (${fmt((layerMs * 1000) / (r.received || 1))} µs per relayed packet)`);
    console.log(`sender pacing lateness: p50 ${fmt(percentile(r.latenessMs, 50))} ms, p99 ${fmt(percentile(r.latenessMs, 99))} ms (${r.latenessMs.length} ticks)`);
    console.log(`receiver jitter |D| (RFC 3550 §6.4.1): p50 ${fmt(percentile(r.deltasMs, 50))} ms, p99 ${fmt(percentile(r.deltasMs, 99))} ms`);
    console.log(`one-way transit sender → layer → receiver: p50 ${fmt(percentile(r.transitMs, 50))} ms, p99 ${fmt(percentile(r.transitMs, 99))} ms`);
    console.log(`loss: sent ${r.sent}, received ${r.received}, lost by sequence ${r.lost} (${fmt(((r.sent - r.received) / r.sent) * 100)} %)`);
    console.log(`recordings: ${results.length}, duration min ${Math.min(...durations)} ms / max ${Math.max(...durations)} ms, with problems: ${results.filter((x) => x.problems.length).length}`);
  } finally {
    child.kill();
    await layer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--peers')) await peers();
else await main();
