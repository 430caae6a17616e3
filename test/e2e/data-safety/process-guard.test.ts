/**
 * Process failures in a running Switchboard (issue 11): a child process started like `npm start` gets an unhandled
 * promise rejection — it logs it with the reason and keeps serving the API — and then an uncaught exception — it
 * logs it at fatal, shuts down cleanly (store closed) and exits 70 for a supervisor to restart, never lingering.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { UNCAUGHT_EXIT_CODE } from '../../../src/common/process-guard.js';
import { freePort } from '../../support/sipp.js';
import { DEMO_CONFIG_FILE } from '../../support/switchboard.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CHILD = join(ROOT, 'test/support/switchboard-child.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'sb-guard-'));
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, 'SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('process guard', () => {
  it('logs an unhandled rejection and keeps serving; exits 70 after a clean shutdown on an uncaught exception', async () => {
    const httpPort = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SWITCHBOARD_CONFIG: DEMO_CONFIG_FILE, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_SIP_PORT: String(await freePort()),
        SWITCHBOARD_HTTP_PORT: String(httpPort), SWITCHBOARD_LOG_LEVEL: 'info' },
    });
    const lines: Array<Record<string, unknown>> = [];
    let buf = '';
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try { lines.push(JSON.parse(line) as Record<string, unknown>); } catch { /* not JSON */ }
      }
    });
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    const waitLine = async (pred: (l: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> => {
      for (let i = 0; i < 1800; i++) {
        const hit = lines.find(pred);
        if (hit) return hit;
        if (child!.exitCode !== null) throw new Error(`child exited before ${what}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}: ${stderr}`);
    };
    await waitLine((l) => String(l.msg).startsWith('ready:'), 'the ready line');
    const status = async () => (await fetch(`http://127.0.0.1:${httpPort}/api/integration/v2/get-system-status`, { headers: { token: 'demo-api-key' } })).status;
    expect(await status()).toBe(200);

    process.kill(child.pid!, 'SIGUSR1');
    const rejection = await waitLine((l) => l.kind === 'unhandledRejection', 'the rejection log line');
    expect(rejection.level).toBe(50);
    expect(JSON.stringify(rejection.err)).toContain('a rejected promise nobody awaited');
    expect(await status()).toBe(200);
    expect(child.exitCode).toBeNull();

    process.kill(child.pid!, 'SIGUSR2');
    expect(await exited).toBe(UNCAUGHT_EXIT_CODE);
    const fatal = lines.find((l) => l.kind === 'uncaughtException')!;
    expect(fatal.level).toBe(60);
    expect(JSON.stringify(fatal.err)).toContain('an exception nobody caught');
    expect(lines.some((l) => l.msg === 'store closed')).toBe(true);
    expect(lines.find((l) => l.msg === 'exiting after an uncaught exception')?.shutdown).toBe('clean');
    const db = new Database(join(dataDir, 'switchboard.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }, 180_000);
});
