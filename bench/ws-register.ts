/**
 * bench/ws-register — SIP over WebSocket at scale (issue 13): N devices each hold one WebSocket and register on it
 * (REGISTER → 401 → REGISTER + MD5 digest), all at once; then sip.js (Node, plain-RTP SessionDescriptionHandler)
 * places calls to a registered SIPp device.
 *
 *   load client (child process: `ws` connections, test/support/ws-sip.ts) ──ws──▶ Switchboard (this process)
 *
 * Prints registrations/s, the server's RSS and heap before and with every connection open (after a GC), and per
 * connection; then calls/s and the setup time of sip.js → SIPp calls. Not a test: no assertions.
 *
 *   node --expose-gc --import tsx bench/ws-register.ts [--devices 10000] [--window 200] [--calls 200] [--cps-window 10]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { defaultVoicemailConfig } from '../src/config/index.js';
import { startTestSwitchboard } from '../test/support/switchboard.js';
import { WsSipClient } from '../test/support/ws-sip.js';
import { freePort, killAllSipp, runSipp } from '../test/support/sipp.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const devices = Number(arg('devices', '10000'));
const windowSize = Number(arg('window', '200'));
const calls = Number(arg('calls', '200'));
const cpsWindow = Number(arg('cps-window', '10'));
const DOMAIN = 'switchboard.local';
const mb = (n: number): string => (n / 1048576).toFixed(1);

if (process.argv.includes('--client')) {
  // Child: opens `devices` WebSockets and registers dev<i> on each, `windowSize` at a time; prints one JSON line,
  // then keeps every connection open until its stdin closes.
  const url = arg('url', '');
  const clients: WsSipClient[] = [];
  let next = 0;
  let ok = 0;
  let failed = 0;
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    while (next < devices) {
      const i = next++;
      try {
        const c = await WsSipClient.connect(url, { username: `dev${i}`, domain: DOMAIN });
        clients.push(c);
        const r = await c.registerWithAuth(`pw${i}-secret`, { expires: 3600 });
        if (r.ok.status === 200) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: windowSize }, worker));
  console.log(JSON.stringify({ ok, failed, ms: Date.now() - t0 }));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  const sb = await startTestSwitchboard({
    mutate: (c) => {
      c.sip.ws = { ...c.sip.ws, port: 0, max_connections: devices + 100, max_connections_per_source: devices + 100 };
      for (let i = 0; i < devices; i++) {
        c.users.push({
          name: `Bench User ${i}`, number: String(200_000 + i), devices: [{ username: `dev${i}`, password: `pw${i}-secret` }],
          voicemail: defaultVoicemailConfig(), record: 'none', ring_timeout_s: 30, caller_id: null, dnd: false, forward: { always: null, busy: null, no_answer: null },
        });
      }
    },
  });
  const ws = sb.sip.find((s) => s.transport === 'ws')!;
  const gc = (globalThis as { gc?: () => void }).gc;
  const settle = async (): Promise<NodeJS.MemoryUsage> => {
    for (let i = 0; i < 3; i++) { gc?.(); await new Promise((r) => setTimeout(r, 300)); }
    return process.memoryUsage();
  };
  const before = await settle();
  console.log(`Switchboard up with ${devices} extra devices; ws://127.0.0.1:${ws.port}; RSS ${mb(before.rss)} MB, heap ${mb(before.heapUsed)} MB${gc ? '' : ' (run with --expose-gc for steady figures)'}`);

  const cpu0 = process.cpuUsage();
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--client', '--url', `ws://127.0.0.1:${ws.port}`, '--devices', String(devices), '--window', String(windowSize)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  const cpu = process.cpuUsage(cpu0);
  const r = JSON.parse(line) as { ok: number; failed: number; ms: number };
  const open = sb.sipStats()?.ws.connections ?? 0;
  const bound = sb.engine.registrations().length;
  const after = await settle();
  console.log(`registered ${r.ok} (failed ${r.failed}) in ${(r.ms / 1000).toFixed(1)} s: ${Math.round(r.ok / (r.ms / 1000))} registrations/s (${Math.round((2 * r.ok) / (r.ms / 1000))} REGISTER/s); server CPU ${((cpu.user + cpu.system) / 1000 / r.ok).toFixed(2)} ms per registration`);
  console.log(`open WebSockets ${open}, bindings ${bound}; RSS ${mb(after.rss)} MB (+${mb(after.rss - before.rss)}), heap ${mb(after.heapUsed)} MB (+${mb(after.heapUsed - before.heapUsed)})`);
  console.log(`per connection: RSS ${((after.rss - before.rss) / Math.max(1, open) / 1024).toFixed(1)} KiB, heap ${((after.heapUsed - before.heapUsed) / Math.max(1, open) / 1024).toFixed(1)} KiB`);
  child.stdin.end();
  await new Promise((res) => child.on('exit', res));

  // sip.js → SIPp: calls/s with `cpsWindow` calls in flight, each INVITE → 200 → ACK → BYE.
  const { startSipJsPhone } = await import('../test/support/sipjs.js');
  const port = await freePort();
  const reg = await runSipp({ scenario: 'engine-register.xml', target: sb.sipTarget, port, calls: 1,
    extra: ['-key', 'user', 'bob-desk', '-au', 'bob-desk', '-ap', 'bob-desk-pw', '-key', 'domain', DOMAIN, '-auth_uri', DOMAIN, '-key', 'expires', '600'] });
  await reg.done;
  const uas = await runSipp({ scenario: 'engine-uas-device.xml', port, calls, timeoutS: 120, extra: ['-max_socket', '1000'] });
  const phone = await startSipJsPhone({ server: `ws://127.0.0.1:${ws.port}`, username: 'alice-desk', password: 'alice-desk-pw', domain: DOMAIN });
  await phone.register();
  let started = 0;
  let done = 0;
  let failedCalls = 0;
  const setups: number[] = [];
  const t0 = Date.now();
  const caller = async (): Promise<void> => {
    while (started < calls) {
      started++;
      const s0 = Date.now();
      try {
        const inviter = await phone.call(`sip:1002@${DOMAIN}`, 20_000);
        setups.push(Date.now() - s0);
        await inviter.bye();
        done++;
      } catch {
        failedCalls++;
      }
    }
  };
  await Promise.all(Array.from({ length: cpsWindow }, caller));
  const wall = (Date.now() - t0) / 1000;
  setups.sort((a, b) => a - b);
  const pct = (p: number): number => setups[Math.min(setups.length - 1, Math.floor(p * setups.length))] ?? 0;
  console.log(`sip.js → SIPp: ${done} calls (failed ${failedCalls}) in ${wall.toFixed(1)} s = ${(done / wall).toFixed(1)} calls/s with ${cpsWindow} in flight; setup p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms`);
  await (await uas).done.catch(() => undefined);
  await phone.stop();
  killAllSipp();
  await sb.stop();
  process.exit(0);
}
