/**
 * Process-level failure handling (issue 11): a bug that escapes every `catch` must neither go unnoticed nor leave
 * a half-dead process behind.
 * - `unhandledRejection`: a promise nobody awaited was rejected. The operation that made it has already failed and
 *   nothing was interrupted mid-way, so the process state is intact: log it at `error` with the reason and keep
 *   serving (Node's default would exit without closing anything).
 * - `uncaughtException`: a synchronous throw unwound the stack through code that did not expect it, possibly
 *   half-way through updating state (a call, a transaction table). Keep nothing: log it at `fatal`, shut down
 *   cleanly (end calls, close the listeners and the store) within `shutdownTimeoutMs`, flush the log and exit with
 *   {@link UNCAUGHT_EXIT_CODE} so a supervisor (systemd `Restart=on-failure`, a container runtime) restarts it;
 *   the restart then recovers the calls that were in progress.
 */
import type { Logger } from './log.js';

/** Exit status after an uncaught exception (EX_SOFTWARE, sysexits.h): non-zero, so supervisors restart us. */
export const UNCAUGHT_EXIT_CODE = 70;

/** The slice of `process` the guard uses (tests pass an EventEmitter). */
export interface GuardedProcess {
  on(event: 'unhandledRejection', fn: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', fn: (err: Error, origin: string) => void): unknown;
  off(event: string, fn: (...args: any[]) => void): unknown;
}

/** Options of {@link installProcessGuard}. */
export interface ProcessGuardOptions {
  log: Logger;
  /** Closes everything (the running Switchboard's `close`). */
  shutdown: () => Promise<void>;
  /** Default `process.exit`. */
  exit?: (code: number) => void;
  /** Default `process`. */
  proc?: GuardedProcess;
  /** Longest the clean shutdown may take before exiting anyway; default 5000 ms. */
  shutdownTimeoutMs?: number;
}

/** Installs the handlers; returns a function that removes them. */
export function installProcessGuard(o: ProcessGuardOptions): () => void {
  const proc = o.proc ?? process;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  let exiting = false;
  let rejections = 0;
  const onRejection = (reason: unknown): void => {
    rejections++;
    o.log.error({ err: reason, kind: 'unhandledRejection', count: rejections }, 'unhandled promise rejection (a bug); the operation that made it failed, Switchboard keeps serving');
  };
  const onException = (err: Error, origin: string): void => {
    o.log.fatal({ err, kind: 'uncaughtException', origin }, 'uncaught exception (a bug): shutting down cleanly and exiting for a supervisor to restart Switchboard');
    if (exiting) return; // a second one during shutdown: the first is already on its way out
    exiting = true;
    const done = (how: string): void => {
      o.log.fatal({ exit_code: UNCAUGHT_EXIT_CODE, shutdown: how }, 'exiting after an uncaught exception');
      o.log.flush?.();
      exit(UNCAUGHT_EXIT_CODE);
    };
    const timer = setTimeout(() => done('timed out'), o.shutdownTimeoutMs ?? 5000);
    timer.unref?.();
    o.shutdown().then(() => { clearTimeout(timer); done('clean'); }, (e: unknown) => {
      clearTimeout(timer);
      o.log.error({ err: e }, 'shutdown after an uncaught exception failed');
      done('failed');
    });
  };
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  return () => {
    proc.off('unhandledRejection', onRejection);
    proc.off('uncaughtException', onException);
  };
}
