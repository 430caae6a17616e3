/**
 * Runs SIPp from tests: free ports, `-nostdin`, a hard `-timeout`, killed by PID on cleanup.
 * SIPp exit codes: 0 = every call succeeded, 1 = at least one failed, 97/99 = exited early, 255/254 = fatal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SIPP_DIR = resolve(import.meta.dirname, '../sipp');

/**
 * Ports for tests come from a block of 10000–19999 owned by this vitest worker (`VITEST_POOL_ID`), not from the
 * kernel's ephemeral range: a port the kernel handed out and we closed again is soon handed to another process's
 * outgoing socket, or to a parallel test asking the same way, so a later bind failed with EADDRINUSE under load.
 * Below 20000 no ephemeral port (32768–60999) and no media range (20000+) can take it; each worker cycles through
 * its own block, so two tests of one run never get the same port while both run. Outside vitest (bench/), the
 * kernel picks.
 */
const BLOCK_BASE = 10_000;
const BLOCK_SIZE = 2_000;
const poolId = Number(process.env.VITEST_POOL_ID ?? NaN);
// The two workers of one run (pool ids 1, 2) always get different blocks; offsetting by the run's process (the
// workers' parent) spreads runs started side by side on one machine over the blocks too.
const block = Number.isInteger(poolId) && poolId > 0 ? (process.ppid + poolId) % 5 : null;
let cursor = 4 * Math.floor((Math.random() * BLOCK_SIZE) / 4);

/**
 * The embedded media layer's RTP range for a Switchboard this worker starts: its own 2,000 ports of 20000–29999
 * (the same block number as its SIP/HTTP ports). With one shared range, a port one worker's call just released was
 * at once another worker's new leg, and late RTP of the ended call (a 400 Hz tone) was heard — and recorded — there.
 * Null outside vitest (the configured range stands). `base` 30000 gives the worker's block of rtpengine's test ranges
 * (support/rtpengine.ts), for the same reason.
 */
export function mediaPortRange(base = 20_000): { min: number; max: number } | null {
  return block === null ? null : { min: base + block * BLOCK_SIZE, max: base + (block + 1) * BLOCK_SIZE - 1 };
}

async function kernelPort(): Promise<number> {
  return new Promise<number>((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

function bindable(port: number): Promise<boolean> {
  return new Promise<boolean>((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => {
      const u = createSocket('udp4');
      u.once('error', () => res(false));
      u.bind(port, '127.0.0.1', () => u.close(() => res(true)));
    }));
  });
}

/** A port free for both UDP and TCP on 127.0.0.1 (SIPp binds one of them; the PBX may bind both). */
export async function freePort(): Promise<number> {
  if (block === null) {
    for (let i = 0; i < 20; i++) {
      const port = await kernelPort();
      if (await bindable(port)) return port;
    }
  } else {
    // Every port is the even start of four free ones: SIPp's `-mp N` binds N+1 (RTCP) and N+2/N+3 (video) too.
    for (let i = 0; i < BLOCK_SIZE / 4; i++) {
      cursor = (cursor + 4) % BLOCK_SIZE;
      const port = BLOCK_BASE + block * BLOCK_SIZE + cursor;
      let all = true;
      for (let k = 0; k < 4 && all; k++) all = await bindable(port + k);
      if (all) return port;
    }
  }
  throw new Error('no free port found');
}

export interface SippRun {
  /** Resolves when SIPp exits. */
  done: Promise<SippResult>;
  port: number;
  pid: number;
  /** SIPp's working directory (its `-trace_logs` file lands here). */
  dir: string;
  kill(): void;
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Contents of SIPp's error trace (`-trace_err`), for assertion messages. */
  errors: string;
}

const running = new Set<ChildProcess>();

/**
 * Starts SIPp with a scenario from test/sipp (or a built-in one like 'uac'), against `target` ("127.0.0.1:5060").
 * `extra` is appended verbatim (e.g. ['-s', '1001', '-m', '1']).
 */
export async function runSipp(opts: {
  scenario: string;
  target?: string;
  port?: number;
  transport?: 'u1' | 't1' | 'un';
  calls?: number;
  timeoutS?: number;
  extra?: string[];
  /** Files written into SIPp's working directory first (e.g. the pcaps a scenario's play_pcap_audio names). */
  files?: Record<string, Buffer>;
}): Promise<SippRun> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  for (const [name, data] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), data);
  const args: string[] = [];
  if (opts.scenario.endsWith('.xml')) args.push('-sf', join(SIPP_DIR, opts.scenario));
  else args.push('-sn', opts.scenario);
  if (opts.target) args.push(opts.target);
  args.push('-i', '127.0.0.1', '-p', String(port), '-t', opts.transport ?? 'u1', '-nostdin', '-timeout', `${opts.timeoutS ?? 20}s`);
  args.push('-trace_err', '-error_file', join(dir, 'errors.log'), '-max_recv_loops', '1000');
  if (opts.calls !== undefined) args.push('-m', String(opts.calls));
  args.push(...(opts.extra ?? []));
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout = (stdout + d.toString()).slice(-20000); });
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20000); });
  const done = new Promise<SippResult>((res) => {
    child.on('exit', (code) => {
      running.delete(child);
      let errors = '';
      try {
        for (const f of readdirSync(dir)) if (f.includes('error')) errors += readFileSync(join(dir, f), 'utf8');
      } catch { /* no error file */ }
      res({ code, stdout, stderr, errors: errors.slice(-5000) });
    });
  });
  return { done, port, pid: child.pid!, dir, kill: () => { if (child.exitCode === null) child.kill('SIGKILL'); } };
}

/** Kills every SIPp this process started (call from afterAll). */
export function killAllSipp(): void {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
  running.clear();
}
