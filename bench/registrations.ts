/**
 * bench/registrations — 10,000 devices registering (digest) and refreshing through the whole engine (issue 3).
 *
 *   load client (child process, our SIP core: REGISTER → 401 → REGISTER + Authorization, `--window` in flight)
 *     ──UDP──▶ drachtio-lite ◀─wire─▶ drachtio-srf ◀─ engine registrar (DigestServer, location cache, SQLite)
 *
 * SIPp is not the client here because SIPp 3.6 cannot take per-call digest credentials from an injection file
 * (`[authentication username=[field0]]` is not parsed). Phases: register every device, refresh every device,
 * then (optional) hold `--concurrent` calls up through a registered SIPp device while every registration is live.
 * Prints registrations/s, REGISTER requests/s (two per registration: challenge + credentials), engine CPU and RSS.
 * Not a test: no assertions.
 *
 *   node --expose-gc --import tsx bench/registrations.ts [--devices 10000] [--window 200] [--concurrent 1000] [--snapshot DIR]
 *
 * `--snapshot DIR` writes a V8 heap snapshot after the burst (before Timer J has run out) and one at steady state.
 */
import { spawn } from 'node:child_process';
import { writeHeapSnapshot } from 'node:v8';
import { demoConfig, startEngineHarness } from '../test/support/engine-harness.js';
import { rawStack, register } from '../test/support/engine-sip.js';
import { freePort, killAllSipp, runSipp } from '../test/support/sipp.js';
import { defaultVoicemailConfig } from '../src/config/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const devices = Number(arg('devices', '10000'));
const windowSize = Number(arg('window', '200'));
const concurrent = Number(arg('concurrent', '1000'));
const snapshotDir = arg('snapshot', '');
const mb = (n: number) => Math.round(n / 1048576);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
/** RSS and heap after a full GC (three: weak references and finalizers take more than one). */
function memory(): string {
  gc(); gc(); gc();
  const m = process.memoryUsage();
  return `RSS ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB, external ${mb(m.external)} MB`;
}
function snapshot(name: string): void {
  if (snapshotDir) console.log(`heap snapshot ${writeHeapSnapshot(`${snapshotDir}/${name}.heapsnapshot`)}`);
}

if (process.argv.includes('--client')) {
  // Child: register dev0..devN-1 against --target, `windowSize` at a time; print one JSON line.
  const [host, port] = arg('target', '').split(':');
  const domain = arg('domain', '');
  const stack = await rawStack(500);
  const t0 = Date.now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < devices) {
      const i = next++;
      const { res } = await register(stack, { transport: 'udp', address: host!, port: Number(port) }, {
        username: `dev${i}`, password: `pw${i}-secret`, domain, contacts: [`<sip:dev${i}@127.0.0.1:${stack.listening[0]!.port}>`], expires: 3600,
      });
      if (res?.status === 200) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: windowSize }, worker));
  console.log(JSON.stringify({ ok, failed, ms: Date.now() - t0 }));
  await stack.close();
  process.exit(0);
}

const config = demoConfig();
for (let i = 0; i < devices; i++) {
  config.users.push({
    name: `Bench User ${i}`, number: String(200_000 + i), devices: [{ username: `dev${i}`, password: `pw${i}-secret` }],
    voicemail: defaultVoicemailConfig(), record: 'none', ring_timeout_s: 30, caller_id: null, dnd: false, forward: { always: null, busy: null, no_answer: null },
  });
}

const h = await startEngineHarness({ config, t1: 500 });
const target = `${h.sip.address}:${h.sip.port}`;
console.log(`engine up with ${config.users.length} users; ${memory()}`);
snapshot('start');

async function phase(name: string): Promise<void> {
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 200);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--client', '--target', target, '--domain', h.domain, '--devices', String(devices), '--window', String(windowSize)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((res) => child.on('exit', res));
  const wall = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const r = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { ok: number; failed: number; ms: number };
  const secs = r.ms / 1000;
  const status = await h.engine.status();
  (globalThis as { gc?: () => void }).gc?.();
  console.log(`${name}: ${r.ok} ok / ${r.failed} failed in ${secs.toFixed(1)} s → ${Math.round(r.ok / secs)} registrations/s, ${Math.round((2 * r.ok) / secs)} REGISTER requests/s`
    + `  heap after GC ${mb(process.memoryUsage().heapUsed)} MB  registered_devices ${status.registered_devices}  engine peak RSS ${mb(peak)} MB  engine CPU ${Math.round(((cpu.user + cpu.system) / 1000 / (wall * 1000)) * 100)}% = ${Math.round((cpu.user + cpu.system) / Math.max(1, r.ok))} µs per registration`);
}

await phase('register');
await phase('refresh ');
// The issue-15 figure: what the burst of 2 × 10,000 registrations leaves while its transactions wait out Timer J.
const burstMem = memory();
const burstHeap = process.memoryUsage().heapUsed;
const burstTxns = h.lite.sipStats().transactions;
console.log(`after the burst (after GC): ${burstMem}; ${burstTxns} SIP transactions waiting out Timer J`);
snapshot('after-burst');
// Completed non-INVITE transactions are kept for Timer J (64*T1 = 32 s, RFC 3261 §17.2.2) on both sides of the
// wire; measure the steady state after they are gone.
await new Promise((res) => setTimeout(res, 35_000));
console.log(`steady state (35 s later${(globalThis as { gc?: unknown }).gc ? ', after GC' : ''}): ${(await h.engine.status()).registered_devices} registered devices, ${memory()}`
  + `; ${h.lite.sipStats().transactions} SIP transactions; ≈ ${Math.round((burstHeap - process.memoryUsage().heapUsed) / Math.max(1, burstTxns - h.lite.sipStats().transactions))} B of heap per finished transaction`);
snapshot('steady');

if (concurrent > 0) {
  const devicePort = await freePort();
  const reg = await runSipp({ scenario: 'engine-register.xml', target, port: devicePort, calls: 1, extra: ['-key', 'user', 'alice-desk', '-au', 'alice-desk', '-ap', 'alice-desk-pw', '-key', 'domain', h.domain, '-key', 'expires', '3600'] });
  await reg.done;
  const holdMs = 10_000;
  const callRate = Math.ceil(concurrent / (holdMs / 1000));
  const uas = await runSipp({ scenario: 'engine-uas-device.xml', port: devicePort, timeoutS: 600, extra: ['-max_socket', '60000'] });
  let peak = 0;
  let peakActive = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    void h.engine.status().then((s) => { peakActive = Math.max(peakActive, s.active_calls); });
  }, 200);
  const uac = await runSipp({
    scenario: 'engine-uac-did.xml', target, calls: concurrent * 2, timeoutS: 300,
    extra: ['-s', '61390000000', '-r', String(callRate), '-d', String(holdMs), '-l', String(concurrent)],
  });
  const r = await uac.done;
  clearInterval(sampler);
  const failed = /Failed call\s*\|\s*\S+\s*\|\s*(\d+)/.exec(r.stdout)?.[1] ?? '?';
  console.log(`calls: ${concurrent * 2} calls at ${callRate}/s held ${holdMs / 1000} s with ${devices} registrations live → peak ${peakActive} concurrent calls, peak RSS ${mb(peak)} MB (sipp exit ${r.code}, failed ${failed})`);
  uas.kill();
}
killAllSipp();
await h.close({ removeDb: true });
process.exit(0);
