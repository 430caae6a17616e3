/**
 * bench/cps-inbound — inbound calls per second through the whole engine (issue 3).
 *
 *   SIPp uac ──INVITE DID──▶ drachtio-lite ◀─wire─▶ drachtio-srf ◀─ engine: router → flow → user node → Fork
 *                                                                   ──INVITE──▶ SIPp uas (registered as alice-desk)
 *
 * Events and call records on (SQLite file in a temp dir, one transaction per call step). Steps the offered rate up;
 * each step runs SIPp for `rate × seconds` calls and reports whether every call succeeded, the process peak RSS and
 * CPU, and the events written. Prints the highest zero-failure rate. Not a test: no assertions.
 *
 * `--record none,all` (issue 9) runs the steps once per mode with Alice's `record` set to it: `none` is signalling
 * only (SDP passed through), `all` anchors every call on the embedded media endpoint (SDP rewritten, two port pairs
 * bound per call) and records it (a stereo WAV streamed to a temp dir, closed with its sha256, a recordings row and
 * a recording_inbound event); the SIPp parties send no RTP, so this is the anchoring + recording cost per call, not
 * the RTP relay's (bench/media.ts). A table of both modes closes the run.
 *
 * The harness of issue 15 (`--pin`): SIPp (caller and device) pinned to CPU 0 and this process — all of Switchboard:
 * drachtio-lite, srf, engine, store, their threads — to CPU 1, both at real-time priority (`taskset` + `chrt`, as
 * root; `--rt-prio 0` pins only), so the other load on the box matters less. A step passes with 0 failed calls and an achieved rate ≥ 95 % of the
 * offered one (achieved = calls / (SIPp's run time − the hold time): a PBX that falls behind stretches the run).
 * Per step: the result, CPU µs per call (process CPU, all threads, / calls), peak RSS, event-loop delay p99 and, with
 * `--profile`, the main thread's self time by module for that step (V8 profiler through node:inspector; the
 * .cpuprofile files are kept in the directory printed, for bench/tools/profile-summary.mjs).
 *
 * Under real-time priority the event-loop threads (main, the store's worker, Node's loader-hooks thread) are SCHED_RR
 * and the helper threads (V8's platform workers, libuv's pool: they sleep on a futex) SCHED_FIFO one level higher;
 * the processes this one starts begin as SCHED_OTHER (`--reset-on-fork`) and the SIPp processes are pinned too.
 * With every thread FIFO at one level the runs hung (an idle worker's event loop spun on V8's incremental sweeping
 * while the concurrent sweeper it waits for, a platform thread of the same level, never got the CPU). Per step the
 * store's commit path is counted too (SQLite only): transactions, call steps per transaction, statements and rows
 * per call, and the CPU of the main thread and of the store's worker thread; and the SIP datagrams per call.
 *
 * What each call costs besides CPU (issue 15): `--alloc-profile` samples the bytes allocated per call by module and
 * function (V8's sampling heap profiler, collected objects included); with `--expose-gc` each step prints the heap
 * its finished calls still hold (full GCs before and after the step) and `--snapshot-dir` writes a heap snapshot
 * there. Every run starts with a speed probe of the box (CPU ms of a fixed loop): CPU per call scales with it.
 *
 * `--compare <dir>` (issue 15) runs this bench in another tree (`dir`, e.g. a checkout of an older commit with its
 * node_modules) and in this one, alternately, `--runs` times each (default 3), with the other arguments passed on;
 * it prints each run's table and then, per tree, the median highest passing step and the median CPU per call by step.
 *
 *   npx tsx bench/cps-inbound.ts [--rates 250,500,…,2000] [--seconds 10] [--hold-ms 500] [--drain-s 2] [--debug] [--sqlite-sync full|normal] [--record none|all|none,all]
 *                                [--pin] [--sipp-cpu 0] [--sb-cpu 1] [--rt-prio 50] [--profile] [--alloc-profile] [--snapshot-dir dir] [--label text] [--compare dir [--runs 3]]
 *   (with `node --expose-gc --import tsx bench/cps-inbound.ts …` the heap after the run is measured after a full GC)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { pino } from 'pino';
import { createEmbeddedMediaLayer } from '../src/media/embedded/index.js';
import { killAllSipp, freePort, runSipp } from '../test/support/sipp.js';
import { demoConfig, startEngineHarness } from '../test/support/engine-harness.js';
import { summarizeAllocations, summarizeProfile } from './tools/profile-summary.mjs';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const rates = arg('rates', '250,500,750,1000,1250,1500,1750,2000').split(',').map(Number);
const seconds = Number(arg('seconds', '10'));
const holdMs = Number(arg('hold-ms', '500'));

const sync = arg('sqlite-sync', '');
const modes = arg('record', 'none').split(',') as Array<'none' | 'all'>;
for (const m of modes) if (m !== 'none' && m !== 'all') throw new Error(`--record takes none, all or none,all; got ${m}`);

const pin = process.argv.includes('--pin');
const sippCpu = arg('sipp-cpu', '0');
const sbCpu = arg('sb-cpu', '1');
const rtPrio = arg('rt-prio', '50');
const profile = process.argv.includes('--profile');
const allocProfile = process.argv.includes('--alloc-profile');
const snapDir = arg('snapshot-dir', '');
/** `gc()` when run with `--expose-gc` (heap held per step, heap after the run). */
const gc = (globalThis as { gc?: () => void }).gc;
const label = arg('label', '');
const profDir = profile || allocProfile ? mkdtempSync(join(tmpdir(), 'sb-cps-prof-')) : '';

/** Pins a process (all its threads) to `cpu` with SCHED_RR `rtPrio` (0 = CPU only). Threads started later inherit both. */
function pinProcess(pid: number, cpu: string): void {
  execFileSync('taskset', ['-a', '-pc', cpu, String(pid)], { stdio: 'ignore' });
  // --reset-on-fork: a process this one starts (SIPp, taskset, chrt) begins as SCHED_OTHER, not at its level on its
  // CPU, where it could not run while a thread of the same level stays busy (the SIPp that registers the device
  // inherited SCHED_FIFO on CPU 1 and was never pinned: the run hung before any call).
  // SCHED_RR, not FIFO: two busy processes (SIPp's caller and device on CPU 0) time-slice instead of one starving the other.
  if (Number(rtPrio) > 0) execFileSync('chrt', ['-a', '--reset-on-fork', '-r', '-p', rtPrio, String(pid)], { stdio: 'ignore' });
}
function threadIds(): Set<string> {
  return new Set(readdirSync('/proc/self/task'));
}
/** Threads of the process before any harness: the main thread, V8's and libuv's. Those started later are the store's worker's. */
const startThreads = threadIds();
function laterThreads(): string[] {
  return [...threadIds()].filter((t) => !startThreads.has(t));
}
/** CPU time of one thread so far, in µs (utime + stime from /proc, at the kernel's 100 Hz tick). */
function threadCpuUs(tid: string | number): number {
  try {
    const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return 0; // the thread ended
  }
}
if (label) console.log(`label: ${label}`);
/**
 * The box's speed: CPU ms of a fixed integer loop on this thread (lower is faster). The CPU per call of a step scales
 * with it, and it varies by 2x on the shared 2-vCPU machines here: runs are comparable only at similar probe figures.
 */
function speedProbe(): number {
  const t0 = process.cpuUsage();
  let x = 0;
  for (let i = 0; i < 1e8; i++) x = (x + i * 7) % 1000003;
  const c = process.cpuUsage(t0);
  return Math.round((c.user + c.system) / 1000) + (x < 0 ? 1 : 0);
}
const probeMs = speedProbe();
console.log(`box speed probe: ${probeMs} ms CPU for a fixed loop (lower is faster)`);
const compareDir = arg('compare', '');
if (compareDir) {
  await compare(resolve(compareDir), Number(arg('runs', '3')));
  process.exit(0);
}

interface Step { rate: number; calls: number; ok: boolean; failed: string; achieved: number; lagP99Ms: number; rssMb: number; cpuPct: number; cpuUsPerCall: number; sysUsPerCall: number; events: number; active: number; load: string; recordings: number; store: string }
/** The SQLite store's own count of what its commit path wrote (absent on older trees and other stores). */
interface CommitStats { transactions: number; commits: number; statements: number; rowsChanged: number; coalesced: number }
async function commitStats(store: object): Promise<CommitStats | null> {
  const fn = (store as { commitStats?: () => Promise<CommitStats> }).commitStats;
  return fn ? fn.call(store) : null;
}
function storeLine(a: CommitStats | null, b: CommitStats | null, calls: number): string {
  if (!a || !b || b.transactions === a.transactions) return '-';
  const tx = b.transactions - a.transactions;
  const per = (k: keyof CommitStats) => ((b[k] - a[k]) / calls).toFixed(2);
  return `${tx} transactions, ${((b.commits - a.commits) / tx).toFixed(1)} call steps each; per call ${per('commits')} steps, ${per('statements')} statements, ${per('rowsChanged')} rows, ${per('coalesced')} row writes coalesced`;
}
const summary: Array<{ mode: string; steps: Step[] }> = [];
for (const mode of modes) summary.push(await runMode(mode));
if (modes.length > 1) {
  console.log('\nrecord | rate/s | result | CPU per call | node CPU | peak RSS | events | recordings | load (1 min)');
  for (const { mode, steps } of summary) {
    for (const st of steps) console.log(`${mode} | ${st.rate} | ${st.ok ? '0 failed' : `${st.failed} failed`} | ${(st.cpuUsPerCall / 1000).toFixed(2)} ms | ${st.cpuPct}% | ${st.rssMb} MB | ${st.events} | ${mode === 'all' ? st.recordings : '-'} | ${st.load}`);
  }
}
process.exit(0);

async function runMode(mode: 'none' | 'all'): Promise<{ mode: string; steps: Step[] }> {
console.log(`\n=== record: ${mode} (${mode === 'all' ? 'media anchored on the embedded endpoint, every call recorded' : 'signalling only, SDP passed through'}) ===`);
const config = demoConfig();
config.users.find((u) => u.number === '1001')!.record = mode;
const recDir = mkdtempSync(join(tmpdir(), 'sb-bench-rec-'));
const media = mode === 'all' ? createEmbeddedMediaLayer({ bindAddress: '127.0.0.1', portMin: 20000, portMax: 29999, log: pino({ level: 'warn' }) }) : null;
const h = await startEngineHarness({
  t1: Number(arg('t1-ms', '500')), config, ...(sync === 'full' || sync === 'normal' ? { sqliteSynchronous: sync } : {}),
  ...(media ? { engine: { media, recordings: { dir: recDir, link: (id: string) => `http://127.0.0.1/api/recordings/${id}.wav` } } } : {}),
});
// Pinned once the harness runs: every thread it started (the SQLite worker's too) moves with the process. Not
// before: a child process started meanwhile (tsx's esbuild, compiling the worker's TypeScript) would inherit
// SCHED_FIFO on CPU 1, and its spinning Go threads would starve the threads of the same priority there.
if (pin) {
  pinProcess(process.pid, sbCpu);
  // Two kinds of thread share CPU 1, told apart by where they sleep. Event-loop threads (the main thread, the store's
  // worker, Node's loader-hooks thread that tsx uses) sleep in epoll and stay SCHED_RR at `rtPrio`: they time-slice
  // with each other when several have work. Helper threads (V8's platform workers, libuv's pool) sleep on a futex and
  // get SCHED_FIFO one level higher: they run at once when an event loop hands them work. With every thread FIFO at
  // one level the runs hung: an idle event loop (the hooks thread's, the store worker's) spun on V8's incremental-
  // sweeping task, which waits for a concurrent sweeper on a platform thread that never got the CPU (`perf record -t`).
  const wchan = (tid: string) => { try { return readFileSync(`/proc/self/task/${tid}/wchan`, 'utf8'); } catch { return ''; } };
  const helpers = [...threadIds()].filter((t) => t !== String(process.pid) && wchan(t).startsWith('futex'));
  const loops = threadIds().size - helpers.length;
  if (Number(rtPrio) > 0) for (const tid of helpers) execFileSync('chrt', ['-f', '-p', String(Number(rtPrio) + 1), tid], { stdio: 'ignore' });
  console.log(`pinned: Switchboard (pid ${process.pid}, all threads) on CPU ${sbCpu}, SIPp on CPU ${sippCpu}${Number(rtPrio) > 0 ? `, its ${loops} event-loop threads SCHED_RR ${rtPrio}, its ${helpers.length} helper threads SCHED_FIFO ${Number(rtPrio) + 1}` : ''}`);
}
const target = `${h.sip.address}:${h.sip.port}`;
const devicePort = await freePort();
const reg = await runSipp({
  scenario: 'engine-register.xml', target, port: devicePort, calls: 1,
  extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw', '-key', 'domain', h.domain, '-auth_uri', h.domain, '-key', 'expires', '7200'],
});
if (pin) pinProcess(reg.pid, sippCpu);
const regDone = await reg.done;
if (regDone.code !== 0) throw new Error(`the SIPp device could not register: ${regDone.errors.slice(0, 1500)}`);
const uas = await runSipp({ scenario: 'engine-uas-device.xml', port: devicePort, timeoutS: 7200, extra: ['-max_socket', '60000', '-l', '100000', '-buff_size', '8388608'] });
if (pin) pinProcess(uas.pid, sippCpu);
const inspector = profile || allocProfile ? new Session() : null;
if (inspector) {
  inspector.connect();
  if (profile) await inspector.post('Profiler.enable');
  if (profile) await inspector.post('Profiler.setSamplingInterval', { interval: 500 });
}

const results: Step[] = [];
let eventsBefore = await h.store.countUndispatchedEvents();
let recordingsBefore = 0;
for (const rate of rates) {
  const calls = rate * seconds;
  const stats0 = await commitStats(h.store);
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const sip0 = h.lite.sipStats();
  const workerThreads = laterThreads();
  const main0 = threadCpuUs(process.pid);
  const worker0 = workerThreads.reduce((n, t) => n + threadCpuUs(t), 0);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  let peakRss = 0;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 200);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  // --alloc-profile: V8's sampling heap profiler, counting objects the GC has already collected too, so it shows
  // who makes the garbage (a sample every 32 KiB allocated), not only what stays live.
  if (allocProfile) await inspector!.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  if (profile) {
    const before = threadIds();
    await inspector!.post('Profiler.start');
    // V8's sampler thread signals the main thread to take each sample; at the main thread's own SCHED_FIFO priority
    // it would only run when the main thread sleeps (no samples of busy time), so it gets one level more.
    if (pin && Number(rtPrio) > 0) for (const tid of threadIds()) if (!before.has(tid)) execFileSync('chrt', ['-f', '-p', String(Number(rtPrio) + 1), tid], { stdio: 'ignore' });
  }
  const uac = await runSipp({
    scenario: 'engine-uac-did.xml', target, calls, timeoutS: seconds * 4 + 30,
    extra: ['-s', '61390000000', '-r', String(rate), '-d', String(holdMs), '-l', String(Math.max(rate * 3, 100))],
  });
  if (pin) pinProcess(uac.pid, sippCpu);
  const r = await uac.done;
  const sippMs = Date.now() - t0;
  const prof = profile ? (await inspector!.post('Profiler.stop')).profile : null;
  const alloc = allocProfile ? (await inspector!.post('HeapProfiler.stopSampling')).profile : null;
  clearInterval(sampler);
  lag.disable();
  const cpu = process.cpuUsage(cpu0);
  const mainUs = threadCpuUs(process.pid) - main0;
  const workerUs = workerThreads.reduce((n, t) => n + threadCpuUs(t), 0) - worker0;
  const wallMs = Date.now() - t0;
  // With --expose-gc: the heap right after the step's calls, after a full GC — what the finished calls still hold
  // while their transactions wait out 64*T1 (the step's own calls dominate it: steps are 1.5 s apart).
  let heldLine = '';
  if (gc) {
    gc();
    const heap = process.memoryUsage().heapUsed;
    if (snapDir) writeHeapSnapshot(join(snapDir, `step-${rate}.heapsnapshot`));
    heldLine = `  heap after a full GC at the step's end: ${Math.round(heap / 1048576)} MB, ${Math.round((heap - heap0) / 1048576)} MB more than before it (${(((heap - heap0) / calls) / 1024).toFixed(1)} KB per call of the step; ${h.lite.sipStats().transactions} SIP transactions live)`;
  }
  const lagMs = `event-loop delay p50 ${(lag.percentile(50) / 1e6).toFixed(0)} / p99 ${(lag.percentile(99) / 1e6).toFixed(0)} / max ${(lag.max / 1e6).toFixed(0)} ms`;
  await new Promise((res) => setTimeout(res, 1500));
  const status = await h.engine.status();
  const eventsNow = await h.store.countUndispatchedEvents();
  const stats1 = await commitStats(h.store);
  const sip1 = h.lite.sipStats();
  const failed = /Failed call\s*\|\s*\S+\s*\|\s*(\d+)/.exec(r.stdout)?.[1] ?? '?';
  const achieved = Math.round(calls / Math.max(0.001, (sippMs - holdMs) / 1000));
  const step: Step = {
    rate, calls, ok: r.code === 0 && failed === '0' && achieved >= 0.95 * rate, failed, achieved, lagP99Ms: lag.percentile(99) / 1e6, rssMb: Math.round(peakRss / 1048576),
    cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100), cpuUsPerCall: Math.round((cpu.user + cpu.system) / calls), sysUsPerCall: Math.round(cpu.system / calls), events: eventsNow - eventsBefore, active: status.active_calls,
    load: loadavg()[0]!.toFixed(1), recordings: readdirSync(recDir).length - recordingsBefore, store: `${storeLine(stats0, stats1, calls)}; CPU per call: main thread ${Math.round(mainUs / calls)} µs, the store's worker thread ${Math.round(workerUs / calls)} µs`,
  };
  recordingsBefore += step.recordings;
  eventsBefore = eventsNow;
  results.push(step);
  console.log(`rate ${rate}/s  calls ${calls}  ${step.ok ? 'OK  ' : 'FAIL'} (sipp exit ${r.code}, failed ${failed}, achieved ${achieved}/s)  events ${step.events} (expect ${calls * (mode === 'all' ? 4 : 3)})  peak RSS ${step.rssMb} MB  node CPU ${step.cpuPct}% (${step.cpuUsPerCall} µs/call, ${step.sysUsPerCall} of them in the kernel)  ${lagMs}  active after ${step.active}${mode === 'all' ? `  recordings ${step.recordings}` : ''}  load ${step.load}`);
  console.log(`  store: ${step.store}`);
  if (heldLine) console.log(heldLine);
  console.log(`  SIP per call: ${((sip1.received - sip0.received) / calls).toFixed(2)} datagrams received, ${((sip1.sent - sip0.sent) / calls).toFixed(2)} sent, ${((sip1.absorbed - sip0.absorbed) / calls).toFixed(2)} retransmissions absorbed; ${sip1.transactions} transactions live`);
  if (prof) {
    const file = join(profDir, `${mode}-${rate}.cpuprofile`);
    writeFileSync(file, JSON.stringify(prof));
    const sum = summarizeProfile(prof);
    const pct = (t: number) => `${((100 * t) / sum.busy).toFixed(1)} %`;
    console.log(`  profile (main thread busy ${(sum.busy / 1e6).toFixed(1)} s = ${Math.round(sum.busy / calls)} µs/call): ${sum.modules.slice(0, 12).map(([c, t]) => `${c} ${pct(t)}`).join(', ')}`);
    console.log(`  top functions: ${sum.functions.slice(0, 8).map(([f, t]) => `${f} ${pct(t)}`).join('; ')}`);
  }
  if (alloc) {
    writeFileSync(join(profDir, `${mode}-${rate}.heapprofile`), JSON.stringify(alloc));
    const sum = summarizeAllocations(alloc);
    const kb = (b: number) => `${((b / calls) / 1024).toFixed(1)} KB`;
    console.log(`  allocations (sampled): ${kb(sum.total)} per call; by module: ${sum.modules.slice(0, 10).map(([c, b]) => `${c} ${kb(b)}`).join(', ')}`);
    console.log(`  top allocating functions (per call): ${sum.functions.slice(0, 14).map(([f, b]) => `${f} ${kb(b)}`).join('; ')}`);
  }
  if (!step.ok && process.argv.includes('--debug')) {
    const all = await h.store.listUndispatchedEvents(10_000_000);
    const ids = [...new Set(all.map((e) => e.unique_call_id!))];
    const hist = new Map<string, number>();
    for (const id of ids) {
      const rec = await h.store.getCall(id);
      const legs = await h.store.listLegs(id);
      const key = `${rec?.status}/${rec?.hangup_cause} device:${legs.filter((l) => l.kind === 'device').map((l) => `${l.final_status}@${l.ended_by}`).join(',')}`;
      hist.set(key, (hist.get(key) ?? 0) + 1);
    }
    console.log(hist);
  }
  if (!step.ok) {
    console.log(r.errors.slice(0, 3000));
    break;
  }
  await new Promise((res) => setTimeout(res, 1500));
}
await new Promise((res) => setTimeout(res, Number(arg('drain-s', '2')) * 1000));
if (gc) gc();
const liteStats = h.lite.server.stats;
console.log(`after the run: engine active calls ${(await h.engine.status()).active_calls}, srf dialogs ${(h.srf as unknown as { _dialogs: Map<string, unknown> })._dialogs.size}, drachtio-lite dialogs ${liteStats.dialogs} / network txns ${liteStats.networkTransactions} / app txns ${liteStats.appTransactions}, RSS ${Math.round(process.memoryUsage().rss / 1048576)} MB, heap ${Math.round(process.memoryUsage().heapUsed / 1048576)} MB${gc ? ' (after a full GC)' : ''}`);
if (liteStats.dialogs > 0) {
  const kinds = new Map<string, number>();
  for (const d of h.lite.server.describeDialogs(liteStats.dialogs)) {
    const k = `${d.role}/${d.state}${d.awaitingAck ? '/awaiting ACK' : ''}`;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  console.log('drachtio-lite dialogs left by role/state:', Object.fromEntries(kinds));
}
inspector?.disconnect();
if (profDir) console.log(`profiles: ${profDir}`);
console.log(`\nrate/s | result | achieved/s | CPU per call | peak RSS | event-loop p99 | load (1 min)${label ? `  [${label}]` : ''}  (box speed probe ${probeMs} ms)`);
for (const st of results) console.log(`${st.rate} | ${st.ok ? 'pass' : 'FAIL'} (${st.failed} failed) | ${st.achieved} | ${st.cpuUsPerCall} µs | ${st.rssMb} MB | ${st.lagP99Ms.toFixed(0)} ms | ${st.load}`);
const best = results.filter((s) => s.ok).at(-1);
console.log(`\nhighest zero-failure rate: ${best ? `${best.rate} calls/s (peak RSS ${best.rssMb} MB, ${best.events} events committed, ${best.cpuUsPerCall} µs CPU per call = ${Math.round(1e6 / best.cpuUsPerCall)} calls/s per core for drachtio-lite + srf + engine + SQLite together)` : 'none'}`);
uas.kill();
const uasResult = await uas.done;
if (!results.every((s) => s.ok)) console.log(`device (SIPp uas) screen:\n${uasResult.stdout.slice(-3500)}`);
killAllSipp();
if (mode === 'all') console.log(`recordings written: ${readdirSync(recDir).length} WAV files`);
await h.close({ removeDb: true });
await media?.close();
rmSync(recDir, { recursive: true, force: true });
return { mode, steps: results };
}

/** One step of a child run, parsed from its closing table. */
interface RunStep { rate: number; pass: boolean; achieved: number; cpuUs: number; store: string }

/** `--compare`: runs `dir`'s bench and this one alternately, `runs` times each, and prints the medians. */
async function compare(dir: string, runs: number): Promise<void> {
  const passOn: string[] = [];
  for (let i = 2; i < process.argv.length; i++) {
    if (process.argv[i] === '--compare' || process.argv[i] === '--runs') { i++; continue; }
    passOn.push(process.argv[i]!);
  }
  const trees = [{ name: 'before', dir }, { name: 'after', dir: resolve(import.meta.dirname, '..') }];
  const results = new Map<string, Array<{ steps: RunStep[]; load: string }>>(trees.map((t) => [t.name, []]));
  console.log(`compare: ${trees.map((t) => `${t.name} = ${t.dir}`).join(', ')}; ${runs} runs each, alternating; args: ${passOn.join(' ') || '(none)'}`);
  for (let run = 1; run <= runs; run++) {
    for (const t of trees) {
      const load = loadavg().map((l) => l.toFixed(1)).join(' ');
      const out = await runChild(t.dir, passOn);
      const steps = parseRun(out);
      results.get(t.name)!.push({ steps, load });
      console.log(`\n[${t.name} run ${run}, load before ${load}] ${steps.map((s) => `${s.rate}/s ${s.pass ? 'pass' : 'FAIL'} ${s.cpuUs} µs (${s.achieved}/s)`).join(', ') || 'no steps (see its output below)'}`);
      for (const s of steps) if (s.store) console.log(`  ${s.rate}/s store: ${s.store}`);
      if (steps.length === 0) console.log(out.slice(-3000));
    }
  }
  console.log('\ntree | highest passing step per run (median) | CPU µs per call by step: median of the runs (each run)');
  for (const t of trees) {
    const rs = results.get(t.name)!;
    const best = rs.map((r) => r.steps.filter((s) => s.pass).at(-1)?.rate ?? 0);
    const rates = [...new Set(rs.flatMap((r) => r.steps.map((s) => s.rate)))].sort((a, b) => a - b);
    const byRate = rates.map((rate) => {
      const cpu = rs.map((r) => r.steps.find((s) => s.rate === rate)).filter((s): s is RunStep => s !== undefined);
      return `${rate}/s ${median(cpu.map((s) => s.cpuUs))} µs (${cpu.map((s) => `${s.cpuUs}${s.pass ? '' : ' FAIL'}`).join(' / ')})`;
    });
    console.log(`${t.name} | ${median(best)}/s (${best.join(' / ')}) | ${byRate.join('; ')}`);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  return s.length % 2 ? s[(s.length - 1) / 2]! : Math.round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
}

/** Runs `dir`'s bench/cps-inbound.ts with `args`; resolves with its stdout (stderr passes through). */
function runChild(dir: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'bench/cps-inbound.ts'), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.on('error', fail);
    child.on('exit', () => done(out));
  });
}

/** The closing table's rows (`rate | pass (0 failed) | achieved | N µs | …`) and each step's `store:` line. */
function parseRun(out: string): RunStep[] {
  const steps: RunStep[] = [];
  const store = new Map<number, string>();
  let last = 0;
  for (const line of out.split('\n')) {
    const step = /^rate (\d+)\/s /.exec(line);
    if (step) last = Number(step[1]);
    const st = /^ {2}store: (.*)$/.exec(line);
    if (st && last) store.set(last, st[1]!);
    const row = /^(\d+) \| (pass|FAIL) \([^)]*\) \| (\d+) \| (\d+) µs \|/.exec(line);
    if (row) steps.push({ rate: Number(row[1]), pass: row[2] === 'pass', achieved: Number(row[3]), cpuUs: Number(row[4]), store: '' });
  }
  for (const s of steps) s.store = store.get(s.rate) ?? '';
  return steps;
}
