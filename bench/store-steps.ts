/**
 * bench/store-steps — the store's CPU per call, without SIP (issue 15). The real CallRecorder, CommitBatcher and
 * SQLite store (a temp file, its worker thread) write the steps of inbound calls as bench/cps-inbound.ts's flow makes
 * them — ringing; 5 ms later answered and the answered legs' dialogs; `--hold-ms` later ended — offered at `--rate`
 * calls per second for `--seconds`. It prints the process CPU per call (all threads: the main thread's recorder,
 * batcher and message passing, the worker's SQLite), the transactions and, where the store counts them, the
 * statements per call. The load on the box matters less here than for cps-inbound: CPU time, not a pass/fail rate.
 *
 *   npx tsx bench/store-steps.ts [--rate 500] [--seconds 8] [--hold-ms 500] [--gather-ms 0] [--tree dir] [--compare dir [--runs 3]]
 *
 * `--tree dir` runs another tree's code (its src/, e.g. a checkout of an older commit with node_modules);
 * `--compare dir` runs `dir` and this tree alternately in child processes, `--runs` times each, and prints medians.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const rate = Number(arg('rate', '500'));
const seconds = Number(arg('seconds', '8'));
const holdMs = Number(arg('hold-ms', '500'));
/** CommitBatcher's gatherMs (group commit), when > 0; an older tree's batcher ignores it. */
const gatherMs = Number(arg('gather-ms', '0'));
const here = resolve(import.meta.dirname, '..');

if (process.argv.includes('--compare')) await compare(resolve(arg('compare', '')), Number(arg('runs', '3')));
else await run(resolve(arg('tree', here)));
process.exit(0);

async function run(tree: string): Promise<void> {
  const load = async (path: string): Promise<Record<string, any>> => import(pathToFileURL(join(tree, path)).href) as Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const { createSqliteStore } = await load('src/store/index.ts');
  const { CallRecorder } = await load('src/engine/records/call-recorder.ts');
  const { CommitBatcher } = await load('src/engine/records/commit-batcher.ts');
  const { Leg } = await load('src/engine/call/leg.ts');
  const { demoConfig } = await load('test/support/engine-harness.ts');
  const { pino } = await import('pino');
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-steps-'));
  const store = await createSqliteStore({ file: join(dir, 'switchboard.db') });
  const log = pino({ level: 'silent' });
  // Counts the transactions the batcher asks for (both trees: an older store has no commitStats).
  let transactions = 0;
  const counted = store as Record<string, (...a: unknown[]) => Promise<void>>;
  for (const m of ['commit', 'commitMany']) {
    const fn = counted[m]!.bind(store);
    counted[m] = (...a: unknown[]) => { transactions++; return fn(...a); };
  }
  const batcher = new CommitBatcher({ store, log, ...(gatherMs > 0 ? { gatherMs } : {}) });
  const clock = { now: () => Date.now() };
  const alice = demoConfig().users.find((u: { number: string }) => u.number === '1001');
  const calls = Math.round(rate * seconds);
  const ended: Array<Promise<void>> = [];
  let n = 0;
  const startCall = (): void => {
    const id = `17${String(Date.now()).slice(-9)}${String(++n).padStart(6, '0')}`;
    const legs: unknown[] = [];
    const r = new CallRecorder({
      store, clock, log, writer: batcher, uniqueCallId: id, direction: 'inbound', callerId: '+61400111222', callerName: 'Carol',
      destNumber: '+61390000000', configVersion: 1, startMs: Date.now(), legs: () => legs,
    });
    const caller = new Leg({ kind: 'caller', id: `leg_${id}_1`, remote: '127.0.0.1:5090', startedAtMs: Date.now() });
    legs.push(caller);
    r.userRinging(alice, { queue_name: null, ring_group_name: null });
    ended.push(new Promise<void>((done) => setTimeout(() => {
      const device = new Leg({ kind: 'device', id: `leg_${id}_2`, userNumber: '1001', device: 'alice-desk', remote: '127.0.0.1:5070', startedAtMs: Date.now() - 5 });
      legs.push(device);
      device.answered(Date.now());
      r.userAnswered(alice);
      caller.answered(Date.now());
      const dialog = (legId: string, role: 'uac' | 'uas') => ({
        leg_id: legId, unique_call_id: id, role, call_id: `${legId}@127.0.0.1`, local_header: '<sip:1001@pbx.test>;tag=ours',
        remote_header: '<sip:+61400111222@127.0.0.1>;tag=theirs', local_cseq: 1, remote_target: 'sip:127.0.0.1:5090', route_set: [], destination: 'sip:127.0.0.1:5090',
      });
      r.dialogsAnswered([dialog(caller.id, 'uas'), dialog(device.id, 'uac')]);
      setTimeout(() => {
        for (const l of legs as Array<{ end(at: number, by: string): void }>) l.end(Date.now(), 'caller');
        void r.finish('caller-hangup').then(done);
      }, holdMs);
    }, 5)));
  };
  const stats = (store as { commitStats?: () => Promise<{ transactions: number; statements: number; rowsChanged: number }> }).commitStats;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  // Each call at its own time (1000 / rate ms apart), as SIPp offers them: calls started in one event-loop turn would
  // share a transaction for free. A 10 ms tick arms the timers of the next 10 ms.
  await new Promise<void>((done) => {
    let armed = 0;
    const tick = setInterval(() => {
      const horizon = Math.min(calls, Math.floor(((Date.now() - t0 + 10) / 1000) * rate));
      for (; armed < horizon; armed++) setTimeout(startCall, Math.max(0, t0 + (armed * 1000) / rate - Date.now()));
      if (armed >= calls) { clearInterval(tick); setTimeout(done, 20); }
    }, 10);
  });
  await Promise.all(ended);
  const cpu = process.cpuUsage(cpu0);
  const wallS = (Date.now() - t0) / 1000;
  const s = stats ? await stats.call(store) : null;
  const events = await store.countUndispatchedEvents();
  console.log(`result: ${calls} calls at ${rate}/s in ${wallS.toFixed(1)} s | ${Math.round((cpu.user + cpu.system) / calls)} µs CPU per call | events ${events} (expect ${calls * 3})` +
    ` | ${transactions} transactions (${((calls * 4) / transactions).toFixed(1)} call steps each)` +
    (s ? ` | ${(s.statements / calls).toFixed(2)} statements and ${(s.rowsChanged / calls).toFixed(2)} rows per call` : ''));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

async function compare(dir: string, runs: number): Promise<void> {
  const passOn = ['--rate', String(rate), '--seconds', String(seconds), '--hold-ms', String(holdMs), '--gather-ms', String(gatherMs)];
  const trees = [{ name: 'before', dir }, { name: 'after', dir: here }];
  const cpu = new Map<string, number[]>(trees.map((t) => [t.name, []]));
  console.log(`compare: ${trees.map((t) => `${t.name} = ${t.dir}`).join(', ')}; ${runs} runs each, alternating; ${passOn.join(' ')}`);
  for (let i = 1; i <= runs; i++) {
    for (const t of trees) {
      const loadNow = loadavg()[0]!.toFixed(1);
      const out = await new Promise<string>((done, fail) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'bench/store-steps.ts'), '--tree', t.dir, ...passOn], { cwd: t.dir, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        child.stdout.on('data', (b: Buffer) => { text += b.toString(); });
        child.on('error', fail);
        child.on('exit', () => done(text));
      });
      const line = out.split('\n').find((l) => l.startsWith('result:')) ?? out.slice(-500);
      const us = /\| (\d+) µs CPU per call/.exec(line)?.[1];
      if (us) cpu.get(t.name)!.push(Number(us));
      console.log(`[${t.name} run ${i}, load ${loadNow}] ${line}`);
    }
  }
  for (const t of trees) {
    const xs = [...cpu.get(t.name)!].sort((a, b) => a - b);
    console.log(`${t.name}: median ${xs[Math.floor(xs.length / 2)] ?? '-'} µs CPU per call (runs: ${cpu.get(t.name)!.join(' / ')})`);
  }
}
