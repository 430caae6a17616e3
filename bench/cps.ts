/**
 * bench/cps — calls per second through a B2BUA on drachtio-srf + drachtio-lite (issue 2, "Measure").
 *
 *   SIPp uac ──INVITE──▶ drachtio-lite (SIP core) ◀─wire─▶ drachtio-srf createB2BUA ──▶ SIPp uas
 *
 * Steps the offered rate up; at each step runs SIPp for `rate × seconds` calls and reports whether every call
 * succeeded, the node process's CPU (per call and as % of one core), event-loop delay, RSS, and the live
 * transaction / dialog counts. After the last step it waits for the transaction tables to drain (UDP keeps
 * finished transactions for 64×T1 = 32 s) and prints the counts and RSS again. Not a test: no assertions.
 *
 * `--split` (issue 15) runs drachtio-lite and the SIP core in a child process, so srf and the B2BUA app are alone in
 * this one: each step then prints the CPU per call of both processes. This process's figure is what drachtio-srf
 * costs per call with the least an app can do, the floor under any engine built on it.
 *
 *   npx tsx bench/cps.ts [--rates 200,400,600,800,1000] [--seconds 10] [--hold-ms 500] [--drain-s 40] [--split]
 *   node --import tsx --cpu-prof --cpu-prof-dir=<dir> bench/cps.ts …      (profile; see bench/README.md)
 *
 * Runs on a shared machine: the load average is printed next to every figure; CPU time per call is the figure
 * that stays comparable when the box is busy.
 */
import Srf from 'drachtio-srf';
import { execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { DrachtioLiteServer } from '../src/drachtio-lite/index.js';
import { SipStack } from '../src/sip/index.js';
import { systemClock } from '../src/common/clock.js';
import { createLogger } from '../src/common/log.js';
import { freePort, runSipp, killAllSipp, type SippResult } from '../test/support/sipp.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const rates = arg('rates', '200,400,600,800,1000,1200').split(',').map(Number);
const seconds = Number(arg('seconds', '10'));
const holdMs = Number(arg('hold-ms', '500'));
const drainS = Number(arg('drain-s', '40'));
const keepGoing = process.argv.includes('--keep-going');

const log = createLogger({ level: process.env.BENCH_LOG ?? 'warn' });
const split = process.argv.includes('--split');
/** BENCH_LITE_CALLGRIND=<file> (with `--split`): the child runs under valgrind's callgrind, which counts instructions, not time. */
const callgrindOut = split ? process.env.BENCH_LITE_CALLGRIND : undefined;

/** Live counts of drachtio-lite's tables and its stack's transactions. */
interface LiteStats { transactions: number; dialogs: number; networkTransactions: number; appTransactions: number; someDialogs: unknown[] }

/** What createDrachtioLite does, with the stack kept in hand for its transaction count. */
async function startLite(secret: string): Promise<{ sipPort: number; controlPort: number; stats: () => LiteStats; close: () => Promise<void> }> {
  const sipPort = await freePort();
  const stack = await SipStack.create({ listen: [{ transport: 'udp', address: '127.0.0.1', port: sipPort }], log });
  const server = new DrachtioLiteServer({ stack, secret, log, clock: systemClock, timers: { t1: 500, t2: 4000 } });
  const control = await server.listen('127.0.0.1', 0);
  return {
    sipPort, controlPort: control.port,
    stats: () => ({ transactions: stack.stats.transactions, ...server.stats, someDialogs: server.stats.dialogs > 0 ? server.describeDialogs(3) : [] }),
    close: async () => { await server.close(); await stack.close(); },
  };
}

if (process.argv.includes('--lite-child')) {
  // The split mode's child: drachtio-lite and the SIP core alone; the parent asks for stats and says when to stop.
  const lite = await startLite(arg('secret', ''));
  process.on('message', (m: string) => {
    if (m === 'stats') process.send!({ stats: lite.stats() });
    if (m === 'close') void lite.close().then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ sipPort: lite.sipPort, controlPort: lite.controlPort });
  await new Promise(() => undefined);
}

const secret = randomBytes(8).toString('hex');
/** drachtio-lite here or in the child (`--split`): its ports, stats, CPU so far, and how to stop it. */
const lite = split ? await (async () => {
  // BENCH_LITE_PROF=<dir>: the child writes a V8 CPU profile there on exit (bench/tools/profile-summary.mjs reads it).
  const prof = process.env.BENCH_LITE_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_LITE_PROF}`] : [];
  // Under callgrind, valgrind is the command and node its first argument.
  const execArgv = callgrindOut
    ? ['--tool=callgrind', `--callgrind-out-file=${callgrindOut}`, '--instr-atstart=no', '--separate-threads=yes', process.execPath, ...process.execArgv]
    : [...process.execArgv, ...prof];
  const child = fork(process.argv[1]!, ['--lite-child', '--secret', secret], { ...(callgrindOut ? { execPath: 'valgrind' } : {}), execArgv, stdio: 'inherit' });
  // A child that cannot start (no valgrind, a crash) ends the bench with its reason instead of leaving it waiting.
  const gone = (why: string) => { console.error(`bench/cps --split: the drachtio-lite child ${why}${callgrindOut ? ' (is valgrind installed? apt-get install valgrind)' : ''}`); process.exit(1); };
  child.once('error', (err) => gone(`failed: ${err.message}`));
  const early = (code: number | null) => gone(`exited (code ${code}) before it listened`);
  child.once('exit', early);
  const ports = await new Promise<{ sipPort: number; controlPort: number }>((res) => child.once('message', (m) => res(m as never)));
  child.off('exit', early);
  return {
    ...ports,
    pid: child.pid!,
    stats: () => new Promise<LiteStats>((res) => { child.once('message', (m) => res((m as { stats: LiteStats }).stats)); child.send('stats'); }),
    close: () => new Promise<void>((res) => { child.once('exit', () => res()); child.send('close'); }),
  };
})() : await (async () => {
  const inProcess = await startLite(secret);
  return { ...inProcess, pid: 0, stats: async () => inProcess.stats() };
})();
const sipPort = lite.sipPort;
const control = { port: lite.controlPort };
const uasPort = await freePort();
const srf = new Srf();
await new Promise<void>((resolve, reject) => {
  srf.connect({ host: '127.0.0.1', port: control.port, secret });
  srf.once('connect', () => resolve());
  srf.once('error', reject);
});
// The usual B2BUA: when one leg ends, hang up the other (srf leaves that to the app).
srf.invite((req, res) => {
  srf
    .createB2BUA(req, res, `sip:${req.calledNumber || 'bench'}@127.0.0.1:${uasPort}`, { localSdpB: req.body })
    .then(({ uas: a, uac: b }) => {
      a.on('destroy', () => { b.destroy().catch(() => undefined); });
      b.on('destroy', () => { a.destroy().catch(() => undefined); });
    })
    .catch(() => { /* failures are counted by SIPp */ });
});

/** SIPp's socket buffers default to 64 KiB: at these rates a short stall on this shared box drops datagrams. */
const SIPP_BUFFER = String(4 * 1024 * 1024);
const uas = await runSipp({ scenario: 'uas-answer.xml', port: uasPort, timeoutS: 3600, extra: ['-d', '0', '-max_socket', '60000', '-buff_size', SIPP_BUFFER, ...(process.env.BENCH_ERRORS ? ['-error_file', `${process.env.BENCH_ERRORS}-uas-full.log`] : [])] });

const mb = (n: number): number => Math.round(n / 1048576);
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

/** Live state of every layer: SIP transactions, drachtio-lite tables, srf's dialogs. */
async function tables(): Promise<string> {
  const l = await lite.stats();
  const srfDialogs = (srf as unknown as { _dialogs?: Map<unknown, unknown> })._dialogs?.size ?? '?';
  return `sip txns ${l.transactions}  lite dialogs ${l.dialogs} netTxns ${l.networkTransactions} appTxns ${l.appTransactions}  srf dialogs ${srfDialogs}`;
}

/** `Successful call` / `Failed call` totals and a digest of the error trace. */
function sippSummary(r: SippResult): { ok: string; failed: string; reasons: string } {
  const ok = /Successful call\s*\|\s*\S+\s*\|\s*(\d+)/.exec(r.stdout)?.[1] ?? '?';
  const failed = /Failed call\s*\|\s*\S+\s*\|\s*(\d+)/.exec(r.stdout)?.[1] ?? '?';
  const counts = new Map<string, number>();
  for (const line of r.errors.split('\n')) {
    const m = /(Aborting call[^:]*|Call-Id: \S+ .*|.*(?:timeout|unexpected)[^.]*)/i.exec(line);
    if (!m) continue;
    const key = m[1]!.replace(/\d+/g, 'N').slice(0, 100);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const reasons = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${n}× ${k}`).join('; ');
  return { ok, failed, reasons };
}

/** Machine-wide UDP receive-buffer drops (Linux /proc/net/snmp RcvbufErrors; other processes count too). */
function udpDrops(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/);
    return Number(lines[1]!.split(/\s+/)[names.indexOf('RcvbufErrors')]);
  } catch {
    return NaN;
  }
}

/** With `node --expose-gc`: the heap after a full GC, i.e. what the live tables really retain. */
function heapAfterGc(): string {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return '';
  gc();
  return `  heap after GC ${mb(process.memoryUsage().heapUsed)} MB`;
}

/** Receive-buffer drops per local UDP port (Linux /proc/net/udp, last column), for the ports asked about. */
function socketDrops(ports: number[]): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      const port = parseInt(f[1]!.split(':')[1]!, 16);
      if (ports.includes(port)) out.set(port, (out.get(port) ?? 0) + Number(f[f.length - 1]));
    }
  } catch { /* not Linux */ }
  return out;
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 once it has exited). */
function procCpuS(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** `callgrind_control` on the child, once per argument list. */
function callgrind(...argLists: string[][]): void {
  for (const a of argLists) execFileSync('callgrind_control', [...a, String(lite.pid)], { stdio: 'ignore' });
}

/**
 * Dumps the child's counters (one file per thread: `--separate-threads=yes`) and returns the instructions counted
 * since the last zeroing on its main thread, the event loop, and on all its threads (V8's compiler and GC helpers).
 */
function callgrindDump(): { main: number; all: number } {
  const base = callgrindOut!;
  const before = new Set(readdirSync(dirname(base)));
  callgrind(['-d']);
  const dumps = readdirSync(dirname(base)).filter((f) => !before.has(f) && f.startsWith(basename(base)));
  let main = 0;
  let all = 0;
  for (const f of dumps) {
    const n = Number(/^(?:totals|summary): (\d+)/m.exec(readFileSync(join(dirname(base), f), 'utf8'))?.[1] ?? 0);
    all += n;
    if (f.endsWith('-01')) main = n;
  }
  return { main, all };
}

interface Step { rate: number; calls: number; ok: boolean; cpuUsPerCall: number; cpuPct: number; peakRssMb: number }
const results: Step[] = [];
const rss0 = process.memoryUsage().rss;
let peakAll = rss0;
console.log(`bench/cps: ${seconds} s per step, hold ${holdMs} ms, node ${process.version}, load ${load()}, RSS ${mb(rss0)} MB`);
// Warm-up (not reported): lets V8 compile the hot paths so the first step's CPU per call is not inflated by JIT.
{
  // A child under callgrind runs ~40× slower: it is warmed at 5 calls/s.
  const slow = callgrindOut !== undefined;
  const warm = await runSipp({
    scenario: 'uac-invite-bye.xml', target: `127.0.0.1:${sipPort}`, calls: slow ? 400 : 500, timeoutS: slow ? 300 : 60,
    extra: ['-buff_size', SIPP_BUFFER, '-s', 'bench', '-r', slow ? '5' : '200', '-d', '100', '-l', '400'],
  });
  await warm.done;
  for (let i = 0; i < 50 && (await lite.stats()).dialogs > 0; i++) await new Promise((res) => setTimeout(res, 100));
}
for (const rate of rates) {
  const calls = rate * seconds;
  const loadBefore = load();
  const drops0 = udpDrops();
  const sockDrops0 = socketDrops([sipPort, uasPort]);
  if (callgrindOut) callgrind(['-i', 'on'], ['-z']);
  const cpu0 = process.cpuUsage();
  const liteCpu0 = split ? procCpuS(lite.pid) : 0;
  const t0 = Date.now();
  let peakRss = 0;
  let uacCpuS = 0;
  let uacPid = 0;
  const uasCpu0 = procCpuS(uas.pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (uacPid) uacCpuS = Math.max(uacCpuS, procCpuS(uacPid));
  }, 200);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const uac = await runSipp({
    scenario: 'uac-invite-bye.xml',
    target: `127.0.0.1:${sipPort}`,
    calls,
    timeoutS: seconds * 4 + 30,
    extra: ['-buff_size', SIPP_BUFFER, '-s', 'bench', '-r', String(rate), '-d', String(holdMs), '-l', String(Math.max(rate * 3, 100))],
  });
  uacPid = uac.pid;
  let uacDrops = 0;
  const dropSampler = setInterval(() => { uacDrops = Math.max(uacDrops, socketDrops([uac.port]).get(uac.port) ?? 0); }, 500);
  const r = await uac.done;
  clearInterval(dropSampler);
  const d1 = socketDrops([sipPort, uasPort]);
  const uasCpuS = procCpuS(uas.pid) - uasCpu0;
  lag.disable();
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const liteCpuS = split ? procCpuS(lite.pid) - liteCpu0 : 0;
  const liteIr = callgrindOut ? callgrindDump() : undefined;
  const wallMs = Date.now() - t0;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const sum = sippSummary(r);
  peakAll = Math.max(peakAll, peakRss);
  const step: Step = {
    rate, calls, ok: r.code === 0,
    cpuUsPerCall: Math.round((cpuMs * 1000) / calls),
    cpuPct: Math.round((cpuMs / wallMs) * 100),
    peakRssMb: mb(peakRss),
  };
  results.push(step);
  console.log(
    `rate ${rate}/s  calls ${calls}  ${step.ok ? 'OK  ' : 'FAIL'} (sipp exit ${r.code}, ok ${sum.ok}, failed ${sum.failed})  ` +
    `wall ${(wallMs / 1000).toFixed(1)} s  node CPU ${step.cpuPct}% = ${step.cpuUsPerCall} µs/call  ` +
    `loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms max ${(lag.max / 1e6).toFixed(0)} ms  ` +
    `RSS peak ${step.peakRssMb} MB end ${mb(process.memoryUsage().rss)} MB  UDP drops ${udpDrops() - drops0}  load ${loadBefore} → ${load()}`,
  );
  // Let the last calls finish (B legs get their BYE after the caller's), so the heap figure holds only the
  // finished transactions waiting out their timers.
  for (let i = 0; i < 50 && (await lite.stats()).dialogs > 0; i++) await new Promise((res) => setTimeout(res, 100));
  console.log(`    UDP receive drops this step: switchboard ${(d1.get(sipPort) ?? 0) - (sockDrops0.get(sipPort) ?? 0)}, SIPp uas ${(d1.get(uasPort) ?? 0) - (sockDrops0.get(uasPort) ?? 0)}, SIPp uac ≥ ${uacDrops}`);
  if (liteIr) console.log(`    callgrind: drachtio-lite + SIP core (child) ${Math.round(liteIr.main / calls / 1000)} k instructions per call on its main thread, ${Math.round(liteIr.all / calls / 1000)} k on all threads`);
  if (split) console.log(`    split: srf + B2BUA (this process) ${step.cpuUsPerCall} µs/call, drachtio-lite + SIP core (child) ${Math.round((liteCpuS * 1e6) / calls)} µs/call = ${Math.round((liteCpuS * 100000) / wallMs)}% of one core`);
  console.log(`    SIPp CPU: uac ${Math.round((uacCpuS * 100000) / wallMs)}% uas ${Math.round((uasCpuS * 100000) / wallMs)}% of one core (uac sampled every 200 ms)`);
  console.log(`    after step (calls ended): ${await tables()}${heapAfterGc()}`);
  if (process.env.BENCH_HEAPSNAPSHOT) console.log(`    heap snapshot: ${writeHeapSnapshot(`${process.env.BENCH_HEAPSNAPSHOT}-${rate}.heapsnapshot`)}`);
  if (!step.ok && sum.reasons) console.log(`    sipp errors: ${sum.reasons}`);
  if (!step.ok && process.env.BENCH_ERRORS) writeFileSync(`${process.env.BENCH_ERRORS}-${rate}.log`, r.errors);
  if (!step.ok && !keepGoing) break;
  await new Promise((res) => setTimeout(res, 2000));
}
const best = results.filter((s) => s.ok).at(-1);
console.log(`\nhighest zero-failure rate: ${best ? `${best.rate} calls/s at ${best.cpuUsPerCall} µs CPU/call (peak RSS ${best.peakRssMb} MB)` : 'none'}`);

// Drain: every finished transaction must go away once its wait timer (≤ 64×T1) has fired.
const drainStart = Date.now();
while (Date.now() - drainStart < drainS * 1000) {
  const l = await lite.stats();
  if (l.transactions === 0 && l.dialogs === 0) break;
  await new Promise((res) => setTimeout(res, 1000));
}
console.log(`after ${((Date.now() - drainStart) / 1000).toFixed(0)} s drain: ${await tables()}${heapAfterGc()}  RSS ${mb(process.memoryUsage().rss)} MB (peak ${mb(peakAll)} MB, start ${mb(rss0)} MB)  load ${load()}`);
const left = await lite.stats();
if (left.dialogs > 0) console.log('    some live dialogs:', JSON.stringify(left.someDialogs));
uas.kill();
if (process.env.BENCH_ERRORS) writeFileSync(`${process.env.BENCH_ERRORS}-uas.log`, (await uas.done).errors);
killAllSipp();
srf.disconnect();
await lite.close();
process.exit(0);
