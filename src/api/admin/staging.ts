/**
 * Admin edits go to the STAGED configuration (SPEC.md §1 "apply configuration"): read it, change a copy, stage
 * the copy. Edits are serialized so two concurrent requests can not lose each other's change.
 */
import type { PbxConfig } from '../../config/index.js';
import type { ConfigControl } from '../../config/index.js';

/** Reads and edits the staged configuration. */
export interface Staging {
  /** A private copy of the staged configuration. */
  read(): Promise<PbxConfig>;
  /**
   * Runs `change` on a copy of the staged configuration and stages the copy, unless `change` throws (then
   * nothing is staged). Calls run one at a time, in order.
   */
  edit<T>(change: (draft: PbxConfig) => T): Promise<T>;
  /** Replaces the staged configuration with the live one (discards staged edits). */
  reset(): Promise<void>;
  /** Runs `job` between edits (apply uses it, so an edit in flight lands wholly before or after). */
  exclusive<T>(job: () => Promise<T>): Promise<T>;
}

/** Builds the staging helper over the engine's configuration control. */
export function createStaging(config: ConfigControl): Staging {
  let tail: Promise<unknown> = Promise.resolve();
  const serialize = <T>(job: () => Promise<T>): Promise<T> => {
    const run = tail.then(job, job);
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    read: async () => structuredClone(await config.staged()),
    edit: (change) => serialize(async () => {
      const draft = structuredClone(await config.staged());
      const result = change(draft);
      await config.stage(draft);
      return result;
    }),
    reset: () => serialize(async () => config.stage(structuredClone(config.live().config))),
    exclusive: (job) => serialize(job),
  };
}
