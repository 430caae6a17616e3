/**
 * The engine harnesses of one e2e test file: started through the pool and all closed in the file's afterAll (after
 * `beforeClose`, e.g. killing the file's SIPp processes), so no test file keeps its own list and teardown.
 */
import { afterAll } from 'vitest';
import { startEngineHarness, type EngineHarness } from './engine-harness.js';

/** What {@link harnessPool} returns. */
export interface HarnessPool {
  /** Starts a harness that afterAll closes. */
  start(...args: Parameters<typeof startEngineHarness>): Promise<EngineHarness>;
  /** Takes a harness the test closed itself out of the pool. */
  forget(h: EngineHarness): void;
}

/** Call at the top level of a test file. `removeDb` deletes each harness's database when it closes. */
export function harnessPool(opts: { removeDb?: boolean; beforeClose?: () => void } = {}): HarnessPool {
  const harnesses: EngineHarness[] = [];
  afterAll(async () => {
    opts.beforeClose?.();
    const results = await Promise.allSettled(harnesses.map((h) => h.close(opts.removeDb ? { removeDb: true } : {})));
    const failed = results.filter((r) => r.status === 'rejected');
    // Teardown must not hide a test's own result, but a harness that cannot close is worth a line.
    if (failed.length) console.warn(`harnessPool: ${failed.length} harness(es) failed to close`, (failed[0] as PromiseRejectedResult).reason);
  });
  return {
    async start(...args) {
      const h = await startEngineHarness(...args);
      harnesses.push(h);
      return h;
    },
    forget(h) {
      const i = harnesses.indexOf(h);
      if (i !== -1) harnesses.splice(i, 1);
    },
  };
}
