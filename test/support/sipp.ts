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

/** A port free for both UDP and TCP on 127.0.0.1 (SIPp binds one of them; the PBX may bind both). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const udpFree = await new Promise<boolean>((res) => {
      const u = createSocket('udp4');
      u.once('error', () => res(false));
      u.bind(port, '127.0.0.1', () => u.close(() => res(true)));
    });
    if (udpFree) return port;
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
