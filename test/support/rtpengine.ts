/**
 * Starts Debian's rtpengine-daemon (10.5, `/usr/bin/rtpengine`) for tests and benchmarks: userspace only
 * (`--config-file=none --table=-1`), on 127.0.0.1, ng on a free UDP port, RTP in a free port range, pcap recordings
 * into a temp directory, in the foreground with its log on stderr. Waits until it answers `ping`, stops it by PID
 * and removes the directory.
 *
 * `npm test` (scripts/test.sh) installs the package when it is missing. {@link rtpengineAvailability} tells a test
 * file whether it can run; under CI=true a missing daemon is an error, never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNgClient } from '../../src/media/rtpengine/ng-client.js';
import { freePort, mediaPortRange } from './sipp.js';

export const RTPENGINE_BIN = '/usr/bin/rtpengine';

/** A running daemon. */
export interface RtpengineDaemon {
  readonly pid: number;
  readonly ng: { host: string; port: number };
  readonly portMin: number;
  readonly portMax: number;
  /** `--recording-dir`: rtpengine writes `pcaps/`, `metadata/` and `tmp/` here. */
  readonly recordingDir: string;
  /** Where DTMF events go as JSON datagrams (`--dtmf-log-dest`), when asked for. */
  readonly dtmfLogDest?: { host: string; port: number };
  /** Everything the daemon wrote to stderr so far (its log). */
  log(): string;
  /** SIGTERM by PID (SIGKILL after 3 s), then removes the recording directory unless `keep`. Idempotent. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

export interface StartRtpengineOptions {
  /** Number of RTP ports in the range (two per stream: RTP + RTCP). Default 200. */
  ports?: number;
  /** Log level (`-L`), default 5 (notice). 7 dumps every ng command. */
  logLevel?: number;
  /** Send DTMF events as JSON to this UDP address. */
  dtmfLogDest?: { host: string; port: number };
  /** More command-line options, appended. */
  extraArgs?: string[];
}

/** Null when the daemon can run here; otherwise why not. Under CI=true the caller must fail on a reason. */
export function rtpengineAvailability(): string | null {
  try { accessSync(RTPENGINE_BIN, constants.X_OK); } catch { return `${RTPENGINE_BIN} is missing (apt-get install rtpengine-daemon; npm test installs it)`; }
  const r = spawnSync(RTPENGINE_BIN, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return `${RTPENGINE_BIN} --version failed: ${r.error?.message ?? r.stderr}`;
  return null;
}

/** For a test file: throws under CI when the daemon cannot run, else returns whether to run. */
export function requireRtpengine(): boolean {
  const why = rtpengineAvailability();
  if (why && process.env.CI === 'true') throw new Error(`rtpengine-daemon is required in CI: ${why}`);
  if (why) console.warn(`rtpengine tests skipped: ${why}`);
  return why === null;
}

const running = new Set<ChildProcess>();
process.once('exit', () => { for (const c of running) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

/**
 * A UDP port range in this vitest worker's block of 30000–39999 (anywhere in it outside vitest) whose first and last
 * ports are free now (rtpengine skips any port taken later). Above the embedded layer's test ranges (20000–29999).
 * One block per worker, as for the embedded layer: with ranges drawn from the whole span, a port one worker's daemon
 * had just released could be another worker's new leg while late RTP of the ended call still arrived.
 */
async function freeRange(size: number): Promise<number> {
  const span = mediaPortRange(30_000) ?? { min: 30_000, max: 39_999 };
  for (let i = 0; i < 50; i++) {
    const base = span.min + 2 * Math.floor(Math.random() * ((span.max + 1 - span.min - size) / 2));
    const probes = [base, base + 1, base + Math.floor(size / 2), base + size - 1];
    const free = await Promise.all(probes.map((p) => new Promise<boolean>((res) => {
      const u = createSocket('udp4');
      u.once('error', () => res(false));
      u.bind(p, '127.0.0.1', () => u.close(() => res(true)));
    })));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no free UDP range of ${size} ports found`);
}

/** Starts the daemon and resolves once it answers `ping` (rejects with its log if it exits or stays silent 10 s). */
export async function startRtpengine(opts: StartRtpengineOptions = {}): Promise<RtpengineDaemon> {
  const size = opts.ports ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'sb-rtpengine-'));
  for (let attempt = 1; ; attempt++) {
    const ngPort = await freePort();
    const portMin = await freeRange(size);
    const portMax = portMin + size - 1;
    const args = [
      '--config-file=none', '--table=-1', '--foreground', '--log-stderr', '--no-log-timestamps',
      `--log-level=${opts.logLevel ?? 5}`,
      '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`,
      `--port-min=${portMin}`, `--port-max=${portMax}`,
      '--recording-method=pcap', `--recording-dir=${dir}`, '--delete-delay=0',
      ...(opts.dtmfLogDest ? [`--dtmf-log-dest=${opts.dtmfLogDest.host}:${opts.dtmfLogDest.port}`] : []),
      ...(opts.extraArgs ?? []),
    ];
    // rtpengine 10.5 may crash while shutting down after it has handled calls (SIGSEGV in its teardown): no core
    // files, and the working directory is the temp dir so nothing lands in the repository. `exec` keeps the PID.
    const child = spawn('/bin/sh', ['-c', 'ulimit -c 0; exec "$0" "$@"', RTPENGINE_BIN, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => { stderr = (stderr + s).slice(-1_000_000); });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => { running.delete(child); res(code); }));
    let exitCode: number | null | undefined;
    void exited.then((c) => { exitCode = c === null ? -1 : c; });
    child.once('error', (err) => { stderr += `\nspawn error: ${err.message}`; });

    const client = await createNgClient({ address: { host: '127.0.0.1', port: ngPort }, timeoutMs: 300, retransmitMs: 100 });
    const deadline = Date.now() + 10_000;
    let up = false;
    try {
      while (Date.now() < deadline && exitCode === undefined) {
        try { await client.ping(); up = true; break; } catch { /* not yet */ }
      }
    } finally { await client.close(); }
    if (!up) {
      if (exitCode === undefined) child.kill('SIGKILL');
      await exited;
      // A port taken between the probe and the bind: try again with new ports.
      if (attempt < 3 && /Address already in use|Failed to open|bind/i.test(stderr)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`rtpengine did not answer ping on 127.0.0.1:${ngPort} (exit ${exitCode ?? 'none'}):\n${stderr.slice(-4000)}`);
    }
    let stopped: Promise<void> | undefined;
    return {
      pid: child.pid!,
      ng: { host: '127.0.0.1', port: ngPort },
      portMin,
      portMax,
      recordingDir: dir,
      ...(opts.dtmfLogDest ? { dtmfLogDest: opts.dtmfLogDest } : {}),
      log: () => stderr,
      stop(o = {}) {
        stopped ??= (async () => {
          if (exitCode === undefined) {
            process.kill(child.pid!, 'SIGTERM');
            const t = setTimeout(() => { if (exitCode === undefined) process.kill(child.pid!, 'SIGKILL'); }, 3000);
            await exited;
            clearTimeout(t);
          }
          if (!o.keep) rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  }
}
