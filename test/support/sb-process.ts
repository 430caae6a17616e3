/**
 * Switchboard entry points (src/main.ts, and the edge/engine split) in child processes, as an orchestrator runs
 * them: env settings, pino JSON on stdout, signals. Every child is tracked by PID; `killAll()` SIGKILLs what is left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/** One child process and what it logged. */
export interface SbProcess {
  child: ChildProcess;
  readonly pid: number;
  /** Parsed pino lines (non-JSON lines are kept as `{ msg }`). */
  lines: Array<Record<string, unknown>>;
  stderr(): string;
  /** Resolves with the first line (already logged or to come) whose msg starts with `prefix`. */
  waitForLog(prefix: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal name) once the process ended. */
  exited: Promise<number | string>;
  /** The tail of everything logged, for assertion messages. */
  tail(chars?: number): string;
}

const children = new Set<ChildProcess>();

/** Starts `entry` (a path under the repository, e.g. 'src/main.ts') with `env` on top of ours, and `args`. */
export function startSbProcess(entry: string, env: Record<string, string>, args: string[] = []): SbProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry), ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SWITCHBOARD_LOG_LEVEL: 'info', ...env },
  });
  children.add(child);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ prefix: string; res: (l: Record<string, unknown>) => void }> = [];
  let raw = '';
  let buf = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    raw += c.toString();
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let line: Record<string, unknown>;
      try { line = JSON.parse(text) as Record<string, unknown>; } catch { line = { msg: text }; }
      lines.push(line);
      for (const w of [...waiters]) {
        if (String(line.msg ?? '').startsWith(w.prefix)) { waiters.splice(waiters.indexOf(w), 1); w.res(line); }
      }
    }
  });
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<number | string>((res) => child.once('exit', (code, signal) => { children.delete(child); res(code ?? signal ?? -1); }));
  const tail = (chars = 4000) => `${raw.slice(-chars)}\nstderr: ${err.slice(-chars)}`;
  return {
    child, pid: child.pid!, lines, stderr: () => err, exited, tail,
    waitForLog(prefix, timeoutMs = 90_000) {
      const seen = lines.find((l) => String(l.msg ?? '').startsWith(prefix));
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no "${prefix}" log line within ${timeoutMs} ms\n${tail()}`)), timeoutMs);
        waiters.push({ prefix, res: (l) => { clearTimeout(t); res(l); } });
        void exited.then((code) => { clearTimeout(t); rej(new Error(`process exited (${code}) before "${prefix}"\n${tail()}`)); });
      });
    },
  };
}

/** SIGKILLs every child still running (afterAll). */
export async function killAllSbProcesses(): Promise<void> {
  const left = [...children];
  for (const c of left) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  await Promise.all(left.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
}

/** The value of one Prometheus series (`name{labels}`) in a text exposition, or undefined when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[p[1]!] = p[2]!;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}
