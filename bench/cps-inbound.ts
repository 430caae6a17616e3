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
 *   npx tsx bench/cps-inbound.ts [--rates 100,200,300,400,500,600,800,1000] [--seconds 10] [--hold-ms 500] [--drain-s 2] [--debug] [--sqlite-sync full|normal] [--record none|all|none,all]
 *   (with `node --expose-gc --import tsx bench/cps-inbound.ts …` the heap after the run is measured after a full GC)
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { createEmbeddedMediaLayer } from '../src/media/embedded/index.js';
import { killAllSipp, freePort, runSipp } from '../test/support/sipp.js';
import { demoConfig, startEngineHarness } from '../test/support/engine-harness.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const rates = arg('rates', '100,200,300,400,500,600,800,1000').split(',').map(Number);
const seconds = Number(arg('seconds', '10'));
const holdMs = Number(arg('hold-ms', '500'));

const sync = arg('sqlite-sync', '');
const modes = arg('record', 'none').split(',') as Array<'none' | 'all'>;
for (const m of modes) if (m !== 'none' && m !== 'all') throw new Error(`--record takes none, all or none,all; got ${m}`);

interface Step { rate: number; calls: number; ok: boolean; failed: string; rssMb: number; cpuPct: number; cpuUsPerCall: number; events: number; active: number; load: string; recordings: number }
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
  t1: 500, config, ...(sync === 'full' || sync === 'normal' ? { sqliteSynchronous: sync } : {}),
  ...(media ? { engine: { media, recordings: { dir: recDir, link: (id: string) => `http://127.0.0.1/api/recordings/${id}.wav` } } } : {}),
});
const target = `${h.sip.address}:${h.sip.port}`;
const devicePort = await freePort();
const reg = await runSipp({
  scenario: 'engine-register.xml', target, port: devicePort, calls: 1,
  extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw', '-key', 'domain', h.domain, '-auth_uri', h.domain, '-key', 'expires', '7200'],
});
const regDone = await reg.done;
if (regDone.code !== 0) throw new Error(`the SIPp device could not register: ${regDone.errors.slice(0, 1500)}`);
const uas = await runSipp({ scenario: 'engine-uas-device.xml', port: devicePort, timeoutS: 7200, extra: ['-max_socket', '60000', '-l', '100000', '-buff_size', '8388608'] });

const results: Step[] = [];
let eventsBefore = (await h.allEvents()).length;
let recordingsBefore = 0;
for (const rate of rates) {
  const calls = rate * seconds;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  let peakRss = 0;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 200);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const uac = await runSipp({
    scenario: 'engine-uac-did.xml', target, calls, timeoutS: seconds * 4 + 30,
    extra: ['-s', '61390000000', '-r', String(rate), '-d', String(holdMs), '-l', String(Math.max(rate * 3, 100))],
  });
  const r = await uac.done;
  clearInterval(sampler);
  lag.disable();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Date.now() - t0;
  const lagMs = `event-loop delay p50 ${(lag.percentile(50) / 1e6).toFixed(0)} / p99 ${(lag.percentile(99) / 1e6).toFixed(0)} / max ${(lag.max / 1e6).toFixed(0)} ms`;
  await new Promise((res) => setTimeout(res, 1500));
  const status = await h.engine.status();
  const eventsNow = (await h.store.listUndispatchedEvents(10_000_000)).length;
  const failed = /Failed call\s*\|\s*\S+\s*\|\s*(\d+)/.exec(r.stdout)?.[1] ?? '?';
  const step: Step = {
    rate, calls, ok: r.code === 0, failed, rssMb: Math.round(peakRss / 1048576),
    cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100), cpuUsPerCall: Math.round((cpu.user + cpu.system) / calls), events: eventsNow - eventsBefore, active: status.active_calls,
    load: loadavg()[0]!.toFixed(1), recordings: readdirSync(recDir).length - recordingsBefore,
  };
  recordingsBefore += step.recordings;
  eventsBefore = eventsNow;
  results.push(step);
  console.log(`rate ${rate}/s  calls ${calls}  ${step.ok ? 'OK  ' : 'FAIL'} (sipp exit ${r.code}, failed ${failed})  events ${step.events} (expect ${calls * (mode === 'all' ? 4 : 3)})  peak RSS ${step.rssMb} MB  node CPU ${step.cpuPct}% (${step.cpuUsPerCall} µs/call)  ${lagMs}  active after ${step.active}${mode === 'all' ? `  recordings ${step.recordings}` : ''}  load ${step.load}`);
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
const gc = (globalThis as { gc?: () => void }).gc;
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
