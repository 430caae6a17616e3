/**
 * bench/sip-path — the cost of one non-INVITE exchange through the signalling edge (issue 15): a REGISTER from the
 * network, parsed by our core, handed to a real drachtio-srf app over the drachtio wire, answered 200 (with Contact and
 * Expires) and sent back by drachtio-lite in its server transaction, which then waits out Timer J (64*T1).
 *
 *   load client (child process, our SIP core, `--window` in flight, one UDP socket)
 *     ──UDP──▶ drachtio-lite ◀─wire─▶ drachtio-srf app (`srf.register` → `res.send(200)`)     [measured process]
 *
 * Prints, for the measured process: CPU µs per exchange, garbage collections (count and ms) per 10,000 exchanges, and
 * heap bytes held per transaction waiting out Timer J (heap after GC with them, minus heap after GC once they are gone).
 * `--src DIR` loads drachtio-lite and the SIP core from another checkout's `src/` (e.g. `/work/main/src`), so a
 * before/after pair runs from one script on one box. Not a test: no assertions.
 *
 *   node --expose-gc --import tsx bench/sip-path.ts [--requests 20000] [--window 100] [--src src]
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Srf from 'drachtio-srf';
import { pino } from 'pino';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const requests = Number(arg('requests', '20000'));
const windowSize = Number(arg('window', '100'));
const src = resolve(arg('src', resolve(import.meta.dirname, '../src')));
const T1 = 250;

if (process.argv.includes('--client')) {
  // Child: `requests` REGISTERs to --target, `windowSize` in flight; prints one JSON line.
  const { SipRequest, SipStack } = await import(pathToFileURL(resolve(import.meta.dirname, '../src/sip/index.js')).href);
  const [host, port] = arg('target', '').split(':');
  const stack = await SipStack.create({ listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], timers: { t1: T1, t2: 4 * T1, t4: 5 * T1 } });
  const dest = { transport: 'udp', address: host!, port: Number(port) };
  let next = 0;
  let ok = 0;
  const t0 = Date.now();
  const one = (i: number): Promise<boolean> => new Promise((done) => {
    const req = new SipRequest('REGISTER', 'sip:bench.local');
    req.append('From', `<sip:dev${i}@bench.local>;tag=t${i}`);
    req.append('To', `<sip:dev${i}@bench.local>`);
    req.append('Call-ID', `bench-path-${process.pid}-${i}`);
    req.append('CSeq', '1 REGISTER');
    req.append('Contact', `<sip:dev${i}@127.0.0.1:${stack.listening[0].port};transport=udp>;expires=3600`);
    req.append('User-Agent', 'bench/sip-path');
    req.append('Expires', '3600');
    const txn = stack.sendRequest(req, { destination: dest });
    txn.on('response', (res: { status: number }) => { if (res.status >= 200) done(res.status === 200); });
    txn.on('timeout', () => done(false));
    txn.on('transport-error', () => done(false));
  });
  await Promise.all(Array.from({ length: windowSize }, async () => {
    while (next < requests) if (await one(next++)) ok++;
  }));
  console.log(JSON.stringify({ ok, failed: requests - ok, ms: Date.now() - t0 }));
  await stack.close();
  process.exit(0);
}

const { createDrachtioLite } = await import(pathToFileURL(`${src}/drachtio-lite/index.ts`).href);
const gc = (): void => { for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.(); };
const lite = await createDrachtioLite({
  sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], timers: { t1: T1, t2: 4 * T1, t4: 5 * T1 } },
  control: { address: '127.0.0.1', port: 0 },
  secret: 'bench',
  log: pino({ level: 'silent' }),
});
const srf = new Srf();
srf.register((req, res) => {
  res.send(200, { headers: { Contact: `${req.get('Contact')}`, Date: new Date().toUTCString() } });
});
await new Promise<void>((ok, fail) => {
  srf.on('connect', (err: Error | null) => (err ? fail(err) : ok()));
  srf.connect({ host: '127.0.0.1', port: lite.controlPort, secret: 'bench' });
});
while (!lite.server.stats.clients) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 200)); // the route command follows the authentication
const udp = lite.sipEndpoints.find((e: { transport: string }) => e.transport === 'udp')!;

let gcs = 0;
let gcMs = 0;
const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) { gcs++; gcMs += e.duration; } });
gc();
const heap0 = process.memoryUsage().heapUsed;
obs.observe({ entryTypes: ['gc'] });
const cpu0 = process.cpuUsage();
const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--client', '--target', `${udp.address}:${udp.port}`, '--requests', String(requests), '--window', String(windowSize)], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
await new Promise((r) => child.on('exit', r));
const cpu = process.cpuUsage(cpu0);
obs.disconnect();
const r = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { ok: number; failed: number; ms: number };
gc();
const heapHeld = process.memoryUsage().heapUsed;
const held = lite.sipStats().transactions as number;
await new Promise((res) => setTimeout(res, 64 * T1 + 1000)); // Timer J
gc();
const heapAfter = process.memoryUsage().heapUsed;
const perTxn = Math.round((heapHeld - heapAfter) / Math.max(1, held - (lite.sipStats().transactions as number)));
const us = (cpu.user + cpu.system) / Math.max(1, r.ok);
console.log(`${src}: ${r.ok} ok / ${r.failed} failed in ${(r.ms / 1000).toFixed(1)} s; ${us.toFixed(0)} µs CPU per REGISTER; `
  + `${((gcs * 10_000) / Math.max(1, r.ok)).toFixed(1)} GCs and ${((gcMs * 10_000) / Math.max(1, r.ok)).toFixed(0)} ms of GC per 10,000; `
  + `${held} transactions held by Timer J: ${perTxn} B of heap each (heap ${Math.round(heap0 / 1048576)} → ${Math.round(heapHeld / 1048576)} → ${Math.round(heapAfter / 1048576)} MB)`);
srf.disconnect();
await lite.close();
process.exit(0);
