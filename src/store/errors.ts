/**
 * Errors of the store (STYLE.md §7). Every failure of the database driver (a constraint, a bad value, a lost
 * connection) reaches callers as a {@link StoreError} naming the operation; the driver's error is its `cause`.
 */
import { SwitchboardError } from '../common/index.js';

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

/** SQLite result codes a retry can outlast: locks held by another connection, a full disk, I/O errors. */
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|PROTOCOL|NOMEM)/;
/** PostgreSQL SQLSTATE classes a retry can outlast: 08 connection, 40 rollback, 53 resources, 57 operator, 58 system. */
const TRANSIENT_SQLSTATE = /^(08|40|53|57|58)/;

/**
 * True when a store failure may go away by itself (SQLITE_BUSY, disk full, an I/O error, a lost or terminated
 * PostgreSQL connection), so the caller should retry rather than drop the write. A constraint, a bad value or a
 * {@link StoreArgumentError} is permanent: retrying cannot help.
 */
export function isTransientStoreError(err: unknown): boolean {
  if (!(err instanceof StoreError)) return false;
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  if (code.startsWith('SQLITE_')) return TRANSIENT_SQLITE.test(code);
  if (/^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE.test(code);
  // Socket errors (ECONNREFUSED, ECONNRESET, …) and pg's "Connection terminated" carry no SQLSTATE.
  if (/^E[A-Z]+$/.test(code)) return true;
  return /connection|terminated|timeout/i.test(typeof cause?.message === 'string' ? cause.message : '');
}
