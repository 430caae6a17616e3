/**
 * Errors of the store (STYLE.md §7). Every failure of the database driver (a constraint, a bad value, a lost
 * connection) reaches callers as a {@link StoreError} naming the operation; the driver's error is its `cause`.
 */
import { SwitchboardError } from '../common/errors.js';

/** Stable code of every {@link StoreError}. */
export const STORE_ERROR_CODE = 'SB_ERR_STORE';

/** A store operation failed. `operation` names the Store method (`commit`, `queryUserCalls`, …). */
export class StoreError extends SwitchboardError {
  readonly operation: string;

  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super(STORE_ERROR_CODE, `${operation}: ${message}`, options);
    this.operation = operation;
  }
}

/** A bad argument to a Store method (a bug in the caller, STYLE.md §7): negative limit, invalid timestamp, … */
export class StoreArgumentError extends TypeError {
  readonly code = 'SB_ERR_STORE_ARGUMENT';

  constructor(message: string) {
    super(message);
    this.name = 'StoreArgumentError';
  }
}

/**
 * Wraps anything thrown inside a store method. A {@link StoreError} or {@link StoreArgumentError} passes through
 * unchanged; driver errors (including the driver's own `TypeError`s for unbindable values) become a StoreError.
 */
export function toStoreError(operation: string, err: unknown): Error {
  if (err instanceof StoreError || err instanceof StoreArgumentError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError(operation, message, { cause: err });
}
